// The store with the etcd3 npm client, two store replicas over one nats-server, malformed
// requests over raw gRPC, and writes while JetStream is down.
import * as grpc from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { etcdserverpb as pb } from '@k8ts/api';
import { startNats } from '@k8ts/testkit';
import type { NatsServer } from '@k8ts/testkit';
import { etcdctl, eventually, startStore, StoreProcess } from './harness';

jest.setTimeout(120_000);

/** A unary call with raw bytes in and out. */
function rawCall(endpoint: string, path: string, body: Buffer): Promise<Buffer> {
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res!);
    });
  });
}

function kvCall<Req, Res>(endpoint: string, method: 'Range' | 'Put' | 'Txn' | 'DeleteRange', msg: { encode(m: Req): { finish(): Uint8Array } }, res: { decode(b: Buffer): Res }, req: Req): Promise<Res> {
  return rawCall(endpoint, `/etcdserverpb.KV/${method}`, Buffer.from(msg.encode(req).finish())).then((b) => res.decode(b));
}

describe('store with the etcd3 client and two replicas', () => {
  let nats: NatsServer | undefined;
  let s1: StoreProcess | undefined;
  let s2: StoreProcess | undefined;
  const clients: Etcd3[] = [];
  const client = (ep: string) => {
    const c = new Etcd3({ hosts: ep });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    nats = await startNats();
    [s1, s2] = await Promise.all([startStore(nats.url, ['--name', 'store-1']), startStore(nats.url, ['--name', 'store-2'])]);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all([s1?.stop(), s2?.stop()]);
    await nats?.stop();
  });

  it('serves the etcd3 npm client: put, get, prefix, delete, txn, watch, leases', async () => {
    const c = client(s1!.endpoint);
    await c.put('/app/a').value('1');
    await c.put('/app/b').value('2');
    expect(await c.get('/app/a').string()).toBe('1');
    expect(await c.getAll().prefix('/app/').strings()).toEqual({ '/app/a': '1', '/app/b': '2' });
    expect(await c.getAll().prefix('/app/').count()).toBe(2);
    const t = await c.if('/app/a', 'Value', '==', '1').then(c.put('/app/a').value('one')).else(c.get('/app/a')).commit();
    expect(t.succeeded).toBe(true);
    const f = await c.if('/app/a', 'Value', '==', '1').then(c.put('/app/a').value('never')).else(c.get('/app/a')).commit();
    expect(f.succeeded).toBe(false);
    expect(f.responses[0].response_range.kvs[0].value.toString()).toBe('one');
    const deleted = await c.delete().prefix('/app/');
    expect(deleted.deleted).toBe('2');

    const watcher = await c.watch().prefix('/watched/').withPreviousKV().create();
    const seen: string[] = [];
    watcher.on('put', (kv, prev) => seen.push(`put ${kv.key.toString()}=${kv.value.toString()} prev=${prev?.value.toString() ?? ''}`));
    watcher.on('delete', (kv) => seen.push(`delete ${kv.key.toString()}`));
    await c.put('/watched/x').value('1');
    await c.put('/watched/x').value('2');
    await c.delete().key('/watched/x');
    await eventually(async () => seen.length === 3, 20_000, 'watch events');
    expect(seen).toEqual(['put /watched/x=1 prev=', 'put /watched/x=2 prev=1', 'delete /watched/x']);
    await watcher.cancel();

    const lease = c.lease(3);
    await lease.put('/leased/k').value('v');
    expect(await lease.grant()).toBeTruthy();
    expect(await c.get('/leased/k').string()).toBe('v');
    await lease.revoke();
    expect(await c.get('/leased/k').string()).toBeNull();

    // Kept alive past its TTL, then left to expire.
    const short = c.lease(2);
    let keepalives = 0;
    short.on('keepaliveSucceeded', () => keepalives++);
    await short.put('/leased/short').value('v');
    await eventually(async () => keepalives >= 4, 30_000, 'keep-alives');
    expect(await c.get('/leased/short').string()).toBe('v');
    await short.release();
    await eventually(async () => (await c.get('/leased/short').string()) === null, 30_000, 'lease expiry');
  });

  it('gives read-your-writes across replicas and delivers one replica\'s writes to the other\'s watchers', async () => {
    const c1 = client(s1!.endpoint);
    const c2 = client(s2!.endpoint);
    for (let i = 0; i < 20; i++) {
      await c1.put('/ryw').value(String(i));
      expect(await c2.get('/ryw').string()).toBe(String(i));
    }
    const w = await c2.watch().key('/cross').create();
    const got: string[] = [];
    w.on('put', (kv) => got.push(kv.value.toString()));
    await c1.put('/cross').value('hello');
    await eventually(async () => got.length === 1, 20_000, 'cross-replica watch');
    expect(got).toEqual(['hello']);
    await w.cancel();
  });

  it('counter incremented with compare mod_revision through both replicas: final value = successful increments', async () => {
    const c1 = client(s1!.endpoint);
    const c2 = client(s2!.endpoint);
    await c1.put('/counter').value('0');
    let wins = 0;
    let losses = 0;
    const worker = async (c: Etcd3) => {
      for (let i = 0; i < 25; i++) {
        const r = await c.get('/counter').exec();
        const kv = r.kvs[0];
        const t = await c
          .if('/counter', 'Mod', '==', kv.mod_revision)
          .then(c.put('/counter').value(String(Number(kv.value.toString()) + 1)))
          .commit();
        if (t.succeeded) wins++;
        else losses++;
      }
    };
    await Promise.all([worker(c1), worker(c2), worker(c1), worker(c2), worker(c1), worker(c2), worker(c1), worker(c2)]);
    const final = Number(await c2.get('/counter').string());
    expect(final).toBe(wins);
    expect(wins + losses).toBe(200);
    expect(wins).toBeGreaterThan(0);
    // The counter's history has exactly `wins` versions after the initial put.
    const kv = (await c1.get('/counter').exec()).kvs[0];
    expect(Number(kv.version)).toBe(wins + 1);
  });

  it('answers malformed requests with INVALID_ARGUMENT and keeps serving', async () => {
    const ep = s1!.endpoint;
    const code = (p: Promise<unknown>) => p.then(() => 'OK', (e: grpc.ServiceError) => `${grpc.status[e.code]}: ${e.details}`);
    expect(await code(rawCall(ep, '/etcdserverpb.KV/Range', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])))).toMatch(/^INVALID_ARGUMENT: store: cannot decode the \/etcdserverpb.KV\/Range request/);
    expect(await code(kvCall(ep, 'Range', pb.RangeRequest, pb.RangeResponse, { key: Buffer.alloc(0) }))).toBe('INVALID_ARGUMENT: etcdserver: key is not provided');
    expect(await code(kvCall(ep, 'Range', pb.RangeRequest, pb.RangeResponse, { key: Buffer.from('b'), rangeEnd: Buffer.from('a') }))).toMatch(/^INVALID_ARGUMENT: store: range.range_end must not sort before/);
    expect(await code(kvCall(ep, 'Range', pb.RangeRequest, pb.RangeResponse, { key: Buffer.from('a'), limit: -5 }))).toMatch(/^INVALID_ARGUMENT: store: range.limit must not be negative/);
    expect(await code(kvCall(ep, 'Put', pb.PutRequest, pb.PutResponse, { key: Buffer.alloc(0), value: Buffer.from('x') }))).toBe('INVALID_ARGUMENT: etcdserver: key is not provided');
    expect(await code(kvCall(ep, 'Put', pb.PutRequest, pb.PutResponse, { key: Buffer.from('/big'), value: Buffer.alloc(1600 * 1024) }))).toBe('INVALID_ARGUMENT: etcdserver: request is too large');
    const ops = Array.from({ length: 129 }, (_, i) => ({ requestPut: { key: Buffer.from(`/k${i}`), value: Buffer.from('v') } }));
    expect(await code(kvCall(ep, 'Txn', pb.TxnRequest, pb.TxnResponse, { success: ops }))).toBe('INVALID_ARGUMENT: etcdserver: too many operations in txn request');
    expect(await code(kvCall(ep, 'Txn', pb.TxnRequest, pb.TxnResponse, { success: [{ requestPut: { key: Buffer.from('/d') } }, { requestPut: { key: Buffer.from('/d') } }] }))).toBe(
      'INVALID_ARGUMENT: etcdserver: duplicate key given in txn request',
    );
    // A lease ID beyond 2^53 cannot be represented: refused, not crashed.
    const bigId = Buffer.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    expect(await code(rawCall(ep, '/etcdserverpb.Lease/LeaseRevoke', bigId))).toMatch(/^INVALID_ARGUMENT: store: cannot decode/);
    expect(await code(kvCall(ep, 'Put', pb.PutRequest, pb.PutResponse, { key: Buffer.from('/after'), value: Buffer.from('ok') }))).toBe('OK');
    // A value up to the request limit is stored (the test nats-server allows 8 MB payloads).
    const big = await kvCall(ep, 'Put', pb.PutRequest, pb.PutResponse, { key: Buffer.from('/big'), value: Buffer.alloc(1400 * 1024, 7) });
    expect(big.header!.revision).toBeGreaterThan(1);
  });
});

