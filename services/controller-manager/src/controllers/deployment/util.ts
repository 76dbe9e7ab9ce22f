// Pure helpers of the deployment controller: the pod-template hash, revisions, the rolling
// update bounds, replica counts over ReplicaSets, and the Deployment conditions. They follow
// Kubernetes' deployment/util package.
import type { appsv1, corev1, metav1 } from '@k8ts/api';
import { deepCopy } from '@k8ts/client';
import { fnv32a, safeEncode, semanticEqual, stableStringify } from '../../util/canonical';
import { scaledValue } from '../../util/intstr';
import { parseTime, timestamp } from '../../util/time';

type Deployment = appsv1.Deployment;
type ReplicaSet = appsv1.ReplicaSet;

/** The revision of a Deployment and of each of its ReplicaSets. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** Earlier revisions a reused ReplicaSet had (after rollbacks), comma separated. */
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
/** The Deployment's replicas when a ReplicaSet was last scaled (detects scaling events). */
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
/** The Deployment's replicas + maxSurge when a ReplicaSet was last scaled (proportional scaling). */
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
/** The label that ties a ReplicaSet and its pods to one pod template. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** Annotations of a Deployment that are not copied to its ReplicaSets. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

/** The longest revision-history annotation kept. */
const MAX_REVISION_HISTORY_CHARS = 2000;

/** progressDeadlineSeconds that means "no deadline" (Kubernetes: MaxInt32). */
export const NO_PROGRESS_DEADLINE = 2147483647;

// Condition types and reasons, as Kubernetes names them.
export const AVAILABLE = 'Available';
export const PROGRESSING = 'Progressing';
export const REPLICA_FAILURE = 'ReplicaFailure';
export const REASON = {
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  replicaSetUpdated: 'ReplicaSetUpdated',
  newReplicaSet: 'NewReplicaSetCreated',
  foundNewReplicaSet: 'FoundNewReplicaSet',
  newReplicaSetAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  failedRSCreate: 'ReplicaSetCreateError',
} as const;

/** spec.replicas with its default (1). */
export function replicasOf(obj: { spec?: { replicas?: number } }): number {
  return obj.spec?.replicas ?? 1;
}

/** The template without the pod-template-hash label, for comparisons. */
function withoutHash(template: corev1.PodTemplateSpec | undefined): corev1.PodTemplateSpec {
  const t = deepCopy(template ?? {});
  if (t.metadata?.labels) {
    const { [POD_TEMPLATE_HASH_LABEL]: _hash, ...rest } = t.metadata.labels;
    t.metadata.labels = rest;
  }
  return t;
}

/**
 * The pod-template hash: FNV-1a over the canonical JSON of the template (and the collision
 * count, when set), written with Kubernetes' safe alphabet. Stable across processes: the same
 * template always gives the same ReplicaSet name.
 */
export function computeHash(template: corev1.PodTemplateSpec | undefined, collisionCount?: number): string {
  let text = stableStringify(withoutHash(template));
  if (collisionCount !== undefined && collisionCount !== null) text += `\u0000${collisionCount}`;
  return safeEncode(String(fnv32a(text)));
}

/** True when two templates are the same apart from the pod-template-hash label. */
export function equalIgnoreHash(a: corev1.PodTemplateSpec | undefined, b: corev1.PodTemplateSpec | undefined): boolean {
  return semanticEqual(withoutHash(a), withoutHash(b));
}

/** The revision number of an object (0 when it has none or a malformed one). */
export function revisionOf(obj: { metadata?: metav1.ObjectMeta }): number {
  const text = obj.metadata?.annotations?.[REVISION_ANNOTATION];
  return text && /^\d+$/.test(text) ? Number(text) : 0;
}

