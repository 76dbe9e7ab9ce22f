// The scheduling queue, as kube-scheduler's: three places a pending pod can wait.
//   active         ready to be scheduled: highest priority first, then first in first out;
//   backoff        failed recently: waits initialBackoff * 2^(attempts-1) (capped at
//                  maxBackoff) after its last failure, then moves to active;
//   unschedulable  no node fits: waits for a cluster event that could change that (a node
//                  added or changed, a pod deleted, ...) as judged by the plugins that
//                  rejected it; pods waiting longer than maxUnschedulable are retried anyway.
// Plus `gated` (spec.schedulingGates not empty: not scheduled until the gates are removed)
// and in-flight pods (popped, being scheduled or bound).
//
// A cluster event that arrives while a pod is in flight is not lost: a pod that fails in a
// cycle during which a move request happened goes to backoff rather than unschedulable.
import type { Clock } from '../clock';
import { realClock } from '../clock';
import type { ClusterEvent } from '../clusterevents';
import type { PodInfo } from '../podinfo';
import { Heap } from './heap';

export type PodLocation = 'active' | 'backoff' | 'unschedulable' | 'gated' | 'inflight';

/** A pod in the queue, with its scheduling history. */
export interface QueuedPodInfo {
  podInfo: PodInfo;
  readonly key: string;
  /** When it (re)entered the active queue or last failed: orders FIFO within a priority. */
  timestamp: number;
  /** When the queue first saw it: the start of its end-to-end scheduling latency. */
  readonly firstSeen: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** The plugins that found it unschedulable in its last attempt (empty after an error). */
  unschedulablePlugins: Set<string>;
  /** Where it is now. */
  location: PodLocation;
  /** A tie breaker that keeps FIFO stable. */
  seq: number;
  heapIndex: number;
}

export interface QueueOptions {
  /** Backoff after the first failed attempt. Default 1 s. */
  initialBackoffMs?: number;
  /** The longest backoff. Default 10 s. */
  maxBackoffMs?: number;
  /** Pods unschedulable for longer than this are retried without an event. Default 60 s. */
  maxUnschedulableMs?: number;
  /** How often unschedulable pods are checked against maxUnschedulableMs. Default 30 s. */
  unschedulableFlushIntervalMs?: number;
  clock?: Clock;
  /**
   * Whether an event could make the pod schedulable (from the plugins that rejected it).
   * Default: always.
   */
  isRelevant?: (qpi: QueuedPodInfo, event: ClusterEvent) => boolean;
}

export interface QueueCounts {
  active: number;
  backoff: number;
  unschedulable: number;
  gated: number;
  inflight: number;
}

function isGated(info: PodInfo): boolean {
  return (info.pod.spec?.schedulingGates?.length ?? 0) > 0;
}

/** True when a pod update changed more than its status (the scheduler's own status writes do not count). */
export function podUpdateMatters(oldInfo: PodInfo, newInfo: PodInfo): boolean {
  const a = oldInfo.pod;
  const b = newInfo.pod;
  if (a === b) return false;
  const strip = (p: typeof a) => {
    const m = p.metadata ?? {};
    return JSON.stringify([p.spec, m.labels, m.annotations, m.deletionTimestamp, m.ownerReferences, m.finalizers]);
  };
  return strip(a) !== strip(b);
}

export class SchedulingQueue {
  private readonly pods = new Map<string, QueuedPodInfo>();
  private readonly active: Heap<QueuedPodInfo>;
  private readonly backoff: Heap<QueuedPodInfo>;
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private gatedCount = 0;
  private inflightCount = 0;
  private seq = 0;
  private cycle = 0;
  private moveRequestCycle = -1;
  private closed = false;
  private waiters: (() => void)[] = [];
  private backoffTimer: unknown;
  private backoffTimerAt = Number.POSITIVE_INFINITY;
  private flushTimer: unknown;

  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxUnschedulableMs: number;
  private readonly flushIntervalMs: number;
  private readonly clock: Clock;
  private readonly isRelevant: (qpi: QueuedPodInfo, event: ClusterEvent) => boolean;

