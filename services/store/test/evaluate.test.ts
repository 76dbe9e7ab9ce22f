import * as grpc from '@grpc/grpc-js';
import { etcdserverpb as pb } from '@k8ts/api';
import { applyCompare, BEGIN, compareKV, EvaluationError, evaluateTxn, finalize, PENDING } from '../src/evaluate';
import { MvccIndex, Version } from '../src/mvcc';
import { checkIntervals, checkRangeRequest, checkTxnRequest, isTxnReadonly, singleKeyOf } from '../src/validate';
import { applyKey, genesis, PREFIX, put } from './helpers';

const B = (s: string) => Buffer.from(s);
const { EQUAL, GREATER, LESS, NOT_EQUAL } = pb.Compare_CompareResult;
const { VERSION, CREATE, MOD, VALUE, LEASE } = pb.Compare_CompareTarget;

function version(o: Partial<Version>): Version {
  return { keyStr: 'k', key: B('k'), mod: 5, create: 3, version: 2, value: B('v'), lease: 7, deleted: false, viaTxn: false, ...o };
}

describe('compare evaluation', () => {
  const v = version({});
  it.each([
    [{ target: MOD, result: EQUAL, modRevision: 5 }, true],
    [{ target: MOD, result: NOT_EQUAL, modRevision: 5 }, false],
    [{ target: MOD, result: GREATER, modRevision: 4 }, true],
    [{ target: MOD, result: LESS, modRevision: 5 }, false],
    [{ target: CREATE, result: EQUAL, createRevision: 3 }, true],
    [{ target: CREATE, result: LESS, createRevision: 4 }, true],
    [{ target: VERSION, result: GREATER, version: 1 }, true],
    [{ target: VERSION, result: EQUAL, version: 3 }, false],
    [{ target: VALUE, result: EQUAL, value: B('v') }, true],
    [{ target: VALUE, result: GREATER, value: B('a') }, true],
    [{ target: VALUE, result: LESS, value: B('w') }, true],
    [{ target: VALUE, result: NOT_EQUAL, value: B('v') }, false],
    [{ target: LEASE, result: EQUAL, lease: 7 }, true],
    [{ target: LEASE, result: NOT_EQUAL, lease: 0 }, true],
  ])('%o -> %s', (c, want) => {
    expect(compareKV({ key: B('k'), ...c } as pb.Compare, v)).toBe(want);
  });

  it('treats a missing key as zero, and fails VALUE compares on it', () => {
    const index = new MvccIndex(PREFIX);
    genesis(index);
    expect(applyCompare(index, { key: B('/none'), target: MOD, result: EQUAL, modRevision: 0 })).toBe(true);
    expect(applyCompare(index, { key: B('/none'), target: VERSION, result: EQUAL, version: 0 })).toBe(true);
    expect(applyCompare(index, { key: B('/none'), target: CREATE, result: LESS, createRevision: 1 })).toBe(true);
    expect(applyCompare(index, { key: B('/none'), target: VALUE, result: EQUAL, value: B('') })).toBe(false);
    expect(applyCompare(index, { key: B('/none'), target: VALUE, result: NOT_EQUAL, value: B('x') })).toBe(false);
  });

  it('requires every key of a range compare to match', () => {
    const index = new MvccIndex(PREFIX);
    genesis(index);
    applyKey(index, put('/r/a', '1'));
    applyKey(index, put('/r/b', '1'));
    const c = (value: string, result = EQUAL): pb.Compare => ({ key: B('/r/'), rangeEnd: B('/r0'), target: VALUE, result, value: B(value) });
    expect(applyCompare(index, c('1'))).toBe(true);
    applyKey(index, put('/r/b', '2'));
    expect(applyCompare(index, c('1'))).toBe(false);
    expect(applyCompare(index, c('0', GREATER))).toBe(true);
  });
});

