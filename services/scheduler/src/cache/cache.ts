// The scheduler cache: every node with the pods on it, bound and *assumed*. A pod is assumed
// on its node the moment the scheduler chooses the node, before the bind reaches the
// apiserver, so that the next pod already sees the node's resources as taken and decisions
// pipeline with binds in flight. An assumption ends in one of three ways:
//   confirmed  the bound pod arrives from the watch (addPod): it stays, now for real;
//   forgotten  the bind failed (forgetPod): the pod's resources are given back;
//   expired    the bind succeeded but the pod never arrived (it was deleted in between):
//              cleanupAssumedPods() drops it assumedPodTtlMs after its bind finished.
// Besides per-node totals (kept by NodeInfo), the cache keeps the indexes that make pod
// affinity and topology spreading cheap: pods by anchor (label pair, namespace), match
// counters, and the affinity terms of placed pods.
import type { corev1 } from '@k8ts/api';
import type { Labels } from '@k8ts/machinery';
import { PodInfo } from '../podinfo';
import type { NamespaceLabels } from '../podinfo';
import { CounterRegistry } from './counters';
import type { PlacedPod, PodSource } from './counters';
import { podAnchors } from './index_keys';
import { NodeInfo } from './nodeinfo';
import { TermIndex } from './termindex';

export interface CacheOptions {
  /** How long an assumed pod whose bind succeeded may wait for its watch event. Default 5 min. */
  assumedPodTtlMs?: number;
  /** Milliseconds now; default Date.now. */
  now?: () => number;
}

/** A pod in the cache. */
export interface CachedPod extends PlacedPod {
  info: PodInfo;
  nodeName: string;
  assumed: boolean;
  /** For assumed pods: their bind has returned successfully. */
  bindingFinished: boolean;
  /** For assumed pods whose bind finished: when the assumption expires. */
  deadline: number;
  anchors: string[];
}

export class CacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CacheError';
  }
}

export class SchedulerCache implements PodSource {
  private readonly nodeInfos = new Map<string, NodeInfo>();
  private readonly list: NodeInfo[] = [];
  private readonly pods = new Map<string, CachedPod>();
  private readonly byAnchor = new Map<string, Set<CachedPod>>();
  private readonly namespaces = new Map<string, Labels>();
  private assumedCount = 0;
  private readonly ttlMs: number;
  private readonly now: () => number;

  /** Per-node counts of pod sets, kept current (see counters.ts). */
  readonly counters: CounterRegistry;
  /** Required anti-affinity terms of placed pods (weight 1 each). */
  readonly requiredAntiAffinityTerms = new TermIndex();
  /** Required affinity terms of placed pods (weight 1 each; scoring multiplies by hardPodAffinityWeight). */
  readonly requiredAffinityTerms = new TermIndex();
  /** Preferred terms of placed pods: affinity with +weight, anti-affinity with -weight. */
  readonly preferredAffinityTerms = new TermIndex();
  readonly namespaceLabels: NamespaceLabels = (ns) => this.namespaces.get(ns);

  constructor(opts: CacheOptions = {}) {
    this.ttlMs = opts.assumedPodTtlMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
    this.counters = new CounterRegistry(this);
  }

  // ---- nodes ----

  /** The nodes (with a node object), in a stable order until one is removed. */
  nodes(): readonly NodeInfo[] {
    return this.list;
  }

  get nodeCount(): number {
    return this.list.length;
  }

  node(name: string): NodeInfo | undefined {
    const ni = this.nodeInfos.get(name);
    return ni?.node ? ni : undefined;
  }

  /** Adds or replaces a node object. */
  setNode(node: corev1.Node): NodeInfo {
    const name = node.metadata?.name ?? '';
    let ni = this.nodeInfos.get(name);
    if (!ni) this.nodeInfos.set(name, (ni = new NodeInfo(name)));
    ni.setNode(node);
    if (ni.index < 0) {
      ni.index = this.list.length;
      this.list.push(ni);
    }
    return ni;
  }

  removeNode(name: string): void {
    const ni = this.nodeInfos.get(name);
    if (!ni) return;
    if (ni.index >= 0) {
      const last = this.list.pop()!;
      if (last !== ni) {
        this.list[ni.index] = last;
        last.index = ni.index;
      }
      ni.index = -1;
    }
    ni.node = undefined;
    ni.generation++;
    // Pods still on it stay accounted (their deletions will follow); an empty one goes.
    if (ni.pods.size === 0) this.nodeInfos.delete(name);
  }

  // ---- namespaces ----

  setNamespace(ns: corev1.Namespace): void {
    const name = ns.metadata?.name ?? '';
    const labels = ns.metadata?.labels ?? {};
    const old = this.namespaces.get(name);
    this.namespaces.set(name, labels);
    // Counters of namespace selectors were computed with the old labels.
    if (old ? !sameLabels(old, labels) : Object.keys(labels).length > 0) this.counters.clear();
  }

  removeNamespace(name: string): void {
    if (this.namespaces.delete(name)) this.counters.clear();
  }

  // ---- pods ----

  get podCount(): number {
    return this.pods.size;
  }

