// The scheduler as a real process against a real apiserver, store and nats-server: node
// objects only (no kubelets), pods created through the API, binds observed through the API.
import type { corev1 } from '@k8ts/api';
import { eventually, nodeObject, nodeOf, podObject, startCluster } from './harness';
import type { Cluster, SchedulerProcess } from './harness';

const HOST = 'kubernetes.io/hostname';

describe('scheduler (real processes)', () => {
  let c: Cluster;
  let scheduler: SchedulerProcess;

  beforeAll(async () => {
    c = await startCluster();
    scheduler = await c.startScheduler();
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  afterEach(async () => {
    const pods = await c.admin.pods.list();
    await Promise.all(pods.items.map((p) => c.admin.pods.delete(p.metadata!.name!, { namespace: p.metadata!.namespace!, gracePeriodSeconds: 0 })));
    const nodes = await c.admin.nodes.list();
    await Promise.all(nodes.items.map((n) => c.admin.nodes.delete(n.metadata!.name!)));
    await eventually('a clean cluster', async () => (await c.admin.pods.list()).items.length === 0);
  });

  const bound = (names: string[]) =>
    eventually(`${names.join(', ')} bound`, async () => {
      const nodes = await Promise.all(names.map((n) => nodeOf(c.admin, n)));
      return nodes.every((n) => n !== '') ? nodes : undefined;
    });

  const events = async (pod: string, reason: string): Promise<corev1.Event[]> =>
    (await c.admin.events.list({ namespace: 'default' })).items.filter((e) => e.involvedObject?.name === pod && e.reason === reason);

  it('fits pods by resources, counting what is already bound', async () => {
    await c.admin.nodes.create(nodeObject('small', { cpu: '1', memory: '2Gi' }));
    await c.admin.nodes.create(nodeObject('large', { cpu: '4', memory: '8Gi' }));
    await c.admin.pods.create(podObject('needs-3-cpu', { cpu: '3' }));
    expect(await bound(['needs-3-cpu'])).toEqual(['large']);
    // large has 1 cpu left, small 1: two pods of 1 cpu go one on each
    await c.admin.pods.create(podObject('one-a', { cpu: '1' }));
    await c.admin.pods.create(podObject('one-b', { cpu: '1' }));
    expect((await bound(['one-a', 'one-b'])).sort()).toEqual(['large', 'small']);
    // nothing left: the next pod is reported, in Kubernetes' words
    await c.admin.pods.create(podObject('no-room', { cpu: '500m' }));
    const [ev] = await eventually('FailedScheduling', async () => {
      const list = await events('no-room', 'FailedScheduling');
      return list.length > 0 ? list : undefined;
    });
    expect(ev.message).toBe('0/2 nodes are available: 2 Insufficient cpu.');
    expect(ev.type).toBe('Warning');
    const scheduled = await events('needs-3-cpu', 'Scheduled');
    expect(scheduled[0]?.message).toBe('Successfully assigned default/needs-3-cpu to large');
    const pod = await c.admin.pods.get('no-room', { namespace: 'default' });
    expect(pod.spec?.nodeName ?? '').toBe('');
    await eventually('the PodScheduled condition', async () => {
      const p = await c.admin.pods.get('no-room', { namespace: 'default' });
      return p.status?.conditions?.some((x) => x.type === 'PodScheduled' && x.status === 'False' && x.reason === 'Unschedulable');
    });
  });

  it('keeps pods off tainted nodes unless they tolerate the taint', async () => {
    const taints = [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }];
    await c.admin.nodes.create(nodeObject('gpu-1', { taints }));
    await c.admin.nodes.create(nodeObject('gpu-2', { taints }));
    await c.admin.pods.create(podObject('plain'));
    await c.admin.pods.create(podObject('tolerant', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }));
    expect((await bound(['tolerant']))[0]).toMatch(/^gpu-/);
    const [ev] = await eventually('FailedScheduling of plain', async () => {
      const list = await events('plain', 'FailedScheduling');
      return list.length > 0 ? list : undefined;
    });
    expect(ev.message).toBe('0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}.');
    await c.admin.nodes.create(nodeObject('general'));
    expect(await bound(['plain'])).toEqual(['general']);
  });

  it('honors node affinity and nodeSelector', async () => {
    for (const [name, zone] of [['z1-a', 'z1'], ['z1-b', 'z1'], ['z2-a', 'z2']]) {
      await c.admin.nodes.create(nodeObject(name, { labels: { 'topology.kubernetes.io/zone': zone, disk: name === 'z1-b' ? 'ssd' : 'hdd' } }));
    }
    const affinity: corev1.Affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['z2'] }] }],
        },
      },
    };
    await c.admin.pods.create(podObject('in-z2', { affinity }));
    await c.admin.pods.create(podObject('on-ssd', { nodeSelector: { disk: 'ssd' } }));
    await c.admin.pods.create(podObject('nowhere', { nodeSelector: { disk: 'tape' } }));
    expect(await bound(['in-z2', 'on-ssd'])).toEqual(['z2-a', 'z1-b']);
    const [ev] = await eventually('FailedScheduling of nowhere', async () => {
      const list = await events('nowhere', 'FailedScheduling');
      return list.length > 0 ? list : undefined;
    });
    expect(ev.message).toBe("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");
  });

  it('spreads replicas with required anti-affinity over nodes', async () => {
    for (const n of ['n1', 'n2', 'n3']) await c.admin.nodes.create(nodeObject(n));
    const affinity: corev1.Affinity = {
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: HOST }] },
    };
    await Promise.all([0, 1, 2, 3].map((i) => c.admin.pods.create(podObject(`web-${i}`, { labels: { app: 'web' }, affinity }))));
    const placed = await eventually('three replicas bound', async () => {
      const nodes = await Promise.all([0, 1, 2, 3].map((i) => nodeOf(c.admin, `web-${i}`)));
      return nodes.filter((n) => n !== '').length === 3 ? nodes : undefined;
    });
    expect(placed.filter((n) => n !== '').sort()).toEqual(['n1', 'n2', 'n3']);
    const pending = [0, 1, 2, 3].find((i) => placed[i] === '')!;
    const [ev] = await eventually('FailedScheduling of the fourth', async () => {
      const list = await events(`web-${pending}`, 'FailedScheduling');
      return list.length > 0 ? list : undefined;
    });
    expect(ev.message).toBe("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
    await c.admin.nodes.create(nodeObject('n4'));
    expect(await bound([`web-${pending}`])).toEqual(['n4']);
  });

  it('schedules a pod that fits nowhere as soon as a fitting node is added', async () => {
    await c.admin.nodes.create(nodeObject('tiny', { cpu: '500m' }));
    await c.admin.pods.create(podObject('big', { cpu: '2', memory: '1Gi' }));
    await eventually('FailedScheduling of big', async () => (await events('big', 'FailedScheduling')).length > 0);
    expect(await nodeOf(c.admin, 'big')).toBe('');
    await c.admin.nodes.create(nodeObject('roomy', { cpu: '8' }));
    // within its backoff (at most 10 s), without waiting for the minute-long flush
    expect(await bound(['big'])).toEqual(['roomy']);
    expect(scheduler.logs()).not.toMatch(/"level":"error"/);
  });
});