describe('txn evaluation', () => {
  let index: MvccIndex;
  beforeEach(() => {
    index = new MvccIndex(PREFIX);
    genesis(index);
    applyKey(index, put('/a', '1')); // 2
    applyKey(index, put('/b', '1')); // 3
  });
  const yes = () => true;

  it('chooses the branch by the compares and collects changes with pending revisions', () => {
    const req: pb.TxnRequest = {
      compare: [{ key: B('/a'), target: MOD, result: EQUAL, modRevision: 2 }],
      success: [{ requestPut: { key: B('/a'), value: B('2'), prevKv: true } }, { requestRange: { key: B('/a') } }],
      failure: [{ requestRange: { key: B('/a') } }],
    };
    const o = evaluateTxn(index, req, yes);
    expect(o.succeeded).toBe(true);
    expect(o.basis).toBe(3);
    expect(o.changes.map((c) => [c.type, c.keyStr, c.create, c.version])).toEqual([['put', '/a', 2, 2]]);
    const put0 = o.responses[0].responsePut!;
    expect(put0.header!.revision).toBe(PENDING);
    expect(put0.prevKv!.value!.toString()).toBe('1');
    // the range after the put sees it
    const r = o.responses[1].responseRange!;
    expect(r.header!.revision).toBe(PENDING);
    expect(r.kvs![0].modRevision).toBe(PENDING);
    finalize(o.responses, 9, 8);
    expect(put0.header!.revision).toBe(9);
    expect(r.kvs![0].modRevision).toBe(9);
    expect(r.kvs![0].value!.toString()).toBe('2');
  });

  it('answers the failure branch from the state before the txn', () => {
    const o = evaluateTxn(index, {
      compare: [{ key: B('/a'), target: MOD, result: EQUAL, modRevision: 1 }],
      success: [{ requestPut: { key: B('/a'), value: B('x') } }],
      failure: [{ requestRange: { key: B('/a') } }],
    }, yes);
    expect(o.succeeded).toBe(false);
    expect(o.changes).toEqual([]);
    expect(o.responses[0].responseRange!.header!.revision).toBe(BEGIN);
    expect(o.responses[0].responseRange!.kvs![0].modRevision).toBe(2);
  });

  it('deletes ranges and reports deleted keys; nothing deleted keeps the revision', () => {
    const o = evaluateTxn(index, { success: [{ requestDeleteRange: { key: B('/'), rangeEnd: B('0'), prevKv: true } }] }, yes);
    expect(o.responses[0].responseDeleteRange!.deleted).toBe(2);
    expect(o.changes.map((c) => c.keyStr)).toEqual(['/a', '/b']);
    const none = evaluateTxn(index, { success: [{ requestDeleteRange: { key: B('/zzz') } }] }, yes);
    expect(none.changes).toEqual([]);
    expect(none.responses[0].responseDeleteRange!.header!.revision).toBe(BEGIN);
  });

  it('runs nested txns along their own compares', () => {
    const o = evaluateTxn(index, {
      success: [
        { requestTxn: { compare: [{ key: B('/b'), target: VALUE, result: EQUAL, value: B('nope') }], success: [{ requestPut: { key: B('/x'), value: B('s') } }], failure: [{ requestPut: { key: B('/y'), value: B('f') } }] } },
        { requestPut: { key: B('/z'), value: B('z') } },
      ],
    }, yes);
    expect(o.changes.map((c) => c.keyStr)).toEqual(['/y', '/z']);
    expect(o.responses[0].responseTxn!.succeeded).toBe(false);
  });

  it('fails with etcd errors for future/compacted revisions, missing leases and missing keys', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as EvaluationError).error.code, (e as EvaluationError).error.details];
      }
      return undefined;
    };
    expect(code(() => evaluateTxn(index, { success: [{ requestRange: { key: B('/a'), revision: 99 } }] }, yes))).toEqual([
      grpc.status.OUT_OF_RANGE,
      'etcdserver: mvcc: required revision is a future revision',
    ]);
    index.compact(3);
    expect(code(() => evaluateTxn(index, { success: [{ requestRange: { key: B('/a'), revision: 2 } }] }, yes))).toEqual([
      grpc.status.OUT_OF_RANGE,
      'etcdserver: mvcc: required revision has been compacted',
    ]);
    expect(code(() => evaluateTxn(index, { success: [{ requestPut: { key: B('/a'), lease: 5 } }] }, () => false))).toEqual([
      grpc.status.NOT_FOUND,
      'etcdserver: requested lease not found',
    ]);
    expect(code(() => evaluateTxn(index, { success: [{ requestPut: { key: B('/new'), ignoreValue: true } }] }, yes))).toEqual([
      grpc.status.INVALID_ARGUMENT,
      'etcdserver: key not found',
    ]);
  });

  it('keeps value or lease with ignore_value / ignore_lease', () => {
    applyKey(index, put('/l', 'keep', { lease: 4 }));
    const o = evaluateTxn(index, { success: [{ requestPut: { key: B('/l'), ignoreValue: true, lease: 6 } }] }, yes);
    expect(o.changes[0].value.toString()).toBe('keep');
    expect(o.changes[0].lease).toBe(6);
    const o2 = evaluateTxn(index, { success: [{ requestPut: { key: B('/l'), value: B('new'), ignoreLease: true } }] }, yes);
    expect(o2.changes[0].lease).toBe(4);
  });
});

