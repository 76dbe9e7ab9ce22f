import type { appsv1, corev1, metav1 } from '@k8ts/api';
import type { KubeObject } from '@k8ts/client';
import { GarbageCollector } from '../src/controllers/garbagecollector';
import { all, deployment, harness, pod, replicaSet } from './helpers';

type H = ReturnType<typeof harness>;

function ref(kind: string, name: string, block = true): metav1.OwnerReference {
  return {
    apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1',
    kind,
    name,
    uid: `uid-${name}`,
    controller: true,
    blockOwnerDeletion: block,
  };
}

/** Deployment web -> ReplicaSet web-1 -> pods p1, p2. */
function family(block = true): KubeObject[] {
  const rs = replicaSet('web-1', 2, 'web');
  rs.metadata!.ownerReferences = [ref('Deployment', 'web', block)];
  const pods = ['p1', 'p2'].map((n) => {
    const p = pod(n, 'web');
    p.metadata!.ownerReferences = [ref('ReplicaSet', 'web-1', block)];
    return p;
  });
  return [deployment('web', 2), rs, ...pods];
}

const names = (h: H, resource: string) =>
  all<KubeObject>(h.cs, resource)
    .map((o) => o.metadata?.name)
    .sort();

async function gc(objects: KubeObject[]): Promise<H> {
  const h = harness(objects);
  const c = new GarbageCollector(h.ctx);
  await h.start();
  h.run(c);
  return h;
}

describe('garbage collector', () => {
  test('Background: the owner goes at once, then its dependents, level by level', async () => {
    const h = await gc(family());
    await h.cs.deployments.delete('web', { namespace: 'default', propagationPolicy: 'Background' });
    await h.until(() => names(h, 'replicasets').length === 0 && names(h, 'pods').length === 0);
    expect(h.deletes.filter((d) => d.resource !== 'deployments').map((d) => `${d.resource}/${d.name}:${d.policy}`).sort()).toEqual([
      'pods/p1:Background',
      'pods/p2:Background',
      'replicasets/web-1:Background',
    ]);
    await h.stop();
  });

  test('Foreground: the owner stays (foregroundDeletion) until its blocking dependents are gone', async () => {
    const h = await gc(family());
    await h.cs.deployments.delete('web', { namespace: 'default', propagationPolicy: 'Foreground' });
    const d = h.cs.tracker.get('deployments', 'default', 'web') as appsv1.Deployment;
    expect(d.metadata?.finalizers).toEqual(['foregroundDeletion']);
    await h.until(() => {
      const owner = h.cs.tracker.get('deployments', 'default', 'web');
      // The owners must never go while a dependent is still there.
      if (!owner) expect([...names(h, 'pods'), ...names(h, 'replicasets')]).toEqual([]);
      if (!h.cs.tracker.get('replicasets', 'default', 'web-1')) expect(names(h, 'pods')).toEqual([]);
      return !owner;
    });
    // The ReplicaSet had dependents of its own: it was deleted in the foreground too.
    expect(h.deletes.find((x) => x.resource === 'replicasets')?.policy).toBe('Foreground');
    await h.stop();
  });

  test('Foreground: dependents that do not block are deleted, but the owner does not wait for them', async () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default', ownerReferences: [ref('Deployment', 'web', false)], finalizers: ['example.com/slow'] } };
    const h = await gc([deployment('web', 1), cm]);
    await h.cs.deployments.delete('web', { namespace: 'default', propagationPolicy: 'Foreground' });
    await h.until(() => !h.cs.tracker.get('deployments', 'default', 'web'));
    // The config map was asked to go (it has a finalizer of its own, so it is still there, being deleted).
    const left = h.cs.tracker.get('configmaps', 'default', 'cfg');
    expect(left?.metadata?.deletionTimestamp).toBeTruthy();
    await h.stop();
  });

  test('Orphan: dependents lose their reference to the owner, then the owner goes', async () => {
    const h = await gc(family());
    await h.cs.deployments.delete('web', { namespace: 'default', propagationPolicy: 'Orphan' });
    await h.until(() => !h.cs.tracker.get('deployments', 'default', 'web'));
    const rs = h.cs.tracker.get('replicasets', 'default', 'web-1') as appsv1.ReplicaSet;
    expect(rs.metadata?.ownerReferences).toEqual([]);
    expect(rs.metadata?.deletionTimestamp).toBeUndefined();
    // The pods keep their ReplicaSet.
    expect(names(h, 'pods')).toEqual(['p1', 'p2']);
    await h.clock.advance(1000);
    await h.settle();
    expect(names(h, 'replicasets')).toEqual(['web-1']);
    await h.stop();
  });

  test('an object whose owner never existed (or was replaced) is collected; one with a live owner stays', async () => {
    const dangling = pod('dangling', 'web');
    dangling.metadata!.ownerReferences = [ref('ReplicaSet', 'ghost')];
    const replaced = pod('replaced', 'web');
    // Points to a ReplicaSet named like a live one, but with another uid.
    replaced.metadata!.ownerReferences = [{ ...ref('ReplicaSet', 'live'), uid: 'uid-of-an-earlier-live' }];
    const kept = pod('kept', 'web');
    kept.metadata!.ownerReferences = [ref('ReplicaSet', 'live')];
    const twoOwners = pod('two-owners', 'web');
    twoOwners.metadata!.ownerReferences = [ref('ReplicaSet', 'live'), { ...ref('ReplicaSet', 'ghost2'), controller: false }];
    const h = await gc([replicaSet('live', 1), dangling, replaced, kept, twoOwners]);
    await h.until(() => names(h, 'pods').join() === 'kept,two-owners');
    // The pod with one live owner keeps living, without its dangling reference.
    await h.until(() => ((h.cs.tracker.get('pods', 'default', 'two-owners') as corev1.Pod).metadata?.ownerReferences ?? []).length === 1);
    await h.stop();
  });

  test('owners of kinds k8ts does not serve are left alone', async () => {
    const p = pod('set-pod', 'db');
    p.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 's', uid: 'uid-s', controller: true }];
    const h = await gc([p]);
    await h.clock.advance(5000);
    await h.settle();
    expect(names(h, 'pods')).toEqual(['set-pod']);
    await h.stop();
  });
});
