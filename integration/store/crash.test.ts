// Crash test of the store: three store replicas (--replicas 3) over a three-node NATS
// JetStream cluster, under concurrent writes from nine clients spread over the replicas
// (plain puts on register keys, compare-and-swap increments of counter keys: a Txn that
// compares mod_revision or version, then puts count+1). Every request and its outcome is
// recorded. During the run: kill -9 a store replica, kill -9 the NATS server leading the
// stream and restart it, start a fresh store replica that rebuilds from the stream under
// load, then kill -9 two of the three NATS servers (no quorum) while the clients keep going,
// and bring them back.
//
// Afterwards the history is read through a watch from revision 2 (with prev_kv) on every
// live replica, and checked:
//  - the replicas' histories are identical; revisions strictly increase (one change per
//    revision: every write is single-key); every revision's events come in one response;
//  - every acknowledged write appears exactly once, at the revision of its response header,
//    with its key and value; a compare-and-swap answered "compare failed" never appears;
//    an unacknowledged write (error, e.g. UNAVAILABLE after a timeout) appears at most once;
//    nothing appears that no client sent;
//  - acknowledged writes are ordered in real time: a write acknowledged before another was
//    sent has a lower revision;
//  - no compare-and-swap was won twice: every committed increment of a counter has
//    count = previous count + 1 and the previous state its compare named, no two increments
//    saw the same previous mod_revision, and the final count lies between the acknowledged
//    increments and the acknowledged plus ambiguous ones;
//  - the final Range on every replica equals the replayed history;
//  - with two of three NATS servers gone, no write answered in that window is a success:
//    writes fail with UNAVAILABLE and a message saying why; linearizable reads fail with
//    UNAVAILABLE too ("cannot confirm the latest revision"), serializable reads answer from
//    the replica's own state; once the servers are back, writes succeed on every replica.
// Nothing here asserts timings. K8TS_STORE_CRASH_DUMP=<dir> writes the run (requests and
// outcomes, every replica's history, the stream as each NATS server holds it, logs) there.
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { etcdserverpb as pb, storev1 } from '@k8ts/api';
import { MIN_NATS_SERVER, natsServerVersion, natsVersionOk } from '@k8ts/kit';
import { natsServerBinary, startNatsCluster } from '@k8ts/testkit';
import type { NatsCluster } from '@k8ts/testkit';
import { AckPolicy, connect, createInbox, DeliverPolicy, nanos } from 'nats';
import { eventually, startStore, StoreProcess } from './harness';
import { B, describeError, eventString, HEvent, kvString, prefixEnd, readHistory, Replay, responseProblems, StoreClient, toKv } from './history';

jest.setTimeout(240_000);

const REGISTERS = Array.from({ length: 8 }, (_, i) => `/crash/reg/${i}`);
const COUNTERS = Array.from({ length: 4 }, (_, i) => `/crash/ctr/${i}`);
const CLIENTS = 9;
const STORE_FLAGS = ['--replicas', '3', '--jetstream-timeout', '2s'];

/** One request of a client and its outcome. */
interface Op {
  client: number;
  kind: 'put' | 'cas';
  key: string;
  /** Unique per request: "c<client>-<seq>" for puts, "<count>|c<client>-<seq>" for increments. */
  value: string;
  endpoint: string;
  sentAt: number;
  doneAt: number;
  /** ok: answered with success; lost: a CAS answered "compare failed"; error: failed (ambiguous). */
  outcome: 'pending' | 'ok' | 'lost' | 'error';
  rev?: number;
  code?: string;
  message?: string;
  /** CAS: what the compare named, and the count it read. */
  target?: 'mod' | 'version';
  expected?: number;
  prevCount?: number;
}

const countOf = (value: string | undefined): number => (value === undefined ? 0 : Number(value.split('|')[0]));

/** Resolves once nothing listens on the port any more (the process is gone). */
async function portClosed(port: number): Promise<void> {
  await eventually(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.once('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.once('error', () => resolve(true));
      }),
    30_000,
    `port ${port} closed`,
  );
}

