// `k8ts describe node` shows what its pods request and are limited to, as kubectl does, and
// quantities are written as Kubernetes writes them.
import type { corev1 } from '@k8ts/api';
import { kindByName } from '@k8ts/api';
import { describeObject } from '../src/printers/describe';
import { allocatedResourceRows, nodeAllocatable, podResourceRows, quantityText } from '../src/printers/noderesources';

const NOW = Date.parse('2026-01-10T12:00:00Z');
const q = (value: string) => ({ value });

const node: corev1.Node = {
  metadata: { name: 'node-1', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: {},
  status: {
    capacity: { cpu: q('2'), memory: q('4Gi'), pods: q('110') },
    allocatable: { cpu: q('2'), memory: q('4Gi'), pods: q('110'), 'hugepages-2Mi': q('0'), 'example.com/gpu': q('4') },
  },
};

function pod(name: string, requests: Record<string, string>, limits: Record<string, string> = {}): corev1.Pod {
  const list = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, q(v)]));
  return {
    metadata: { name, namespace: 'default', creationTimestamp: '2026-01-10T11:55:00Z' },
    spec: { containers: [{ name: 'c', resources: { requests: list(requests), limits: list(limits) } }] },
    status: { phase: 'Running' },
  };
}

describe('describe node resources', () => {
  const pods = [pod('web', { cpu: '0.5', memory: '512Mi' }, { cpu: '1', memory: '1Gi' }), pod('gpu', { cpu: '250m', 'example.com/gpu': '1' }, { 'example.com/gpu': '1' })];

  it('gives each pod its requests and limits with their share of allocatable', () => {
    expect(podResourceRows(pods, nodeAllocatable(node))).toEqual([
      ['default', 'web', '500m (25%)', '1 (50%)', '512Mi (12%)', '1Gi (25%)'],
      ['default', 'gpu', '250m (12%)', '0 (0%)', '0 (0%)', '0 (0%)'],
    ]);
  });

  it('totals them: cpu, memory, ephemeral storage, huge pages, then other resources without shares', () => {
    expect(allocatedResourceRows(pods, nodeAllocatable(node))).toEqual([
      ['cpu', '750m (37%)', '1 (50%)'],
      ['memory', '512Mi (12%)', '1Gi (25%)'],
      ['ephemeral-storage', '0 (0%)', '0 (0%)'],
      ['hugepages-2Mi', '0 (0%)', '0 (0%)'],
      ['example.com/gpu', '1', '1'],
    ]);
  });

  it('prints the tables in describe, and quantities in Kubernetes form', () => {
    const text = describeObject(kindByName('node')!, node, {}, { pods }, [], NOW);
    expect(text).toMatch(/Namespace\s+Name\s+CPU Requests\s+CPU Limits\s+Memory Requests\s+Memory Limits\s+Age/);
    expect(text).toMatch(/default\s+web\s+500m \(25%\)\s+1 \(50%\)\s+512Mi \(12%\)\s+1Gi \(25%\)\s+\S+\n/);
    expect(text).toContain('Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)');
    expect(text).toMatch(/cpu\s+750m \(37%\)\s+1 \(50%\)/);
    const described = describeObject(kindByName('pod')!, pods[0], {}, {}, [], NOW);
    expect(described).toMatch(/Requests:\n\s+cpu:\s+500m\n/);
  });

  it('writes a malformed quantity as given, and leaves it out of the sums', () => {
    expect(quantityText(q('0.5'))).toBe('500m');
    expect(quantityText(q('lots'))).toBe('lots');
    expect(podResourceRows([pod('bad', { cpu: 'lots' })], nodeAllocatable(node))[0][2]).toBe('0 (0%)');
  });
});
