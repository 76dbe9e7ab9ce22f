// InterPodAffinity: pod affinity and anti-affinity, required and preferred, by topology key.
//
// Filter, three checks per node, from maps of topology pairs (key=value) built in PreFilter:
//   - the pod's required affinity: every term's domain on this node must hold a pod matching
//     all the terms (unless no such pod exists anywhere and the pod matches its own terms:
//     the first pod of a group may go anywhere that has the topology keys);
//   - the pod's required anti-affinity: no term's domain on this node may hold a matching pod;
//   - existing pods' required anti-affinity: no pod whose anti-affinity term selects the
//     incoming pod may be in the term's domain on this node.
// Score: for each topology pair, the weights of the pod's preferred terms times the matching
// pods there (anti-affinity negative), plus the preferred terms of existing pods that select
// the incoming pod (and their required affinity terms, with hardPodAffinityWeight); a node
// gets the sum over its pairs, normalized to 0..100 between the lowest and highest.
//
// No cycle scans all pods: the pod's own terms read the cache's match counters (per-node
// counts of the pods a term selects, kept current), and existing pods' terms come from the
// cache's term indexes, looked up by the incoming pod's labels.
import type { NodeInfo } from '../../cache/nodeinfo';
import { PodMatcher } from '../../cache/counters';
import type { MatchCounter } from '../../cache/counters';
import type { CycleState } from '../../framework/cyclestate';
import { SUCCESS, Status } from '../../framework/status';
import { MAX_NODE_SCORE } from '../../framework/types';
import type { FilterPlugin, FrameworkHandle, PluginArgs, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../../framework/types';
import type { AffinityTerm, PodInfo } from '../../podinfo';
import { termMatches } from '../../podinfo';
import { checkArgKeys, intArg } from '../helpers';

export const NAME = 'InterPodAffinity';
export const ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules";

const AFFINITY_FAIL = Status.unresolvable(NAME, ERR_REASON_AFFINITY_RULES_NOT_MATCH);
const ANTI_AFFINITY_FAIL = Status.unschedulable(NAME, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
const EXISTING_ANTI_AFFINITY_FAIL = Status.unschedulable(NAME, ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);

const PREFILTER_KEY = `PreFilter${NAME}`;
const PRESCORE_KEY = `PreScore${NAME}`;

/** topology key -> values. */
type PairSet = Map<string, Set<string>>;
/** topology key -> value -> score. */
type PairScores = Map<string, Map<string, number>>;

interface PreFilterState {
  /** Pairs holding pods that match all the pod's required affinity terms. */
  affinity: PairSet;
  affinityEmpty: boolean;
  /** The pod matches all its own required affinity terms. */
  selfMatchesAffinity: boolean;
  /** Pairs holding pods that a required anti-affinity term of the pod matches. */
  antiAffinity: PairSet;
  /** Pairs where existing pods' required anti-affinity terms select the pod. */
  existingAntiAffinity: PairSet;
}

function addPair(m: PairSet, key: string, value: string): void {
  let s = m.get(key);
  if (!s) m.set(key, (s = new Set()));
  s.add(value);
}

function addScore(m: PairScores, key: string, value: string, delta: number): void {
  let s = m.get(key);
  if (!s) m.set(key, (s = new Map()));
  s.set(value, (s.get(value) ?? 0) + delta);
}

export interface InterPodAffinityArgs {
  /** The score weight of existing pods' required affinity terms that select the incoming pod. Default 1. */
  hardPodAffinityWeight: number;
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  readonly events = ['NodeAdd', 'NodeLabelChange', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete', 'NamespaceChange'] as const;
  private readonly matchers = new WeakMap<object, PodMatcher>();

  constructor(
    private readonly handle: FrameworkHandle,
    readonly args: InterPodAffinityArgs,
  ) {}

  /** The counter of the pods matching all `terms` (one term, or all required affinity terms). */
  private counter(key: object, terms: readonly AffinityTerm[]): MatchCounter {
    let m = this.matchers.get(key);
    if (!m) {
      m = new PodMatcher(terms);
      this.matchers.set(key, m);
    }
    return this.handle.cache.counters.get(m, this.handle.now());
  }

  preFilter(state: CycleState, pod: PodInfo): Status {
    const cache = this.handle.cache;
    const nsLabels = cache.namespaceLabels;
    const existingAntiAffinity: PairSet = new Map();
    if (cache.requiredAntiAffinityTerms.size > 0) {
      cache.requiredAntiAffinityTerms.forEachMatching(pod, nsLabels, (e) => {
        const key = e.term.topologyKey;
        for (const nodeName of e.perNode.keys()) {
          const value = cache.node(nodeName)?.labels[key];
          if (value !== undefined) addPair(existingAntiAffinity, key, value);
        }
      });
    }
    const required = pod.requiredAffinityTerms;
    const requiredAnti = pod.requiredAntiAffinityTerms;
    if (required.length === 0 && requiredAnti.length === 0 && existingAntiAffinity.size === 0) return Status.skip();

    const antiAffinity: PairSet = new Map();
    for (const t of requiredAnti) {
      const counter = this.counter(t, [t]);
      for (const nodeName of counter.perNode.keys()) {
        const value = cache.node(nodeName)?.labels[t.topologyKey];
        if (value !== undefined) addPair(antiAffinity, t.topologyKey, value);
      }
    }
    const affinity: PairSet = new Map();
    let selfMatchesAffinity = false;
    if (required.length > 0) {
      const counter = this.counter(required, required);
      for (const nodeName of counter.perNode.keys()) {
        const labels = cache.node(nodeName)?.labels;
        if (!labels) continue;
        for (const t of required) {
          const value = labels[t.topologyKey];
          if (value !== undefined) addPair(affinity, t.topologyKey, value);
        }
      }
      selfMatchesAffinity = required.every((t) => termMatches(t, pod, nsLabels));
    }
    const s: PreFilterState = { affinity, affinityEmpty: affinity.size === 0, selfMatchesAffinity, antiAffinity, existingAntiAffinity };
    state.write(PREFILTER_KEY, s);
    return SUCCESS;
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const s = state.read<PreFilterState>(PREFILTER_KEY);
    if (!s) return Status.error(NAME, 'PreFilter state missing');
    const labels = node.labels;
    const required = pod.requiredAffinityTerms;
    if (required.length > 0) {
      let podsExist = true;
      for (let i = 0; i < required.length; i++) {
        const key = required[i].topologyKey;
        const value = labels[key];
        if (value === undefined) return AFFINITY_FAIL;
        if (!s.affinity.get(key)?.has(value)) podsExist = false;
      }
      if (!podsExist && !(s.affinityEmpty && s.selfMatchesAffinity)) return AFFINITY_FAIL;
    }
    const anti = pod.requiredAntiAffinityTerms;
    if (s.antiAffinity.size > 0) {
      for (let i = 0; i < anti.length; i++) {
        const key = anti[i].topologyKey;
        const value = labels[key];
        if (value !== undefined && s.antiAffinity.get(key)?.has(value)) return ANTI_AFFINITY_FAIL;
      }
    }
    if (s.existingAntiAffinity.size > 0) {
      for (const [key, values] of s.existingAntiAffinity) {
        const value = labels[key];
        if (value !== undefined && values.has(value)) return EXISTING_ANTI_AFFINITY_FAIL;
      }
    }
    return SUCCESS;
  }

  preScore(state: CycleState, pod: PodInfo): Status {
    const cache = this.handle.cache;
    const nsLabels = cache.namespaceLabels;
    const hard = this.args.hardPodAffinityWeight;
    const preferred = pod.preferredAffinityTerms;
    const preferredAnti = pod.preferredAntiAffinityTerms;
    const existing = cache.preferredAffinityTerms.size > 0 || (hard > 0 && cache.requiredAffinityTerms.size > 0);
    if (preferred.length === 0 && preferredAnti.length === 0 && !existing) return Status.skip();

    const scores: PairScores = new Map();
    const own = (terms: typeof preferred, sign: number) => {
      for (const t of terms) {
        const counter = this.counter(t, [t]);
        for (const [nodeName, count] of counter.perNode) {
          const value = cache.node(nodeName)?.labels[t.topologyKey];
          if (value !== undefined) addScore(scores, t.topologyKey, value, sign * t.weight * count);
        }
      }
    };
    own(preferred, 1);
    own(preferredAnti, -1);
    if (existing) {
      cache.preferredAffinityTerms.forEachMatching(pod, nsLabels, (e) => {
        const key = e.term.topologyKey;
        for (const [nodeName, nw] of e.perNode) {
          const value = cache.node(nodeName)?.labels[key];
          if (value !== undefined && nw.weight !== 0) addScore(scores, key, value, nw.weight);
        }
      });
      if (hard > 0) {
        cache.requiredAffinityTerms.forEachMatching(pod, nsLabels, (e) => {
          const key = e.term.topologyKey;
          for (const [nodeName, nw] of e.perNode) {
            const value = cache.node(nodeName)?.labels[key];
            if (value !== undefined) addScore(scores, key, value, hard * nw.count);
          }
        });
      }
    }
    if (scores.size === 0) return Status.skip();
    state.write(PRESCORE_KEY, scores);
    return SUCCESS;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const scores = state.read<PairScores>(PRESCORE_KEY);
    if (!scores) return 0;
    let total = 0;
    for (const [key, values] of scores) {
      const value = node.labels[key];
      if (value !== undefined) total += values.get(value) ?? 0;
    }
    return total;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: number[]): Status {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc((MAX_NODE_SCORE * (scores[i] - min)) / diff) : 0;
    return SUCCESS;
  }
}

export function factory(args: PluginArgs, handle: FrameworkHandle): InterPodAffinity {
  checkArgKeys(NAME, args, ['hardPodAffinityWeight']);
  return new InterPodAffinity(handle, { hardPodAffinityWeight: intArg(NAME, args, 'hardPodAffinityWeight', 1, 0, 100) });
}
