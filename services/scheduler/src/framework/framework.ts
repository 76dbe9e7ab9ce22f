// The framework of one scheduling profile: its plugins at each extension point, and the
// scheduling algorithm that runs them for one pod:
//   PreFilter (may narrow the nodes) -> Filter over nodes, starting where the last cycle
//   stopped, until enough feasible nodes are found -> (no node: PostFilter, FitError) ->
//   PreScore -> Score -> NormalizeScore -> weights -> the best node (ties broken at random).
// Reserve, Unreserve and Bind run after the scheduler assumed the pod on the chosen node.
// The whole of schedulePod is synchronous: the cache cannot change under a cycle.
import type { NodeInfo } from '../cache/nodeinfo';
import type { ClusterEvent } from '../clusterevents';
import type { PodInfo } from '../podinfo';
import { CycleState } from './cyclestate';
import { Diagnosis, FitError, NO_NODES_AVAILABLE } from './diagnosis';
import { SUCCESS, Status } from './status';
import { MAX_NODE_SCORE, PreFilterResult } from './types';
import type {
  BindPlugin,
  FilterPlugin,
  FrameworkHandle,
  Plugin,
  PostFilterPlugin,
  PreFilterPlugin,
  PreScorePlugin,
  ReservePlugin,
  ScorePlugin,
} from './types';

/** Kubernetes' floor on the number of feasible nodes to look for. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** Kubernetes' floor on the adaptive percentage. */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

export interface WeightedScorePlugin {
  plugin: ScorePlugin;
  weight: number;
}

/** The plugins of a profile, per extension point, in order. */
export interface ProfilePlugins {
  preFilter: PreFilterPlugin[];
  filter: FilterPlugin[];
  postFilter: PostFilterPlugin[];
  preScore: PreScorePlugin[];
  score: WeightedScorePlugin[];
  reserve: ReservePlugin[];
  bind: BindPlugin[];
}

export interface FrameworkOptions {
  /**
   * The share of nodes to look at for feasible ones once there are more than 100 nodes:
   * 1..100, or 0 for Kubernetes' adaptive default (50% - nodes/125, at least 5%).
   */
  percentageOfNodesToScore?: number;
  /** Random numbers in [0, 1) for breaking ties between best nodes. */
  random?: () => number;
}

export type ScheduleResult =
  | {
      kind: 'scheduled';
      nodeName: string;
      state: CycleState;
      /** Nodes run through Filter. */
      evaluatedNodes: number;
      feasibleNodes: number;
    }
  | { kind: 'unschedulable'; error: FitError; state: CycleState }
  | { kind: 'error'; status: Status; state: CycleState };

/** Per-node totals of a cycle, exposed for tests and debugging. */
export interface NodeScore {
  name: string;
  total: number;
  /** Normalized score per plugin, before weights. */
  byPlugin: Record<string, number>;
}

export class Framework {
  /** Every plugin of the profile, once. */
  readonly plugins: readonly Plugin[];
  private nextStartNodeIndex = 0;
  private readonly percentage: number;
  private readonly random: () => number;
  /** Keep the per-node scores of each cycle in lastScores (tests and debugging; off by default: it costs). */
  recordScores = false;
  /** The scores of the last cycle that scored, when recordScores is on. */
  lastScores: NodeScore[] = [];

  constructor(
    readonly profileName: string,
    readonly handle: FrameworkHandle,
    readonly points: ProfilePlugins,
    opts: FrameworkOptions = {},
  ) {
    const all = new Set<Plugin>();
    for (const list of [points.preFilter, points.filter, points.postFilter, points.preScore, points.reserve, points.bind]) {
      for (const p of list) all.add(p);
    }
    for (const s of points.score) all.add(s.plugin);
    this.plugins = [...all];
    this.percentage = opts.percentageOfNodesToScore ?? 0;
    this.random = opts.random ?? Math.random;
  }

  /** The events each plugin registered for (plugins without a list react to every event). */
  pluginEvents(): Map<string, ReadonlySet<ClusterEvent> | null> {
    const out = new Map<string, ReadonlySet<ClusterEvent> | null>();
    for (const p of this.plugins) out.set(p.name, p.events ? new Set(p.events) : null);
    return out;
  }

  /** How many feasible nodes to look for among `numAllNodes`, as Kubernetes' numFeasibleNodesToFind. */
  numFeasibleNodesToFind(numAllNodes: number): number {
    if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND || this.percentage >= 100) return numAllNodes;
    let pct = this.percentage;
    if (pct <= 0) {
      pct = 50 - Math.trunc(numAllNodes / 125);
      if (pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
    }
    const n = Math.trunc((numAllNodes * pct) / 100);
    return Math.max(n, MIN_FEASIBLE_NODES_TO_FIND);
  }

