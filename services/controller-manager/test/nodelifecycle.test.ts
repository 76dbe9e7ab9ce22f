import type { coordinationv1, corev1 } from '@k8ts/api';
import { deepCopy } from '@k8ts/client';
import { NodeLifecycleController, TAINT_NOT_READY, TAINT_UNREACHABLE, tolerates, tolerationMs } from '../src/controllers/nodelifecycle';
import { harness, pod } from './helpers';

type H = ReturnType<typeof harness>;
const START = Date.parse('2030-01-01T00:00:00Z');

function node(name: string, ready: 'True' | 'False' | 'Unknown' | undefined, heartbeatMs = START): corev1.Node {
  const t = new Date(heartbeatMs).toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, creationTimestamp: new Date(START - 3600_000).toISOString() },
    spec: {},
    status: { conditions: ready ? [{ type: 'Ready', status: ready, reason: 'KubeletReady', lastHeartbeatTime: t, lastTransitionTime: t }] : [] },
  };
}

function lease(name: string, renewMs: number): coordinationv1.Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(renewMs).toISOString() },
  };
}

function getNode(h: H, name: string): corev1.Node {
  return h.cs.tracker.get('nodes', '', name) as corev1.Node;
}
const readyOf = (n: corev1.Node) => n.status?.conditions?.find((c) => c.type === 'Ready');
const taintKeys = (n: corev1.Node, effect: string) => (n.spec?.taints ?? []).filter((t) => t.effect === effect).map((t) => t.key);

/** The kubelet of `name` renews its lease now. */
async function heartbeat(h: H, name: string): Promise<void> {
  const l = h.cs.tracker.get('leases', 'kube-node-lease', name) as coordinationv1.Lease;
  await h.cs.leases.update({ ...l, spec: { ...l.spec, renewTime: new Date(h.clock.now()).toISOString() } });
}

/** The kubelet posts Ready=True again. */
async function kubeletReady(h: H, name: string): Promise<void> {
  const n = deepCopy(getNode(h, name));
  const t = new Date(h.clock.now()).toISOString();
  n.status!.conditions = [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: t, lastTransitionTime: t }];
  await h.cs.nodes.updateStatus(n);
}

const opts = { monitorPeriodMs: 1000, gracePeriodMs: 10_000, startupGracePeriodMs: 20_000 };

