// The apply rule over logs recorded from the store (packages/machinery/test/storelog-fixtures,
// written by a real store on a real nats-server before the rule moved here: ordinary writes
// through etcdctl plus entries published straight to the stream by racing "writers") and
// over small logs written here.
import * as fs from 'fs';
import * as path from 'path';
import {
  GuardLedger,
  LogOrderError,
  type LogMessage,
  type Verdict,
  decodeLogMessage,
  encodeGenesis,
  encodeMultiKeyEntry,
  encodeSingleKeyEntry,
  keySubject,
  txnSubject,
} from '@k8ts/machinery';

const P = 'k8ts';

interface Recorded {
  guardWindow: number;
  compactRevision?: number;
  messages: { seq: number; subject: string; data: string }[];
  /** The store's log lines "log entry has no effect": sequence -> reason. */
  storeIneffective: Record<string, string>;
  /** etcdctl get of every key at the end. */
  state: { key: string; value: string; createRevision: number; modRevision: number; version: number }[];
}

function load(name: string): Recorded {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'storelog-fixtures', name), 'utf8')) as Recorded;
}

function decoded(rec: Recorded): { seq: number; msg: LogMessage }[] {
  return rec.messages.map((m) => ({ seq: m.seq, msg: decodeLogMessage(P, m.subject, Buffer.from(m.data, 'base64')) }));
}

function replay(rec: Recorded, ledger = new GuardLedger()): Map<number, Verdict> {
  const out = new Map<number, Verdict>();
  for (const { seq, msg } of decoded(rec)) out.set(seq, ledger.apply(seq, msg));
  return out;
}

/** How the store's reason for an ineffective message reads as a cause. */
function storeCause(reason: string): 'void' | 'invalid' {
  return /^(guard|basis|multi-key)/.test(reason) ? 'void' : 'invalid';
}

function ineffective(verdicts: Map<number, Verdict>): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [seq, v] of verdicts) if (!v.effective) out[seq] = v.cause;
  return out;
}

