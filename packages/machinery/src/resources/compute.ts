// Resources as the scheduler and the kubelet's admission count them (the scheduler
// framework's Resource): cpu in milli-cpu, memory and ephemeral storage in bytes, allocatable
// pods, and the scalar resources (extended, huge pages, ...) by name, each converted from an
// exact sum by Kubernetes' rounding (MilliValue for cpu, Value for the rest). Names that are
// neither counted nor scalar are ignored, as in Kubernetes. The "non-zero" requests that
// scoring uses count 100m cpu and 200Mi memory for containers that request none.
import { Quantity } from '../quantity';
import type { ResourceList } from './lists';
import { CPU, EPHEMERAL_STORAGE, MEMORY, PODS, isScalarResourceName } from './names';
import type { PodLike } from './pod';
import { podRequests } from './pod';

/** Amounts: cpu in milli-cpu, memory and ephemeral storage in bytes, pods and scalars in units. */
export interface ComputeResources {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  /** allocatable "pods" (of a node's allocatable; 0 in requests). */
  allowedPodNumber: number;
  /** Extended resources, huge pages, ... by name; null when there are none. */
  scalar: Map<string, number> | null;
}

/** The cpu the scheduler counts for a container that requests none (0.1 core). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** The memory the scheduler counts for a container that requests none (200Mi). */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** The stand-ins for undeclared requests when scoring (Kubernetes' NonMissingContainerRequests). */
export const NON_ZERO_DEFAULT_REQUESTS: ReadonlyMap<string, Quantity> = new Map([
  [CPU, Quantity.fromMilli(DEFAULT_MILLI_CPU_REQUEST)],
  [MEMORY, Quantity.fromValue(DEFAULT_MEMORY_REQUEST)],
]);

export function emptyComputeResources(): ComputeResources {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: null };
}

function addScalar(r: ComputeResources, name: string, amount: number): void {
  if (!r.scalar) r.scalar = new Map();
  r.scalar.set(name, (r.scalar.get(name) ?? 0) + amount);
}

/** The counted form of a resource list (Kubernetes' Resource.Add on an empty Resource). */
export function computeResourcesOf(list: ReadonlyMap<string, Quantity>): ComputeResources {
  const r = emptyComputeResources();
  for (const [name, q] of list) {
    if (name === CPU) r.milliCpu += q.milliValue();
    else if (name === MEMORY) r.memory += q.value();
    else if (name === EPHEMERAL_STORAGE) r.ephemeralStorage += q.value();
    else if (name === PODS) r.allowedPodNumber += q.value();
    else if (isScalarResourceName(name)) addScalar(r, name, q.value());
  }
  return r;
}

/**
 * into += from (sign 1) or into -= from (sign -1), as a node adds or removes a pod's requests:
 * cpu, memory, ephemeral storage and scalars (a scalar that falls to zero is dropped);
 * allowedPodNumber is the node's own and does not change.
 */
export function addComputeResources(into: ComputeResources, from: ComputeResources, sign: 1 | -1 = 1): void {
  into.milliCpu += sign * from.milliCpu;
  into.memory += sign * from.memory;
  into.ephemeralStorage += sign * from.ephemeralStorage;
  if (!from.scalar) return;
  into.scalar ??= new Map();
  for (const [name, amount] of from.scalar) {
    const next = (into.scalar.get(name) ?? 0) + sign * amount;
    if (next === 0) into.scalar.delete(name);
    else into.scalar.set(name, next);
  }
}

/** What a pod asks of a node, for fitting and for scoring. */
export interface PodSchedulingRequests {
  /** podRequests, counted. */
  requests: ComputeResources;
  /** Milli-cpu with 100m for each container that requests no cpu. */
  nonZeroMilliCpu: number;
  /** Bytes with 200Mi for each container that requests no memory. */
  nonZeroMemory: number;
}

function amount(list: ResourceList, name: string): Quantity {
  return list.get(name) ?? Quantity.ZERO;
}

/**
 * A pod's requests as the scheduler and the kubelet count them (the scheduler framework's
 * calculateResource); throws a QuantityError naming the field of a malformed quantity.
 */
export function podSchedulingRequests(pod: PodLike): PodSchedulingRequests {
  const requests = computeResourcesOf(podRequests(pod));
  const nonZero = podRequests(pod, { nonMissingContainerRequests: NON_ZERO_DEFAULT_REQUESTS });
  return { requests, nonZeroMilliCpu: amount(nonZero, CPU).milliValue(), nonZeroMemory: amount(nonZero, MEMORY).value() };
}
