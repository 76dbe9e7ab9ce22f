// Pod admission: a pod bound to this node runs only if it fits next to the pods already
// admitted, as the kubelet checks it (the scheduler may have decided on stale information, or
// the pod set spec.nodeName itself). A refused pod gets phase Failed with Kubernetes' reason.
// The checks come in Kubernetes' order (the scheduler's AdmissionCheck): resources first, with
// the very fit check the scheduler runs (@k8ts/machinery's insufficientResources: OutOfpods,
// OutOfcpu, OutOfmemory, OutOf<resource>), then host ports (NodePorts). As Kubernetes' kubelet
// does, extended resources the node does not have at all are left out of the check.
import type { corev1 } from '@k8ts/api';
import { addComputeResources, emptyComputeResources, isExtendedResourceName, insufficientResources, podSchedulingRequests } from '@k8ts/machinery';
import type { ComputeResources, InsufficientResource } from '@k8ts/machinery';

/** What the node offers to pods. */
export interface NodeAllocatable {
  cpuMilli: number;
  memoryBytes: number;
  pods: number;
}

export type AdmitResult = { admit: true } | { admit: false; reason: string; message: string };

interface HostPort {
  protocol: string;
  ip: string;
  port: number;
}

function hostPorts(pod: corev1.Pod): HostPort[] {
  const out: HostPort[] = [];
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const c of all) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({ protocol: p.protocol || 'TCP', ip: p.hostIP || '0.0.0.0', port: p.hostPort });
    }
  }
  return out;
}

function clash(a: HostPort, b: HostPort): boolean {
  if (a.protocol !== b.protocol || a.port !== b.port) return false;
  return a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0';
}

/** The node's allocatable as the fit check counts it (k8ts nodes offer cpu, memory and pods). */
function allocatableResources(a: NodeAllocatable): ComputeResources {
  return { ...emptyComputeResources(), milliCpu: a.cpuMilli, memory: a.memoryBytes, allowedPodNumber: a.pods };
}

/** The pod's requests without the extended resources the node has none of (Kubernetes' removeMissingExtendedResources). */
function requestsOnThisNode(pod: corev1.Pod, allocatable: ComputeResources): ComputeResources {
  const { requests } = podSchedulingRequests(pod);
  if (!requests.scalar) return requests;
  const kept = [...requests.scalar].filter(([name]) => !isExtendedResourceName(name) || allocatable.scalar?.has(name));
  return { ...requests, scalar: kept.length > 0 ? new Map(kept) : null };
}

/** The first resource that does not fit, or undefined. */
function resourceShortage(pod: corev1.Pod, allocatable: NodeAllocatable, others: corev1.Pod[]): InsufficientResource | undefined {
  const offered = allocatableResources(allocatable);
  const requested = emptyComputeResources();
  for (const o of others) addComputeResources(requested, podSchedulingRequests(o).requests);
  return insufficientResources(requestsOnThisNode(pod, offered), { allocatable: offered, requested, podCount: others.length })[0];
}

/** The first host port of `pod` that another pod already uses, with that pod. */
function portClash(pod: corev1.Pod, others: corev1.Pod[]): { port: HostPort; user: corev1.Pod } | undefined {
  const wanted = hostPorts(pod);
  if (wanted.length === 0) return undefined;
  for (const other of others) {
    for (const used of hostPorts(other)) {
      const hit = wanted.find((w) => clash(w, used));
      if (hit) return { port: hit, user: other };
    }
  }
  return undefined;
}

/**
 * Decides whether `pod` may run next to `admitted` (the node's other active pods): the pod
 * count, cpu, memory (and any requested resource) against allocatable, then host ports.
 */
export function admitPod(pod: corev1.Pod, allocatable: NodeAllocatable, admitted: corev1.Pod[]): AdmitResult {
  const others = admitted.filter((p) => p.metadata?.uid !== pod.metadata?.uid);
  const short = resourceShortage(pod, allocatable, others);
  if (short) {
    return {
      admit: false,
      reason: `OutOf${short.resourceName}`,
      message: `Pod was rejected: Node didn't have enough resource: ${short.resourceName}, requested: ${short.requested}, used: ${short.used}, capacity: ${short.capacity}`,
    };
  }
  const taken = portClash(pod, others);
  if (taken) {
    const { port, user } = taken;
    return {
      admit: false,
      reason: 'NodePorts',
      message: `Pod was rejected: node(s) didn't have free ports for the requested pod ports: ${port.protocol} ${port.ip}:${port.port} is used by pod ${user.metadata?.namespace}/${user.metadata?.name}`,
    };
  }
  return { admit: true };
}

/** The status of a refused pod: Failed, with the reason and message of the refusal. */
export function rejectedStatus(pod: corev1.Pod, reason: string, message: string, hostIP: string, now = Date.now()): corev1.PodStatus {
  const t = new Date(now).toISOString();
  return {
    phase: 'Failed',
    reason,
    message,
    hostIP,
    hostIPs: hostIP ? [{ ip: hostIP }] : [],
    startTime: pod.status?.startTime ?? t,
    conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: scheduledTime(pod) ?? t }],
    observedGeneration: pod.metadata?.generation,
  };
}

function scheduledTime(pod: corev1.Pod): string | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True')?.lastTransitionTime;
}
