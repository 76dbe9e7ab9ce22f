// The pod manager: the kubelet's engine minus the API. It owns the runtime and one PodWorker
// per pod, admits new pods, routes runtime events to workers, and after a kubelet restart
// adopts what still runs and kills what belongs to no pod any more.
//
// The API wiring feeds it the pods bound to this node (an informer with field selector
// spec.nodeName=<node>):
//   informer synced (the full list)  -> syncPods(pods)
//   added / updated                  -> updatePod(pod)
//   deleted                          -> removePod(uid)
// and implements StatusSink (UpdatePodStatus), EventSink (Events), EnvSource (ConfigMaps,
// Secrets) and onPodTerminated (Delete with grace period 0 and a uid precondition).
import type { corev1 } from '@k8ts/api';
import pino, { type Logger } from 'pino';
import { followLog, readLog } from '../runtime/logs';
import type { Runtime } from '../runtime/types';
import type { EnvSource } from '../runtime/env';
import { admitPod, rejectedStatus, type NodeAllocatable } from './admission';
import type { BackoffPolicy } from './backoff';
import { nullEventSink, podRef, type EventSink, type StatusSink } from './sinks';
import { PodWorker } from './worker';

export interface NodeIdentity {
  /** The node's name (spec.nodeName of its pods). */
  name: string;
  /** The node's IP: the pods' hostIP. */
  ip: string;
  allocatable: NodeAllocatable;
}

export interface PodManagerOptions {
  node: NodeIdentity;
  runtime: Runtime;
  statusSink: StatusSink;
  eventSink?: EventSink;
  envSource?: EnvSource;
  backoff?: BackoffPolicy;
  /** How long one "second" of probe settings lasts (1000; tests shorten it). */
  probeSecondMs?: number;
  resyncMs?: number;
  logger?: Logger;
  /** A deleted pod's containers are all gone: the kubelet may finish the deletion. */
  onPodTerminated?: (pod: corev1.Pod) => void | Promise<void>;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);

/**
 * The options of a container log read, as k8ts.kubelet.v1 GetContainerLogsRequest has them.
 */
export interface PodLogOptions {
  /** The container (regular or init); may be omitted when the pod has exactly one. */
  container?: string;
  follow?: boolean;
  tailLines?: number;
  /** The instance before the latest one. */
  previous?: boolean;
  timestamps?: boolean;
  sinceSeconds?: number;
  /** Stop after this many bytes, at a line boundary. */
  limitBytes?: number;
  /** Ends a follow. */
  signal?: AbortSignal;
  /** How often a follow checks for new output; default 200 ms. */
  pollMs?: number;
}

/** A log request that cannot be served; `code` names the gRPC status to answer with. */
export class PodLogError extends Error {
  override name = 'PodLogError';
  constructor(
    readonly code: 'NOT_FOUND' | 'INVALID_ARGUMENT' | 'FAILED_PRECONDITION',
    message: string,
  ) {
    super(message);
  }
}

export class PodManager {
  readonly runtime: Runtime;
  private readonly workers = new Map<string, PodWorker>();
  private readonly rejected = new Map<string, corev1.Pod>();
  private readonly log: Logger;
  private readonly events: EventSink;
  private unsubscribe?: () => void;

  constructor(private readonly opts: PodManagerOptions) {
    this.runtime = opts.runtime;
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.events = opts.eventSink ?? nullEventSink;
  }

  /** Initializes the runtime (loading and adopting what it left on disk). */
  async start(): Promise<void> {
    await this.runtime.init();
    this.unsubscribe = this.runtime.onContainerEvent((e) => this.workers.get(e.container.podUid)?.kick());
  }

  /** Stops every worker and the runtime's background work; containers keep running. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    for (const w of this.workers.values()) w.stop();
    await this.runtime.close();
  }

  /** The worker of a pod, if it has one. */
  worker(uid: string): PodWorker | undefined {
    return this.workers.get(uid);
  }

  /** The pods admitted and not finished: what counts against the node's allocatable. */
  activePods(): corev1.Pod[] {
    return [...this.workers.values()].filter((w) => !w.isTerminal).map((w) => w.pod);
  }

