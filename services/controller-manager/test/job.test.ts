import * as grpc from '@grpc/grpc-js';
import type { batchv1, corev1 } from '@k8ts/api';
import { ApiError } from '@k8ts/client';
import { parseConfig } from '@k8ts/kit';
import { flags, settingsFromConfig } from '../src';
import { enabledControllers } from '../src/config';
import { CONTROLLERS, CONTROLLER_NAMES } from '../src/controllers';
import { JOB_TRACKING_FINALIZER, JobController, podFailureBackoff } from '../src/controllers/job';
import { all, drain, harness, pod } from './helpers';

type H = ReturnType<typeof harness>;
const KEY = 'default/pi';
const UID = 'uid-pi';
const UID_LABEL = 'batch.kubernetes.io/controller-uid';
const SELECTOR = { [UID_LABEL]: UID };
/** Where the harness's FakeClock starts. */
const START = Date.parse('2030-01-01T00:00:00Z');

/** A Job as the apiserver stores it after defaulting (generated selector and template labels). */
function job(spec: Partial<batchv1.JobSpec> = {}): batchv1.Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: UID, generation: 1 },
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 6,
      selector: { matchLabels: SELECTOR },
      template: {
        metadata: { labels: { ...SELECTOR, 'batch.kubernetes.io/job-name': 'pi' } },
        spec: { containers: [{ name: 'c', image: 'perl:5' }], restartPolicy: 'Never' },
      },
      ...spec,
    },
  };
}

const jobOf = (h: H) => h.cs.tracker.get('jobs', 'default', 'pi') as batchv1.Job | undefined;
const podsOf = (h: H) => all<corev1.Pod>(h.cs, 'pods');
const getPod = (h: H, name: string) => h.cs.tracker.get('pods', 'default', name) as corev1.Pod | undefined;
/** Pods not finished and not being deleted. */
const activePods = (h: H) => podsOf(h).filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
const condition = (h: H, type: string) => jobOf(h)?.status?.conditions?.find((c) => c.type === type);
const reasons = (h: H, reason: string) => h.events.filter((e) => e.reason === reason);

/** What a kubelet does: sets a pod's phase (and container restarts). */
async function setPhase(h: H, name: string, phase: string, restarts = 0): Promise<void> {
  const p = getPod(h, name);
  if (!p) throw new Error(`no pod ${name}`);
  await h.cs.pods.updateStatus({ ...p, status: { ...p.status, phase, containerStatuses: [{ name: 'c', restartCount: restarts }] } });
}

async function setAll(h: H, phase: string, pods = activePods(h)): Promise<void> {
  for (const p of pods) await setPhase(h, p.metadata!.name!, phase);
}

async function updateJob(h: H, change: (j: batchv1.Job) => void): Promise<void> {
  const j = structuredClone(jobOf(h)!);
  change(j);
  await h.cs.jobs.update(j);
}

async function started(j: batchv1.Job, extra: corev1.Pod[] = []) {
  const h = harness([j, ...extra]);
  const c = new JobController(h.ctx);
  await h.start();
  /** One reconcile, then the informers catch up. */
  const sync = async () => {
    await c.reconcile(KEY);
    await h.settle();
  };
  return { h, c, sync };
}

