// The Job controller (Kubernetes' pkg/controller/job, NonIndexed completion mode, with the
// TTL-after-finished controller folded in). It runs a Job's pods until `completions` of them
// have succeeded, at most `parallelism` at a time, replaces failed pods after an exponential
// back-off, and gives up (condition Failed) after more than `backoffLimit` failures or once
// `activeDeadlineSeconds` have passed. `suspend` deletes the running pods and resumes later;
// `ttlSecondsAfterFinished` deletes a finished Job.
//
// Counting (Kubernetes' job tracking with finalizers, trackJobStatusAndRemoveFinalizers):
// every pod is created with the finalizer batch.kubernetes.io/job-tracking, so it cannot
// disappear (podgc, a user, the garbage collector) before it was counted. A sync (1) records
// the finished pods still holding the finalizer and not recorded yet — phase Succeeded in
// status.uncountedTerminatedPods.succeeded; phase Failed, or being deleted without having
// succeeded, in .failed — in one status write with the rest of the status; (2) removes the
// finalizers of the recorded pods; (3) moves every recorded uid whose pod no longer has the
// finalizer (or is gone) into `succeeded` / `failed`, in one status write. A pod without the
// finalizer that is not recorded is never counted. Because the record lives in the Job's
// status, counting is exactly once across failed syncs, restarts and leader changes: a
// successor finds the recorded uids, releases them and counts each once. Decisions use the
// counts plus the recorded pods; the Job becomes Complete only once nothing is recorded.
// Status writes carry the cached Job's resourceVersion, so a stale cache gets a conflict and
// a retry, never a lower count; while the Job cache lags behind this controller's own last
// write, it acts on that write's counting state (no pods re-created for counted successes).
// Pods whose finalizer removal succeeded but that the informer still shows with it are
// remembered by uid (Kubernetes' expectedRmFinalizers) and not recorded again. Pods this
// controller deletes because they are surplus (parallelism lowered, completions reached) or
// because the Job is suspended are not failures: their finalizer is removed without
// recording them (remembered in memory: across a restart such pods count as failed).
import type { batchv1, corev1 } from '@k8ts/api';
import { type EventRecorder, type EventType, type Informer, type LabelSelector, type WorkQueue, deepCopy, isConflict, isNotFound, isTimeout, keyOf, labelSelectorAsSelector, splitKey } from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';
import { semanticEqual } from '../../util/canonical';
import { type ControllerKind, ControllerRefManager, controllerOf, controllerRef, freshController, recheckDeletionTimestamp } from '../../util/controllerref';
import { ControllerExpectations } from '../../util/expectations';
import { isPodReady, labelsOf } from '../../util/pods';
import { SLOW_START_INITIAL_BATCH, slowStartBatch } from '../../util/slowstart';
import { now, parseTime } from '../../util/time';
import { podsToDelete } from '../replicaset/ranking';

export const NAME = 'job';
/** The finalizer that keeps a job's finished pods until they are counted in its status. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** Kubernetes' DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const DEFAULT_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 6 * 60_000;
/** The most pods created or deleted in one sync (Kubernetes' MaxPodCreateDeletePerSync). */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
/** The most uids in status.uncountedTerminatedPods (Kubernetes' MaxUncountedPods). */
export const MAX_UNCOUNTED_PODS = 500;

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
const CONTROLLER_KIND: ControllerKind = { apiVersion: JOB_API_VERSION, kind: JOB_KIND };

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
  const template = deepCopy(job.spec?.template ?? {});
  const meta = template.metadata ?? {};
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
      ownerReferences: [controllerRef(job, CONTROLLER_KIND)],
    },
    spec: template.spec,
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

/** The counting part of a JobStatus. */
interface Counts {
  succeeded: number;
  failed: number;
  /** status.uncountedTerminatedPods: recorded, not yet counted. */
  uncountedSucceeded: string[];
  uncountedFailed: string[];
}

function countsOf(s: JobStatus): Counts {
  return {
    succeeded: s.succeeded ?? 0,
    failed: s.failed ?? 0,
    uncountedSucceeded: [...(s.uncountedTerminatedPods?.succeeded ?? [])],
    uncountedFailed: [...(s.uncountedTerminatedPods?.failed ?? [])],
  };
}

