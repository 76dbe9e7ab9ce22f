// podRequests and podLimits as component-helpers computes them: containers add up, sidecars
// (restartable init containers) add up and run next to later init containers, other init
// containers run one at a time, overhead is added. Cases follow Kubernetes' own examples.
import type { corev1 } from '@k8ts/api';
import { Quantity } from '../src/quantity';
import type { ResourceList } from '../src/resources';
import { NON_ZERO_DEFAULT_REQUESTS, podLimits, podRequests, resourceListOf, toApiResourceList } from '../src/resources';

type Amounts = Record<string, string>;

function list(amounts: Amounts | undefined): { [name: string]: { value: string } } | undefined {
  return amounts && Object.fromEntries(Object.entries(amounts).map(([k, v]) => [k, { value: v }]));
}

function container(name: string, requests?: Amounts, limits?: Amounts, restartPolicy?: string): corev1.Container {
  return { name, restartPolicy, resources: { requests: list(requests), limits: list(limits) } };
}

const sidecar = (name: string, requests?: Amounts, limits?: Amounts) => container(name, requests, limits, 'Always');

function pod(containers: corev1.Container[], initContainers: corev1.Container[] = [], overhead?: Amounts): corev1.Pod {
  return { spec: { containers, initContainers, overhead: list(overhead) } };
}

/** A ResourceList as text, each amount in Kubernetes' string form. */
function text(l: ResourceList): Amounts {
  return Object.fromEntries([...l].map(([k, q]) => [k, q.toString()]));
}

describe('podRequests', () => {
  it('takes the larger of the containers and a larger init container', () => {
    expect(text(podRequests(pod([container('c', { cpu: '1' })], [container('i', { cpu: '4' })])))).toEqual({ cpu: '4' });
    expect(text(podRequests(pod([container('a', { cpu: '2' }), container('b', { cpu: '3' })], [container('i', { cpu: '2' })])))).toEqual({ cpu: '5' });
  });

  it('compares per resource: the largest init container of each', () => {
    const p = pod(
      [container('a', { cpu: '100m', memory: '1Gi' }), container('b', { cpu: '200m', memory: '1Gi' })],
      [container('i1', { cpu: '500m', memory: '1Mi' }), container('i2', { cpu: '50m', memory: '3Gi' })],
    );
    expect(text(podRequests(p))).toEqual({ cpu: '500m', memory: '3Gi' });
  });

  it('adds a sidecar to the containers', () => {
    expect(text(podRequests(pod([container('c', { cpu: '1' })], [sidecar('s', { cpu: '1' })])))).toEqual({ cpu: '2' });
  });

  it('counts sidecars already running next to each later init container', () => {
    // max(init 5, sidecars 1+2+3 + container 1) = 7
    const sidecarsWin = pod([container('c', { cpu: '1' })], [container('i1', { cpu: '5' }), sidecar('s1', { cpu: '1' }), sidecar('s2', { cpu: '2' }), sidecar('s3', { cpu: '3' })]);
    expect(text(podRequests(sidecarsWin))).toEqual({ cpu: '7' });
    // i2 needs 5 + the sidecars started before it (1+2) = 8; s3 starts after it
    const initWins = pod(
      [container('c', { cpu: '1' })],
      [container('i1', { cpu: '5' }), sidecar('s1', { cpu: '1' }), sidecar('s2', { cpu: '2' }), container('i2', { cpu: '5' }), sidecar('s3', { cpu: '3' })],
    );
    expect(text(podRequests(initWins))).toEqual({ cpu: '8' });
    // sidecar 10 + init 200 = 210 > sidecar 10 + container 100
    expect(text(podRequests(pod([container('c', { cpu: '100' })], [sidecar('s', { cpu: '10' }), container('i', { cpu: '200' })])))).toEqual({ cpu: '210' });
  });

  it('adds the overhead unless told not to', () => {
    const p = pod([container('a', { cpu: '2' }), container('b', { cpu: '3' })], [container('i', { cpu: '2' })], { cpu: '1', memory: '1Gi' });
    expect(text(podRequests(p))).toEqual({ cpu: '6', memory: '1Gi' });
    expect(text(podRequests(p, { excludeOverhead: true }))).toEqual({ cpu: '5' });
  });

  it('reads only requests: a limit alone requests nothing (the apiserver has defaulted requests from limits)', () => {
    expect(text(podRequests(pod([container('c', undefined, { cpu: '9' })])))).toEqual({});
    expect(text(podRequests(pod([container('c', { cpu: '1', memory: '10' })], [], { cpu: '5', memory: '5' })))).toEqual({ cpu: '6', memory: '15' });
  });

  it('sums exactly and keeps extended resources by name', () => {
    const p = pod([container('a', { cpu: '0.5m', 'example.com/gpu': '1' }), container('b', { cpu: '0.5m', 'example.com/gpu': '2' })]);
    const r = podRequests(p);
    expect(r.get('cpu')?.milliValue()).toBe(1);
    expect(r.get('example.com/gpu')?.value()).toBe(3);
  });

  it('stands in defaults only for requests a container does not list', () => {
    const p = pod([container('none'), container('zero', { cpu: '0', memory: '0' }), container('some', { cpu: '250m' })]);
    const r = podRequests(p, { nonMissingContainerRequests: NON_ZERO_DEFAULT_REQUESTS });
    // cpu: 100m (none) + 0 (zero) + 250m; memory: 200Mi (none) + 0 (zero) + 200Mi (some)
    expect(r.get('cpu')?.milliValue()).toBe(350);
    expect(r.get('memory')?.value()).toBe(400 * 1024 * 1024);
  });

  it('names the field of a malformed quantity', () => {
    expect(() => podRequests(pod([container('a'), container('b', { cpu: '1 core' })]))).toThrow(/^spec\.containers\[1\]\.resources\.requests\[cpu\]: quantities must match/);
    expect(() => podRequests(pod([], [container('i', { memory: '1Kb' })]))).toThrow(/^spec\.initContainers\[0\]\.resources\.requests\[memory\]: /);
    expect(() => podRequests(pod([], [], { cpu: 'x' }))).toThrow(/^spec\.overhead\[cpu\]: /);
  });

  it('is empty for a pod without a spec', () => {
    expect(podRequests({}).size).toBe(0);
  });
});

