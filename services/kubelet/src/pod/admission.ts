// Pod admission: a pod bound to this node runs only if it fits next to the pods already
// admitted, as the kubelet checks it (the scheduler may have decided on stale information, or
// the pod set spec.nodeName itself). A refused pod gets phase Failed with Kubernetes' reason:
// OutOfpods, OutOfcpu, OutOfmemory, NodePorts.
import type { corev1 } from '@k8ts/api';
import { podRequests } from '../quantity';

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

/**
 * Decides whether `pod` may run next to `admitted` (the node's other active pods). Checks, in
 * Kubernetes' order: host ports, then the pod count, cpu and memory requests against allocatable.
 */
export function admitPod(pod: corev1.Pod, allocatable: NodeAllocatable, admitted: corev1.Pod[]): AdmitResult {
  const others = admitted.filter((p) => p.metadata?.uid !== pod.metadata?.uid);

  const wanted = hostPorts(pod);
  if (wanted.length > 0) {
    for (const other of others) {
      for (const used of hostPorts(other)) {
        const hit = wanted.find((w) => clash(w, used));
        if (hit) {
          return {
            admit: false,
            reason: 'NodePorts',
            message: `Pod was rejected: node(s) didn't have free ports for the requested pod ports: ${hit.protocol} ${hit.ip}:${hit.port} is used by pod ${other.metadata?.namespace}/${other.metadata?.name}`,
          };
        }
      }
    }
  }

  if (others.length + 1 > allocatable.pods) {
    return {
      admit: false,
      reason: 'OutOfpods',
      message: `Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: ${others.length}, capacity: ${allocatable.pods}`,
    };
  }
  const req = podRequests(pod.spec);
  let cpuUsed = 0;
  let memUsed = 0;
  for (const o of others) {
    const r = podRequests(o.spec);
    cpuUsed += r.cpuMilli;
    memUsed += r.memoryBytes;
  }
  if (req.cpuMilli > 0 && cpuUsed + req.cpuMilli > allocatable.cpuMilli) {
    return {
      admit: false,
      reason: 'OutOfcpu',
      message: `Pod was rejected: Node didn't have enough resource: cpu, requested: ${req.cpuMilli}, used: ${cpuUsed}, capacity: ${allocatable.cpuMilli}`,
    };
  }
  if (req.memoryBytes > 0 && memUsed + req.memoryBytes > allocatable.memoryBytes) {
    return {
      admit: false,
      reason: 'OutOfmemory',
      message: `Pod was rejected: Node didn't have enough resource: memory, requested: ${req.memoryBytes}, used: ${memUsed}, capacity: ${allocatable.memoryBytes}`,
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
