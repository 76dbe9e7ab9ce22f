import type { corev1 } from '@k8ts/api';
import { computeConditions, computePhase, pendingInitContainers, qosClass } from '../src/pod/status';

const running = (name: string, extra: Partial<corev1.ContainerStatus> = {}): corev1.ContainerStatus => ({
  name,
  state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
  ready: true,
  started: true,
  ...extra,
});
const terminated = (name: string, exitCode: number): corev1.ContainerStatus => ({ name, state: { terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed' } } });
const waiting = (name: string, reason = 'ContainerCreating'): corev1.ContainerStatus => ({ name, state: { waiting: { reason } } });
const crashLooping = (name: string, exitCode = 1): corev1.ContainerStatus => ({
  name,
  state: { waiting: { reason: 'CrashLoopBackOff' } },
  lastState: { terminated: { exitCode } },
});
const spec = (policy: string, containers: string[], init: Array<string | [string, 'sidecar']> = []): corev1.PodSpec => ({
  restartPolicy: policy,
  containers: containers.map((name) => ({ name })),
  initContainers: init.map((i) => (Array.isArray(i) ? { name: i[0], restartPolicy: 'Always' } : { name: i })),
});

describe('pod phase', () => {
  it('is Pending while containers are created', () => {
    expect(computePhase(spec('Always', ['a', 'b']), [], [running('a'), waiting('b')])).toBe('Pending');
    expect(computePhase(spec('Always', ['a']), [], [])).toBe('Pending');
  });

  it('is Running once every container was created and one runs', () => {
    expect(computePhase(spec('Always', ['a', 'b']), [], [running('a'), running('b')])).toBe('Running');
    expect(computePhase(spec('Always', ['a', 'b']), [], [running('a'), crashLooping('b')])).toBe('Running');
    expect(computePhase(spec('Never', ['a', 'b']), [], [running('a'), terminated('b', 1)])).toBe('Running');
  });

  it('follows the restart policy once every container stopped', () => {
    const stopped = [terminated('a', 0), terminated('b', 1)];
    expect(computePhase(spec('Always', ['a', 'b']), [], stopped)).toBe('Running');
    expect(computePhase(spec('OnFailure', ['a', 'b']), [], stopped)).toBe('Running');
    expect(computePhase(spec('Never', ['a', 'b']), [], stopped)).toBe('Failed');
    expect(computePhase(spec('OnFailure', ['a']), [], [terminated('a', 0)])).toBe('Succeeded');
    expect(computePhase(spec('Never', ['a']), [], [terminated('a', 0)])).toBe('Succeeded');
  });

  it('is terminal once the kubelet stopped the pod for good', () => {
    expect(computePhase(spec('Always', ['a']), [], [terminated('a', 0)], true)).toBe('Succeeded');
    expect(computePhase(spec('Always', ['a', 'b']), [], [terminated('a', 0), terminated('b', 137)], true)).toBe('Failed');
  });

  it('is Pending during initialization, Failed when an init container fails with Never', () => {
    const s = spec('Never', ['main'], ['init1', 'init2']);
    expect(computePhase(s, [terminated('init1', 0), running('init2')], [waiting('main', 'PodInitializing')])).toBe('Pending');
    expect(computePhase(s, [terminated('init1', 1)], [waiting('main', 'PodInitializing')])).toBe('Failed');
    const always = spec('Always', ['main'], ['init1']);
    expect(computePhase(always, [crashLooping('init1')], [waiting('main', 'PodInitializing')])).toBe('Pending');
    expect(computePhase(always, [terminated('init1', 0)], [running('main')])).toBe('Running');
  });

  it('waits for sidecars to have started', () => {
    const s = spec('Always', ['main'], [['proxy', 'sidecar']]);
    expect(computePhase(s, [running('proxy', { started: false })], [waiting('main', 'PodInitializing')])).toBe('Pending');
    expect(computePhase(s, [running('proxy')], [running('main')])).toBe('Running');
    expect(pendingInitContainers(s, [running('proxy', { started: false })])).toEqual(['proxy']);
  });
});

describe('pod conditions', () => {
  const now = Date.UTC(2026, 0, 1, 12);
  const base = { sandboxReady: true, now, previous: undefined };

  it('are all True for a ready pod, in Kubernetes order', () => {
    const c = computeConditions({ ...base, spec: spec('Always', ['a']), init: [], containers: [running('a')], phase: 'Running' });
    expect(c.map((x) => [x.type, x.status])).toEqual([
      ['PodReadyToStartContainers', 'True'],
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
      ['PodScheduled', 'True'],
    ]);
    expect(c.every((x) => x.lastTransitionTime === '2026-01-01T12:00:00.000Z')).toBe(true);
  });

  it('name the unready and uninitialized containers', () => {
    const c = computeConditions({ ...base, spec: spec('Always', ['a', 'b'], ['i']), init: [running('i')], containers: [waiting('a'), waiting('b')], phase: 'Pending' });
    expect(c.find((x) => x.type === 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [i]' });
    const r = computeConditions({ ...base, spec: spec('Always', ['a', 'b']), init: [], containers: [running('a'), running('b', { ready: false })], phase: 'Running' });
    expect(r.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [b]' });
  });

  it('keep transition times while their status holds', () => {
    const first = computeConditions({ ...base, spec: spec('Always', ['a']), init: [], containers: [running('a')], phase: 'Running' });
    const later = computeConditions({ ...base, now: now + 60_000, previous: first, spec: spec('Always', ['a']), init: [], containers: [running('a', { ready: false })], phase: 'Running' });
    expect(later.find((x) => x.type === 'Initialized')!.lastTransitionTime).toBe('2026-01-01T12:00:00.000Z');
    expect(later.find((x) => x.type === 'Ready')!.lastTransitionTime).toBe('2026-01-01T12:01:00.000Z');
  });

  it('report PodCompleted for finished pods', () => {
    const c = computeConditions({ ...base, spec: spec('Never', ['a']), init: [], containers: [terminated('a', 0)], phase: 'Succeeded' });
    expect(c.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  it('honor readiness gates and carry over conditions set by others', () => {
    const s = { ...spec('Always', ['a']), readinessGates: [{ conditionType: 'example.com/lb' }] };
    const missing = computeConditions({ ...base, spec: s, init: [], containers: [running('a')], phase: 'Running' });
    expect(missing.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady' });
    const previous = [{ type: 'example.com/lb', status: 'True', lastTransitionTime: 't' }];
    const ok = computeConditions({ ...base, previous, spec: s, init: [], containers: [running('a')], phase: 'Running' });
    expect(ok.find((x) => x.type === 'Ready')!.status).toBe('True');
    expect(ok.find((x) => x.type === 'example.com/lb')).toEqual(previous[0]);
  });
});

describe('QoS class', () => {
  const c = (limits: Record<string, string>, requests: Record<string, string> = {}): corev1.Container => ({
    name: 'c',
    resources: {
      limits: Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, { value: v }])),
      requests: Object.fromEntries(Object.entries(requests).map(([k, v]) => [k, { value: v }])),
    },
  });
  it('is Guaranteed, Burstable or BestEffort', () => {
    // Requests as the apiserver defaults them (from the limits); a limit alone requests nothing.
    expect(qosClass({ containers: [c({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })] })).toBe('Guaranteed');
    expect(qosClass({ containers: [c({ cpu: '1', memory: '1Gi' })] })).toBe('Burstable');
    expect(qosClass({ containers: [c({ cpu: '1', memory: '1Gi' }, { cpu: '500m' })] })).toBe('Burstable');
    expect(qosClass({ containers: [c({ memory: '1Gi' })] })).toBe('Burstable');
    expect(qosClass({ containers: [{ name: 'c' }] })).toBe('BestEffort');
  });
});