function withCounts(s: JobStatus, c: Counts): JobStatus {
  return { ...s, succeeded: c.succeeded, failed: c.failed, uncountedTerminatedPods: { succeeded: [...c.uncountedSucceeded], failed: [...c.uncountedFailed] } };
}

function uncountedOf(c: Counts): number {
  return c.uncountedSucceeded.length + c.uncountedFailed.length;
}

/**
 * Whether `a` is a later counting state of a Job than `b`. Every write of the counts either
 * records more pods or moves recorded ones into the counts, never the reverse, so the states
 * of one Job are ordered by (pods recorded or counted, pods counted).
 */
function isAhead(a: Counts, b: Counts): boolean {
  const ta = a.succeeded + a.failed + uncountedOf(a);
  const tb = b.succeeded + b.failed + uncountedOf(b);
  return ta !== tb ? ta > tb : a.succeeded + a.failed > b.succeeded + b.failed;
}

/**
 * Moves the recorded uids whose pods no longer hold the tracking finalizer (`holds` false:
 * removed, or the pod is gone) into the counts (Kubernetes' cleanUncountedPodsWithoutFinalizers).
 * Returns whether any moved.
 */
function countReleased(c: Counts, holds: (uid: string) => boolean): boolean {
  const s = c.uncountedSucceeded.filter(holds);
  const f = c.uncountedFailed.filter(holds);
  const moved = uncountedOf(c) - s.length - f.length;
  c.succeeded += c.uncountedSucceeded.length - s.length;
  c.failed += c.uncountedFailed.length - f.length;
  c.uncountedSucceeded = s;
  c.uncountedFailed = f;
  return moved > 0;
}

function uidOf(pod: Pod): string {
  return pod.metadata?.uid ?? '';
}

/** The clock of one sync: one instant for every decision and timestamp. */
interface SyncTime {
  nowMs: number;
  /** nowMs as an RFC 3339 timestamp, for conditions and startTime. */
  at: string;
}

/** How a finished pod is recorded; notCounted: deleted as surplus or for a suspension. */
type FinishKind = 'succeeded' | 'failed' | 'notCounted';

/** The finished pods a sync found that hold the finalizer and are not recorded yet. */
interface NewlyFinished {
  newSucceeded: Pod[];
  newFailed: Pod[];
  /** Deleted as surplus or for a suspension: their finalizer goes, they are not counted. */
  releaseUncounted: Pod[];
  /** More finished than status.uncountedTerminatedPods may hold: the rest wait for a later sync. */
  capped: boolean;
}

/** What a sync counted: the counting state with the newly finished pods recorded. */
interface PodTally extends NewlyFinished {
  counts: Counts;
  /** Whether a pod (by uid) still holds the tracking finalizer, as far as this controller knows. */
  holds: (uid: string) => boolean;
  /** Uids whose finalizer this sync removed (filled in by releaseRecordedPods). */
  releasedNow: Set<string>;
  /** Succeeded and failed, recorded pods included. */
  succeeded: number;
  failed: number;
  failuresSinceSuccess: number;
  lastFailureMs: number;
}

type JobEvent = [type: EventType, reason: string, message: string];

/** What the policy decided: the status besides the counts, and the events still to send. */
interface JobDecision {
  active: Pod[];
  conditions: JobCondition[];
  startTime?: string;
  /** Complete, once every recorded pod is counted. */
  completeWanted: boolean;
  events: JobEvent[];
  /** The first failure of the pod creations or deletions, thrown after the status is written. */
  manageError?: unknown;
}

interface JobFailure {
  reason: string;
  message: string;
}

const BACKOFF_LIMIT_EXCEEDED: JobFailure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
const DEADLINE_EXCEEDED: JobFailure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };

/**
 * More failures than backoffLimit (default 6): counted failures when a pod newly failed, or,
 * with restartPolicy OnFailure, counted failures plus the container restarts of active pods.
 */
