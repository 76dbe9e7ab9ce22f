// The `sim` runtime: no processes. Containers go from created to running after a delay and,
// when the pod says so, exit after a while: a simulated node for scale work (thousands of
// pods on one kubelet process). Pod IPs come from the pod CIDR like the process runtime's.
//
// Behaviour is read from the pod's annotations (per container: suffix ".<container>"):
//   sim.k8ts.io/run-seconds       exit after running this long (default: run forever; 1 s for
//                                 the images k8ts/sim-exit and k8ts/sim-fail)
//   sim.k8ts.io/exit-code         the exit code then (default 0; 1 for k8ts/sim-fail)
// Images whose name contains "missing", "nonexistent" or "does-not-exist" fail to pull.
// Probes always succeed. State lives in memory: a restarted sim node starts empty.
import { IpAllocator } from './ipam';
import {
  CreateContainerError,
  ImagePullError,
  type ContainerConfig,
  type ContainerEvent,
  type ContainerInfo,
  type ExecResult,
  type ImageRef,
  type PodSandbox,
  type PodSandboxConfig,
  type Runtime,
  type SimulatedProbe,
} from './types';

export interface SimRuntimeOptions {
  podCIDR: string;
  /** Persist IP allocations here; default in memory. */
  ipamDir?: string;
  /** Time from start to running; default 50 ms. */
  startDelayMs?: number;
  /** Time a graceful stop takes (bounded by the grace period); default 0. */
  stopDelayMs?: number;
  /** Time an image pull takes; default 0. */
  pullDelayMs?: number;
  /** Which images fail to pull. */
  missingImage?: (image: string) => boolean;
}

export const SIM_RUN_SECONDS = 'sim.k8ts.io/run-seconds';
export const SIM_EXIT_CODE = 'sim.k8ts.io/exit-code';

const defaultMissing = (image: string) => /missing|nonexistent|does-not-exist/.test(image) || image === '';

interface SimRec {
  info: ContainerInfo;
  timer?: NodeJS.Timeout;
  exited: Promise<void>;
  resolveExited: () => void;
}

export class SimRuntime implements Runtime {
  readonly type = 'sim';
  readonly version = '0.1.0';
  private readonly ipam: IpAllocator;
  private readonly sandboxes = new Map<string, PodSandbox>();
  private readonly recs = new Map<string, SimRec>();
  private readonly listeners = new Set<(e: ContainerEvent) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private seq = 0;

  constructor(private readonly opts: SimRuntimeOptions) {
    this.ipam = new IpAllocator(opts.podCIDR, opts.ipamDir);
  }