describe('node lifecycle controller', () => {
  test('a node whose lease stops being renewed turns Unknown, is tainted unreachable, and its pods are marked not ready', async () => {
    const h = harness([
      node('n1', 'True'),
      node('n2', 'True'),
      lease('n1', START),
      lease('n2', START),
      pod('p', 'web', { node: 'n1', ip: '127.244.1.2', ready: true }),
    ]);
    const c = new NodeLifecycleController(h.ctx, opts);
    await h.start();
    h.run(c);
    // n2 keeps renewing; n1 is silent.
    for (let i = 0; i < 8; i++) {
      await h.clock.advance(1000);
      await heartbeat(h, 'n2');
    }
    expect(readyOf(getNode(h, 'n1'))?.status).toBe('True');
    await h.until(async () => {
      await heartbeat(h, 'n2');
      return readyOf(getNode(h, 'n1'))?.status === 'Unknown';
    }, 20_000, 500);
    expect(readyOf(getNode(h, 'n1'))).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(readyOf(getNode(h, 'n2'))?.status).toBe('True');
    await h.until(() => taintKeys(getNode(h, 'n1'), 'NoExecute').includes(TAINT_UNREACHABLE), 5000, 100);
    expect(taintKeys(getNode(h, 'n1'), 'NoSchedule')).toContain(TAINT_UNREACHABLE);
    expect(getNode(h, 'n1').spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded).toBeTruthy();
    expect(getNode(h, 'n2').spec?.taints ?? []).toEqual([]);
    await h.until(() => {
      const p = h.cs.tracker.get('pods', 'default', 'p') as corev1.Pod | undefined;
      // The pod has no toleration: evicted at once, after being marked not ready.
      return !p || p.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'False';
    }, 5000, 100);
    await h.stop();
  });

  test('evicts pods when their toleration runs out, counted from the taint, and leaves pods that tolerate it forever', async () => {
    const tolerating = (name: string, seconds?: number) => {
      const p = pod(name, 'web', { node: 'n1', ip: '127.244.1.2', ready: true });
      p.spec!.tolerations = [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }];
      return p;
    };
    const h = harness([node('n1', 'True'), node('n2', 'True'), lease('n1', START), lease('n2', START), tolerating('short', 5), tolerating('long', 60), tolerating('forever'), pod('none', 'web', { node: 'n1' })]);
    const c = new NodeLifecycleController(h.ctx, opts);
    await h.start();
    h.run(c);
    const exists = (n: string) => !!h.cs.tracker.get('pods', 'default', n);
    await h.until(async () => {
      await heartbeat(h, 'n2');
      return taintKeys(getNode(h, 'n1'), 'NoExecute').includes(TAINT_UNREACHABLE);
    }, 30_000, 500);
    const tainted = Date.parse(getNode(h, 'n1').spec!.taints!.find((t) => t.effect === 'NoExecute')!.timeAdded!);
    await h.until(() => !exists('none'), 2000, 100);
    expect(exists('short')).toBe(true);
    await h.until(async () => {
      await heartbeat(h, 'n2');
      return !exists('short');
    }, 10_000, 250);
    expect(h.clock.now() - tainted).toBeGreaterThanOrEqual(5000);
    expect(exists('long')).toBe(true);
    expect(h.events.some((e) => e.reason === 'TaintManagerEviction' && e.name === 'short')).toBe(true);
    await h.until(async () => {
      await heartbeat(h, 'n2');
      return !exists('long');
    }, 70_000, 1000);
    expect(h.clock.now() - tainted).toBeGreaterThanOrEqual(60_000);
    expect(exists('forever')).toBe(true);
    await h.stop();
  });

  test('Ready=False gives the not-ready taint; the taints go when the node is Ready again', async () => {
    const h = harness([node('n1', 'False'), node('n2', 'True'), lease('n1', START), lease('n2', START)]);
    const c = new NodeLifecycleController(h.ctx, opts);
    await h.start();
    await c.reconcileNode('n1');
    await h.settle();
    expect(taintKeys(getNode(h, 'n1'), 'NoExecute')).toEqual([TAINT_NOT_READY]);
    expect(taintKeys(getNode(h, 'n1'), 'NoSchedule')).toEqual([TAINT_NOT_READY]);
    await kubeletReady(h, 'n1');
    await h.settle();
    await c.reconcileNode('n1');
    await h.settle();
    expect(getNode(h, 'n1').spec?.taints).toEqual([]);
    await h.stop();
  });

  test('a node that comes back after being unreachable loses its taints', async () => {
    const h = harness([node('n1', 'True'), node('n2', 'True'), lease('n1', START), lease('n2', START)]);
    const c = new NodeLifecycleController(h.ctx, opts);
    await h.start();
    h.run(c);
    await h.until(async () => {
      await heartbeat(h, 'n2');
      return taintKeys(getNode(h, 'n1'), 'NoExecute').includes(TAINT_UNREACHABLE);
    }, 30_000, 500);
    await kubeletReady(h, 'n1');
    await heartbeat(h, 'n1');
    await h.until(() => (getNode(h, 'n1').spec?.taints ?? []).length === 0, 5000, 100);
    expect(readyOf(getNode(h, 'n1'))?.status).toBe('True');
    await h.stop();
  });

  test('when every node is down, nothing is evicted (the control plane is more likely cut off)', async () => {
    const h = harness([node('n1', 'True'), node('n2', 'True'), lease('n1', START), lease('n2', START), pod('p', 'web', { node: 'n1' })]);
    const c = new NodeLifecycleController(h.ctx, opts);
    await h.start();
    h.run(c);
    await h.until(() => readyOf(getNode(h, 'n1'))?.status === 'Unknown' && readyOf(getNode(h, 'n2'))?.status === 'Unknown', 30_000, 500);
    await h.clock.advance(5000);
    await h.settle();
    expect(taintKeys(getNode(h, 'n1'), 'NoExecute')).toEqual([]);
    expect(taintKeys(getNode(h, 'n1'), 'NoSchedule')).toEqual([TAINT_UNREACHABLE]);
    expect(h.cs.tracker.get('pods', 'default', 'p')).toBeDefined();
    await h.stop();
  });

  test('a controller that starts before any node registers still watches the nodes that come later', async () => {
    // k8ts up starts the controller-manager before the kubelets: its first health passes see
    // no node at all. A pass over an empty list must not leave the controller stuck.
    const h = harness([]);
    const c = new NodeLifecycleController(h.ctx, opts);
    await h.start();
    h.run(c);
    await h.clock.advance(3000);
    await c.monitorNodeHealth();
    await h.cs.nodes.create(node('late', 'True', h.clock.now()));
    await h.cs.leases.create(lease('late', h.clock.now()));
    await h.until(() => readyOf(getNode(h, 'late'))?.status === 'Unknown', 30_000, 500);
    expect(readyOf(getNode(h, 'late'))).toMatchObject({ reason: 'NodeStatusUnknown' });
    await h.stop();
  });

  test('a node that never reported gets the startup grace period, then Unknown (NodeStatusNeverUpdated)', async () => {
    const fresh = node('new', undefined);
    fresh.metadata!.creationTimestamp = new Date(START).toISOString();
    const h = harness([fresh, node('n2', 'True'), lease('n2', START)]);
    const c = new NodeLifecycleController(h.ctx, opts);
    await h.start();
    await h.clock.advance(15_000);
    await c.monitorNodeHealth();
    expect(readyOf(getNode(h, 'new'))).toBeUndefined();
    await h.clock.advance(6000);
    await c.monitorNodeHealth();
    expect(readyOf(getNode(h, 'new'))).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated' });
    await h.stop();
  });

  test('tolerations: matching by key, operator, value and effect; the shortest tolerationSeconds wins', () => {
    const taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', value: '' };
    expect(tolerates({ key: TAINT_UNREACHABLE, operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoSchedule' }, taint)).toBe(false);
    expect(tolerates({ key: 'other', operator: 'Exists' }, taint)).toBe(false);
    expect(tolerates({ key: 'k', operator: 'Equal', value: 'v' }, { key: 'k', value: 'v', effect: 'NoExecute' })).toBe(true);
    expect(tolerates({ key: 'k', operator: 'Equal', value: 'w' }, { key: 'k', value: 'v', effect: 'NoExecute' })).toBe(false);
    const p = pod('p', 'web', {});
    expect(tolerationMs(p, taint)).toBe(0);
    p.spec!.tolerations = [
      { key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: 300 },
      { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
    ];
    expect(tolerationMs(p, taint)).toBe(30_000);
    p.spec!.tolerations = [{ operator: 'Exists' }];
    expect(tolerationMs(p, taint)).toBe(Number.POSITIVE_INFINITY);
  });
});
