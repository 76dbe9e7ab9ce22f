// The shared ControllerRefManager (src/util/controllerref.ts) against the fake clientset:
// what is claimed, adopted and released, the once-per-pass live check of the controller, and
// how failures come back.
import * as grpc from '@grpc/grpc-js';
import type { appsv1, corev1 } from '@k8ts/api';
import { ApiError, type KubeObject, isConflict, isNotFound, labelSelectorAsSelector } from '@k8ts/client';
import { type FakeClientset, createFakeClientset } from '@k8ts/client/fake';
import {
  type ControllerKind,
  ControllerRefManager,
  controllerOf,
  freshController,
  recheckDeletionTimestamp,
} from '../src/util/controllerref';
import { ReplicaSetController } from '../src/controllers/replicaset';
import { all, harness, pod, replicaSet } from './helpers';

const RS_KIND: ControllerKind = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };
const FINALIZER = 'batch.kubernetes.io/job-tracking';
const OWNER = { kind: 'ReplicaSet', name: 'web', uid: 'uid-web' };

/** The fake cluster holding `live` (the controller as the apiserver has it) and `objects`. */
function cluster(live: appsv1.ReplicaSet | undefined, objects: KubeObject[]): FakeClientset {
  return createFakeClientset({ objects: live ? [live, ...objects] : objects });
}

/** Pods as the fake stores them (with their resourceVersions), in the order given. */
function stored(cs: FakeClientset, names: string[]): corev1.Pod[] {
  return names.map((n) => cs.tracker.get('pods', 'default', n) as corev1.Pod);
}

function podNamed(cs: FakeClientset, name: string): corev1.Pod {
  return cs.tracker.get('pods', 'default', name) as corev1.Pod;
}

function manager(cs: FakeClientset, controller: appsv1.ReplicaSet, finalizers?: string[]): ControllerRefManager<corev1.Pod> {
  return new ControllerRefManager<corev1.Pod>({
    controller,
    controllerKind: RS_KIND,
    selector: labelSelectorAsSelector(controller.spec?.selector),
    objectKind: 'Pod',
    objects: cs.pods,
    canAdopt: recheckDeletionTimestamp(freshController(cs.replicaSets, controller, RS_KIND)),
    finalizers,
  });
}

/** The verbs the fake saw for a resource. */
function verbs(cs: FakeClientset, resource: string): string[] {
  return cs.actions.filter((a) => a.resource === resource).map((a) => a.verb);
}

function names(objs: KubeObject[]): string[] {
  return objs.map((o) => o.metadata?.name ?? '').sort();
}

