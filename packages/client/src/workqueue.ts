// The workqueue that sits between informers and reconcile loops, with client-go's rules:
// a key added while it is waiting is queued once; a key being processed is never handed to
// a second worker: added again meanwhile, it is queued after the first worker is done;
// failures are retried with per-key exponential backoff.
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { realClock } from './clock';
import type { Clock } from './clock';
import { noopLogger } from './logger';
import type { Logger } from './logger';

/** Decides how long a key waits before it is retried. */
export interface RateLimiter {
  /** The delay before the next retry of `key` (each call counts as one more failure). */
  when(key: string): number;
  /** Forgets the key's failures: the next delay starts from the beginning. */
  forget(key: string): void;
  /** How many failures of the key are being counted. */
  numRequeues(key: string): number;
}

/**
 * Per-key exponential backoff: baseMs, 2 * baseMs, 4 * baseMs, ... up to maxMs.
 * Defaults as client-go's: 5 ms doubling to 1000 s.
 */
export class ExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** n);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * An overall rate limit shared by all keys (a token bucket: `qps` per second, bursts of
 * `burst`), so that many failing keys cannot flood the apiserver.
 */
export class BucketRateLimiter implements RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(): void {}

  numRequeues(): number {
    return 0;
  }
}

/** The longest delay of several limiters (client-go's default controller rate limiter is this of both above). */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    return Math.max(0, ...this.limiters.map((l) => l.when(key)));
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(0, ...this.limiters.map((l) => l.numRequeues(key)));
  }
}

/** client-go's default for controllers: per-key 5 ms..1000 s, and 10 qps / 100 burst overall. */
export function defaultControllerRateLimiter(clock: Clock = realClock): RateLimiter {
  return new MaxOfRateLimiter(new ExponentialRateLimiter(5, 1_000_000), new BucketRateLimiter(10, 100, clock));
}

export interface WorkQueueOptions {
  /** A name for metrics and logs, e.g. 'replicaset'. */
  name?: string;
  /** Default: a per-key ExponentialRateLimiter (5 ms doubling to 1000 s). */
  rateLimiter?: RateLimiter;
  clock?: Clock;
  logger?: Logger;
  /** When given, the queue reports workqueue_depth, workqueue_adds_total and workqueue_retries_total. */
  metrics?: { registry: Registry };
}

export interface RunOptions {
  /**
   * After this many consecutive failures of a key, it is dropped (forgotten) instead of
   * retried. Default: retried forever.
   */
  maxRetries?: number;
  /** Called with each failure, before the key is requeued. */
  onError?: (key: string, err: unknown, retries: number) => void;
}

interface QueueMetrics {
  depth: Gauge;
  adds: Counter;
  retries: Counter;
}

function metric<M>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

function queueMetrics(registry: Registry): QueueMetrics {
  return {
    depth: metric(
      registry,
      'workqueue_depth',
      () => new Gauge({ name: 'workqueue_depth', help: 'Keys waiting in the workqueue', labelNames: ['name'], registers: [registry] }),
    ),
    adds: metric(
      registry,
      'workqueue_adds_total',
      () => new Counter({ name: 'workqueue_adds_total', help: 'Keys added to the workqueue', labelNames: ['name'], registers: [registry] }),
    ),
    retries: metric(
      registry,
      'workqueue_retries_total',
      () =>
        new Counter({ name: 'workqueue_retries_total', help: 'Rate-limited re-adds of keys', labelNames: ['name'], registers: [registry] }),
    ),
  };
}

/** A rate-limited, delaying work queue of string keys (typically `namespace/name`). */
export class WorkQueue {
  private readonly queue: string[] = [];
  /** Keys that need processing: waiting in `queue`, or to be requeued when their worker is done. */
  private readonly dirty = new Set<string>();
  /** Keys a worker holds right now. */
  private readonly processing = new Set<string>();
  /** Keys waiting for a delay, with their ready time and timer. */
  private readonly delayed = new Map<string, { at: number; timer: unknown }>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private shutting = false;
  private readonly name: string;
  private readonly rateLimiter: RateLimiter;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics?: QueueMetrics;

