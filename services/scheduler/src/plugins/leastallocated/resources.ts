// The allocatable and requested amounts of one resource on a node with the incoming pod
// added, as Kubernetes' resource allocation scorers read them.
import type { NodeInfo } from '../../cache/nodeinfo';
import type { PodInfo } from '../../podinfo';

/** The node's allocatable amount of a resource. */
export function allocatableOf(node: NodeInfo, resource: string): number {
  switch (resource) {
    case 'cpu':
      return node.allocatable.milliCpu;
    case 'memory':
      return node.allocatable.memory;
    case 'ephemeral-storage':
      return node.allocatable.ephemeralStorage;
    default:
      return node.allocatable.scalar?.get(resource) ?? 0;
  }
}

/**
 * What the node's pods and the incoming pod request of a resource together. With
 * useRequested false, cpu and memory use the non-zero requests (defaults for containers
 * without requests), as LeastAllocated does; BalancedAllocation uses the real requests.
 */
export function requestedWith(node: NodeInfo, pod: PodInfo, resource: string, useRequested: boolean): number {
  switch (resource) {
    case 'cpu':
      return useRequested ? node.requested.milliCpu + pod.requests.milliCpu : node.nonZeroMilliCpu + pod.nonZeroMilliCpu;
    case 'memory':
      return useRequested ? node.requested.memory + pod.requests.memory : node.nonZeroMemory + pod.nonZeroMemory;
    case 'ephemeral-storage':
      return node.requested.ephemeralStorage + pod.requests.ephemeralStorage;
    default:
      return (node.requested.scalar?.get(resource) ?? 0) + (pod.requests.scalar?.get(resource) ?? 0);
  }
}
