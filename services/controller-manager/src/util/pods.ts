// Facts about pods that several controllers need: readiness, availability, activity.
import type { corev1 } from '@k8ts/api';
import { parseTime } from './time';

/** The pod's Ready condition, if it has one. */
export function podReadyCondition(pod: corev1.Pod): corev1.PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** True when the pod's Ready condition is True. */
export function isPodReady(pod: corev1.Pod): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/**
 * True when the pod has been ready for at least minReadySeconds at `nowMs` (Kubernetes'
 * IsPodAvailable: a ready pod with minReadySeconds 0 is available at once).
 */
export function isPodAvailable(pod: corev1.Pod, minReadySeconds: number, nowMs: number): boolean {
  const c = podReadyCondition(pod);
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTime(c.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= nowMs;
}

/** True for a pod that is neither finished (Succeeded, Failed) nor being deleted. */
export function isPodActive(pod: corev1.Pod): boolean {
  const phase = pod.status?.phase ?? '';
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/** The highest restart count among the pod's containers. */
export function maxRestarts(pod: corev1.Pod): number {
  let max = 0;
  for (const s of pod.status?.containerStatuses ?? []) max = Math.max(max, s.restartCount ?? 0);
  return max;
}

/** The pod's labels, never undefined. */
export function labelsOf(obj: { metadata?: { labels?: Record<string, string> } }): Record<string, string> {
  return obj.metadata?.labels ?? {};
}
