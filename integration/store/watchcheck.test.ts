// Watch checks over a recorded run, as etcd's robustness tests do. Two store replicas over
// one nats-server take a random workload from four clients (puts with and without prev_kv,
// single-key and range deletes, multi-operation txns with compares, keys attached to
// short leases that expire or are revoked, two compactions mid-run) while watchers record
// what they receive:
//  - reference watchers on both replicas (every key, from revision 2, prev_kv): their
//    histories must be identical, consistent with etcd's data model when replayed
//    (create/mod revision, version, prev_kv), match every acknowledged write (its
//    revision holds exactly the changes the request implies on the state before it, and
//    its response agrees), and match a Range over every key at sampled revisions;
//  - prefix, range and key watchers, with and without prev_kv and filters, started now or
//    from past revisions, spread over both replicas and sharing streams;
//  - resumable watchers, ended every few hundred ms (cancel, or the whole stream closed)
//    and resumed from their last seen revision + 1, alternating replicas; a resume below
//    the compact revision must be cancelled with compact_revision (and then restarts there).
// Every watcher's events must be ordered by revision, unique, atomic per revision (all
// events of a revision in one response), without gaps: exactly the reference history
// filtered by its range and filters over the revisions it covered, with correct prev_kv;
// headers never go backwards on a stream. After the run, watches started from sampled
// retained revisions (compact revision to head + 1) receive exactly the history suffix,
// and a start revision below the compact revision gets a cancel carrying compact_revision.
// Nothing here asserts timings. K8TS_STORE_WATCHCHECK_DUMP=<dir>: on a failure, the writes,
// both reference histories, the stores' logs and the problems are written there.
import * as fs from 'fs';
import * as path from 'path';
import { etcdserverpb as pb } from '@k8ts/api';
import { startNats } from '@k8ts/testkit';
import type { NatsServer } from '@k8ts/testkit';
import { eventually, startStore, StoreProcess } from './harness';
import {
  ALL_KEYS,
  B,
  describeError,
  eventString,
  HEvent,
  Kv,
  kvString,
  prefixEnd,
  Replay,
  responseProblems,
  StoreClient,
  toKv,
  WatchStream,
} from './history';

jest.setTimeout(180_000);

const KEYS = ['a', 'b', 'c'].flatMap((g) => Array.from({ length: 5 }, (_, i) => `/w/${g}/${i}`));
const HOT = '/w/a/0';
const TOTAL_OPS = 700;
const COMPACT_AT = [300, 550];
const WORKERS = 4;

const { VERSION } = pb.Compare_CompareTarget;
const { EQUAL, GREATER, LESS, NOT_EQUAL } = pb.Compare_CompareResult;
const { NOPUT, NODELETE } = pb.WatchCreateRequest_FilterType;

/** What a watcher watches. */
interface Spec {
  name: string;
  key: string;
  /** undefined: the key alone; "\0": every key from key on. */
  rangeEnd?: Buffer;
  prevKv: boolean;
  filters?: pb.WatchCreateRequest_FilterType[];
}

function matches(spec: Spec, e: HEvent): boolean {
  if (spec.filters?.includes(NOPUT) && e.type === 'put') return false;
  if (spec.filters?.includes(NODELETE) && e.type === 'delete') return false;
  const k = Buffer.from(e.key, 'latin1');
  const start = Buffer.from(spec.key);
  if (!spec.rangeEnd) return e.key === spec.key;
  if (Buffer.compare(k, start) < 0) return false;
  if (spec.rangeEnd.length === 1 && spec.rangeEnd[0] === 0) return true;
  return Buffer.compare(k, spec.rangeEnd) < 0;
}

const createReq = (spec: Spec, startRevision: number): pb.WatchCreateRequest => ({
  key: B(spec.key),
  rangeEnd: spec.rangeEnd,
  prevKv: spec.prevKv,
  filters: spec.filters,
  startRevision,
  progressNotify: true,
});

/** A watcher's event as text: with prev_kv when the event carries one. */
const text = (e: HEvent, withPrev = true) => `${eventString(e)}${withPrev && e.prev ? ` prev ${kvString(e.prev)}` : ''}`;

/** One session of a watcher: one watch ID on one stream, from a start revision. */
interface Session {
  stream: WatchStream;
  id: number;
  start: number;
  /** Set when the create was answered with a compaction cancel. */
  compactRevision?: number;
}

