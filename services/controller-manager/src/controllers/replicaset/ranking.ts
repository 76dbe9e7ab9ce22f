// Which pods a ReplicaSet deletes first when it has too many: the least valuable ones,
// in Kubernetes' order (ActivePodsWithRanks):
//   unscheduled < scheduled; Pending < Unknown < Running; not ready < ready;
//   lower pod-deletion-cost < higher; more pods of the same owner on its node < fewer;
//   ready for a shorter time < longer; more container restarts < fewer; newer < older.
import type { corev1 } from '@k8ts/api';
import { isPodReady, maxRestarts, podReadyCondition } from '../../util/pods';
import { parseTime } from '../../util/time';

/** The annotation that lets users say which pods to remove first (lower cost goes first). */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: corev1.Pod): number {
  const text = pod.metadata?.annotations?.[POD_DELETION_COST];
  if (text === undefined || !/^-?\d+$/.test(text)) return 0;
  return Number(text);
}

/** t1 after t2, where a missing time counts as the latest of all (Kubernetes' afterOrZero). */
function afterOrZero(t1: number | undefined, t2: number | undefined): boolean {
  if (t1 === undefined || t2 === undefined) return t1 === undefined;
  return t1 > t2;
}

interface Ranked {
  pod: corev1.Pod;
  /** How many related pods share this pod's node: pods that double up go first. */
  rank: number;
}

/** Negative when `a` should be deleted before `b`. */
function compare(a: Ranked, b: Ranked): number {
  const less = (x: Ranked, y: Ranked): boolean => {
    const xn = x.pod.spec?.nodeName ?? '';
    const yn = y.pod.spec?.nodeName ?? '';
    if (xn !== yn && (xn === '' || yn === '')) return xn === '';
    const xp = PHASE_ORDER[x.pod.status?.phase ?? ''] ?? 0;
    const yp = PHASE_ORDER[y.pod.status?.phase ?? ''] ?? 0;
    if (xp !== yp) return xp < yp;
    const xr = isPodReady(x.pod);
    const yr = isPodReady(y.pod);
    if (xr !== yr) return !xr;
    const xc = deletionCost(x.pod);
    const yc = deletionCost(y.pod);
    if (xc !== yc) return xc < yc;
    if (x.rank !== y.rank) return x.rank > y.rank;
    if (xr && yr) {
      const xt = parseTime(podReadyCondition(x.pod)?.lastTransitionTime);
      const yt = parseTime(podReadyCondition(y.pod)?.lastTransitionTime);
      if (xt !== yt) return afterOrZero(xt, yt);
    }
    const xrs = maxRestarts(x.pod);
    const yrs = maxRestarts(y.pod);
    if (xrs !== yrs) return xrs > yrs;
    const xct = parseTime(x.pod.metadata?.creationTimestamp);
    const yct = parseTime(y.pod.metadata?.creationTimestamp);
    if (xct !== yct) return afterOrZero(xct, yct);
    return false;
  };
  if (less(a, b)) return -1;
  if (less(b, a)) return 1;
  return 0;
}

/**
 * The `count` pods to delete from `pods`: ranked as above, where a pod's rank is the number
 * of `related` pods (the pods of every ReplicaSet of the same owner) on its node.
 */
export function podsToDelete(pods: corev1.Pod[], related: corev1.Pod[], count: number): corev1.Pod[] {
  if (count >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const p of related) {
    const node = p.spec?.nodeName ?? '';
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: perNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort(compare);
  return ranked.slice(0, count).map((r) => r.pod);
}
