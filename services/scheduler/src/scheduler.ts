// The scheduler: informer events in, bindings out.
//
//   pending pod (its schedulerName, no node)  ->  queue
//   bound pods, nodes, namespaces              ->  cache (and cluster events -> queue moves)
//   loop: pop the next pod -> framework.schedulePod (synchronous) -> assume it on the node
//         in the cache -> Reserve -> start the bind (async) -> next pod at once
//   bind done: Scheduled event, the queue forgets the pod; the watch later confirms the
//   assumption. Bind failed: Unreserve, forget the assumption, requeue with backoff.
//   no node fits: FailedScheduling event and PodScheduled=False condition, requeue as
//   unschedulable (retried on a relevant cluster event, or after backoff).
//
// Nothing here talks to the apiserver directly: the binder, event recorder and status
// writer are interfaces (src/index.ts wires them to @k8ts/client), so tests drive the
// scheduler with in-memory fakes.
import type { corev1 } from '@k8ts/api';
import type { SchedulerCache } from './cache/cache';
import type { Clock } from './clock';
import { realClock } from './clock';
import { nodeChangeEvents } from './clusterevents';
import type { ClusterEvent } from './clusterevents';
import type { Framework } from './framework/framework';
import type { CycleState } from './framework/cyclestate';
import { PodInfo } from './podinfo';
import type { QueuedPodInfo, SchedulingQueue } from './queue/queue';

