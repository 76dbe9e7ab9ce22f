// NodeUnschedulable: a node with spec.unschedulable (cordoned) takes only pods that tolerate
// the node.kubernetes.io/unschedulable:NoSchedule taint.
import type { NodeInfo } from '../../cache/nodeinfo';
import type { CycleState } from '../../framework/cyclestate';
import { SUCCESS, Status } from '../../framework/status';
import type { FilterPlugin, PluginArgs } from '../../framework/types';
import type { PodInfo } from '../../podinfo';
import { NO_SCHEDULE, UNSCHEDULABLE_TAINT_KEY, tolerated } from '../../taints';
import { checkArgKeys } from '../helpers';

export const NAME = 'NodeUnschedulable';
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';

const UNSCHEDULABLE = Status.unresolvable(NAME, ERR_REASON_UNSCHEDULABLE);
const TAINT = { key: UNSCHEDULABLE_TAINT_KEY, effect: NO_SCHEDULE };

export class NodeUnschedulable implements FilterPlugin {
  readonly name = NAME;
  readonly events = ['NodeAdd', 'NodeUnschedulableChange', 'NodeTaintChange'] as const;

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (!node.unschedulable) return SUCCESS;
    return tolerated(pod.tolerations, TAINT) ? SUCCESS : UNSCHEDULABLE;
  }
}

export function factory(args: PluginArgs): NodeUnschedulable {
  checkArgKeys(NAME, args, []);
  return new NodeUnschedulable();
}
