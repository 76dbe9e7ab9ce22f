// TaintToleration: a node's NoSchedule and NoExecute taints keep off pods that do not
// tolerate them (filter); PreferNoSchedule taints the pod does not tolerate make a node less
// attractive (score: fewer such taints is better).
import type { corev1 } from '@k8ts/api';
import type { NodeInfo } from '../../cache/nodeinfo';
import type { CycleState } from '../../framework/cyclestate';
import { SUCCESS, Status } from '../../framework/status';
import type { FilterPlugin, PluginArgs, PreScorePlugin, ScorePlugin } from '../../framework/types';
import type { PodInfo } from '../../podinfo';
import { PREFER_NO_SCHEDULE, firstUntoleratedHardTaint, tolerated } from '../../taints';
import { checkArgKeys, defaultNormalizeScore } from '../helpers';

export const NAME = 'TaintToleration';

/** The reason Kubernetes gives: node(s) had untolerated taint {key: value}. */
export function untoleratedTaintReason(taint: corev1.Taint): string {
  return `node(s) had untolerated taint {${taint.key ?? ''}: ${taint.value ?? ''}}`;
}

const PRESCORE_KEY = `PreScore${NAME}`;

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  readonly events = ['NodeAdd', 'NodeTaintChange'] as const;
  /** One status per distinct taint reason, so that failing nodes share status objects. */
  private readonly statuses = new Map<string, Status>();

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (node.taints.length === 0) return SUCCESS;
    const taint = firstUntoleratedHardTaint(node.taints, pod.tolerations);
    if (!taint) return SUCCESS;
    const reason = untoleratedTaintReason(taint);
    let s = this.statuses.get(reason);
    if (!s) {
      s = Status.unresolvable(NAME, reason);
      if (this.statuses.size < 1000) this.statuses.set(reason, s);
    }
    return s;
  }

  preScore(state: CycleState, pod: PodInfo): Status {
    // Only tolerations that can tolerate PreferNoSchedule taints matter for scoring.
    state.write(
      PRESCORE_KEY,
      pod.tolerations.filter((t) => !t.effect || t.effect === PREFER_NO_SCHEDULE),
    );
    return SUCCESS;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    if (node.taints.length === 0) return 0;
    const tolerations = state.read<corev1.Toleration[]>(PRESCORE_KEY) ?? pod.tolerations;
    let n = 0;
    for (const taint of node.taints) {
      if (taint.effect === PREFER_NO_SCHEDULE && !tolerated(tolerations, taint)) n++;
    }
    return n;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: number[]): Status {
    return defaultNormalizeScore(scores, true);
  }
}

export function factory(args: PluginArgs): TaintToleration {
  checkArgKeys(NAME, args, []);
  return new TaintToleration();
}
