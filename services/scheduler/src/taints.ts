// Taints and tolerations, as Kubernetes matches them.
import type { corev1 } from '@k8ts/api';

export const NO_SCHEDULE = 'NoSchedule';
export const NO_EXECUTE = 'NoExecute';
export const PREFER_NO_SCHEDULE = 'PreferNoSchedule';

/** The taint a node with spec.unschedulable carries (and pods may tolerate). */
export const UNSCHEDULABLE_TAINT_KEY = 'node.kubernetes.io/unschedulable';

/** True when `t` tolerates `taint`: same effect (or any), same key (or any, with Exists), same value (Equal). */
export function toleratesTaint(t: corev1.Toleration, taint: corev1.Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator ?? '';
  if (op === 'Exists') return true;
  if (op === '' || op === 'Equal') return (t.value ?? '') === (taint.value ?? '');
  return false;
}

export function tolerated(tolerations: readonly corev1.Toleration[], taint: corev1.Taint): boolean {
  for (let i = 0; i < tolerations.length; i++) if (toleratesTaint(tolerations[i], taint)) return true;
  return false;
}

/** The first NoSchedule or NoExecute taint that no toleration tolerates, or undefined. */
export function firstUntoleratedHardTaint(
  taints: readonly corev1.Taint[],
  tolerations: readonly corev1.Toleration[],
): corev1.Taint | undefined {
  for (let i = 0; i < taints.length; i++) {
    const taint = taints[i];
    if (taint.effect !== NO_SCHEDULE && taint.effect !== NO_EXECUTE) continue;
    if (!tolerated(tolerations, taint)) return taint;
  }
  return undefined;
}
