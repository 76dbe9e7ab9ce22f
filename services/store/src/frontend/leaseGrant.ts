// Lease.LeaseGrant.
import { etcdserverpb as pb } from '@k8ts/api';
import type { Store } from '../store';

export function leaseGrant(store: Store) {
  return async (req: pb.LeaseGrantRequest): Promise<pb.LeaseGrantResponse> => {
    const { id, ttl } = await store.lessor.grant(req.TTL ?? 0, req.ID ?? 0);
    return { header: store.header(store.index.rev), ID: id, TTL: ttl };
  };
}
