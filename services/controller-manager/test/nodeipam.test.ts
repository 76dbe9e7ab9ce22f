import type { corev1 } from '@k8ts/api';
import { CidrSet, NodeIpamController, parseCidr } from '../src/controllers/nodeipam';
import { all, harness } from './helpers';

function node(name: string, podCIDR?: string): corev1.Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} };
}

describe('node IPAM', () => {
  test('CidrSet: /24s of a /16, round robin, release, exhaustion', () => {
    const s = new CidrSet('127.244.0.0/16', 24);
    expect(s.size).toBe(256);
    expect(s.allocateNext()).toBe('127.244.0.0/24');
    expect(s.allocateNext()).toBe('127.244.1.0/24');
    s.release('127.244.0.0/24');
    // Round robin: a released subnet is not handed out again at once.
    expect(s.allocateNext()).toBe('127.244.2.0/24');
    expect(s.occupy('127.244.9.0/24')).toBe(true);
    expect(s.occupy('10.0.0.0/24')).toBe(false);
    expect(s.occupy('127.244.9.0/25')).toBe(false);
    const small = new CidrSet('10.0.0.0/30', 31);
    expect([small.allocateNext(), small.allocateNext(), small.allocateNext()]).toEqual(['10.0.0.0/31', '10.0.0.2/31', undefined]);
    expect(() => parseCidr('10.0.0/8')).toThrow(/invalid CIDR/);
    expect(() => new CidrSet('127.244.0.0/16', 8)).toThrow(/mask size/);
  });

  test('gives each node its own pod CIDR; a node with one keeps it', async () => {
    const h = harness([node('a'), node('b'), node('keeps', '127.244.0.0/24')]);
    const c = new NodeIpamController(h.ctx);
    await h.start();
    h.run(c);
    await h.until(() => all<corev1.Node>(h.cs, 'nodes').every((n) => !!n.spec?.podCIDR));
    const cidrs = Object.fromEntries(all<corev1.Node>(h.cs, 'nodes').map((n) => [n.metadata?.name, n.spec?.podCIDR]));
    expect(cidrs.keeps).toBe('127.244.0.0/24');
    expect(new Set(Object.values(cidrs)).size).toBe(3);
    for (const n of all<corev1.Node>(h.cs, 'nodes')) expect(n.spec?.podCIDRs).toEqual([n.spec?.podCIDR]);
    await h.stop();
  });

  test('a new controller (after a restart or a change of leader) rebuilds from the nodes and hands out no duplicates', async () => {
    const h = harness([node('a', '127.244.0.0/24'), node('b', '127.244.1.0/24'), node('c', '127.244.2.0/24'), node('new')]);
    const c = new NodeIpamController(h.ctx);
    await h.start();
    await c.reconcile('new');
    await h.settle();
    expect((h.cs.tracker.get('nodes', '', 'new') as corev1.Node).spec?.podCIDR).toBe('127.244.3.0/24');
    await h.stop();
  });

  test('a deleted node frees its subnet', async () => {
    const h = harness([node('a', '127.244.0.0/24')]);
    const c = new NodeIpamController(h.ctx, { clusterCidr: '127.244.0.0/23', nodeCidrMaskSize: 24 });
    await h.start();
    await c.reconcile('a');
    expect(c.cidrs.isUsed('127.244.0.0/24')).toBe(true);
    await h.cs.nodes.delete('a');
    await h.settle();
    await c.reconcile('a');
    expect(c.cidrs.isUsed('127.244.0.0/24')).toBe(false);
    await h.stop();
  });

  test('when the range is exhausted the node waits, with a CIDRNotAvailable event', async () => {
    const h = harness([node('a', '127.244.0.0/24'), node('b')]);
    const c = new NodeIpamController(h.ctx, { clusterCidr: '127.244.0.0/24', nodeCidrMaskSize: 24 });
    await h.start();
    await c.reconcile('b');
    expect((h.cs.tracker.get('nodes', '', 'b') as corev1.Node).spec?.podCIDR ?? '').toBe('');
    expect(h.events.some((e) => e.reason === 'CIDRNotAvailable')).toBe(true);
    await h.stop();
  });
});