  /** Chooses a node for the pod among the cache's nodes. Synchronous. */
  schedulePod(pod: PodInfo): ScheduleResult {
    const state = new CycleState();
    pod.prepareForScheduling();
    if (pod.problem) return { kind: 'error', status: Status.error('', pod.problem), state };
    const allNodes = this.handle.cache.nodes();
    if (allNodes.length === 0) {
      const d = new Diagnosis();
      d.preFilterMsg = '';
      const err = new FitError(pod.key, 0, d);
      err.message = NO_NODES_AVAILABLE;
      return { kind: 'unschedulable', error: err, state };
    }
    const diagnosis = new Diagnosis();

    // PreFilter
    let narrowed: Set<string> | null = null;
    const narrowedBy: string[] = [];
    for (const pl of this.points.preFilter) {
      const r = safeCall(pl, () => pl.preFilter(state, pod));
      if (r instanceof PreFilterResult) {
        narrowedBy.push(pl.name);
        narrowed = intersect(narrowed, r.nodeNames);
        if (narrowed.size === 0) {
          const names = [...narrowedBy].sort();
          diagnosis.preFilterMsg =
            names.length === 1 ? `node(s) didn't satisfy plugin ${names[0]}` : `node(s) didn't satisfy plugin(s) [${names.join(' ')}] simultaneously`;
          for (const n of names) diagnosis.unschedulablePlugins.add(n);
          return this.unschedulable(state, pod, allNodes.length, diagnosis);
        }
        continue;
      }
      if (r.code === 'Success') continue;
      if (r.code === 'Skip') {
        state.skipFilter.add(pl.name);
        continue;
      }
      const status = r.withPlugin(pl.name);
      if (status.isRejected()) {
        diagnosis.preFilterMsg = status.message();
        diagnosis.unschedulablePlugins.add(pl.name);
        return this.unschedulable(state, pod, allNodes.length, diagnosis);
      }
      return { kind: 'error', status: wrapError('PreFilter', status), state };
    }

    // Candidates
    let candidates: readonly NodeInfo[] = allNodes;
    if (narrowed !== null) {
      const list: NodeInfo[] = [];
      for (const name of narrowed) {
        const ni = this.handle.cache.node(name);
        if (ni) list.push(ni);
      }
      candidates = list;
      diagnosis.absentNodes = allNodes.length - list.length;
      diagnosis.absentStatus = Status.unresolvable('', `node(s) didn't satisfy plugin(s) [${[...narrowedBy].sort().join(' ')}]`);
      for (const n of narrowedBy) diagnosis.unschedulablePlugins.add(n);
    }

    // Filter
    const filters = this.points.filter.filter((p) => !state.skipFilter.has(p.name));
    const n = candidates.length;
    const toFind = filters.length === 0 ? n : this.numFeasibleNodesToFind(n);
    const feasible: NodeInfo[] = [];
    const start = n === 0 ? 0 : this.nextStartNodeIndex % n;
    let processed = 0;
    let current: Plugin | undefined;
    try {
      for (let i = 0; i < n && feasible.length < toFind; i++) {
        const node = candidates[(start + i) % n];
        processed++;
        let failed: Status | undefined;
        for (let k = 0; k < filters.length; k++) {
          const pl = filters[k];
          current = pl;
          const s = pl.filter(state, pod, node);
          if (s.code === 'Success') continue;
          failed = s.plugin === pl.name ? s : s.withPlugin(pl.name);
          break;
        }
        if (!failed) {
          feasible.push(node);
        } else if (failed.isRejected()) {
          diagnosis.nodeToStatus.set(node.name, failed);
          diagnosis.unschedulablePlugins.add(failed.plugin);
        } else {
          return { kind: 'error', status: wrapError('Filter', failed), state };
        }
      }
    } catch (err) {
      return { kind: 'error', status: wrapError('Filter', thrown(current, err)), state };
    }
    if (n > 0) this.nextStartNodeIndex = (start + processed) % n;

    if (feasible.length === 0) return this.unschedulable(state, pod, allNodes.length, diagnosis);
    if (feasible.length === 1) {
      return { kind: 'scheduled', nodeName: feasible[0].name, state, evaluatedNodes: processed, feasibleNodes: 1 };
    }

    // PreScore
    for (const pl of this.points.preScore) {
      const s = safeCall(pl, () => pl.preScore(state, pod, feasible));
      if (s.code === 'Success') continue;
      if (s.code === 'Skip') {
        state.skipScore.add(pl.name);
        continue;
      }
      return { kind: 'error', status: wrapError('PreScore', s.withPlugin(pl.name)), state };
    }

    // Score, normalize, weigh
    const m = feasible.length;
    const totals = new Float64Array(m);
    const perPlugin: { name: string; scores: number[] }[] = [];
    for (const { plugin: pl, weight } of this.points.score) {
      if (state.skipScore.has(pl.name)) continue;
      const scores = new Array<number>(m);
      try {
        for (let j = 0; j < m; j++) {
          const v = pl.score(state, pod, feasible[j]);
          if (typeof v !== 'number') return { kind: 'error', status: wrapError('Score', v.withPlugin(pl.name)), state };
          scores[j] = v;
        }
        if (pl.normalizeScore) {
          const s = pl.normalizeScore(state, pod, feasible, scores);
          if (!s.isSuccess()) return { kind: 'error', status: wrapError('NormalizeScore', s.withPlugin(pl.name)), state };
        }
      } catch (err) {
        return { kind: 'error', status: wrapError('Score', thrown(pl, err)), state };
      }
      for (let j = 0; j < m; j++) {
        const v = scores[j];
        if (!(v >= 0 && v <= MAX_NODE_SCORE)) {
          return {
            kind: 'error',
            status: Status.error(pl.name, `plugin ${pl.name} returned an invalid score ${v}: scores must be in [0, ${MAX_NODE_SCORE}] after normalizing`),
            state,
          };
        }
        totals[j] += v * weight;
      }
      perPlugin.push({ name: pl.name, scores });
    }
    if (this.recordScores) {
      this.lastScores = feasible.map((node, j) => ({
        name: node.name,
        total: totals[j],
        byPlugin: Object.fromEntries(perPlugin.map((p) => [p.name, p.scores[j]])),
      }));
    }

    // Select: the highest total; among equals, each is equally likely (reservoir sampling).
    let best = 0;
    let ties = 1;
    for (let j = 1; j < m; j++) {
      if (totals[j] > totals[best]) {
        best = j;
        ties = 1;
      } else if (totals[j] === totals[best]) {
        ties++;
        if (this.random() * ties < 1) best = j;
      }
    }
    return { kind: 'scheduled', nodeName: feasible[best].name, state, evaluatedNodes: processed, feasibleNodes: m };
  }

