// PodTopologySpread: spreads matching pods evenly over topology domains (zones, nodes, ...).
//
// Filter (whenUnsatisfiable: DoNotSchedule): for each constraint, the pods matching its
// selector in the pod's namespace are counted per domain over the eligible nodes (nodes with
// every constraint's topology key that pass the node inclusion policies: node affinity
// honored by default, taints ignored by default). A node passes when
//   count(its domain) + (1 if the pod matches the selector itself) - global minimum <= maxSkew,
// where the global minimum is 0 while fewer than minDomains domains exist.
//
// Score (ScheduleAnyway): each node gets sum over constraints of
//   count(its domain) * log(number of domains + 2) + (maxSkew - 1),
// and fewer is better: normalized as 100 * (max + min - score) / max.
//
// Counts come from the cache's match counters (per-node counts kept current as pods come and
// go), so a cycle costs O(nodes x constraints), not O(pods).
import { type Labels, nothing } from '@k8ts/machinery';
import type { NodeInfo } from '../../cache/nodeinfo';
import { PodMatcher } from '../../cache/counters';
import type { MatchCounter } from '../../cache/counters';
import type { CycleState } from '../../framework/cyclestate';
import { SUCCESS, Status } from '../../framework/status';
import { MAX_NODE_SCORE } from '../../framework/types';
import type { FilterPlugin, FrameworkHandle, PluginArgs, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../../framework/types';
import type { PodInfo, SpreadConstraint } from '../../podinfo';
import { firstUntoleratedHardTaint } from '../../taints';
import { checkArgKeys } from '../helpers';

export const NAME = 'PodTopologySpread';
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = "node(s) didn't match pod topology spread constraints (missing required label)";
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';

const NOT_MATCH = Status.unschedulable(NAME, ERR_REASON_CONSTRAINTS_NOT_MATCH);
const LABEL_MISSING = Status.unresolvable(NAME, ERR_REASON_NODE_LABEL_NOT_MATCH);

const PREFILTER_KEY = `PreFilter${NAME}`;
const PRESCORE_KEY = `PreScore${NAME}`;

interface PreFilterState {
  constraints: readonly SpreadConstraint[];
  /** Per constraint: matching pods per domain (topology value), over eligible nodes. */
  counts: Map<string, number>[];
  /** Per constraint: the smallest count (Infinity when no domain). */
  minCounts: number[];
  /** Per constraint: does the incoming pod match the selector itself. */
  selfMatch: boolean[];
}

interface PreScoreState {
  constraints: readonly SpreadConstraint[];
  counters: (MatchCounter | null)[];
  counts: Map<string, number>[];
  weights: number[];
  ignored: Set<string>;
}

function hasAllKeys(labels: Labels, constraints: readonly SpreadConstraint[]): boolean {
  for (let i = 0; i < constraints.length; i++) if (labels[constraints[i].topologyKey] === undefined) return false;
  return true;
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  readonly events = [
    'NodeAdd',
    'NodeDelete',
    'NodeLabelChange',
    'NodeTaintChange',
    'AssignedPodAdd',
    'AssignedPodUpdate',
    'AssignedPodDelete',
  ] as const;

  constructor(private readonly handle: FrameworkHandle) {}

  /** The counter of the pods a constraint counts: same namespace, matching the selector, not being deleted. */
  private counter(pod: PodInfo, c: SpreadConstraint): MatchCounter | null {
    // As Kubernetes: a selector matching everything (or nothing) counts no pods.
    if (c.selector.isEverything() || c.selector.isNothing()) return null;
    const matcher = new PodMatcher([{ namespaces: new Set([pod.namespace]), namespaceSelector: nothing(), selector: c.selector }], true);
    return this.handle.cache.counters.get(matcher, this.handle.now());
  }

  /** Does the node count for the constraint (node inclusion policies)? */
  private eligible(pod: PodInfo, c: SpreadConstraint, node: NodeInfo, affinity: { v?: boolean }): boolean {
    if (c.honorNodeAffinity) {
      affinity.v ??= pod.requiredNodeAffinity.matches(node);
      if (!affinity.v) return false;
    }
    if (c.honorNodeTaints && firstUntoleratedHardTaint(node.taints, pod.tolerations)) return false;
    return true;
  }

  preFilter(state: CycleState, pod: PodInfo): Status {
    const constraints = pod.spreadConstraints.filter((c) => c.whenUnsatisfiable === 'DoNotSchedule');
    if (constraints.length === 0) return Status.skip();
    const counters = constraints.map((c) => this.counter(pod, c));
    const counts = constraints.map(() => new Map<string, number>());
    for (const node of this.handle.cache.nodes()) {
      const labels = node.labels;
      if (!hasAllKeys(labels, constraints)) continue;
      const affinity: { v?: boolean } = {};
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        if (!this.eligible(pod, c, node, affinity)) continue;
        const value = labels[c.topologyKey];
        const cnt = counters[i]?.on(node.name) ?? 0;
        counts[i].set(value, (counts[i].get(value) ?? 0) + cnt);
      }
    }
    const minCounts = counts.map((m) => {
      let min = Number.POSITIVE_INFINITY;
      for (const v of m.values()) if (v < min) min = v;
      return min;
    });
    const selfMatch = constraints.map((c) => c.selector.matches(pod.labels));
    const s: PreFilterState = { constraints, counts, minCounts, selfMatch };
    state.write(PREFILTER_KEY, s);
    return SUCCESS;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status {
    const s = state.read<PreFilterState>(PREFILTER_KEY);
    if (!s) return Status.error(NAME, 'PreFilter state missing');
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const value = node.labels[c.topologyKey];
      if (value === undefined) return LABEL_MISSING;
      const domains = s.counts[i];
      // No eligible domain at all: nothing to compare with (Kubernetes skips the constraint).
      if (domains.size === 0) continue;
      const min = domains.size < c.minDomains ? 0 : s.minCounts[i];
      const skew = (domains.get(value) ?? 0) + (s.selfMatch[i] ? 1 : 0) - min;
      if (skew > c.maxSkew) return NOT_MATCH;
    }
    return SUCCESS;
  }

  preScore(state: CycleState, pod: PodInfo, filtered: readonly NodeInfo[]): Status {
    const constraints = pod.spreadConstraints.filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway');
    if (constraints.length === 0 || this.handle.cache.nodeCount === 0) return Status.skip();
    const ignored = new Set<string>();
    const counts = constraints.map(() => new Map<string, number>());
    for (const node of filtered) {
      if (!hasAllKeys(node.labels, constraints)) {
        ignored.add(node.name);
        continue;
      }
      for (let i = 0; i < constraints.length; i++) {
        if (constraints[i].topologyKey === LABEL_HOSTNAME) continue;
        const value = node.labels[constraints[i].topologyKey];
        if (!counts[i].has(value)) counts[i].set(value, 0);
      }
    }
    const weights = constraints.map((c, i) =>
      Math.log((c.topologyKey === LABEL_HOSTNAME ? filtered.length - ignored.size : counts[i].size) + 2),
    );
    const counters = constraints.map((c) => this.counter(pod, c));
    for (const node of this.handle.cache.nodes()) {
      if (!hasAllKeys(node.labels, constraints)) continue;
      const affinity: { v?: boolean } = {};
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        if (c.topologyKey === LABEL_HOSTNAME) continue;
        const value = node.labels[c.topologyKey];
        const current = counts[i].get(value);
        if (current === undefined) continue;
        if (!this.eligible(pod, c, node, affinity)) continue;
        counts[i].set(value, current + (counters[i]?.on(node.name) ?? 0));
      }
    }
    const s: PreScoreState = { constraints, counters, counts, weights, ignored };
    state.write(PRESCORE_KEY, s);
    return SUCCESS;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number | Status {
    const s = state.read<PreScoreState>(PRESCORE_KEY);
    if (!s) return Status.error(NAME, 'PreScore state missing');
    if (s.ignored.has(node.name)) return 0;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const value = node.labels[c.topologyKey];
      if (value === undefined) continue;
      const cnt = c.topologyKey === LABEL_HOSTNAME ? (s.counters[i]?.on(node.name) ?? 0) : (s.counts[i].get(value) ?? 0);
      score += cnt * s.weights[i] + (c.maxSkew - 1);
    }
    return Math.round(score);
  }

  normalizeScore(state: CycleState, _pod: PodInfo, nodes: readonly NodeInfo[], scores: number[]): Status {
    const s = state.read<PreScoreState>(PRESCORE_KEY);
    if (!s) return SUCCESS;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let i = 0; i < nodes.length; i++) {
      if (s.ignored.has(nodes[i].name)) continue;
      if (scores[i] < min) min = scores[i];
      if (scores[i] > max) max = scores[i];
    }
    for (let i = 0; i < nodes.length; i++) {
      if (s.ignored.has(nodes[i].name)) scores[i] = 0;
      else if (max === 0) scores[i] = MAX_NODE_SCORE;
      else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i])) / max);
    }
    return SUCCESS;
  }
}

export function factory(args: PluginArgs, handle: FrameworkHandle): PodTopologySpread {
  checkArgKeys(NAME, args, []);
  return new PodTopologySpread(handle);
}
