// The counted form of pod requests (the scheduler framework's calculateResource), the fit check
// the scheduler and the kubelet share (NodeResourcesFit's Fits), resource-name classes and the
// QoS class, with Kubernetes' rules and reasons.
import type { corev1 } from '@k8ts/api';
import type { ComputeResources } from '../src/resources';
import {
  DEFAULT_MEMORY_REQUEST,
  DEFAULT_MILLI_CPU_REQUEST,
  addComputeResources,
  computeResourcesOf,
  emptyComputeResources,
  insufficientResources,
  isExtendedResourceName,
  isScalarResourceName,
  podQOSClass,
  podSchedulingRequests,
  resourceListOf,
} from '../src/resources';

type Amounts = Record<string, string>;

function list(amounts: Amounts | undefined): { [name: string]: { value: string } } | undefined {
  return amounts && Object.fromEntries(Object.entries(amounts).map(([k, v]) => [k, { value: v }]));
}

function container(requests?: Amounts, limits?: Amounts, restartPolicy?: string): corev1.Container {
  return { name: 'c', restartPolicy, resources: { requests: list(requests), limits: list(limits) } };
}

function pod(containers: corev1.Container[], initContainers: corev1.Container[] = [], overhead?: Amounts): corev1.Pod {
  return { spec: { containers, initContainers, overhead: list(overhead) } };
}

function resources(amounts: Amounts): ComputeResources {
  return computeResourcesOf(resourceListOf(list(amounts), 'test'));
}

describe('resource names', () => {
  it.each([
    ['example.com/gpu', true, true],
    ['nvidia.com/gpu', true, true],
    ['kubernetes.io/batch', false, true],
    ['hugepages-2Mi', false, true],
    ['attachable-volumes-csi-x', false, true],
    ['cpu', false, false],
    ['foo', false, false],
    ['requests.example.com/gpu', false, false],
    ['Example.com/gpu', false, false],
  ])('%s: extended %s, scalar %s', (name, extended, scalar) => {
    expect(isExtendedResourceName(name)).toBe(extended);
    expect(isScalarResourceName(name)).toBe(scalar);
  });
});

describe('computeResourcesOf', () => {
  it('counts cpu in milli-cpu, the rest in whole units rounded up, and drops names it does not count', () => {
    expect(resources({ cpu: '0.5', memory: '1.1Gi', 'ephemeral-storage': '1G', pods: '110', 'example.com/gpu': '2', foo: '9' })).toEqual({
      milliCpu: 500,
      memory: 1_181_116_007,
      ephemeralStorage: 1e9,
      allowedPodNumber: 110,
      scalar: new Map([['example.com/gpu', 2]]),
    });
  });

  it('adds and removes a pod, dropping scalars that fall to zero', () => {
    const node = emptyComputeResources();
    const p = resources({ cpu: '250m', memory: '64Mi', 'example.com/gpu': '1' });
    addComputeResources(node, p);
    addComputeResources(node, p);
    expect([node.milliCpu, node.memory, node.scalar?.get('example.com/gpu')]).toEqual([500, 128 * 2 ** 20, 2]);
    addComputeResources(node, p, -1);
    addComputeResources(node, p, -1);
    expect([node.milliCpu, node.memory, node.scalar?.size]).toEqual([0, 0, 0]);
  });
});

describe('podSchedulingRequests', () => {
  it('rounds the exact sum, not each container', () => {
    const r = podSchedulingRequests(pod([container({ cpu: '0.5m' }), container({ cpu: '0.5m' })]));
    expect(r.requests.milliCpu).toBe(1);
  });

  it('counts 100m cpu and 200Mi memory for containers that request none, for scoring only', () => {
    const r = podSchedulingRequests(pod([container({ cpu: '1' }), container()]));
    expect([r.requests.milliCpu, r.requests.memory]).toEqual([1000, 0]);
    expect(r.nonZeroMilliCpu).toBe(1000 + DEFAULT_MILLI_CPU_REQUEST);
    expect(r.nonZeroMemory).toBe(2 * DEFAULT_MEMORY_REQUEST);
    expect(DEFAULT_MEMORY_REQUEST).toBe(200 * 1024 * 1024);
  });

  it('applies the sidecar rule and the overhead to the non-zero requests too', () => {
    // containers: 100m (default) + sidecar 200m = 300m; the init container runs next to the sidecar: 450m
    const r = podSchedulingRequests(pod([container()], [container({ cpu: '200m' }, undefined, 'Always'), container({ cpu: '250m' })], { cpu: '10m' }));
    expect(r.requests.milliCpu).toBe(450 + 10);
    expect(r.nonZeroMilliCpu).toBe(450 + 10);
  });

  it('is zero for a pod without containers', () => {
    expect(podSchedulingRequests({ spec: {} })).toEqual({ requests: emptyComputeResources(), nonZeroMilliCpu: 0, nonZeroMemory: 0 });
  });
});

