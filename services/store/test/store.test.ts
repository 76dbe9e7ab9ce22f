// The store over the in-memory backend: the same Store class as in production, with a
// MemoryLog standing in for the JetStream stream (same compare-and-swap rules).
import { etcdserverpb as pb, storev1 } from '@k8ts/api';
import pino from 'pino';
import { MemoryBackend, MemoryLog } from '../src/memory';
import { Store } from '../src/store';
import { keySubject, txnSubject } from '@k8ts/machinery';

const B = (s: string) => Buffer.from(s);
const logger = pino({ level: 'silent' });
const stores: Store[] = [];

async function replica(log: MemoryLog, name: string, extra: Partial<ConstructorParameters<typeof Store>[0]> = {}): Promise<{ store: Store; backend: MemoryBackend }> {
  const backend = new MemoryBackend(log);
  const store = new Store({ backend, subjectPrefix: 'k8ts', name, logger, compactionWindowMs: 0, leaseCheckIntervalMs: 50, leaseSweepIntervalMs: 100, ...extra });
  await store.start();
  stores.push(store);
  return { store, backend };
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const putReq = (key: string, value: string, o: Partial<pb.PutRequest> = {}): pb.TxnRequest => ({ success: [{ requestPut: { key: B(key), value: B(value), ...o } }] });
const get = async (s: Store, key: string, o: Partial<pb.RangeRequest> = {}) => (await s.range({ key: B(key), ...o })).kvs ?? [];

describe('store on the in-memory log', () => {
  it('writes and reads with etcd revisions (first write is revision 2)', async () => {
    const log = new MemoryLog();
    const { store } = await replica(log, 'a');
    expect(store.index.rev).toBe(1);
    const r1 = await store.txn(putReq('/a', '1'));
    expect(r1.header!.revision).toBe(2);
    const r2 = await store.txn(putReq('/a', '2', { prevKv: true }));
    expect(r2.header!.revision).toBe(3);
    expect(r2.responses![0].responsePut!.prevKv!.value!.toString()).toBe('1');
    const kv = (await get(store, '/a'))[0];
    expect([kv.createRevision, kv.modRevision, kv.version, kv.value!.toString()]).toEqual([2, 3, 2, '2']);
    // deleting nothing does not consume a revision
    const d = await store.txn({ success: [{ requestDeleteRange: { key: B('/none') } }] });
    expect(d.header!.revision).toBe(3);
    expect(log.lastSeq).toBe(3);
  });

  it('answers ranges with limit, count and more', async () => {
    const { store } = await replica(new MemoryLog(), 'a');
    for (let i = 0; i < 5; i++) await store.txn(putReq(`/p/${i}`, `${i}`));
    const r = await store.range({ key: B('/p/'), rangeEnd: B('/p0'), limit: 2 });
    expect(r.kvs!.map((k) => k.key!.toString())).toEqual(['/p/0', '/p/1']);
    expect([r.more, r.count]).toEqual([true, 5]);
    const c = await store.range({ key: B('/p/'), rangeEnd: B('/p0'), countOnly: true });
    expect([c.kvs, c.count]).toEqual([[], 5]);
    const d = await store.range({ key: B('/p/'), rangeEnd: B('/p0'), sortOrder: pb.RangeRequest_SortOrder.DESCEND, limit: 1, keysOnly: true });
    expect(d.kvs!.map((k) => [k.key!.toString(), k.value])).toEqual([['/p/4', undefined]]);
  });

  it('two replicas incrementing one counter with compare mod_revision never both win', async () => {
    const log = new MemoryLog();
    const a = (await replica(log, 'a')).store;
    const b = (await replica(log, 'b')).store;
    await a.txn(putReq('/counter', '0'));
    let wins = 0;
    const client = async (s: Store) => {
      for (let i = 0; i < 15; i++) {
        const kv = (await get(s, '/counter'))[0];
        const next = String(Number(kv.value!.toString()) + 1);
        const r = await s.txn({
          compare: [{ key: B('/counter'), target: pb.Compare_CompareTarget.MOD, result: pb.Compare_CompareResult.EQUAL, modRevision: kv.modRevision }],
          success: [{ requestPut: { key: B('/counter'), value: B(next) } }],
        });
        if (r.succeeded) wins++;
      }
    };
    await Promise.all([client(a), client(b), client(a), client(b)]);
    await b.barrier();
    const final = Number((await get(b, '/counter'))[0].value!.toString());
    expect(final).toBe(wins);
    expect(wins).toBeGreaterThan(0);
    expect((await get(a, '/counter'))[0].modRevision).toBe((await get(b, '/counter'))[0].modRevision);
  });

  it('a lagging replica\'s single-key write racing a multi-key txn becomes void and is retried', async () => {
    const log = new MemoryLog();
    const a = (await replica(log, 'a')).store;
    const rb = await replica(log, 'b');
    const b = rb.store;
    await a.txn(putReq('/k', 'v1'));
    await b.barrier();
    rb.backend.paused = true;
    // A deletes /k and writes /other in one multi-key txn; B has not seen it.
    await a.txn({ success: [{ requestDeleteRange: { key: B('/k') } }, { requestPut: { key: B('/other'), value: B('o') } }] });
    // B: "update /k if it is still at its version" (Kubernetes' GuaranteedUpdate).
    const kv = (await get(b, '/k', { serializable: true }))[0];
    expect(kv.value!.toString()).toBe('v1');
    const pending = b.txn({
      compare: [{ key: B('/k'), target: pb.Compare_CompareTarget.MOD, result: pb.Compare_CompareResult.EQUAL, modRevision: kv.modRevision }],
      success: [{ requestPut: { key: B('/k'), value: B('v2') } }],
      failure: [{ requestRange: { key: B('/k') } }],
    });
    setTimeout(() => rb.backend.resume(), 20);
    const r = await pending;
    // The compare no longer holds: /k was deleted by A's txn.
    expect(r.succeeded).toBe(false);
    expect(r.responses![0].responseRange!.kvs).toEqual([]);
    // The log holds B's first attempt as a void entry; both replicas agree it had no effect.
    const voidSeq = [...log.messages.values()].find((m) => m.subject === keySubject('k8ts', B('/k')) && m.seq > 3)!.seq;
    expect(b.index.isVoid(voidSeq)).toBe(true);
    await a.barrier();
    expect(a.index.isVoid(voidSeq)).toBe(true);
    expect(await get(a, '/k')).toEqual([]);
    expect(await get(b, '/k')).toEqual([]);
  });

  it('fails writes with UNAVAILABLE when the log has no quorum, and recovers', async () => {
    const log = new MemoryLog();
    const { store } = await replica(log, 'a');
    log.available = false;
    await expect(store.txn(putReq('/x', '1'))).rejects.toMatchObject({ code: 14 });
    await expect(store.range({ key: B('/x') })).rejects.toMatchObject({ code: 14 });
    expect((await store.range({ key: B('/x'), serializable: true })).kvs).toEqual([]);
    log.available = true;
    expect((await store.txn(putReq('/x', '1'))).header!.revision).toBe(2);
  });

  it('refuses entries larger than the log\'s max payload with a clear error', async () => {
    const log = new MemoryLog();
    const backend = new MemoryBackend(log, 4096);
    const store = new Store({ backend, subjectPrefix: 'k8ts', name: 'a', logger, compactionWindowMs: 0 });
    await store.start();
    stores.push(store);
    await expect(store.txn(putReq('/big', 'x'.repeat(5000)))).rejects.toMatchObject({
      code: 3,
      details: expect.stringMatching(/^etcdserver: request is too large \(the log entry would be \d+ bytes; the NATS max payload is 4096 bytes\)/),
    });
  });

  it('expires leases and deletes their keys exactly once with two replicas', async () => {
    const log = new MemoryLog();
    const a = (await replica(log, 'a')).store;
    const b = (await replica(log, 'b')).store;
    let now = Date.now();
    (a.lessor as unknown as { now: () => number }).now = () => now;
    (b.lessor as unknown as { now: () => number }).now = () => now;
    const { id, ttl } = await a.lessor.grant(1, 0);
    expect(ttl).toBe(2);
    await a.txn(putReq('/l1', 'x', { lease: id }));
    await a.txn(putReq('/l2', 'x', { lease: id }));
    await b.barrier();
    expect(b.index.keysOfLease(id)).toEqual(['/l1', '/l2']);
    await expect(b.txn(putReq('/l3', 'x', { lease: 12345 }))).rejects.toMatchObject({ code: 5 });
    now += 3000;
    for (let i = 0; i < 100 && (a.index.keysOfLease(id).length > 0 || b.index.keysOfLease(id).length > 0); i++) {
      await new Promise((r) => setTimeout(r, 20));
      await a.barrier();
      await b.barrier();
    }
    expect(a.index.keysOfLease(id)).toEqual([]);
    expect(await get(b, '/l1')).toEqual([]);
    // one deletion revision for both keys
    const deletes = [...log.messages.values()].filter((m) => m.subject === txnSubject('k8ts'));
    expect(deletes.length).toBe(1);
    expect(await a.lessor.timeToLive(id)).toBeUndefined();
  });

  it('revokes a lease with its keys; revoking an unknown lease is NOT_FOUND', async () => {
    const { store } = await replica(new MemoryLog(), 'a');
    const { id } = await store.lessor.grant(100, 0);
    await store.txn(putReq('/r', 'x', { lease: id }));
    expect((await store.lessor.timeToLive(id))!.granted).toBe(100);
    const rev = await store.lessor.revoke(id);
    expect(rev).toBe(3);
    expect(await get(store, '/r')).toEqual([]);
    await expect(store.lessor.revoke(id)).rejects.toMatchObject({ code: 5, details: 'etcdserver: requested lease not found' });
    await expect(store.lessor.grant(10, 77)).resolves.toEqual({ id: 77, ttl: 10 });
    await expect(store.lessor.grant(10, 77)).rejects.toMatchObject({ details: 'etcdserver: lease already exists' });
  });

  it('never answers OK for a write this replica skipped when following the log', async () => {
    const log = new MemoryLog();
    const ra = await replica(log, 'a');
    const a = ra.store;
    await a.txn(putReq('/k', '1'));
    const skipped = log.lastSeq + 1;
    ra.backend.skip = (seq) => seq === skipped;
    const w = a.txn(putReq('/k', '2'));
    // Another write lands after it, so the replica's revision moves past the skipped one.
    const other = (await replica(log, 'b')).store;
    const later = other.txn(putReq('/other', 'x'));
    await expect(w).rejects.toMatchObject({ code: 14 });
    await later;
  });

  it('voids, on every replica and after a purge, a single-key entry whose key changed after its basis', async () => {
    const log = new MemoryLog();
    const ra = await replica(log, 'a', { guardWindow: 10 });
    const a = ra.store;
    for (let i = 0; i < 20; i++) await a.txn(putReq('/f', `${i}`));
    const basis = a.index.rev;
    await a.txn(putReq('/k', 'won')); // changes /k after basis (on its own subject)
    for (let i = 0; i < 3; i++) await a.txn(putReq('/f', `x${i}`));
    // A racing writer that evaluated at basis and got past JetStream's subject check.
    const entry = storev1.Entry.encode({ guard: { basisRevision: basis }, changes: [{ type: storev1.ChangeType.CHANGE_TYPE_PUT, key: B('/k'), value: B('lost') }] }).finish();
    const seq = await ra.backend.append(keySubject('k8ts', B('/k')), entry, {});
    await a.barrier();
    expect(a.index.isVoid(seq)).toBe(true);
    await a.txn(putReq('/k', 'later'));
    await a.compact(seq, true);
    const b = (await replica(log, 'b')).store;
    expect(b.index.rev).toBe(a.index.rev);
    expect(b.index.isVoid(seq)).toBe(a.index.isVoid(seq));
    const all = { key: B('\0'), rangeEnd: B('\0') };
    expect((await b.range(all)).kvs).toEqual((await a.range(all)).kvs);
    expect((await b.range({ key: B('/k'), revision: seq })).kvs?.[0]?.value?.toString()).toBe('won');
  });

  it.each([
    [7, 10_000],
    [11, 10_000],
    [23, 10_000],
    [42, 10_000],
    [99, 10_000],
    [7, 15],
    [11, 15],
    [23, 20],
    [42, 20],
    [99, 30],
  ])('compacts (seed %i, guard window %i): old revisions fail, and a replica rebuilt from the purged log has the same history from the compact revision on', async (seed0, guardWindow) => {
    const log = new MemoryLog();
    const ra = await replica(log, 'a', { guardWindow });
    const a = ra.store;
    let seed = seed0;
    const rnd = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    const keys = ['/a', '/b', '/c', '/d', '/e', '/f'];
    const work = async (n: number, tag: string) => {
      for (let i = 0; i < n; i++) {
        const k = keys[rnd(keys.length)];
        const op = rnd(10);
        if (op < 5) await a.txn(putReq(k, `${tag}${i}`));
        else if (op < 7) await a.txn({ success: [{ requestDeleteRange: { key: B(k) } }] });
        else if (op < 8) {
          // A void entry: a single-key put whose basis predates a multi-key change of its key.
          const basis = a.index.rev;
          await a.txn({ success: [{ requestPut: { key: B(k), value: B('txn') } }, { requestPut: { key: B('/z'), value: B(`${i}`) } }] });
          const entry = storev1.Entry.encode({ guard: { basisRevision: basis }, changes: [{ type: storev1.ChangeType.CHANGE_TYPE_PUT, key: B(k), value: B('stale') }] }).finish();
          await ra.backend.append(keySubject('k8ts', B(k)), entry, {});
          await a.barrier();
        } else {
          const other = keys[(keys.indexOf(k) + 1 + rnd(3)) % keys.length];
          await a.txn({ success: [{ requestPut: { key: B(k), value: B(`t${i}`) } }, { requestDeleteRange: { key: B(other) } }] });
        }
      }
    };
    const all = { key: B('\0'), rangeEnd: B('\0') };
    const events = (s: Store, from: number) =>
      s.index.eventsBetween(from).map((r) => [r.rev, r.events.map((e) => [e.type, e.kv.keyStr, e.kv.value.toString(), e.kv.create, e.kv.version, e.prev?.mod])]);
    await work(150, 'v');
    const c1 = a.index.rev - 40;
    await a.compact(c1, true);
    await work(100, 'w');
    const c2 = a.index.rev - 25;
    const before = log.messages.size;
    await a.compact(c2, true);
    expect(log.messages.size).toBeLessThan(before);
    await expect(a.range({ key: B('/a'), revision: c2 - 1 })).rejects.toMatchObject({ code: 11 });
    // Rebuild from what is left.
    const b = (await replica(log, 'b')).store;
    expect(b.index.rev).toBe(a.index.rev);
    expect(b.index.compactRev).toBe(c2);
    for (let rev = c2; rev <= a.index.rev; rev++) {
      const x = await a.range({ ...all, revision: rev });
      const y = await b.range({ ...all, revision: rev });
      expect(y.kvs).toEqual(x.kvs);
    }
    expect(events(b, c2)).toEqual(events(a, c2));
    // Both keep writing identically.
    await work(30, 'x');
    await b.barrier();
    expect((await b.range(all)).kvs).toEqual((await a.range(all)).kvs);
  });
});
