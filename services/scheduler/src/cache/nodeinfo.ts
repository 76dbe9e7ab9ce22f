// NodeInfo: one node as the scheduler sees it, with running totals of what its pods (bound
// and assumed) request, the host ports they use and the pods themselves. Totals are kept
// incrementally: adding or removing a pod is O(its containers), never a rescan.
import type { corev1 } from '@k8ts/api';
import { type Labels, NO_LABELS } from '@k8ts/machinery';
import { addComputeResources, computeResourcesOf, emptyComputeResources, resourceListOf } from '@k8ts/machinery';
import type { ComputeResources } from '@k8ts/machinery';
import type { HostPort, PodInfo } from '../podinfo';

const NO_TAINTS: readonly corev1.Taint[] = Object.freeze([]);

export class NodeInfo {
  /** The node object; undefined while only pods on it are known (the node was deleted or not seen yet). */
  node: corev1.Node | undefined;
  labels: Labels = NO_LABELS;
  taints: readonly corev1.Taint[] = NO_TAINTS;
  unschedulable = false;
  allocatable: ComputeResources = emptyComputeResources();
  /** allocatable["pods"]: how many pods the node takes. */
  allowedPods = 0;
  /** Why the node's allocatable could not be read (a malformed quantity); undefined when fine. */
  problem: string | undefined;

  /** The sum of the requests of its pods. */
  readonly requested: ComputeResources = emptyComputeResources();
  /** The same with 100m cpu / 200Mi memory for containers that request none (for scoring). */
  nonZeroMilliCpu = 0;
  nonZeroMemory = 0;
  /** Its pods (bound and assumed) by key. */
  readonly pods = new Map<string, PodInfo>();
  /** Pods on it with required pod anti-affinity terms. */
  podsWithRequiredAntiAffinity = 0;
  /** "TCP/8080" -> host IP -> how many pods use it. */
  private readonly usedPorts = new Map<string, Map<string, number>>();
  /** Position in the cache's node list; -1 when not listed. */
  index = -1;
  /** Bumped on every change. */
  generation = 0;

  constructor(readonly name: string) {}

  setNode(node: corev1.Node): void {
    this.node = node;
    this.labels = node.metadata?.labels ?? NO_LABELS;
    this.taints = node.spec?.taints ?? NO_TAINTS;
    this.unschedulable = !!node.spec?.unschedulable;
    try {
      this.allocatable = computeResourcesOf(resourceListOf(node.status?.allocatable, 'status.allocatable'));
      this.problem = undefined;
    } catch (err) {
      this.allocatable = emptyComputeResources();
      this.problem = `node ${this.name}: ${(err as Error).message}`;
    }
    this.allowedPods = this.allocatable.allowedPodNumber;
    this.generation++;
  }

  addPod(p: PodInfo): void {
    this.pods.set(p.key, p);
    addComputeResources(this.requested, p.requests);
    this.nonZeroMilliCpu += p.nonZeroMilliCpu;
    this.nonZeroMemory += p.nonZeroMemory;
    if (p.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity++;
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      let ips = this.usedPorts.get(k);
      if (!ips) this.usedPorts.set(k, (ips = new Map()));
      ips.set(hp.ip, (ips.get(hp.ip) ?? 0) + 1);
    }
    this.generation++;
  }

  /** Removes the pod with p's key (p must be the PodInfo that was added). */
  removePod(p: PodInfo): boolean {
    if (this.pods.get(p.key) !== p) return false;
    this.pods.delete(p.key);
    addComputeResources(this.requested, p.requests, -1);
    this.nonZeroMilliCpu -= p.nonZeroMilliCpu;
    this.nonZeroMemory -= p.nonZeroMemory;
    if (p.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity--;
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      const ips = this.usedPorts.get(k);
      if (!ips) continue;
      const n = (ips.get(hp.ip) ?? 0) - 1;
      if (n > 0) ips.set(hp.ip, n);
      else ips.delete(hp.ip);
      if (ips.size === 0) this.usedPorts.delete(k);
    }
    this.generation++;
    return true;
  }

  /**
   * True when one of `ports` is already taken: same protocol and port, and the same host IP
   * or either side listening on 0.0.0.0.
   */
  portsConflict(ports: readonly HostPort[]): boolean {
    if (this.usedPorts.size === 0) return false;
    for (const hp of ports) {
      const ips = this.usedPorts.get(`${hp.protocol}/${hp.port}`);
      if (!ips || ips.size === 0) continue;
      if (hp.ip === '0.0.0.0' || ips.has(hp.ip) || ips.has('0.0.0.0')) return true;
    }
    return false;
  }
}