export function maxRevision(rss: ReplicaSet[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

function creationMs(obj: { metadata?: metav1.ObjectMeta }): number {
  return parseTime(obj.metadata?.creationTimestamp) ?? 0;
}

/** Oldest first; ties by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const d = creationMs(a) - creationMs(b);
  if (d !== 0) return d;
  return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
}

/** The ReplicaSet running the Deployment's current template (the oldest such, if several). */
export function findNewReplicaSet(d: Deployment, rss: ReplicaSet[]): ReplicaSet | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Whether the strategy is a rolling update (the default). */
export function isRollingUpdate(d: Deployment): boolean {
  const t = d.spec?.strategy?.type ?? '';
  return t === '' || t === 'RollingUpdate';
}

/**
 * maxSurge and maxUnavailable as numbers for the Deployment's replicas: surge rounded up,
 * unavailable rounded down; both 0 would deadlock, so unavailable becomes 1 then.
 */
export function resolveFenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const replicas = replicasOf(d);
  const ru = d.spec?.strategy?.rollingUpdate;
  const maxSurge = scaledValue(ru?.maxSurge, replicas, true, '25%');
  let maxUnavailable = scaledValue(ru?.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

/** The most pods that may be unavailable (0 unless rolling; at most replicas). */
export function maxUnavailable(d: Deployment): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(resolveFenceposts(d).maxUnavailable, replicas);
}

/** The most pods above replicas (0 unless rolling). */
export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  return resolveFenceposts(d).maxSurge;
}

const sum = (rss: (ReplicaSet | undefined)[], f: (rs: ReplicaSet) => number) => rss.reduce((n, rs) => n + (rs ? f(rs) : 0), 0);

/** Sum of spec.replicas. */
export function replicaCount(rss: (ReplicaSet | undefined)[]): number {
  return sum(rss, (rs) => replicasOf(rs));
}
/** Sum of status.replicas. */
export function actualReplicaCount(rss: (ReplicaSet | undefined)[]): number {
  return sum(rss, (rs) => rs.status?.replicas ?? 0);
}
export function readyReplicaCount(rss: (ReplicaSet | undefined)[]): number {
  return sum(rss, (rs) => rs.status?.readyReplicas ?? 0);
}
export function availableReplicaCount(rss: (ReplicaSet | undefined)[]): number {
  return sum(rss, (rs) => rs.status?.availableReplicas ?? 0);
}

/**
 * Available pods that will still be there once each ReplicaSet has converged on its
 * spec.replicas: a ReplicaSet just scaled down may still report the pods it is deleting as
 * available, so its count is capped at spec.replicas. Scale-downs use this conservative
 * figure, so that a stale status never lets a rollout go below maxUnavailable.
 */
export function settledAvailableCount(rss: (ReplicaSet | undefined)[]): number {
  return sum(rss, (rs) => Math.min(rs.status?.availableReplicas ?? 0, replicasOf(rs)));
}

/** ReplicaSets with spec.replicas > 0. */
export function filterActive(rss: (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => !!rs && replicasOf(rs) > 0);
}

function intAnnotation(rs: ReplicaSet, name: string): number | undefined {
  const text = rs.metadata?.annotations?.[name];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

export function desiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
}
export function maxReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, MAX_REPLICAS_ANNOTATION);
}

/** Sets desired-replicas and max-replicas on a ReplicaSet copy; true when they changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const annotations = (rs.metadata ??= {}).annotations ?? {};
  const d = String(desired);
  const m = String(max);
  if (annotations[DESIRED_REPLICAS_ANNOTATION] === d && annotations[MAX_REPLICAS_ANNOTATION] === m) return false;
  rs.metadata.annotations = { ...annotations, [DESIRED_REPLICAS_ANNOTATION]: d, [MAX_REPLICAS_ANNOTATION]: m };
  return true;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations ?? {};
  return a[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a[MAX_REPLICAS_ANNOTATION] !== String(max);
}

/**
 * Sets the annotations of the Deployment's new ReplicaSet (on a copy): the Deployment's own
 * annotations, the revision (raised to newRevision, keeping the earlier one in the history:
 * a rollback reuses an old ReplicaSet), and for a ReplicaSet about to be created the replica
 * annotations. True when anything changed.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: number, exists: boolean): boolean {
  const meta = (rs.metadata ??= {});
  const annotations = { ...meta.annotations };
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (NOT_COPIED.has(k) || annotations[k] === v) continue;
    annotations[k] = v;
    changed = true;
  }
  const oldText = annotations[REVISION_ANNOTATION];
  const hadRevision = oldText !== undefined && oldText !== '';
  if (hadRevision && !/^\d+$/.test(oldText)) {
    meta.annotations = annotations;
    return changed;
  }
  const old = hadRevision ? Number(oldText) : 0;
  if (old < newRevision) {
    annotations[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (hadRevision) {
      const history = annotations[REVISION_HISTORY_ANNOTATION];
      let next = history ? `${history},${oldText}` : oldText;
      while (next.length > MAX_REVISION_HISTORY_CHARS && next.includes(',')) next = next.slice(next.indexOf(',') + 1);
      annotations[REVISION_HISTORY_ANNOTATION] = next;
    }
  }
  meta.annotations = annotations;
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

/**
 * How many replicas the new ReplicaSet should have now: for a rolling update, as many more
 * as maxSurge allows above replicas (never more than replicas); for Recreate, replicas.
 */
