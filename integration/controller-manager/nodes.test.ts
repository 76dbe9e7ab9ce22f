// Node lifecycle and node IPAM over real processes: a node whose kubelet stops renewing its
// Lease and status is marked Unknown and tainted, its pods are evicted when their (short)
// tolerations run out, and the Deployment recreates them on the node that is still alive.
import type { corev1 } from '@k8ts/api';
import type { ServiceProcess } from '@k8ts/testkit';
import { type Cluster, FAST_NODE_FLAGS, FakeKubelet, deploymentObject, eventually, startCluster } from './harness';

let cluster: Cluster;
let kubelet: FakeKubelet;
let leader: ServiceProcess;

beforeAll(async () => {
  cluster = await startCluster();
  kubelet = new FakeKubelet(cluster.admin, ['node-1', 'node-2']);
  await kubelet.start();
  leader = await cluster.startControllerManager(FAST_NODE_FLAGS);
}, 120_000);

afterAll(async () => {
  await kubelet?.stop();
  await cluster?.stop();
});

const isReady = (p: corev1.Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('nodes', () => {
  test('every node gets its own pod CIDR from the cluster CIDR', async () => {
    const nodes = await eventually(async () => {
      const items = (await cluster.admin.nodes.list()).items;
      return items.length === 2 && items.every((n) => !!n.spec?.podCIDR) ? items : undefined;
    });
    const cidrs = nodes.map((n) => n.spec?.podCIDR);
    expect(new Set(cidrs).size).toBe(2);
    for (const n of nodes) {
      expect(n.spec?.podCIDR).toMatch(/^127\.244\.\d+\.0\/24$/);
      expect(n.spec?.podCIDRs).toEqual([n.spec?.podCIDR]);
    }
  });

  test('a node whose heartbeats stop is tainted, and its pods are evicted and recreated elsewhere', async () => {
    await cluster.admin.namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'evict' } });
    const d = deploymentObject('web', 'evict', 4);
    d.spec!.template!.spec!.tolerations = [
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
    ];
    await cluster.admin.deployments.create(d);
    const before = await eventually(async () => {
      const items = (await cluster.admin.pods.list({ namespace: 'evict' })).items;
      return items.length === 4 && items.every(isReady) ? items : undefined;
    });
    const onNode1 = before.filter((p) => p.spec?.nodeName === 'node-1');
    expect(onNode1.length).toBeGreaterThan(0);

    kubelet.kill('node-1');
    const node = await eventually(
      async () => {
        const n = await cluster.admin.nodes.get('node-1');
        return n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? n : undefined;
      },
      60_000,
      'node-1 tainted unreachable',
    );
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
    expect(node.spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded).toBeTruthy();
    const survivor = await cluster.admin.nodes.get('node-2');
    expect(survivor.spec?.taints ?? []).toEqual([]);

    // The pods of node-1 are evicted (marked for deletion: no kubelet is there to finish it)
    // and replaced on node-2.
    await eventually(
      async () => {
        const items = (await cluster.admin.pods.list({ namespace: 'evict' })).items;
        const evicted = onNode1.every((p) => items.find((x) => x.metadata?.uid === p.metadata?.uid)?.metadata?.deletionTimestamp);
        const running = items.filter((p) => !p.metadata?.deletionTimestamp);
        return evicted && running.length === 4 && running.every((p) => isReady(p) && p.spec?.nodeName === 'node-2');
      },
      60_000,
      'pods evicted from node-1 and running on node-2',
    );
  }, 120_000);

  test('a new leader rebuilds the pod CIDRs from the nodes and hands out no duplicate', async () => {
    const standby = await cluster.startControllerManager(FAST_NODE_FLAGS, { standby: true });
    expect(standby.logs()).not.toMatch(/caches synced/);
    await leader.stop('SIGTERM');
    await eventually(() => /caches synced; controllers running/.test(standby.logs()), 60_000, 'the standby leads');
    await cluster.admin.nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-3' }, spec: {} });
    const nodes = await eventually(async () => {
      const items = (await cluster.admin.nodes.list()).items;
      return items.length === 3 && items.every((n) => !!n.spec?.podCIDR) ? items : undefined;
    });
    expect(new Set(nodes.map((n) => n.spec?.podCIDR)).size).toBe(3);
    const lease = await cluster.admin.leases.get('kube-controller-manager', { namespace: 'kube-system' });
    expect(lease.spec?.holderIdentity).toBeTruthy();
  }, 90_000);
});
