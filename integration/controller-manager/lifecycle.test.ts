// Namespaces, service accounts and their tokens, and the garbage collector's three propagation
// policies, over real processes.
import type { corev1 } from '@k8ts/api';
import { connect, isForbidden, isNotFound, isUnauthorized } from '@k8ts/client';
import { type Cluster, FakeKubelet, deploymentObject, eventually, startCluster } from './harness';

let cluster: Cluster;
let kubelet: FakeKubelet;

beforeAll(async () => {
  cluster = await startCluster();
  kubelet = new FakeKubelet(cluster.admin, ['node-a']);
  await kubelet.start();
  await cluster.startControllerManager(['--namespace-sync-period', '500ms']);
}, 120_000);

afterAll(async () => {
  await kubelet?.stop();
  await cluster?.stop();
});

async function namespace(name: string): Promise<void> {
  await cluster.admin.namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

async function gone(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return false;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

async function podsOf(ns: string): Promise<corev1.Pod[]> {
  return (await cluster.admin.pods.list({ namespace: ns })).items;
}

describe('namespaces', () => {
  test('a new namespace gets its default service account and a working token for it', async () => {
    await namespace('accounts');
    await eventually(() => cluster.admin.serviceAccounts.get('default', { namespace: 'accounts' }), 30_000, 'default service account');
    const secret = await eventually(async () => {
      const items = (await cluster.admin.secrets.list({ namespace: 'accounts' })).items;
      return items.find((s) => s.type === 'kubernetes.io/service-account-token' && (s.data?.token?.length ?? 0) > 0);
    }, 30_000, 'token secret');
    const sa = await cluster.admin.serviceAccounts.get('default', { namespace: 'accounts' });
    expect(secret.metadata?.annotations).toMatchObject({
      'kubernetes.io/service-account.name': 'default',
      'kubernetes.io/service-account.uid': sa.metadata?.uid,
    });
    expect(Buffer.from(secret.data!.namespace).toString()).toBe('accounts');
    await eventually(async () => (await cluster.admin.serviceAccounts.get('default', { namespace: 'accounts' })).secrets?.some((r) => r.name === secret.metadata?.name));

    // The token authenticates as the account (which may do nothing: PERMISSION_DENIED, not UNAUTHENTICATED).
    const token = Buffer.from(secret.data!.token).toString();
    const asAccount = connect({ address: cluster.apiserverAddress, token });
    try {
      const denied = await asAccount.secrets.list({ namespace: 'accounts' }).then(
        () => 'allowed',
        (err) => (isForbidden(err) ? 'forbidden' : String(err)),
      );
      expect(denied).toBe('forbidden');
      // Deleting the account deletes its token Secret, and the token stops working.
      await cluster.admin.serviceAccounts.delete('default', { namespace: 'accounts' });
      await eventually(() => gone(cluster.admin.secrets.get(secret.metadata!.name!, { namespace: 'accounts' })), 30_000, 'token secret deleted');
      await eventually(async () => {
        try {
          await asAccount.secrets.list({ namespace: 'accounts' });
          return false;
        } catch (err) {
          return isUnauthorized(err);
        }
      });
      // ... and the account comes back with a new token.
      await eventually(() => cluster.admin.serviceAccounts.get('default', { namespace: 'accounts' }), 30_000, 'default service account again');
    } finally {
      asAccount.close();
    }
  });

  test('deleting a namespace deletes everything in it, then the namespace', async () => {
    await namespace('doomed');
    await cluster.admin.deployments.create(deploymentObject('web', 'doomed', 2));
    await cluster.admin.configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'doomed' }, data: { a: 'b' } });
    await cluster.admin.services.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'doomed' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] },
    });
    await eventually(async () => (await podsOf('doomed')).length === 2);
    await eventually(() => cluster.admin.endpoints.get('web', { namespace: 'doomed' }));
    await cluster.admin.namespaces.delete('doomed');
    await eventually(() => gone(cluster.admin.namespaces.get('doomed')), 60_000, 'namespace doomed gone');
    for (const kind of ['pods', 'deployments', 'replicaSets', 'configMaps', 'services', 'endpoints', 'serviceAccounts', 'secrets'] as const) {
      const client = cluster.admin[kind] as { list(o: { namespace: string }): Promise<{ items: unknown[] }> };
      expect({ kind, left: (await client.list({ namespace: 'doomed' })).items.length }).toEqual({ kind, left: 0 });
    }
  }, 90_000);
});

describe('garbage collection: propagation policies', () => {
  beforeAll(() => namespace('gc'));

  async function deploymentWithPods(name: string): Promise<void> {
    await cluster.admin.deployments.create(deploymentObject(name, 'gc', 2));
    await eventually(async () => (await cluster.admin.pods.list({ namespace: 'gc', labelSelector: `app=${name}` })).items.length === 2);
  }
  const podsOfApp = async (app: string) => (await cluster.admin.pods.list({ namespace: 'gc', labelSelector: `app=${app}` })).items;
  const rssOfApp = async (app: string) => (await cluster.admin.replicaSets.list({ namespace: 'gc', labelSelector: `app=${app}` })).items;

  test('Background: the Deployment goes at once; its ReplicaSet and pods follow', async () => {
    await deploymentWithPods('bg');
    await cluster.admin.deployments.delete('bg', { namespace: 'gc', propagationPolicy: 'Background' });
    expect(await gone(cluster.admin.deployments.get('bg', { namespace: 'gc' }))).toBe(true);
    await eventually(async () => (await rssOfApp('bg')).length === 0 && (await podsOfApp('bg')).length === 0, 30_000, 'dependents collected');
  });

  test('Foreground: the Deployment waits (foregroundDeletion) until its dependents are gone', async () => {
    await deploymentWithPods('fg');
    const marked = await cluster.admin.deployments.delete('fg', { namespace: 'gc', propagationPolicy: 'Foreground' });
    expect(marked.metadata?.deletionTimestamp).toBeTruthy();
    expect(marked.metadata?.finalizers).toContain('foregroundDeletion');
    // Whenever the Deployment is seen gone, its dependents are gone too.
    await eventually(
      async () => {
        const d = await cluster.admin.deployments.get('fg', { namespace: 'gc' }).catch((err) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
        const rss = await rssOfApp('fg');
        const pods = await podsOfApp('fg');
        if (d) return false;
        expect({ rss: rss.length, pods: pods.length }).toEqual({ rss: 0, pods: 0 });
        return true;
      },
      30_000,
      'foreground deletion finished',
    );
  });

  test('Orphan: the Deployment goes and its ReplicaSet stays, without the owner reference', async () => {
    await deploymentWithPods('orphan');
    const [rs] = await rssOfApp('orphan');
    await cluster.admin.deployments.delete('orphan', { namespace: 'gc', propagationPolicy: 'Orphan' });
    await eventually(() => gone(cluster.admin.deployments.get('orphan', { namespace: 'gc' })), 30_000, 'deployment gone');
    const after = await cluster.admin.replicaSets.get(rs.metadata!.name!, { namespace: 'gc' });
    expect(after.metadata?.ownerReferences ?? []).toEqual([]);
    expect(after.metadata?.deletionTimestamp).toBeFalsy();
    const pods = await podsOfApp('orphan');
    expect(pods).toHaveLength(2);
    expect(pods.every((p) => p.metadata?.ownerReferences?.[0]?.uid === rs.metadata?.uid)).toBe(true);
  });
});
