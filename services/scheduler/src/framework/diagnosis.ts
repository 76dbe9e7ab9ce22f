// Why a pod fits nowhere, and the FailedScheduling message in Kubernetes' form:
//   0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}.
// Each reason of each node's status is counted once per node, "<count> <reason>" strings are
// sorted as strings (as Kubernetes' sort.Strings does, so "10 x" sorts before "2 y") and
// joined with ", ". When PreFilter rejected the pod, its message replaces the histogram.
import type { Status } from './status';

export class Diagnosis {
  /** The status of every node that failed (including nodes PreFilter left out). */
  readonly nodeToStatus = new Map<string, Status>();
  /** Nodes not evaluated because PreFilter narrowed the candidates; they count with this status. */
  absentNodes = 0;
  absentStatus: Status | undefined;
  /** The plugins that rejected the pod somewhere (decides which cluster events retry it). */
  readonly unschedulablePlugins = new Set<string>();
  /** Set when a PreFilter plugin rejected the pod. */
  preFilterMsg = '';
  /** Set by PostFilter plugins. */
  postFilterMsg = '';
}

/** The pod fits on no node. */
export class FitError extends Error {
  constructor(
    readonly podKey: string,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super(fitErrorMessage(numAllNodes, diagnosis));
    this.name = 'FitError';
  }
}

/** "<count> <reason>" for every reason, sorted as strings. */
export function reasonHistogram(d: Diagnosis): string[] {
  const counts = new Map<string, number>();
  for (const status of d.nodeToStatus.values()) {
    for (const r of status.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  if (d.absentNodes > 0 && d.absentStatus) {
    for (const r of d.absentStatus.reasons) counts.set(r, (counts.get(r) ?? 0) + d.absentNodes);
  }
  const out: string[] = [];
  for (const [reason, n] of counts) out.push(`${n} ${reason}`);
  // Byte-wise order, as Go's sort.Strings.
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg) {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const hist = reasonHistogram(d);
    if (hist.length > 0) msg += ` ${hist.join(', ')}.`;
  }
  if (d.postFilterMsg) msg += ` ${d.postFilterMsg}.`;
  return msg;
}

/** Kubernetes' message when the cluster has no nodes at all. */
export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';