/** Where events go (@k8ts/client's EventRecorder fits). */
export interface SchedulerEventRecorder {
  event(object: corev1.Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** Writes the PodScheduled condition of pods that could not be scheduled. */
export interface PodConditionWriter {
  setUnschedulable(pod: corev1.Pod, reason: 'Unschedulable' | 'SchedulerError', message: string): void;
}

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

/** What the scheduler reports (src/metrics.ts implements it with prom-client). */
export interface SchedulerMetricsSink {
  attempt(result: AttemptResult, profile: string, seconds: number): void;
  /** A pod was bound: from first seen to bound, and how many attempts it took. */
  scheduled(profile: string, e2eSeconds: number, attempts: number): void;
  bindDuration(result: 'ok' | 'error', seconds: number): void;
}

export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

const noop = () => {};
const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

export interface SchedulerOptions {
  cache: SchedulerCache;
  queue: SchedulingQueue;
  /** One framework per profile, by schedulerName. */
  frameworks: ReadonlyMap<string, Framework>;
  recorder?: SchedulerEventRecorder;
  conditions?: PodConditionWriter;
  metrics?: SchedulerMetricsSink;
  logger?: Logger;
  clock?: Clock;
  /** At most this many binds in flight; scheduling pauses while it is reached. Default 512. */
  maxInflightBinds?: number;
  /** The loop yields to I/O after this much scheduling work. Default 5 ms. */
  sliceMs?: number;
  /** Whether a bind error means the pod is gone (then it is not retried). */
  isNotFound?: (err: unknown) => boolean;
}

function terminal(pod: corev1.Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

function keyOf(pod: corev1.Pod): string {
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  readonly frameworks: ReadonlyMap<string, Framework>;
  private readonly recorder?: SchedulerEventRecorder;
  private readonly conditions?: PodConditionWriter;
  private readonly metrics?: SchedulerMetricsSink;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly maxInflight: number;
  private readonly sliceMs: number;
  private readonly isNotFound: (err: unknown) => boolean;
  /** The pending pods we are responsible for, by key (latest object). */
  private readonly pending = new Map<string, corev1.Pod>();
  private readonly binds = new Set<Promise<void>>();
  private bindWaiters: (() => void)[] = [];
  private housekeeping: unknown;
  /** Pods scheduled (bound) and attempts, since start: for logs and tests. */
  readonly stats = { scheduled: 0, unschedulable: 0, errors: 0, bindErrors: 0 };

  constructor(opts: SchedulerOptions) {
    this.cache = opts.cache;
    this.queue = opts.queue;
    this.frameworks = opts.frameworks;
    this.recorder = opts.recorder;
    this.conditions = opts.conditions;
    this.metrics = opts.metrics;
    this.logger = opts.logger ?? noopLogger;
    this.clock = opts.clock ?? realClock;
    this.maxInflight = opts.maxInflightBinds ?? 512;
    this.sliceMs = opts.sliceMs ?? 5;
    this.isNotFound = opts.isNotFound ?? ((err) => (err as { code?: number })?.code === 5);
  }

  /** The cluster events each plugin reacts to, across profiles (null: every event). */
  static pluginEvents(frameworks: Iterable<Framework>): Map<string, ReadonlySet<ClusterEvent> | null> {
    const out = new Map<string, ReadonlySet<ClusterEvent> | null>();
    for (const f of frameworks) for (const [name, events] of f.pluginEvents()) out.set(name, events);
    return out;
  }

  /** A queue relevance function from plugin events: an event helps a pod when it could help a plugin that rejected it. */
  static relevance(
    events: Map<string, ReadonlySet<ClusterEvent> | null>,
  ): (qpi: QueuedPodInfo, event: ClusterEvent) => boolean {
    return (qpi, event) => {
      if (qpi.unschedulablePlugins.size === 0) return true;
      for (const p of qpi.unschedulablePlugins) {
        const e = events.get(p);
        if (e === undefined || e === null || e.has(event)) return true;
      }
      return false;
    };
  }

  // ---- informer handlers ----

  /** True when this scheduler should schedule the pod. */
  responsibleFor(pod: corev1.Pod): boolean {
    return !pod.spec?.nodeName && !terminal(pod) && this.frameworks.has(pod.spec?.schedulerName || 'default-scheduler');
  }

  onPendingPodAdd(pod: corev1.Pod): void {
    if (pod.spec?.nodeName) {
      this.onAssignedPodAdd(pod);
      return;
    }
    if (!this.responsibleFor(pod)) return;
    const key = keyOf(pod);
    this.pending.set(key, pod);
    if (this.cache.isAssumed(key)) return; // being bound: the watch has not caught up yet
    this.queue.add(new PodInfo(pod));
  }

  onPendingPodUpdate(_old: corev1.Pod, pod: corev1.Pod): void {
    const key = keyOf(pod);
    if (!this.responsibleFor(pod)) {
      this.pending.delete(key);
      this.queue.delete(key);
      if (pod.spec?.nodeName) this.onAssignedPodAdd(pod);
      return;
    }
    this.pending.set(key, pod);
    if (this.cache.isAssumed(key)) return;
    this.queue.update(new PodInfo(pod));
  }

  onPendingPodDelete(pod: corev1.Pod): void {
    const key = keyOf(pod);
    this.pending.delete(key);
    this.queue.delete(key);
  }

  onAssignedPodAdd(pod: corev1.Pod): void {
    const key = keyOf(pod);
    if (this.pending.delete(key)) this.queue.delete(key);
    if (terminal(pod)) {
      this.onAssignedPodDelete(pod);
      return;
    }
    this.cache.addPod(pod);
    this.queue.moveAllToActiveOrBackoff('AssignedPodAdd');
  }

  onAssignedPodUpdate(old: corev1.Pod, pod: corev1.Pod): void {
    if (terminal(pod)) {
      this.onAssignedPodDelete(pod);
      return;
    }
    this.cache.updatePod(pod);
    const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(pod.metadata?.labels ?? {});
    if (labelsChanged || !!old.metadata?.deletionTimestamp !== !!pod.metadata?.deletionTimestamp) {
      this.queue.moveAllToActiveOrBackoff('AssignedPodUpdate');
    }
  }

  onAssignedPodDelete(pod: corev1.Pod): void {
    const key = keyOf(pod);
    // An assumed pod whose bind is still in flight stays: its bind decides.
    const cached = this.cache.pod(key);
    if (!cached || cached.assumed) return;
    this.cache.removePod(pod);
    this.queue.moveAllToActiveOrBackoff('AssignedPodDelete');
  }

  onNodeAdd(node: corev1.Node): void {
    this.setNode(node);
    this.queue.moveAllToActiveOrBackoff('NodeAdd');
  }

  onNodeUpdate(old: corev1.Node, node: corev1.Node): void {
    this.setNode(node);
    for (const e of nodeChangeEvents(old, node)) this.queue.moveAllToActiveOrBackoff(e);
  }

  private setNode(node: corev1.Node): void {
    const ni = this.cache.setNode(node);
    if (ni.problem) this.logger.warn({ node: ni.name, err: ni.problem }, 'node has a malformed allocatable: it takes no pods');
  }

  onNodeDelete(node: corev1.Node): void {
    this.cache.removeNode(node.metadata?.name ?? '');
    this.queue.moveAllToActiveOrBackoff('NodeDelete');
  }

  onNamespaceAdd(ns: corev1.Namespace): void {
    this.cache.setNamespace(ns);
  }

  onNamespaceUpdate(old: corev1.Namespace, ns: corev1.Namespace): void {
    this.cache.setNamespace(ns);
    if (JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(ns.metadata?.labels ?? {})) {
      this.queue.moveAllToActiveOrBackoff('NamespaceChange');
    }
  }

  onNamespaceDelete(ns: corev1.Namespace): void {
    this.cache.removeNamespace(ns.metadata?.name ?? '');
  }

  // ---- the loop ----

  /** Binds in flight. */
  get inflightBinds(): number {
    return this.binds.size;
  }

  /**
   * Schedules pods until `signal` aborts: pops, schedules synchronously, yields to I/O every
   * sliceMs so that watch events and bind answers are handled between cycles.
   */
  async run(signal: AbortSignal): Promise<void> {
    this.startHousekeeping(signal);
    try {
      while (!signal.aborted) {
        const sliceEnd = performance.now() + this.sliceMs;
        let worked = false;
        while (!signal.aborted && this.binds.size < this.maxInflight) {
          if (!this.scheduleOne()) break;
          worked = true;
          if (performance.now() >= sliceEnd) break;
        }
        if (signal.aborted) break;
        if (this.binds.size >= this.maxInflight) await this.bindSettled(signal);
        else if (worked) await new Promise<void>((r) => setImmediate(r));
        else await this.queue.whenActive(signal);
      }
    } finally {
      if (this.housekeeping !== undefined) this.clock.clearTimeout(this.housekeeping);
      this.housekeeping = undefined;
    }
  }

  /** Resolves when every bind started so far has finished. */
  async waitForBinds(): Promise<void> {
    while (this.binds.size > 0) await Promise.all([...this.binds]);
  }

  private bindSettled(signal: AbortSignal): Promise<void> {
    if (this.binds.size === 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.bindWaiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private startHousekeeping(signal: AbortSignal): void {
    let ticks = 0;
    const tick = () => {
      if (signal.aborted) return;
      ticks++;
      for (const key of this.cache.cleanupAssumedPods()) {
        this.logger.warn({ pod: key }, 'assumed pod expired: its bind succeeded but the bound pod never arrived');
        this.queue.moveAllToActiveOrBackoff('AssignedPodDelete');
      }
      if (ticks % 60 === 0) this.cache.counters.evict(this.clock.now() - 5 * 60_000);
      this.housekeeping = this.clock.setTimeout(tick, 1000);
    };
    this.housekeeping = this.clock.setTimeout(tick, 1000);
  }

  /**
   * One scheduling cycle: pops a pod and decides; when it fits, assumes it and starts its
   * bind. False when no pod is active. Synchronous (the bind continues in the background).
   */
  scheduleOne(): boolean {
    const qpi = this.queue.pop();
    if (!qpi) return false;
    const info = qpi.podInfo;
    const fwk = this.frameworks.get(info.schedulerName);
    const current = this.pending.get(qpi.key);
    if (!fwk || !current || current.metadata?.deletionTimestamp || this.cache.pod(qpi.key)) {
      // Deleted, being deleted, or already assumed/bound: nothing to do.
      this.queue.done(qpi.key);
      return true;
    }
    const cycle = this.queue.schedulingCycle;
    const started = performance.now();
    const result = fwk.schedulePod(info);
    const seconds = (performance.now() - started) / 1000;

    if (result.kind === 'unschedulable') {
      this.stats.unschedulable++;
      this.metrics?.attempt('unschedulable', fwk.profileName, seconds);
      this.fail(qpi, cycle, 'Unschedulable', result.error.message, result.error.diagnosis.unschedulablePlugins);
      return true;
    }
    if (result.kind === 'error') {
      this.stats.errors++;
      this.metrics?.attempt('error', fwk.profileName, seconds);
      this.logger.warn({ pod: qpi.key, err: result.status.message() }, 'scheduling error');
      this.fail(qpi, cycle, 'SchedulerError', result.status.message(), []);
      return true;
    }

    const nodeName = result.nodeName;
    try {
      this.cache.assumePod(info, nodeName);
    } catch (err) {
      this.stats.errors++;
      this.metrics?.attempt('error', fwk.profileName, seconds);
      this.fail(qpi, cycle, 'SchedulerError', (err as Error).message, []);
      return true;
    }
    const reserved = fwk.runReserve(result.state, info, nodeName);
    if (!reserved.isSuccess()) {
      this.cache.forgetPod(qpi.key);
      this.stats.errors++;
      this.metrics?.attempt('error', fwk.profileName, seconds);
      this.fail(qpi, cycle, 'SchedulerError', `running Reserve plugin "${reserved.plugin}": ${reserved.message()}`, []);
      return true;
    }
    this.metrics?.attempt('scheduled', fwk.profileName, seconds);
    const p = this.bind(fwk, qpi, cycle, nodeName, result.state);
    this.binds.add(p);
    p.finally(() => {
      this.binds.delete(p);
      const w = this.bindWaiters.shift();
      w?.();
    });
    return true;
  }

  private async bind(fwk: Framework, qpi: QueuedPodInfo, cycle: number, nodeName: string, state: CycleState): Promise<void> {
    const info = qpi.podInfo;
    const started = performance.now();
    const status = await fwk.runBind(state, info, nodeName);
    const seconds = (performance.now() - started) / 1000;
    if (status.isSuccess()) {
      this.cache.finishBinding(qpi.key);
      this.queue.done(qpi.key);
      this.pending.delete(qpi.key);
      this.stats.scheduled++;
      this.metrics?.bindDuration('ok', seconds);
      this.metrics?.scheduled(fwk.profileName, (this.clock.now() - qpi.firstSeen) / 1000, qpi.attempts);
      this.recorder?.event(info.pod, 'Normal', 'Scheduled', `Successfully assigned ${info.namespace}/${info.name} to ${nodeName}`);
      return;
    }
    this.stats.bindErrors++;
    this.metrics?.bindDuration('error', seconds);
    fwk.runUnreserve(state, info, nodeName);
    this.cache.forgetPod(qpi.key);
    // The pod's resources are free again: pods waiting for room may fit now.
    this.queue.moveAllToActiveOrBackoff('AssignedPodDelete');
    const msg = status.message();
    this.logger.warn({ pod: qpi.key, node: nodeName, err: msg }, 'bind failed');
    if (this.isNotFound(status.cause)) {
      this.queue.delete(qpi.key);
      this.pending.delete(qpi.key);
      return;
    }
    this.fail(qpi, cycle, 'SchedulerError', `Binding rejected: ${msg}`, []);
  }

  private fail(qpi: QueuedPodInfo, cycle: number, reason: 'Unschedulable' | 'SchedulerError', message: string, plugins: Iterable<string>): void {
    const pod = this.pending.get(qpi.key) ?? qpi.podInfo.pod;
    this.recorder?.event(pod, 'Warning', 'FailedScheduling', message);
    this.conditions?.setUnschedulable(pod, reason, message);
    this.queue.requeueFailed(qpi, cycle, plugins);
    this.logger.debug({ pod: qpi.key, reason, message }, 'pod not scheduled');
  }
}