/** The name of the NATS server leading the store's stream (k8ts-n<i>), when known. */
async function streamLeader(urls: string[]): Promise<string | undefined> {
  try {
    const nc = await connect({ servers: urls, timeout: 3000, reconnect: false });
    try {
      const jsm = await nc.jetstreamManager({ timeout: 3000 });
      return (await jsm.streams.info('K8TS')).cluster?.leader;
    } finally {
      await nc.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * Diagnostics (K8TS_STORE_CRASH_DUMP=<dir>): the stream as each NATS server holds it, read
 * through R1 consumers placed on each server in turn: "seq subject writer#request key=value".
 */
async function streamCopies(urls: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const nc = await connect({ servers: urls, timeout: 3000 });
  try {
    const jsm = await nc.jetstreamManager({ timeout: 5000 });
    for (let attempt = 0; attempt < 20 && Object.keys(out).length < urls.length; attempt++) {
      const inbox = createInbox();
      const lines: string[] = [];
      let last = Date.now();
      const sub = nc.subscribe(inbox, {
        callback: (_e, m) => {
          last = Date.now();
          if (!m.reply?.startsWith('$JS.ACK.')) return;
          const t = m.reply.split('.');
          const seq = Number(t.length >= 12 ? t[7] : t[5]);
          let text = '';
          try {
            const e = storev1.Entry.decode(m.data);
            text = `${e.writer}#${e.requestId} basis ${e.guard?.basisRevision ?? '-'} ${(e.changes ?? []).map((c) => `${c.type === storev1.ChangeType.CHANGE_TYPE_DELETE ? 'del ' : ''}${Buffer.from(c.key ?? []).toString()}=${Buffer.from(c.value ?? []).toString()} v${c.version}`).join(', ')}`;
          } catch {
            text = '(not an Entry)';
          }
          lines.push(`${seq} ${m.subject} ${text}`);
        },
      });
      const info = await jsm.consumers.add('K8TS', {
        deliver_subject: inbox,
        deliver_policy: DeliverPolicy.All,
        ack_policy: AckPolicy.None,
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: nanos(10_000),
      });
      const host = info.cluster?.leader ?? '?';
      while (Date.now() - last < 1500) await new Promise((r) => setTimeout(r, 100));
      sub.unsubscribe();
      await jsm.consumers.delete('K8TS', info.name).catch(() => undefined);
      if (!out[host]) out[host] = lines;
    }
  } finally {
    await nc.close();
  }
  return out;
}

// nats-server 2.9.10 (Debian 12's) fails this test about every second run: kill -9 of the
// stream leader sometimes leaves the three copies of the stream different (a message
// duplicated on one server, every later sequence shifted), which the store cannot mask. 2.10
// and later do not; scripts/nats-server.sh (run by make setup) provides one, and the test
// refuses an older server up front rather than report its bug as the store's.
describe('store crash test: 3 replicas over a 3-node JetStream cluster', () => {
  let cluster: NatsCluster | undefined;
  const stores: StoreProcess[] = [];
  /** The endpoint clients of home replica i use (undefined while that replica is down). */
  const eps: (string | undefined)[] = [];
  const ops: Op[] = [];
  const readErrors = new Map<string, number>();
  const clients: StoreClient[] = [];
  let stopping = false;
  let workers: Promise<void>[] = [];

  beforeAll(async () => {
    const version = natsServerVersion(natsServerBinary());
    if (!version || !natsVersionOk(version)) {
      throw new Error(`${natsServerBinary()} is nats-server ${version ?? '(unknown)'}: the crash test needs ${MIN_NATS_SERVER} or later (run scripts/nats-server.sh)`);
    }
    cluster = await startNatsCluster(3);
    const urls = cluster.urls.join(',');
    for (let i = 0; i < 3; i++) {
      const s = await startStore(urls, [...STORE_FLAGS, '--name', `crash-${i}`]);
      stores.push(s);
      eps.push(s.endpoint);
    }
  });
  afterAll(async () => {
    stopping = true;
    await Promise.allSettled(workers);
    for (const c of clients) c.close();
    await Promise.all(stores.map((s) => s.stop()));
    await cluster?.stop();
  });

  const client = (endpoint: string): StoreClient => {
    const c = new StoreClient(endpoint, 10_000);
    clients.push(c);
    return c;
  };
  const acked = () => ops.reduce((n, o) => n + (o.outcome === 'ok' ? 1 : 0), 0);
  const progress = async (n: number, what: string, timeoutMs = 90_000) => {
    const target = acked() + n;
    await eventually(async () => acked() >= target, timeoutMs, what);
  };

  /** Records one write: `send` returns the revision (success) or undefined (CAS compare failed). */
  async function record(op: Op, send: () => Promise<{ rev?: number; lost?: boolean }>): Promise<Op> {
    ops.push(op);
    op.sentAt = performance.now();
    try {
      const r = await send();
      op.outcome = r.lost ? 'lost' : 'ok';
      op.rev = r.rev;
    } catch (e) {
      const d = describeError(e);
      op.outcome = 'error';
      op.code = d.code;
      op.message = d.message;
    }
    op.doneAt = performance.now();
    return op;
  }

  const newOp = (clientId: number, kind: Op['kind'], key: string, value: string, endpoint: string): Op => ({
    client: clientId,
    kind,
    key,
    value,
    endpoint,
    sentAt: 0,
    doneAt: 0,
    outcome: 'pending',
  });

  async function probePut(endpoint: string, key: string, value: string): Promise<Op> {
    const c = client(endpoint);
    try {
      return await record(newOp(-1, 'put', key, value, endpoint), async () => ({ rev: (await c.put({ key: B(key), value: B(value) })).header!.revision }));
    } finally {
      c.close();
    }
  }

  async function worker(id: number): Promise<void> {
    const conns = new Map<string, StoreClient>();
    const conn = (ep: string) => {
      let c = conns.get(ep);
      if (!c) conns.set(ep, (c = client(ep)));
      return c;
    };
    const counters = new Map<string, { count: number; mod: number; version: number }>();
    let seq = 0;
    while (!stopping) {
      let ep: string | undefined;
      for (let j = 0; j < 3 && !ep; j++) ep = eps[(id + j) % 3];
      const c = conn(ep!);
      seq++;
      if (Math.random() < 0.4) {
        const key = REGISTERS[Math.floor(Math.random() * REGISTERS.length)];
        const value = `c${id}-${seq}`;
        const op = await record(newOp(id, 'put', key, value, ep!), async () => ({ rev: (await c.put({ key: B(key), value: B(value) })).header!.revision }));
        if (op.outcome === 'error') await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const key = COUNTERS[Math.floor(Math.random() * COUNTERS.length)];
      let st = counters.get(key);
      if (!st) {
        try {
          const kv = (await c.range({ key: B(key) })).kvs?.[0];
          st = { count: countOf(kv?.value?.toString()), mod: kv?.modRevision ?? 0, version: kv?.version ?? 0 };
        } catch (e) {
          const d = describeError(e);
          const k = `${d.code}: ${d.message.slice(0, 80)}`;
          readErrors.set(k, (readErrors.get(k) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
      }
      const value = `${st.count + 1}|c${id}-${seq}`;
      const target: Op['target'] = Math.random() < 0.5 ? 'mod' : 'version';
      const cmp: pb.Compare =
        target === 'mod'
          ? { key: B(key), target: pb.Compare_CompareTarget.MOD, result: pb.Compare_CompareResult.EQUAL, modRevision: st.mod }
          : { key: B(key), target: pb.Compare_CompareTarget.VERSION, result: pb.Compare_CompareResult.EQUAL, version: st.version };
      const op = newOp(id, 'cas', key, value, ep!);
      op.target = target;
      op.expected = target === 'mod' ? st.mod : st.version;
      op.prevCount = st.count;
      const before = st;
      let current: typeof st | undefined;
      await record(op, async () => {
        const r = await c.txn({ compare: [cmp], success: [{ requestPut: { key: B(key), value: B(value) } }], failure: [{ requestRange: { key: B(key) } }] });
        if (r.succeeded) return { rev: r.header!.revision };
        const kv = r.responses?.[0]?.responseRange?.kvs?.[0];
        current = { count: countOf(kv?.value?.toString()), mod: kv?.modRevision ?? 0, version: kv?.version ?? 0 };
        return { lost: true };
      });
      if (op.outcome === 'ok') counters.set(key, { count: before.count + 1, mod: op.rev!, version: before.version + 1 });
      else if (op.outcome === 'lost') counters.set(key, current!);
      else {
        counters.delete(key);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  it('keeps every acknowledged write exactly once and never lets a compare-and-swap win twice, through crashes and a lost quorum', async () => {
    const nats = cluster!;
    const urls = nats.urls.join(',');
    const t0 = performance.now();
    const phase: string[] = [];
    const mark = (what: string) => phase.push(`${((performance.now() - t0) / 1000).toFixed(1)}s ${what} (acked ${acked()})`);

    workers = Array.from({ length: CLIENTS }, (_, i) => worker(i));
    await progress(300, 'acknowledged writes before the crashes');

    // 1. kill -9 a store replica in the middle of the writes.
    mark('kill -9 store replica crash-2');
    stores[2].proc.proc.kill('SIGKILL');
    await stores[2].proc.exited;
    eps[2] = undefined;
    await progress(200, 'acknowledged writes with a store replica down');

    // 2. kill -9 the NATS server leading the stream, write on, then restart it.
    const leader = await streamLeader(nats.urls);
    const victim = Math.max(0, nats.servers.findIndex((_, i) => leader === `k8ts-n${i}`));
    mark(`kill -9 NATS server k8ts-n${victim} (stream leader: ${leader ?? 'unknown'})`);
    nats.servers[victim].kill('SIGKILL');
    await portClosed(nats.servers[victim].port);
    await progress(200, 'acknowledged writes with one NATS server down');
    mark(`restart k8ts-n${victim}`);
    await nats.servers[victim].restart();

    // 3. A fresh replica rebuilds from the stream under load and takes crash-2's clients.
    const s3 = await startStore(urls, [...STORE_FLAGS, '--name', 'crash-3']);
    stores.push(s3);
    await eventually(async () => s3.proc.logs().includes('"msg":"ready"'), 60_000, 'crash-3 ready');
    eps[2] = s3.endpoint;
    mark('crash-3 ready');
    await progress(200, 'acknowledged writes after the restart');

    // 4. Two of three NATS servers gone: no quorum.
    const leader2 = await streamLeader(nats.urls);
    const first = Math.max(0, nats.servers.findIndex((_, i) => leader2 === `k8ts-n${i}`));
    const gone = [first, (first + 1) % 3];
    mark(`kill -9 NATS servers ${gone.map((i) => `k8ts-n${i}`).join(', ')}`);
    for (const i of gone) nats.servers[i].kill('SIGKILL');
    await Promise.all(gone.map((i) => portClosed(nats.servers[i].port)));
    const outageStart = performance.now();
    const live = [stores[0].endpoint, stores[1].endpoint, s3.endpoint];
    const outageProbes: Op[] = [];
    const reads: string[] = [];
    for (const [i, ep] of live.entries()) {
      outageProbes.push(await probePut(ep, `/crash/probe/outage-${i}`, `outage-${i}`));
      const c = client(ep);
      const lin = await c.range({ key: B(REGISTERS[0]) }).then(
        () => 'OK',
        (e) => `${describeError(e).code}: ${describeError(e).message}`,
      );
      const ser = await c.range({ key: B(REGISTERS[0]), serializable: true }).then(
        (r) => `OK (${r.kvs?.length ?? 0} kv at revision ${r.header!.revision})`,
        (e) => `${describeError(e).code}: ${describeError(e).message}`,
      );
      c.close();
      reads.push(`replica ${i}: linearizable get -> ${lin}; serializable get -> ${ser}`);
    }
    // Let the clients run into the outage too: wait until each replica answered one of them.
    await eventually(
      async () => live.every((ep) => ops.some((o) => o.client >= 0 && o.endpoint === ep && o.sentAt >= outageStart && o.outcome !== 'pending')),
      60_000,
      'client writes answered during the outage',
    );
    const outageEnd = performance.now();
    mark('restart both');
    await Promise.all(gone.map((i) => nats.servers[i].restart()));

    // 5. Writes succeed again on every replica.
    for (const [i, ep] of live.entries()) {
      let n = 0;
      await eventually(async () => (await probePut(ep, `/crash/probe/back-${i}`, `back-${i}-${n++}`)).outcome === 'ok', 120_000, `writes on replica ${i} after the quorum is back`);
    }
    mark('writes succeed on every replica');
    await progress(200, 'acknowledged client writes after the quorum is back');
    stopping = true;
    await Promise.all(workers);
    mark('clients stopped');

    // ---- the history, from every live replica ----
    // Linearizable reads one after the other: none may see an older revision than an earlier one.
    const problems: string[] = [];
    const heads: number[] = [];
    for (const [i, ep] of live.entries()) {
      const h = await client(ep)
        .head()
        .catch((e) => {
          problems.push(`replica ${i}: linearizable read after the run failed: ${describeError(e).message}`);
          return 0;
        });
      if (heads.length > 0 && h > 0 && h < Math.max(...heads)) problems.push(`replica ${i}: a linearizable read after the run answered revision ${h}, after another replica answered ${Math.max(...heads)}`);
      heads.push(h);
    }
    const head = Math.max(...heads);
    const histories = await Promise.all(
      live.map((ep, i) =>
        readHistory(ep, heads[i] || head, 2, 30_000).catch((e) => {
          problems.push(`replica ${i}: history not read: ${(e as Error).message}`);
          return undefined;
        }),
      ),
    );
    mark(`history read (head ${head})`);
    for (const [i, h] of histories.entries()) if (h) problems.push(...responseProblems(h.responses, `history watch on replica ${i}`));
    // The reference: the longest history read (replica 0's when they agree).
    const refIndex = histories.reduce((best, h, i) => (h && (!histories[best] || h.events.length > histories[best]!.events.length) ? i : best), 0);
    const ref = histories[refIndex]?.events ?? [];
    const refText = ref.map((e) => `${eventString(e)} prev ${kvString(e.prev)}`);
    for (const [i, h] of histories.entries()) {
      if (!h || i === refIndex) continue;
      const text = h.events.map((e) => `${eventString(e)} prev ${kvString(e.prev)}`);
      const at = text.findIndex((t, j) => t !== refText[j]);
      if (at >= 0 || text.length !== refText.length) {
        const j = at >= 0 ? at : text.length;
        problems.push(`replica ${i}'s history (${text.length} events) differs from replica ${refIndex}'s (${refText.length}) at event ${j}: ${text[j] ?? '(end)'} vs ${refText[j] ?? '(end)'}`);
      }
    }
    const replay = new Replay(ref);
    problems.push(...replay.problems);
    for (const [rev, evs] of replay.byRev) if (evs.length !== 1) problems.push(`revision ${rev} has ${evs.length} changes; every write was single-key`);

    // Every acknowledged write exactly once at its revision; nothing unsent.
    const byValue = new Map<string, HEvent[]>();
    for (const e of ref) {
      if (e.type !== 'put') {
        problems.push(`unexpected ${eventString(e)}: no client deleted anything`);
        continue;
      }
      const list = byValue.get(e.kv.value) ?? [];
      list.push(e);
      byValue.set(e.kv.value, list);
    }
    const sent = new Map(ops.map((o) => [o.value, o]));
    for (const [value, evs] of byValue) {
      if (!sent.has(value)) problems.push(`${eventString(evs[0])}: no client sent this value`);
      if (evs.length > 1) problems.push(`value ${value} appears ${evs.length} times: ${evs.map(eventString).join(', ')}`);
    }
    let ambiguousCommitted = 0;
    let ambiguousAbsent = 0;
    for (const o of ops) {
      const evs = byValue.get(o.value) ?? [];
      const e = evs[0];
      if (o.outcome === 'ok') {
        if (!e) problems.push(`acknowledged ${o.kind} ${o.key}=${o.value} at revision ${o.rev} is not in the history`);
        else if (e.rev !== o.rev || e.key !== o.key) problems.push(`acknowledged ${o.kind} ${o.key}=${o.value} at revision ${o.rev} is in the history as ${eventString(e)}`);
      } else if (o.outcome === 'lost') {
        if (e) problems.push(`a compare-and-swap answered "compare failed" was applied: ${eventString(e)}`);
      } else if (o.outcome === 'error') {
        if (e) ambiguousCommitted++;
        else ambiguousAbsent++;
        const m = /committed at revision (\d+)/.exec(o.message ?? '');
        if (m && e && e.rev !== Number(m[1])) problems.push(`${o.value}: the error said "committed at revision ${m[1]}", the history has ${eventString(e)}`);
        if (e && e.key !== o.key) problems.push(`${o.value} sent for ${o.key} appears as ${eventString(e)}`);
      } else problems.push(`request ${o.value} never finished`);
    }

    // Real-time order of acknowledged writes.
    const ackedOps = ops.filter((o) => o.outcome === 'ok' && o.rev !== undefined).sort((a, b) => a.doneAt - b.doneAt);
    const prefixMax: { at: number; rev: number; value: string }[] = [];
    for (const o of ackedOps) {
      const prev = prefixMax[prefixMax.length - 1];
      prefixMax.push(prev && prev.rev > o.rev! ? { ...prev, at: o.doneAt } : { at: o.doneAt, rev: o.rev!, value: o.value });
    }
    for (const o of ackedOps) {
      let lo = 0;
      let hi = prefixMax.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (prefixMax[mid].at < o.sentAt) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (found >= 0 && prefixMax[found].rev >= o.rev!) {
        problems.push(`${o.value} (sent after ${prefixMax[found].value} at revision ${prefixMax[found].rev} was acknowledged) got revision ${o.rev}`);
      }
    }

    // No compare-and-swap won twice.
    const counterSummary: string[] = [];
    for (const key of COUNTERS) {
      const evs = ref.filter((e) => e.key === key);
      const prevMods = new Set<number>();
      for (const e of evs) {
        const prevCount = countOf(e.prev?.value);
        if (countOf(e.kv.value) !== prevCount + 1) problems.push(`${eventString(e)}: count after ${kvString(e.prev)} (a compare-and-swap won twice?)`);
        const pm = e.prev?.mod ?? 0;
        if (prevMods.has(pm)) problems.push(`${eventString(e)}: a second increment over mod_revision ${pm}`);
        prevMods.add(pm);
        const o = sent.get(e.kv.value);
        if (o?.kind === 'cas') {
          const actual = o.target === 'mod' ? pm : (e.prev?.version ?? 0);
          if (actual !== o.expected || prevCount !== o.prevCount) {
            problems.push(`${eventString(e)} compared ${o.target} = ${o.expected} (count ${o.prevCount}) but replaced ${kvString(e.prev)}`);
          }
        }
      }
      const final = countOf(evs[evs.length - 1]?.kv.value);
      const casOps = ops.filter((o) => o.kind === 'cas' && o.key === key);
      const won = casOps.filter((o) => o.outcome === 'ok').length;
      const ambiguous = casOps.filter((o) => o.outcome === 'error').length;
      if (final !== evs.length) problems.push(`${key}: final count ${final} after ${evs.length} increments`);
      if (final < won || final > won + ambiguous) problems.push(`${key}: final count ${final}, acknowledged increments ${won}, ambiguous ${ambiguous}`);
      counterSummary.push(`${key}=${final} (acked ${won}, lost ${casOps.filter((o) => o.outcome === 'lost').length}, ambiguous ${ambiguous})`);
    }

    // The final state on every replica equals the replayed history.
    const expectState = replay
      .stateAt(head)
      .map(kvString)
      .join('\n');
    for (const [i, ep] of live.entries()) {
      const r = await client(ep)
        .range({ key: B('/crash/'), rangeEnd: prefixEnd('/crash/'), revision: head })
        .catch((e) => {
          problems.push(`replica ${i}: Range at ${head} failed: ${describeError(e).message}`);
          return undefined;
        });
      if (!r) continue;
      const got = (r.kvs ?? []).map((kv) => kvString(toKv(kv)));
      if (got.join('\n') !== expectState) problems.push(`replica ${i}: Range at ${head} differs from the replayed history`);
    }

    // The outage: nothing answered in it was a success; the errors say why.
    const inOutage = ops.filter((o) => o.sentAt >= outageStart && o.doneAt <= outageEnd);
    const outageMessages = new Map<string, number>();
    for (const o of inOutage) {
      const k = o.outcome === 'error' ? `${o.code}: ${o.message!.replace(/\d+ ms/, 'N ms')}` : o.outcome;
      outageMessages.set(k, (outageMessages.get(k) ?? 0) + 1);
      if (o.outcome === 'ok') problems.push(`${o.kind} ${o.key}=${o.value} succeeded at revision ${o.rev} while two of three NATS servers were down`);
      if (o.outcome === 'error' && (o.code !== 'UNAVAILABLE' || !/^store: /.test(o.message ?? ''))) problems.push(`a write during the outage failed with ${o.code}: ${o.message}`);
    }
    for (const p of outageProbes) {
      if (p.outcome !== 'error' || p.code !== 'UNAVAILABLE' || !/^store: write not acknowledged: /.test(p.message ?? '')) {
        problems.push(`probe ${p.key} during the outage: ${p.outcome} ${p.code ?? ''} ${p.message ?? ''}`);
      }
    }
    for (const line of reads) {
      if (!/linearizable get -> UNAVAILABLE: store: cannot confirm the latest revision/.test(line) || !/serializable get -> OK/.test(line)) problems.push(`reads during the outage: ${line}`);
    }

    const outcomes = new Map<string, number>();
    for (const o of ops) {
      const k = o.outcome === 'error' ? `error ${o.code}: ${o.message!.replace(/\d+/g, 'N').slice(0, 110)}` : o.outcome;
      outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    }
    console.log(
      [
        `crash run: ${ops.length} writes, ${acked()} acknowledged, head revision ${head}, ${ref.length} changes in the history`,
        `ambiguous writes: ${ambiguousCommitted} committed, ${ambiguousAbsent} not`,
        ...phase.map((p) => `  ${p}`),
        'outcomes:',
        ...[...outcomes].map(([k, n]) => `  ${n}  ${k}`),
        `writes sent and answered during the outage (${inOutage.length}):`,
        ...[...outageMessages].map(([k, n]) => `  ${n}  ${k}`),
        'reads during the outage:',
        ...reads.map((r) => `  ${r}`),
        `read errors of the clients: ${[...readErrors].map(([k, n]) => `${n}x ${k}`).join('; ') || 'none'}`,
        `counters: ${counterSummary.join(', ')}`,
      ].join('\n'),
    );

    const dumpDir = process.env.K8TS_STORE_CRASH_DUMP;
    if (dumpDir) {
      fs.mkdirSync(dumpDir, { recursive: true });
      fs.writeFileSync(path.join(dumpDir, 'ops.json'), JSON.stringify(ops, null, 1));
      for (const [i, h] of histories.entries()) fs.writeFileSync(path.join(dumpDir, `history-${i}.txt`), (h?.events ?? []).map((e) => `${eventString(e)} prev ${kvString(e.prev)}`).join('\n'));
      for (const [i, st] of stores.entries()) fs.writeFileSync(path.join(dumpDir, `store-${i}.log`), st.proc.logs());
      for (const [i, sv] of nats.servers.entries()) fs.writeFileSync(path.join(dumpDir, `nats-${i}.log`), sv.logs());
      for (const [host, lines] of Object.entries(await streamCopies(nats.urls))) fs.writeFileSync(path.join(dumpDir, `stream-${host}.txt`), lines.join('\n'));
      fs.writeFileSync(path.join(dumpDir, 'problems.txt'), problems.join('\n'));
    }

    // Grouped by kind, at most 5 examples each, so that a failure reads as a summary.
    const groups = new Map<string, string[]>();
    for (const p of problems) {
      const kind = p.replace(/[@"]?[\d]+[\w-]*|"[^"]*"|\S*\/crash\/\S*/g, '#').slice(0, 60);
      const list = groups.get(kind) ?? [];
      list.push(p);
      groups.set(kind, list);
    }
    const summary = [...groups.values()].map((list) => `${list.length} x ${list[0]}${list.length > 1 ? `\n      e.g. also ${list.slice(1, 5).join('\n           ')}` : ''}`);
    expect(summary).toEqual([]);
    expect(inOutage.length).toBeGreaterThan(0);
    expect(ackedOps.filter((o) => o.sentAt > outageEnd).length).toBeGreaterThan(0);
    expect(ops.filter((o) => o.kind === 'cas' && o.outcome === 'ok').length).toBeGreaterThan(0);
    expect(ops.filter((o) => o.kind === 'cas' && o.outcome === 'lost').length).toBeGreaterThan(0);
  });
});