/** A watcher that may be ended and resumed: the sessions it ran, in order. */
class Recorder {
  readonly sessions: Session[] = [];
  constructor(readonly spec: Spec) {}
  events(): HEvent[] {
    return this.sessions.flatMap((s) => s.stream.events(s.id));
  }
  /**
   * Where the next session starts: after the last event seen, else where the last one
   * started; at the compact revision if the last one was compacted.
   */
  nextStart(): number {
    const last = this.sessions[this.sessions.length - 1];
    const evs = last.stream.events(last.id);
    const after = evs.length > 0 ? evs[evs.length - 1].rev + 1 : last.start;
    return Math.max(after, last.compactRevision ?? 0);
  }
}

/** A write and its answer, for checking against the history. */
interface Write {
  req: { put?: pb.PutRequest; del?: pb.DeleteRangeRequest; txn?: pb.TxnRequest };
  rev: number;
  res: pb.PutResponse | pb.DeleteRangeResponse | pb.TxnResponse;
}

function compareHolds(c: pb.Compare, kv: Kv | undefined): boolean {
  const actual = kv?.version ?? 0;
  const want = c.version ?? 0;
  switch (c.result ?? EQUAL) {
    case EQUAL:
      return actual === want;
    case GREATER:
      return actual > want;
    case LESS:
      return actual < want;
    case NOT_EQUAL:
      return actual !== want;
    default:
      throw new Error(`unexpected compare result ${c.result}`);
  }
}

/** The keys a range request covers in a state (sorted list of live keys). */
function inRangeKeys(state: Kv[], key: Buffer, rangeEnd?: Buffer): Kv[] {
  return state.filter((kv) => {
    const k = Buffer.from(kv.key, 'latin1');
    if (!rangeEnd || rangeEnd.length === 0) return Buffer.compare(k, key) === 0;
    return Buffer.compare(k, key) >= 0 && (rangeEnd.length === 1 && rangeEnd[0] === 0 ? true : Buffer.compare(k, rangeEnd) < 0);
  });
}