  constructor(opts: QueueOptions = {}) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = opts.maxUnschedulableMs ?? 60_000;
    this.flushIntervalMs = opts.unschedulableFlushIntervalMs ?? 30_000;
    this.clock = opts.clock ?? realClock;
    this.isRelevant = opts.isRelevant ?? (() => true);
    this.active = new Heap((a, b) => {
      const pa = a.podInfo.priority;
      const pb = b.podInfo.priority;
      if (pa !== pb) return pa > pb;
      if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp;
      return a.seq < b.seq;
    });
    this.backoff = new Heap((a, b) => {
      const ea = this.backoffExpiry(a);
      const eb = this.backoffExpiry(b);
      return ea !== eb ? ea < eb : a.seq < b.seq;
    });
    this.armFlush();
  }

  /** The number of scheduling cycles started (pops). */
  get schedulingCycle(): number {
    return this.cycle;
  }

  counts(): QueueCounts {
    return {
      active: this.active.size,
      backoff: this.backoff.size,
      unschedulable: this.unschedulable.size,
      gated: this.gatedCount,
      inflight: this.inflightCount,
    };
  }

  /** Where a pod is, or undefined when the queue does not hold it. */
  location(key: string): PodLocation | undefined {
    return this.pods.get(key)?.location;
  }

  get(key: string): QueuedPodInfo | undefined {
    return this.pods.get(key);
  }

  /** A new pending pod (an update when the queue already holds it). */
  add(info: PodInfo): void {
    if (this.closed) return;
    const existing = this.pods.get(info.key);
    if (existing) {
      this.update(info);
      return;
    }
    const now = this.clock.now();
    const qpi: QueuedPodInfo = {
      podInfo: info,
      key: info.key,
      timestamp: now,
      firstSeen: now,
      attempts: 0,
      unschedulablePlugins: new Set(),
      location: 'gated',
      seq: this.seq++,
      heapIndex: -1,
    };
    this.pods.set(info.key, qpi);
    if (isGated(info)) this.place(qpi, 'gated');
    else this.place(qpi, 'active');
  }

  /** The pending pod changed. */
  update(info: PodInfo): void {
    const qpi = this.pods.get(info.key);
    if (!qpi) {
      this.add(info);
      return;
    }
    const old = qpi.podInfo;
    qpi.podInfo = info;
    switch (qpi.location) {
      case 'active':
        this.active.fix(qpi);
        break;
      case 'backoff':
        break;
      case 'gated':
        if (!isGated(info)) this.move(qpi, 'active');
        break;
      case 'unschedulable':
        if (podUpdateMatters(old, info)) this.move(qpi, this.isBackingOff(qpi) ? 'backoff' : 'active');
        break;
      case 'inflight':
        // Picked up when its attempt ends: a failure then goes to backoff, not unschedulable.
        if (podUpdateMatters(old, info)) this.moveRequestCycle = this.cycle;
        break;
    }
  }

  /** The pod is no longer pending (deleted, or bound). */
  delete(key: string): void {
    const qpi = this.pods.get(key);
    if (!qpi) return;
    this.unplace(qpi);
    this.pods.delete(key);
  }

  /** The next pod to schedule, or undefined when none is active. It is in flight until done() or a failure. */
  pop(): QueuedPodInfo | undefined {
    const qpi = this.active.pop();
    if (!qpi) return undefined;
    qpi.location = 'inflight';
    this.inflightCount++;
    qpi.attempts++;
    this.cycle++;
    return qpi;
  }

  /** The in-flight pod was scheduled and bound: the queue forgets it. */
  done(key: string): void {
    const qpi = this.pods.get(key);
    if (qpi?.location !== 'inflight') return;
    this.unplace(qpi);
    this.pods.delete(key);
  }

  /**
   * The in-flight pod's attempt failed. With plugins that found it unschedulable it waits in
   * the unschedulable set (or in backoff, when a move request arrived during its cycle);
   * without (an error), it backs off.
   */
  requeueFailed(qpi: QueuedPodInfo, podCycle: number, unschedulablePlugins: Iterable<string>): void {
    if (this.pods.get(qpi.key) !== qpi || qpi.location !== 'inflight') return;
    qpi.unschedulablePlugins = new Set(unschedulablePlugins);
    qpi.timestamp = this.clock.now();
    const toBackoff = qpi.unschedulablePlugins.size === 0 || this.moveRequestCycle >= podCycle;
    this.move(qpi, toBackoff ? 'backoff' : 'unschedulable');
  }

  /**
   * A cluster event happened: unschedulable pods it could help move to active (or to backoff
   * while their backoff lasts).
   */
  moveAllToActiveOrBackoff(event: ClusterEvent): number {
    this.moveRequestCycle = this.cycle;
    if (this.unschedulable.size === 0) return 0;
    let toMove: QueuedPodInfo[] | undefined;
    for (const qpi of this.unschedulable.values()) if (this.isRelevant(qpi, event)) (toMove ??= []).push(qpi);
    if (!toMove) return 0;
    for (const qpi of toMove) this.move(qpi, this.isBackingOff(qpi) ? 'backoff' : 'active');
    return toMove.length;
  }

  /** Moves backoff pods whose backoff has expired to active. */
  flushBackoffCompleted(): number {
    const now = this.clock.now();
    let n = 0;
    for (;;) {
      const top = this.backoff.peek();
      if (!top || this.backoffExpiry(top) > now) break;
      this.move(top, 'active');
      n++;
    }
    this.armBackoff();
    return n;
  }

  /** Retries pods that waited in the unschedulable set longer than maxUnschedulableMs. */
  flushUnschedulableLeftover(): number {
    const now = this.clock.now();
    let n = 0;
    for (const qpi of [...this.unschedulable.values()]) {
      if (now - qpi.timestamp < this.maxUnschedulableMs) continue;
      this.move(qpi, this.isBackingOff(qpi) ? 'backoff' : 'active');
      n++;
    }
    return n;
  }

  /** The backoff of a pod after `attempts` failed attempts. */
  backoffDuration(attempts: number): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoffMs) return this.maxBackoffMs;
    }
    return Math.min(d, this.maxBackoffMs);
  }

  private backoffExpiry(qpi: QueuedPodInfo): number {
    return qpi.timestamp + this.backoffDuration(qpi.attempts);
  }

  private isBackingOff(qpi: QueuedPodInfo): boolean {
    return qpi.attempts > 0 && this.backoffExpiry(qpi) > this.clock.now();
  }

  /** Resolves when a pod is active (or the queue closed, or signal aborted). */
  whenActive(signal?: AbortSignal): Promise<void> {
    if (this.active.size > 0 || this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Stops timers and wakes waiters; the queue accepts nothing more. */
  close(): void {
    this.closed = true;
    if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer);
    if (this.flushTimer !== undefined) this.clock.clearTimeout(this.flushTimer);
    this.backoffTimer = this.flushTimer = undefined;
    this.wake();
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    for (const w of this.waiters.splice(0)) w();
  }

  private move(qpi: QueuedPodInfo, to: PodLocation): void {
    this.unplace(qpi);
    if (to === 'active') qpi.timestamp = this.clock.now();
    this.place(qpi, to);
  }

  private place(qpi: QueuedPodInfo, to: PodLocation): void {
    qpi.location = to;
    switch (to) {
      case 'active':
        this.active.push(qpi);
        this.wake();
        break;
      case 'backoff':
        this.backoff.push(qpi);
        this.armBackoff();
        break;
      case 'unschedulable':
        this.unschedulable.set(qpi.key, qpi);
        break;
      case 'gated':
        this.gatedCount++;
        break;
      case 'inflight':
        this.inflightCount++;
        break;
    }
  }

  private unplace(qpi: QueuedPodInfo): void {
    switch (qpi.location) {
      case 'active':
        this.active.remove(qpi);
        break;
      case 'backoff':
        this.backoff.remove(qpi);
        break;
      case 'unschedulable':
        this.unschedulable.delete(qpi.key);
        break;
      case 'gated':
        this.gatedCount--;
        break;
      case 'inflight':
        this.inflightCount--;
        break;
    }
  }

  private armBackoff(): void {
    if (this.closed) return;
    const top = this.backoff.peek();
    const at = top ? this.backoffExpiry(top) : Number.POSITIVE_INFINITY;
    if (at >= this.backoffTimerAt && this.backoffTimer !== undefined) return;
    if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.backoffTimerAt = at;
    if (at === Number.POSITIVE_INFINITY) return;
    this.backoffTimer = this.clock.setTimeout(() => {
      this.backoffTimer = undefined;
      this.backoffTimerAt = Number.POSITIVE_INFINITY;
      this.flushBackoffCompleted();
    }, at - this.clock.now());
  }

  private armFlush(): void {
    if (this.closed) return;
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushUnschedulableLeftover();
      this.armFlush();
    }, this.flushIntervalMs);
  }
}