describe('insufficientResources', () => {
  const allocatable = resources({ cpu: '2', memory: '4Gi', pods: '3', 'example.com/gpu': '1' });

  it('fits what fits', () => {
    const used = resources({ cpu: '1', memory: '3Gi' });
    expect(insufficientResources(resources({ cpu: '1', memory: '1Gi' }), { allocatable, requested: used, podCount: 1 })).toEqual([]);
  });

  it('gives Kubernetes reasons and numbers, pods first, then cpu, memory, ephemeral storage, scalars', () => {
    const used = resources({ cpu: '600m', memory: '3Gi' });
    const want = resources({ cpu: '1500m', memory: '2Gi', 'ephemeral-storage': '1', 'example.com/gpu': '2' });
    expect(insufficientResources(want, { allocatable, requested: used, podCount: 3 })).toEqual([
      { resourceName: 'pods', reason: 'Too many pods', requested: 1, used: 3, capacity: 3 },
      { resourceName: 'cpu', reason: 'Insufficient cpu', requested: 1500, used: 600, capacity: 2000 },
      { resourceName: 'memory', reason: 'Insufficient memory', requested: 2 * 2 ** 30, used: 3 * 2 ** 30, capacity: 4 * 2 ** 30 },
      { resourceName: 'ephemeral-storage', reason: 'Insufficient ephemeral-storage', requested: 1, used: 0, capacity: 0 },
      { resourceName: 'example.com/gpu', reason: 'Insufficient example.com/gpu', requested: 2, used: 0, capacity: 1 },
    ]);
  });

  it('lets a pod that requests nothing in when a pod slot is free, and never fails a zero request', () => {
    const full = resources({ cpu: '2', memory: '4Gi', 'example.com/gpu': '1' });
    expect(insufficientResources(resources({}), { allocatable, requested: full, podCount: 2 })).toEqual([]);
    expect(insufficientResources(resources({ 'example.com/gpu': '0' }), { allocatable, requested: full, podCount: 2 })).toEqual([]);
    expect(insufficientResources(resources({}), { allocatable, requested: full, podCount: 3 }).map((r) => r.reason)).toEqual(['Too many pods']);
  });
});

describe('podQOSClass', () => {
  it.each([
    ['no requests nor limits', [container()], 'BestEffort'],
    ['only other resources', [container({ 'example.com/gpu': '1' }, { 'example.com/gpu': '1' })], 'BestEffort'],
    ['requests equal limits for cpu and memory', [container({ cpu: '1', memory: '1Gi' }, { cpu: '1000m', memory: '1024Mi' })], 'Guaranteed'],
    ['a request below its limit', [container({ cpu: '500m', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })], 'Burstable'],
    ['a limit for memory only', [container({ memory: '1Gi' }, { memory: '1Gi' })], 'Burstable'],
    ['a guaranteed and a best-effort container', [container({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }), container()], 'Burstable'],
    ['zero requests and limits', [container({ cpu: '0' }, { cpu: '0' })], 'BestEffort'],
  ])('%s: %s', (_what, containers, qos) => {
    expect(podQOSClass(pod(containers))).toBe(qos);
  });

  it('counts init containers', () => {
    const guaranteed = container({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' });
    expect(podQOSClass(pod([guaranteed], [container({ cpu: '100m' }, { cpu: '200m' })]))).toBe('Burstable');
    expect(podQOSClass(pod([guaranteed], [guaranteed]))).toBe('Guaranteed');
    expect(podQOSClass({})).toBe('BestEffort');
  });
});