export function newRSNewReplicas(d: Deployment, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d)) return replicas;
  const current = replicasOf(newRS);
  const total = replicaCount(allRSs);
  const maxTotal = replicas + resolveFenceposts(d).maxSurge;
  if (total >= maxTotal) return current;
  const scaleUp = Math.min(maxTotal - total, replicas - current);
  return current + Math.max(0, scaleUp);
}

/** True when the new ReplicaSet alone runs the Deployment, fully available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicasAnnotation(rs);
  return replicasOf(rs) === replicasOf(d) && desired === replicasOf(d) && (rs.status?.availableReplicas ?? 0) === replicasOf(d);
}

/** Whether the Deployment has a progress deadline (600 s when unset). */
export function hasProgressDeadline(d: Deployment): boolean {
  return d.spec?.progressDeadlineSeconds !== NO_PROGRESS_DEADLINE;
}

export function progressDeadlineSeconds(d: Deployment): number {
  return d.spec?.progressDeadlineSeconds ?? 600;
}

export function getCondition(status: appsv1.DeploymentStatus | undefined, type: string): appsv1.DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function newCondition(type: string, status: string, reason: string, message: string, nowMs: number): appsv1.DeploymentCondition {
  const t = timestamp(nowMs);
  return { type, status, reason, message, lastUpdateTime: t, lastTransitionTime: t };
}

/**
 * Sets a condition on a status (in place): nothing changes when status and reason are the
 * same; the transition time is kept when only the reason changes.
 */
export function setCondition(status: appsv1.DeploymentStatus, condition: appsv1.DeploymentCondition): void {
  const current = getCondition(status, condition.type ?? '');
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  if (current && current.status === condition.status) condition = { ...condition, lastTransitionTime: current.lastTransitionTime };
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), condition];
}

export function removeCondition(status: appsv1.DeploymentStatus, type: string): void {
  status.conditions = (status.conditions ?? []).filter((c) => c.type !== type);
}

/** The rollout is done: every replica updated and available, and the spec observed. */
export function deploymentComplete(d: Deployment, status: appsv1.DeploymentStatus): boolean {
  const replicas = replicasOf(d);
  return (
    (status.updatedReplicas ?? 0) === replicas &&
    (status.replicas ?? 0) === replicas &&
    (status.availableReplicas ?? 0) === replicas &&
    (status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
  );
}

/** The rollout made progress since the status in `d`: more updated, ready or available pods, or fewer old ones. */
export function deploymentProgressing(d: Deployment, status: appsv1.DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** The rollout has not progressed within progressDeadlineSeconds of its last progress. */
export function deploymentTimedOut(d: Deployment, status: appsv1.DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(status, PROGRESSING);
  if (!c) return false;
  if (c.reason === REASON.newReplicaSetAvailable) return false;
  if (c.reason === REASON.timedOut) return true;
  const from = parseTime(c.lastUpdateTime);
  if (from === undefined) return false;
  return from + progressDeadlineSeconds(d) * 1000 < nowMs;
}
