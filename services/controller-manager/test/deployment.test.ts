import type { appsv1 } from '@k8ts/api';
import { deepCopy } from '@k8ts/client';
import { DeploymentController } from '../src/controllers/deployment';
import {
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  computeHash,
  equalIgnoreHash,
  resolveFenceposts,
} from '../src/controllers/deployment/util';
import { all, deployment, drain, harness, pod, podTemplate } from './helpers';

type H = ReturnType<typeof harness>;
const KEY = 'default/web';

function dep(h: H): appsv1.Deployment {
  return h.cs.tracker.get('deployments', 'default', 'web') as appsv1.Deployment;
}
function rss(h: H): appsv1.ReplicaSet[] {
  // By revision: oldest first.
  const rev = (rs: appsv1.ReplicaSet) => Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0);
  return all<appsv1.ReplicaSet>(h.cs, 'replicasets').sort((a, b) => rev(a) - rev(b));
}
const spec = (rs: appsv1.ReplicaSet) => rs.spec?.replicas ?? 1;

/**
 * Stands in for the ReplicaSet controller: every ReplicaSet gets status.replicas = spec;
 * pods that existed at the previous round are available now, new ones at the next round.
 */
async function simulateReplicaSets(h: H): Promise<void> {
  for (const rs of rss(h)) {
    const had = rs.status?.replicas ?? 0;
    const want = spec(rs);
    const status: appsv1.ReplicaSetStatus = {
      replicas: want,
      fullyLabeledReplicas: want,
      readyReplicas: Math.min(want, had),
      availableReplicas: Math.min(want, had),
      observedGeneration: rs.metadata?.generation ?? 1,
    };
    const cur = rs.status ?? {};
    if (cur.replicas === status.replicas && cur.availableReplicas === status.availableReplicas && cur.observedGeneration === status.observedGeneration) continue;
    await h.cs.replicaSets.updateStatus({ ...rs, status });
  }
  await h.settle();
}

/** Reconciles and simulates until nothing changes; checks the rollout bounds at every step. */
async function rollOut(h: H, c: DeploymentController, bounds?: { max: number; min: number }): Promise<number> {
  let steps = 0;
  for (let i = 0; i < 100; i++) {
    const before = JSON.stringify([rss(h).map((r) => [r.spec, r.status]), dep(h).status, dep(h).metadata?.annotations]);
    await c.reconcile(KEY);
    await h.settle();
    if (bounds) {
      const sets = rss(h);
      const total = sets.reduce((n, rs) => n + spec(rs), 0);
      // Pods that will still be available once every ReplicaSet has its spec.replicas.
      const available = sets.reduce((n, rs) => n + Math.min(spec(rs), rs.status?.availableReplicas ?? 0), 0);
      expect(total).toBeLessThanOrEqual(bounds.max);
      expect(available).toBeGreaterThanOrEqual(bounds.min);
    }
    await simulateReplicaSets(h);
    await drain(c.queue);
    const after = JSON.stringify([rss(h).map((r) => [r.spec, r.status]), dep(h).status, dep(h).metadata?.annotations]);
    steps++;
    if (before === after) return steps;
  }
  throw new Error('rollout did not settle');
}

async function changeTemplate(h: H, image: string): Promise<void> {
  const d = deepCopy(dep(h));
  d.spec!.template!.spec!.containers![0].image = image;
  await h.cs.deployments.update(d);
  await h.settle();
}

