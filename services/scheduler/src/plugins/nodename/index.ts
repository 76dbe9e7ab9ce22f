// NodeName: a pod that names its node (spec.nodeName) fits only that node.
import type { NodeInfo } from '../../cache/nodeinfo';
import type { CycleState } from '../../framework/cyclestate';
import { SUCCESS, Status } from '../../framework/status';
import type { FilterPlugin, PluginArgs, PreFilterPlugin } from '../../framework/types';
import type { PodInfo } from '../../podinfo';
import { checkArgKeys } from '../helpers';

export const NAME = 'NodeName';
export const ERR_REASON = "node(s) didn't match the requested node name";

const MISMATCH = Status.unresolvable(NAME, ERR_REASON);

export class NodeName implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;
  readonly events = ['NodeAdd'] as const;

  preFilter(_state: CycleState, pod: PodInfo): Status {
    return pod.nodeName ? SUCCESS : Status.skip();
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    return !pod.nodeName || pod.nodeName === node.name ? SUCCESS : MISMATCH;
  }
}

export function factory(args: PluginArgs): NodeName {
  checkArgKeys(NAME, args, []);
  return new NodeName();
}
