// KV.Compact.
import { etcdserverpb as pb } from '@k8ts/api';
import { invalidArgument } from '../errors';
import type { Store } from '../store';

export function compact(store: Store) {
  return async (req: pb.CompactionRequest): Promise<pb.CompactionResponse> => {
    const rev = req.revision ?? 0;
    if (rev < 0) throw invalidArgument('compaction.revision must not be negative');
    return store.compact(rev, req.physical ?? false);
  };
}