  async init(): Promise<void> {}

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const r of this.recs.values()) clearTimeout(r.timer);
    this.listeners.clear();
  }

  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  async runPodSandbox(pod: PodSandboxConfig): Promise<PodSandbox> {
    const existing = this.sandboxes.get(pod.uid);
    if (existing && !existing.stopped) return { ...existing };
    const sb: PodSandbox = { podUid: pod.uid, name: pod.name, namespace: pod.namespace, ip: this.ipam.allocate(pod.uid), createdAt: Date.now(), stopped: false };
    this.sandboxes.set(pod.uid, sb);
    return { ...sb };
  }

  getPodSandbox(podUid: string): PodSandbox | undefined {
    const sb = this.sandboxes.get(podUid);
    return sb && { ...sb };
  }

  listPodSandboxes(): PodSandbox[] {
    return [...this.sandboxes.values()].map((s) => ({ ...s }));
  }

  async stopPodSandbox(podUid: string): Promise<void> {
    for (const c of this.listContainers(podUid)) if (c.state === 'running') await this.stopContainer(c.id, 0);
    this.ipam.release(podUid);
    const sb = this.sandboxes.get(podUid);
    if (sb) Object.assign(sb, { stopped: true, ip: '' });
  }

  async removePodSandbox(podUid: string): Promise<void> {
    await this.stopPodSandbox(podUid);
    for (const c of this.listContainers(podUid)) this.recs.delete(c.id);
    this.sandboxes.delete(podUid);
  }

  async pullImage(image: string): Promise<ImageRef> {
    await this.delay(this.opts.pullDelayMs ?? 0);
    if ((this.opts.missingImage ?? defaultMissing)(image)) {
      throw new ImagePullError(image, `image ${JSON.stringify(image)} does not exist on the simulated registry`);
    }
    return { image, imageId: `sim://${image}` };
  }

  async startContainer(cfg: ContainerConfig): Promise<ContainerInfo> {
    const sb = this.sandboxes.get(cfg.pod.uid);
    if (!sb || sb.stopped) throw new CreateContainerError(`pod ${cfg.pod.namespace}/${cfg.pod.name} has no running sandbox`);
    const image = cfg.spec.image ?? '';
    const ref = await this.pullImage(image);
    await this.delay(this.opts.startDelayMs ?? 50);
    const name = cfg.spec.name ?? '';
    const now = Date.now();
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));
    const info: ContainerInfo = {
      id: `${(++this.seq).toString(16).padStart(8, '0')}${cfg.pod.uid.replace(/-/g, '').slice(0, 8)}`,
      podUid: cfg.pod.uid,
      podName: cfg.pod.name,
      podNamespace: cfg.pod.namespace,
      name,
      attempt: cfg.attempt,
      image,
      imageId: ref.imageId,
      state: 'running',
      createdAt: now,
      startedAt: now,
      logPath: '',
    };
    const rec: SimRec = { info, exited, resolveExited };
    this.recs.set(info.id, rec);
    const ann = cfg.pod.annotations ?? {};
    const pick = (key: string) => ann[`${key}.${name}`] ?? ann[key];
    const finite = /^k8ts\/sim-(exit|fail)(:|$)/.test(image);
    const runSeconds = pick(SIM_RUN_SECONDS) ?? (finite ? '1' : undefined);
    if (runSeconds !== undefined) {
      const code = Number(pick(SIM_EXIT_CODE) ?? (image.startsWith('k8ts/sim-fail') ? 1 : 0));
      rec.timer = setTimeout(() => this.exit(rec, code), Number(runSeconds) * 1000);
    }
    this.emit({ type: 'started', container: { ...info } });
    return { ...info };
  }

  private exit(rec: SimRec, exitCode: number): void {
    if (rec.info.state === 'exited') return;
    clearTimeout(rec.timer);
    Object.assign(rec.info, { state: 'exited', exitCode, finishedAt: Date.now(), reason: exitCode === 0 ? 'Completed' : 'Error' });
    rec.resolveExited();
    this.emit({ type: 'exited', container: { ...rec.info } });
  }

  async stopContainer(id: string, gracePeriodMs: number): Promise<ContainerInfo | undefined> {
    const rec = this.recs.get(id);
    if (!rec) return undefined;
    if (rec.info.state === 'running') {
      const stopDelay = this.opts.stopDelayMs ?? 0;
      if (gracePeriodMs <= 0) this.exit(rec, 137);
      else {
        await this.delay(Math.min(stopDelay, gracePeriodMs));
        this.exit(rec, stopDelay > gracePeriodMs ? 137 : 0);
      }
    }
    return { ...rec.info };
  }

  async removeContainer(id: string): Promise<void> {
    this.recs.delete(id);
  }

  listContainers(podUid?: string): ContainerInfo[] {
    const out: ContainerInfo[] = [];
    for (const r of this.recs.values()) if (!podUid || r.info.podUid === podUid) out.push({ ...r.info });
    return out;
  }

  containerStatus(id: string): ContainerInfo | undefined {
    const r = this.recs.get(id);
    return r && { ...r.info };
  }

  async exec(): Promise<ExecResult> {
    return { exitCode: 0, output: '', timedOut: false };
  }

  logFiles(): string[] {
    return [];
  }

  onContainerEvent(listener: (event: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: ContainerEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  simulateProbe(): SimulatedProbe {
    return { ok: true, message: '' };
  }
}