function backoffLimitExceeded(job: Job, tally: PodTally, active: Pod[]): boolean {
  const backoffLimit = job.spec?.backoffLimit ?? 6;
  if (tally.newFailed.length > 0 && tally.failed > backoffLimit) return true;
  const onFailure = job.spec?.template?.spec?.restartPolicy === 'OnFailure';
  return onFailure && activeRestarts(active) + tally.failed > backoffLimit;
}

/**
 * The number of pods that should be active: without completions, parallelism until one
 * succeeded (then no new ones); with completions, parallelism at most the successes missing.
 */
function wantedActivePods(job: Job, succeeded: number, activeCount: number): number {
  const parallelism = job.spec?.parallelism ?? 1;
  const completions = job.spec?.completions;
  if (completions === undefined) return succeeded > 0 ? activeCount : parallelism;
  return Math.max(0, Math.min(parallelism, completions - succeeded));
}

function completionsReached(job: Job, succeeded: number): boolean {
  const completions = job.spec?.completions;
  return completions === undefined ? succeeded > 0 : succeeded >= completions;
}

/** The status with the Complete condition, once it is wanted and every recorded pod is counted. */
function completeIfCounted(status: JobStatus, counts: Counts, decision: JobDecision, at: string): JobStatus {
  if (!decision.completeWanted || uncountedOf(counts) > 0 || trueCondition({ status }, 'Complete')) return status;
  decision.events.push(['Normal', 'Completed', 'Job completed']);
  const conditions = withCondition(status.conditions ?? [], 'Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', at);
  return { ...status, conditions, completionTime: at };
}

/** What this controller knows about a Job beyond its cache (keyed by the Job's key). */
interface JobMemory {
  uid: string;
  /** The counting state of the last status this controller wrote. */
  counts?: Counts;
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
   * Pods (by uid) whose tracking finalizer this controller removed while the informer still
   * shows it (Kubernetes' expectedRmFinalizers): they are released, never recorded again.
   */
  private readonly finalizerRemoved = new Set<string>();
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
    this.forget(key);
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
    if (!hasTrackingFinalizer(pod)) this.finalizerRemoved.delete(pod.metadata?.uid ?? '');
    const oldRef = controllerOf(old);
    if (oldRef && oldRef.uid !== controllerOf(pod)?.uid) {
      const oldJob = this.resolve(old.metadata?.namespace ?? '', oldRef);
      if (oldJob) this.queue.add(keyOf(oldJob));
    }
    this.podChanged(pod, false);
  }

  private podDeleted(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    this.finalizerRemoved.delete(uid);
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
    let memory = this.memory.get(key);
    if (!memory || memory.uid !== uid) {
      memory = { uid, failuresSinceSuccess: 0, lastFailureMs: 0 };
      this.memory.set(key, memory);
    }
    return memory;
  }

  /** The Job is gone: nothing is remembered for it any more. */
  private forget(key: string): void {
    this.expectations.delete(key);
    this.memory.delete(key);
  }

  /**
   * The Job's selector, or undefined (with a Warning event) when it cannot be used: an empty
   * selector would claim every pod of the namespace (the apiserver always sets one).
   */
  private usableSelector(job: Job): LabelSelector | undefined {
    let selector: LabelSelector;
    try {
      selector = labelSelectorAsSelector(job.spec?.selector);
    } catch (err) {
      this.recorder.event(this.ref(job), 'Warning', 'InvalidSelector', errorMessage(err));
      return undefined;
    }
    if (selector.isEverything() || selector.isNothing()) {
      this.recorder.event(this.ref(job), 'Warning', 'InvalidSelector', 'the job has no usable selector');
      return undefined;
    }
    return selector;
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const job = this.jobs.lister.get(name, namespace);
    if (!job) {
      this.forget(key);
      return;
    }
    if ((job.spec?.completionMode ?? 'NonIndexed') !== 'NonIndexed') {
      this.logger.info({ job: key, completionMode: job.spec?.completionMode }, 'job: completion mode not supported; leaving the job alone');
      return;
    }
    // Read before the pods are listed: a creation observed later must not look satisfied.
    const satisfied = this.expectations.satisfied(key);
    const selector = this.usableSelector(job);
    if (!selector) return;
    const pods = await this.claimPods(job, selector, this.pods.lister.list({ namespace }));
    if (job.metadata?.deletionTimestamp) {
      // Its pods go with it: nothing to count any more.
      const { error } = await this.removeFinalizers(pods.filter(hasTrackingFinalizer));
      if (error) throw error;
      return;
    }
    await this.syncJob(key, job, pods, satisfied);
  }

