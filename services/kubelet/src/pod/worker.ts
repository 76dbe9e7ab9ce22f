// The pod worker: one per pod, bringing the runtime in line with the pod's spec and reporting
// what it sees. Level-triggered: every wake-up (spec update, container exit, probe result,
// back-off timer, periodic resync) runs one `sync`, serialized per pod, that reads the current
// state and converges it:
//
//   1. deletion requested -> stop every container with the grace period, release the sandbox,
//      report the final status, tell the kubelet (onTerminated) so it can finish the deletion;
//   2. the sandbox (pod IP);
//   3. init containers, one after another, each to success (sidecars: started, kept running);
//   4. regular containers: start, restart by restartPolicy with CrashLoopBackOff;
//   5. all containers finished for good -> terminal phase, sandbox released;
//   6. status -> StatusSink (only when changed); events -> EventSink.
//
// Its lifecycle is one state (PodLifecycle: syncing, terminated, terminating, finished), changed
// only by nextLifecycle; each sync does what its state calls for.
//
// Probes run beside it (ProbeWorker per probe per container instance) and wake it when their
// result changes; a failed liveness or startup probe has the container killed and restarted.
import { createHash } from 'crypto';
import type { corev1 } from '@k8ts/api';
import { quantityOf } from '@k8ts/machinery';
import pino, { type Logger } from 'pino';
import { ProbeWorker, type ProbeKind } from '../prober/worker';
import { emptyEnvSource, resolveEnv, type EnvSource } from '../runtime/env';
import { IpamExhaustedError } from '../runtime/ipam';
import { CreateContainerError, ImagePullError, type ContainerInfo, type PodSandbox, type Runtime } from '../runtime/types';
import { Backoff, DEFAULT_BACKOFF, formatGoDuration, type BackoffPolicy } from './backoff';
import { nullEventSink, podRef, type EventSink, type PodRef, type StatusSink } from './sinks';
import { computeConditions, computePhase, isSidecar, KUBELET_CONDITIONS, qosClass } from './status';

/** What a pod worker needs from its kubelet. */
export interface PodWorkerDeps {
  runtime: Runtime;
  node: { name: string; ip: string; allocatable?: { cpuMilli: number; memoryBytes: number } };
  statusSink: StatusSink;
  eventSink?: EventSink;
  envSource?: EnvSource;
  backoff?: BackoffPolicy;
  /** How long one "second" of probe settings lasts (1000; tests shorten it). */
  probeSecondMs?: number;
  /** Periodic re-sync even without events; default 10 s. */
  resyncMs?: number;
  logger?: Logger;
  /** The pod's containers are all gone after a deletion: the kubelet may finish deleting it. */
  onTerminated?: (pod: corev1.Pod) => void | Promise<void>;
}

interface Waiting {
  reason: string;
  message?: string;
}

/** What the worker knows about one container of the pod. */
interface ContainerRecord {
  name: string;
  spec: corev1.Container;
  init: boolean;
  sidecar: boolean;
  /** The latest instance (running or exited). */
  current?: ContainerInfo;
  /** The instance before it, for lastState. */
  previous?: ContainerInfo;
  /** The id of the exited instance whose restart decision was taken. */
  handledExit?: string;
  /** No (re)start before this time (crash back-off). */
  restartAt: number;
  restartDelayMs: number;
  /** No start attempt before this time (pull or config error back-off). */
  retryAt: number;
  /**
   * After a failed pull: when to look again during the back-off, so that the status moves
   * from ErrImagePull to ImagePullBackOff as Kubernetes' does (0: nothing pending).
   */
  pullBackoffShowAt: number;
  /** Why the container is not running, when not the default. */
  waiting?: Waiting;
  /** The BackOff event was sent for this restartAt / retryAt. */
  backoffEventFor?: number;
  started: boolean;
  ready: boolean;
  probes: ProbeWorker[];
  killing?: Promise<unknown>;
  /** Restart without back-off (spec changed, liveness kill decided by us). */
  restartNow?: boolean;
  /** Hash of the spec the current instance was started from. */
  specHash?: string;
  pulledImage?: string;
}

const FALLBACK_GRACE_S = 30;

/** A requested deletion: the grace period of its kills, and whether the kubelet hears of its end. */
interface Deletion {
  graceSeconds: number;
  /** Call onTerminated when done (false: the pod is already gone from the API). */
  notify: boolean;
}

/**
 * Where a pod is in its life, as Kubernetes' pod workers track it (SyncPod, TerminatingPod,
 * TerminatedPod, finished):
 *   syncing     -> containers are run toward the spec;
 *   terminated  -> every container finished for good (terminal phase, sandbox released), or
 *                  the pod had finished before this worker began; only its status is reported;
 *   terminating -> deletion requested: every container is stopped with the grace period
 *                  (`terminalPhase`: the pod's phase is terminal already, or became so once
 *                  its containers were stopped);
 *   finished    -> a deleted pod's containers are gone and the kubelet was told: the worker ends.
 */
