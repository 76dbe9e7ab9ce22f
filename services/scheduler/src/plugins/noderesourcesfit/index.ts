// NodeResourcesFit: the pod's requests must fit into the node's allocatable minus what its
// pods (bound and assumed) already request: cpu, memory, ephemeral storage, extended
// resources, and one more pod within allocatable "pods". The check itself is @k8ts/machinery's
// insufficientResources, the one the kubelet's admission runs too, so both refuse the same
// pods; its reasons are Kubernetes': "Too many pods", "Insufficient cpu", "Insufficient <resource>".
import { insufficientResources } from '@k8ts/machinery';
import type { NodeInfo } from '../../cache/nodeinfo';
import type { CycleState } from '../../framework/cyclestate';
import { SUCCESS, Status } from '../../framework/status';
import type { FilterPlugin, PluginArgs, PreFilterPlugin } from '../../framework/types';
import type { PodInfo } from '../../podinfo';
import { checkArgKeys } from '../helpers';

export const NAME = 'NodeResourcesFit';

/** Shared statuses for the common single-reason failures. */
const STATUS_BY_REASONS = new Map<string, Status>();
function statusFor(reasons: string[]): Status {
  const key = reasons.join('\n');
  let s = STATUS_BY_REASONS.get(key);
  if (!s) {
    s = Status.unschedulable(NAME, ...reasons);
    if (STATUS_BY_REASONS.size < 256) STATUS_BY_REASONS.set(key, s);
  }
  return s;
}

export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;
  readonly events = ['NodeAdd', 'NodeAllocatableChange', 'AssignedPodDelete', 'AssignedPodUpdate'] as const;

  preFilter(): Status {
    return SUCCESS;
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const short = insufficientResources(pod.requests, { allocatable: node.allocatable, requested: node.requested, podCount: node.pods.size });
    return short.length === 0 ? SUCCESS : statusFor(short.map((r) => r.reason));
  }
}

export function factory(args: PluginArgs): NodeResourcesFit {
  checkArgKeys(NAME, args, []);
  return new NodeResourcesFit();
}
