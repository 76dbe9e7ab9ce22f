// Maintenance.Alarm: listing answers "no alarms"; raising or clearing one is not supported.
import { etcdserverpb as pb } from '@k8ts/api';
import { unimplemented } from '../errors';
import type { Store } from '../store';

export function alarm(store: Store) {
  return async (req: pb.AlarmRequest): Promise<pb.AlarmResponse> => {
    if ((req.action ?? 0) !== pb.AlarmRequest_AlarmAction.GET) {
      throw unimplemented(`Maintenance.Alarm with action ${pb.AlarmRequest_AlarmAction[req.action ?? 0] ?? req.action}`);
    }
    return { header: store.header(store.index.rev), alarms: [] };
  };
}
