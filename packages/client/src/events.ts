// The event recorder: components report what happened to an object ("Scheduled",
// "FailedScheduling", "Pulled", ...) as core/v1 Events. Recording never blocks and never
// throws: events go on a bounded queue and a background loop writes them. Repeats of the
// same event (same object, type, reason and message) within a window update the first
// Event's count and lastTimestamp instead of creating new Events, as in Kubernetes.
import type { corev1 } from '@k8ts/api';
import { realClock } from './clock';
import type { Clock } from './clock';
import { isConflict, isNotFound, toStatusError } from './errors';
import { noopLogger } from './logger';
import type { Logger } from './logger';
import type { KubeObject } from './objects';
import type { ResourceClient } from './resources';

export type EventType = 'Normal' | 'Warning';

/** The event operations the recorder needs (the clientset's `events` client fits). */
export type EventClient = Pick<ResourceClient<corev1.Event>, 'create' | 'update'>;

export interface EventRecorderOptions {
  /** Where events are written (clientset.events). */
  events: EventClient;
  /** The reporting component: source.component and reportingComponent, e.g. 'default-scheduler'. */
  component: string;
  /** The reporting instance: source.host and reportingInstance, e.g. the node name. */
  host?: string;
  /** Repeats within this long after the last occurrence are counted on the same Event. Default 10 min. */
  aggregateWindowMs?: number;
  /** The most distinct events waiting to be written; more are dropped. Default 1000. */
  maxQueue?: number;
  /** How many written events are remembered for aggregation. Default 4096. */
  cacheSize?: number;
  clock?: Clock;
  logger?: Logger;
}

/** Records events about objects. */
export interface EventRecorder {
  /**
   * Records an event about `object` (a resource with apiVersion, kind and metadata, or an
   * ObjectReference). Returns at once; never throws.
   */
  event(object: KubeObject | corev1.ObjectReference, type: EventType, reason: string, message: string): void;
  /** Resolves when every event recorded so far has been written (or given up on). */
  flush(): Promise<void>;
  /** Stops accepting events, then flushes. */
  close(): Promise<void>;
  /** How many events were dropped because the queue was full. */
  readonly dropped: number;
}

interface Pending {
  ref: corev1.ObjectReference;
  type: EventType;
  reason: string;
  message: string;
  count: number;
  firstMs: number;
  lastMs: number;
}

interface Written {
  event: corev1.Event;
  lastMs: number;
}

/** The reference an Event makes to its object. */
export function objectReference(object: KubeObject | corev1.ObjectReference): corev1.ObjectReference {
  if ('metadata' in object && object.metadata) {
    const o = object as KubeObject;
    return {
      kind: o.kind ?? '',
      apiVersion: o.apiVersion ?? '',
      namespace: o.metadata?.namespace ?? '',
      name: o.metadata?.name ?? '',
      uid: o.metadata?.uid ?? '',
      resourceVersion: o.metadata?.resourceVersion ?? '',
    };
  }
  const r = object as corev1.ObjectReference;
  return {
    kind: r.kind ?? '',
    apiVersion: r.apiVersion ?? '',
    namespace: r.namespace ?? '',
    name: r.name ?? '',
    uid: r.uid ?? '',
    resourceVersion: r.resourceVersion ?? '',
    fieldPath: r.fieldPath ?? '',
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

class Recorder implements EventRecorder {
  private readonly pending = new Map<string, Pending>();
  private readonly written = new Map<string, Written>();
  private writing?: Promise<void>;
  private closed = false;
  private droppedCount = 0;
  private sequence = 0;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly window: number;
  private readonly maxQueue: number;
  private readonly cacheSize: number;

  constructor(private readonly opts: EventRecorderOptions) {
    this.clock = opts.clock ?? realClock;
    this.logger = opts.logger ?? noopLogger;
    this.window = opts.aggregateWindowMs ?? 10 * 60_000;
    this.maxQueue = opts.maxQueue ?? 1000;
    this.cacheSize = opts.cacheSize ?? 4096;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  event(object: KubeObject | corev1.ObjectReference, type: EventType, reason: string, message: string): void {
    try {
      if (this.closed) return;
      const ref = objectReference(object);
      const key = JSON.stringify([ref.kind, ref.apiVersion, ref.namespace, ref.name, ref.uid, ref.fieldPath ?? '', type, reason, message]);
      const now = this.clock.now();
      const queued = this.pending.get(key);
      if (queued) {
        queued.count++;
        queued.lastMs = now;
        return;
      }
      if (this.pending.size >= this.maxQueue) {
        if (this.droppedCount++ % 100 === 0) {
          this.logger.warn({ component: this.opts.component, dropped: this.droppedCount, reason }, 'events: queue full, dropping events');
        }
        return;
      }
      this.pending.set(key, { ref, type, reason, message, count: 1, firstMs: now, lastMs: now });
      if (!this.writing) this.writing = this.drain();
    } catch (err) {
      this.logger.error({ component: this.opts.component, err: String(err) }, 'events: cannot record an event');
    }
  }

  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async drain(): Promise<void> {
    // Let the caller's synchronous burst of events coalesce before the first write.
    await Promise.resolve();
    try {
      for (;;) {
        const next = this.pending.entries().next();
        if (next.done) break;
        const [key, item] = next.value;
        this.pending.delete(key);
        try {
          await this.write(key, item);
        } catch (err) {
          const e = toStatusError(err);
          this.logger.warn(
            { component: this.opts.component, reason: item.reason, object: `${item.ref.namespace}/${item.ref.name}`, code: e.codeName, err: e.message },
            'events: cannot write an event',
          );
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async write(key: string, item: Pending): Promise<void> {
    const known = this.written.get(key);
    if (known && item.firstMs - known.lastMs <= this.window) {
      const updated: corev1.Event = {
        ...known.event,
        count: (known.event.count ?? 1) + item.count,
        lastTimestamp: iso(item.lastMs),
      };
      try {
        this.remember(key, await this.opts.events.update(updated), item.lastMs);
        return;
      } catch (err) {
        // The Event expired or was changed elsewhere: start a new one.
        if (!isNotFound(err) && !isConflict(err)) throw err;
        this.written.delete(key);
      }
    }
    const ref = item.ref;
    const name = `${ref.name || 'unknown'}.${(BigInt(item.firstMs) * 1_000_000n + BigInt(this.sequence++ % 1_000_000)).toString(16)}`;
    const event: corev1.Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ref.namespace || 'default' },
      involvedObject: ref,
      reason: item.reason,
      message: item.message,
      type: item.type,
      source: { component: this.opts.component, host: this.opts.host ?? '' },
      firstTimestamp: iso(item.firstMs),
      lastTimestamp: iso(item.lastMs),
      count: item.count,
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.host ?? '',
    };
    this.remember(key, await this.opts.events.create(event), item.lastMs);
  }

  private remember(key: string, event: corev1.Event, lastMs: number): void {
    this.written.delete(key);
    this.written.set(key, { event, lastMs });
    if (this.written.size > this.cacheSize) this.written.delete(this.written.keys().next().value as string);
  }
}

/**
 * An event recorder for one component.
 *
 *   const recorder = createEventRecorder({ events: cs.events, component: 'default-scheduler' });
 *   recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${node}`);
 */
export function createEventRecorder(opts: EventRecorderOptions): EventRecorder {
  return new Recorder(opts);
}