describe('watch checks over a recorded run (two replicas, one nats-server)', () => {
  let nats: NatsServer | undefined;
  let sa: StoreProcess | undefined;
  let sb: StoreProcess | undefined;
  const clients: StoreClient[] = [];
  const streams: WatchStream[] = [];

  beforeAll(async () => {
    nats = await startNats();
    sa = await startStore(nats.url, ['--name', 'wc-a', '--watch-progress-notify-interval', '500ms']);
    sb = await startStore(nats.url, ['--name', 'wc-b', '--watch-progress-notify-interval', '500ms']);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    for (const c of clients) c.close();
    await Promise.all([sa?.stop(), sb?.stop()]);
    await nats?.stop();
  });

  const client = (ep: string) => {
    const c = new StoreClient(ep, 20_000);
    clients.push(c);
    return c;
  };
  const stream = (ep: string) => {
    const s = new WatchStream(ep);
    streams.push(s);
    return s;
  };

  it('delivers ordered, unique, gap-free, atomic, resumable events with correct prev_kv', async () => {
    const eps = [sa!.endpoint, sb!.endpoint];
    const ca = client(eps[0]);
    const cb = client(eps[1]);
    const problems: string[] = [];
    let nextWatchId = 1;

    // ---- reference watchers, from revision 2, before anything is written ----
    const refStreams = eps.map((ep) => stream(ep));
    await Promise.all(refStreams.map((s) => s.create(1, { ...ALL_KEYS, startRevision: 2, prevKv: true })));

    // ---- watchers started now, sharing two streams ----
    const recorders: Recorder[] = [];
    const shared = [stream(eps[0]), stream(eps[1])];
    const startNow = async (spec: Spec, s: WatchStream, startRevision: number) => {
      const r = new Recorder(spec);
      const id = nextWatchId++;
      await s.create(id, createReq(spec, startRevision));
      r.sessions.push({ stream: s, id, start: startRevision });
      recorders.push(r);
      return r;
    };
    const head0 = await ca.head();
    await startNow({ name: 'prefix /w/a/ prev_kv (A)', key: '/w/a/', rangeEnd: prefixEnd('/w/a/'), prevKv: true }, shared[0], head0 + 1);
    await startNow({ name: `key ${HOT} prev_kv (B)`, key: HOT, prevKv: true }, shared[1], head0 + 1);
    await startNow({ name: 'prefix /w/ NOPUT (A)', key: '/w/', rangeEnd: prefixEnd('/w/'), prevKv: false, filters: [NOPUT] }, shared[0], head0 + 1);
    await startNow({ name: 'range [/w/c/1, /w/c/4) NODELETE (B)', key: '/w/c/1', rangeEnd: B('/w/c/4'), prevKv: false, filters: [NODELETE] }, shared[1], head0 + 1);
    await startNow({ name: 'from /w/b/ on, every key after it (B)', key: '/w/b/', rangeEnd: Buffer.from([0]), prevKv: true }, shared[1], head0 + 1);

    // ---- a lagging watcher: stopped before each compaction, resumed after it ----
    const lagging = await startNow({ name: 'lagging key /w/c/4 prev_kv, resumed across compactions', key: '/w/c/4', prevKv: true }, stream(eps[0]), head0 + 1);

    // ---- resumable watchers: each on its own streams, alternating replicas ----
    const resumables: Recorder[] = [
      new Recorder({ name: 'resumable prefix /w/ prev_kv', key: '/w/', rangeEnd: prefixEnd('/w/'), prevKv: true }),
      new Recorder({ name: 'resumable prefix /w/b/', key: '/w/b/', rangeEnd: prefixEnd('/w/b/'), prevKv: false }),
      new Recorder({ name: 'resumable key /w/c/2 prev_kv', key: '/w/c/2', prevKv: true }),
      new Recorder({ name: 'resumable prefix /w/l/ (leased keys) prev_kv', key: '/w/l/', rangeEnd: prefixEnd('/w/l/'), prevKv: true }),
    ];
    /** The compaction cancel of a session, if one arrived (created, then canceled with compact_revision). */
    const compactCancel = (x: Session) => x.stream.of(x.id).find((y) => !!y.r.canceled && (y.r.compactRevision ?? 0) > 0);
    const perReplica = new Map<Recorder, (WatchStream | undefined)[]>();
    const resume = async (r: Recorder, n: number) => {
      const last = r.sessions[r.sessions.length - 1];
      const mine = perReplica.get(r) ?? [undefined, undefined];
      perReplica.set(r, mine);
      if (last) {
        const cancel = compactCancel(last);
        if (cancel) last.compactRevision = cancel.r.compactRevision!;
        else if (n % 2 === 0) {
          // End the previous session with a cancel on its stream...
          const from = last.stream.responses.length;
          last.stream.send({ cancelRequest: { watchId: last.id } });
          await last.stream.waitFor((x) => x.watchId === last.id && !!x.canceled, `${r.spec.name}: cancel`, 30_000, from);
        } else {
          // ... or by closing the whole stream.
          last.stream.close();
          mine[mine.indexOf(last.stream)] = undefined;
        }
      }
      const start = last ? r.nextStart() : head0 + 1;
      const replica = n % 2;
      let s = mine[replica];
      if (!s || s.ended || s.error) mine[replica] = s = stream(eps[replica]);
      const id = nextWatchId++;
      await s.create(id, createReq(r.spec, start));
      r.sessions.push({ stream: s, id, start });
    };
    for (const r of resumables) await resume(r, 0);
    let resumeRound = 1;
    let stopResuming = false;
    const resumer = (async () => {
      while (!stopResuming) {
        await new Promise((res) => setTimeout(res, 250 + Math.random() * 250));
        if (stopResuming) break;
        for (const r of resumables) await resume(r, resumeRound);
        resumeRound++;
      }
    })();

    // ---- the workload ----
    const writes: Write[] = [];
    const errors: string[] = [];
    const leases: { id: number; granted: number; keys: Set<string>; revoked: boolean }[] = [];
    let opCount = 0;
    let seq = 0;
    const compactions: number[] = [];
    const rangesBefore: { rev: number; kvs: Kv[] }[] = [];
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
    const distinctKeys = (n: number) => {
      const out = new Set<string>();
      while (out.size < n) out.add(pick(KEYS));
      return [...out];
    };
    const worker = async (w: number) => {
      const cs = [client(eps[0]), client(eps[1])];
      while (opCount < TOTAL_OPS) {
        const n = ++opCount;
        const c = pick(cs);
        const value = () => `w${w}-${++seq}`;
        try {
          if (COMPACT_AT.includes(n)) {
            const head = await c.head();
            // Ranges at past revisions, before they go.
            for (let i = 0; i < 4; i++) {
              const rev = Math.max(2, (compactions[compactions.length - 1] ?? 2) + Math.floor(Math.random() * (head - (compactions[compactions.length - 1] ?? 2))));
              const r = await c.range({ ...ALL_KEYS, revision: rev });
              rangesBefore.push({ rev, kvs: (r.kvs ?? []).map(toKv) });
            }
            // A watcher from a past revision (before the compaction) on the other replica.
            const past = head - 40;
            if (past > 2) {
              const s = stream(eps[(w + 1) % 2]);
              await startNow({ name: `every key from past revision ${past}`, key: '/w/', rangeEnd: prefixEnd('/w/'), prevKv: true }, s, past);
            }
            const rev = head - 25;
            await c.compact({ revision: rev, physical: true });
            compactions.push(rev);
            // The lagging watcher resumes now, most likely below the compact revision: then it
            // must be cancelled with compact_revision, and restarts from there.
            const start = lagging.nextStart();
            const s = stream(eps[compactions.length % 2]);
            const id = nextWatchId++;
            await s.create(id, createReq(lagging.spec, start));
            lagging.sessions.push({ stream: s, id, start });
            await s.progressAtLeast(0);
            const cancel = s.of(id).find((x) => !!x.r.canceled);
            if (cancel) {
              lagging.sessions[lagging.sessions.length - 1].compactRevision = cancel.r.compactRevision ?? 0;
              const id2 = nextWatchId++;
              const start2 = lagging.nextStart();
              await s.create(id2, createReq(lagging.spec, start2));
              lagging.sessions.push({ stream: s, id: id2, start: start2 });
            }
            continue;
          }
          if (COMPACT_AT.some((x) => x - 60 === n)) {
            // The lagging watcher stops here (its stream closed) and resumes after the compaction.
            lagging.sessions[lagging.sessions.length - 1].stream.close();
          }
          const roll = Math.random();
          if (roll < 0.35) {
            const key = Math.random() < 0.3 ? HOT : pick(KEYS);
            const req: pb.PutRequest = { key: B(key), value: B(value()), prevKv: Math.random() < 0.5 };
            const res = await c.put(req);
            writes.push({ req: { put: req }, rev: res.header!.revision!, res });
          } else if (roll < 0.45) {
            const req: pb.DeleteRangeRequest = { key: B(pick(KEYS)), prevKv: true };
            const res = await c.deleteRange(req);
            writes.push({ req: { del: req }, rev: res.header!.revision!, res });
          } else if (roll < 0.5) {
            const req: pb.DeleteRangeRequest = Math.random() < 0.5 ? { key: B('/w/b/'), rangeEnd: prefixEnd('/w/b/'), prevKv: true } : { key: B('/w/c/0'), rangeEnd: B('/w/c/3') };
            const res = await c.deleteRange(req);
            writes.push({ req: { del: req }, rev: res.header!.revision!, res });
          } else if (roll < 0.75) {
            const [k1, k2, k3, k4, k5, kc] = distinctKeys(6);
            const req: pb.TxnRequest = {
              compare: [{ key: B(kc), target: VERSION, result: pick([EQUAL, GREATER, LESS, NOT_EQUAL]), version: Math.floor(Math.random() * 3) }],
              success: [{ requestPut: { key: B(k1), value: B(value()) } }, { requestPut: { key: B(k2), value: B(value()) } }, { requestDeleteRange: { key: B(k3) } }],
              failure: [{ requestPut: { key: B(k4), value: B(value()) } }, { requestRange: { key: B(k5) } }],
            };
            const res = await c.txn(req);
            writes.push({ req: { txn: req }, rev: res.header!.revision!, res });
          } else if (roll < 0.85) {
            // A single-key compare-and-swap on the hot key.
            const cur = (await c.range({ key: B(HOT) })).kvs?.[0];
            const req: pb.TxnRequest = {
              compare: [{ key: B(HOT), target: VERSION, result: EQUAL, version: cur?.version ?? 0 }],
              success: [{ requestPut: { key: B(HOT), value: B(value()) } }],
              failure: [{ requestRange: { key: B(HOT) } }],
            };
            const res = await c.txn(req);
            writes.push({ req: { txn: req }, rev: res.header!.revision!, res });
          } else {
            // Keys under short leases: a new lease every ~0.5 s; one in four revoked, the rest expire.
            let lease = leases[leases.length - 1];
            if (!lease || Date.now() - lease.granted > 500) {
              const g = await c.leaseGrant({ TTL: 2 });
              const old = lease;
              lease = { id: g.ID!, granted: Date.now(), keys: new Set(), revoked: false };
              leases.push(lease);
              if (old && leases.length % 4 === 0) {
                old.revoked = true;
                await c.leaseRevoke({ ID: old.id });
              }
            }
            const key = `/w/l/${Math.floor(Math.random() * 8)}`;
            const req: pb.PutRequest = { key: B(key), value: B(value()), lease: lease.id };
            try {
              const res = await c.put(req);
              lease.keys.add(key);
              writes.push({ req: { put: req }, rev: res.header!.revision!, res });
            } catch (e) {
              // The lease may have gone already (expired, or revoked by another worker).
              if (!/requested lease not found/.test(describeError(e).message)) throw e;
            }
          }
        } catch (e) {
          const d = describeError(e);
          errors.push(`op ${n}: ${d.code}: ${d.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    // Every lease expires (TTL 2 s) or was revoked: wait for the leased keys to go.
    await eventually(async () => ((await ca.range({ key: B('/w/l/'), rangeEnd: prefixEnd('/w/l/'), countOnly: true })).count ?? 0) === 0, 60_000, 'leased keys expired');
    stopResuming = true;
    await resumer;
    const head = Math.max(await ca.head(), await cb.head());

    // ---- everything delivered up to head ----
    const live = streams.filter((s) => !s.ended && !s.error && s.responses.length > 0);
    for (const s of [...refStreams, ...shared]) if (s.error || s.ended) problems.push(`stream on ${s.endpoint} ended: ${s.error?.message ?? 'end'}`);
    await Promise.all(live.map((s) => s.progressAtLeast(head).catch((e) => problems.push(`progress: ${(e as Error).message}`))));

    // ---- the reference ----
    const refs = refStreams.map((s) => s.events(1));
    for (const [i, s] of refStreams.entries()) problems.push(...responseProblems(s.of(1), `reference watcher ${i}`));
    const refText = refs[0].map((e) => text(e));
    const otherText = refs[1].map((e) => text(e));
    const at = refText.findIndex((t, j) => t !== otherText[j]);
    if (at >= 0 || refText.length !== otherText.length) problems.push(`the reference watchers differ at event ${at}: ${refText[at]} vs ${otherText[at]}`);
    const ref = refs[0].filter((e) => e.rev <= head);
    const replay = new Replay(ref);
    problems.push(...replay.problems);

    // Every acknowledged write. One that changed something (a put, a delete that deleted, a
    // txn whose branch put or deleted) did so at its header revision: that revision holds
    // exactly the changes the request implies on the state just before it, and the answer
    // (succeeded, deleted, prev_kv) agrees with that state. One that changed nothing was
    // evaluated at its header revision: its answer agrees with the state there.
    for (const w of writes) {
      const txnRes = w.req.txn ? (w.res as pb.TxnResponse) : undefined;
      const branch = w.req.txn ? ((txnRes!.succeeded ? w.req.txn.success : w.req.txn.failure) ?? []) : [];
      const changed = w.req.put
        ? true
        : w.req.del
          ? ((w.res as pb.DeleteRangeResponse).deleted ?? 0) > 0
          : branch.some((op, i) => !!op.requestPut || (!!op.requestDeleteRange && (txnRes!.responses?.[i]?.responseDeleteRange?.deleted ?? 0) > 0));
      const at = changed ? w.rev - 1 : w.rev;
      const keyAt = (key: string) => replay.keyAt(key, at);
      const state = replay.stateAt(at);
      const expect: string[] = [];
      const put = (p: pb.PutRequest) => expect.push(`put ${p.key!.toString()}=${p.value!.toString()} l${p.lease ?? 0}`);
      const del = (d: pb.DeleteRangeRequest) => {
        for (const kv of inRangeKeys(state, d.key!, d.rangeEnd)) expect.push(`delete ${kv.key}`);
      };
      let what = '';
      if (w.req.put) {
        put(w.req.put);
        what = `put ${w.req.put.key}`;
        const res = w.res as pb.PutResponse;
        if (w.req.put.prevKv && kvString(res.prevKv ? toKv(res.prevKv) : undefined) !== kvString(keyAt(w.req.put.key!.toString()))) {
          problems.push(`put ${w.req.put.key} at ${w.rev}: response prev_kv ${kvString(res.prevKv ? toKv(res.prevKv) : undefined)}, history ${kvString(keyAt(w.req.put.key!.toString()))}`);
        }
      } else if (w.req.del) {
        del(w.req.del);
        what = `delete ${w.req.del.key}${w.req.del.rangeEnd ? `..${w.req.del.rangeEnd}` : ''}`;
        const res = w.res as pb.DeleteRangeResponse;
        if ((res.deleted ?? 0) !== expect.length) problems.push(`${what} answered at ${w.rev}: deleted ${res.deleted}, the history ${changed ? 'before it' : 'there'} says ${expect.length}`);
        if (w.req.del.prevKv) {
          const got = (res.prevKvs ?? []).map((kv) => kvString(toKv(kv))).join('; ');
          const want = inRangeKeys(state, w.req.del.key!, w.req.del.rangeEnd).map(kvString).join('; ');
          if (got !== want) problems.push(`${what} at ${w.rev}: prev_kvs ${got}, history ${want}`);
        }
      } else if (w.req.txn) {
        const t = w.req.txn;
        what = `txn compare ${t.compare![0].key} version ${pb.Compare_CompareResult[t.compare![0].result ?? EQUAL]} ${t.compare![0].version ?? 0}`;
        const ok = t.compare!.every((c) => compareHolds(c, keyAt(c.key!.toString())));
        if (!!txnRes!.succeeded !== ok) problems.push(`${what} answered at ${w.rev}: succeeded=${!!txnRes!.succeeded}, the history ${changed ? 'before it' : 'there'} says ${ok}`);
        for (const op of ok ? (t.success ?? []) : (t.failure ?? [])) {
          if (op.requestPut) put(op.requestPut);
          if (op.requestDeleteRange) del(op.requestDeleteRange);
        }
        for (const [i, op] of branch.entries()) {
          const r = txnRes!.responses?.[i]?.responseRange;
          if (op.requestRange && r) {
            const want = inRangeKeys(state, op.requestRange.key!, op.requestRange.rangeEnd).map(kvString).join('; ');
            if ((r.kvs ?? []).map((kv) => kvString(toKv(kv))).join('; ') !== want && !changed) problems.push(`${what} at ${w.rev}: its range answered ${(r.kvs ?? []).map((kv) => kvString(toKv(kv)))}, history ${want}`);
          }
        }
      }
      if (!changed) {
        if (expect.length > 0) problems.push(`${what} answered at ${w.rev} changed nothing, but the state there implies [${expect.join(', ')}]`);
        continue;
      }
      const got = (replay.byRev.get(w.rev) ?? []).map((e) => (e.type === 'put' ? `put ${e.key}=${e.kv.value} l${e.kv.lease}` : `delete ${e.key}`));
      if ([...got].sort().join(', ') !== [...expect].sort().join(', ')) problems.push(`${what} acknowledged at ${w.rev}: history has [${got.join(', ')}], expected [${expect.join(', ')}]`);
    }
    // Ranges over every key at sampled revisions equal the replayed history.
    const lastCompact = compactions[compactions.length - 1] ?? 2;
    const samples = new Set<number>([lastCompact, lastCompact + 1, head]);
    while (samples.size < 20) samples.add(lastCompact + Math.floor(Math.random() * (head - lastCompact + 1)));
    const rangesAfter: { rev: number; kvs: Kv[]; replica: number }[] = [];
    for (const rev of samples) {
      for (const [i, c] of [ca, cb].entries()) rangesAfter.push({ rev, replica: i, kvs: ((await c.range({ ...ALL_KEYS, revision: rev })).kvs ?? []).map(toKv) });
    }
    for (const r of [...rangesBefore, ...rangesAfter]) {
      const want = replay.stateAt(r.rev).map(kvString).join('\n');
      if (r.kvs.map(kvString).join('\n') !== want) problems.push(`Range at ${r.rev}${'replica' in r ? ` on replica ${r.replica}` : ''} differs from the replayed history`);
    }
    for (const [i, c] of [ca, cb].entries()) {
      const e = await c.range({ ...ALL_KEYS, revision: lastCompact - 1 }).then(
        () => 'OK',
        (x) => describeError(x).message,
      );
      if (e !== 'etcdserver: mvcc: required revision has been compacted') problems.push(`Range below the compact revision on replica ${i}: ${e}`);
    }
    // Leases: every leased key was deleted (expiry or revocation), each lease's keys by deletes that name it.
    const final = replay.stateAt(head);
    if (final.some((kv) => kv.lease !== 0)) problems.push(`leased keys left at ${head}: ${final.filter((kv) => kv.lease).map(kvString).join(', ')}`);
    const leaseRevs = new Map<number, Set<number>>();
    for (const e of ref) {
      if (e.type === 'delete' && e.prev?.lease) {
        const set = leaseRevs.get(e.prev.lease) ?? new Set();
        set.add(e.rev);
        leaseRevs.set(e.prev.lease, set);
      }
    }

    // ---- every recorded watcher ----
    const compactCancels: string[] = [];
    const counts: string[] = [];
    const expectedFor = (spec: Spec, revs: (rev: number) => boolean) =>
      ref.filter((e) => revs(e.rev) && matches(spec, e)).map((e) => text(e, spec.prevKv));
    for (const r of [...recorders, ...resumables]) {
      const actual: HEvent[] = [];
      const covered: [number, number][] = [];
      for (const [i, s] of r.sessions.entries()) {
        problems.push(...responseProblems(s.stream.of(s.id), `${r.spec.name} session ${i}`));
        const evs = s.stream.events(s.id);
        actual.push(...evs);
        const lastRev = evs.length > 0 ? evs[evs.length - 1].rev : undefined;
        const next = r.sessions[i + 1];
        const cancel = compactCancel(s);
        if (cancel) {
          // Compacted: from its start, or while catching up. It covered up to its last event;
          // revisions below the compact revision after that are gone, legitimately.
          const c = cancel.r.compactRevision!;
          compactCancels.push(`${r.spec.name}: session from ${s.start} canceled with compact_revision ${c}${lastRev ? ` after events up to ${lastRev}` : ''}`);
          if (!((lastRev ?? s.start) < c)) problems.push(`${r.spec.name}: session from ${s.start} (last event ${lastRev}) canceled with compact_revision ${c}`);
          if (!compactions.includes(c)) problems.push(`${r.spec.name}: compact_revision ${c} is not a compaction of the run (${compactions.join(', ')})`);
          if (lastRev !== undefined) covered.push([s.start, lastRev]);
        } else {
          // A session covers from its start to where the next one starts (or head).
          covered.push([s.start, next ? next.start - 1 : head]);
        }
        if (next && next.start !== (lastRev !== undefined ? Math.max(lastRev + 1, cancel?.r.compactRevision ?? 0) : (cancel?.r.compactRevision ?? s.start))) {
          problems.push(`${r.spec.name}: session ${i + 1} started at ${next.start}, not right after session ${i}`);
        }
      }
      const inCovered = (rev: number) => covered.some(([a, b]) => rev >= a && rev <= b);
      const want = expectedFor(r.spec, inCovered);
      const got = actual.map((e) => text(e));
      counts.push(`${r.spec.name}: ${got.length}`);
      const diff = got.findIndex((g, i) => g !== want[i]);
      if (diff >= 0 || got.length !== want.length) {
        const i = diff >= 0 ? diff : Math.min(got.length, want.length);
        problems.push(`${r.spec.name}: event ${i} of ${got.length} (expected ${want.length}): got ${got[i] ?? '(nothing)'}, expected ${want[i] ?? '(nothing)'}`);
      }
      const seen = new Set<string>();
      for (const e of actual) {
        const k = `${e.rev} ${e.key}`;
        if (seen.has(k)) problems.push(`${r.spec.name}: ${eventString(e)} delivered twice`);
        seen.add(k);
      }
    }
    // Headers never go backwards on any stream (several watchers per stream).
    for (const s of streams) {
      let h = 0;
      for (const x of s.responses) {
        const rev = x.r.header?.revision ?? 0;
        if (rev < h) problems.push(`a stream on ${s.endpoint}: header revision ${rev} after ${h}`);
        h = Math.max(h, rev);
      }
    }

    // ---- resuming from any retained revision ----
    const starts = new Set<number>([lastCompact, lastCompact + 1, head, head + 1]);
    while (starts.size < 30) starts.add(lastCompact + Math.floor(Math.random() * (head - lastCompact + 1)));
    const probeStreams = eps.map((ep) => stream(ep));
    const probes: { s: WatchStream; id: number; start: number; spec: Spec }[] = [];
    let pid = 1;
    for (const start of starts) {
      for (const [i, s] of probeStreams.entries()) {
        const spec: Spec = i === 0 ? { name: 'all', ...ALL_KEYS, key: '\0', prevKv: true } : { name: '/w/a/', key: '/w/a/', rangeEnd: prefixEnd('/w/a/'), prevKv: false };
        const id = pid++;
        await s.create(id, { key: i === 0 ? ALL_KEYS.key : B('/w/a/'), rangeEnd: spec.rangeEnd, prevKv: spec.prevKv, startRevision: start });
        probes.push({ s, id, start, spec });
      }
    }
    const compactedIds: { s: WatchStream; id: number; start: number }[] = [];
    for (const [i, s] of probeStreams.entries()) {
      for (const start of [1, lastCompact - 1]) {
        const id = pid++;
        await s.create(id, { ...ALL_KEYS, startRevision: start });
        compactedIds.push({ s, id, start });
        void i;
      }
    }
    await Promise.all(probeStreams.map((s) => s.progressAtLeast(head)));
    for (const p of probes) {
      problems.push(...responseProblems(p.s.of(p.id), `watch from ${p.start} (${p.spec.name})`));
      const got = p.s.events(p.id).map((e) => text(e));
      const want = expectedFor(p.spec, (rev) => rev >= p.start);
      if (got.join('\n') !== want.join('\n')) {
        const i = got.findIndex((g, j) => g !== want[j]);
        problems.push(`watch from ${p.start} on ${p.s.endpoint} (${p.spec.name}): ${got.length} events, expected ${want.length}; first difference at ${i}: ${got[i]} vs ${want[i]}`);
      }
    }
    for (const c of compactedIds) {
      const cancel = await c.s.waitFor((x) => x.watchId === c.id && !!x.canceled, `watch from ${c.start} canceled`);
      if (cancel.r.compactRevision !== lastCompact) problems.push(`watch from ${c.start} on ${c.s.endpoint}: canceled with compact_revision ${cancel.r.compactRevision}, compact revision is ${lastCompact}`);
      if (c.s.events(c.id).length > 0) problems.push(`watch from ${c.start}: events despite the compaction`);
    }

    const dumpDir = process.env.K8TS_STORE_WATCHCHECK_DUMP;
    if (dumpDir && problems.length > 0) {
      // Diagnostics: the writes, both reference histories, the stores' logs, the problems.
      fs.mkdirSync(dumpDir, { recursive: true });
      const req = (w: Write) => JSON.stringify(w.req, (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString() : v));
      fs.writeFileSync(path.join(dumpDir, 'writes.txt'), writes.map((w) => `${w.rev} ${req(w)} -> ${JSON.stringify(w.res, (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString() : v))}`).join('\n'));
      for (const [i, r] of refs.entries()) fs.writeFileSync(path.join(dumpDir, `reference-${i}.txt`), r.map((e) => text(e)).join('\n'));
      fs.writeFileSync(path.join(dumpDir, 'store-a.log'), sa!.proc.logs());
      fs.writeFileSync(path.join(dumpDir, 'store-b.log'), sb!.proc.logs());
      fs.writeFileSync(path.join(dumpDir, 'problems.txt'), problems.join('\n'));
    }
    const multiRevLeases = [...leaseRevs.values()].filter((s) => s.size > 1).length;
    console.log(
      [
        `watch check: ${opCount} operations, ${writes.length} acknowledged writes, head ${head}, ${ref.length} events in ${replay.revisions.length} revisions`,
        `compactions at ${compactions.join(', ')}; ${leases.length} leases (${leases.filter((l) => l.revoked).length} revoked), keys of ${leaseRevs.size} deleted through them (${multiRevLeases} over more than one revision)`,
        `watchers: ${recorders.length} + ${resumables.length} resumable (${resumables.map((r) => r.sessions.length).join('/')} sessions), ${probes.length} resumption probes, ${streams.length} streams`,
        `events per watcher: ${counts.join('; ')}`,
        `resumptions below the compact revision: ${compactCancels.length ? compactCancels.join('; ') : 'none'}`,
        `errors: ${errors.length ? errors.slice(0, 10).join('; ') : 'none'}`,
      ].join('\n'),
    );
    expect(errors).toEqual([]);
    expect(problems.slice(0, 40)).toEqual([]);
    expect(compactions.length).toBe(2);
    expect(ref.length).toBeGreaterThan(300);
  });
});
