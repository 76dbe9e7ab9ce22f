// Evaluation of etcd requests against the MVCC index: compares, then the chosen branch's
// ranges, puts and deletes, with the semantics of etcd's server/etcdserver/txn package. A
// write is evaluated at the replica's applied revision b, before its revision is known: the
// revision the write will get is written as PENDING and the revision just before it as
// BEGIN, and finalize() replaces them once the log has assigned the write its revision.
import { etcdserverpb as pb, mvccpb } from '@k8ts/api';
import type { ChangeInput } from '@k8ts/machinery';
import { etcdErrors, StoreError } from './errors';
import { KeyRange, MvccIndex, Version } from './mvcc';

/** Stands for the revision of the write being evaluated (unknown until published). */
export const PENDING = -1;
/** Stands for the revision just before it (the state the write was evaluated on). */
export const BEGIN = -2;

/** One key's change decided by an evaluation. */
export interface PendingChange {
  type: 'put' | 'delete';
  keyStr: string;
  key: Buffer;
  value: Buffer;
  lease: number;
  /** 0 when this write creates the key. */
  create: number;
  version: number;
}

/** The outcome of evaluating a txn at the applied revision. */
export interface Outcome {
  succeeded: boolean;
  responses: pb.ResponseOp[];
  /** Changes in the order they were made; at most one per key. */
  changes: PendingChange[];
  /** The revision the evaluation read (the replica's applied revision). */
  basis: number;
}

/** Thrown (and caught by the caller) for request errors found during evaluation. */
export class EvaluationError extends Error {
  constructor(readonly error: StoreError) {
    super(error.message);
  }
}

/** The etcd KeyValue of a version. */
export function toKeyValue(v: Version, keysOnly = false): mvccpb.KeyValue {
  return {
    key: v.key,
    createRevision: v.create,
    modRevision: v.mod,
    version: v.version,
    value: keysOnly ? undefined : v.value,
    lease: v.lease,
  };
}

/** The index range of a request's key and range_end. */
export function keyRange(key: Buffer, rangeEnd?: Buffer): KeyRange {
  const start = key.toString('latin1');
  if (!rangeEnd || rangeEnd.length === 0) return { start };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: '' };
  return { start, end: rangeEnd.toString('latin1') };
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Evaluates one compare against a key's version (undefined: the key does not exist). */
export function compareKV(c: pb.Compare, v: Version | undefined): boolean {
  let result: number;
  switch (c.target ?? 0) {
    case pb.Compare_CompareTarget.VALUE:
      result = Buffer.compare(v?.value ?? Buffer.alloc(0), c.value ?? Buffer.alloc(0));
      break;
    case pb.Compare_CompareTarget.CREATE:
      result = cmp(v?.create ?? 0, c.createRevision ?? 0);
      break;
    case pb.Compare_CompareTarget.MOD:
      result = cmp(v?.mod ?? 0, c.modRevision ?? 0);
      break;
    case pb.Compare_CompareTarget.VERSION:
      result = cmp(v?.version ?? 0, c.version ?? 0);
      break;
    case pb.Compare_CompareTarget.LEASE:
      result = cmp(v?.lease ?? 0, c.lease ?? 0);
      break;
    default:
      return false;
  }
  switch (c.result ?? 0) {
    case pb.Compare_CompareResult.EQUAL:
      return result === 0;
    case pb.Compare_CompareResult.NOT_EQUAL:
      return result !== 0;
    case pb.Compare_CompareResult.GREATER:
      return result > 0;
    case pb.Compare_CompareResult.LESS:
      return result < 0;
    default:
      return false;
  }
}

/** Evaluates a compare against the index at its current revision (etcd's applyCompare). */
export function applyCompare(index: MvccIndex, c: pb.Compare): boolean {
  const r = keyRange(c.key!, c.rangeEnd);
  const kvs = index.range(r);
  if (kvs.length === 0) {
    if ((c.target ?? 0) === pb.Compare_CompareTarget.VALUE) return false;
    return compareKV(c, undefined);
  }
  return kvs.every((v) => compareKV(c, v));
}

