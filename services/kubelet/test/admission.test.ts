import type { corev1 } from '@k8ts/api';
import { admitPod, rejectedStatus } from '../src/pod/admission';

const alloc = { cpuMilli: 2000, memoryBytes: 4 * 2 ** 30, pods: 3 };
let n = 0;
function pod(cpu = '', memory = '', hostPorts: Array<{ port: number; ip?: string; protocol?: string }> = []): corev1.Pod {
  const requests: Record<string, { value: string }> = {};
  if (cpu) requests.cpu = { value: cpu };
  if (memory) requests.memory = { value: memory };
  return {
    metadata: { name: `p${++n}`, namespace: 'default', uid: `uid-${n}` },
    spec: {
      containers: [
        { name: 'c', resources: { requests }, ports: hostPorts.map((h) => ({ containerPort: 80, hostPort: h.port, hostIP: h.ip, protocol: h.protocol })) },
      ],
    },
  };
}

describe('admission', () => {
  it('admits what fits', () => {
    expect(admitPod(pod('1', '1Gi'), alloc, [pod('1', '3Gi')])).toEqual({ admit: true });
    expect(admitPod(pod(), alloc, [pod('2', '4Gi'), pod()])).toEqual({ admit: true });
  });

  it('refuses cpu beyond allocatable with OutOfcpu', () => {
    expect(admitPod(pod('1500m'), alloc, [pod('600m')])).toEqual({
      admit: false,
      reason: 'OutOfcpu',
      message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 1500, used: 600, capacity: 2000",
    });
  });

  it('refuses memory beyond allocatable with OutOfmemory', () => {
    const r = admitPod(pod('', '3Gi'), alloc, [pod('', '2Gi')]);
    expect(r).toMatchObject({ admit: false, reason: 'OutOfmemory' });
  });

  it('refuses a pod beyond the pod count with OutOfpods', () => {
    expect(admitPod(pod(), alloc, [pod(), pod(), pod()])).toMatchObject({
      admit: false,
      reason: 'OutOfpods',
      message: "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3",
    });
  });

  it('refuses clashing host ports with NodePorts (same protocol and port, overlapping IPs)', () => {
    const used = [pod('', '', [{ port: 8080, ip: '127.10.0.1' }])];
    expect(admitPod(pod('', '', [{ port: 8080 }]), alloc, used)).toMatchObject({ admit: false, reason: 'NodePorts' });
    expect(admitPod(pod('', '', [{ port: 8080, ip: '127.10.0.1' }]), alloc, used)).toMatchObject({ admit: false, reason: 'NodePorts' });
    expect(admitPod(pod('', '', [{ port: 8080, ip: '127.10.0.2' }]), alloc, used)).toEqual({ admit: true });
    expect(admitPod(pod('', '', [{ port: 8080, protocol: 'UDP' }]), alloc, used)).toEqual({ admit: true });
    expect(admitPod(pod('', '', [{ port: 8081 }]), alloc, used)).toEqual({ admit: true });
  });

  it('checks resources before host ports, as Kubernetes does', () => {
    const used = [pod('1500m', '', [{ port: 8080 }])];
    expect(admitPod(pod('1', '', [{ port: 8080 }]), alloc, used)).toMatchObject({ admit: false, reason: 'OutOfcpu' });
  });

  it("rounds each pod's exact sum once, and leaves out extended resources the node has none of", () => {
    // two containers of 0.5m are 1m together (not 1m each)
    const halves = pod('500u');
    halves.spec!.containers!.push({ name: 'd', resources: { requests: { cpu: { value: '500u' } } } });
    expect(admitPod(halves, alloc, [pod('1999m')])).toEqual({ admit: true });
    expect(admitPod(halves, alloc, [pod('1999500u')])).toMatchObject({ admit: false, reason: 'OutOfcpu' });
    const gpu = pod('1');
    gpu.spec!.containers![0].resources!.requests!['example.com/gpu'] = { value: '1' };
    expect(admitPod(gpu, alloc, [])).toEqual({ admit: true });
    gpu.spec!.containers![0].resources!.requests!['ephemeral-storage'] = { value: '1Gi' };
    expect(admitPod(gpu, alloc, [])).toMatchObject({ admit: false, reason: 'OutOfephemeral-storage' });
  });

  it('does not count the pod against itself', () => {
    const p = pod('2');
    expect(admitPod(p, alloc, [p])).toEqual({ admit: true });
  });

  it('builds the Failed status of a refused pod', () => {
    const s = rejectedStatus(pod(), 'OutOfcpu', 'no room', '127.10.0.1', Date.UTC(2026, 0, 1));
    expect(s).toMatchObject({ phase: 'Failed', reason: 'OutOfcpu', message: 'no room', hostIP: '127.10.0.1', startTime: '2026-01-01T00:00:00.000Z' });
    expect(s.conditions).toEqual([{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00.000Z' }]);
  });
});
