import * as grpc from '@grpc/grpc-js';
import type { corev1 } from '@k8ts/api';
import { ApiError, type DeleteOptions, InformerFactory } from '@k8ts/client';
import { type FakeAction, createFakeClientset } from '@k8ts/client/fake';
import { parseConfig } from '@k8ts/kit';
import { flags, settingsFromConfig } from '../src';
import { CONTROLLERS } from '../src/controllers';
import { PodGcController, TAINT_OUT_OF_SERVICE } from '../src/controllers/podgc';
import { all, harness, pod } from './helpers';

type H = ReturnType<typeof harness>;
/** Where the harness's FakeClock starts. */
const START = Date.parse('2030-01-01T00:00:00Z');

function node(name: string, ready: 'True' | 'False' | 'Unknown', taints: corev1.Taint[] = []): corev1.Node {
  const t = new Date(START - 3600_000).toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, creationTimestamp: t },
    spec: { taints },
    status: { conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: t, lastTransitionTime: t }] },
  };
}

const outOfService: corev1.Taint = { key: TAINT_OUT_OF_SERVICE, value: 'nodeshutdown', effect: 'NoExecute' };

/** A pod that finished (Succeeded or Failed) on node n1, created `ageS` seconds before START. */
function finished(name: string, ageS: number, phase: 'Succeeded' | 'Failed' = 'Succeeded'): corev1.Pod {
  return pod(name, 'job', { node: 'n1', phase, created: START - ageS * 1000 });
}

function withFinalizer(p: corev1.Pod): corev1.Pod {
  p.metadata!.finalizers = ['example.com/keep'];
  return p;
}

const podNames = (h: H) =>
  all<corev1.Pod>(h.cs, 'pods')
    .map((p) => p.metadata?.name ?? '')
    .sort();
const getPod = (h: H, name: string) => h.cs.tracker.get('pods', 'default', name) as corev1.Pod | undefined;
const podActions = (h: H, verb: string) => h.cs.actions.filter((a) => a.resource === 'pods' && a.verb === verb);
const touched = (h: H, name: string) => h.cs.actions.filter((a) => a.resource === 'pods' && a.name === name && a.verb !== 'list' && a.verb !== 'watch');

/** Records the options of every pod deletion (calling through to the fake). */
function spyDeletes(h: H): Map<string, DeleteOptions | undefined> {
  const seen = new Map<string, DeleteOptions | undefined>();
  const orig = h.cs.pods.delete.bind(h.cs.pods);
  h.cs.pods.delete = (name: string, opts?: DeleteOptions) => {
    seen.set(name, opts);
    return orig(name, opts);
  };
  return seen;
}

async function started(objects: Parameters<typeof harness>[0], opts: ConstructorParameters<typeof PodGcController>[1] = {}) {
  const h = harness(objects);
  const c = new PodGcController(h.ctx, opts);
  await h.start();
  return { h, c };
}