  /**
   * Kubernetes' syncJob: count the finished pods, decide what the Job runs (manageJob and the
   * failure, suspension and completion rules), then write the status and release the counted
   * pods (trackJobStatusAndRemoveFinalizers). Errors of the pod writes are thrown last, after
   * the status is written, so that the retry starts from the recorded state.
   */
  private async syncJob(key: string, job: Job, pods: Pod[], satisfied: boolean): Promise<void> {
    const time: SyncTime = { nowMs: this.ctx.clock.now(), at: now(this.ctx.clock) };
    const mem = this.memoryOf(key, job);
    const tally = this.countFinishedPods(job, pods, mem, time.nowMs);
    const decision = await this.applyJobPolicy(key, job, tally, pods.filter(isActive), satisfied, time);
    const { status, removalError } = await this.trackJobStatusAndRemoveFinalizers(job, pods, mem, tally, decision, time.at);
    if (finishedCondition({ ...job, status })) await this.ttlCheck(key, job, status);
    if (removalError) throw removalError;
    if (decision.manageError) throw decision.manageError;
  }

  // ---- counting ----------------------------------------------------------------------------

  /**
   * The Job's counting state with this sync's newly finished pods recorded. It starts from the
   * cached status, unless this controller wrote a later one that the Job cache does not show
   * yet (a write of the stale Job conflicts; until the cache catches up it must not act on
   * older counts, e.g. re-create pods for counted successes).
   */
  private countFinishedPods(job: Job, pods: Pod[], mem: JobMemory, nowMs: number): PodTally {
    const cached = countsOf(job.status ?? {});
    const counts = mem.counts && isAhead(mem.counts, cached) ? countsOf(withCounts({}, mem.counts)) : cached;
    const releasedNow = new Set<string>();
    const holds = this.finalizerHolder(pods, releasedNow);
    // Recorded pods already released (by a sync that failed or a controller that died before
    // it wrote the counts) are counted now.
    countReleased(counts, holds);
    const found = this.findNewlyFinished(pods, counts, holds);
    counts.uncountedSucceeded.push(...found.newSucceeded.map(uidOf));
    counts.uncountedFailed.push(...found.newFailed.map(uidOf));
    const { newSucceeded, newFailed } = found;
    return {
      ...found,
      counts,
      holds,
      releasedNow,
      // Recorded pods count for every decision.
      succeeded: counts.succeeded + counts.uncountedSucceeded.length,
      failed: counts.failed + counts.uncountedFailed.length,
      // Failures since the last success (the order within one sync is unknown: successes first).
      failuresSinceSuccess: newSucceeded.length > 0 ? newFailed.length : mem.failuresSinceSuccess + newFailed.length,
      lastFailureMs: newFailed.length > 0 ? nowMs : mem.lastFailureMs,
    };
  }

  /** Whether a pod (by uid) still holds the tracking finalizer, as far as this controller knows. */
  private finalizerHolder(pods: Pod[], releasedNow: Set<string>): (uid: string) => boolean {
    const byUid = new Map(pods.map((p) => [uidOf(p), p]));
    return (uid) => {
      const pod = byUid.get(uid);
      return !!pod && hasTrackingFinalizer(pod) && !this.finalizerRemoved.has(uid) && !releasedNow.has(uid);
    };
  }

  /** How a finished pod is recorded: a success, a failure, or released uncounted. */
  private finishKindOf(pod: Pod): FinishKind | undefined {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded') return 'succeeded';
    if (phase !== 'Failed' && !pod.metadata?.deletionTimestamp) return undefined; // still running
    // Deleted as surplus or for a suspension: not a failure.
    return this.notFailures.has(uidOf(pod)) ? 'notCounted' : 'failed';
  }

