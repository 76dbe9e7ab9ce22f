// NodeResourcesBalancedAllocation: prefers nodes whose resources would be used evenly. With
// f_i = min(1, requested_i / allocatable_i) for each resource (default cpu and memory; real
// requests, the incoming pod included), the score is (1 - std(f)) * 100, where for two
// resources std = |f1 - f2| / 2.
import type { NodeInfo } from '../../cache/nodeinfo';
import type { CycleState } from '../../framework/cyclestate';
import type { PluginArgs, ScorePlugin } from '../../framework/types';
import { MAX_NODE_SCORE } from '../../framework/types';
import type { PodInfo } from '../../podinfo';
import { checkArgKeys, resourcesArg } from '../helpers';
import type { ResourceSpec } from '../helpers';
import { allocatableOf, requestedWith } from '../leastallocated/resources';

export const NAME = 'NodeResourcesBalancedAllocation';

/** The score of the fractions requested/allocatable (resources with no allocatable skipped). */
export function balancedScore(requested: readonly number[], allocatable: readonly number[]): number {
  if (requested.length === 2 && allocatable[0] !== 0 && allocatable[1] !== 0) {
    const f0 = Math.min(1, requested[0] / allocatable[0]);
    const f1 = Math.min(1, requested[1] / allocatable[1]);
    return Math.trunc((1 - Math.abs((f0 - f1) / 2)) * MAX_NODE_SCORE);
  }
  const fractions: number[] = [];
  let sum = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    const f = Math.min(1, requested[i] / allocatable[i]);
    fractions.push(f);
    sum += f;
  }
  let std = 0;
  if (fractions.length === 2) std = Math.abs((fractions[0] - fractions[1]) / 2);
  else if (fractions.length > 2) {
    const mean = sum / fractions.length;
    let sq = 0;
    for (const f of fractions) sq += (f - mean) * (f - mean);
    std = Math.sqrt(sq / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

export class BalancedAllocation implements ScorePlugin {
  readonly name = NAME;
  private readonly req: number[];
  private readonly alloc: number[];

  constructor(private readonly resources: readonly ResourceSpec[]) {
    this.req = new Array(resources.length).fill(0);
    this.alloc = new Array(resources.length).fill(0);
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    for (let i = 0; i < this.resources.length; i++) {
      const name = this.resources[i].name;
      this.alloc[i] = allocatableOf(node, name);
      this.req[i] = requestedWith(node, pod, name, true);
    }
    return balancedScore(this.req, this.alloc);
  }
}

export function factory(args: PluginArgs): BalancedAllocation {
  checkArgKeys(NAME, args, ['resources']);
  return new BalancedAllocation(resourcesArg(NAME, args));
}