  constructor(opts: WorkQueueOptions = {}) {
    this.name = opts.name ?? 'workqueue';
    this.rateLimiter = opts.rateLimiter ?? new ExponentialRateLimiter();
    this.clock = opts.clock ?? realClock;
    this.logger = opts.logger ?? noopLogger;
    if (opts.metrics) this.metrics = queueMetrics(opts.metrics.registry);
  }

  /** Queues a key, unless it is already waiting. Ignored after shutDown. */
  add(key: string): void {
    if (this.shutting || this.dirty.has(key)) return;
    this.metrics?.adds.inc({ name: this.name });
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  private enqueue(key: string): void {
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
      return;
    }
    this.queue.push(key);
    this.metrics?.depth.set({ name: this.name }, this.queue.length);
  }

  /**
   * Queues a key after `delayMs`. A key already waiting for a delay keeps the earlier of the
   * two ready times. Ignored after shutDown.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.shutting) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending) {
      if (pending.at <= at) return;
      this.clock.clearTimeout(pending.timer);
    }
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { at, timer });
  }

  /** Queues a key after its rate limiter's delay (the delay grows with each call until forget). */
  addRateLimited(key: string): void {
    if (this.shutting) return;
    this.metrics?.retries.inc({ name: this.name });
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Resets a key's backoff (call after it was processed successfully). */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  /** How many times the key has been rate-limited since it was last forgotten. */
  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /**
   * The next key to process, waiting for one if needed; undefined once the queue is shut
   * down and empty. The caller owns the key until it calls done(key).
   */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.metrics?.depth.set({ name: this.name }, this.queue.length);
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shutting) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks a key processed; if it was added again meanwhile, it is queued now. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    if (this.dirty.has(key)) this.enqueue(key);
    this.checkDrained();
  }

  /** Keys waiting to be processed (not counting delayed keys or keys being processed). */
  len(): number {
    return this.queue.length;
  }

  /** Keys a worker holds right now. */
  inProgress(): number {
    return this.processing.size;
  }

  get shuttingDown(): boolean {
    return this.shutting;
  }

  /**
   * Stops accepting keys and drops delayed ones. Keys already queued are still handed out;
   * once none are left, get() returns undefined so workers end.
   */
  shutDown(): void {
    if (this.shutting) return;
    this.shutting = true;
    for (const { timer } of this.delayed.values()) this.clock.clearTimeout(timer);
    this.delayed.clear();
    for (const getter of this.getters.splice(0)) getter(undefined);
    this.checkDrained();
  }

  /** shutDown, then resolves once every queued key has been processed and marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private isDrained(): boolean {
    return this.queue.length === 0 && this.processing.size === 0;
  }

  private checkDrained(): void {
    if (this.shutting && this.isDrained()) for (const w of this.drainWaiters.splice(0)) w();
  }

  /**
   * Runs `workers` loops that take keys and call `handler`: on success the key's backoff is
   * reset (forget); when the handler throws, the key is retried with backoff
   * (addRateLimited). Resolves when the queue has been shut down and drained.
   */
  async run(workers: number, handler: (key: string) => void | Promise<void>, opts: RunOptions = {}): Promise<void> {
    const worker = async () => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await handler(key);
          this.forget(key);
        } catch (err) {
          const retries = this.numRequeues(key);
          opts.onError?.(key, err, retries);
          if (opts.maxRetries !== undefined && retries >= opts.maxRetries) {
            this.logger.warn({ queue: this.name, key, retries, err: String(err) }, 'workqueue: dropping key after too many retries');
            this.forget(key);
          } else {
            this.logger.debug({ queue: this.name, key, retries, err: String(err) }, 'workqueue: handler failed, retrying with backoff');
            this.addRateLimited(key);
          }
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
  }
}