describe('deployment helpers', () => {
  test('the pod-template hash is stable: same meaning, same hash; any change, another', () => {
    const a = podTemplate('web');
    const b = deepCopy(a);
    // ts-proto fills unset fields with '' / [] / {}: the hash must not care.
    (b.spec as Record<string, unknown>).volumes = [];
    (b.spec as Record<string, unknown>).hostname = '';
    (b.metadata as Record<string, unknown>).annotations = {};
    expect(computeHash(a)).toBe(computeHash(b));
    expect(computeHash(a)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    const c = deepCopy(a);
    c.spec!.containers![0].image = 'echo:2';
    expect(computeHash(c)).not.toBe(computeHash(a));
    expect(computeHash(a, 1)).not.toBe(computeHash(a));
    // The hash label itself does not count.
    const d = deepCopy(a);
    d.metadata!.labels![POD_TEMPLATE_HASH_LABEL] = 'xyz';
    expect(computeHash(d)).toBe(computeHash(a));
    expect(equalIgnoreHash(a, d)).toBe(true);
    expect(equalIgnoreHash(a, c)).toBe(false);
  });

  test('maxSurge rounds up, maxUnavailable rounds down; both 0 would deadlock so unavailable becomes 1', () => {
    const f = (replicas: number, surge: string | number, unavailable: string | number) =>
      resolveFenceposts(
        deployment('x', replicas, {
          strategy: {
            type: 'RollingUpdate',
            rollingUpdate: {
              maxSurge: typeof surge === 'number' ? { intVal: surge } : { strVal: surge },
              maxUnavailable: typeof unavailable === 'number' ? { intVal: unavailable } : { strVal: unavailable },
            },
          },
        }),
      );
    expect(f(10, '25%', '25%')).toEqual({ maxSurge: 3, maxUnavailable: 2 });
    expect(f(3, '25%', '25%')).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(f(4, 2, 1)).toEqual({ maxSurge: 2, maxUnavailable: 1 });
    expect(f(4, 0, 0)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(f(5, '0%', '0%')).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(() => f(5, 'lots', 1)).toThrow(/not a percentage/);
  });
});

describe('deployment controller', () => {
  test('creates a ReplicaSet named by the template hash, with revision 1 and the Deployment as owner', async () => {
    const h = harness([deployment('web', 3)]);
    const c = new DeploymentController(h.ctx);
    await h.start();
    await c.reconcile(KEY);
    await h.settle();
    const [rs] = rss(h);
    const hash = computeHash(dep(h).spec?.template);
    expect(rs.metadata?.name).toBe(`web-${hash}`);
    expect(rs.metadata?.labels).toEqual({ app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash });
    expect(rs.spec?.selector?.matchLabels).toEqual({ app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash });
    expect(rs.spec?.template?.metadata?.labels).toEqual({ app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash });
    expect(rs.spec?.replicas).toBe(3);
    expect(rs.metadata?.annotations).toMatchObject({ [REVISION_ANNOTATION]: '1', [DESIRED_REPLICAS_ANNOTATION]: '3', [MAX_REPLICAS_ANNOTATION]: '4' });
    expect(rs.metadata?.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-web', controller: true, blockOwnerDeletion: true }]);
    expect(dep(h).metadata?.annotations?.[REVISION_ANNOTATION]).toBe('1');
    expect(dep(h).status?.conditions?.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetCreated' });
    await rollOut(h, c);
    expect(dep(h).status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0, observedGeneration: 1 });
    const conds = Object.fromEntries((dep(h).status?.conditions ?? []).map((x) => [x.type, [x.status, x.reason]]));
    expect(conds).toEqual({ Available: ['True', 'MinimumReplicasAvailable'], Progressing: ['True', 'NewReplicaSetAvailable'] });
    expect(rss(h)).toHaveLength(1);
    await h.stop();
  });

  const strategies: [string, number, string | number, string | number][] = [
    ['25%/25% of 4', 4, '25%', '25%'],
    ['surge 0, unavailable 1', 4, 0, 1],
    ['surge 2, unavailable 0', 4, 2, 0],
    ['30%/30% of 10', 10, '30%', '30%'],
    ['100% surge', 3, '100%', 0],
  ];
  test.each(strategies)('a rolling update (%s) stays within maxSurge and maxUnavailable at every step', async (_n, replicas, surge, unavailable) => {
    const iv = (v: string | number) => (typeof v === 'number' ? { intVal: v } : { strVal: v });
    const d = deployment('web', replicas, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: iv(surge), maxUnavailable: iv(unavailable) } } });
    const h = harness([d]);
    const c = new DeploymentController(h.ctx);
    await h.start();
    await rollOut(h, c);
    await rollOut(h, c);
    const { maxSurge, maxUnavailable } = resolveFenceposts(d);
    await changeTemplate(h, 'echo:2');
    const steps = await rollOut(h, c, { max: replicas + maxSurge, min: replicas - maxUnavailable });
    expect(steps).toBeGreaterThan(1);
    const [oldRS, newRS] = rss(h);
    expect(spec(oldRS)).toBe(0);
    expect(spec(newRS)).toBe(replicas);
    expect(newRS.spec?.template?.spec?.containers?.[0].image).toBe('echo:2');
    expect(newRS.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('2');
    expect(dep(h).metadata?.annotations?.[REVISION_ANNOTATION]).toBe('2');
    expect(dep(h).status).toMatchObject({ replicas, updatedReplicas: replicas, availableReplicas: replicas });
    expect(h.events.some((e) => e.reason === 'ScalingReplicaSet' && /Scaled down replica set web-\w+ from \d+ to 0/.test(e.message))).toBe(true);
    await h.stop();
  });

  test('Recreate: old ReplicaSets go to 0 and their pods must be gone before the new one is created', async () => {
    const h = harness([deployment('web', 2, { strategy: { type: 'Recreate' } })]);
    const c = new DeploymentController(h.ctx);
    await h.start();
    await rollOut(h, c);
    const [old] = rss(h);
    // A pod of the old ReplicaSet that is still running.
    await h.cs.pods.create(pod('old-pod', 'web', { owner: { kind: 'ReplicaSet', name: old.metadata!.name!, uid: old.metadata!.uid! } }));
    await changeTemplate(h, 'echo:2');
    await rollOut(h, c);
    expect(rss(h)).toHaveLength(1);
    expect(spec(rss(h)[0])).toBe(0);
    await h.cs.pods.delete('old-pod', { namespace: 'default' });
    await h.settle();
    await rollOut(h, c);
    const [o, n] = rss(h);
    expect(spec(o)).toBe(0);
    expect(spec(n)).toBe(2);
    await h.stop();
  });

  test('rollback: the template of an old revision reuses its ReplicaSet, which gets the next revision', async () => {
    const h = harness([deployment('web', 2)]);
    const c = new DeploymentController(h.ctx);
    await h.start();
    await rollOut(h, c);
    await changeTemplate(h, 'echo:2');
    await rollOut(h, c);
    const rev1 = rss(h).find((rs) => rs.metadata?.annotations?.[REVISION_ANNOTATION] === '1')!;
    // What `k8ts rollout undo` does: copy revision 1's template without the hash label.
    const d = deepCopy(dep(h));
    const template = deepCopy(rev1.spec!.template!);
    delete template.metadata!.labels![POD_TEMPLATE_HASH_LABEL];
    d.spec!.template = template;
    await h.cs.deployments.update(d);
    await h.settle();
    await rollOut(h, c);
    expect(rss(h)).toHaveLength(2);
    const reused = h.cs.tracker.get('replicasets', 'default', rev1.metadata!.name!) as appsv1.ReplicaSet;
    expect(reused.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('3');
    expect(reused.metadata?.annotations?.[REVISION_HISTORY_ANNOTATION]).toBe('1');
    expect(spec(reused)).toBe(2);
    expect(dep(h).metadata?.annotations?.[REVISION_ANNOTATION]).toBe('3');
    await h.stop();
  });

  test('revisionHistoryLimit: the oldest scaled-down ReplicaSets are deleted', async () => {
    const h = harness([deployment('web', 1, { revisionHistoryLimit: 1 })]);
    const c = new DeploymentController(h.ctx);
    await h.start();
    await rollOut(h, c);
    for (const image of ['echo:2', 'echo:3', 'echo:4']) {
      await h.clock.advance(1000);
      await changeTemplate(h, image);
      await rollOut(h, c);
    }
    const revisions = rss(h).map((rs) => rs.metadata?.annotations?.[REVISION_ANNOTATION]);
    expect(revisions.sort()).toEqual(['3', '4']);
    await h.stop();
  });

  test('paused: a template change waits, scaling still happens, and the Progressing condition says so', async () => {
    const h = harness([deployment('web', 2)]);
    const c = new DeploymentController(h.ctx);
    await h.start();
    await rollOut(h, c);
    const d = deepCopy(dep(h));
    d.spec!.paused = true;
    d.spec!.template!.spec!.containers![0].image = 'echo:2';
    d.spec!.replicas = 5;
    await h.cs.deployments.update(d);
    await h.settle();
    await rollOut(h, c);
    expect(rss(h)).toHaveLength(1);
    expect(spec(rss(h)[0])).toBe(5);
    expect(dep(h).status?.conditions?.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });
    const resumed = deepCopy(dep(h));
    resumed.spec!.paused = false;
    await h.cs.deployments.update(resumed);
    await h.settle();
    await rollOut(h, c);
    expect(rss(h).map(spec)).toEqual([0, 5]);
    await h.stop();
  });

  test('scaling during a rollout is proportional across the active ReplicaSets', async () => {
    const h = harness([deployment('web', 10, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: { intVal: 3 }, maxUnavailable: { intVal: 2 } } } })]);
    const c = new DeploymentController(h.ctx);
    await h.start();
    await rollOut(h, c);
    await changeTemplate(h, 'echo:2');
    // One step of the rollout: new RS 3 (surge), old 10 -> 8.
    await c.reconcile(KEY);
    await h.settle();
    await c.reconcile(KEY);
    await h.settle();
    const before = rss(h).map(spec);
    expect(before.reduce((a, b) => a + b, 0)).toBe(13);
    const d = deepCopy(dep(h));
    d.spec!.replicas = 20;
    await h.cs.deployments.update(d);
    await h.settle();
    await c.reconcile(KEY);
    await h.settle();
    const after = rss(h).map(spec);
    // 20 + maxSurge(3) = 23 in total, shared in proportion to the sizes before.
    expect(after.reduce((a, b) => a + b, 0)).toBe(23);
    expect(after[0]).toBeGreaterThan(before[0]);
    expect(after[1]).toBeGreaterThan(before[1]);
    await h.stop();
  });

  test('Progressing turns False with ProgressDeadlineExceeded when a rollout stalls', async () => {
    const h = harness([deployment('web', 2, { progressDeadlineSeconds: 30 })]);
    const c = new DeploymentController(h.ctx);
    await h.start();
    await c.reconcile(KEY);
    await h.settle();
    // The ReplicaSet never gets available pods. The controller looks again at the deadline.
    await c.reconcile(KEY);
    await h.settle();
    await drain(c.queue);
    await h.clock.advance(31_000);
    expect(await drain(c.queue)).toContain(KEY);
    await c.reconcile(KEY);
    await h.settle();
    expect(dep(h).status?.conditions?.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(dep(h).status?.conditions?.find((x) => x.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    await h.stop();
  });

  test('adopts an orphan ReplicaSet that matches and releases one that does not', async () => {
    const h = harness([deployment('web', 1)]);
    const c = new DeploymentController(h.ctx);
    await h.start();
    await rollOut(h, c);
    const [rs] = rss(h);
    const orphaned = deepCopy(rs);
    orphaned.metadata!.ownerReferences = [];
    await h.cs.replicaSets.update(orphaned);
    await h.settle();
    await c.reconcile(KEY);
    await h.settle();
    expect(rss(h)[0].metadata?.ownerReferences?.[0]?.uid).toBe('uid-web');
    expect(rss(h)).toHaveLength(1);
    const relabeled = deepCopy(rss(h)[0]);
    relabeled.metadata!.labels = { app: 'other' };
    await h.cs.replicaSets.update(relabeled);
    await h.settle();
    // Released; the new ReplicaSet's name is taken by it: a hash collision, counted in status.
    await expect(c.reconcile(KEY)).rejects.toThrow(/already exists/);
    await h.settle();
    const released = h.cs.tracker.get('replicasets', 'default', rs.metadata!.name!) as appsv1.ReplicaSet;
    expect(released.metadata?.ownerReferences).toEqual([]);
    expect(dep(h).status?.collisionCount).toBe(1);
    await c.reconcile(KEY);
    await h.settle();
    const names = all<appsv1.ReplicaSet>(h.cs, 'replicasets').map((x) => x.metadata?.name);
    expect(names).toHaveLength(2);
    expect(names).toContain(`web-${computeHash(dep(h).spec?.template, 1)}`);
    await h.stop();
  });

  test('a Deployment being deleted only gets its status updated', async () => {
    const d = deployment('web', 2);
    d.metadata!.deletionTimestamp = '2030-01-01T00:00:00.000Z';
    d.metadata!.finalizers = ['foregroundDeletion'];
    const h = harness([d]);
    const c = new DeploymentController(h.ctx);
    await h.start();
    await c.reconcile(KEY);
    await h.settle();
    expect(rss(h)).toHaveLength(0);
    expect(dep(h).status?.observedGeneration).toBe(1);
    await h.stop();
  });
});
