// The pod lifecycle engine over the sim runtime: no processes, so this runs as a unit test and
// exercises the worker's logic (phases, restarts, back-off, deletion, admission) at speed.
import type { corev1 } from '@k8ts/api';
import { PodManager } from '../src/pod/manager';
import type { PodEvent, PodRef, StatusSink } from '../src/pod/sinks';
import { SIM_EXIT_CODE, SIM_RUN_SECONDS, SimRuntime } from '../src/runtime/sim';

class Sink implements StatusSink {
  readonly latest = new Map<string, corev1.PodStatus>();
  readonly counts = new Map<string, number>();
  /** Every waiting reason a pod's first container has shown (states can be brief). */
  readonly waitingSeen = new Map<string, Set<string>>();
  updatePodStatus(pod: PodRef, status: corev1.PodStatus): void {
    this.latest.set(pod.uid, status);
    const reason = status.containerStatuses?.[0]?.state?.waiting?.reason;
    if (reason) {
      const seen = this.waitingSeen.get(pod.uid) ?? new Set<string>();
      seen.add(reason);
      this.waitingSeen.set(pod.uid, seen);
    }
    this.counts.set(pod.uid, (this.counts.get(pod.uid) ?? 0) + 1);
  }
}

let manager: PodManager;
let sink: Sink;
let events: PodEvent[];
let terminated: string[];
let runtime: SimRuntime;

beforeEach(async () => {
  sink = new Sink();
  events = [];
  terminated = [];
  runtime = new SimRuntime({ podCIDR: '127.244.9.0/24', startDelayMs: 5 });
  manager = new PodManager({
    node: { name: 'sim-1', ip: '127.10.9.1', allocatable: { cpuMilli: 4000, memoryBytes: 2 ** 33, pods: 1000 } },
    runtime,
    statusSink: sink,
    eventSink: { event: (e) => events.push(e) },
    backoff: { baseMs: 20, capMs: 80, resetAfterMs: 60_000 },
    probeSecondMs: 10,
    resyncMs: 200,
    onPodTerminated: (p) => {
      terminated.push(p.metadata!.uid!);
    },
  });
  await manager.start();
});
afterEach(() => manager.stop());

let n = 0;
function pod(name: string, spec: Partial<corev1.PodSpec>, annotations: Record<string, string> = {}): corev1.Pod {
  n++;
  return {
    metadata: { name, namespace: 'sim', uid: `uid-${name}-${n}`, annotations, creationTimestamp: new Date(Date.now() + n).toISOString() },
    spec: { nodeName: 'sim-1', restartPolicy: 'Always', containers: [{ name: 'c', image: 'k8ts/pause' }], ...spec },
  };
}