type PodLifecycle =
  | { state: 'syncing' }
  | { state: 'terminated' }
  | { state: 'terminating'; deletion: Deletion; terminalPhase: boolean }
  | { state: 'finished'; deletion: Deletion };

/** What moves a pod from one lifecycle state to the next. */
type LifecycleEvent =
  /** Deletion requested; `explicitGrace`: a given grace period may shorten a running one. */
  | { kind: 'deletionRequested'; graceSeconds: number; explicitGrace: boolean; notify: boolean }
  /** Every container stopped for good: the pod's phase is terminal. */
  | { kind: 'containersFinished' }
  /** A deleted pod's containers and sandbox are gone and its last status is reported. */
  | { kind: 'deletionDone' };

/** The one place where the pod lifecycle changes. Events that do not apply leave it as it is. */
function nextLifecycle(from: PodLifecycle, event: LifecycleEvent): PodLifecycle {
  switch (event.kind) {
    case 'deletionRequested': {
      const requested: Deletion = { graceSeconds: event.graceSeconds, notify: event.notify };
      if (from.state === 'syncing') return { state: 'terminating', deletion: requested, terminalPhase: false };
      if (from.state === 'terminated') return { state: 'terminating', deletion: requested, terminalPhase: true };
      // A deletion under way keeps its grace period unless a shorter one is given explicitly;
      // once the kubelet must not be told, it never is.
      const graceSeconds = event.explicitGrace ? Math.min(from.deletion.graceSeconds, event.graceSeconds) : from.deletion.graceSeconds;
      return { ...from, deletion: { graceSeconds, notify: from.deletion.notify && event.notify } };
    }
    case 'containersFinished':
      if (from.state === 'syncing') return { state: 'terminated' };
      if (from.state === 'terminating') return { ...from, terminalPhase: true };
      return from;
    case 'deletionDone':
      return from.state === 'terminating' ? { state: 'finished', deletion: from.deletion } : from;
  }
}

/** The pod's phase is terminal: nothing runs again. */
function isTerminalPhase(lifecycle: PodLifecycle): boolean {
  return lifecycle.state === 'terminated' || lifecycle.state === 'finished' || (lifecycle.state === 'terminating' && lifecycle.terminalPhase);
}

/** The deletion requested for the pod, if any. */
function deletionOf(lifecycle: PodLifecycle): Deletion | undefined {
  return lifecycle.state === 'terminating' || lifecycle.state === 'finished' ? lifecycle.deletion : undefined;
}

/**
 * Runs a sync function serially and level-triggered: a kick while a sync runs causes one more
 * sync after it; a timer kicks it later. It ends when stopped or when `ended` says so.
 */
class SyncLoop {
  private pending = false;
  private running = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly syncOnce: () => Promise<void>,
    private readonly ended: () => boolean,
  ) {}

  kick(): void {
    if (!this.active()) return;
    this.pending = true;
    if (!this.running) void this.run();
  }

  /** A kick at `at` (ms since the epoch), replacing an earlier timer. */
  schedule(at: number): void {
    if (!this.active()) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), Math.max(0, at - Date.now()));
    this.timer.unref?.();
  }

  cancelTimer(): void {
    clearTimeout(this.timer);
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  private active(): boolean {
    return !this.stopped && !this.ended();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.pending && this.active()) {
        this.pending = false;
        await this.syncOnce();
      }
    } finally {
      this.running = false;
    }
  }
}

export class PodWorker {
  pod: corev1.Pod;
  readonly uid: string;
  readonly ref: PodRef;
  private readonly deps: Required<Omit<PodWorkerDeps, 'onTerminated' | 'backoff'>> & Pick<PodWorkerDeps, 'onTerminated'>;
  private readonly log: Logger;
  private readonly recs = new Map<string, ContainerRecord>();
  private readonly crashBackoff: Backoff;
  private readonly retryBackoff: Backoff;
  private sandbox?: PodSandbox;
  private podIP = '';
  private startTime: string;
  private lifecycle: PodLifecycle = { state: 'syncing' };
  /** Every init container completed once: the pod stays initialized. */
  private initialized = false;
  /** False for a pod that had finished before this worker began: nothing of it is reported. */
  private readonly reportsStatus: boolean;
  private readonly loop: SyncLoop;
  private lastSent?: string;
  private lastStatus?: corev1.PodStatus;
  private resolveDone!: () => void;
  /** Resolves once a deleted pod's containers are all gone (after onTerminated). */
  readonly done: Promise<void>;

