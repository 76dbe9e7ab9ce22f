// Watches as the library hands them out: an async iterable of typed events that the
// consumer can stop. One push-based implementation (StreamQueue) backs both the gRPC
// streams and the in-memory fakes.
import { toStatusError } from './errors';

/** What happened to the object of a watch event, as Kubernetes spells it. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/**
 * One change. For DELETED, `object` is the object's last state; for BOOKMARK, only
 * `object.metadata.resourceVersion` is meaningful. (An ERROR event from the server is not
 * delivered as an event: the iteration throws a StatusError made from its Status.)
 */
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

/**
 * A running watch. Iterate it with `for await`; the iteration ends when the server closes
 * the stream or `stop()` is called, and throws a StatusError when the stream fails (for
 * example isGone(err): the resource version is too old, list again).
 */
export interface Watch<T> extends AsyncIterable<WatchEvent<T>> {
  /** Ends the watch; an iteration in progress finishes without an error. Idempotent. */
  stop(): void;
}

/** A server stream of items that the consumer can stop: watches, pod logs. */
export interface Stream<T> extends AsyncIterable<T> {
  stop(): void;
}

export interface StreamQueueOptions {
  /** Called once when the consumer stops the stream (cancel the underlying call here). */
  onStop?: () => void;
  /** Called when more than `highWaterMark` items are buffered (pause the producer). */
  pause?: () => void;
  /** Called when the buffer has drained after a pause (resume the producer). */
  resume?: () => void;
  /** Default 1000 items. */
  highWaterMark?: number;
}

/**
 * A stream fed by a producer (`push`, `fail`, `end`) and consumed by one `for await` loop.
 * Items are delivered in order; an error is thrown after the items pushed before it.
 */
export class StreamQueue<T> implements Stream<T> {
  private buffer: T[] = [];
  private waiting?: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void };
  private finished = false;
  private error?: unknown;
  private stopped = false;
  private paused = false;
  private readonly highWaterMark: number;

  constructor(private readonly opts: StreamQueueOptions = {}) {
    this.highWaterMark = opts.highWaterMark ?? 1000;
  }

  /** True once the stream has ended, failed or been stopped. */
  get closed(): boolean {
    return this.finished || this.stopped;
  }

  /** Delivers an item (ignored once the stream is closed). */
  push(item: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve({ value: item, done: false });
      return;
    }
    this.buffer.push(item);
    if (!this.paused && this.buffer.length > this.highWaterMark && this.opts.pause) {
      this.paused = true;
      this.opts.pause();
    }
  }

  /** Ends the stream with an error, thrown to the consumer after the buffered items. */
  fail(err: unknown): void {
    if (this.closed) return;
    this.finished = true;
    this.error = err;
    this.wake();
  }

  /** Ends the stream normally, after the buffered items. */
  end(): void {
    if (this.closed) return;
    this.finished = true;
    this.wake();
  }

  stop(): void {
    if (this.stopped) return;
    const wasFinished = this.finished;
    this.stopped = true;
    this.buffer = [];
    this.error = undefined;
    if (!wasFinished) this.opts.onStop?.();
    this.wake();
  }

  private wake(): void {
    if (!this.waiting || this.buffer.length > 0) return;
    const w = this.waiting;
    this.waiting = undefined;
    if (this.error !== undefined && !this.stopped) w.reject(this.error);
    else w.resolve({ value: undefined, done: true });
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) {
      const value = this.buffer.shift() as T;
      if (this.paused && this.buffer.length <= this.highWaterMark / 2) {
        this.paused = false;
        this.opts.resume?.();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.stopped || (this.finished && this.error === undefined)) return Promise.resolve({ value: undefined, done: true });
    if (this.finished) {
      const err = this.error;
      this.error = undefined;
      return Promise.reject(err);
    }
    if (this.waiting) return Promise.reject(new Error('StreamQueue: only one consumer may iterate a stream'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: () => {
        this.stop();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** Wraps a producer error so consumers always see StatusErrors. */
export function failWithStatusError<T>(queue: StreamQueue<T>, err: unknown): void {
  queue.fail(toStatusError(err));
}