describe('pod garbage collector', () => {
  test('terminated pods beyond the threshold: the oldest go, running pods stay', async () => {
    const { h, c } = await started(
      [
        node('n1', 'True'),
        finished('t-50', 50),
        finished('t-40', 40, 'Failed'),
        finished('t-30', 30),
        finished('t-20', 20, 'Failed'),
        finished('t-10', 10),
        // Older than every terminated pod, but running or pending: never counted, never deleted.
        pod('run-100', 'web', { node: 'n1', phase: 'Running', created: START - 100_000 }),
        pod('pending-90', 'web', { node: 'n1', phase: 'Pending', created: START - 90_000 }),
      ],
      { terminatedPodThreshold: 3 },
    );
    const deletes = spyDeletes(h);
    await c.gc();
    await h.settle();
    expect(podNames(h)).toEqual(['pending-90', 'run-100', 't-10', 't-20', 't-30']);
    expect([...deletes.keys()].sort()).toEqual(['t-40', 't-50']);
    expect(deletes.get('t-50')).toMatchObject({ namespace: 'default', gracePeriodSeconds: 0, preconditions: { uid: 'uid-t-50' } });
    // Terminated pods are deleted as they are: no status write first.
    expect(podActions(h, 'updateStatus')).toEqual([]);
    // At the threshold now: a second pass deletes nothing more.
    await c.gc();
    await h.settle();
    expect(podNames(h)).toEqual(['pending-90', 'run-100', 't-10', 't-20', 't-30']);
    await h.stop();
  });

  test('evicted pods go before older terminated pods', async () => {
    const evicted = finished('evicted-5', 5, 'Failed');
    evicted.status!.reason = 'Evicted';
    const { h, c } = await started([node('n1', 'True'), finished('t-50', 50), finished('t-40', 40), evicted], { terminatedPodThreshold: 2 });
    await c.gc();
    await h.settle();
    expect(podNames(h)).toEqual(['t-40', 't-50']);
    await h.stop();
  });

  test('a threshold of 0 (or less) deletes no terminated pod', async () => {
    for (const threshold of [0, -1]) {
      const { h, c } = await started([node('n1', 'True'), finished('a', 30), finished('b', 20, 'Failed'), finished('c', 10)], { terminatedPodThreshold: threshold });
      await c.gc();
      await h.settle();
      expect(podNames(h)).toEqual(['a', 'b', 'c']);
      expect(podActions(h, 'delete')).toEqual([]);
      await h.stop();
    }
  });

  test('orphaned pods: kept during the quarantine, then marked Failed (DisruptionTarget) and force-deleted', async () => {
    const { h, c } = await started(
      [
        node('n1', 'True'),
        pod('orphan', 'web', { node: 'gone', phase: 'Running', ready: true }),
        // A finalizer keeps this one after its deletion, so its final status can be read.
        withFinalizer(pod('kept-orphan', 'web', { node: 'gone', phase: 'Pending' })),
        pod('home', 'web', { node: 'n1', phase: 'Running', ready: true }),
      ],
      { quarantineMs: 40_000 },
    );
    const deletes = spyDeletes(h);
    await c.gc();
    await h.clock.advance(39_000);
    await c.gc();
    await h.settle();
    expect(podNames(h)).toEqual(['home', 'kept-orphan', 'orphan']);
    expect(getPod(h, 'orphan')?.status?.phase).toBe('Running');
    // Nothing is asked of the apiserver about the node before the quarantine is over.
    expect(h.cs.actions.filter((a) => a.resource === 'nodes' && a.verb === 'get')).toEqual([]);

    await h.clock.advance(1000);
    await c.gc();
    await h.settle();
    expect(h.cs.actions.filter((a) => a.resource === 'nodes' && a.verb === 'get').map((a) => a.name)).toEqual(['gone']);
    expect(podNames(h)).toEqual(['home', 'kept-orphan']);
    expect(deletes.get('orphan')).toMatchObject({ gracePeriodSeconds: 0, preconditions: { uid: 'uid-orphan' } });
    // The status write came before the deletion, with phase Failed and the condition.
    const orphanActions = touched(h, 'orphan').map((a) => a.verb);
    expect(orphanActions).toEqual(['updateStatus', 'delete']);
    const written = touched(h, 'orphan')[0].object as corev1.Pod;
    expect(written.status?.phase).toBe('Failed');
    expect(written.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' }),
    );
    // The pod its finalizer keeps: being deleted, Failed, with the condition.
    const kept = getPod(h, 'kept-orphan')!;
    expect(kept.metadata?.deletionTimestamp).toBeTruthy();
    expect(kept.status?.phase).toBe('Failed');
    expect(kept.status?.conditions?.find((x) => x.type === 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
    // The pod on an existing node was never touched.
    expect(touched(h, 'home')).toEqual([]);
    expect(getPod(h, 'home')?.status?.phase).toBe('Running');
    await h.stop();
  });

  test('a node missing from the cache but found by a live read is not gone: its pods stay', async () => {
    // The controller's informers see no node n2 (their cache lags); the apiserver has it.
    const h = harness([node('n2', 'True'), pod('p', 'web', { node: 'n2', phase: 'Running' })]);
      const lagging = createFakeClientset({ objects: [pod('p', 'web', { node: 'n2', phase: 'Running' })], clock: h.clock });
    const informers = new InformerFactory(lagging, { clock: h.clock });
    const c = new PodGcController({ ...h.ctx, informers }, { quarantineMs: 40_000 });
    const abort = new AbortController();
    informers.start(abort.signal);
    expect(await informers.waitForSync()).toBe(true);
    await h.start();
    await c.gc();
    await h.clock.advance(41_000);
    await c.gc();
    await h.settle();
    expect(h.cs.actions.filter((a) => a.resource === 'nodes' && a.verb === 'get').map((a) => a.name)).toEqual(['n2']);
    expect(touched(h, 'p')).toEqual([]);
    expect(podNames(h)).toEqual(['p']);
    // It was let out of quarantine: the next pass quarantines it afresh rather than reading again.
    await h.clock.advance(1000);
    await c.gc();
    expect(h.cs.actions.filter((a) => a.resource === 'nodes' && a.verb === 'get')).toHaveLength(1);
    abort.abort();
    await informers.stop();
    await h.stop();
  });

  test('a node that comes back during the quarantine saves its pods', async () => {
    const { h, c } = await started([pod('p', 'web', { node: 'late', phase: 'Running' })], { quarantineMs: 40_000 });
    await c.gc();
    await h.clock.advance(20_000);
    await h.cs.nodes.create(node('late', 'True'));
    await h.settle();
    await c.gc();
    await h.clock.advance(30_000);
    await c.gc();
    await h.settle();
    expect(podNames(h)).toEqual(['p']);
    expect(touched(h, 'p')).toEqual([]);
    await h.stop();
  });

  test('an unscheduled terminating pod is force-deleted; an unscheduled pod that is not terminating stays', async () => {
    const { h, c } = await started([pod('doomed', 'web', { deleting: true, phase: 'Pending' }), pod('waiting', 'web', { phase: 'Pending' })]);
    const deletes = spyDeletes(h);
    await c.gc();
    await h.settle();
    expect(podNames(h)).toEqual(['waiting']);
    expect(deletes.get('doomed')).toMatchObject({ gracePeriodSeconds: 0, preconditions: { uid: 'uid-doomed' } });
    expect(touched(h, 'waiting')).toEqual([]);
    await h.stop();
  });

  test('terminating pods: deleted on a NotReady node with the out-of-service taint, kept otherwise', async () => {
    const { h, c } = await started([
      node('oos', 'False', [outOfService]),
      node('notready', 'False', [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]),
      node('ready-oos', 'True', [outOfService]),
      pod('on-oos', 'web', { node: 'oos', deleting: true, phase: 'Running' }),
      pod('alive-on-oos', 'web', { node: 'oos', phase: 'Running' }),
      pod('on-notready', 'web', { node: 'notready', deleting: true, phase: 'Running' }),
      pod('on-ready-oos', 'web', { node: 'ready-oos', deleting: true, phase: 'Running' }),
    ]);
    const deletes = spyDeletes(h);
    await c.gc();
    await h.settle();
    expect(podNames(h)).toEqual(['alive-on-oos', 'on-notready', 'on-ready-oos']);
    expect([...deletes.keys()]).toEqual(['on-oos']);
    expect(deletes.get('on-oos')).toMatchObject({ gracePeriodSeconds: 0 });
    const written = touched(h, 'on-oos').find((a) => a.verb === 'updateStatus')?.object as corev1.Pod;
    expect(written.status?.phase).toBe('Failed');
    expect(written.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node is out of service' }),
    );
    for (const name of ['alive-on-oos', 'on-notready', 'on-ready-oos']) expect(touched(h, name)).toEqual([]);
    await h.stop();
  });

  test("one pod's failing delete does not stop the pass; the next pass retries it", async () => {
    const { h, c } = await started(
      [node('n1', 'True'), finished('t-40', 40), finished('t-30', 30), finished('t-20', 20), pod('doomed', 'web', { deleting: true })],
      { terminatedPodThreshold: 1 },
    );
    const remove = h.cs.prependReactor((a: FakeAction) => {
      if (a.verb === 'delete' && a.name === 't-40') throw new ApiError(grpc.status.UNAVAILABLE, 'injected');
    });
    await c.gc();
    await h.settle();
    // t-40 failed; the other terminated pod beyond the threshold and the later unscheduled part still ran.
    expect(podNames(h)).toEqual(['t-20', 't-40']);
    remove();
    await c.gc();
    await h.settle();
    expect(podNames(h)).toEqual(['t-20']);
    await h.stop();
  });

  test('marking Failed is best effort: a status write that conflicts does not prevent the deletion', async () => {
    const { h, c } = await started([pod('doomed', 'web', { deleting: true })]);
    h.cs.prependReactor((a: FakeAction) => {
      if (a.verb === 'updateStatus') throw new ApiError(grpc.status.ABORTED, 'Operation cannot be fulfilled: the object has been modified');
    });
    await c.gc();
    await h.settle();
    expect(podNames(h)).toEqual([]);
    expect(podActions(h, 'updateStatus').length).toBeGreaterThanOrEqual(1);
    await h.stop();
  });

  test('a status write that fails otherwise leaves the pod for the next pass', async () => {
    const { h, c } = await started([pod('doomed', 'web', { deleting: true })]);
    const remove = h.cs.prependReactor((a: FakeAction) => {
      if (a.verb === 'updateStatus') throw new ApiError(grpc.status.UNAVAILABLE, 'injected');
    });
    await c.gc();
    await h.settle();
    expect(podNames(h)).toEqual(['doomed']);
    expect(podActions(h, 'delete')).toEqual([]);
    remove();
    await c.gc();
    await h.settle();
    expect(podNames(h)).toEqual([]);
    await h.stop();
  });

  test('one pass at a time, and a pass with nothing to do does not stick', async () => {
    const { h, c } = await started([node('n1', 'True')], { terminatedPodThreshold: 1 });
    const a = c.gc();
    expect(c.gc()).toBe(a);
    await a;
    // Nothing was awaited in that pass; a new call must run a new pass.
    // The fake stamps creationTimestamp with the clock: 'older' is a second older.
    await h.cs.pods.create(finished('older', 0));
    await h.clock.advance(1000);
    await h.cs.pods.create(finished('newer', 0));
    await h.settle();
    const b = c.gc();
    expect(b).not.toBe(a);
    await b;
    await h.settle();
    expect(podNames(h)).toEqual(['newer']);
    await h.stop();
  });

  test('runs every check period when started', async () => {
    const { h, c } = await started([node('n1', 'True')], { terminatedPodThreshold: 1, checkPeriodMs: 20_000 });
    h.run(c);
    await h.settle();
    await h.cs.pods.create(finished('older', 0));
    await h.clock.advance(1000);
    await h.cs.pods.create(finished('newer', 0));
    await h.settle();
    expect(podNames(h)).toEqual(['newer', 'older']);
    await h.until(() => podNames(h).length === 1, 25_000, 1000);
    expect(podNames(h)).toEqual(['newer']);
    await h.stop();
  });

  test('--terminated-pod-gc-threshold: 12500 by default, reaches the controller', () => {
    const parse = (argv: string[]) => parseConfig<Record<string, any>>('controller-manager', flags, argv, {});
    expect(settingsFromConfig(parse([]) as never).terminatedPodGcThreshold).toBe(12_500);
    expect(settingsFromConfig(parse(['--terminated-pod-gc-threshold', '0']) as never).terminatedPodGcThreshold).toBe(0);
    expect(() => parse(['--terminated-pod-gc-threshold', 'many'])).toThrow(/terminated-pod-gc-threshold/);
    const h = harness();
    expect(CONTROLLERS.podgc(h.ctx, settingsFromConfig(parse([]) as never))).toBeInstanceOf(PodGcController);
  });
});
