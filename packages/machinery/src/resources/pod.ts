// What a pod requests and is limited to, as Kubernetes computes it once for the scheduler, the
// kubelet's admission, quota and kubectl (component-helpers resource.PodRequests/PodLimits):
//   - regular containers add up;
//   - restartable init containers (sidecars, restartPolicy Always) keep running, so they add
//     to that sum too;
//   - each other init container runs alone, next to the sidecars started before it, so the
//     pod needs, per resource, the larger of the sum and the largest such moment;
//   - the pod overhead is added to requests, and to the limits that are set and non-zero.
// Only declared requests count: the apiserver's defaulting has already copied a limit into a
// missing request. The scheduler's "non-zero" requests stand in defaults for requests a
// container does not declare at all (nonMissingContainerRequests). Pod-level resources and
// in-place resize status do not exist in the k8ts API, so they play no part.
import type { corev1 } from '@k8ts/api';
import type { Quantity } from '../quantity';
import type { ResourceList } from './lists';
import { addResourceList, maxResourceList, resourceListOf } from './lists';

/** Anything with a pod spec (a Pod, a pod template). */
export interface PodLike {
  spec?: corev1.PodSpec | undefined;
}

export interface PodResourcesOptions {
  /** Leave spec.overhead out (Kubernetes' ExcludeOverhead). */
  excludeOverhead?: boolean;
  /**
   * Amounts to use for resources a container does not list in its requests at all (a listed
   * zero stays zero): the scheduler's 100m cpu / 200Mi memory. Ignored by podLimits.
   */
  nonMissingContainerRequests?: ReadonlyMap<string, Quantity>;
}

type Field = 'requests' | 'limits';

const RESTARTABLE = 'Always';

/** A container's own list, with the stand-ins for the resources it does not list. */
function containerList(c: corev1.Container, field: Field, path: string, stand?: ReadonlyMap<string, Quantity>): ResourceList {
  const own = resourceListOf(c.resources?.[field], `${path}.resources.${field}`);
  if (stand) for (const [name, q] of stand) if (!own.has(name)) own.set(name, q);
  return own;
}

/** The containers' aggregate of one field, by the sidecar rule. */
function aggregate(spec: corev1.PodSpec, field: Field, stand?: ReadonlyMap<string, Quantity>): ResourceList {
  const total: ResourceList = new Map();
  (spec.containers ?? []).forEach((c, i) => {
    addResourceList(total, containerList(c, field, `spec.containers[${i}]`, stand));
  });
  const sidecars: ResourceList = new Map();
  const initPeak: ResourceList = new Map();
  (spec.initContainers ?? []).forEach((c, i) => {
    const own = containerList(c, field, `spec.initContainers[${i}]`, stand);
    if (c.restartPolicy === RESTARTABLE) {
      addResourceList(total, own);
      addResourceList(sidecars, own);
      maxResourceList(initPeak, sidecars);
    } else {
      const moment: ResourceList = new Map(own);
      addResourceList(moment, sidecars);
      maxResourceList(initPeak, moment);
    }
  });
  maxResourceList(total, initPeak);
  return total;
}

/** The pod's requests (Kubernetes' PodRequests); throws a QuantityError naming the field of a malformed quantity. */
export function podRequests(pod: PodLike, opts: PodResourcesOptions = {}): ResourceList {
  const spec = pod.spec ?? {};
  const requests = aggregate(spec, 'requests', opts.nonMissingContainerRequests);
  if (!opts.excludeOverhead && spec.overhead) addResourceList(requests, resourceListOf(spec.overhead, 'spec.overhead'));
  return requests;
}

/** The pod's limits (Kubernetes' PodLimits): overhead is added only to limits that are set and non-zero. */
export function podLimits(pod: PodLike, opts: PodResourcesOptions = {}): ResourceList {
  const spec = pod.spec ?? {};
  const limits = aggregate(spec, 'limits');
  if (opts.excludeOverhead || !spec.overhead) return limits;
  for (const [name, q] of resourceListOf(spec.overhead, 'spec.overhead')) {
    const limit = limits.get(name);
    if (limit && !limit.isZero()) limits.set(name, limit.add(q));
  }
  return limits;
}