  /**
   * @param existing the instances the runtime already has for this pod (kubelet restart).
   * @param frozen the pod already finished before (its API status is terminal) and nothing of
   *   it runs: the worker only handles its deletion and reports nothing.
   */
  constructor(pod: corev1.Pod, deps: PodWorkerDeps, existing: ContainerInfo[] = [], frozen = false) {
    this.pod = pod;
    this.uid = pod.metadata?.uid ?? '';
    this.ref = podRef(pod);
    this.deps = {
      runtime: deps.runtime,
      node: deps.node,
      statusSink: deps.statusSink,
      eventSink: deps.eventSink ?? nullEventSink,
      envSource: deps.envSource ?? emptyEnvSource,
      probeSecondMs: deps.probeSecondMs ?? 1000,
      resyncMs: deps.resyncMs ?? 10_000,
      logger: deps.logger ?? pino({ level: 'silent' }),
      onTerminated: deps.onTerminated,
    };
    this.log = this.deps.logger.child({ pod: `${this.ref.namespace}/${this.ref.name}` });
    this.crashBackoff = new Backoff(deps.backoff ?? DEFAULT_BACKOFF);
    this.retryBackoff = new Backoff(deps.backoff ?? DEFAULT_BACKOFF);
    this.startTime = pod.status?.startTime || new Date().toISOString();
    this.done = new Promise((r) => (this.resolveDone = r));
    this.loop = new SyncLoop(
      () => this.syncOrRetry(),
      () => this.lifecycle.state === 'finished',
    );
    this.buildRecs();
    this.adopt(existing);
    this.reportsStatus = !frozen;
    if (frozen) this.lifecycle = { state: 'terminated' };
  }

  // ---- public --------------------------------------------------------------------------

  /** The last status computed (and sent, unless the sink failed). */
  get status(): corev1.PodStatus | undefined {
    return this.lastStatus;
  }

  /** True once every container finished for good (terminal phase) or the pod was stopped. */
  get isTerminal(): boolean {
    return isTerminalPhase(this.lifecycle);
  }

  /** A deletion was requested (the pod is terminating, or finished). */
  private get isDeleting(): boolean {
    return deletionOf(this.lifecycle) !== undefined;
  }

  /** True once the pod's containers are gone for good after deletion. */
  get isFinished(): boolean {
    return this.lifecycle.state === 'finished';
  }

  /**
   * The instance of a container whose logs `logs` shows: the latest one, or with previous the
   * one before it (as kubectl logs --previous).
   */
  instance(container: string, previous = false): ContainerInfo | undefined {
    const rec = this.recs.get(container);
    if (!rec) return undefined;
    const info = previous ? rec.previous : rec.current;
    return info && (this.deps.runtime.containerStatus(info.id) ?? info);
  }

  /** The names of the pod's containers (init containers first). */
  containerNames(): { init: string[]; main: string[] } {
    return { init: this.initRecs().map((r) => r.name), main: this.mainRecs().map((r) => r.name) };
  }

