// DefaultBinder: binds the pod through the apiserver (pods.bind: a Binding naming the node).
import type { CycleState } from '../../framework/cyclestate';
import { SUCCESS, Status } from '../../framework/status';
import type { BindPlugin, Binder, FrameworkHandle, PluginArgs } from '../../framework/types';
import { PluginArgsError } from '../../framework/types';
import type { PodInfo } from '../../podinfo';
import { checkArgKeys } from '../helpers';

export const NAME = 'DefaultBinder';

export class DefaultBinder implements BindPlugin {
  readonly name = NAME;

  constructor(private readonly binder: Binder) {}

  async bind(_state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    try {
      await this.binder.bind(pod, nodeName);
      return SUCCESS;
    } catch (err) {
      return Status.error(NAME, (err as Error)?.message ?? String(err), err);
    }
  }
}

export function factory(args: PluginArgs, handle: FrameworkHandle): DefaultBinder {
  checkArgKeys(NAME, args, []);
  if (!handle.binder) throw new PluginArgsError(`${NAME} needs a binder (the apiserver connection)`);
  return new DefaultBinder(handle.binder);
}
