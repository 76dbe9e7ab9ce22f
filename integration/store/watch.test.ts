// The Watch protocol over a raw gRPC stream (the generated etcdserverpb client): history and
// live events, whole revisions per response, progress notifications, RequestProgress,
// cancel, filters, compacted start revisions, refused creates, monotonic headers.
import * as grpc from '@grpc/grpc-js';
import { etcdserverpb as pb, mvccpb } from '@k8ts/api';
import { startNats } from '@k8ts/testkit';
import type { NatsServer } from '@k8ts/testkit';
import { eventually, startStore, StoreProcess } from './harness';

const B = (s: string) => Buffer.from(s);

class WatchConn {
  readonly responses: pb.WatchResponse[] = [];
  private readonly call: grpc.ClientDuplexStream<pb.WatchRequest, pb.WatchResponse>;
  error?: Error;
  constructor(private readonly client: pb.WatchClient) {
    this.call = client.watch();
    this.call.on('data', (r: pb.WatchResponse) => this.responses.push(r));
    this.call.on('error', (e: Error) => (this.error = e));
  }
  send(req: pb.WatchRequest): void {
    this.call.write(req);
  }
  async waitFor(pred: (r: pb.WatchResponse) => boolean, what: string): Promise<pb.WatchResponse> {
    let found: pb.WatchResponse | undefined;
    await eventually(async () => !!(found = this.responses.find(pred)), 20_000, what);
    return found!;
  }
  events(id: number): mvccpb.Event[] {
    return this.responses.filter((r) => r.watchId === id).flatMap((r) => r.events ?? []);
  }
  close(): void {
    this.call.cancel();
  }
}