describe('job controller', () => {
  test('creates parallelism pods from the template, owned by the Job, with the tracking finalizer', async () => {
    const { h, sync } = await started(job({ parallelism: 2, completions: 5 }));
    await sync();
    const pods = podsOf(h);
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata?.name).toMatch(/^pi-/);
      expect(p.metadata?.labels).toEqual({ ...SELECTOR, 'batch.kubernetes.io/job-name': 'pi' });
      expect(p.metadata?.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: UID, controller: true, blockOwnerDeletion: true }]);
      expect(p.metadata?.finalizers).toEqual([JOB_TRACKING_FINALIZER]);
      expect(p.spec?.containers?.[0].image).toBe('perl:5');
    }
    expect(reasons(h, 'SuccessfulCreate').map((e) => e.message).sort()).toEqual(pods.map((p) => `Created pod: ${p.metadata?.name}`).sort());
    expect(jobOf(h)?.status).toMatchObject({ active: 2, succeeded: 0, failed: 0, startTime: '2030-01-01T00:00:00.000Z' });
    // Observed: the next sync creates nothing more.
    await sync();
    expect(podsOf(h)).toHaveLength(2);
    await h.stop();
  });

  test('completes after completions successes: counts, Complete, completionTime, no more pods, finalizers gone', async () => {
    const { h, sync } = await started(job({ parallelism: 2, completions: 3 }));
    await sync();
    await setAll(h, 'Succeeded');
    await h.settle();
    await h.clock.advance(5000);
    await sync();
    // Two succeeded: one more completion is needed, so one pod (not two).
    expect(jobOf(h)?.status).toMatchObject({ active: 1, succeeded: 2, failed: 0 });
    expect(activePods(h)).toHaveLength(1);
    expect(condition(h, 'Complete')).toBeUndefined();
    await setAll(h, 'Succeeded');
    await h.settle();
    await sync();
    const status = jobOf(h)?.status;
    expect(status).toMatchObject({ active: 0, succeeded: 3, failed: 0, completionTime: '2030-01-01T00:00:05.000Z', uncountedTerminatedPods: { succeeded: [], failed: [] } });
    expect(condition(h, 'Complete')).toMatchObject({ status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' });
    expect(reasons(h, 'Completed')).toEqual([expect.objectContaining({ type: 'Normal', message: 'Job completed' })]);
    await sync();
    await sync();
    expect(podsOf(h)).toHaveLength(3);
    expect(podsOf(h).every((p) => !p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER))).toBe(true);
    expect(jobOf(h)?.status?.succeeded).toBe(3);
    expect(reasons(h, 'Completed')).toHaveLength(1);
    await h.stop();
  });

  test('work-queue mode (completions unset): complete once a pod succeeded and none is active', async () => {
    const { h, sync } = await started(job({ parallelism: 2, completions: undefined }));
    await sync();
    const [a, b] = activePods(h);
    await setPhase(h, a.metadata!.name!, 'Succeeded');
    await h.settle();
    await sync();
    // The other pod keeps running; no new pod after a success.
    expect(jobOf(h)?.status).toMatchObject({ active: 1, succeeded: 1 });
    expect(condition(h, 'Complete')).toBeUndefined();
    await setPhase(h, b.metadata!.name!, 'Succeeded');
    await h.settle();
    await sync();
    expect(jobOf(h)?.status).toMatchObject({ active: 0, succeeded: 2 });
    expect(condition(h, 'Complete')?.status).toBe('True');
    expect(podsOf(h)).toHaveLength(2);
    await h.stop();
  });

  test('a failed pod counts in failed and is replaced only after the back-off (10 s, then 20 s)', async () => {
    expect([1, 2, 3, 6, 7, 100].map((n) => podFailureBackoff(n))).toEqual([10_000, 20_000, 40_000, 320_000, 360_000, 360_000]);
    expect(podFailureBackoff(0)).toBe(0);
    const { h, c, sync } = await started(job());
    await sync();
    const first = activePods(h)[0].metadata!.name!;
    await setPhase(h, first, 'Failed');
    await h.settle();
    await sync();
    expect(jobOf(h)?.status).toMatchObject({ active: 0, failed: 1, succeeded: 0 });
    expect(activePods(h)).toHaveLength(0);
    // The failed pod was counted: its finalizer is gone.
    expect(getPod(h, first)?.metadata?.finalizers).toEqual([]);
    await drain(c.queue);
    await h.clock.advance(9_999);
    expect(c.queue.len()).toBe(0);
    await sync(); // an early sync (some other event) does not create it either
    expect(activePods(h)).toHaveLength(0);
    await drain(c.queue);
    await h.clock.advance(1);
    expect(c.queue.len()).toBe(1);
    await drain(c.queue);
    await sync();
    expect(activePods(h)).toHaveLength(1);
    expect(jobOf(h)?.status).toMatchObject({ active: 1, failed: 1 });

    // A second failure in a row: 20 s.
    await setPhase(h, activePods(h)[0].metadata!.name!, 'Failed');
    await h.settle();
    await sync();
    await drain(c.queue);
    await h.clock.advance(19_999);
    expect(c.queue.len()).toBe(0);
    await h.clock.advance(1);
    expect(c.queue.len()).toBe(1);
    await sync();
    expect(activePods(h)).toHaveLength(1);
    expect(jobOf(h)?.status).toMatchObject({ active: 1, failed: 2 });
    await h.stop();
  });

  test('more failures than backoffLimit: Failed/BackoffLimitExceeded, active pods deleted, nothing recreated', async () => {
    const { h, sync } = await started(job({ parallelism: 3, completions: 3, backoffLimit: 1 }));
    await sync();
    const [a, b, survivor] = activePods(h).map((p) => p.metadata!.name!);
    await setPhase(h, a, 'Failed');
    await setPhase(h, b, 'Failed');
    await h.settle();
    await sync();
    expect(condition(h, 'Failed')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(jobOf(h)?.status).toMatchObject({ active: 0, failed: 2 });
    expect(jobOf(h)?.status?.completionTime).toBeUndefined();
    expect(reasons(h, 'BackoffLimitExceeded')).toEqual([expect.objectContaining({ type: 'Warning', message: 'Job has reached the specified backoff limit' })]);
    // The surviving pod is being deleted (its finalizer keeps it until counted).
    expect(getPod(h, survivor)?.metadata?.deletionTimestamp).toBeTruthy();
    expect(reasons(h, 'SuccessfulDelete').map((e) => e.message)).toEqual([`Deleted pod: ${survivor}`]);
    await sync();
    // Killed by the failure, it counts as failed (as in Kubernetes) and is released.
    expect(getPod(h, survivor)).toBeUndefined();
    expect(jobOf(h)?.status?.failed).toBe(3);
    await h.clock.advance(3600_000);
    await sync();
    expect(activePods(h)).toHaveLength(0);
    await h.stop();
  });

  test('restartPolicy OnFailure: container restarts of running pods count toward backoffLimit', async () => {
    const j = job({ backoffLimit: 2 });
    j.spec!.template!.spec!.restartPolicy = 'OnFailure';
    const { h, sync } = await started(j);
    await sync();
    const name = activePods(h)[0].metadata!.name!;
    await setPhase(h, name, 'Running', 2);
    await h.settle();
    await sync();
    expect(condition(h, 'Failed')).toBeUndefined();
    await setPhase(h, name, 'Running', 3);
    await h.settle();
    await sync();
    expect(condition(h, 'Failed')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded' });
    expect(getPod(h, name)?.metadata?.deletionTimestamp).toBeTruthy();
    await h.stop();
  });

  test('activeDeadlineSeconds: queued for the deadline, then Failed/DeadlineExceeded and pods deleted', async () => {
    const { h, c, sync } = await started(job({ activeDeadlineSeconds: 30, parallelism: 2, completions: 4 }));
    await sync();
    expect(activePods(h)).toHaveLength(2);
    await drain(c.queue);
    await h.clock.advance(29_999);
    expect(c.queue.len()).toBe(0);
    await sync();
    expect(condition(h, 'Failed')).toBeUndefined();
    await drain(c.queue);
    await h.clock.advance(1);
    expect(c.queue.len()).toBe(1);
    await sync();
    expect(condition(h, 'Failed')).toMatchObject({ status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    expect(reasons(h, 'DeadlineExceeded')).toHaveLength(1);
    expect(activePods(h)).toHaveLength(0);
    expect(reasons(h, 'SuccessfulDelete')).toHaveLength(2);
    await sync();
    expect(podsOf(h)).toHaveLength(0);
    await h.stop();
  });

  test('suspend deletes the active pods (not failures) and sets Suspended; resume creates them again', async () => {
    const { h, sync } = await started(job({ parallelism: 2, completions: 4, activeDeadlineSeconds: 100 }));
    await sync();
    expect(activePods(h)).toHaveLength(2);
    await updateJob(h, (j) => {
      j.spec!.suspend = true;
    });
    await h.settle();
    await sync();
    expect(activePods(h)).toHaveLength(0);
    expect(condition(h, 'Suspended')).toMatchObject({ status: 'True', reason: 'JobSuspended', message: 'Job suspended' });
    expect(reasons(h, 'Suspended')).toHaveLength(1);
    expect(reasons(h, 'SuccessfulDelete')).toHaveLength(2);
    await sync();
    // Released without counting: deleted for the suspension, not failed.
    expect(podsOf(h)).toHaveLength(0);
    expect(jobOf(h)?.status).toMatchObject({ active: 0, failed: 0, succeeded: 0 });
    // Suspended past its deadline: no failure while suspended, nor on resume.
    await h.clock.advance(200_000);
    await sync();
    expect(condition(h, 'Failed')).toBeUndefined();
    await updateJob(h, (j) => {
      j.spec!.suspend = false;
    });
    await h.settle();
    await sync();
    expect(condition(h, 'Failed')).toBeUndefined();
    expect(condition(h, 'Suspended')).toMatchObject({ status: 'False', reason: 'JobResumed' });
    expect(reasons(h, 'Resumed')).toHaveLength(1);
    expect(activePods(h)).toHaveLength(2);
    // The deadline counts from the resumption.
    expect(jobOf(h)?.status?.startTime).toBe(new Date(START + 200_000).toISOString());
    await h.stop();
  });

  test('a Job created suspended creates no pods and has no startTime', async () => {
    const { h, sync } = await started(job({ suspend: true }));
    await sync();
    expect(podsOf(h)).toHaveLength(0);
    expect(condition(h, 'Suspended')?.status).toBe('True');
    expect(jobOf(h)?.status?.startTime).toBeUndefined();
    await h.stop();
  });

  test('ttlSecondsAfterFinished: the finished Job is deleted (Background) after the TTL', async () => {
    const { h, c, sync } = await started(job({ ttlSecondsAfterFinished: 60 }));
    await sync();
    await setAll(h, 'Succeeded');
    await h.settle();
    await sync();
    expect(condition(h, 'Complete')?.status).toBe('True');
    await drain(c.queue);
    await h.clock.advance(59_999);
    expect(c.queue.len()).toBe(0);
    await sync();
    expect(jobOf(h)).toBeDefined();
    await drain(c.queue);
    await h.clock.advance(1);
    expect(c.queue.len()).toBe(1);
    await sync();
    expect(jobOf(h)).toBeUndefined();
    expect(h.deletes).toContainEqual({ resource: 'jobs', namespace: 'default', name: 'pi', policy: 'Background' });
    await h.stop();
  });

  test('counts never go down: finished pods deleted by podgc or a user are counted once', async () => {
    const { h, sync } = await started(job({ parallelism: 2, completions: 3 }));
    await sync();
    const [a, b] = activePods(h).map((p) => p.metadata!.name!);
    await setPhase(h, a, 'Succeeded');
    await h.settle();
    // podgc force-deletes the finished pod before the controller looked: the finalizer keeps it.
    await h.cs.pods.delete(a, { namespace: 'default', gracePeriodSeconds: 0 });
    await h.settle();
    expect(getPod(h, a)?.metadata?.deletionTimestamp).toBeTruthy();
    await sync();
    expect(jobOf(h)?.status).toMatchObject({ succeeded: 1, failed: 0 });
    // Counted, released, gone.
    expect(getPod(h, a)).toBeUndefined();
    // A user deletes the running pod: a failure, counted once, and it is replaced.
    await h.cs.pods.delete(b, { namespace: 'default' });
    await h.settle();
    await sync();
    expect(jobOf(h)?.status).toMatchObject({ succeeded: 1, failed: 1 });
    expect(getPod(h, b)).toBeUndefined();
    for (let i = 0; i < 3; i++) await sync();
    expect(jobOf(h)?.status).toMatchObject({ succeeded: 1, failed: 1 });
    // After the back-off, two pods again (two completions left).
    await h.clock.advance(10_000);
    await sync();
    expect(activePods(h)).toHaveLength(2);
    await setAll(h, 'Succeeded');
    await h.settle();
    await sync();
    expect(jobOf(h)?.status).toMatchObject({ succeeded: 3, failed: 1, active: 0 });
    expect(condition(h, 'Complete')?.status).toBe('True');
    // The finished pods are gone (no finalizer now): the counts stay.
    for (const p of podsOf(h)) await h.cs.pods.delete(p.metadata!.name!, { namespace: 'default' });
    await h.settle();
    expect(podsOf(h)).toHaveLength(0);
    await sync();
    await sync();
    expect(jobOf(h)?.status).toMatchObject({ succeeded: 3, failed: 1, active: 0 });
    await h.stop();
  });

  test('a stale Job cache never lowers the counts nor makes it create extra pods', async () => {
    const { h, c, sync } = await started(job({ parallelism: 2, completions: 2 }));
    const jobs = h.informers.informerFor('jobs');
    await sync();
    const stale = jobs.indexer.get(KEY)!;
    expect(stale.status).toMatchObject({ active: 2, succeeded: 0 });
    const [a] = activePods(h).map((p) => p.metadata!.name!);
    await setPhase(h, a, 'Succeeded');
    await h.settle();
    await sync();
    expect(jobOf(h)?.status).toMatchObject({ succeeded: 1, active: 1 });
    expect(getPod(h, a)?.metadata?.finalizers).toEqual([]);
    // The Job cache lags (its watch is slower than the pods'): it still says succeeded 0, and
    // the counted pod has no finalizer any more. Counting from the cache alone would want two
    // pods again; the controller goes by what it wrote (succeeded 1): no extra pod. Its write
    // of the stale Job conflicts, so nothing lower is ever stored.
    jobs.indexer.set(KEY, stale);
    await expect(c.reconcile(KEY)).rejects.toThrow(/Operation cannot be fulfilled/);
    expect(podsOf(h)).toHaveLength(2);
    expect(jobOf(h)?.status).toMatchObject({ succeeded: 1, active: 1 });
    // The cache catches up (the next watch event): all is well.
    h.cs.tracker.put('jobs', jobOf(h)!);
    await h.settle();
    await sync();
    expect(jobOf(h)?.status).toMatchObject({ succeeded: 1, active: 1 });
    expect(podsOf(h)).toHaveLength(2);
    await h.stop();
  });

  test('a finalizer removal that fails is retried without counting the pod again', async () => {
    const { h, c, sync } = await started(job({ parallelism: 1, completions: 3 }));
    let failures = 0;
    h.cs.prependReactor((a) => {
      if (a.verb === 'update' && a.resource === 'pods' && failures++ === 0) throw new ApiError(grpc.status.UNAVAILABLE, 'connection reset');
    });
    await sync();
    const [a] = activePods(h).map((p) => p.metadata!.name!);
    await setPhase(h, a, 'Failed');
    await h.settle();
    // Recorded in status (not counted yet), but the finalizer stays: the sync fails and is retried.
    await expect(c.reconcile(KEY)).rejects.toThrow(/connection reset/);
    await h.settle();
    const uid = getPod(h, a)?.metadata?.uid;
    expect(jobOf(h)?.status).toMatchObject({ failed: 0, uncountedTerminatedPods: { succeeded: [], failed: [uid] } });
    expect(getPod(h, a)?.metadata?.finalizers).toEqual([JOB_TRACKING_FINALIZER]);
    await sync();
    await sync();
    expect(jobOf(h)?.status).toMatchObject({ failed: 1, uncountedTerminatedPods: { succeeded: [], failed: [] } });
    expect(getPod(h, a)?.metadata?.finalizers).toEqual([]);
    await h.stop();
  });

  test('a controller that dies after recording finished pods but before removing their finalizers: its successor counts them once', async () => {
    const { h, c } = await started(job({ parallelism: 2, completions: 2 }));
    await c.reconcile(KEY);
    await h.settle();
    const uids = activePods(h)
      .map((p) => p.metadata!.uid!)
      .sort();
    await setAll(h, 'Succeeded');
    await h.settle();
    // Every finalizer removal fails: the controller "dies" right after the first status write.
    const heal = h.cs.prependReactor((a) => {
      if (a.verb === 'update' && a.resource === 'pods') throw new ApiError(grpc.status.UNAVAILABLE, 'connection reset');
    });
    await expect(c.reconcile(KEY)).rejects.toThrow(/connection reset/);
    await h.settle();
    // Recorded in status.uncountedTerminatedPods, not counted; the pods keep the finalizer.
    const status = jobOf(h)!.status!;
    expect(status).toMatchObject({ active: 0, succeeded: 0, failed: 0 });
    expect([...status.uncountedTerminatedPods!.succeeded!].sort()).toEqual(uids);
    expect(status.uncountedTerminatedPods!.failed).toEqual([]);
    expect(podsOf(h).every((p) => p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER))).toBe(true);
    // Enough successes, but not Complete while pods are uncounted.
    expect(condition(h, 'Complete')).toBeUndefined();
    expect(status.completionTime).toBeUndefined();
    heal();
    // A new controller (a restart, or another leader) with nothing in memory takes over.
    const successor = new JobController(h.ctx);
    for (let i = 0; i < 3; i++) {
      await successor.reconcile(KEY);
      await h.settle();
      expect(jobOf(h)?.status).toMatchObject({ active: 0, succeeded: 2, failed: 0, uncountedTerminatedPods: { succeeded: [], failed: [] } });
      expect(condition(h, 'Complete')?.status).toBe('True');
    }
    expect(podsOf(h).every((p) => !p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER))).toBe(true);
    expect(reasons(h, 'Completed')).toHaveLength(1);
    expect(activePods(h)).toHaveLength(0);
    await h.stop();
  });

  test('a controller that dies after removing the finalizers but before writing the counts: its successor counts them once', async () => {
    const { h, c } = await started(job({ parallelism: 2, completions: 3 }));
    await c.reconcile(KEY);
    await h.settle();
    const [a, b] = activePods(h);
    await setPhase(h, a.metadata!.name!, 'Succeeded');
    await setPhase(h, b.metadata!.name!, 'Failed');
    await h.settle();
    // The second status write of the sync (the counts) fails.
    let writes = 0;
    const heal = h.cs.prependReactor((x) => {
      if (x.verb === 'updateStatus' && x.resource === 'jobs' && ++writes === 2) throw new ApiError(grpc.status.UNAVAILABLE, 'connection reset');
    });
    await expect(c.reconcile(KEY)).rejects.toThrow(/connection reset/);
    await h.settle();
    heal();
    expect(jobOf(h)?.status).toMatchObject({
      succeeded: 0,
      failed: 0,
      uncountedTerminatedPods: { succeeded: [a.metadata!.uid], failed: [b.metadata!.uid] },
    });
    expect(getPod(h, a.metadata!.name!)?.metadata?.finalizers).toEqual([]);
    expect(getPod(h, b.metadata!.name!)?.metadata?.finalizers).toEqual([]);
    const successor = new JobController(h.ctx);
    for (let i = 0; i < 3; i++) {
      await successor.reconcile(KEY);
      await h.settle();
      expect(jobOf(h)?.status).toMatchObject({ succeeded: 1, failed: 1, uncountedTerminatedPods: { succeeded: [], failed: [] } });
    }
    expect(condition(h, 'Complete')).toBeUndefined();
    await h.stop();
  });

  test('adopts an orphan pod matching the selector (adding the finalizer); leaves others alone', async () => {
    const labels = { ...SELECTOR, 'batch.kubernetes.io/job-name': 'pi' };
    const orphan = pod('orphan', 'x', { labels });
    const foreign = pod('foreign', 'x', { labels, owner: { kind: 'ReplicaSet', name: 'rs', uid: 'uid-rs' } });
    const { h, sync } = await started(job({ parallelism: 2, completions: 2 }), [orphan, foreign]);
    await sync();
    expect(getPod(h, 'orphan')?.metadata?.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: UID, controller: true, blockOwnerDeletion: true }]);
    expect(getPod(h, 'orphan')?.metadata?.finalizers).toContain(JOB_TRACKING_FINALIZER);
    expect(getPod(h, 'foreign')?.metadata?.ownerReferences?.[0].uid).toBe('uid-rs');
    // One adopted + one created = parallelism.
    expect(podsOf(h).filter((p) => p.metadata?.ownerReferences?.[0]?.uid === UID)).toHaveLength(2);
    await h.stop();
  });

  test('a pod with the tracking finalizer whose Job is gone loses the finalizer', async () => {
    const p = pod('left', 'x', { owner: { kind: 'Job', name: 'gone', uid: 'uid-gone' } });
    p.metadata!.ownerReferences![0].apiVersion = 'batch/v1';
    p.metadata!.finalizers = [JOB_TRACKING_FINALIZER, 'example.com/keep'];
    const { h, c } = await started(job(), [p]);
    await c.reconcileOrphanPod('default/left');
    await h.settle();
    expect(getPod(h, 'left')?.metadata?.finalizers).toEqual(['example.com/keep']);
    await h.stop();
  });

  test('running: pods are created, succeed (fake kubelet), the Job completes and its pods are released', async () => {
    const { h, c } = await started(job({ parallelism: 2, completions: 4 }));
    h.run(c);
    for (let round = 0; round < 10; round++) {
      await h.until(() => activePods(h).length > 0 || condition(h, 'Complete')?.status === 'True');
      if (condition(h, 'Complete')?.status === 'True') break;
      await setAll(h, 'Succeeded');
    }
    await h.until(() => condition(h, 'Complete')?.status === 'True');
    await h.until(() => podsOf(h).every((p) => !p.metadata?.finalizers?.length));
    expect(jobOf(h)?.status).toMatchObject({ succeeded: 4, failed: 0, active: 0, uncountedTerminatedPods: { succeeded: [], failed: [] } });
    expect(podsOf(h)).toHaveLength(4);
    await h.stop();
  });

  test('--concurrent-job-syncs, the registry and the job-controller alias', () => {
    const parse = (argv: string[]) => parseConfig<Record<string, any>>('controller-manager', flags, argv, {});
    expect(settingsFromConfig(parse([]) as never).concurrentJobSyncs).toBe(5);
    expect(settingsFromConfig(parse(['--concurrent-job-syncs', '3']) as never).concurrentJobSyncs).toBe(3);
    expect(CONTROLLER_NAMES.indexOf('job')).toBe(CONTROLLER_NAMES.indexOf('replicaset') + 1);
    expect(enabledControllers(['job-controller'], CONTROLLER_NAMES)).toEqual(['job']);
    const h = harness();
    expect(CONTROLLERS.job(h.ctx, settingsFromConfig(parse([]) as never))).toBeInstanceOf(JobController);
  });
});
