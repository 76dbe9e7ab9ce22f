import type { appsv1, corev1 } from '@k8ts/api';
import { deepCopy } from '@k8ts/client';
import { NamespaceController } from '../src/controllers/namespace';
import { all, deployment, harness, pod } from './helpers';

function ns(name: string): corev1.Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
}

function inNs<T extends { metadata?: { namespace?: string } }>(obj: T, namespace: string): T {
  obj.metadata!.namespace = namespace;
  return obj;
}

describe('namespace controller', () => {
  test('deleting a namespace deletes everything in it, then the namespace', async () => {
    const p = inNs(pod('p', 'web'), 'team');
    p.metadata!.finalizers = ['example.com/hold'];
    const h = harness([
      ns('team'),
      ns('other'),
      p,
      inNs(pod('q', 'web'), 'team'),
      inNs(deployment('web', 1), 'team'),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'team' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'team' } },
      inNs(pod('stays', 'web'), 'other'),
    ]);
    const c = new NamespaceController(h.ctx, { recheckMs: 1000 });
    await h.start();
    h.run(c);
    await h.cs.namespaces.delete('team');
    await h.until(() => all<corev1.Pod>(h.cs, 'pods').filter((x) => x.metadata?.namespace === 'team').length === 1);
    // The pod with a finalizer is marked, the rest is gone; the namespace waits and says why.
    const team = () => h.cs.tracker.get('namespaces', '', 'team') as corev1.Namespace | undefined;
    await h.until(() => !!team()?.status?.conditions?.some((x) => x.type === 'NamespaceFinalizersRemaining' && x.status === 'True'));
    expect(team()?.status?.phase).toBe('Terminating');
    expect(team()?.spec?.finalizers).toEqual(['kubernetes']);
    expect(all<appsv1.Deployment>(h.cs, 'deployments')).toHaveLength(0);
    expect(all(h.cs, 'configmaps')).toHaveLength(0);
    // The finalizer's owner finishes; the namespace goes.
    const held = deepCopy(h.cs.tracker.get('pods', 'team', 'p') as corev1.Pod);
    held.metadata!.finalizers = [];
    await h.cs.pods.update(held);
    await h.until(() => !team(), 10_000);
    expect(h.cs.tracker.get('namespaces', '', 'other')).toBeDefined();
    expect(h.cs.tracker.get('pods', 'other', 'stays')).toBeDefined();
    await h.stop();
  });

  test('an active namespace is left alone', async () => {
    const h = harness([ns('team'), inNs(pod('p', 'web'), 'team')]);
    const c = new NamespaceController(h.ctx);
    await h.start();
    await c.reconcile('team');
    expect(h.cs.tracker.get('pods', 'team', 'p')).toBeDefined();
    await h.stop();
  });
});