describe('ControllerRefManager.claim', () => {
  test('keeps owned matching objects, adopts matching orphans, releases owned ones that stopped matching, leaves the rest', async () => {
    const rs = replicaSet('web', 3);
    const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cfg', uid: 'uid-cfg' };
    const orphanWithRef = pod('orphan-with-ref', 'web');
    orphanWithRef.metadata!.ownerReferences = [other];
    const relabeled = pod('relabeled', 'other', { owner: OWNER });
    relabeled.metadata!.ownerReferences!.push(other);
    const otherNs = pod('other-ns', 'web');
    otherNs.metadata!.namespace = 'elsewhere';
    const all = [
      pod('owned', 'web', { owner: OWNER }),
      pod('orphan', 'web'),
      orphanWithRef,
      relabeled,
      pod('someone-elses', 'web', { owner: { kind: 'ReplicaSet', name: 'x', uid: 'uid-x' } }),
      pod('unmatched-orphan', 'other'),
      pod('deleting-orphan', 'web', { deleting: true }),
      otherNs,
    ];
    const cs = cluster(rs, all);
    const byName = ['owned', 'orphan', 'orphan-with-ref', 'relabeled', 'someone-elses', 'unmatched-orphan', 'deleting-orphan'];
    const claimed = await manager(cs, rs).claim([...stored(cs, byName), cs.tracker.get('pods', 'elsewhere', 'other-ns') as corev1.Pod]);

    expect(names(claimed)).toEqual(['orphan', 'orphan-with-ref', 'owned']);
    const ref = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'uid-web', controller: true, blockOwnerDeletion: true };
    expect(podNamed(cs, 'orphan').metadata?.ownerReferences).toEqual([ref]);
    // Other owners are kept, the controller reference is added.
    expect(podNamed(cs, 'orphan-with-ref').metadata?.ownerReferences).toEqual([other, ref]);
    expect(podNamed(cs, 'relabeled').metadata?.ownerReferences).toEqual([other]);
    expect(controllerOf(podNamed(cs, 'someone-elses'))?.uid).toBe('uid-x');
    for (const n of ['unmatched-orphan', 'deleting-orphan']) expect(podNamed(cs, n).metadata?.ownerReferences).toEqual([]);
    expect((cs.tracker.get('pods', 'elsewhere', 'other-ns') as corev1.Pod).metadata?.ownerReferences).toEqual([]);
    // Adopted objects come back as stored after the adoption.
    const adopted = claimed.find((p) => p.metadata?.name === 'orphan');
    expect(adopted?.metadata?.resourceVersion).toBe(podNamed(cs, 'orphan').metadata?.resourceVersion);
    expect(controllerOf(adopted!)?.uid).toBe('uid-web');
    // Three writes: two adoptions and one release.
    expect(verbs(cs, 'pods')).toEqual(['update', 'update', 'update']);
  });

  test('the live check runs once, and only when something is adopted', async () => {
    const rs = replicaSet('web', 3);
    const cs = cluster(rs, [pod('owned', 'web', { owner: OWNER }), pod('a', 'web'), pod('b', 'web')]);
    await manager(cs, rs).claim(stored(cs, ['owned']));
    expect(verbs(cs, 'replicasets')).toEqual([]);
    await manager(cs, rs).claim(stored(cs, ['a', 'b']));
    expect(verbs(cs, 'replicasets')).toEqual(['get']);
    expect(controllerOf(podNamed(cs, 'b'))?.uid).toBe('uid-web');
  });

  test('a controller being deleted keeps what it owns but neither adopts nor releases (and reads nothing)', async () => {
    const rs = replicaSet('web', 3);
    rs.metadata!.deletionTimestamp = '2030-01-01T00:00:00.000Z';
    const cs = cluster(rs, [pod('owned', 'web', { owner: OWNER }), pod('relabeled', 'other', { owner: OWNER }), pod('orphan', 'web')]);
    const claimed = await manager(cs, rs).claim(stored(cs, ['owned', 'relabeled', 'orphan']));
    expect(names(claimed)).toEqual(['owned']);
    expect(controllerOf(podNamed(cs, 'relabeled'))?.uid).toBe('uid-web');
    expect(podNamed(cs, 'orphan').metadata?.ownerReferences).toEqual([]);
    expect(cs.actions).toEqual([]);
  });

  test('refuses adoption when the live controller is being deleted though the cache does not show it', async () => {
    const cached = replicaSet('web', 3);
    const live = replicaSet('web', 3);
    live.metadata!.deletionTimestamp = '2030-01-01T00:00:00.000Z';
    live.metadata!.finalizers = ['foregroundDeletion'];
    const cs = cluster(live, [pod('a', 'web'), pod('b', 'web'), pod('relabeled', 'other', { owner: OWNER })]);
    const m = manager(cs, cached);
    const err = await m.claim(stored(cs, ['a', 'b', 'relabeled'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AggregateError);
    const errors = (err as AggregateError).errors as Error[];
    expect(errors.map((e) => e.message)).toEqual([
      "can't adopt Pod default/a (uid-a): default/web has just been deleted (metadata.deletionTimestamp 2030-01-01T00:00:00.000Z)",
      "can't adopt Pod default/b (uid-b): default/web has just been deleted (metadata.deletionTimestamp 2030-01-01T00:00:00.000Z)",
    ]);
    // Nothing adopted; the check was made once; releasing still happened (the cached controller is not being deleted).
    for (const n of ['a', 'b']) expect(podNamed(cs, n).metadata?.ownerReferences).toEqual([]);
    expect(podNamed(cs, 'relabeled').metadata?.ownerReferences).toEqual([]);
    expect(verbs(cs, 'replicasets')).toEqual(['get']);
    // The answer is kept for the manager's lifetime: no second read.
    await expect(m.adopt(podNamed(cs, 'a'))).rejects.toThrow(/has just been deleted/);
    expect(verbs(cs, 'replicasets')).toEqual(['get']);
  });

  test('refuses adoption when the name now belongs to another object (uid changed)', async () => {
    const cached = replicaSet('web', 3);
    const live = replicaSet('web', 3);
    live.metadata!.uid = 'uid-new';
    const cs = cluster(live, [pod('a', 'web')]);
    await expect(manager(cs, cached).claim(stored(cs, ['a']))).rejects.toThrow(
      "can't adopt Pod default/a (uid-a): can't recheck metadata.deletionTimestamp: original ReplicaSet default/web is gone: got metadata.uid uid-new, wanted uid-web",
    );
    expect(podNamed(cs, 'a').metadata?.ownerReferences).toEqual([]);
  });

  test('a controller the apiserver no longer has fails the claim: its NotFound is not taken for the pod vanishing', async () => {
    const cached = replicaSet('web', 3);
    const cs = cluster(undefined, [pod('a', 'web')]);
    const err = await manager(cs, cached)
      .claim(stored(cs, ['a']))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(isNotFound(err)).toBe(false);
    expect((err as Error).message).toMatch(/^can't adopt Pod default\/a \(uid-a\): can't recheck metadata\.deletionTimestamp: .*not found/);
    expect(podNamed(cs, 'a').metadata?.ownerReferences).toEqual([]);
  });

  test('objects that vanished meanwhile are skipped without error, on adoption and on release', async () => {
    const rs = replicaSet('web', 3);
    const cs = cluster(rs, [pod('gone-orphan', 'web'), pod('gone-owned', 'other', { owner: OWNER }), pod('kept', 'web')]);
    const list = stored(cs, ['gone-orphan', 'gone-owned', 'kept']);
    cs.prependReactor((a) => {
      if (a.verb === 'update' && a.name.startsWith('gone-')) throw new ApiError(grpc.status.NOT_FOUND, `pods "${a.name}" not found`);
    });
    const claimed = await manager(cs, rs).claim(list);
    expect(names(claimed)).toEqual(['kept']);
  });

  test('one failure is thrown as it is, after every other object was handled', async () => {
    const rs = replicaSet('web', 3);
    const cs = cluster(rs, [pod('stale', 'web'), pod('fresh', 'web')]);
    const list = stored(cs, ['stale', 'fresh']);
    // Someone else changed `stale` after the cache saw it: its update conflicts.
    const changed = podNamed(cs, 'stale');
    await cs.pods.update({ ...changed, metadata: { ...changed.metadata, annotations: { touched: 'yes' } } });
    const err = await manager(cs, rs)
      .claim(list)
      .catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
    expect(controllerOf(podNamed(cs, 'fresh'))?.uid).toBe('uid-web');
    expect(controllerOf(podNamed(cs, 'stale'))).toBeUndefined();
  });

  test('finalizers: added once on adoption, removed on release, other finalizers kept', async () => {
    const rs = replicaSet('web', 3);
    const orphan = pod('orphan', 'web');
    orphan.metadata!.finalizers = ['example.com/keep'];
    const already = pod('already', 'web');
    already.metadata!.finalizers = [FINALIZER];
    const relabeled = pod('relabeled', 'other', { owner: OWNER });
    relabeled.metadata!.finalizers = ['example.com/keep', FINALIZER];
    const cs = cluster(rs, [orphan, already, relabeled]);
    const claimed = await manager(cs, rs, [FINALIZER]).claim(stored(cs, ['orphan', 'already', 'relabeled']));
    expect(names(claimed)).toEqual(['already', 'orphan']);
    expect(podNamed(cs, 'orphan').metadata?.finalizers).toEqual(['example.com/keep', FINALIZER]);
    expect(podNamed(cs, 'already').metadata?.finalizers).toEqual([FINALIZER]);
    expect(podNamed(cs, 'relabeled').metadata?.finalizers).toEqual(['example.com/keep']);
    expect(podNamed(cs, 'relabeled').metadata?.ownerReferences).toEqual([]);
  });

  test('without finalizers of its own the manager leaves an object\'s finalizers alone', async () => {
    const rs = replicaSet('web', 3);
    const relabeled = pod('relabeled', 'other', { owner: OWNER });
    relabeled.metadata!.finalizers = [FINALIZER];
    const cs = cluster(rs, [pod('orphan', 'web'), relabeled]);
    await manager(cs, rs).claim(stored(cs, ['orphan', 'relabeled']));
    expect(podNamed(cs, 'orphan').metadata?.finalizers ?? []).toEqual([]);
    expect(podNamed(cs, 'relabeled').metadata?.finalizers).toEqual([FINALIZER]);
  });
});

describe('the ReplicaSet controller through the manager', () => {
  test('a ReplicaSet its cache still has but the apiserver does not adopts nothing and creates nothing; the pass fails', async () => {
    const h = harness([replicaSet('web', 2), pod('orphan', 'web')]);
    const c = new ReplicaSetController(h.ctx);
    await h.start();
    h.cs.prependReactor((a) => {
      if (a.verb === 'get' && a.resource === 'replicasets') throw new ApiError(grpc.status.NOT_FOUND, `replicasets "${a.name}" not found`);
    });
    await expect(c.reconcile('default/web')).rejects.toThrow(/can't adopt Pod default\/orphan/);
    await h.settle();
    const pods = all<corev1.Pod>(h.cs, 'pods');
    expect(names(pods)).toEqual(['orphan']);
    expect(pods[0].metadata?.ownerReferences).toEqual([]);
    await h.stop();
  });
});