async function until<T>(fn: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const statusOf = (p: corev1.Pod) => sink.latest.get(p.metadata!.uid!);
const phase = (p: corev1.Pod, want: string) => until(() => statusOf(p)?.phase === want && statusOf(p), `${p.metadata!.name} ${want}`);

describe('pods on a simulated node', () => {
  it('go Pending -> Running with a pod IP, probes simulated as passing', async () => {
    const p = pod('web', {
      containers: [{ name: 'c', image: 'k8ts/echo', readinessProbe: { httpGet: { port: { intVal: 80 } }, periodSeconds: 1 }, livenessProbe: { exec: { command: ['x'] } } }],
    });
    manager.updatePod(p);
    const s = await until(() => statusOf(p)?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && statusOf(p), 'Ready');
    expect(s.phase).toBe('Running');
    expect(s.podIP).toMatch(/^127\.244\.9\.\d+$/);
    expect(s.containerStatuses![0].containerID).toMatch(/^sim:\/\//);
    expect(events.filter((e) => e.pod.uid === p.metadata!.uid).map((e) => e.reason)).toEqual(['Pulled', 'Created', 'Started']);
  });

  it('finish Succeeded when the pod says they run for a while (restartPolicy Never)', async () => {
    const p = pod('job', { restartPolicy: 'Never' }, { [SIM_RUN_SECONDS]: '0.05' });
    manager.updatePod(p);
    const s = await phase(p, 'Succeeded');
    expect(s.containerStatuses![0].state!.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    // The sandbox is gone, the IP stays in the status.
    expect(runtime.getPodSandbox(p.metadata!.uid!)!.stopped).toBe(true);
    expect(s.podIP).toBeTruthy();
  });

  it('restart failing containers by policy with growing back-off (sim-fail image, OnFailure)', async () => {
    const p = pod('flaky', { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'k8ts/sim-fail' }] }, { [SIM_RUN_SECONDS]: '0.01' });
    manager.updatePod(p);
    const s = await until(() => (statusOf(p)?.containerStatuses?.[0].restartCount ?? 0) >= 4 && statusOf(p), 'restarts');
    expect(s.phase).toBe('Running');
    expect(s.containerStatuses![0].lastState!.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    const backoffs = events.filter((e) => e.pod.uid === p.metadata!.uid && e.reason === 'BackOff');
    expect(backoffs.length).toBeGreaterThanOrEqual(2);
  });

  it('fail with the exit code the pod asks for (Never)', async () => {
    const p = pod('crash', { restartPolicy: 'Never' }, { [`${SIM_RUN_SECONDS}.c`]: '0.01', [`${SIM_EXIT_CODE}.c`]: '3' });
    manager.updatePod(p);
    const s = await phase(p, 'Failed');
    expect(s.containerStatuses![0].state!.terminated!.exitCode).toBe(3);
  });

  it('run init containers first', async () => {
    const p = pod('init', { initContainers: [{ name: 'i', image: 'k8ts/sim-exit' }] }, { [`${SIM_RUN_SECONDS}.i`]: '0.02' });
    manager.updatePod(p);
    const s = await phase(p, 'Running');
    expect(s.initContainerStatuses![0].state!.terminated!.reason).toBe('Completed');
    const started = events.filter((e) => e.pod.uid === p.metadata!.uid && e.reason === 'Started').map((e) => e.fieldPath);
    expect(started).toEqual(['spec.initContainers{i}', 'spec.containers{c}']);
  });

  it('wait in ErrImagePull / ImagePullBackOff for missing images', async () => {
    const p = pod('img', { containers: [{ name: 'c', image: 'example/missing:1' }] });
    manager.updatePod(p);
    // The two alternate (a pull fails, back-off, the next pull fails): each lasts only as long
    // as the short test back-off, so look at every status posted, not at the latest alone.
    const seen = () => sink.waitingSeen.get(p.metadata!.uid!) ?? new Set<string>();
    await until(() => seen().has('ErrImagePull') && seen().has('ImagePullBackOff'), 'ErrImagePull and ImagePullBackOff', 10_000);
    expect(statusOf(p)?.phase ?? 'Pending').toBe('Pending');
  }, 15_000);

  it('are stopped on deletion and reported terminated', async () => {
    const p = pod('doomed', {});
    manager.updatePod(p);
    await phase(p, 'Running');
    manager.updatePod({ ...p, metadata: { ...p.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 1 } });
    await until(() => terminated.includes(p.metadata!.uid!), 'terminated');
    expect(statusOf(p)!.containerStatuses![0].state!.terminated).toBeTruthy();
    expect(events.some((e) => e.pod.uid === p.metadata!.uid && e.reason === 'Killing' && e.message === 'Stopping container c')).toBe(true);
    await manager.removePod(p.metadata!.uid!);
    expect(runtime.listContainers(p.metadata!.uid!)).toEqual([]);
  });

  it('a deleted pod that never ran here is reported terminated at once; a refused one too', async () => {
    const p = pod('gone', {});
    manager.updatePod({ ...p, metadata: { ...p.metadata, deletionTimestamp: new Date().toISOString() } });
    await until(() => terminated.includes(p.metadata!.uid!), 'terminated');
    const big = pod('big', { containers: [{ name: 'c', image: 'k8ts/pause', resources: { requests: { cpu: { value: '5' } } } }] });
    manager.updatePod(big);
    await phase(big, 'Failed');
    expect(statusOf(big)!.reason).toBe('OutOfcpu');
    manager.updatePod({ ...big, metadata: { ...big.metadata, deletionTimestamp: new Date().toISOString() } });
    await until(() => terminated.includes(big.metadata!.uid!), 'terminated');
  });

  it('report a status only when it changed', async () => {
    const p = pod('quiet', {});
    manager.updatePod(p);
    await phase(p, 'Running');
    const count = sink.counts.get(p.metadata!.uid!)!;
    await new Promise((r) => setTimeout(r, 450)); // two resyncs
    expect(sink.counts.get(p.metadata!.uid!)).toBe(count);
  });

  it('run hundreds of pods, each with its own IP', async () => {
    const pods = Array.from({ length: 200 }, (_, i) => pod(`many-${i}`, {}));
    for (const p of pods) manager.updatePod(p);
    await until(() => pods.every((p) => statusOf(p)?.phase === 'Running'), 'all Running', 20_000);
    const ips = new Set(pods.map((p) => statusOf(p)!.podIP));
    expect(ips.size).toBe(200);
  });

  it('start sidecars (restartable init containers) first and keep them running; a sidecar restart keeps the pod Running', async () => {
    const p = pod(
      'sidecar',
      { initContainers: [{ name: 'proxy', image: 'k8ts/pause', restartPolicy: 'Always' }], containers: [{ name: 'c', image: 'k8ts/pause' }] },
      { [`${SIM_RUN_SECONDS}.proxy`]: '0.1' },
    );
    manager.updatePod(p);
    await phase(p, 'Running');
    const started = events.filter((e) => e.pod.uid === p.metadata!.uid && e.reason === 'Started').map((e) => e.fieldPath);
    expect(started.slice(0, 2)).toEqual(['spec.initContainers{proxy}', 'spec.containers{c}']);
    // The sidecar exits after 0.1 s and is restarted; the pod stays Running and Initialized.
    await until(() => (statusOf(p)?.initContainerStatuses?.[0].restartCount ?? 0) >= 2 && statusOf(p), 'sidecar restarts');
    const history: string[] = [];
    for (let i = 0; i < 20; i++) {
      history.push(`${statusOf(p)!.phase}/${statusOf(p)!.conditions!.find((c) => c.type === 'Initialized')!.status}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(new Set(history)).toEqual(new Set(['Running/True']));
    expect(statusOf(p)!.containerStatuses![0].restartCount).toBe(0);
  });

  it('restart a container whose spec changed', async () => {
    const p = pod('changing', {});
    manager.updatePod(p);
    await phase(p, 'Running');
    const first = statusOf(p)!.containerStatuses![0].containerID;
    manager.updatePod({ ...p, spec: { ...p.spec, containers: [{ name: 'c', image: 'k8ts/pause:2' }] } });
    const s = await until(() => statusOf(p)?.containerStatuses?.[0].containerID !== first && statusOf(p)?.containerStatuses?.[0].state?.running && statusOf(p), 'restart');
    expect(s.containerStatuses![0]).toMatchObject({ image: 'k8ts/pause:2', restartCount: 1 });
    const killing = events.filter((e) => e.pod.uid === p.metadata!.uid && e.reason === 'Killing').map((e) => e.message);
    expect(killing).toEqual(['Container c definition changed, will be restarted']);
  });

  it('honor readiness gates set through the API', async () => {
    const p = pod('gated', { readinessGates: [{ conditionType: 'example.com/ready' }] });
    manager.updatePod(p);
    const s = await phase(p, 'Running');
    await until(() => statusOf(p)?.conditions?.find((c) => c.type === 'ContainersReady')?.status === 'True', 'containers ready');
    expect(statusOf(p)!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady' });
    // Another component sets the gate's condition on the pod; the informer delivers the update.
    const conditions = [...(s.conditions ?? []), { type: 'example.com/ready', status: 'True' }];
    manager.updatePod({ ...p, status: { ...s, conditions } });
    await until(() => statusOf(p)?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 'Ready');
  });
});
