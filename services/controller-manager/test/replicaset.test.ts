import * as grpc from '@grpc/grpc-js';
import type { appsv1, corev1 } from '@k8ts/api';
import { ApiError } from '@k8ts/client';
import { ReplicaSetController, podFromTemplate } from '../src/controllers/replicaset';
import { podsToDelete } from '../src/controllers/replicaset/ranking';
import { slowStartBatch } from '../src/util/slowstart';
import { all, drain, harness, pod, replicaSet } from './helpers';

const KEY = 'default/web';

function rsOf(h: ReturnType<typeof harness>, name = 'web'): appsv1.ReplicaSet {
  return h.cs.tracker.get('replicasets', 'default', name) as appsv1.ReplicaSet;
}

function podsOf(h: ReturnType<typeof harness>): corev1.Pod[] {
  return all<corev1.Pod>(h.cs, 'pods');
}

describe('replicaset controller', () => {
  test('creates the missing pods from the template, owned by the ReplicaSet, and reports status', async () => {
    const h = harness([replicaSet('web', 3)]);
    const c = new ReplicaSetController(h.ctx);
    await h.start();
    await c.reconcile(KEY);
    await h.settle();
    const pods = podsOf(h);
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata?.name).toMatch(/^web-/);
      expect(p.metadata?.labels).toEqual({ app: 'web' });
      expect(p.metadata?.ownerReferences).toEqual([
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'uid-web', controller: true, blockOwnerDeletion: true },
      ]);
      expect(p.spec?.containers?.[0].image).toBe('echo:1');
    }
    expect(h.events.filter((e) => e.reason === 'SuccessfulCreate')).toHaveLength(3);
    // The creations were observed: the next reconcile counts the pods in status.
    await c.reconcile(KEY);
    await h.settle();
    expect(rsOf(h).status).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 });
    expect(podsOf(h)).toHaveLength(3);
    await h.stop();
  });

  test('expectations: a slow watch never makes it create twice', async () => {
    const h = harness([replicaSet('web', 4)], { apiserverDeletes: false });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let watches = 0;
    h.cs.prependReactor(async (a) => {
      // The first pod watch (after the initial list) is held back.
      if (a.verb === 'watch' && a.resource === 'pods' && watches++ === 0) await gate;
    });
    const c = new ReplicaSetController(h.ctx);
    await h.start();
    await c.reconcile(KEY);
    await h.settle();
    expect(podsOf(h)).toHaveLength(4);
    // The informer has not seen the new pods: the expectations hold the ReplicaSet back.
    expect(c.expectations.satisfied(KEY)).toBe(false);
    await c.reconcile(KEY);
    await c.reconcile(KEY);
    expect(podsOf(h)).toHaveLength(4);
    release();
    await h.settle();
    expect(c.expectations.satisfied(KEY)).toBe(true);
    await c.reconcile(KEY);
    await h.settle();
    expect(podsOf(h)).toHaveLength(4);
    await h.stop();
  });

  test('expectations expire after five minutes, so a lost event cannot block a ReplicaSet forever', async () => {
    const h = harness([replicaSet('web', 1)]);
    const c = new ReplicaSetController(h.ctx);
    await h.start();
    c.expectations.expectCreations(KEY, 1);
    expect(c.expectations.satisfied(KEY)).toBe(false);
    await h.clock.advance(5 * 60 * 1000 + 1);
    expect(c.expectations.satisfied(KEY)).toBe(true);
    await h.stop();
  });

  test('slow start: creations go in batches of 1, 2, 4, ... and stop at the first failing batch', async () => {
    let calls = 0;
    const r = await slowStartBatch(10, 1, async () => {
      calls++;
      if (calls > 4) throw new Error('quota');
    });
    // batches 1, 2, 4: the third batch (calls 4..7) fails from its second call on
    expect(r.attempted).toBe(7);
    expect(r.successes).toBe(4);
    expect(r.errors).toHaveLength(3);
    expect((await slowStartBatch(10, 1, async () => {})).attempted).toBe(10);
  });

  test('a failing create: FailedCreate event, ReplicaFailure condition, expectations lowered, retried', async () => {
    const h = harness([replicaSet('web', 5)]);
    let creates = 0;
    h.cs.prependReactor((a) => {
      if (a.verb === 'create' && a.resource === 'pods' && ++creates > 2) throw new ApiError(grpc.status.RESOURCE_EXHAUSTED, 'exceeded quota');
    });
    const c = new ReplicaSetController(h.ctx);
    await h.start();
    await expect(c.reconcile(KEY)).rejects.toThrow(/exceeded quota/);
    await h.settle();
    // batches 1 and 2: the second batch's second create fails: 2 pods
    expect(podsOf(h)).toHaveLength(2);
    expect(h.events.some((e) => e.reason === 'FailedCreate' && /exceeded quota/.test(e.message))).toBe(true);
    expect(rsOf(h).status?.conditions?.[0]).toMatchObject({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate' });
    expect(c.expectations.satisfied(KEY)).toBe(true);
    await h.stop();
  });

  test('adopts matching orphans and releases owned pods that stopped matching', async () => {
    const h = harness([
      replicaSet('web', 2),
      pod('orphan', 'web'),
      pod('mine-but-relabeled', 'other', { owner: { kind: 'ReplicaSet', name: 'web', uid: 'uid-web' } }),
      pod('someone-elses', 'web', { owner: { kind: 'ReplicaSet', name: 'x', uid: 'uid-x' } }),
    ]);
    const c = new ReplicaSetController(h.ctx);
    await h.start();
    await c.reconcile(KEY);
    await h.settle();
    const byName = (n: string) => h.cs.tracker.get('pods', 'default', n) as corev1.Pod;
    expect(byName('orphan').metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', uid: 'uid-web', controller: true });
    expect(byName('mine-but-relabeled').metadata?.ownerReferences).toEqual([]);
    expect(byName('someone-elses').metadata?.ownerReferences?.[0].uid).toBe('uid-x');
    // One adopted, one more created.
    expect(podsOf(h).filter((p) => p.metadata?.ownerReferences?.[0]?.uid === 'uid-web')).toHaveLength(2);
    await h.stop();
  });

  test('a ReplicaSet being deleted neither creates pods nor adopts', async () => {
    const rs = replicaSet('web', 3);
    rs.metadata!.deletionTimestamp = '2030-01-01T00:00:00.000Z';
    rs.metadata!.finalizers = ['foregroundDeletion'];
    const h = harness([rs, pod('orphan', 'web')]);
    const c = new ReplicaSetController(h.ctx);
    await h.start();
    await c.reconcile(KEY);
    await h.settle();
    expect(podsOf(h)).toHaveLength(1);
    expect((h.cs.tracker.get('pods', 'default', 'orphan') as corev1.Pod).metadata?.ownerReferences).toEqual([]);
    await h.stop();
  });

  test('scales down the least valuable pods first', async () => {
    const owner = { kind: 'ReplicaSet', name: 'web', uid: 'uid-web' };
    const base = Date.parse('2029-12-31T00:00:00Z');
    const h = harness([
      replicaSet('web', 2),
      pod('ready-old', 'web', { owner, node: 'n1', ready: true, created: base }),
      pod('ready-new', 'web', { owner, node: 'n2', ready: true, created: base + 1000 }),
      pod('unscheduled', 'web', { owner, phase: 'Pending' }),
      pod('not-ready', 'web', { owner, node: 'n3', ready: false }),
    ]);
    const c = new ReplicaSetController(h.ctx);
    await h.start();
    await c.reconcile(KEY);
    await h.settle();
    expect(
      podsOf(h)
        .map((p) => p.metadata?.name)
        .sort(),
    ).toEqual(['ready-new', 'ready-old']);
    expect(h.events.filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message).sort()).toEqual([
      'Deleted pod: not-ready',
      'Deleted pod: unscheduled',
    ]);
    await h.stop();
  });

  test('ranking: unscheduled < pending < not ready < more restarts < newer', () => {
    const base = Date.parse('2029-12-31T00:00:00Z');
    const p = {
      unscheduled: pod('unscheduled', 'a', { phase: 'Pending' }),
      pending: pod('pending', 'a', { node: 'n', phase: 'Pending' }),
      notReady: pod('not-ready', 'a', { node: 'n', ready: false }),
      restarts: pod('restarts', 'a', { node: 'n', ready: true, readySince: base, restarts: 5, created: base }),
      newer: pod('newer', 'a', { node: 'n', ready: true, readySince: base, created: base + 5000 }),
      older: pod('older', 'a', { node: 'n', ready: true, readySince: base, created: base }),
    };
    const shuffled = [p.older, p.newer, p.restarts, p.notReady, p.pending, p.unscheduled];
    const names = (n: number) => podsToDelete(shuffled, [], n).map((x) => x.metadata?.name);
    expect(names(5)).toEqual(['unscheduled', 'pending', 'not-ready', 'restarts', 'newer']);
    // Pods ready for a shorter time go before those ready longer.
    const justReady = pod('just-ready', 'a', { node: 'n', ready: true, readySince: base + 60_000, created: base });
    expect(podsToDelete([p.older, justReady], [], 1)[0].metadata?.name).toBe('just-ready');
    // Pods doubled up on a node go first.
    const a = pod('a', 'a', { node: 'busy', ready: true, readySince: base, created: base });
    const b = pod('b', 'a', { node: 'quiet', ready: true, readySince: base, created: base });
    const related = [a, pod('a2', 'a', { node: 'busy' }), b];
    expect(podsToDelete([b, a], related, 1)[0].metadata?.name).toBe('a');
  });

  test('availableReplicas counts pods ready for minReadySeconds; it looks again when one becomes available', async () => {
    const owner = { kind: 'ReplicaSet', name: 'web', uid: 'uid-web' };
    const now = Date.parse('2030-01-01T00:00:00Z');
    const h = harness([
      replicaSet('web', 2, 'web', { minReadySeconds: 10 }),
      pod('a', 'web', { owner, node: 'n', ready: true, readySince: now - 60_000 }),
      pod('b', 'web', { owner, node: 'n', ready: true, readySince: now - 4000 }),
    ]);
    const c = new ReplicaSetController(h.ctx);
    await h.start();
    await c.reconcile(KEY);
    await h.settle();
    expect(rsOf(h).status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 1 });
    // Queued again for when b has been ready 10 s.
    await drain(c.queue);
    expect(c.queue.len()).toBe(0);
    await h.clock.advance(5000);
    expect(c.queue.len()).toBe(0);
    await h.clock.advance(2000);
    expect(c.queue.len()).toBe(1);
    await c.reconcile(KEY);
    await h.settle();
    expect(rsOf(h).status).toMatchObject({ availableReplicas: 2 });
    await h.stop();
  });

  test('observedGeneration follows the spec; scaling to 0 deletes every pod', async () => {
    const h = harness([replicaSet('web', 2)]);
    const c = new ReplicaSetController(h.ctx);
    await h.start();
    await c.reconcile(KEY);
    await h.settle();
    const rs = rsOf(h);
    await h.cs.replicaSets.update({ ...rs, spec: { ...rs.spec, replicas: 0 } });
    await h.settle();
    await c.reconcile(KEY);
    await h.settle();
    expect(podsOf(h)).toHaveLength(0);
    await c.reconcile(KEY);
    expect(rsOf(h).status).toMatchObject({ replicas: 0, observedGeneration: 2 });
    await h.stop();
  });

  test('running: a deleted pod is replaced', async () => {
    const h = harness([replicaSet('web', 3)]);
    const c = new ReplicaSetController(h.ctx);
    await h.start();
    h.run(c);
    await h.until(() => podsOf(h).length === 3);
    const victim = podsOf(h)[0];
    await h.cs.pods.delete(victim.metadata!.name!, { namespace: 'default' });
    await h.until(() => podsOf(h).length === 3 && !podsOf(h).some((p) => p.metadata?.uid === victim.metadata?.uid));
    await h.until(() => rsOf(h).status?.replicas === 3);
    await h.stop();
  });

  test('podFromTemplate copies labels, annotations and finalizers, never the template object itself', () => {
    const rs = replicaSet('web', 1);
    rs.spec!.template!.metadata!.annotations = { a: 'b' };
    const p = podFromTemplate(rs);
    expect(p.metadata).toMatchObject({ generateName: 'web-', namespace: 'default', labels: { app: 'web' }, annotations: { a: 'b' } });
    p.metadata!.labels!.app = 'changed';
    expect(rs.spec?.template?.metadata?.labels?.app).toBe('web');
  });
});