describe('Watch protocol', () => {
  let nats: NatsServer | undefined;
  let store: StoreProcess | undefined;
  let kv: pb.KVClient;
  let watchClient: pb.WatchClient;
  const conns: WatchConn[] = [];
  const conn = () => {
    const c = new WatchConn(watchClient);
    conns.push(c);
    return c;
  };
  const call = <Req, Res>(fn: (req: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown, req: Req) =>
    new Promise<Res>((resolve, reject) => fn.call(kv, req, (e, r) => (e ? reject(e) : resolve(r))));
  const put = (key: string, value: string) => call<pb.PutRequest, pb.PutResponse>(kv.put, { key: B(key), value: B(value) });
  const txn = (req: pb.TxnRequest) => call<pb.TxnRequest, pb.TxnResponse>(kv.txn, req);

  beforeAll(async () => {
    nats = await startNats();
    store = await startStore(nats.url, ['--watch-progress-notify-interval', '300ms']);
    kv = new pb.KVClient(store.endpoint, grpc.credentials.createInsecure());
    watchClient = new pb.WatchClient(store.endpoint, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    for (const c of conns) c.close();
    kv?.close();
    watchClient?.close();
    await store?.stop();
    await nats?.stop();
  });

  it('delivers history from start_revision then live events, whole revisions per response, headers never going back', async () => {
    const first = (await put('/h/a', '1')).header!.revision!;
    await put('/h/b', '1');
    const t = await txn({ success: ['/h/x', '/h/y', '/h/z'].map((k) => ({ requestPut: { key: B(k), value: B('t') } })) });
    const c = conn();
    c.send({ createRequest: { key: B('/h/'), rangeEnd: B('/h0'), startRevision: first, prevKv: true, fragment: true } });
    const created = await c.waitFor((r) => !!r.created, 'created');
    const id = created.watchId!;
    expect(id).toBeGreaterThanOrEqual(0);
    await eventually(async () => c.events(id).length === 5, 20_000, 'history');
    await put('/h/a', '2');
    await txn({ success: [{ requestDeleteRange: { key: B('/h/x'), rangeEnd: B('/h/zz') } }] });
    await eventually(async () => c.events(id).length === 9, 20_000, 'live events');
    const evs = c.events(id);
    expect(evs.map((e) => `${e.type === mvccpb.Event_EventType.DELETE ? 'DEL' : 'PUT'} ${e.kv!.key!.toString()}@${e.kv!.modRevision}`)).toEqual([
      `PUT /h/a@${first}`,
      `PUT /h/b@${first + 1}`,
      `PUT /h/x@${t.header!.revision}`,
      `PUT /h/y@${t.header!.revision}`,
      `PUT /h/z@${t.header!.revision}`,
      `PUT /h/a@${t.header!.revision! + 1}`,
      `DEL /h/x@${t.header!.revision! + 2}`,
      `DEL /h/y@${t.header!.revision! + 2}`,
      `DEL /h/z@${t.header!.revision! + 2}`,
    ]);
    expect(evs[5].prevKv!.value!.toString()).toBe('1');
    expect(evs[6].prevKv!.value!.toString()).toBe('t');
    // A revision's events are never split across responses, and responses are never fragmented.
    const byResp = c.responses.filter((r) => r.watchId === id && (r.events ?? []).length > 0);
    const seen = new Set<number>();
    for (const r of byResp) {
      expect(r.fragment ?? false).toBe(false);
      const revs = new Set(r.events!.map((e) => e.kv!.modRevision!));
      for (const rev of revs) {
        expect(seen.has(rev)).toBe(false);
        seen.add(rev);
      }
      expect(r.header!.revision!).toBeGreaterThanOrEqual(Math.max(...revs));
    }
    const headers = c.responses.map((r) => r.header!.revision!);
    for (let i = 1; i < headers.length; i++) expect(headers[i]).toBeGreaterThanOrEqual(headers[i - 1]);
  });

  it('sends progress notifications to idle watchers that asked, and answers RequestProgress', async () => {
    const c = conn();
    c.send({ createRequest: { key: B('/idle'), progressNotify: true } });
    const id = (await c.waitFor((r) => !!r.created, 'created')).watchId!;
    const rev = (await put('/other-key', 'x')).header!.revision!;
    const progress = await c.waitFor((r) => r.watchId === id && !r.created && (r.events ?? []).length === 0 && r.header!.revision! >= rev, 'progress notification');
    expect(progress.canceled ?? false).toBe(false);
    const rev2 = (await put('/other-key', 'y')).header!.revision!;
    c.send({ progressRequest: {} });
    const p = await c.waitFor((r) => r.watchId === -1 && r.header!.revision! >= rev2, 'RequestProgress answer');
    expect(p.events ?? []).toEqual([]);
  });

  it('cancels watchers, applies filters, refuses bad creates', async () => {
    const c = conn();
    c.send({ createRequest: { key: B('/f/'), rangeEnd: B('/f0'), filters: [pb.WatchCreateRequest_FilterType.NOPUT], watchId: 42 } });
    await c.waitFor((r) => !!r.created && r.watchId === 42, 'created 42');
    c.send({ createRequest: { key: B('/f/'), watchId: 42 } });
    const dup = await c.waitFor((r) => !!r.canceled && r.watchId === -1, 'duplicate refused');
    expect(dup.cancelReason).toBe('mvcc: duplicate watch ID provided on the WatchStream');
    c.send({ createRequest: { key: B('b'), rangeEnd: B('a') } });
    await c.waitFor((r) => !!r.canceled && /range_end must not sort before key/.test(r.cancelReason ?? ''), 'bad range refused');
    c.send({ createRequest: { key: B('/x'), startRevision: -1 } });
    await c.waitFor((r) => !!r.canceled && r.cancelReason === 'mvcc: required revision has been compacted', 'negative start refused');
    await put('/f/a', '1');
    await txn({ success: [{ requestDeleteRange: { key: B('/f/a') } }] });
    await eventually(async () => c.events(42).length === 1, 20_000, 'filtered events');
    expect(c.events(42)[0].type).toBe(mvccpb.Event_EventType.DELETE);
    c.send({ cancelRequest: { watchId: 42 } });
    await c.waitFor((r) => r.watchId === 42 && !!r.canceled, 'canceled');
    await put('/f/b', '1');
    await txn({ success: [{ requestDeleteRange: { key: B('/f/b') } }] });
    // After the cancel nothing more arrives for 42; prove the stream moved on with a progress request.
    const rev = (await put('/f/c', '1')).header!.revision!;
    c.send({ progressRequest: {} });
    await c.waitFor((r) => r.watchId === -1 && r.header!.revision! >= rev, 'progress after cancel');
    expect(c.events(42).length).toBe(1);
  });

  it('cancels a watcher whose start revision was compacted, with the compact revision', async () => {
    await put('/c/a', '1');
    const rev = (await put('/c/a', '2')).header!.revision!;
    await call<pb.CompactionRequest, pb.CompactionResponse>(kv.compact, { revision: rev, physical: true });
    const c = conn();
    c.send({ createRequest: { key: B('/c/a'), startRevision: rev - 1 } });
    const r = await c.waitFor((x) => !!x.canceled, 'compacted cancel');
    expect(r.compactRevision).toBe(rev);
    expect(c.responses[0].created).toBe(true);
    // From the compact revision itself the history is still there.
    c.send({ createRequest: { key: B('/c/a'), startRevision: rev } });
    await eventually(async () => c.responses.some((x) => (x.events ?? []).some((e) => e.kv!.modRevision === rev)), 20_000, 'event at the compact revision');
  });
});
