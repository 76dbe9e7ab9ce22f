// NodeAffinity: spec.nodeSelector and required node affinity filter nodes (terms ORed,
// requirements within a term ANDed; operators In, NotIn, Exists, DoesNotExist, Gt, Lt;
// matchFields on metadata.name); preferred node affinity scores them by the summed weight of
// the terms they match. When every required term names its nodes (metadata.name In), PreFilter
// narrows the cycle to those nodes.
import type { NodeInfo } from '../../cache/nodeinfo';
import type { CycleState } from '../../framework/cyclestate';
import { SUCCESS, Status } from '../../framework/status';
import { PreFilterResult } from '../../framework/types';
import type { FilterPlugin, PluginArgs, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../../framework/types';
import type { PodInfo } from '../../podinfo';
import { checkArgKeys, defaultNormalizeScore } from '../helpers';

export const NAME = 'NodeAffinity';
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';

const MISMATCH = Status.unresolvable(NAME, ERR_REASON_POD);

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  readonly events = ['NodeAdd', 'NodeLabelChange'] as const;

  preFilter(_state: CycleState, pod: PodInfo): Status | PreFilterResult {
    const req = pod.requiredNodeAffinity;
    if (!req.constrains) return Status.skip();
    const names = req.nodeNames();
    if (names === null) return SUCCESS;
    if (names.size === 0) return Status.unresolvable(NAME, ERR_REASON_CONFLICT);
    return new PreFilterResult(names);
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    return pod.requiredNodeAffinity.matches(node) ? SUCCESS : MISMATCH;
  }

  preScore(_state: CycleState, pod: PodInfo): Status {
    return pod.preferredNodeAffinity.empty ? Status.skip() : SUCCESS;
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    return pod.preferredNodeAffinity.score(node);
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: number[]): Status {
    return defaultNormalizeScore(scores, false);
  }
}

export function factory(args: PluginArgs): NodeAffinity {
  checkArgKeys(NAME, args, []);
  return new NodeAffinity();
}
