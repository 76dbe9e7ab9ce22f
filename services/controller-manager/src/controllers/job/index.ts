// The Job controller (Kubernetes' pkg/controller/job, NonIndexed completion mode, with the
// TTL-after-finished controller folded in). It runs a Job's pods until `completions` of them
// have succeeded, at most `parallelism` at a time, replaces failed pods after an exponential
// back-off, and gives up (condition Failed) after more than `backoffLimit` failures or once
// `activeDeadlineSeconds` have passed. `suspend` deletes the running pods and resumes later;
// `ttlSecondsAfterFinished` deletes a finished Job.
//
// Counting (Kubernetes' job tracking with finalizers): every pod is created with the
// finalizer batch.kubernetes.io/job-tracking, so it cannot disappear (podgc, a user, the
// garbage collector) before it was counted. A sync counts the finished pods still carrying
// the finalizer — phase Succeeded into `succeeded`; phase Failed, or being deleted without
// having succeeded, into `failed` — adds them to the counts already in status, writes the
// status (guarded by the cached Job's resourceVersion, so a stale cache gets a conflict and
// a retry, never a lower count), and only then removes the finalizers. A pod is thus counted
// once: pods whose finalizer removal is in flight are remembered by uid until the informer
// shows them without it, and a pod without the finalizer is never counted. The counts read
// from the cache are raised to what this controller last wrote, so a lagging Job cache
// never makes it act on older counts. Pods this controller deletes because they are surplus
// (parallelism lowered, completions reached) or because the Job is suspended are not
// failures: their finalizer is removed without counting them.
// Limit: Kubernetes records counted-but-not-yet-released pods in status.uncountedTerminatedPods,
// which k8ts' JobStatus lacks; if the controller dies between the status write and the
// finalizer removal, its successor counts those pods a second time.
import type { batchv1, corev1 } from '@k8ts/api';
import { type EventRecorder, type EventType, type Informer, type LabelSelector, type WorkQueue, deepCopy, isConflict, isNotFound, isTimeout, keyOf, labelSelectorAsSelector, splitKey } from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';
import { semanticEqual } from '../../util/canonical';
import { claimObjects, controllerOf, controllerRef, withControllerRef, withoutOwner } from '../../util/controllerref';
import { ControllerExpectations } from '../../util/expectations';
import { isPodReady, labelsOf } from '../../util/pods';
import { now, parseTime } from '../../util/time';
import { podsToDelete } from '../replicaset/ranking';
import { slowStartBatch } from '../replicaset';

export const NAME = 'job';
/** The finalizer that keeps a job's finished pods until they are counted in its status. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** Kubernetes' DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const DEFAULT_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 6 * 60_000;
/** The most pods created or deleted in one sync (Kubernetes' MaxPodCreateDeletePerSync). */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;

export interface JobOptions {
  /** Workers (--concurrent-job-syncs). Default 5. */
  workers?: number;
  /** The first pod re-creation delay after a failure, doubled per further failure. Default 10 s. */
  backoffMs?: number;
  /** The longest pod re-creation delay. Default 6 min. */
  maxBackoffMs?: number;
}

type Job = batchv1.Job;
type JobStatus = batchv1.JobStatus;
type JobCondition = batchv1.JobCondition;
type Pod = corev1.Pod;

const JOB_API_VERSION = 'batch/v1';
const JOB_KIND = 'Job';

function errorMessage(err: unknown): string {
  return String((err as Error)?.message ?? err);
}