  /**
   * The full set of pods bound to this node (after the first list, e.g. on kubelet restart):
   * pods whose containers already run are taken over first (they were admitted before), then
   * the others in creation order; containers of pods not in the set are killed and removed.
   */
  async syncPods(pods: corev1.Pod[]): Promise<void> {
    const known = new Set(pods.map((p) => p.metadata?.uid ?? ''));
    const runningUids = new Set(this.runtime.listContainers().filter((c) => c.state === 'running').map((c) => c.podUid));
    const byAge = [...pods].sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? ''));
    for (const p of byAge) if (runningUids.has(p.metadata?.uid ?? '')) this.updatePod(p);
    for (const p of byAge) if (!runningUids.has(p.metadata?.uid ?? '')) this.updatePod(p);
    await this.removeOrphans(known);
  }

  /** Kills and forgets every container and sandbox whose pod is not in `known`. */
  async removeOrphans(known: Set<string>): Promise<string[]> {
    const orphans = new Set<string>();
    for (const c of this.runtime.listContainers()) if (!known.has(c.podUid)) orphans.add(c.podUid);
    for (const s of this.runtime.listPodSandboxes()) if (!known.has(s.podUid)) orphans.add(s.podUid);
    for (const uid of orphans) {
      this.log.info({ uid }, 'removing the containers of a pod that no longer exists');
      const w = this.workers.get(uid);
      if (w) {
        w.stop();
        this.workers.delete(uid);
      }
      await this.runtime.removePodSandbox(uid);
    }
    return [...orphans];
  }

  /** A pod was added or changed. */
  updatePod(pod: corev1.Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (!uid) return;
    const w = this.workers.get(uid);
    if (w) {
      w.update(pod);
      return;
    }
    if (this.rejected.has(uid)) {
      this.rejected.set(uid, pod);
      if (pod.metadata?.deletionTimestamp) void this.opts.onPodTerminated?.(pod);
      return;
    }
    const existing = this.runtime.listContainers(uid);
    const deps = {
      runtime: this.runtime,
      node: { name: this.opts.node.name, ip: this.opts.node.ip, allocatable: this.opts.node.allocatable },
      statusSink: this.opts.statusSink,
      eventSink: this.events,
      envSource: this.opts.envSource,
      backoff: this.opts.backoff,
      probeSecondMs: this.opts.probeSecondMs,
      resyncMs: this.opts.resyncMs,
      logger: this.log,
      onTerminated: this.opts.onPodTerminated,
    };
    const running = existing.some((c) => c.state === 'running');
    if (!running && TERMINAL.has(pod.status?.phase ?? '')) {
      // Finished before (this kubelet's earlier life, or rejected): nothing to run again.
      const frozen = new PodWorker(pod, deps, existing, true);
      this.workers.set(uid, frozen);
      if (pod.metadata?.deletionTimestamp) frozen.kick();
      return;
    }
    if (existing.length === 0) {
      const verdict = admitPod(pod, this.opts.node.allocatable, this.activePods());
      if (!verdict.admit) {
        this.reject(pod, verdict.reason, verdict.message);
        return;
      }
    }
    const worker = new PodWorker(pod, deps, existing);
    this.workers.set(uid, worker);
    this.log.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, adopted: existing.length }, 'pod worker started');
    worker.update(pod);
  }

  private reject(pod: corev1.Pod, reason: string, message: string): void {
    const ref = podRef(pod);
    this.rejected.set(ref.uid, pod);
    this.log.info({ pod: `${ref.namespace}/${ref.name}`, reason, message }, 'pod rejected');
    this.events.event({ pod: ref, fieldPath: '', type: 'Warning', reason, message, time: Date.now() });
    Promise.resolve(this.opts.statusSink.updatePodStatus(ref, rejectedStatus(pod, reason, message, this.opts.node.ip))).catch((err) =>
      this.log.warn({ err }, 'status update of a rejected pod failed'),
    );
    if (pod.metadata?.deletionTimestamp) void this.opts.onPodTerminated?.(pod);
  }

  /** The uid of the pod namespace/name on this node (optionally only if it has this uid). */
  findPod(namespace: string, name: string, uid?: string): string | undefined {
    for (const w of this.workers.values()) {
      if (w.ref.namespace === namespace && w.ref.name === name && (!uid || w.uid === uid)) return w.uid;
    }
    return undefined;
  }

  /**
   * A container's log, line by line ("\n"-terminated, optionally prefixed with the time):
   * what GetContainerLogs streams. With follow it keeps going until the instance exits or the
   * signal aborts. Throws PodLogError for an unknown pod or container (NOT_FOUND) or an
   * instance that does not exist (FAILED_PRECONDITION).
   */
  async *logs(uid: string, opts: PodLogOptions = {}): AsyncGenerator<string> {
    const w = this.workers.get(uid);
    if (!w) throw new PodLogError('NOT_FOUND', `pod with uid ${uid} is not on node ${this.opts.node.name}`);
    const { init, main } = w.containerNames();
    const name = opts.container || (main.length === 1 && init.length === 0 ? main[0] : '');
    const podName = `${w.ref.namespace}/${w.ref.name}`;
    if (!name) {
      throw new PodLogError('INVALID_ARGUMENT', `a container name must be specified for pod ${podName}, choose one of: [${[...init, ...main].join(' ')}]`);
    }
    if (!init.includes(name) && !main.includes(name)) {
      throw new PodLogError('NOT_FOUND', `container ${name} is not valid for pod ${podName}`);
    }
    const info = w.instance(name, opts.previous);
    if (!info) {
      throw new PodLogError(
        'FAILED_PRECONDITION',
        opts.previous ? `previous terminated container "${name}" in pod "${w.ref.name}" not found` : `container "${name}" in pod "${w.ref.name}" is waiting to start`,
      );
    }
    const files = this.runtime.logFiles(info.id);
    const read = { tailLines: opts.tailLines, timestamps: opts.timestamps, sinceMs: opts.sinceSeconds !== undefined ? Date.now() - opts.sinceSeconds * 1000 : undefined };
    const running = () => this.runtime.containerStatus(info.id)?.state === 'running';
    const lines = opts.follow && files.length > 0 ? followLog(files[files.length - 1], running, { ...read, signal: opts.signal, pollMs: opts.pollMs }) : readLog(files, read);
    let budget = opts.limitBytes ?? Number.POSITIVE_INFINITY;
    for await (const line of lines) {
      budget -= Buffer.byteLength(line);
      if (budget < 0) return;
      yield line;
    }
  }

  /**
   * A pod is gone from the API (deleted, or force-deleted before its containers stopped): stop
   * what still runs with the given grace period (default: the pod's) and forget it, logs too.
   */
  async removePod(uid: string, graceSeconds?: number): Promise<void> {
    this.rejected.delete(uid);
    const w = this.workers.get(uid);
    if (w) {
      await w.terminate(graceSeconds, { notify: false });
      this.workers.delete(uid);
    }
    await this.runtime.removePodSandbox(uid);
  }
}