describe('request validation', () => {
  it('checks ranges', () => {
    expect(checkRangeRequest({ key: B('') })!.details).toBe('etcdserver: key is not provided');
    expect(checkRangeRequest({ key: B('b'), rangeEnd: B('a') })!.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(checkRangeRequest({ key: B('b'), rangeEnd: Buffer.from([0]) })).toBeUndefined();
    expect(checkRangeRequest({ key: B('a'), limit: -1 })!.details).toMatch(/limit must not be negative/);
    expect(checkRangeRequest({ key: B('a'), sortOrder: 9 as pb.RangeRequest_SortOrder })!.details).toBe('etcdserver: invalid sort option');
  });

  it('limits txn size and rejects duplicate keys like etcd', () => {
    const ops = (n: number) => Array.from({ length: n }, (_, i) => ({ requestPut: { key: B(`/k${i}`) } }));
    expect(checkTxnRequest({ success: ops(128) }, 128)).toBeUndefined();
    expect(checkTxnRequest({ success: ops(129) }, 128)!.details).toBe('etcdserver: too many operations in txn request');
    expect(checkIntervals([{ requestPut: { key: B('/a') } }, { requestPut: { key: B('/a') } }]).error!.details).toBe(
      'etcdserver: duplicate key given in txn request',
    );
    expect(checkIntervals([{ requestDeleteRange: { key: B('/'), rangeEnd: B('0') } }, { requestPut: { key: B('/a') } }]).error).toBeDefined();
    expect(checkIntervals([{ requestDeleteRange: { key: B('/b') } }, { requestPut: { key: B('/a') } }]).error).toBeUndefined();
    expect(checkTxnRequest({ success: [{}] }, 128)!.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(checkTxnRequest({ compare: [{ key: B('/a'), target: 9 as pb.Compare_CompareTarget }] }, 128)!.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('recognises single-key and read-only txns', () => {
    const k8sUpdate: pb.TxnRequest = {
      compare: [{ key: B('/p'), target: MOD, modRevision: 3 }],
      success: [{ requestPut: { key: B('/p'), value: B('x') } }],
      failure: [{ requestRange: { key: B('/p') } }],
    };
    expect(singleKeyOf(k8sUpdate)).toBe('/p');
    expect(singleKeyOf({ ...k8sUpdate, failure: [{ requestRange: { key: B('/q') } }] })).toBeUndefined();
    expect(singleKeyOf({ success: [{ requestDeleteRange: { key: B('/p'), rangeEnd: B('/q') } }] })).toBeUndefined();
    expect(isTxnReadonly({ success: [{ requestRange: { key: B('/p') } }] })).toBe(true);
    expect(isTxnReadonly(k8sUpdate)).toBe(false);
  });
});
