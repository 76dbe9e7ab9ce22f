// NodePorts: a pod's host ports must be free on the node (same protocol and port are taken
// when either side binds 0.0.0.0 or both bind the same IP).
import type { NodeInfo } from '../../cache/nodeinfo';
import type { CycleState } from '../../framework/cyclestate';
import { SUCCESS, Status } from '../../framework/status';
import type { FilterPlugin, PluginArgs, PreFilterPlugin } from '../../framework/types';
import type { PodInfo } from '../../podinfo';
import { checkArgKeys } from '../helpers';

export const NAME = 'NodePorts';
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";

const CONFLICT = Status.unschedulable(NAME, ERR_REASON);

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;
  readonly events = ['NodeAdd', 'AssignedPodDelete'] as const;

  preFilter(_state: CycleState, pod: PodInfo): Status {
    return pod.hostPorts.length > 0 ? SUCCESS : Status.skip();
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (pod.hostPorts.length === 0) return SUCCESS;
    return node.portsConflict(pod.hostPorts) ? CONFLICT : SUCCESS;
  }
}

export function factory(args: PluginArgs): NodePorts {
  checkArgKeys(NAME, args, []);
  return new NodePorts();
}
