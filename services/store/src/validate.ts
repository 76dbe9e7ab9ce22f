// Request checks done before anything is evaluated, with etcd's errors where etcd has them
// (server/etcdserver/api/v3rpc/key.go) and INVALID_ARGUMENT naming the field otherwise.
import { etcdserverpb as pb } from '@k8ts/api';
import { etcdErrors, invalidArgument, StoreError } from './errors';

/** etcd's default --max-txn-ops. */
export const DEFAULT_MAX_TXN_OPS = 128;

const SORT_ORDERS = new Set([0, 1, 2]);
const SORT_TARGETS = new Set([0, 1, 2, 3, 4]);

/** range_end must not sort before key (except "\0", which means "every key >= key"). */
function checkRangeEnd(what: string, key: Buffer | undefined, rangeEnd: Buffer | undefined): StoreError | undefined {
  if (!rangeEnd || rangeEnd.length === 0) return undefined;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return undefined;
  if (key && Buffer.compare(rangeEnd, key) < 0) {
    return invalidArgument(`${what}.range_end must not sort before ${what}.key (use "\\0" for every key from key on)`);
  }
  return undefined;
}

export function checkRangeRequest(r: pb.RangeRequest, what = 'range'): StoreError | undefined {
  if (!r.key || r.key.length === 0) return etcdErrors.emptyKey();
  if (!SORT_ORDERS.has(r.sortOrder ?? 0) || !SORT_TARGETS.has(r.sortTarget ?? 0)) return etcdErrors.invalidSortOption();
  if ((r.limit ?? 0) < 0) return invalidArgument(`${what}.limit must not be negative (0 means no limit)`);
  for (const f of ['minModRevision', 'maxModRevision', 'minCreateRevision', 'maxCreateRevision'] as const) {
    if ((r[f] ?? 0) < 0) return invalidArgument(`${what}.${f.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())} must not be negative`);
  }
  return checkRangeEnd(what, r.key, r.rangeEnd);
}

export function checkPutRequest(r: pb.PutRequest): StoreError | undefined {
  if (!r.key || r.key.length === 0) return etcdErrors.emptyKey();
  if (r.ignoreValue && r.value && r.value.length !== 0) return etcdErrors.valueProvided();
  if (r.ignoreLease && r.lease) return etcdErrors.leaseProvided();
  if ((r.lease ?? 0) < 0) return invalidArgument('put.lease must not be negative');
  return undefined;
}

export function checkDeleteRequest(r: pb.DeleteRangeRequest): StoreError | undefined {
  if (!r.key || r.key.length === 0) return etcdErrors.emptyKey();
  return checkRangeEnd('delete_range', r.key, r.rangeEnd);
}

const COMPARE_RESULTS = new Set([0, 1, 2, 3]);
const COMPARE_TARGETS = new Set([0, 1, 2, 3, 4]);

export function checkTxnRequest(r: pb.TxnRequest, maxTxnOps: number): StoreError | undefined {
  const compare = r.compare ?? [];
  const success = r.success ?? [];
  const failure = r.failure ?? [];
  const opc = Math.max(compare.length, success.length, failure.length);
  if (opc > maxTxnOps) return etcdErrors.tooManyOps();
  for (const c of compare) {
    if (!c.key || c.key.length === 0) return etcdErrors.emptyKey();
    if (!COMPARE_RESULTS.has(c.result ?? 0)) return invalidArgument(`compare.result ${c.result} is not one of EQUAL, GREATER, LESS, NOT_EQUAL`);
    if (!COMPARE_TARGETS.has(c.target ?? 0)) return invalidArgument(`compare.target ${c.target} is not one of VERSION, CREATE, MOD, VALUE, LEASE`);
    const e = checkRangeEnd('compare', c.key, c.rangeEnd);
    if (e) return e;
  }
  for (const u of [...success, ...failure]) {
    const e = checkRequestOp(u, maxTxnOps - opc);
    if (e) return e;
  }
  return undefined;
}

function checkRequestOp(u: pb.RequestOp, maxTxnOps: number): StoreError | undefined {
  if (u.requestRange) return checkRangeRequest(u.requestRange);
  if (u.requestPut) return checkPutRequest(u.requestPut);
  if (u.requestDeleteRange) return checkDeleteRequest(u.requestDeleteRange);
  if (u.requestTxn) return checkTxnRequest(u.requestTxn, maxTxnOps);
  return invalidArgument('a txn operation must set one of request_range, request_put, request_delete_range, request_txn');
}

// ---- duplicate keys in a txn (etcd's checkIntervals) ----

type Interval = { start: Buffer; end: Buffer | null /* null: single key; empty: to infinity */ };

