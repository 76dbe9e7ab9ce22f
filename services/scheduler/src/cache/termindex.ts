// The (anti-)affinity terms of the pods already placed, grouped: all replicas of a workload
// carry the same term, so one entry per distinct term (topology key, namespaces, selector)
// holds, per node, how many placed pods carry it and the sum of their weights. Entries are
// filed under an anchor (a label pair or namespace that every pod they select must have), so
// the incoming pod is compared only with the terms that could select it: O(its labels), not
// O(pods with affinity).
import type { AffinityTerm, NamespaceLabels, PodInfo } from '../podinfo';
import { termMatches } from '../podinfo';
import { clauseAnchors, podAnchors } from './index_keys';

export interface NodeWeight {
  count: number;
  weight: number;
}

export class TermEntry {
  /** Per node name: placed pods carrying the term, and their summed weight. */
  readonly perNode = new Map<string, NodeWeight>();

  constructor(
    readonly key: string,
    readonly term: AffinityTerm,
    readonly anchor: string | null,
  ) {}
}

export class TermIndex {
  private readonly entries = new Map<string, TermEntry>();
  private readonly byAnchor = new Map<string, Set<TermEntry>>();
  private readonly wildcard = new Set<TermEntry>();

  /** The number of distinct terms. */
  get size(): number {
    return this.entries.size;
  }

  add(term: AffinityTerm, nodeName: string, weight: number): void {
    const key = `${term.topologyKey}\u0000${term.podSetKey}`;
    let e = this.entries.get(key);
    if (!e) {
      const anchors = clauseAnchors(term);
      e = new TermEntry(key, term, anchors.length > 0 ? anchors[0] : null);
      this.entries.set(key, e);
      if (e.anchor === null) this.wildcard.add(e);
      else {
        let set = this.byAnchor.get(e.anchor);
        if (!set) this.byAnchor.set(e.anchor, (set = new Set()));
        set.add(e);
      }
    }
    const nw = e.perNode.get(nodeName);
    if (nw) {
      nw.count++;
      nw.weight += weight;
    } else e.perNode.set(nodeName, { count: 1, weight });
  }

  remove(term: AffinityTerm, nodeName: string, weight: number): void {
    const key = `${term.topologyKey}\u0000${term.podSetKey}`;
    const e = this.entries.get(key);
    const nw = e?.perNode.get(nodeName);
    if (!e || !nw) return;
    nw.count--;
    nw.weight -= weight;
    if (nw.count <= 0) e.perNode.delete(nodeName);
    if (e.perNode.size > 0) return;
    this.entries.delete(key);
    if (e.anchor === null) this.wildcard.delete(e);
    else {
      const set = this.byAnchor.get(e.anchor);
      set?.delete(e);
      if (set && set.size === 0) this.byAnchor.delete(e.anchor);
    }
  }

  /** Calls fn for every entry whose term selects `pod`. */
  forEachMatching(pod: PodInfo, nsLabels: NamespaceLabels | undefined, fn: (e: TermEntry) => void): void {
    if (this.entries.size === 0) return;
    for (const e of this.wildcard) if (termMatches(e.term, pod, nsLabels)) fn(e);
    if (this.byAnchor.size === 0) return;
    for (const a of podAnchors(pod)) {
      const set = this.byAnchor.get(a);
      if (!set) continue;
      for (const e of set) if (termMatches(e.term, pod, nsLabels)) fn(e);
    }
  }
}