export function hasTrackingFinalizer(pod: Pod): boolean {
  return (pod.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
}

function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

function isActive(pod: Pod): boolean {
  return !isTerminal(pod) && !pod.metadata?.deletionTimestamp;
}

/** The condition of a type that is True, if any. */
function trueCondition(job: Job, type: string): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** Complete or Failed: the Job is done (Kubernetes' IsJobFinished). */
export function finishedCondition(job: Job): JobCondition | undefined {
  return trueCondition(job, 'Complete') ?? trueCondition(job, 'Failed');
}

/**
 * The conditions with `type` set to `status` (Kubernetes' ensureJobConditionStatus): an
 * unchanged condition is kept as is; a changed one gets new probe and transition times (the
 * transition time only when the status changes). A condition that does not exist is only
 * added when it is True.
 */
function withCondition(conditions: JobCondition[], type: string, status: string, reason: string, message: string, at: string): JobCondition[] {
  const i = conditions.findIndex((c) => c.type === type);
  if (i < 0) return status === 'True' ? [...conditions, { type, status, reason, message, lastProbeTime: at, lastTransitionTime: at }] : conditions;
  const old = conditions[i];
  if (old.status === status && (old.reason ?? '') === reason && (old.message ?? '') === message) return conditions;
  const next = [...conditions];
  next[i] = { type, status, reason, message, lastProbeTime: at, lastTransitionTime: old.status === status ? old.lastTransitionTime : at };
  return next;
}

/** The pod a Job creates from its template: owned by the Job, carrying the tracking finalizer. */
export function podFromJobTemplate(job: Job): Pod {
  const t = deepCopy(job.spec?.template ?? {});
  const meta = t.metadata ?? {};
  const finalizers = [...(meta.finalizers ?? [])];
  if (!finalizers.includes(JOB_TRACKING_FINALIZER)) finalizers.push(JOB_TRACKING_FINALIZER);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${job.metadata?.name}-`,
      namespace: job.metadata?.namespace,
      labels: { ...meta.labels },
      annotations: { ...meta.annotations },
      finalizers,
      ownerReferences: [controllerRef(job, JOB_API_VERSION, JOB_KIND)],
    },
    spec: t.spec,
  };
}

/** The delay before pods are created again after `failures` failures in a row (0: none). */
export function podFailureBackoff(failures: number, baseMs = DEFAULT_BACKOFF_MS, maxMs = MAX_BACKOFF_MS): number {
  if (failures <= 0) return 0;
  if (failures > 30) return maxMs;
  return Math.min(baseMs * 2 ** (failures - 1), maxMs);
}

/** Container restarts of pods that are still running or pending (restartPolicy OnFailure). */
function activeRestarts(pods: Pod[]): number {
  let n = 0;
  for (const p of pods) {
    const phase = p.status?.phase ?? 'Pending';
    if (phase !== 'Running' && phase !== 'Pending') continue;
    for (const s of p.status?.initContainerStatuses ?? []) n += s.restartCount ?? 0;
    for (const s of p.status?.containerStatuses ?? []) n += s.restartCount ?? 0;
  }
  return n;
}

/** What this controller knows about a Job beyond its cache (keyed by the Job's key). */
interface JobMemory {
  uid: string;
  /** The counts of the last status this controller wrote. */
  succeeded: number;
  failed: number;
  /** Failures since the last success, and when the last was counted (for the re-creation back-off). */
  failuresSinceSuccess: number;
  lastFailureMs: number;
}

export class JobController extends BaseController {
  readonly queue: WorkQueue;
  /** Pods with the tracking finalizer whose Job is gone (Kubernetes' orphan queue). */
  readonly orphanQueue: WorkQueue;
  readonly expectations: ControllerExpectations;
  private readonly jobs: Informer<Job>;
  private readonly pods: Informer<Pod>;
  private readonly recorder: EventRecorder;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly memory = new Map<string, JobMemory>();
  /**
   * Pods (by uid) already counted in a written status, or deliberately not counted, whose
   * tracking finalizer is being removed: true once the removal succeeded (waiting for the
   * informer to show it), false while it has to be tried again. Never counted again.
   */
  private readonly handled = new Map<string, boolean>();
  /** Uids of pods this controller deleted as surplus or for a suspension: not failures. */
  private readonly notFailures = new Set<string>();

  constructor(ctx: ControllerContext, opts: JobOptions = {}) {
    super(NAME, ctx);
    this.backoffMs = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.maxBackoffMs = opts.maxBackoffMs ?? MAX_BACKOFF_MS;
    this.expectations = new ControllerExpectations(ctx.clock);
    this.recorder = ctx.recorder('job-controller');
    this.jobs = ctx.informers.informerFor('jobs');
    this.pods = ctx.informers.informerFor('pods');
    this.queue = this.addLoop(NAME, opts.workers ?? 5, (key) => this.reconcile(key));
    this.orphanQueue = this.addLoop(`${NAME}-orphan-pod`, 1, (key) => this.reconcileOrphanPod(key));

    this.jobs.addEventHandler({
      onAdd: (job) => this.queue.add(keyOf(job)),
      onUpdate: (_old, job) => this.queue.add(keyOf(job)),
      onDelete: (job) => this.jobDeleted(job),
    });
    this.pods.addEventHandler({
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, pod) => this.podUpdated(old, pod),
      onDelete: (pod) => this.podDeleted(pod),
    });
  }

  // ---- event handlers ----------------------------------------------------------------------

  /** The Job a controller reference points to, if it is cached with that uid. */
  private resolve(namespace: string, ref: { kind?: string; name?: string; uid?: string } | undefined): Job | undefined {
    if (!ref || ref.kind !== JOB_KIND) return undefined;
    const job = this.jobs.lister.get(ref.name ?? '', namespace);
    return job && job.metadata?.uid === ref.uid ? job : undefined;
  }

  /** The Jobs whose selector matches an orphan pod's labels. */
  private selecting(pod: Pod): Job[] {
    return this.jobs.lister.list({ namespace: pod.metadata?.namespace ?? '' }).filter((job) => {
      try {
        const sel = labelSelectorAsSelector(job.spec?.selector);
        return !sel.isEverything() && !sel.isNothing() && sel.matches(labelsOf(pod));
      } catch {
        return false;
      }
    });
  }

  private jobDeleted(job: Job): void {
    const key = keyOf(job);
    this.expectations.delete(key);
    this.memory.delete(key);
    // Its pods may still carry the finalizer: release them.
    const uid = job.metadata?.uid;
    for (const p of this.pods.lister.list({ namespace: job.metadata?.namespace ?? '' })) {
      if (hasTrackingFinalizer(p) && controllerOf(p)?.uid === uid) this.orphanQueue.add(keyOf(p));
    }
    this.queue.add(key);
  }

  /** Queues what a pod's state concerns: its Job, or the Jobs that may adopt it, or the orphan loop. */
  private podChanged(pod: Pod, isNew: boolean): void {
    const ref = controllerOf(pod);
    if (ref) {
      const job = this.resolve(pod.metadata?.namespace ?? '', ref);
      if (job) {
        const key = keyOf(job);
        if (isNew) this.expectations.creationObserved(key);
        if (pod.metadata?.deletionTimestamp) this.expectations.deletionObserved(key, keyOf(pod));
        this.queue.add(key);
        return;
      }
    } else if (!pod.metadata?.deletionTimestamp) {
      for (const job of this.selecting(pod)) this.queue.add(keyOf(job));
    }
    if (hasTrackingFinalizer(pod)) this.orphanQueue.add(keyOf(pod));
  }

  private podAdded(pod: Pod): void {
    this.podChanged(pod, true);
  }

  private podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    if (!hasTrackingFinalizer(pod)) this.handled.delete(pod.metadata?.uid ?? '');
    const oldRef = controllerOf(old);
    if (oldRef && oldRef.uid !== controllerOf(pod)?.uid) {
      const oldJob = this.resolve(old.metadata?.namespace ?? '', oldRef);
      if (oldJob) this.queue.add(keyOf(oldJob));
    }
    this.podChanged(pod, false);
  }

  private podDeleted(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    this.handled.delete(uid);
    this.notFailures.delete(uid);
    const job = this.resolve(pod.metadata?.namespace ?? '', controllerOf(pod));
    if (!job) return;
    const key = keyOf(job);
    this.expectations.deletionObserved(key, keyOf(pod));
    this.queue.add(key);
  }

  // ---- reconcile -------------------------------------------------------------------------

  private ref(job: Job): Job {
    return { ...job, apiVersion: JOB_API_VERSION, kind: JOB_KIND };
  }

  /** The Job's own memory, reset when a new Job of the same name appears. */
  private memoryOf(key: string, job: Job): JobMemory {
    const uid = job.metadata?.uid ?? '';
    let m = this.memory.get(key);
    if (!m || m.uid !== uid) {
      m = { uid, succeeded: 0, failed: 0, failuresSinceSuccess: 0, lastFailureMs: 0 };
      this.memory.set(key, m);
    }
    return m;
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const job = this.jobs.lister.get(name, namespace);
    if (!job) {
      this.expectations.delete(key);
      this.memory.delete(key);
      return;
    }
    if ((job.spec?.completionMode ?? 'NonIndexed') !== 'NonIndexed') {
      this.logger.info({ job: key, completionMode: job.spec?.completionMode }, 'job: completion mode not supported; leaving the job alone');
      return;
    }
    const satisfied = this.expectations.satisfied(key);
    let selector: LabelSelector;
    try {
      selector = labelSelectorAsSelector(job.spec?.selector);
    } catch (err) {
      this.recorder.event(this.ref(job), 'Warning', 'InvalidSelector', errorMessage(err));
      return;
    }
    if (selector.isEverything() || selector.isNothing()) {
      // The apiserver always sets one; an empty selector would claim every pod of the namespace.
      this.recorder.event(this.ref(job), 'Warning', 'InvalidSelector', 'the job has no usable selector');
      return;
    }
    const pods = await this.claimPods(job, selector, this.pods.lister.list({ namespace }));

    if (job.metadata?.deletionTimestamp) {
      // Its pods go with it: nothing to count any more.
      await this.removeFinalizers(pods.filter(hasTrackingFinalizer));
      return;
    }

    const nowMs = this.ctx.clock.now();
    const at = now(this.ctx.clock);
    const mem = this.memoryOf(key, job);
    const cur = job.status ?? {};
    const baseSucceeded = Math.max(cur.succeeded ?? 0, mem.succeeded);
    const baseFailed = Math.max(cur.failed ?? 0, mem.failed);

    // Finished pods still carrying the finalizer and not counted yet.
    const newSucceeded: Pod[] = [];
    const newFailed: Pod[] = [];
    const release: Pod[] = [];
    for (const p of pods) {
      const uid = p.metadata?.uid ?? '';
      if (!hasTrackingFinalizer(p)) continue;
      if (this.handled.has(uid)) {
        release.push(p); // counted already; a removal that failed is tried again
        continue;
      }
      const phase = p.status?.phase;
      if (phase === 'Succeeded') newSucceeded.push(p);
      else if (phase !== 'Failed' && !p.metadata?.deletionTimestamp) continue;
      else if (this.notFailures.has(uid)) release.push(p);
      else newFailed.push(p);
    }
    const succeeded = baseSucceeded + newSucceeded.length;
    const failed = baseFailed + newFailed.length;
    // Failures since the last success (the order within one sync is unknown: successes first).
    const failuresSinceSuccess = newSucceeded.length > 0 ? newFailed.length : mem.failuresSinceSuccess + newFailed.length;
    const lastFailureMs = newFailed.length > 0 ? nowMs : mem.lastFailureMs;

    let active = pods.filter(isActive);
    let conditions = deepCopy(cur.conditions ?? []);
    let startTime = cur.startTime;
    let completionTime = cur.completionTime;
    const events: [type: EventType, reason: string, message: string][] = [];
    let manageError: unknown;
    const finished = finishedCondition(job);
    const suspended = job.spec?.suspend === true;

    if (finished) {
      // A finished Job keeps no running pods (left over after a failure whose deletions failed).
      if (active.length > 0) {
        manageError = await this.deletePods(key, job, active, false);
        active = [];
      }
    } else {
      const backoffLimit = job.spec?.backoffLimit ?? 6;
      const parallelism = job.spec?.parallelism ?? 1;
      const completions = job.spec?.completions;
      let failure: [reason: string, message: string] | undefined;
      const onFailure = job.spec?.template?.spec?.restartPolicy === 'OnFailure';
      // A resumed Job's deadline counts from now.
      const resuming = !suspended && !!trueCondition(job, 'Suspended');
      if ((newFailed.length > 0 && failed > backoffLimit) || (onFailure && activeRestarts(active) + failed > backoffLimit)) {
        failure = ['BackoffLimitExceeded', 'Job has reached the specified backoff limit'];
      } else if (!suspended && !resuming && job.spec?.activeDeadlineSeconds !== undefined && startTime) {
        const deadline = (parseTime(startTime) ?? nowMs) + job.spec.activeDeadlineSeconds * 1000;
        if (nowMs >= deadline) failure = ['DeadlineExceeded', 'Job was active longer than specified deadline'];
        else this.queue.addAfter(key, deadline - nowMs);
      }

      if (failure) {
        // Its running pods are killed; as in Kubernetes they count as failed once gone.
        manageError = await this.deletePods(key, job, active, false);
        active = [];
        conditions = withCondition(conditions, 'Failed', 'True', failure[0], failure[1], at);
        events.push(['Warning', failure[0], failure[1]]);
      } else if (suspended) {
        if (active.length > 0) manageError = await this.deletePods(key, job, active, true);
        active = [];
        const before = conditions;
        conditions = withCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', at);
        if (conditions !== before) events.push(['Normal', 'Suspended', 'Job suspended']);
      } else {
        if (resuming) {
          conditions = withCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', at);
          events.push(['Normal', 'Resumed', 'Job resumed']);
          // The deadline counts from the last resumption.
          startTime = at;
        }
        startTime ??= at;
        if (job.spec?.activeDeadlineSeconds !== undefined && startTime === at) this.queue.addAfter(key, job.spec.activeDeadlineSeconds * 1000);

        let want: number;
        if (completions === undefined) want = succeeded > 0 ? active.length : parallelism;
        else want = Math.max(0, Math.min(parallelism, completions - succeeded));
        if (satisfied) {
          const r = await this.manage(key, job, active, want, failuresSinceSuccess, lastFailureMs);
          manageError = r.err;
          active = r.active;
        }
        const activeCount = active.length;
        // Only with every creation observed: active pods missing from the cache must not look finished.
        const complete = satisfied && activeCount === 0 && (completions === undefined ? succeeded > 0 : succeeded >= completions);
        if (complete) {
          conditions = withCondition(conditions, 'Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', at);
          completionTime = at;
          events.push(['Normal', 'Completed', 'Job completed']);
        }
      }
    }

    const status: JobStatus = {
      ...cur,
      conditions,
      active: active.length,
      ready: active.filter(isPodReady).length,
      succeeded,
      failed,
    };
    if (startTime) status.startTime = startTime;
    if (completionTime) status.completionTime = completionTime;
    const written = await this.writeStatus(job, status);
    if (written) {
      mem.succeeded = succeeded;
      mem.failed = failed;
      mem.failuresSinceSuccess = failuresSinceSuccess;
      mem.lastFailureMs = lastFailureMs;
      for (const [type, reason, message] of events) this.recorder.event(this.ref(job), type, reason, message);
      // Counted in the stored status: the finalizers may go now.
      await this.removeFinalizers([...newSucceeded, ...newFailed, ...release]);
    } else {
      // Nothing new was counted (else the status would have changed).
      await this.removeFinalizers(release);
    }

    const done = finishedCondition({ ...job, status });
    if (done) await this.ttlCheck(key, job, status);
    if (manageError) throw manageError;
  }

  /** Creates or deletes pods toward `want` active ones; returns the pods active now and a failure. */
  private async manage(
    key: string,
    job: Job,
    active: Pod[],
    want: number,
    failuresSinceSuccess: number,
    lastFailureMs: number,
  ): Promise<{ active: Pod[]; err?: unknown }> {
    const diff = active.length - want;
    if (diff > 0) {
      const victims = podsToDelete(active, [], Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC));
      const err = await this.deletePods(key, job, victims, true);
      const gone = new Set(victims.map((p) => p.metadata?.uid));
      return { active: active.filter((p) => !gone.has(p.metadata?.uid)), err };
    }
    if (diff === 0) return { active };
    // Re-creation after failures waits 10 s, 20 s, 40 s, ... (at most 6 min).
    const wait = lastFailureMs + podFailureBackoff(failuresSinceSuccess, this.backoffMs, this.maxBackoffMs) - this.ctx.clock.now();
    if (failuresSinceSuccess > 0 && wait > 0) {
      this.queue.addAfter(key, wait);
      return { active };
    }
    const count = Math.min(-diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    const cs = this.ctx.clientset;
    const template = podFromJobTemplate(job);
    const created: Pod[] = [];
    this.expectations.expectCreations(key, count);
    const { errors, attempted } = await slowStartBatch(count, 1, async () => {
      const pod = await cs.pods.create(deepCopy(template));
      created.push(pod);
      this.recorder.event(this.ref(job), 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name}`);
    });
    if (errors.length === 0) return { active: [...active, ...created] };
    const lost = count - attempted + errors.filter((e) => !isTimeout(e)).length;
    for (let i = 0; i < lost; i++) this.expectations.creationObserved(key);
    const err = errors[0];
    this.recorder.event(this.ref(job), 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
    return { active: [...active, ...created], err };
  }

  /**
   * Deletes pods (and events for them). `notFailures`: the pods are surplus or the Job is
   * suspended, so their deletion does not count as a failure. Returns the first failure.
   */
  private async deletePods(key: string, job: Job, victims: Pod[], notFailures: boolean): Promise<unknown> {
    if (victims.length === 0) return undefined;
    const cs = this.ctx.clientset;
    this.expectations.expectDeletions(
      key,
      victims.map((p) => keyOf(p)),
    );
    const results = await Promise.allSettled(
      victims.map(async (pod) => {
        const uid = pod.metadata?.uid ?? '';
        if (notFailures) this.notFailures.add(uid);
        try {
          await cs.pods.delete(pod.metadata?.name ?? '', { namespace: pod.metadata?.namespace, preconditions: { uid } });
          this.recorder.event(this.ref(job), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
        } catch (err) {
          this.expectations.deletionObserved(key, keyOf(pod));
          if (notFailures) this.notFailures.delete(uid);
          if (isNotFound(err)) return;
          this.recorder.event(this.ref(job), 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
          throw err;
        }
      }),
    );
    return results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
  }

  /**
   * Removes the tracking finalizer from each pod, marking them handled (never counted again);
   * pods whose removal already succeeded are skipped. Throws the first failure after trying all.
   */
  private async removeFinalizers(pods: Pod[]): Promise<void> {
    const cs = this.ctx.clientset;
    const results = await Promise.allSettled(
      pods.map(async (pod) => {
        const uid = pod.metadata?.uid ?? '';
        if (this.handled.get(uid) === true) return;
        this.handled.set(uid, false);
        const copy = deepCopy(pod);
        copy.metadata = { ...copy.metadata, finalizers: (pod.metadata?.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER) };
        try {
          await cs.pods.update(copy);
          // Unless the informer has meanwhile shown the pod without it (and forgotten it).
          if (this.handled.has(uid)) this.handled.set(uid, true);
        } catch (err) {
          if (isNotFound(err)) return;
          throw err;
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Writes the status when it changed. Returns whether it was written. A conflict (stale cache) throws: retried. */
  private async writeStatus(job: Job, status: JobStatus): Promise<boolean> {
    const cur = job.status ?? {};
    const same =
      (cur.active ?? 0) === (status.active ?? 0) &&
      (cur.ready ?? 0) === (status.ready ?? 0) &&
      (cur.succeeded ?? 0) === (status.succeeded ?? 0) &&
      (cur.failed ?? 0) === (status.failed ?? 0) &&
      (cur.startTime ?? '') === (status.startTime ?? '') &&
      (cur.completionTime ?? '') === (status.completionTime ?? '') &&
      semanticEqual(cur.conditions ?? [], status.conditions ?? []);
    if (same) return false;
    const target = deepCopy(job);
    target.status = status;
    await this.ctx.clientset.jobs.updateStatus(target);
    return true;
  }

  /** Adopts matching orphans (adding the tracking finalizer) and releases owned pods that stopped matching. */
  private claimPods(job: Job, selector: LabelSelector, pods: Pod[]): Promise<Pod[]> {
    const cs = this.ctx.clientset;
    const uid = job.metadata?.uid ?? '';
    // A finished Job adopts and releases nothing: its own pods only need counting.
    if (finishedCondition(job)) return Promise.resolve(pods.filter((p) => controllerOf(p)?.uid === uid));
    return claimObjects<Pod>(pods, {
      owner: job,
      matches: (p) => selector.matches(labelsOf(p)),
      canAdopt: async () => {
        const fresh = await cs.jobs.get(job.metadata?.name ?? '', { namespace: job.metadata?.namespace });
        if (fresh.metadata?.uid !== uid) throw new Error(`original Job ${keyOf(job)} is gone: got uid ${fresh.metadata?.uid}, wanted ${uid}`);
        if (fresh.metadata?.deletionTimestamp) throw new Error(`${keyOf(job)} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
      },
      adopt: async (pod) => {
        const copy = deepCopy(pod);
        const finalizers = [...(pod.metadata?.finalizers ?? [])];
        if (!finalizers.includes(JOB_TRACKING_FINALIZER)) finalizers.push(JOB_TRACKING_FINALIZER);
        copy.metadata = { ...copy.metadata, finalizers, ownerReferences: withControllerRef(pod, controllerRef(job, JOB_API_VERSION, JOB_KIND)) };
        return cs.pods.update(copy);
      },
      release: async (pod) => {
        const copy = deepCopy(pod);
        copy.metadata = {
          ...copy.metadata,
          finalizers: (pod.metadata?.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER),
          ownerReferences: withoutOwner(pod, uid),
        };
        return cs.pods.update(copy);
      },
    });
  }

  /**
   * Kubernetes' TTL-after-finished controller: deletes a finished Job (Background
   * propagation) ttlSecondsAfterFinished after it finished, after a live read confirms it
   * is still due; otherwise queues the Job for then.
   */
  private async ttlCheck(key: string, job: Job, status: JobStatus): Promise<void> {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null) return;
    const dueMs = finishedAt(status) + ttl * 1000;
    const left = dueMs - this.ctx.clock.now();
    if (left > 0) {
      this.queue.addAfter(key, left);
      return;
    }
    const cs = this.ctx.clientset;
    let fresh: Job;
    try {
      fresh = await cs.jobs.get(job.metadata?.name ?? '', { namespace: job.metadata?.namespace });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (fresh.metadata?.uid !== job.metadata?.uid || fresh.metadata?.deletionTimestamp) return;
    const freshTtl = fresh.spec?.ttlSecondsAfterFinished;
    if (freshTtl === undefined || freshTtl === null || !finishedCondition(fresh)) return;
    const freshLeft = finishedAt(fresh.status ?? {}) + freshTtl * 1000 - this.ctx.clock.now();
    if (freshLeft > 0) {
      this.queue.addAfter(key, freshLeft);
      return;
    }
    try {
      await cs.jobs.delete(fresh.metadata?.name ?? '', {
        namespace: fresh.metadata?.namespace,
        propagationPolicy: 'Background',
        preconditions: { uid: fresh.metadata?.uid, resourceVersion: fresh.metadata?.resourceVersion },
      });
      this.logger.info({ job: key, ttlSecondsAfterFinished: freshTtl }, 'job: deleted finished job after its TTL');
    } catch (err) {
      if (isNotFound(err)) return;
      throw err; // a conflict: the Job changed; looked at again
    }
  }

  // ---- orphan pods -------------------------------------------------------------------------

  /**
   * A pod with the tracking finalizer whose Job is gone (or that no Job controls) must not be
   * kept forever: the finalizer is removed. Pods of a Job that exists are left to its sync.
   */
  async reconcileOrphanPod(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.lister.get(name, namespace);
    if (!pod || !hasTrackingFinalizer(pod)) return;
    const ref = controllerOf(pod);
    if (ref) {
      if (ref.kind !== JOB_KIND || ref.apiVersion !== JOB_API_VERSION) return;
      if (this.resolve(namespace, ref)) return;
      // The cache may lag behind a Job just created: ask the apiserver.
      try {
        const job = await this.ctx.clientset.jobs.get(ref.name ?? '', { namespace });
        if (job.metadata?.uid === ref.uid && !job.metadata?.deletionTimestamp) return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    } else if (!pod.metadata?.deletionTimestamp && this.selecting(pod).some((j) => !finishedCondition(j))) {
      return; // a Job will adopt it
    }
    try {
      await this.removeFinalizers([pod]);
    } catch (err) {
      if (isConflict(err)) this.orphanQueue.add(key);
      else throw err;
    }
  }
}

/** When a Job finished: completionTime, else the finishing condition's transition time. */
function finishedAt(status: JobStatus): number {
  const cond = status.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  return parseTime(status.completionTime) ?? parseTime(cond?.lastTransitionTime) ?? 0;
}
