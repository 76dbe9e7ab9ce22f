// The resource part of `k8ts describe node`, as kubectl writes it: each non-terminated pod's cpu
// and memory requests and limits with their share of the node's allocatable, then the node's
// totals ("Allocated resources"). Requests and limits are @k8ts/machinery's podRequests and
// podLimits (Kubernetes' PodRequestsAndLimits), quantities are written in Kubernetes' form,
// and shares are truncated percentages of allocatable (of capacity when allocatable is empty).
import type { corev1 } from '@k8ts/api';
import {
  CPU,
  EPHEMERAL_STORAGE,
  MEMORY,
  PODS,
  Quantity,
  addResourceList,
  isHugePageResourceName,
  podLimits,
  podRequests,
  quantityOf,
} from '@k8ts/machinery';
import type { ResourceList } from '@k8ts/machinery';

type QuantityMessage = { value?: string } | undefined;

/** A quantity as Kubernetes writes it ("0.5" -> "500m"); the text as given when malformed. */
export function quantityText(q: QuantityMessage): string {
  try {
    return quantityOf(q)?.toString() ?? '';
  } catch {
    return q?.value ?? '';
  }
}

/** The well-formed entries of an API resource list (a malformed one is left out, not fatal to describe). */
function readableList(list: { [name: string]: { value?: string } } | undefined): ResourceList {
  const out: ResourceList = new Map();
  for (const [name, q] of Object.entries(list ?? {})) {
    try {
      out.set(name, quantityOf(q) ?? Quantity.ZERO);
    } catch {
      // left out
    }
  }
  return out;
}

/** What the node offers: allocatable, or capacity when allocatable is empty (kubectl's rule). */
export function nodeAllocatable(node: corev1.Node): ResourceList {
  const allocatable = readableList(node.status?.allocatable);
  return allocatable.size > 0 ? allocatable : readableList(node.status?.capacity);
}

/** A pod's requests and limits; empty when one of its quantities is malformed. */
function requestsAndLimits(pod: corev1.Pod): { requests: ResourceList; limits: ResourceList } {
  try {
    return { requests: podRequests(pod), limits: podLimits(pod) };
  } catch {
    return { requests: new Map(), limits: new Map() };
  }
}

/** "750m (37%)": the amount and its truncated share of the total (cpu in milli-cpu, the rest in units). */
function withShare(amount: Quantity, total: Quantity | undefined, resource: string): string {
  const scale = resource === CPU ? -3 : 0;
  const whole = total?.scaledValue(scale) ?? 0;
  const percent = whole === 0 ? 0 : Math.trunc((amount.scaledValue(scale) / whole) * 100);
  return `${amount.toString()} (${percent}%)`;
}

function amountOf(list: ResourceList, resource: string): Quantity {
  return list.get(resource) ?? Quantity.ZERO;
}

/** The rows of the pods table: namespace, name, cpu requests, cpu limits, memory requests, memory limits. */
export function podResourceRows(pods: corev1.Pod[], allocatable: ResourceList): string[][] {
  return pods.map((pod) => {
    const { requests, limits } = requestsAndLimits(pod);
    const cell = (list: ResourceList, resource: string) => withShare(amountOf(list, resource), allocatable.get(resource), resource);
    return [pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', cell(requests, CPU), cell(limits, CPU), cell(requests, MEMORY), cell(limits, MEMORY)];
  });
}

/** Huge page resources of the node, smallest page first. */
function hugePageResources(allocatable: ResourceList): string[] {
  const size = (name: string) => {
    try {
      return Quantity.parse(name.slice('hugepages-'.length));
    } catch {
      return Quantity.ZERO;
    }
  };
  return [...allocatable.keys()].filter(isHugePageResourceName).sort((a, b) => size(a).cmp(size(b)) || a.localeCompare(b));
}

/** Extended and other non-standard resources of the node, by name. */
function otherResources(allocatable: ResourceList): string[] {
  const standard = new Set([CPU, MEMORY, EPHEMERAL_STORAGE, PODS]);
  return [...allocatable.keys()].filter((name) => !standard.has(name) && !isHugePageResourceName(name)).sort();
}

/** The rows of "Allocated resources": resource, total requests, total limits (with shares for standard ones). */
export function allocatedResourceRows(pods: corev1.Pod[], allocatable: ResourceList): string[][] {
  const requests: ResourceList = new Map();
  const limits: ResourceList = new Map();
  for (const pod of pods) {
    const own = requestsAndLimits(pod);
    addResourceList(requests, own.requests);
    addResourceList(limits, own.limits);
  }
  const shared = (resource: string) => [resource, withShare(amountOf(requests, resource), allocatable.get(resource), resource), withShare(amountOf(limits, resource), allocatable.get(resource), resource)];
  return [
    ...[CPU, MEMORY, EPHEMERAL_STORAGE, ...hugePageResources(allocatable)].map(shared),
    ...otherResources(allocatable).map((resource) => [resource, amountOf(requests, resource).toString(), amountOf(limits, resource).toString()]),
  ];
}