  /** A new version of the pod object (spec, deletionTimestamp). */
  update(pod: corev1.Pod): void {
    this.pod = pod;
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const rec = this.recs.get(c.name ?? '');
      if (rec) rec.spec = c;
    }
    if (pod.metadata?.deletionTimestamp) {
      this.transition({ kind: 'deletionRequested', graceSeconds: gracePeriodSeconds(pod), explicitGrace: false, notify: true });
    }
    this.kick();
  }

  /**
   * The pod is gone from the API (or must go): stop it with this grace period (default: the
   * pod's) and report when done.
   */
  terminate(graceSeconds?: number, opts: { notify?: boolean } = {}): Promise<void> {
    this.transition({
      kind: 'deletionRequested',
      graceSeconds: graceSeconds ?? gracePeriodSeconds(this.pod),
      explicitGrace: graceSeconds !== undefined,
      notify: opts.notify !== false,
    });
    this.kick();
    return this.done;
  }

  /** Wakes the worker for a sync. */
  kick(): void {
    this.loop.kick();
  }

  /** Stops the worker (kubelet shutdown): timers and probes end, containers keep running. */
  stop(): void {
    this.loop.stop();
    for (const rec of this.recs.values()) this.stopProbes(rec);
  }

  // ---- setup ---------------------------------------------------------------------------

  private buildRecs(): void {
    const mk = (spec: corev1.Container, init: boolean): ContainerRecord => ({
      name: spec.name ?? '',
      spec,
      init,
      sidecar: init && isSidecar(spec),
      restartAt: 0,
      restartDelayMs: 0,
      retryAt: 0,
      pullBackoffShowAt: 0,
      started: false,
      ready: false,
      probes: [],
    });
    for (const c of this.pod.spec?.initContainers ?? []) this.recs.set(c.name ?? '', mk(c, true));
    for (const c of this.pod.spec?.containers ?? []) this.recs.set(c.name ?? '', mk(c, false));
  }

  /** Takes over the instances a runtime already has for this pod (kubelet restart). */
  private adopt(existing: ContainerInfo[]): void {
    const sb = this.deps.runtime.getPodSandbox(this.uid);
    if (sb && !sb.stopped) {
      this.sandbox = sb;
      this.podIP = sb.ip;
    } else if (this.pod.status?.podIP) {
      this.podIP = this.pod.status.podIP;
    }
    // Regular containers only ever start after initialization; the API status may say so too.
    const initializedBefore = this.pod.status?.conditions?.some((c) => c.type === 'Initialized' && c.status === 'True');
    if (initializedBefore || existing.some((c) => this.recs.get(c.name)?.init === false)) this.initialized = true;
    for (const rec of this.recs.values()) {
      const mine = existing.filter((c) => c.name === rec.name).sort((a, b) => a.attempt - b.attempt);
      if (mine.length === 0) continue;
      rec.current = mine[mine.length - 1];
      rec.previous = mine.length > 1 ? mine[mine.length - 2] : undefined;
      rec.specHash = specHash(rec.spec);
      rec.pulledImage = rec.spec.image;
      if (rec.current.state === 'running') {
        rec.started = !rec.spec.startupProbe;
        this.startProbes(rec);
      } else {
        // Exited while no kubelet watched: decide about it in the first sync.
        rec.handledExit = undefined;
      }
    }
  }

  // ---- the loop ------------------------------------------------------------------------

  private transition(event: LifecycleEvent): void {
    const next = nextLifecycle(this.lifecycle, event);
    if (next.state !== this.lifecycle.state) this.log.debug({ from: this.lifecycle.state, to: next.state }, 'pod lifecycle');
    this.lifecycle = next;
  }

  /** One sync; a failure is logged and retried soon. */
  private async syncOrRetry(): Promise<void> {
    try {
      await this.sync();
    } catch (err) {
      this.log.error({ err }, 'pod sync failed');
      this.schedule(Date.now() + Math.min(this.deps.resyncMs, 1000));
    }
  }

  private schedule(at: number): void {
    this.loop.schedule(at);
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string, rec?: ContainerRecord): void {
    const fieldPath = rec ? `spec.${rec.init ? 'initContainers' : 'containers'}{${rec.name}}` : '';
    this.deps.eventSink.event({ pod: this.ref, fieldPath, type, reason, message, time: Date.now() });
  }

  /** One sync: what the pod's lifecycle state calls for. */
  private async sync(): Promise<void> {
    this.refreshContainers();
    switch (this.lifecycle.state) {
      case 'terminating':
        return this.syncTerminating(this.lifecycle.deletion);
      case 'terminated':
        return this.publish();
      case 'syncing':
        return this.syncRunning();
      case 'finished':
        return;
    }
  }

  /** The runtime's view of each container's latest instance. */
  private refreshContainers(): void {
    for (const rec of this.recs.values()) {
      if (rec.current) rec.current = this.deps.runtime.containerStatus(rec.current.id) ?? rec.current;
    }
  }

  /** A live pod: sandbox, init containers, then regular ones; finished once nothing runs again. */
  private async syncRunning(): Promise<void> {
    const now = Date.now();
    for (const rec of this.recs.values()) this.noticeExit(rec, now);
    // Finished while no kubelet watched (or just now): no new sandbox for that.
    const finished = this.finishedFor();
    if (finished) return this.finishPod(finished);
    if (!(await this.ensureSandbox())) return;
    if (!this.lastSent) await this.publish();
    if (await this.syncInitContainers(now)) await this.syncRegularContainers(now);
    const done = this.finishedFor();
    if (done) return this.finishPod(done);
    await this.publish();
    this.scheduleNext();
  }

  /** The pod sandbox (and so the pod IP); false when it could not be created (retried later). */
  private async ensureSandbox(): Promise<boolean> {
    if (this.sandbox && !this.sandbox.stopped) return true;
    try {
      this.sandbox = await this.deps.runtime.runPodSandbox({ uid: this.uid, name: this.ref.name, namespace: this.ref.namespace, annotations: this.pod.metadata?.annotations });
      this.podIP = this.sandbox.ip;
      return true;
    } catch (err) {
      const message = (err as Error).message;
      this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${message}`);
      await this.publish();
      this.schedule(Date.now() + (err instanceof IpamExhaustedError ? this.deps.resyncMs : 1000));
      return false;
    }
  }

  /**
   * Init containers, in order, each to success; sidecars are started and kept running. Once
   * the pod is initialized only sidecars are looked after. Returns whether it is initialized.
   */
  private async syncInitContainers(now: number): Promise<boolean> {
    for (const rec of this.initRecs()) {
      if (rec.sidecar) {
        if (rec.current?.state !== 'running') await this.maybeStart(rec, now);
        if (!rec.started && !this.initialized) return false;
        continue;
      }
      if (this.initialized) continue;
      const cur = rec.current;
      if (cur?.state === 'exited' && cur.exitCode === 0) continue;
      if (cur?.state !== 'running') await this.maybeStart(rec, now);
      return false;
    }
    this.initialized = true;
    return true;
  }

  /** Regular containers, in parallel: started, restarted by the restart policy, or on a spec change. */
  private async syncRegularContainers(now: number): Promise<void> {
    const starts: Promise<void>[] = [];
    for (const rec of this.mainRecs()) {
      this.checkSpecChange(rec);
      const cur = rec.current;
      if (cur?.state === 'running' || rec.killing) continue;
      if (cur?.state === 'exited' && !this.shouldRestart(rec, cur)) continue;
      starts.push(this.maybeStart(rec, now));
    }
    await Promise.all(starts);
  }

  /** Why the pod is finished for good (nothing will run again), or undefined. */
  private finishedFor(): string | undefined {
    const stoppedForGood = (r: ContainerRecord) => r.current?.state === 'exited' && !this.shouldRestart(r, r.current) && !r.killing;
    if (!this.initialized && this.initRecs().some((r) => !r.sidecar && stoppedForGood(r) && r.current?.exitCode !== 0)) return 'an init container failed';
    const mains = this.mainRecs();
    if (mains.length > 0 && mains.every(stoppedForGood)) return 'all containers exited';
    return undefined;
  }

  /** The next wake-up: the earliest pending back-off, or the resync period. */
  private scheduleNext(): void {
    const now = Date.now();
    let next = now + this.deps.resyncMs;
    for (const rec of this.recs.values()) {
      for (const t of [rec.restartAt, rec.retryAt, rec.pullBackoffShowAt]) if (t > now && t < next) next = t;
    }
    this.schedule(next);
  }

  private initRecs(): ContainerRecord[] {
    return [...this.recs.values()].filter((r) => r.init);
  }

  private mainRecs(): ContainerRecord[] {
    return [...this.recs.values()].filter((r) => !r.init);
  }

  private shouldRestart(rec: ContainerRecord, info: ContainerInfo): boolean {
    if (rec.sidecar) return true;
    const policy = this.pod.spec?.restartPolicy || 'Always';
    if (rec.init) return info.exitCode !== 0 && policy !== 'Never';
    if (policy === 'Always') return true;
    if (policy === 'OnFailure') return info.exitCode !== 0;
    return false;
  }

  /** An instance exited: stop its probes and decide when it may restart. */
  private noticeExit(rec: ContainerRecord, now: number): void {
    const cur = rec.current;
    if (cur?.state !== 'exited' || rec.handledExit === cur.id) return;
    rec.handledExit = cur.id;
    this.stopProbes(rec);
    rec.started = false;
    rec.ready = false;
    this.log.info({ container: rec.name, exitCode: cur.exitCode, reason: cur.reason, attempt: cur.attempt }, 'container exited');
    if (!this.shouldRestart(rec, cur)) return;
    if (rec.restartNow) {
      rec.restartNow = false;
      rec.restartAt = 0;
      rec.restartDelayMs = 0;
      return;
    }
    const ran = (cur.finishedAt ?? now) - cur.startedAt;
    const delay = this.crashBackoff.onExit(rec.name, ran);
    rec.restartDelayMs = delay;
    rec.restartAt = (cur.finishedAt ?? now) + delay;
  }

  /** A running container whose spec changed (image, command, …) is restarted. */
  private checkSpecChange(rec: ContainerRecord): void {
    const cur = rec.current;
    if (cur?.state !== 'running' || rec.killing || !rec.specHash) return;
    if (rec.specHash === specHash(rec.spec)) return;
    rec.restartNow = true;
    this.kill(rec, `Container ${rec.name} definition changed, will be restarted`, gracePeriodSeconds(this.pod));
  }

  /** Starts the next instance of a container unless a back-off holds it. */
  private async maybeStart(rec: ContainerRecord, now: number): Promise<void> {
    const cur = rec.current;
    if (cur?.state === 'running' || rec.killing) return;
    if (now < rec.restartAt) {
      const message = `back-off ${formatGoDuration(rec.restartDelayMs)} restarting failed container=${rec.name} pod=${this.ref.name}_${this.ref.namespace}(${this.uid})`;
      rec.waiting = { reason: 'CrashLoopBackOff', message };
      if (rec.backoffEventFor !== rec.restartAt) {
        rec.backoffEventFor = rec.restartAt;
        this.event('Warning', 'BackOff', `Back-off restarting failed container ${rec.name} in pod ${this.ref.name}_${this.ref.namespace}(${this.uid})`, rec);
      }
      return;
    }
    if (now < rec.retryAt) {
      if (rec.waiting?.reason === 'ErrImagePull' || rec.waiting?.reason === 'ImagePullBackOff') {
        rec.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image ${JSON.stringify(rec.spec.image)}` };
        if (rec.backoffEventFor !== rec.retryAt) {
          rec.backoffEventFor = rec.retryAt;
          this.event('Normal', 'BackOff', `Back-off pulling image ${JSON.stringify(rec.spec.image)}`, rec);
          this.event('Warning', 'Failed', 'Error: ImagePullBackOff', rec);
        }
      }
      return;
    }
    await this.start(rec);
  }

  private async start(rec: ContainerRecord): Promise<void> {
    const rt = this.deps.runtime;
    const image = rec.spec.image ?? '';
    const retryKey = `retry/${rec.name}`;
    // The image.
    try {
      await rt.pullImage(image);
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      return this.startFailed(rec, 'ErrImagePull', err.message, `Failed to pull image ${JSON.stringify(image)}: ${err.message}`);
    }
    rec.pulledImage = image;
    this.event('Normal', 'Pulled', `Container image ${JSON.stringify(image)} already present on machine`, rec);
    // The environment.
    let env: Record<string, string>;
    try {
      env = await resolveEnv(this.pod, rec.spec, { podIP: this.podIP, hostIP: this.deps.node.ip, nodeName: this.deps.node.name, nodeAllocatable: this.deps.node.allocatable }, this.deps.envSource);
    } catch (err) {
      return this.startFailed(rec, 'CreateContainerConfigError', (err as Error).message);
    }
    // The container.
    const attempt = rec.current ? rec.current.attempt + 1 : 0;
    let info: ContainerInfo;
    try {
      info = await rt.startContainer({
        pod: { uid: this.uid, name: this.ref.name, namespace: this.ref.namespace, annotations: this.pod.metadata?.annotations },
        spec: rec.spec,
        attempt,
        env,
        memoryLimitBytes: quantityOf(rec.spec.resources?.limits?.memory, 'resources.limits[memory]')?.value(),
      });
    } catch (err) {
      if (err instanceof ImagePullError) return this.startFailed(rec, 'ErrImagePull', err.message, `Failed to pull image ${JSON.stringify(image)}: ${err.message}`);
      if (!(err instanceof CreateContainerError)) this.log.error({ err, container: rec.name }, 'runtime failed to start a container');
      return this.startFailed(rec, 'CreateContainerError', (err as Error).message);
    }
    this.retryBackoff.reset(retryKey);
    rec.retryAt = 0;
    rec.waiting = undefined;
    if (rec.current && rec.current.id !== info.id) rec.previous = rec.current;
    rec.current = info;
    rec.specHash = specHash(rec.spec);
    rec.started = false;
    rec.ready = false;
    this.event('Normal', 'Created', `Created container ${rec.name}`, rec);
    if (info.state === 'running') {
      this.event('Normal', 'Started', `Started container ${rec.name}`, rec);
      rec.started = !rec.spec.startupProbe;
      this.startProbes(rec);
    } else {
      this.event('Warning', 'Failed', `Error: ${info.message ?? info.reason}`, rec);
      this.kick();
    }
    this.collectGarbage(rec);
  }

  private startFailed(rec: ContainerRecord, reason: string, message: string, firstEvent?: string): void {
    const delay = this.retryBackoff.onFailure(`retry/${rec.name}`);
    rec.retryAt = Date.now() + delay;
    // ErrImagePull stays for a moment (half the back-off, at most 1 s), then ImagePullBackOff.
    rec.pullBackoffShowAt = reason === 'ErrImagePull' ? Date.now() + Math.min(Math.floor(delay / 2), 1000) : 0;
    rec.waiting = { reason, message };
    if (firstEvent) this.event('Warning', 'Failed', firstEvent, rec);
    this.event('Warning', 'Failed', `Error: ${reason === 'ErrImagePull' ? 'ErrImagePull' : message}`, rec);
    this.log.info({ container: rec.name, reason, message, retryInMs: delay }, 'container not started');
  }

  /** Keeps the current and previous instance of a container; older ones (and their logs) go. */
  private collectGarbage(rec: ContainerRecord): void {
    const keep = new Set([rec.current?.id, rec.previous?.id]);
    for (const c of this.deps.runtime.listContainers(this.uid)) {
      if (c.name === rec.name && c.state === 'exited' && !keep.has(c.id)) {
        this.deps.runtime.removeContainer(c.id).catch((err) => this.log.warn({ err }, 'removing an old container failed'));
      }
    }
  }

  // ---- probes --------------------------------------------------------------------------

  private startProbes(rec: ContainerRecord): void {
    this.stopProbes(rec);
    const cur = rec.current;
    if (cur?.state !== 'running') return;
    const instance = cur.id;
    const kinds: Array<[ProbeKind, corev1.Probe | undefined]> = [
      ['startup', rec.spec.startupProbe],
      ['liveness', rec.spec.livenessProbe],
      ['readiness', rec.spec.readinessProbe],
    ];
    if (!rec.spec.readinessProbe) rec.ready = rec.started;
    for (const [kind, probe] of kinds) {
      if (!probe) continue;
      const label = kind[0].toUpperCase() + kind.slice(1);
      const w = new ProbeWorker({
        kind,
        probe,
        target: { runtime: this.deps.runtime, containerId: instance, podIP: this.podIP, container: rec.spec },
        secondMs: this.deps.probeSecondMs,
        startedAt: cur.startedAt,
        gate: kind === 'startup' ? undefined : () => rec.started && rec.current?.id === instance,
        onAttempt: (o) => {
          if (!o.ok && rec.current?.id === instance && !this.isDeleting) this.event('Warning', 'Unhealthy', `${label} probe failed: ${o.message}`, rec);
        },
        onChange: (ok) => this.onProbeResult(rec, instance, kind, ok, probe),
      });
      rec.probes.push(w);
      w.start();
    }
  }

  private stopProbes(rec: ContainerRecord): void {
    for (const w of rec.probes) w.stop();
    rec.probes = [];
  }

  private onProbeResult(rec: ContainerRecord, instance: string, kind: ProbeKind, ok: boolean, probe: corev1.Probe): void {
    if (rec.current?.id !== instance || this.isDeleting) return;
    this.log.info({ container: rec.name, probe: kind, ok }, 'probe result changed');
    if (kind === 'readiness') {
      rec.ready = ok && rec.started;
    } else if (kind === 'startup' && ok) {
      rec.started = true;
      if (!rec.spec.readinessProbe) rec.ready = true;
    } else if (!ok) {
      // Liveness or startup failed: kill; the restart policy decides about a restart.
      const grace = probe.terminationGracePeriodSeconds ?? gracePeriodSeconds(this.pod, false);
      this.kill(rec, `Container ${rec.name} failed ${kind} probe, will be restarted`, grace);
    }
    this.kick();
  }

  /** Stops the current instance in the background; the sync loop continues meanwhile. */
  private kill(rec: ContainerRecord, message: string, graceSeconds: number): void {
    const cur = rec.current;
    if (cur?.state !== 'running' || rec.killing) return;
    this.stopProbes(rec);
    rec.ready = false;
    this.event('Normal', 'Killing', message, rec);
    rec.killing = this.deps.runtime
      .stopContainer(cur.id, graceSeconds * 1000)
      .catch((err) => this.log.error({ err, container: rec.name }, 'stopping container failed'))
      .finally(() => {
        rec.killing = undefined;
        this.kick();
      });
  }

  // ---- the end -------------------------------------------------------------------------

  /** Every container finished for good: stop sidecars, release the sandbox, report. */
  private async finishPod(why: string): Promise<void> {
    this.log.info({ why }, 'pod finished');
    const grace = gracePeriodSeconds(this.pod, false);
    await Promise.all(
      [...this.recs.values()].map(async (rec) => {
        this.stopProbes(rec);
        if (rec.current?.state === 'running') {
          this.event('Normal', 'Killing', `Stopping container ${rec.name}`, rec);
          await this.deps.runtime.stopContainer(rec.current.id, grace * 1000);
          rec.current = this.deps.runtime.containerStatus(rec.current.id) ?? rec.current;
        }
        rec.ready = false;
      }),
    );
    this.transition({ kind: 'containersFinished' });
    await this.deps.runtime.stopPodSandbox(this.uid);
    await this.publish();
  }

  /** Deletion: stop everything with the grace period, then report done. */
  private async syncTerminating(deletion: Deletion): Promise<void> {
    const grace = deletion.graceSeconds;
    const recs = [...this.recs.values()];
    for (const rec of recs) {
      this.stopProbes(rec);
      rec.ready = false;
    }
    await this.publish();
    const stopAll = async (list: ContainerRecord[]) =>
      Promise.all(
        list.map(async (rec) => {
          if (rec.killing) await rec.killing;
          const cur = rec.current ? (this.deps.runtime.containerStatus(rec.current.id) ?? rec.current) : undefined;
          if (cur?.state === 'running') {
            this.event('Normal', 'Killing', `Stopping container ${rec.name}`, rec);
            await this.deps.runtime.stopContainer(cur.id, grace * 1000);
          }
          if (rec.current) rec.current = this.deps.runtime.containerStatus(rec.current.id) ?? rec.current;
          rec.waiting = undefined;
          rec.restartAt = 0;
        }),
      );
    // Regular containers first, then sidecars (they serve the others until the end).
    await stopAll(recs.filter((r) => !r.init));
    await stopAll(recs.filter((r) => r.init));
    await this.deps.runtime.stopPodSandbox(this.uid);
    this.transition({ kind: 'containersFinished' });
    await this.publish();
    this.transition({ kind: 'deletionDone' });
    this.loop.cancelTimer();
    this.log.info('pod terminated');
    try {
      // Read now: a later terminate() may have said the kubelet must not be told.
      if (deletionOf(this.lifecycle)?.notify !== false) await this.deps.onTerminated?.(this.pod);
    } finally {
      this.resolveDone();
    }
  }

  // ---- status --------------------------------------------------------------------------

  private containerStatus(rec: ContainerRecord, initDone: boolean, now: number): corev1.ContainerStatus {
    const rt = this.deps.runtime.type;
    const cur = rec.current;
    const s: corev1.ContainerStatus = {
      name: rec.name,
      image: rec.spec.image ?? '',
      imageID: cur?.imageId ?? '',
      containerID: cur ? `${rt}://${cur.id}` : '',
      restartCount: cur?.attempt ?? 0,
      ready: false,
      started: false,
    };
    if (!cur) {
      const fallback = !rec.init && !initDone ? 'PodInitializing' : 'ContainerCreating';
      s.state = { waiting: waitingState(rec.waiting ?? { reason: fallback }) };
      return s;
    }
    if (cur.state === 'running') {
      s.state = { running: { startedAt: iso(cur.startedAt) } };
      if (rec.previous) s.lastState = { terminated: terminatedState(rec.previous, rt) };
      s.ready = rec.ready && !this.isDeleting;
      s.started = rec.started;
      return s;
    }
    const restarting = !this.isTerminal && !this.isDeleting && this.shouldRestart(rec, cur);
    if (restarting) {
      const waiting = rec.waiting ?? (now < rec.restartAt ? { reason: 'CrashLoopBackOff' } : { reason: 'ContainerCreating' });
      s.state = { waiting: waitingState(waiting) };
      s.lastState = { terminated: terminatedState(cur, rt) };
    } else {
      s.state = { terminated: terminatedState(cur, rt) };
      if (rec.previous) s.lastState = { terminated: terminatedState(rec.previous, rt) };
    }
    return s;
  }

  /** The pod's status as of now. */
  computeStatus(now = Date.now()): corev1.PodStatus {
    const initRecs = this.initRecs();
    const initDone = this.initialized || initRecs.every((r) => (r.sidecar ? r.started : r.current?.state === 'exited' && r.current.exitCode === 0));
    const init = initRecs.map((r) => this.containerStatus(r, initDone, now));
    const containers = this.mainRecs().map((r) => this.containerStatus(r, initDone, now));
    const spec = this.pod.spec;
    const phase = computePhase(spec, init, containers, this.isTerminal, this.initialized);
    const hostIP = this.deps.node.ip;
    const status: corev1.PodStatus = {
      phase,
      conditions: computeConditions({
        spec,
        // Ours from what we reported; the others (readiness gates) from the latest pod object.
        previous: [
          ...(this.lastStatus?.conditions ?? this.pod.status?.conditions ?? []).filter((c) => KUBELET_CONDITIONS.has(c.type ?? '')),
          ...(this.pod.status?.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type ?? '')),
        ],
        initialized: this.initialized,
        init,
        containers,
        phase,
        sandboxReady: !!this.sandbox && !this.sandbox.stopped && !this.isTerminal,
        now,
        generation: this.pod.metadata?.generation,
      }),
      hostIP,
      hostIPs: hostIP ? [{ ip: hostIP }] : [],
      podIP: this.podIP,
      podIPs: this.podIP ? [{ ip: this.podIP }] : [],
      startTime: this.startTime,
      initContainerStatuses: init,
      containerStatuses: containers,
      qosClass: qosClass(spec),
    };
    if (this.pod.metadata?.generation) status.observedGeneration = this.pod.metadata.generation;
    return status;
  }

  private async publish(): Promise<void> {
    if (!this.reportsStatus) return;
    const status = this.computeStatus();
    this.lastStatus = status;
    const text = JSON.stringify(status);
    if (text === this.lastSent) return;
    try {
      await this.deps.statusSink.updatePodStatus(this.ref, status);
      this.lastSent = text;
    } catch (err) {
      this.log.warn({ err }, 'status update failed; will retry');
      this.schedule(Date.now() + Math.min(this.deps.resyncMs, 1000));
    }
  }
}