describe('podLimits', () => {
  it('applies the same rule to limits', () => {
    expect(text(podLimits(pod([container('c', undefined, { cpu: '1' })], [container('i', undefined, { cpu: '4' })])))).toEqual({ cpu: '4' });
    const p = pod(
      [container('c', undefined, { cpu: '1' })],
      [container('i1', undefined, { cpu: '5' }), sidecar('s1', undefined, { cpu: '1' }), sidecar('s2', undefined, { cpu: '2' }), container('i2', undefined, { cpu: '5' }), sidecar('s3', undefined, { cpu: '3' })],
    );
    expect(text(podLimits(p))).toEqual({ cpu: '8' });
  });

  it('keeps the limits of limited containers only', () => {
    expect(text(podLimits(pod([container('a')])))).toEqual({});
    expect(text(podLimits(pod([container('a', undefined, { cpu: '2', memory: '2Gi' }), container('b')])))).toEqual({ cpu: '2', memory: '2Gi' });
  });

  it('adds the overhead only to limits that are set and not zero', () => {
    const p = pod([container('a', { cpu: '1', memory: '10' }, { cpu: '2' })], [], { cpu: '5', memory: '5' });
    expect(text(podLimits(p))).toEqual({ cpu: '7' });
    const both = pod([container('a', { cpu: '1', memory: '10' }, { cpu: '2', memory: '12' })], [], { cpu: '5', memory: '5' });
    expect(text(podLimits(both))).toEqual({ cpu: '7', memory: '17' });
    expect(text(podLimits(both, { excludeOverhead: true }))).toEqual({ cpu: '2', memory: '12' });
    const zero = pod([container('a', undefined, { cpu: '0' })], [], { cpu: '5' });
    expect(text(podLimits(zero))).toEqual({ cpu: '0' });
  });
});

describe('resource lists', () => {
  it('round-trip between the API form and ResourceList, written canonically', () => {
    const l = resourceListOf({ cpu: { value: '0.5' }, memory: { value: '1024Mi' } }, 'status.allocatable');
    expect(l.get('cpu')?.equals(Quantity.fromMilli(500))).toBe(true);
    expect(toApiResourceList(l)).toEqual({ cpu: { value: '500m' }, memory: { value: '1Gi' } });
    expect(() => resourceListOf({ pods: { value: 'many' } }, 'status.allocatable')).toThrow(/^status\.allocatable\[pods\]: /);
  });
});