/** Range options that affect the result, shared by Range and ranges inside txns. */
export function executeRangeOn(kvsAll: Version[], r: pb.RangeRequest): { kvs: mvccpb.KeyValue[]; more: boolean; count: number } {
  const count = kvsAll.length;
  if (r.countOnly) return { kvs: [], more: false, count };
  let kvs = kvsAll;
  const { minModRevision: minMod = 0, maxModRevision: maxMod = 0, minCreateRevision: minCreate = 0, maxCreateRevision: maxCreate = 0 } = r;
  if (minMod || maxMod || minCreate || maxCreate) {
    kvs = kvs.filter(
      (v) =>
        !(maxMod && v.mod > maxMod) &&
        !(minMod && v.mod < minMod) &&
        !(maxCreate && v.create > maxCreate) &&
        !(minCreate && v.create < minCreate),
    );
  }
  let order = r.sortOrder ?? 0;
  const target = r.sortTarget ?? 0;
  if (target !== pb.RangeRequest_SortTarget.KEY && order === pb.RangeRequest_SortOrder.NONE) order = pb.RangeRequest_SortOrder.ASCEND;
  const defaultOrdering = order === pb.RangeRequest_SortOrder.NONE || (target === pb.RangeRequest_SortTarget.KEY && order === pb.RangeRequest_SortOrder.ASCEND);
  if (!defaultOrdering) {
    const by: (a: Version, b: Version) => number =
      target === pb.RangeRequest_SortTarget.VERSION
        ? (a, b) => a.version - b.version
        : target === pb.RangeRequest_SortTarget.CREATE
          ? (a, b) => a.create - b.create
          : target === pb.RangeRequest_SortTarget.MOD
            ? (a, b) => a.mod - b.mod
            : target === pb.RangeRequest_SortTarget.VALUE
              ? (a, b) => Buffer.compare(a.value, b.value)
              : (a, b) => (a.keyStr < b.keyStr ? -1 : a.keyStr > b.keyStr ? 1 : 0);
    kvs = kvs === kvsAll ? [...kvs] : kvs;
    if (order === pb.RangeRequest_SortOrder.DESCEND) kvs.sort((a, b) => by(b, a));
    else kvs.sort(by);
  }
  const limit = r.limit ?? 0;
  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit);
    more = true;
  }
  return { kvs: kvs.map((v) => toKeyValue(v, r.keysOnly)), more, count };
}

/** Checks a range's revision against the current and compact revisions (etcd's checkRange). */
export function checkRangeRevision(index: MvccIndex, rev: number, current = index.rev): StoreError | undefined {
  if (!rev || rev <= 0) return undefined;
  if (rev > current) return etcdErrors.futureRev();
  if (rev < index.compactRev) return etcdErrors.compacted();
  return undefined;
}

/**
 * Evaluates a txn at the index's applied revision. `leaseExists` answers for every lease
 * the txn's puts name (checked beforehand). Throws EvaluationError for request errors (future
 * or compacted revisions, missing lease or key).
 */
