// NodeResourcesLeastAllocated: prefers nodes with more room left. Per resource (default cpu
// and memory, weight 1 each): (allocatable - requested) * 100 / allocatable, where requested
// counts the node's pods and the incoming pod with their non-zero requests (100m cpu and
// 200Mi memory for containers that ask for none); the weighted average, integer arithmetic
// as Kubernetes.
import type { NodeInfo } from '../../cache/nodeinfo';
import type { CycleState } from '../../framework/cyclestate';
import type { PluginArgs, ScorePlugin } from '../../framework/types';
import { MAX_NODE_SCORE } from '../../framework/types';
import type { PodInfo } from '../../podinfo';
import { checkArgKeys, resourcesArg } from '../helpers';
import type { ResourceSpec } from '../helpers';
import { allocatableOf, requestedWith } from './resources';

export const NAME = 'NodeResourcesLeastAllocated';

export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

export class LeastAllocated implements ScorePlugin {
  readonly name = NAME;

  constructor(private readonly resources: readonly ResourceSpec[]) {}

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    let total = 0;
    let weights = 0;
    for (let i = 0; i < this.resources.length; i++) {
      const r = this.resources[i];
      const alloc = allocatableOf(node, r.name);
      if (alloc === 0) continue;
      total += leastRequestedScore(requestedWith(node, pod, r.name, false), alloc) * r.weight;
      weights += r.weight;
    }
    return weights === 0 ? 0 : Math.trunc(total / weights);
  }
}

export function factory(args: PluginArgs): LeastAllocated {
  checkArgKeys(NAME, args, ['resources']);
  return new LeastAllocated(resourcesArg(NAME, args));
}