describe('store while JetStream is down', () => {
  let nats: NatsServer | undefined;
  let store: StoreProcess | undefined;

  beforeAll(async () => {
    nats = await startNats();
    store = await startStore(nats.url, ['--jetstream-timeout', '1s']);
  });
  afterAll(async () => {
    await store?.stop();
    await nats?.stop();
  });

  it('fails writes with UNAVAILABLE and a clear message, never a silent success, and recovers', async () => {
    const ep = store!.endpoint;
    expect((await etcdctl(ep, ['put', '/before', '1'])).stdout.trim()).toBe('OK');
    nats!.kill('SIGKILL');
    const r = await etcdctl(ep, ['put', '/during', '1'], undefined, 60_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Unavailable desc = store: write not acknowledged: publish: (JetStream did not acknowledge within 1000 ms|JetStream is not available)/);
    const read = await etcdctl(ep, ['get', '/before']);
    expect(read.code).not.toBe(0);
    expect(read.stderr).toMatch(/Unavailable desc = store: cannot confirm the latest revision/);
    // Serializable reads still answer from the replica's state.
    expect((await etcdctl(ep, ['get', '/before', '--consistency=s'])).stdout).toBe('/before\n1\n');
    await nats!.restart();
    await eventually(async () => (await etcdctl(ep, ['put', '/after', '1'])).stdout.trim() === 'OK', 60_000, 'writes after NATS is back');
    expect((await etcdctl(ep, ['get', '/before'])).stdout).toBe('/before\n1\n');
    expect((await etcdctl(ep, ['get', '/after'])).stdout).toBe('/after\n1\n');
  });
});
