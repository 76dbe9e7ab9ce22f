// Resource lists (Kubernetes' v1.ResourceList): resource name -> Quantity, read from the
// API's map of quantity messages with errors that name the field, and the two ways pod
// resource math combines them (component-helpers' addResourceList and maxResourceList).
import type { metav1 } from '@k8ts/api';
import { Quantity, quantityOf, toQuantityMessage } from '../quantity';

/** Resource name -> amount ("cpu" -> 500m, "memory" -> 128Mi). */
export type ResourceList = Map<string, Quantity>;

/** A resource list as API objects hold it (requests, limits, overhead, allocatable). */
export type ApiResourceList = { [name: string]: metav1.Quantity } | undefined;

/**
 * The ResourceList of an API map; a malformed quantity throws a QuantityError naming
 * `path[name]` ("spec.containers[0].resources.requests[cpu]").
 */
export function resourceListOf(list: ApiResourceList, path: string): ResourceList {
  const out: ResourceList = new Map();
  if (!list) return out;
  for (const name of Object.keys(list)) out.set(name, quantityOf(list[name], `${path}[${name}]`) ?? Quantity.ZERO);
  return out;
}

/** The API form of a ResourceList: each quantity written as Kubernetes writes it. */
export function toApiResourceList(list: ReadonlyMap<string, Quantity>): { [name: string]: metav1.Quantity } {
  const out: { [name: string]: metav1.Quantity } = {};
  for (const [name, q] of list) out[name] = toQuantityMessage(q);
  return out;
}

/** Adds each entry of `from` to the same entry of `into` (Kubernetes' addResourceList). */
export function addResourceList(into: ResourceList, from: ReadonlyMap<string, Quantity>): void {
  for (const [name, q] of from) {
    const have = into.get(name);
    into.set(name, have ? have.add(q) : q);
  }
}

/** Keeps, for each entry of `from`, the larger of it and the same entry of `into` (Kubernetes' maxResourceList). */
export function maxResourceList(into: ResourceList, from: ReadonlyMap<string, Quantity>): void {
  for (const [name, q] of from) {
    const have = into.get(name);
    if (!have || q.cmp(have) > 0) into.set(name, q);
  }
}