/** The grace period of a pod's deletion (or of its spec when not being deleted). */
export function gracePeriodSeconds(pod: corev1.Pod, deletion = true): number {
  const fromDeletion = deletion ? pod.metadata?.deletionGracePeriodSeconds : undefined;
  return Math.max(0, fromDeletion ?? pod.spec?.terminationGracePeriodSeconds ?? FALLBACK_GRACE_S);
}

function specHash(c: corev1.Container): string {
  // What a running container was started from; probes and resources changes do not restart it.
  const { name, image, command, args, workingDir, env, envFrom, ports } = c;
  return createHash('sha256').update(JSON.stringify({ name, image, command, args, workingDir, env, envFrom, ports })).digest('hex').slice(0, 16);
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function waitingState(w: Waiting): corev1.ContainerStateWaiting {
  return w.message ? { reason: w.reason, message: w.message } : { reason: w.reason };
}

function terminatedState(info: ContainerInfo, runtimeType: string): corev1.ContainerStateTerminated {
  const t: corev1.ContainerStateTerminated = {
    exitCode: info.exitCode ?? 0,
    reason: info.reason ?? (info.exitCode === 0 ? 'Completed' : 'Error'),
    startedAt: iso(info.startedAt),
    finishedAt: iso(info.finishedAt),
    containerID: `${runtimeType}://${info.id}`,
  };
  if (info.signal) t.signal = info.signal;
  if (info.message) t.message = info.message;
  return t;
}
