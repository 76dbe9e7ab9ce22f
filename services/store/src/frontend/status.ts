// Maintenance.Status: reports etcd version 3.6.0, so that clients turn on what they gate on
// the server's version (Kubernetes' watch progress requests, for one).
import { etcdserverpb as pb } from '@k8ts/api';
import type { Store } from '../store';

/** The etcd version the store reports. */
export const ETCD_VERSION = '3.6.0';

export function status(store: Store) {
  return async (): Promise<pb.StatusResponse> => {
    const rev = store.index.rev;
    const size = store.dbSize();
    return {
      header: store.header(rev),
      version: ETCD_VERSION,
      dbSize: size,
      leader: store.memberId,
      raftIndex: rev,
      raftTerm: store.raftTerm,
      raftAppliedIndex: rev,
      errors: store.problems(),
      dbSizeInUse: size,
      isLearner: false,
      storageVersion: '3.6.0',
      dbSizeQuota: 0,
    };
  };
}
