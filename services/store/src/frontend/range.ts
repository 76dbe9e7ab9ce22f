// KV.Range.
import { etcdserverpb as pb } from '@k8ts/api';
import type { Store } from '../store';
import { checkRangeRequest } from '../validate';

export function range(store: Store) {
  return async (req: pb.RangeRequest): Promise<pb.RangeResponse> => {
    const err = checkRangeRequest(req);
    if (err) throw err;
    return store.range(req);
  };
}
