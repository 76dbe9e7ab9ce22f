// NodeResourcesFit: the pod's requests must fit into the node's allocatable minus what its
// pods (bound and assumed) already request: cpu, memory, ephemeral storage, extended
// resources, and one more pod within allocatable "pods". Reasons as Kubernetes gives them:
// "Too many pods", "Insufficient cpu", "Insufficient memory", "Insufficient <resource>".
import type { NodeInfo } from '../../cache/nodeinfo';
import type { CycleState } from '../../framework/cyclestate';
import { SUCCESS, Status } from '../../framework/status';
import type { FilterPlugin, PluginArgs, PreFilterPlugin } from '../../framework/types';
import type { PodInfo } from '../../podinfo';
import { checkArgKeys } from '../helpers';

export const NAME = 'NodeResourcesFit';
export const TOO_MANY_PODS = 'Too many pods';
export const insufficient = (resource: string): string => `Insufficient ${resource}`;

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
    const r = pod.requests;
    const a = node.allocatable;
    const u = node.requested;
    let reasons: string[] | undefined;
    if (node.pods.size + 1 > node.allowedPods) (reasons ??= []).push(TOO_MANY_PODS);
    if (r.milliCpu === 0 && r.memory === 0 && r.ephemeralStorage === 0 && r.scalar === null) {
      return reasons ? statusFor(reasons) : SUCCESS;
    }
    if (r.milliCpu > 0 && r.milliCpu > a.milliCpu - u.milliCpu) (reasons ??= []).push(insufficient('cpu'));
    if (r.memory > 0 && r.memory > a.memory - u.memory) (reasons ??= []).push(insufficient('memory'));
    if (r.ephemeralStorage > 0 && r.ephemeralStorage > a.ephemeralStorage - u.ephemeralStorage) {
      (reasons ??= []).push(insufficient('ephemeral-storage'));
    }
    if (r.scalar) {
      const names = [...r.scalar.keys()].sort();
      for (const name of names) {
        const want = r.scalar.get(name)!;
        if (want === 0) continue;
        const free = (a.scalar?.get(name) ?? 0) - (u.scalar?.get(name) ?? 0);
        if (want > free) (reasons ??= []).push(insufficient(name));
      }
    }
    return reasons ? statusFor(reasons) : SUCCESS;
  }
}

export function factory(args: PluginArgs): NodeResourcesFit {
  checkArgKeys(NAME, args, []);
  return new NodeResourcesFit();
}