  private unschedulable(state: CycleState, pod: PodInfo, numAllNodes: number, diagnosis: Diagnosis): ScheduleResult {
    for (const pl of this.points.postFilter) {
      const r = safeCall(pl, () => pl.postFilter(state, pod, diagnosis)) as { status: Status; nominatedNodeName?: string } | Status;
      const status = r instanceof Status ? r : r.status;
      if (status.isSuccess()) break;
      if (status.isRejected() && status.reasons.length > 0 && !diagnosis.postFilterMsg) diagnosis.postFilterMsg = status.message();
    }
    return { kind: 'unschedulable', error: new FitError(pod.key, numAllNodes, diagnosis), state };
  }

  /** Reserve plugins, in order; on a failure the ones that ran are unreserved. */
  runReserve(state: CycleState, pod: PodInfo, nodeName: string): Status {
    for (let i = 0; i < this.points.reserve.length; i++) {
      const pl = this.points.reserve[i];
      const s = safeCall(pl, () => pl.reserve(state, pod, nodeName));
      if (!s.isSuccess()) {
        this.runUnreserve(state, pod, nodeName);
        return s.withPlugin(pl.name);
      }
    }
    return SUCCESS;
  }

  /** Unreserve, in reverse order. */
  runUnreserve(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (let i = this.points.reserve.length - 1; i >= 0; i--) {
      const pl = this.points.reserve[i];
      try {
        pl.unreserve(state, pod, nodeName);
      } catch {
        // Unreserve must not fail; a plugin that throws is ignored here.
      }
    }
  }

  /** The first bind plugin that does not Skip binds the pod. */
  async runBind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    for (const pl of this.points.bind) {
      let s: Status;
      try {
        s = await pl.bind(state, pod, nodeName);
      } catch (err) {
        s = Status.error(pl.name, `plugin ${pl.name} threw: ${(err as Error)?.message ?? String(err)}`, err);
      }
      if (s.isSkip()) continue;
      return s.withPlugin(pl.name);
    }
    return Status.error('', 'no bind plugin bound the pod');
  }
}

/** a ∩ b, with a null `a` standing for everything. */
export function intersect(a: ReadonlySet<string> | null, b: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  if (a === null) {
    for (const x of b) out.add(x);
  } else {
    for (const x of a) if (b.has(x)) out.add(x);
  }
  return out;
}

function wrapError(point: string, s: Status): Status {
  const msg = `running ${point} plugin "${s.plugin}": ${s.message()}`;
  return new Status('Error', [msg], s.plugin, s.cause);
}

/** A plugin that throws (a bug) becomes an Error status instead of crashing the scheduler. */
function thrown(pl: Plugin | undefined, err: unknown): Status {
  const name = pl?.name ?? '';
  return Status.error(name, `plugin ${name} threw: ${(err as Error)?.message ?? String(err)}`, err);
}

/** Calls a plugin outside the hot loops, turning a throw into an Error status. */
function safeCall<T>(pl: Plugin, fn: () => T): T | Status {
  try {
    return fn();
  } catch (err) {
    return thrown(pl, err);
  }
}