  /**
   * The finished pods still holding the finalizer and not recorded yet, at most as many as
   * status.uncountedTerminatedPods may still hold (the rest are recorded by a later sync).
   */
  private findNewlyFinished(pods: Pod[], counts: Counts, holds: (uid: string) => boolean): NewlyFinished {
    const recorded = new Set([...counts.uncountedSucceeded, ...counts.uncountedFailed]);
    const found: NewlyFinished = { newSucceeded: [], newFailed: [], releaseUncounted: [], capped: false };
    for (const pod of pods) {
      const uid = uidOf(pod);
      if (!holds(uid) || recorded.has(uid)) continue;
      const kind = this.finishKindOf(pod);
      if (kind === undefined) continue;
      if (kind === 'notCounted') {
        found.releaseUncounted.push(pod);
        continue;
      }
      if (recorded.size + found.newSucceeded.length + found.newFailed.length >= MAX_UNCOUNTED_PODS) {
        found.capped = true;
        continue;
      }
      (kind === 'succeeded' ? found.newSucceeded : found.newFailed).push(pod);
    }
    return found;
  }

  // ---- policy ------------------------------------------------------------------------------

  /**
   * What the Job runs now and the conditions it gets: a finished Job keeps no pods; one past
   * its backoffLimit or activeDeadlineSeconds fails; a suspended one stops its pods; otherwise
   * pods are created or deleted toward the wanted number (Kubernetes' manageJob).
   */
  private async applyJobPolicy(key: string, job: Job, tally: PodTally, active: Pod[], satisfied: boolean, time: SyncTime): Promise<JobDecision> {
    const decision: JobDecision = { active, conditions: deepCopy(job.status?.conditions ?? []), startTime: job.status?.startTime, completeWanted: false, events: [] };
    if (finishedCondition(job)) {
      await this.stopFinishedJobPods(key, job, decision);
      return decision;
    }
    const suspended = job.spec?.suspend === true;
    // A resumed Job's deadline counts from now.
    const resuming = !suspended && !!trueCondition(job, 'Suspended');
    const failure = backoffLimitExceeded(job, tally, active) ? BACKOFF_LIMIT_EXCEEDED : this.checkActiveDeadline(key, job, suspended || resuming, time.nowMs);
    if (failure) await this.failJob(key, job, decision, failure, time.at);
    else if (suspended) await this.suspendJob(key, job, decision, time.at);
    else await this.runJob(key, job, tally, decision, { satisfied, resuming }, time.at);
    return decision;
  }

  /** A finished Job keeps no running pods (left over after a failure whose deletions failed). */
  private async stopFinishedJobPods(key: string, job: Job, decision: JobDecision): Promise<void> {
    if (decision.active.length === 0) return;
    decision.manageError = await this.deletePods(key, job, decision.active, false);
    decision.active = [];
  }

  /**
   * DeadlineExceeded once activeDeadlineSeconds passed since startTime; otherwise the Job is
   * looked at again then. A suspended or resuming Job's deadline does not run.
   */
  private checkActiveDeadline(key: string, job: Job, paused: boolean, nowMs: number): JobFailure | undefined {
    const deadlineSeconds = job.spec?.activeDeadlineSeconds;
    const startTime = job.status?.startTime;
    if (paused || deadlineSeconds === undefined || !startTime) return undefined;
    const deadline = (parseTime(startTime) ?? nowMs) + deadlineSeconds * 1000;
    if (nowMs >= deadline) return DEADLINE_EXCEEDED;
    this.queue.addAfter(key, deadline - nowMs);
    return undefined;
  }

  /** The Job fails: its running pods are killed (as in Kubernetes they count as failed once gone). */
  private async failJob(key: string, job: Job, decision: JobDecision, failure: JobFailure, at: string): Promise<void> {
    decision.manageError = await this.deletePods(key, job, decision.active, false);
    decision.active = [];
    decision.conditions = withCondition(decision.conditions, 'Failed', 'True', failure.reason, failure.message, at);
    decision.events.push(['Warning', failure.reason, failure.message]);
  }

  /** A suspended Job runs no pods; deleting them is no failure. */
  private async suspendJob(key: string, job: Job, decision: JobDecision, at: string): Promise<void> {
    if (decision.active.length > 0) decision.manageError = await this.deletePods(key, job, decision.active, true);
    decision.active = [];
    const before = decision.conditions;
    decision.conditions = withCondition(before, 'Suspended', 'True', 'JobSuspended', 'Job suspended', at);
    if (decision.conditions !== before) decision.events.push(['Normal', 'Suspended', 'Job suspended']);
  }

