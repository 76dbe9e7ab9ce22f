// A pod's quality-of-service class, as Kubernetes computes it (ComputePodQOS) for
// status.qosClass and the kubelet: each container (init containers included) is
//   BestEffort  when it requests and limits neither cpu nor memory,
//   Guaranteed  when, for cpu and for memory, its request equals its limit and is not zero,
//   Burstable   otherwise;
// the pod is Guaranteed or BestEffort when all its containers are, and Burstable when they
// differ. Only cpu and memory count; a container with only other resources is BestEffort.
import type { corev1 } from '@k8ts/api';
import { Quantity } from '../quantity';
import { resourceListOf } from './lists';
import { CPU, MEMORY } from './names';
import type { PodLike } from './pod';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const QOS_RESOURCES = [CPU, MEMORY] as const;

function containerQOS(c: corev1.Container, path: string): QOSClass {
  const requests = resourceListOf(c.resources?.requests, `${path}.resources.requests`);
  const limits = resourceListOf(c.resources?.limits, `${path}.resources.limits`);
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  let qos: QOSClass | undefined;
  for (const name of QOS_RESOURCES) {
    const request = requests.get(name) ?? Quantity.ZERO;
    const limit = limits.get(name) ?? Quantity.ZERO;
    if (!request.equals(limit)) return 'Burstable';
    const resourceQOS: QOSClass = request.isZero() ? 'BestEffort' : 'Guaranteed';
    if (qos !== undefined && qos !== resourceQOS) return 'Burstable';
    qos = resourceQOS;
  }
  return qos ?? 'BestEffort';
}

/** The pod's QoS class; throws a QuantityError naming the field of a malformed quantity. */
export function podQOSClass(pod: PodLike): QOSClass {
  const spec = pod.spec ?? {};
  const containers = [
    ...(spec.initContainers ?? []).map((c, i) => [c, `spec.initContainers[${i}]`] as const),
    ...(spec.containers ?? []).map((c, i) => [c, `spec.containers[${i}]`] as const),
  ];
  let podQOS: QOSClass | undefined;
  for (const [c, path] of containers) {
    const qos = containerQOS(c, path);
    if (qos === 'Burstable' || (podQOS !== undefined && podQOS !== qos)) return 'Burstable';
    podQOS = qos;
  }
  return podQOS ?? 'BestEffort';
}
