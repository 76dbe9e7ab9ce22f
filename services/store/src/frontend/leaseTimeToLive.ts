// Lease.LeaseTimeToLive: TTL -1 for a lease that does not exist, as etcd.
import { etcdserverpb as pb } from '@k8ts/api';
import type { Store } from '../store';

export function leaseTimeToLive(store: Store) {
  return async (req: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> => {
    const id = req.ID ?? 0;
    const t = await store.lessor.timeToLive(id);
    if (!t) return { header: store.header(store.index.rev), ID: id, TTL: -1 };
    return {
      header: store.header(store.index.rev),
      ID: id,
      TTL: t.ttl,
      grantedTTL: t.granted,
      keys: req.keys ? store.index.keysOfLease(id).map((k) => Buffer.from(k, 'latin1')) : [],
    };
  };
}
