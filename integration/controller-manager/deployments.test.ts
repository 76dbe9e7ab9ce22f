// Deployments, ReplicaSets and Endpoints over real processes: nats-server, store, apiserver
// and the controller-manager, with FakeKubelet playing kubelets and scheduler through the API.
import type { appsv1, corev1 } from '@k8ts/api';
import { Informer, deepCopy, listWatchFor } from '@k8ts/client';
import { type Cluster, FakeKubelet, deploymentObject, eventually, startCluster } from './harness';

let cluster: Cluster;
let kubelet: FakeKubelet;

beforeAll(async () => {
  cluster = await startCluster();
  kubelet = new FakeKubelet(cluster.admin, ['node-a', 'node-b']);
  await kubelet.start();
  await cluster.startControllerManager();
}, 120_000);

afterAll(async () => {
  await kubelet?.stop();
  await cluster?.stop();
});

async function namespace(name: string): Promise<void> {
  await cluster.admin.namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

async function pods(ns: string, app: string): Promise<corev1.Pod[]> {
  return (await cluster.admin.pods.list({ namespace: ns, labelSelector: `app=${app}` })).items;
}

const isReady = (p: corev1.Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const active = (p: corev1.Pod) => !p.metadata?.deletionTimestamp;

/** Resolves once the app has exactly `n` active pods, all ready. */
async function readyPods(ns: string, app: string, n: number, timeoutMs = 60_000): Promise<corev1.Pod[]> {
  return eventually(
    async () => {
      const list = (await pods(ns, app)).filter(active);
      return list.length === n && list.every(isReady) ? list : undefined;
    },
    timeoutMs,
    `${n} ready pods of ${ns}/${app}`,
  );
}

async function updateDeployment(ns: string, name: string, change: (d: appsv1.Deployment) => void): Promise<void> {
  await eventually(async () => {
    const d = deepCopy(await cluster.admin.deployments.get(name, { namespace: ns }));
    change(d);
    await cluster.admin.deployments.update(d);
    return true;
  });
}

describe('deployments', () => {
  test('a Deployment of 3 keeps 3 pods when pods are deleted', async () => {
    await namespace('keep');
    await cluster.admin.deployments.create(deploymentObject('web', 'keep', 3));
    const first = await readyPods('keep', 'web', 3);
    for (const p of first.slice(0, 2)) await cluster.admin.pods.delete(p.metadata!.name!, { namespace: 'keep' });
    const again = await eventually(async () => {
      const list = (await pods('keep', 'web')).filter(active);
      const replaced = list.filter((p) => !first.some((f) => f.metadata?.uid === p.metadata?.uid)).length;
      return list.length === 3 && list.every(isReady) && replaced === 2 ? list : undefined;
    });
    expect(again).toHaveLength(3);
    const d = await eventually(async () => {
      const x = await cluster.admin.deployments.get('web', { namespace: 'keep' });
      return x.status?.availableReplicas === 3 ? x : undefined;
    });
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(Object.fromEntries((d.status?.conditions ?? []).map((c) => [c.type, c.status]))).toEqual({ Available: 'True', Progressing: 'True' });
  });

  test('scaling up and down', async () => {
    await namespace('scale');
    await cluster.admin.deployments.create(deploymentObject('web', 'scale', 2));
    await readyPods('scale', 'web', 2);
    await updateDeployment('scale', 'web', (d) => {
      d.spec!.replicas = 5;
    });
    await readyPods('scale', 'web', 5);
    // Through the scale subresource, as `k8ts scale` does.
    await eventually(async () => {
      const scale = await cluster.admin.deployments.getScale('web', { namespace: 'scale' });
      await cluster.admin.deployments.updateScale({ ...scale, spec: { replicas: 1 } });
      return true;
    });
    await readyPods('scale', 'web', 1);
    const rss = (await cluster.admin.replicaSets.list({ namespace: 'scale' })).items;
    expect(rss).toHaveLength(1);
    await eventually(async () => (await cluster.admin.replicaSets.get(rss[0].metadata!.name!, { namespace: 'scale' })).status?.replicas === 1);
  });

  test('a rolling update never goes below what maxUnavailable allows; rollback returns to the old ReplicaSet', async () => {
    await namespace('roll');
    const replicas = 4;
    await cluster.admin.deployments.create(
      deploymentObject('web', 'roll', replicas, {
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: { intVal: 1 }, maxUnavailable: { intVal: 1 } } },
      }),
    );
    await readyPods('roll', 'web', replicas);
    await eventually(async () => (await cluster.admin.deployments.get('web', { namespace: 'roll' })).status?.availableReplicas === replicas);

    // A watcher records the ready pods at every change.
    const states: { ready: number; active: number }[] = [];
    const informer = new Informer(listWatchFor(cluster.admin.pods, { namespace: 'roll', labelSelector: 'app=web' }), { name: 'watcher' });
    const record = () => {
      // The initial list arrives pod by pod: only changes after it count.
      if (!informer.hasSynced()) return;
      const all = informer.lister.list().filter(active);
      states.push({ ready: all.filter(isReady).length, active: all.length });
    };
    informer.addEventHandler({ onAdd: record, onUpdate: record, onDelete: record });
    const stop = new AbortController();
    informer.start(stop.signal);
    await informer.waitForSync();
    try {
      const rollTo = async (image: string) => {
        await updateDeployment('roll', 'web', (d) => {
          d.spec!.template!.spec!.containers![0].image = image;
        });
        await eventually(
          async () => {
            const list = (await pods('roll', 'web')).filter(active);
            return list.length === replicas && list.every((p) => isReady(p) && p.spec?.containers?.[0].image === image);
          },
          90_000,
          `every pod running ${image}`,
        );
      };
      await rollTo('k8ts/echo:2');
      const minReady = replicas - 1;
      expect(states.length).toBeGreaterThan(replicas);
      expect(states.filter((s) => s.ready < minReady)).toEqual([]);

      const d = await cluster.admin.deployments.get('web', { namespace: 'roll' });
      expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
      const rss = (await cluster.admin.replicaSets.list({ namespace: 'roll' })).items;
      expect(rss).toHaveLength(2);
      const rev1 = rss.find((rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1')!;
      expect(rev1.spec?.replicas).toBe(0);

      // Rollback as `k8ts rollout undo` does it: revision 1's template into the Deployment.
      states.length = 0;
      await updateDeployment('roll', 'web', (dep) => {
        const t = deepCopy(rev1.spec!.template!);
        delete t.metadata!.labels!['pod-template-hash'];
        dep.spec!.template = t;
      });
      await eventually(
        async () => {
          const list = (await pods('roll', 'web')).filter(active);
          return list.length === replicas && list.every((p) => isReady(p) && p.spec?.containers?.[0].image === 'k8ts/echo');
        },
        90_000,
        'every pod back on k8ts/echo',
      );
      expect(states.filter((s) => s.ready < minReady)).toEqual([]);
      const reused = await eventually(async () => {
        const rs = await cluster.admin.replicaSets.get(rev1.metadata!.name!, { namespace: 'roll' });
        return rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '3' ? rs : undefined;
      });
      expect(reused.metadata?.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1');
      expect((await cluster.admin.replicaSets.list({ namespace: 'roll' })).items).toHaveLength(2);
      await eventually(async () => (await cluster.admin.deployments.get('web', { namespace: 'roll' })).metadata?.annotations?.['deployment.kubernetes.io/revision'] === '3');
    } finally {
      stop.abort();
      await informer.stop();
    }
  }, 240_000);

  test('endpoints follow readiness', async () => {
    await namespace('svc');
    await cluster.admin.deployments.create(deploymentObject('web', 'svc', 3));
    await cluster.admin.services.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'svc' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: { strVal: 'http' }, protocol: 'TCP' }] },
    });
    const ready = await readyPods('svc', 'web', 3);
    const endpoints = async () => (await cluster.admin.endpoints.get('web', { namespace: 'svc' })).subsets ?? [];
    const ips = (subsets: corev1.EndpointSubset[], field: 'addresses' | 'notReadyAddresses') =>
      subsets.flatMap((s) => s[field] ?? []).map((a) => a.ip).sort();
    await eventually(async () => ips(await endpoints(), 'addresses').length === 3);
    const subsets = await endpoints();
    expect(subsets).toHaveLength(1);
    expect(subsets[0].ports).toEqual([expect.objectContaining({ name: 'http', port: 8080, protocol: 'TCP' })]);
    const addr = subsets[0].addresses!.find((a) => a.targetRef?.name === ready[0].metadata?.name)!;
    expect(addr).toMatchObject({ ip: ready[0].status?.podIP, nodeName: ready[0].spec?.nodeName, targetRef: { kind: 'Pod', namespace: 'svc', uid: ready[0].metadata?.uid } });

    const victim = ready[0];
    await kubelet.setReady('svc', victim.metadata!.name!, false);
    await eventually(async () => {
      const s = await endpoints();
      return ips(s, 'notReadyAddresses').join() === victim.status?.podIP && ips(s, 'addresses').length === 2;
    });
    await kubelet.setReady('svc', victim.metadata!.name!, true);
    await eventually(async () => {
      const s = await endpoints();
      return ips(s, 'addresses').length === 3 && ips(s, 'notReadyAddresses').length === 0;
    });
  });
});
