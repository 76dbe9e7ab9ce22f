// Test helpers: building log messages for the index without a store.
import { storev1 } from '@k8ts/api';
import { keySubject, txnSubject } from '@k8ts/machinery';
import { MvccIndex } from '../src/mvcc';

export const PREFIX = 'k8ts';

export function genesis(index: MvccIndex, guardWindow = 10_000): void {
  index.apply(1, `${PREFIX}.genesis`, storev1.Genesis.encode({ clusterId: 7, formatVersion: 1, guardWindow }).finish());
}

export function put(key: string, value: string, o: { lease?: number; create?: number; version?: number } = {}): storev1.Change {
  return {
    type: storev1.ChangeType.CHANGE_TYPE_PUT,
    key: Buffer.from(key, 'latin1'),
    value: Buffer.from(value),
    lease: o.lease ?? 0,
    createRevision: o.create ?? 0,
    version: o.version ?? 0,
  };
}

export function del(key: string): storev1.Change {
  return { type: storev1.ChangeType.CHANGE_TYPE_DELETE, key: Buffer.from(key, 'latin1') };
}

/** Applies a single-key entry (guard basis defaults to the index's revision). */
export function applyKey(index: MvccIndex, change: storev1.Change, basis = index.rev, seq = index.rev + 1) {
  const data = storev1.Entry.encode({ guard: { basisRevision: basis }, changes: [change] }).finish();
  return index.apply(seq, keySubject(PREFIX, change.key!), data);
}

/** Applies a multi-key entry. */
export function applyTxn(index: MvccIndex, changes: storev1.Change[], seq = index.rev + 1) {
  return index.apply(seq, txnSubject(PREFIX), storev1.Entry.encode({ changes }).finish());
}

export const str = (b?: Buffer) => (b ? b.toString() : undefined);
