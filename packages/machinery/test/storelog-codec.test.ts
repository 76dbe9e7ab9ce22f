import { storev1 } from '@k8ts/api';
import {
  DEFAULT_GUARD_WINDOW,
  LOG_FORMAT_VERSION,
  LogFormatError,
  decodeLogMessage,
  encodeGenesis,
  encodeMultiKeyEntry,
  encodeSingleKeyEntry,
  keySubject,
  txnSubject,
} from '@k8ts/machinery';

const P = 'k8ts';
const B = (s: string) => Buffer.from(s);
const origin = { writer: 'w1', requestId: 7 };
const { CHANGE_TYPE_PUT: PUT, CHANGE_TYPE_DELETE: DELETE } = storev1.ChangeType;

describe('store log codec (log.proto, "Payload")', () => {
  it('round-trips a single-key entry with its guard, change and origin', () => {
    const key = B('/kubernetes.io/pods/default/web-1');
    const data = encodeSingleKeyEntry(41, { type: 'put', key, value: B('{"a":1}'), lease: 9, createRevision: 12, version: 3 }, origin);
    const msg = decodeLogMessage(P, keySubject(P, key), data);
    expect(msg).toMatchObject({ kind: 'single-key', basis: 41, writer: 'w1', requestId: 7 });
    if (msg.kind !== 'single-key') throw new Error('unreachable');
    expect(msg.change).toMatchObject({ type: 'put', keyStr: '/kubernetes.io/pods/default/web-1', lease: 9, createRevision: 12, version: 3 });
    expect(msg.change.value.toString()).toBe('{"a":1}');
  });

  it('round-trips a multi-key entry; keys are latin1 strings, one char per byte', () => {
    const data = encodeMultiKeyEntry(
      [
        { type: 'delete', key: Buffer.from([0x2f, 0xc3, 0xa9]) },
        { type: 'put', key: B('/b'), value: B(''), lease: 0, createRevision: 0, version: 1 },
      ],
      origin,
    );
    const msg = decodeLogMessage(P, txnSubject(P), data);
    if (msg.kind !== 'multi-key') throw new Error(`expected a multi-key entry, got ${msg.kind}`);
    expect(msg.changes.map((c) => [c.type, c.keyStr, c.value.length])).toEqual([
      ['delete', '/\u00c3\u00a9', 0],
      ['put', '/b', 0],
    ]);
  });

  it('reads the guard window from the genesis; a genesis without one means the default', () => {
    const g = decodeLogMessage(P, `${P}.genesis`, encodeGenesis({ clusterId: 5, createdBy: 'a', createdUnixMs: 1, guardWindow: 250 }));
    expect(g).toMatchObject({ kind: 'genesis', guardWindow: 250, genesis: { clusterId: 5, formatVersion: LOG_FORMAT_VERSION } });
    const bare = decodeLogMessage(P, `${P}.genesis`, storev1.Genesis.encode({ clusterId: 5 }).finish());
    expect(bare).toMatchObject({ kind: 'genesis', guardWindow: DEFAULT_GUARD_WINDOW });
  });

  it.each([
    ['garbage on a key subject', `${P}.kv.a`, Buffer.from([0xff, 0xff, 0xff]), /^undecodable payload/],
    ['a single-key entry without a guard', `${P}.kv.a`, storev1.Entry.encode({ changes: [{ type: PUT, key: B('/a') }] }).finish(), /^entry\.guard: a single-key entry must carry a guard/],
    [
      'a single-key entry with two changes',
      `${P}.kv.a`,
      storev1.Entry.encode({ guard: { basisRevision: 3 }, changes: [{ type: PUT, key: B('/a') }, { type: PUT, key: B('/b') }] }).finish(),
      /^entry\.changes: a single-key entry must have exactly one change, got 2/,
    ],
    ['a change without a key', `${P}.txn`, storev1.Entry.encode({ changes: [{ type: DELETE, key: B('/a') }, { type: PUT }] }).finish(), /^entry\.changes\[1\]\.key: must not be empty/],
    ['a change of no known type', `${P}.kv.a`, storev1.Entry.encode({ guard: { basisRevision: 3 }, changes: [{ key: B('/a') }] }).finish(), /^entry\.changes\[0\]\.type: must be/],
    ['a guard on a multi-key entry', `${P}.txn`, storev1.Entry.encode({ guard: { basisRevision: 3 }, changes: [{ type: PUT, key: B('/a') }] }).finish(), /^entry\.guard: a multi-key entry/],
    ['a subject outside the log', `${P}.unknown`, Buffer.alloc(0), /is not a subject of the log/],
  ])('classifies %s as invalid, naming the field', (_what, subject, data, reason) => {
    const msg = decodeLogMessage(P, subject, data);
    expect(msg.kind).toBe('invalid');
    if (msg.kind === 'invalid') expect(msg.reason).toMatch(reason);
  });

  it('refuses to encode what the format does not allow', () => {
    const put = { type: 'put' as const, key: B('/a'), value: B('v'), lease: 0, createRevision: 0, version: 1 };
    expect(() => encodeSingleKeyEntry(0, put, origin)).toThrow(new LogFormatError('entry.guard.basis_revision', 'must be a revision (>= 1), got 0'));
    expect(() => encodeSingleKeyEntry(3, { type: 'delete', key: B('') }, origin)).toThrow(/entry\.changes\[0\]\.key: must not be empty/);
    expect(() => encodeMultiKeyEntry([], origin)).toThrow(/entry\.changes: an entry must change something/);
    expect(() => encodeMultiKeyEntry([put, { type: 'delete', key: B('') }], origin)).toThrow(/entry\.changes\[1\]\.key/);
    expect(() => encodeGenesis({ clusterId: 1, createdBy: 'a', createdUnixMs: 1, guardWindow: 0 })).toThrow(/genesis\.guard_window: must be a positive integer/);
  });
});