export function evaluateTxn(index: MvccIndex, req: pb.TxnRequest, leaseExists: (id: number) => boolean): Outcome {
  const b = index.rev;
  // Overlay of this txn's writes: key -> new version, or null for deleted.
  const overlay = new Map<string, Version | null>();
  const changes: PendingChange[] = [];

  const viewGet = (keyStr: string): Version | undefined => {
    const o = overlay.get(keyStr);
    if (o !== undefined) return o ?? undefined;
    return index.get(keyStr, b);
  };
  const viewRange = (r: KeyRange, rev: number): Version[] => {
    if (rev !== PENDING) return index.range(r, rev);
    const base = index.range(r, b);
    if (overlay.size === 0) return base;
    const merged = new Map<string, Version>();
    for (const v of base) merged.set(v.keyStr, v);
    for (const [k, v] of overlay) {
      if (!inRangeKey(r, k)) continue;
      if (v) merged.set(k, v);
      else merged.delete(k);
    }
    return [...merged.values()].sort((x, y) => (x.keyStr < y.keyStr ? -1 : x.keyStr > y.keyStr ? 1 : 0));
  };

  // Compares decide the path through nested txns, all on the state before the txn.
  const path = (t: pb.TxnRequest): boolean[] => {
    const ok = (t.compare ?? []).every((c) => applyCompare(index, c));
    const out = [ok];
    for (const u of ok ? (t.success ?? []) : (t.failure ?? [])) if (u.requestTxn) out.push(...path(u.requestTxn));
    return out;
  };
  const txnPath = path(req);

  // Checks of the chosen operations, before any is executed.
  const check = (t: pb.TxnRequest, p: boolean[]): number => {
    let used = 0;
    for (const u of p[0] ? (t.success ?? []) : (t.failure ?? [])) {
      if (u.requestRange) {
        const e = checkRangeRevision(index, u.requestRange.revision ?? 0, b);
        if (e) throw new EvaluationError(e);
      } else if (u.requestPut) {
        const put = u.requestPut;
        if (put.lease && !leaseExists(put.lease)) throw new EvaluationError(etcdErrors.leaseNotFound());
        if ((put.ignoreValue || put.ignoreLease) && !index.get(put.key!.toString('latin1'), b)) throw new EvaluationError(etcdErrors.keyNotFound());
      } else if (u.requestTxn) {
        const n = check(u.requestTxn, p.slice(1 + used));
        used += n + 1;
      }
    }
    return used;
  };
  check(req, txnPath);

  const curRev = () => (changes.length > 0 ? PENDING : BEGIN);

  const execute = (t: pb.TxnRequest, p: boolean[]): { resp: pb.TxnResponse; used: number } => {
    const ok = p[0];
    const responses: pb.ResponseOp[] = [];
    let used = 0;
    for (const u of ok ? (t.success ?? []) : (t.failure ?? [])) {
      if (u.requestRange) {
        const r = u.requestRange;
        const cur = curRev();
        const rev = r.revision && r.revision > 0 ? r.revision : cur === PENDING ? PENDING : b;
        const res = executeRangeOn(viewRange(keyRange(r.key!, r.rangeEnd), rev), r);
        responses.push({ responseRange: { header: { revision: cur }, kvs: res.kvs, more: res.more, count: res.count } });
      } else if (u.requestPut) {
        const put = u.requestPut;
        const keyStr = put.key!.toString('latin1');
        const prev = viewGet(keyStr);
        const v: Version = {
          keyStr,
          key: put.key!,
          mod: PENDING,
          create: prev ? prev.create : PENDING,
          version: (prev?.version ?? 0) + 1,
          value: put.ignoreValue ? prev!.value : (put.value ?? Buffer.alloc(0)),
          lease: put.ignoreLease ? prev!.lease : (put.lease ?? 0),
          deleted: false,
          viaTxn: false,
        };
        overlay.set(keyStr, v);
        record({ type: 'put', keyStr, key: put.key!, value: v.value, lease: v.lease, create: prev ? prev.create : 0, version: v.version });
        responses.push({ responsePut: { header: { revision: PENDING }, prevKv: put.prevKv && prev ? toKeyValue(prev) : undefined } });
      } else if (u.requestDeleteRange) {
        const d = u.requestDeleteRange;
        const victims = viewRange(keyRange(d.key!, d.rangeEnd), curRev() === PENDING ? PENDING : b);
        for (const v of victims) {
          overlay.set(v.keyStr, null);
          record({ type: 'delete', keyStr: v.keyStr, key: v.key, value: Buffer.alloc(0), lease: 0, create: 0, version: 0 });
        }
        responses.push({
          responseDeleteRange: {
            header: { revision: victims.length > 0 || changes.length > 0 ? PENDING : BEGIN },
            deleted: victims.length,
            prevKvs: d.prevKv ? victims.map((v) => toKeyValue(v)) : [],
          },
        });
      } else if (u.requestTxn) {
        const sub = execute(u.requestTxn, p.slice(1 + used));
        used += sub.used + 1;
        responses.push({ responseTxn: sub.resp });
      }
    }
    return { resp: { header: {}, succeeded: ok, responses }, used };
  };

  const record = (c: PendingChange) => {
    const i = changes.findIndex((x) => x.keyStr === c.keyStr);
    if (i >= 0) changes.splice(i, 1);
    changes.push(c);
  };

  const { resp } = execute(req, txnPath);
  return { succeeded: resp.succeeded ?? false, responses: resp.responses ?? [], changes, basis: b };
}

function inRangeKey(r: KeyRange, k: string): boolean {
  if (r.end === undefined) return k === r.start;
  return k >= r.start && (r.end === '' || k < r.end);
}

/** Replaces PENDING and BEGIN in a txn's responses, in place: rev is the txn's revision. */
export function finalize(responses: pb.ResponseOp[], rev: number, begin: number): void {
  const fixHeader = (h: pb.ResponseHeader | undefined) => {
    if (!h) return;
    if (h.revision === PENDING) h.revision = rev;
    else if (h.revision === BEGIN) h.revision = begin;
  };
  const fixKv = (kv: mvccpb.KeyValue | undefined) => {
    if (!kv) return;
    if (kv.modRevision === PENDING) kv.modRevision = rev;
    if (kv.createRevision === PENDING) kv.createRevision = rev;
  };
  for (const op of responses) {
    if (op.responseRange) {
      fixHeader(op.responseRange.header);
      for (const kv of op.responseRange.kvs ?? []) fixKv(kv);
    } else if (op.responsePut) {
      fixHeader(op.responsePut.header);
      fixKv(op.responsePut.prevKv);
    } else if (op.responseDeleteRange) {
      fixHeader(op.responseDeleteRange.header);
      for (const kv of op.responseDeleteRange.prevKvs ?? []) fixKv(kv);
    } else if (op.responseTxn) {
      finalize(op.responseTxn.responses ?? [], rev, begin);
    }
  }
}

/** The log entry changes of an outcome. */
export function toEntryChanges(changes: PendingChange[]): ChangeInput[] {
  return changes.map((c) =>
    c.type === 'put' ? { type: 'put', key: c.key, value: c.value, lease: c.lease, createRevision: c.create, version: c.version } : { type: 'delete', key: c.key },
  );
}