  /**
   * A running Job: (re)starts its deadline, creates or deletes pods toward the wanted number
   * (only with every earlier creation and deletion observed) and wants Complete once enough
   * pods succeeded and none runs.
   */
  private async runJob(key: string, job: Job, tally: PodTally, decision: JobDecision, state: { satisfied: boolean; resuming: boolean }, at: string): Promise<void> {
    if (state.resuming) {
      decision.conditions = withCondition(decision.conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', at);
      decision.events.push(['Normal', 'Resumed', 'Job resumed']);
      // The deadline counts from the last resumption.
      decision.startTime = at;
    }
    decision.startTime ??= at;
    const deadlineSeconds = job.spec?.activeDeadlineSeconds;
    if (deadlineSeconds !== undefined && decision.startTime === at) this.queue.addAfter(key, deadlineSeconds * 1000);
    if (state.satisfied) {
      const want = wantedActivePods(job, tally.succeeded, decision.active.length);
      const managed = await this.manage(key, job, decision.active, want, tally.failuresSinceSuccess, tally.lastFailureMs);
      decision.manageError = managed.err;
      decision.active = managed.active;
    }
    // Only with every creation observed: active pods missing from the cache must not look
    // finished. Set once every recorded pod is counted (trackJobStatusAndRemoveFinalizers).
    decision.completeWanted = !tally.capped && state.satisfied && decision.active.length === 0 && completionsReached(job, tally.succeeded);
  }

  // ---- status and finalizers ---------------------------------------------------------------

  /**
   * Kubernetes' trackJobStatusAndRemoveFinalizers: (1) records the newly finished pods in
   * status.uncountedTerminatedPods, with the rest of the status, in one write (guarded by the
   * cached resourceVersion: a stale cache conflicts); (2) removes the finalizers of the pods
   * recorded in the stored status; (3) moves the released ones into the counts, in one write.
   */
  private async trackJobStatusAndRemoveFinalizers(
    job: Job,
    pods: Pod[],
    mem: JobMemory,
    tally: PodTally,
    decision: JobDecision,
    at: string,
  ): Promise<{ status: JobStatus; removalError?: unknown }> {
    const { counts } = tally;
    const { active } = decision;
    let status = withCounts({ ...job.status, conditions: decision.conditions, active: active.length, ready: active.filter(isPodReady).length }, counts);
    if (decision.startTime) status.startTime = decision.startTime;

    status = completeIfCounted(status, tally.counts, decision, at);
    let stored = job;
    const recorded = await this.writeStatus(stored, status);
    if (recorded) {
      stored = recorded;
      mem.counts = countsOf(status);
      mem.failuresSinceSuccess = tally.failuresSinceSuccess;
      mem.lastFailureMs = tally.lastFailureMs;
      this.emitEvents(stored, decision.events);
    }
    const removal = await this.releaseRecordedPods(pods, tally);
    if (countReleased(counts, tally.holds)) status = withCounts(status, counts);
    status = completeIfCounted(status, tally.counts, decision, at);
    const counted = await this.writeStatus(stored, status);
    if (counted) {
      mem.counts = countsOf(status);
      this.emitEvents(counted, decision.events);
    }
    return { status, removalError: removal.error };
  }

  /**
   * Removes the finalizers of the pods recorded in the stored status, and of the finished
   * pods deleted as surplus or for a suspension (released uncounted).
   */
  private async releaseRecordedPods(pods: Pod[], tally: PodTally): Promise<{ error?: unknown }> {
    const recorded = new Set([...tally.counts.uncountedSucceeded, ...tally.counts.uncountedFailed]);
    const releasing = pods.filter((p) => recorded.has(uidOf(p)) && tally.holds(uidOf(p)));
    const removal = await this.removeFinalizers([...releasing, ...tally.releaseUncounted]);
    for (const uid of removal.removed) tally.releasedNow.add(uid);
    return removal;
  }

  /** Sends the pending events (once: the list is emptied). */
  private emitEvents(stored: Job, events: JobEvent[]): void {
    for (const [type, reason, message] of events.splice(0)) this.recorder.event(this.ref(stored), type, reason, message);
  }

  // ---- pods --------------------------------------------------------------------------------

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
    const { errors, attempted } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH, async () => {
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
   * Removes the tracking finalizer from each pod (skipping those whose removal already
   * succeeded). Returns the uids of the pods released (finalizer removed, or the pod gone)
   * and the first failure, after trying all.
   */
  private async removeFinalizers(pods: Pod[]): Promise<{ removed: Set<string>; error?: unknown }> {
    const cs = this.ctx.clientset;
    const removed = new Set<string>();
    const results = await Promise.allSettled(
      pods.map(async (pod) => {
        const uid = pod.metadata?.uid ?? '';
        if (!this.finalizerRemoved.has(uid)) {
          const copy = deepCopy(pod);
          copy.metadata = { ...copy.metadata, finalizers: (pod.metadata?.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER) };
          try {
            await cs.pods.update(copy);
          } catch (err) {
            if (!isNotFound(err)) throw err;
          }
          // Remembered until the informer shows the pod without it (unless it already does).
          const cached = this.pods.lister.get(pod.metadata?.name ?? '', pod.metadata?.namespace ?? '');
          if (cached?.metadata?.uid === uid && hasTrackingFinalizer(cached)) this.finalizerRemoved.add(uid);
        }
        removed.add(uid);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    return { removed, error: failed?.reason };
  }

  /**
   * Writes the status when it changed. Returns the stored Job if it was written. A conflict
   * (stale cache) throws: retried.
   */
  private async writeStatus(job: Job, status: JobStatus): Promise<Job | undefined> {
    const cur = job.status ?? {};
    const list = (l: string[] | undefined) => (l ?? []).join(',');
    const same =
      (cur.active ?? 0) === (status.active ?? 0) &&
      (cur.ready ?? 0) === (status.ready ?? 0) &&
      (cur.succeeded ?? 0) === (status.succeeded ?? 0) &&
      (cur.failed ?? 0) === (status.failed ?? 0) &&
      list(cur.uncountedTerminatedPods?.succeeded) === list(status.uncountedTerminatedPods?.succeeded) &&
      list(cur.uncountedTerminatedPods?.failed) === list(status.uncountedTerminatedPods?.failed) &&
      (cur.startTime ?? '') === (status.startTime ?? '') &&
      (cur.completionTime ?? '') === (status.completionTime ?? '') &&
      semanticEqual(cur.conditions ?? [], status.conditions ?? []);
    if (same) return undefined;
    const target = deepCopy(job);
    target.status = status;
    return this.ctx.clientset.jobs.updateStatus(target);
  }

  /**
   * Adopts matching orphans and releases owned pods that stopped matching (util/controllerref.ts);
   * the tracking finalizer is added on adoption and removed on release, as Kubernetes' Job
   * controller passes it to its PodControllerRefManager.
   */
  private claimPods(job: Job, selector: LabelSelector, pods: Pod[]): Promise<Pod[]> {
    const cs = this.ctx.clientset;
    // A finished Job adopts and releases nothing: its own pods only need counting.
    if (finishedCondition(job)) return Promise.resolve(pods.filter((p) => controllerOf(p)?.uid === job.metadata?.uid));
    const manager = new ControllerRefManager<Pod>({
      controller: job,
      controllerKind: CONTROLLER_KIND,
      selector,
      objectKind: 'Pod',
      objects: cs.pods,
      canAdopt: recheckDeletionTimestamp(freshController(cs.jobs, job, CONTROLLER_KIND)),
      finalizers: [JOB_TRACKING_FINALIZER],
    });
    return manager.claim(pods);
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
    const { error } = await this.removeFinalizers([pod]);
    if (error) {
      if (isConflict(error)) this.orphanQueue.add(key);
      else throw error;
    }
  }
}

/** When a Job finished: completionTime, else the finishing condition's transition time. */
function finishedAt(status: JobStatus): number {
  const cond = status.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  return parseTime(status.completionTime) ?? parseTime(cond?.lastTransitionTime) ?? 0;
}
