// Match counters: for a set of pods (given by namespaces and label selectors), how many of
// the cached pods (bound and assumed) it holds on each node. A counter is registered the
// first time a scheduling cycle asks for it (filled once from the cache's anchor index) and
// then kept current as pods come and go, so that PreFilter and PreScore of PodTopologySpread
// and InterPodAffinity read per-node counts instead of matching every pod in the cluster.
// Counters nobody asked for in a while are dropped.
import type { PodInfo } from '../podinfo';
import { namespaceSelected } from '../podinfo';
import type { NamespaceLabels } from '../podinfo';
import { clauseAnchors, podAnchors, selectorKey } from './index_keys';
import type { PodSetClause } from './index_keys';

/** The pods matching every clause (and, with excludeTerminating, not being deleted). */
export class PodMatcher {
  readonly key: string;
  /** The anchors it could be filed under (any one will do: every matching pod has all of them). */
  readonly anchors: readonly string[];

  constructor(
    readonly clauses: readonly (PodSetClause & { readonly podSetKey?: string })[],
    readonly excludeTerminating = false,
  ) {
    this.key = `${excludeTerminating ? 'T' : 'A'}|${clauses.map(clauseKey).join('&')}`;
    this.anchors = clauses.flatMap(clauseAnchors);
  }

  /** True when it can match no pod at all (no clauses, or a clause selecting nothing). */
  get matchesNothing(): boolean {
    return this.clauses.length === 0 || this.clauses.some((c) => c.selector.isNothing());
  }

  matches(pod: PodInfo, nsLabels?: NamespaceLabels): boolean {
    if (this.excludeTerminating && pod.terminating) return false;
    const cs = this.clauses;
    if (cs.length === 0) return false;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i];
      if (!namespaceSelected(c, pod.namespace, nsLabels) || !c.selector.matches(pod.labels)) return false;
    }
    return true;
  }
}

function clauseKey(c: PodSetClause & { readonly podSetKey?: string }): string {
  return c.podSetKey ?? `${[...c.namespaces].sort().join(',')}#${selectorKey(c.namespaceSelector)}#${selectorKey(c.selector)}`;
}

export class MatchCounter {
  /** Matching pods per node name (only nodes with at least one). */
  readonly perNode = new Map<string, number>();
  total = 0;
  lastUsed = 0;

  constructor(readonly matcher: PodMatcher) {}

  add(nodeName: string, delta: number): void {
    const n = (this.perNode.get(nodeName) ?? 0) + delta;
    if (n > 0) this.perNode.set(nodeName, n);
    else this.perNode.delete(nodeName);
    this.total += delta;
  }

  /** Matching pods on a node. */
  on(nodeName: string): number {
    return this.perNode.get(nodeName) ?? 0;
  }
}

/** A cached pod with the node it is on. */
export interface PlacedPod {
  readonly info: PodInfo;
  readonly nodeName: string;
}

/** What the registry reads from the cache. */
export interface PodSource {
  /** The cached pods with an anchor. */
  podsWithAnchor(anchor: string): Iterable<PlacedPod>;
  /** How many cached pods have the anchor. */
  anchorSize(anchor: string): number;
  allPods(): Iterable<PlacedPod>;
  readonly namespaceLabels: NamespaceLabels;
}

export class CounterRegistry {
  private readonly counters = new Map<string, MatchCounter>();
  private readonly byAnchor = new Map<string, MatchCounter[]>();
  private readonly wildcard: MatchCounter[] = [];
  private readonly anchorOf = new Map<MatchCounter, string | null>();

  constructor(private readonly source: PodSource) {}

  get size(): number {
    return this.counters.size;
  }

  /** The counter of a matcher, registering (and filling) it on first use. */
  get(matcher: PodMatcher, now = 0): MatchCounter {
    let c = this.counters.get(matcher.key);
    if (!c) {
      c = new MatchCounter(matcher);
      this.counters.set(matcher.key, c);
      const anchor = this.pickAnchor(matcher);
      this.anchorOf.set(c, anchor);
      const pods = anchor === null ? this.source.allPods() : this.source.podsWithAnchor(anchor);
      if (!matcher.matchesNothing) {
        for (const p of pods) if (matcher.matches(p.info, this.source.namespaceLabels)) c.add(p.nodeName, 1);
      }
      if (anchor === null) this.wildcard.push(c);
      else {
        const list = this.byAnchor.get(anchor);
        if (list) list.push(c);
        else this.byAnchor.set(anchor, [c]);
      }
    }
    c.lastUsed = now;
    return c;
  }

  private pickAnchor(m: PodMatcher): string | null {
    let best: string | null = null;
    let bestSize = Number.POSITIVE_INFINITY;
    for (const a of m.anchors) {
      const size = this.source.anchorSize(a);
      if (size < bestSize) {
        best = a;
        bestSize = size;
      }
    }
    return best;
  }

  podAdded(pod: PodInfo, nodeName: string): void {
    this.update(pod, nodeName, 1);
  }

  podRemoved(pod: PodInfo, nodeName: string): void {
    this.update(pod, nodeName, -1);
  }

  private update(pod: PodInfo, nodeName: string, delta: number): void {
    if (this.counters.size === 0) return;
    const ns = this.source.namespaceLabels;
    for (const c of this.wildcard) if (c.matcher.matches(pod, ns)) c.add(nodeName, delta);
    if (this.byAnchor.size === 0) return;
    for (const a of podAnchors(pod)) {
      const list = this.byAnchor.get(a);
      if (!list) continue;
      for (const c of list) if (c.matcher.matches(pod, ns)) c.add(nodeName, delta);
    }
  }

  /** Drops counters last used before `before`; returns how many. */
  evict(before: number): number {
    let n = 0;
    for (const [key, c] of this.counters) {
      if (c.lastUsed >= before) continue;
      this.counters.delete(key);
      const anchor = this.anchorOf.get(c) ?? null;
      this.anchorOf.delete(c);
      const list = anchor === null ? this.wildcard : this.byAnchor.get(anchor);
      if (list) {
        const i = list.indexOf(c);
        if (i >= 0) list.splice(i, 1);
        if (anchor !== null && list.length === 0) this.byAnchor.delete(anchor);
      }
      n++;
    }
    return n;
  }

  /** Drops every counter (they are rebuilt on next use), e.g. when namespace labels change. */
  clear(): void {
    this.counters.clear();
    this.byAnchor.clear();
    this.wildcard.length = 0;
    this.anchorOf.clear();
  }
}
