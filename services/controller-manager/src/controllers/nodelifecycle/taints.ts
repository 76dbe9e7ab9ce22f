// Taints and tolerations as the node lifecycle controller needs them.
import type { corev1 } from '@k8ts/api';

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** Node conditions mapped to the NoSchedule taints Kubernetes puts on nodes (TaintNodesByCondition). */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
  MemoryPressure: { True: TAINT_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_DISK_PRESSURE },
  PIDPressure: { True: TAINT_PID_PRESSURE },
  NetworkUnavailable: { True: TAINT_NETWORK_UNAVAILABLE },
};

/** Taint keys this controller manages with the NoSchedule effect. */
export const NO_SCHEDULE_KEYS = new Set([
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_MEMORY_PRESSURE,
  TAINT_DISK_PRESSURE,
  TAINT_PID_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
  TAINT_UNSCHEDULABLE,
]);

/** The NoSchedule taint keys a node's conditions (and spec.unschedulable) call for. */
export function noScheduleKeysFor(node: corev1.Node): Set<string> {
  const keys = new Set<string>();
  for (const c of node.status?.conditions ?? []) {
    const key = CONDITION_TAINTS[c.type ?? '']?.[c.status ?? ''];
    if (key) keys.add(key);
  }
  if (node.spec?.unschedulable) keys.add(TAINT_UNSCHEDULABLE);
  return keys;
}

/** The NoExecute taint key a Ready condition calls for: not-ready (False), unreachable (Unknown) or none. */
export function noExecuteKeyFor(ready: corev1.NodeCondition | undefined): string | undefined {
  if (!ready) return undefined;
  if (ready.status === 'False') return TAINT_NOT_READY;
  if (ready.status === 'Unknown') return TAINT_UNREACHABLE;
  return undefined;
}

/** Whether a toleration tolerates a taint (Kubernetes' ToleratesTaint). */
export function tolerates(t: corev1.Toleration, taint: corev1.Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/**
 * How long (ms) a pod may stay on a node with this NoExecute taint: 0 when no toleration
 * matches; Infinity when a matching toleration has no tolerationSeconds; otherwise the
 * smallest tolerationSeconds among the matching tolerations.
 */
export function tolerationMs(pod: corev1.Pod, taint: corev1.Taint): number {
  const matching = (pod.spec?.tolerations ?? []).filter((t) => tolerates(t, taint));
  if (matching.length === 0) return 0;
  let min = Number.POSITIVE_INFINITY;
  for (const t of matching) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    min = Math.min(min, Math.max(0, t.tolerationSeconds) * 1000);
  }
  return min;
}