function intervalOf(key: Buffer, rangeEnd?: Buffer): Interval {
  if (!rangeEnd || rangeEnd.length === 0) return { start: key, end: null };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start: key, end: Buffer.alloc(0) };
  return { start: key, end: rangeEnd };
}

function containsPoint(iv: Interval, k: Buffer): boolean {
  if (iv.end === null) return Buffer.compare(iv.start, k) === 0;
  if (Buffer.compare(k, iv.start) < 0) return false;
  return iv.end.length === 0 || Buffer.compare(k, iv.end) < 0;
}

/**
 * Rejects a txn branch list that writes a key twice (two puts, or a put inside a delete
 * range), as etcd does, descending into nested txns. Returns the puts and deletes.
 */
export function checkIntervals(reqs: pb.RequestOp[]): { error?: StoreError; puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const req of reqs) {
    const d = req.requestDeleteRange;
    if (d && d.key) dels.push(intervalOf(d.key, d.rangeEnd));
  }
  const puts = new Set<string>();
  const hitsDel = (k: string) => {
    const b = Buffer.from(k, 'latin1');
    return dels.some((iv) => containsPoint(iv, b));
  };
  for (const req of reqs) {
    if (!req.requestTxn) continue;
    const then = checkIntervals(req.requestTxn.success ?? []);
    if (then.error) return then;
    const els = checkIntervals(req.requestTxn.failure ?? []);
    if (els.error) return els;
    for (const k of then.puts) {
      if (puts.has(k) || hitsDel(k)) return { error: etcdErrors.duplicateKey(), puts, dels };
      puts.add(k);
    }
    for (const k of els.puts) {
      if (puts.has(k) && !then.puts.has(k)) return { error: etcdErrors.duplicateKey(), puts, dels };
      if (hitsDel(k)) return { error: etcdErrors.duplicateKey(), puts, dels };
      puts.add(k);
    }
    dels.push(...then.dels, ...els.dels);
  }
  for (const req of reqs) {
    const p = req.requestPut;
    if (!p || !p.key) continue;
    const k = p.key.toString('latin1');
    if (puts.has(k) || hitsDel(k)) return { error: etcdErrors.duplicateKey(), puts, dels };
    puts.add(k);
  }
  return { puts, dels };
}

/** Whether every operation of the txn (both branches, nested) is a Range. */
export function isTxnReadonly(r: pb.TxnRequest): boolean {
  for (const u of [...(r.success ?? []), ...(r.failure ?? [])]) if (!u.requestRange) return false;
  return true;
}

/** Whether every operation is a serializable Range (etcd answers such txns from local state). */
export function isTxnSerializable(r: pb.TxnRequest): boolean {
  for (const u of [...(r.success ?? []), ...(r.failure ?? [])]) if (!u.requestRange || !u.requestRange.serializable) return false;
  return true;
}

/**
 * The single key a txn depends on and touches, when there is one: every compare and every
 * operation (both branches, nested) names that same key without a range_end. Such a txn's
 * outcome depends on that key alone, so it can be published on the key's subject with a
 * per-subject compare-and-swap. Undefined otherwise.
 */
export function singleKeyOf(r: pb.TxnRequest): string | undefined {
  let key: string | undefined;
  const see = (k: Buffer | undefined, end: Buffer | undefined): boolean => {
    if (!k || (end && end.length > 0)) return false;
    const s = k.toString('latin1');
    if (key === undefined) key = s;
    return key === s;
  };
  const walk = (t: pb.TxnRequest): boolean => {
    for (const c of t.compare ?? []) if (!see(c.key, c.rangeEnd)) return false;
    for (const u of [...(t.success ?? []), ...(t.failure ?? [])]) {
      if (u.requestRange) {
        if (!see(u.requestRange.key, u.requestRange.rangeEnd)) return false;
      } else if (u.requestPut) {
        if (!see(u.requestPut.key, undefined)) return false;
      } else if (u.requestDeleteRange) {
        if (!see(u.requestDeleteRange.key, u.requestDeleteRange.rangeEnd)) return false;
      } else if (u.requestTxn) {
        if (!walk(u.requestTxn)) return false;
      } else return false;
    }
    return true;
  };
  return walk(r) ? key : undefined;
}

/** Every lease a txn's puts name (both branches, nested). */
export function leasesOf(r: pb.TxnRequest, out = new Set<number>()): Set<number> {
  for (const u of [...(r.success ?? []), ...(r.failure ?? [])]) {
    if (u.requestPut?.lease) out.add(u.requestPut.lease);
    if (u.requestTxn) leasesOf(u.requestTxn, out);
  }
  return out;
}