  get assumedPodCount(): number {
    return this.assumedCount;
  }

  pod(key: string): CachedPod | undefined {
    return this.pods.get(key);
  }

  isAssumed(key: string): boolean {
    return this.pods.get(key)?.assumed ?? false;
  }

  /**
   * Assumes a pod on a node (the scheduler chose it; the bind is on its way). Fails when the
   * pod is already in the cache.
   */
  assumePod(info: PodInfo, nodeName: string): void {
    if (this.pods.has(info.key)) throw new CacheError(`pod ${info.key} is already in the scheduler cache`);
    this.insert(info, nodeName, true);
  }

  /** The assumed pod's bind succeeded: its assumption now expires after the TTL unless confirmed. */
  finishBinding(key: string): void {
    const e = this.pods.get(key);
    if (!e?.assumed) return;
    e.bindingFinished = true;
    e.deadline = this.now() + this.ttlMs;
  }

  /** The assumed pod's bind failed: gives its resources back. */
  forgetPod(key: string): boolean {
    const e = this.pods.get(key);
    if (!e?.assumed) return false;
    this.delete(e);
    return true;
  }

  /** A bound pod from the watch: confirms its assumption or adds it. Pods without a node are ignored. */
  addPod(pod: corev1.Pod): void {
    const info = new PodInfo(pod);
    if (!info.nodeName) return;
    const e = this.pods.get(info.key);
    if (e) this.delete(e);
    this.insert(info, info.nodeName, false);
  }

  /** A bound pod changed (labels, deletion in progress, ...). */
  updatePod(pod: corev1.Pod): void {
    this.addPod(pod);
  }

  /** A bound pod is gone (deleted, or finished: Succeeded/Failed pods hold no resources). */
  removePod(pod: corev1.Pod): void {
    const key = pod.metadata?.namespace ? `${pod.metadata.namespace}/${pod.metadata?.name ?? ''}` : (pod.metadata?.name ?? '');
    const e = this.pods.get(key);
    if (e) this.delete(e);
  }

  /** Drops assumed pods whose bind finished more than the TTL ago; returns their keys. */
  cleanupAssumedPods(): string[] {
    if (this.assumedCount === 0) return [];
    const now = this.now();
    const expired: string[] = [];
    for (const e of this.pods.values()) {
      if (e.assumed && e.bindingFinished && e.deadline <= now) expired.push(e.info.key);
    }
    for (const key of expired) this.delete(this.pods.get(key)!);
    return expired;
  }

  private insert(info: PodInfo, nodeName: string, assumed: boolean): void {
    const e: CachedPod = { info, nodeName, assumed, bindingFinished: false, deadline: 0, anchors: podAnchors(info) };
    this.pods.set(info.key, e);
    if (assumed) this.assumedCount++;
    let ni = this.nodeInfos.get(nodeName);
    if (!ni) this.nodeInfos.set(nodeName, (ni = new NodeInfo(nodeName)));
    ni.addPod(info);
    for (const a of e.anchors) {
      let set = this.byAnchor.get(a);
      if (!set) this.byAnchor.set(a, (set = new Set()));
      set.add(e);
    }
    this.counters.podAdded(info, nodeName);
    if (info.hasPodAffinity) this.indexTerms(info, nodeName, 1);
  }

  private delete(e: CachedPod): void {
    const { info, nodeName } = e;
    this.pods.delete(info.key);
    if (e.assumed) this.assumedCount--;
    const ni = this.nodeInfos.get(nodeName);
    if (ni) {
      ni.removePod(info);
      if (!ni.node && ni.pods.size === 0) this.nodeInfos.delete(nodeName);
    }
    for (const a of e.anchors) {
      const set = this.byAnchor.get(a);
      if (!set) continue;
      set.delete(e);
      if (set.size === 0) this.byAnchor.delete(a);
    }
    this.counters.podRemoved(info, nodeName);
    if (info.hasPodAffinity) this.indexTerms(info, nodeName, -1);
  }

  private indexTerms(info: PodInfo, nodeName: string, sign: 1 | -1): void {
    const apply = (index: TermIndex, term: Parameters<TermIndex['add']>[0], weight: number) =>
      sign > 0 ? index.add(term, nodeName, weight) : index.remove(term, nodeName, weight);
    for (const t of info.requiredAntiAffinityTerms) apply(this.requiredAntiAffinityTerms, t, 1);
    for (const t of info.requiredAffinityTerms) apply(this.requiredAffinityTerms, t, 1);
    for (const t of info.preferredAffinityTerms) apply(this.preferredAffinityTerms, t, t.weight);
    for (const t of info.preferredAntiAffinityTerms) apply(this.preferredAffinityTerms, t, -t.weight);
  }

  // ---- PodSource (for the counters) ----

  podsWithAnchor(anchor: string): Iterable<PlacedPod> {
    return this.byAnchor.get(anchor) ?? [];
  }

  anchorSize(anchor: string): number {
    return this.byAnchor.get(anchor)?.size ?? 0;
  }

  allPods(): Iterable<PlacedPod> {
    return this.pods.values();
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}
