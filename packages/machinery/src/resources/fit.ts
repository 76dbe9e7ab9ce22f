// Whether a pod's requests fit on a node (the scheduler's NodeResourcesFit "Fits", which the
// kubelet's admission calls too, so both refuse the same pods for the same reasons): one more
// pod within allocatable "pods", then cpu, memory, ephemeral storage and each requested scalar
// resource within allocatable minus what the node's pods already request. A pod that requests
// nothing only needs a free pod slot; a resource requested at zero never fails.
import type { ComputeResources } from './compute';
import { CPU, EPHEMERAL_STORAGE, MEMORY, PODS } from './names';

/** A node's side of the check. */
export interface NodeResources {
  /** What the node offers (allowedPodNumber: its allocatable pods). */
  allocatable: ComputeResources;
  /** The sum of the requests of the pods on it. */
  requested: ComputeResources;
  /** How many pods are on it. */
  podCount: number;
}

/** One resource that does not fit, with Kubernetes' reason and numbers. */
export interface InsufficientResource {
  readonly resourceName: string;
  /** "Too many pods" or "Insufficient <resource>". */
  readonly reason: string;
  readonly requested: number;
  readonly used: number;
  readonly capacity: number;
}

export const TOO_MANY_PODS = 'Too many pods';

/** Kubernetes' reason for a resource that does not fit. */
export function insufficientReason(resourceName: string): string {
  return `Insufficient ${resourceName}`;
}

const FITS: readonly InsufficientResource[] = Object.freeze([]);

function nothingRequested(r: ComputeResources): boolean {
  return r.milliCpu === 0 && r.memory === 0 && r.ephemeralStorage === 0 && (r.scalar === null || r.scalar.size === 0);
}

/** Adds the shortage of one resource to `out`, unless it is not requested or fits. */
function pushShortage(out: InsufficientResource[], resourceName: string, requested: number, used: number, capacity: number): void {
  if (requested === 0 || requested <= capacity - used) return;
  out.push({ resourceName, reason: insufficientReason(resourceName), requested, used, capacity });
}

/**
 * What does not fit, in Kubernetes' order (pods, cpu, memory, ephemeral-storage, then scalar
 * resources by name); empty when the pod fits.
 */
export function insufficientResources(pod: ComputeResources, node: NodeResources): readonly InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const { allocatable: a, requested: u } = node;
  if (node.podCount + 1 > a.allowedPodNumber) {
    out.push({ resourceName: PODS, reason: TOO_MANY_PODS, requested: 1, used: node.podCount, capacity: a.allowedPodNumber });
  }
  if (nothingRequested(pod)) return out.length > 0 ? out : FITS;
  pushShortage(out, CPU, pod.milliCpu, u.milliCpu, a.milliCpu);
  pushShortage(out, MEMORY, pod.memory, u.memory, a.memory);
  pushShortage(out, EPHEMERAL_STORAGE, pod.ephemeralStorage, u.ephemeralStorage, a.ephemeralStorage);
  if (pod.scalar) {
    for (const name of [...pod.scalar.keys()].sort()) {
      pushShortage(out, name, pod.scalar.get(name) ?? 0, u.scalar?.get(name) ?? 0, a.scalar?.get(name) ?? 0);
    }
  }
  return out.length > 0 ? out : FITS;
}
