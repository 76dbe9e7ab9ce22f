// Every plugin the scheduler knows, by name. Adding a plugin: a folder with an index.ts
// exporting NAME and factory, and one line here.
import type { PluginFactory } from '../framework/types';
import * as balancedAllocation from './balancedallocation';
import * as defaultBinder from './defaultbinder';
import * as interPodAffinity from './interpodaffinity';
import * as leastAllocated from './leastallocated';
import * as nodeAffinity from './nodeaffinity';
import * as nodeName from './nodename';
import * as nodePorts from './nodeports';
import * as nodeResourcesFit from './noderesourcesfit';
import * as nodeUnschedulable from './nodeunschedulable';
import * as podTopologySpread from './podtopologyspread';
import * as taintToleration from './tainttoleration';

export type Registry = Readonly<Record<string, PluginFactory>>;

export const registry: Registry = {
  [nodeUnschedulable.NAME]: nodeUnschedulable.factory,
  [nodeName.NAME]: nodeName.factory,
  [taintToleration.NAME]: taintToleration.factory,
  [nodeAffinity.NAME]: nodeAffinity.factory,
  [nodePorts.NAME]: nodePorts.factory,
  [nodeResourcesFit.NAME]: nodeResourcesFit.factory,
  [podTopologySpread.NAME]: podTopologySpread.factory,
  [interPodAffinity.NAME]: interPodAffinity.factory,
  [leastAllocated.NAME]: leastAllocated.factory,
  [balancedAllocation.NAME]: balancedAllocation.factory,
  [defaultBinder.NAME]: defaultBinder.factory,
};

/**
 * The default profile, like Kubernetes' (kube-scheduler's multiPoint defaults), in order:
 * the order is the order of Filter (a node's first failing filter gives its reason).
 * Weights apply to Score.
 */
export const DEFAULT_PLUGINS: readonly { name: string; weight?: number }[] = [
  { name: nodeUnschedulable.NAME },
  { name: nodeName.NAME },
  { name: taintToleration.NAME, weight: 3 },
  { name: nodeAffinity.NAME, weight: 2 },
  { name: nodePorts.NAME },
  { name: nodeResourcesFit.NAME },
  { name: podTopologySpread.NAME, weight: 2 },
  { name: interPodAffinity.NAME, weight: 2 },
  { name: leastAllocated.NAME, weight: 1 },
  { name: balancedAllocation.NAME, weight: 1 },
  { name: defaultBinder.NAME },
];