/** The key-value state (as etcdctl prints it) that the effective changes of a log build. */
function stateOf(rec: Recorded, verdicts: Map<number, Verdict>): Recorded['state'] {
  const live = new Map<string, Recorded['state'][number]>();
  for (const { seq, msg } of decoded(rec)) {
    if (!verdicts.get(seq)?.effective) continue;
    const changes = msg.kind === 'single-key' ? [msg.change] : msg.kind === 'multi-key' ? msg.changes : [];
    for (const c of changes) {
      if (c.type === 'delete') {
        live.delete(c.keyStr);
        continue;
      }
      const prev = live.get(c.keyStr);
      live.set(c.keyStr, {
        key: c.keyStr,
        value: c.value.toString('base64'),
        createRevision: c.createRevision || seq,
        modRevision: seq,
        version: c.version || (prev?.version ?? 0) + 1,
      });
    }
  }
  return [...live.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

const storeVerdicts = (rec: Recorded, seqs: Iterable<number>) => {
  const present = new Set(seqs);
  const out: Record<number, string> = {};
  for (const [seq, reason] of Object.entries(rec.storeIneffective)) if (present.has(Number(seq))) out[Number(seq)] = storeCause(reason);
  return out;
};

describe('the apply rule over logs recorded from the store', () => {
  const recorded = load('storelog-recorded.json');
  const compacted = load('storelog-compacted.json');

  it('covers every way an entry can be void (the recording is what the test says)', () => {
    const reasons = Object.values(recorded.storeIneffective).join('\n');
    expect(reasons).toMatch(/guard: entry \d+ changed the key/); // voided by a single-key entry
    expect(reasons).toMatch(/multi-key entry \d+ changed the key/);
    expect(reasons).toMatch(/more than 100 revisions old/);
    expect(reasons).toMatch(/undecodable payload/);
  });

  it('decides every message as the store did', () => {
    const verdicts = replay(recorded);
    expect(verdicts.size).toBe(recorded.messages.length);
    expect(ineffective(verdicts)).toEqual(storeVerdicts(recorded, verdicts.keys()));
  });

  it('builds from the effective changes exactly the state the store reported', () => {
    expect(stateOf(recorded, replay(recorded))).toEqual(recorded.state);
  });

  it('decides the log left by physical compaction as the store decided the full log', () => {
    const verdicts = replay(compacted);
    // Compaction removed the void entries below the compact revision, and kept the witnesses
    // of later guards: a stale write after compaction is void on the purged log too.
    const removed = recorded.messages.filter((m) => !compacted.messages.some((c) => c.seq === m.seq)).map((m) => m.seq);
    expect(removed).toEqual(expect.arrayContaining(Object.keys(recorded.storeIneffective).map(Number)));
    expect(ineffective(verdicts)).toEqual(storeVerdicts(compacted, verdicts.keys()));
    expect(Object.keys(ineffective(verdicts)).length).toBeGreaterThan(0);
    expect(stateOf(compacted, verdicts)).toEqual(compacted.state);
  });

  it('recalls the verdicts of a consumer that resumes behind its position, for every resume point', () => {
    const full = replay(recorded);
    const ledger = new GuardLedger();
    replay(recorded, ledger);
    const last = recorded.messages[recorded.messages.length - 1].seq;
    expect(ledger.firstSequenceToRead(last + 3)).toBe(last + 1);
    for (let after = 0; after <= last; after++) {
      expect(ledger.firstSequenceToRead(after)).toBe(after === last ? last + 1 : after + 1);
      for (const { seq } of recorded.messages) if (seq > after) expect(ledger.recall(seq)).toEqual(full.get(seq));
    }
  });

  it('starts a new consumer from sequence 1, whatever revision it resumes after', () => {
    expect(new GuardLedger().firstSequenceToRead(0)).toBe(1);
    expect(new GuardLedger().firstSequenceToRead(90)).toBe(1);
  });
});

describe('the apply rule over small logs', () => {
  const origin = { writer: 'w', requestId: 1 };
  const B = (s: string) => Buffer.from(s);
  const put = (key: string, value = 'v') => ({ type: 'put' as const, key: B(key), value: B(value), lease: 0, createRevision: 0, version: 0 });
  const genesis = (w: number) => decodeLogMessage(P, `${P}.genesis`, encodeGenesis({ clusterId: 1, createdBy: 't', createdUnixMs: 0, guardWindow: w }));
  const single = (basis: number, key: string) => decodeLogMessage(P, keySubject(P, B(key)), encodeSingleKeyEntry(basis, put(key), origin));
  const multi = (...keys: string[]) => decodeLogMessage(P, txnSubject(P), encodeMultiKeyEntry(keys.map((k) => put(k)), origin));

  it('voids an entry that a single-key or a multi-key entry after its basis changed the key, and nothing else', () => {
    const l = new GuardLedger();
    l.apply(1, genesis(100));
    expect(l.apply(2, single(1, '/k'))).toEqual({ effective: true });
    expect(l.apply(3, single(1, '/k'))).toEqual({ effective: false, cause: 'void', reason: 'guard: entry 2 changed the key after basis revision 1' });
    // The void entry at 3 changed nothing: an entry based on 2 applies.
    expect(l.apply(4, single(2, '/k')).effective).toBe(true);
    expect(l.apply(5, multi('/k', '/j')).effective).toBe(true);
    expect(l.apply(6, single(4, '/k'))).toMatchObject({ cause: 'void', reason: expect.stringMatching(/multi-key entry 5/) });
    expect(l.apply(7, single(4, '/other')).effective).toBe(true);
    expect(l.apply(9, single(5, '/k')).effective).toBe(true); // sequences may skip
  });

  it('voids an entry more than W revisions after its basis, even if nothing changed the key', () => {
    const l = new GuardLedger();
    l.apply(1, genesis(5));
    for (let s = 2; s <= 12; s++) l.apply(s, single(s - 1, `/fill${s}`));
    expect(l.apply(13, single(8, '/k'))).toEqual({ effective: true }); // 13 - 8 = W
    expect(l.apply(14, single(8, '/k2'))).toMatchObject({ cause: 'void', reason: 'basis revision 8 is more than 5 revisions old' });
  });

  it('forgets what is more than W behind without changing a verdict, and then asks for a replay', () => {
    const w = 4;
    const l = new GuardLedger();
    l.apply(1, genesis(w));
    l.apply(2, single(1, '/k'));
    for (let s = 3; s <= 20; s++) l.apply(s, single(s - 1, `/fill${s}`));
    expect(l.apply(21, single(17, '/k')).effective).toBe(true);
    expect(l.apply(22, single(18, '/k')).effective).toBe(false); // 21 changed it
    expect(l.firstSequenceToRead(22)).toBe(23);
    expect(l.firstSequenceToRead(21)).toBe(22);
    expect(l.firstSequenceToRead(1)).toBeUndefined();
    expect(() => l.recall(2)).toThrow(LogOrderError);
    expect(l.recall(22)).toMatchObject({ cause: 'void' });
  });

  it('fails loudly when the log breaks its order: no genesis, a sequence again, a message never applied', () => {
    const l = new GuardLedger();
    expect(() => l.apply(2, single(1, '/k'))).toThrow(/the guard window is unknown: the genesis \(sequence 1\) has not been applied/);
    expect(l.position).toBe(0);
    l.apply(1, genesis(10));
    l.apply(3, single(1, '/k'));
    expect(() => l.apply(3, single(1, '/j'))).toThrow(/sequence 3 applied after sequence 3/);
    expect(() => l.recall(2)).toThrow(/sequence 2 was never applied/);
    expect(() => l.recall(4)).toThrow(/not remembered/);
  });

  it('takes W from the first genesis; a later one is invalid', () => {
    const l = new GuardLedger();
    l.apply(1, genesis(10));
    expect(l.apply(2, genesis(3))).toMatchObject({ effective: false, cause: 'invalid' });
    expect(l.guardWindow).toBe(10);
  });
});
