// Cluster events: the changes that can make an unschedulable pod schedulable. Each plugin
// declares the events that could change its verdict; a pod that a plugin rejected waits in
// the unschedulable set until one of those events happens (or its time there runs out).
import type { corev1 } from '@k8ts/api';
import { quantityOf } from '@k8ts/machinery';

export type ClusterEvent =
  | 'NodeAdd'
  | 'NodeDelete'
  | 'NodeLabelChange'
  | 'NodeTaintChange'
  | 'NodeAllocatableChange'
  | 'NodeUnschedulableChange'
  | 'AssignedPodAdd'
  | 'AssignedPodUpdate'
  | 'AssignedPodDelete'
  | 'NamespaceChange';

export const ALL_CLUSTER_EVENTS: readonly ClusterEvent[] = [
  'NodeAdd',
  'NodeDelete',
  'NodeLabelChange',
  'NodeTaintChange',
  'NodeAllocatableChange',
  'NodeUnschedulableChange',
  'AssignedPodAdd',
  'AssignedPodUpdate',
  'AssignedPodDelete',
  'NamespaceChange',
];

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Two quantities with the same value (written alike when one of them is malformed). */
function sameQuantity(a: corev1.Node, b: corev1.Node, name: string): boolean {
  const x = a.status?.allocatable?.[name];
  const y = b.status?.allocatable?.[name];
  try {
    const qx = quantityOf(x);
    const qy = quantityOf(y);
    return qx !== undefined && qy !== undefined && qx.equals(qy);
  } catch {
    return x?.value === y?.value;
  }
}

/** The same resources with the same values (Kubernetes compares allocatable semantically). */
function sameAllocatable(a: corev1.Node, b: corev1.Node): boolean {
  const x = Object.keys(a.status?.allocatable ?? {});
  const y = Object.keys(b.status?.allocatable ?? {});
  return x.length === y.length && x.every((name) => sameQuantity(a, b, name));
}

/** What changed between two versions of a node that scheduling cares about (heartbeats are not). */
export function nodeChangeEvents(oldNode: corev1.Node, newNode: corev1.Node): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  if (!sameJson(oldNode.metadata?.labels, newNode.metadata?.labels)) out.push('NodeLabelChange');
  if (!sameJson(oldNode.spec?.taints, newNode.spec?.taints)) out.push('NodeTaintChange');
  if (!sameAllocatable(oldNode, newNode)) out.push('NodeAllocatableChange');
  if (!!oldNode.spec?.unschedulable !== !!newNode.spec?.unschedulable) out.push('NodeUnschedulableChange');
  return out;
}
