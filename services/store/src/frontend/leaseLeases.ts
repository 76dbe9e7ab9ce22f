// Lease.LeaseLeases.
import { etcdserverpb as pb } from '@k8ts/api';
import type { Store } from '../store';

export function leaseLeases(store: Store) {
  return async (): Promise<pb.LeaseLeasesResponse> => {
    return { header: store.header(store.index.rev), leases: store.lessor.list().map((ID) => ({ ID })) };
  };
}
