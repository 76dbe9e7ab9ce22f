// Lease.LeaseRevoke.
import { etcdserverpb as pb } from '@k8ts/api';
import type { Store } from '../store';

export function leaseRevoke(store: Store) {
  return async (req: pb.LeaseRevokeRequest): Promise<pb.LeaseRevokeResponse> => {
    const rev = await store.lessor.revoke(req.ID ?? 0);
    return { header: store.header(rev ?? store.index.rev) };
  };
}
