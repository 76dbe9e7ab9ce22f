// The extension points of the scheduling framework, as kube-scheduler's. A plugin is an
// object with a name and the methods of the extension points it implements; the framework
// finds them by shape. Every method returns a Status (Score may return the number itself);
// none throws to reject a pod.
import type { SchedulerCache } from '../cache/cache';
import type { NodeInfo } from '../cache/nodeinfo';
import type { ClusterEvent } from '../clusterevents';
import type { PodInfo } from '../podinfo';
import type { CycleState } from './cyclestate';
import type { Diagnosis } from './diagnosis';
import type { Status } from './status';

/** The highest score a Score plugin gives after normalization. */
export const MAX_NODE_SCORE = 100;

export interface Plugin {
  readonly name: string;
  /** The cluster events that could turn this plugin's rejection into acceptance (queueing hints). */
  readonly events?: readonly ClusterEvent[];
}

/** PreFilter may narrow the nodes considered to these names. */
export class PreFilterResult {
  constructor(readonly nodeNames: ReadonlySet<string>) {}
}

export interface PreFilterPlugin extends Plugin {
  /**
   * Once per cycle, before any Filter: precompute what Filter needs (into the cycle state).
   * Skip: Filter is not called for this pod. A PreFilterResult narrows the nodes.
   */
  preFilter(state: CycleState, pod: PodInfo): Status | PreFilterResult;
}

export interface FilterPlugin extends Plugin {
  /** Can the pod run on this node? Success, or Unschedulable / UnschedulableAndUnresolvable with reasons. */
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
}

export interface PostFilterPlugin extends Plugin {
  /** Runs when no node fits (kube-scheduler's preemption lives here). */
  postFilter(state: CycleState, pod: PodInfo, diagnosis: Diagnosis): { status: Status; nominatedNodeName?: string };
}

export interface PreScorePlugin extends Plugin {
  /** Once per cycle, before Score, with the feasible nodes. Skip: Score is not called for this pod. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status;
}

export interface ScorePlugin extends Plugin {
  /** A score for one feasible node (any range; normalized afterwards when normalizeScore exists). */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number | Status;
  /** Maps the scores of all feasible nodes (in place) to [0, MAX_NODE_SCORE]. */
  normalizeScore?(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], scores: number[]): Status;
}

export interface ReservePlugin extends Plugin {
  /** The pod was assumed on the node: reserve what the plugin tracks. */
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status;
  /** Undo reserve (a later step or the bind failed). Must be idempotent. */
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export interface BindPlugin extends Plugin {
  /** Binds the pod to the node. Skip: let the next bind plugin do it. */
  bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status>;
}

/** Binds a pod to a node through the apiserver (pods.bind). Rejects with the API error. */
export interface Binder {
  bind(pod: PodInfo, nodeName: string): Promise<void>;
}

/** What plugin factories get from the framework. */
export interface FrameworkHandle {
  /** The scheduler cache: nodes with their pods (bound and assumed) and indexes. */
  readonly cache: SchedulerCache;
  /** The apiserver binding (for the default binder). */
  readonly binder?: Binder;
  /** Milliseconds now. */
  now(): number;
}

/** A plugin's arguments from the configuration file (pluginConfig[].args); {} when none. */
export type PluginArgs = Record<string, unknown>;

/** Makes a plugin; throws PluginArgsError for bad arguments (at startup, never while scheduling). */
export type PluginFactory = (args: PluginArgs, handle: FrameworkHandle) => Plugin;

export class PluginArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginArgsError';
  }
}

export type ExtensionPoint = 'preFilter' | 'filter' | 'postFilter' | 'preScore' | 'score' | 'reserve' | 'bind';

export const EXTENSION_POINTS: readonly ExtensionPoint[] = ['preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'bind'];

/** True when the plugin implements the extension point. */
export function implementsPoint(p: Plugin, point: ExtensionPoint): boolean {
  const methods = p as unknown as Record<string, unknown>;
  return typeof methods[point] === 'function';
}
