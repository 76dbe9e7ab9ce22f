// Helpers of the store's history checks (crash.test.ts, watchcheck.test.ts): a small etcd
// client over the generated etcdserverpb stubs (per-request deadlines, one connection per
// client), a recording Watch stream, reading a replica's whole history through a watch from
// revision 2, a replay of that history (the state of every key at every revision), and the
// checks every recorded watch must pass (order, uniqueness, whole revisions per response,
// monotonic headers, prev_kv).
//
// Revisions, create/mod revisions, versions and the store's lease IDs are below 2^53, so the
// generated stubs (64-bit fields as numbers) are exact against the k8ts store.
import * as grpc from '@grpc/grpc-js';
import { etcdserverpb as pb, mvccpb } from '@k8ts/api';

export const B = (s: string): Buffer => Buffer.from(s);

/** Every key: key "\0", range_end "\0". */
export const ALL_KEYS = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) };

/** The range_end of a prefix (etcd's GetPrefixRangeEnd). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i]++;
      return out;
    }
  }
  return Buffer.from([0]);
}

/** gRPC options: a connection of its own (no subchannel shared with other clients). */
const OWN_CONNECTION: grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown;

/** One etcd client connection to one endpoint: KV and Lease, with a deadline on every call. */
export class StoreClient {
  private readonly kv: pb.KVClient;
  private readonly leases: pb.LeaseClient;

  constructor(
    readonly endpoint: string,
    private readonly deadlineMs = 10_000,
  ) {
    this.kv = new pb.KVClient(endpoint, grpc.credentials.createInsecure(), OWN_CONNECTION);
    this.leases = new pb.LeaseClient(endpoint, grpc.credentials.createInsecure(), OWN_CONNECTION);
  }

  private call<Req, Res>(client: grpc.Client, fn: Unary<Req, Res>, req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) =>
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + this.deadlineMs }, (e, r) => (e ? reject(e) : resolve(r))),
    );
  }

  range(req: pb.RangeRequest): Promise<pb.RangeResponse> {
    return this.call<pb.RangeRequest, pb.RangeResponse>(this.kv, this.kv.range as Unary<pb.RangeRequest, pb.RangeResponse>, req);
  }
  put(req: pb.PutRequest): Promise<pb.PutResponse> {
    return this.call<pb.PutRequest, pb.PutResponse>(this.kv, this.kv.put as Unary<pb.PutRequest, pb.PutResponse>, req);
  }
  deleteRange(req: pb.DeleteRangeRequest): Promise<pb.DeleteRangeResponse> {
    return this.call<pb.DeleteRangeRequest, pb.DeleteRangeResponse>(this.kv, this.kv.deleteRange as Unary<pb.DeleteRangeRequest, pb.DeleteRangeResponse>, req);
  }
  txn(req: pb.TxnRequest): Promise<pb.TxnResponse> {
    return this.call<pb.TxnRequest, pb.TxnResponse>(this.kv, this.kv.txn as Unary<pb.TxnRequest, pb.TxnResponse>, req);
  }
  compact(req: pb.CompactionRequest): Promise<pb.CompactionResponse> {
    return this.call<pb.CompactionRequest, pb.CompactionResponse>(this.kv, this.kv.compact as Unary<pb.CompactionRequest, pb.CompactionResponse>, req);
  }
  leaseGrant(req: pb.LeaseGrantRequest): Promise<pb.LeaseGrantResponse> {
    return this.call<pb.LeaseGrantRequest, pb.LeaseGrantResponse>(this.leases, this.leases.leaseGrant as Unary<pb.LeaseGrantRequest, pb.LeaseGrantResponse>, req);
  }
  leaseRevoke(req: pb.LeaseRevokeRequest): Promise<pb.LeaseRevokeResponse> {
    return this.call<pb.LeaseRevokeRequest, pb.LeaseRevokeResponse>(this.leases, this.leases.leaseRevoke as Unary<pb.LeaseRevokeRequest, pb.LeaseRevokeResponse>, req);
  }
  /** The replica's revision after a linearizable read (it has caught up with the stream head). */
  async head(): Promise<number> {
    const r = await this.range({ key: B('/'), countOnly: true });
    return r.header!.revision!;
  }
  close(): void {
    this.kv.close();
    this.leases.close();
  }
}

/** A gRPC error's code name and message, for records and messages. */
export function describeError(e: unknown): { code: string; message: string } {
  const err = e as grpc.ServiceError;
  if (typeof err?.code === 'number') return { code: grpc.status[err.code] ?? String(err.code), message: err.details ?? err.message };
  return { code: 'CLIENT', message: String((e as Error)?.message ?? e) };
}

// ---- key-values and events, normalised ----

export interface Kv {
  key: string;
  value: string;
  create: number;
  mod: number;
  version: number;
  lease: number;
}

export interface HEvent {
  rev: number;
  type: 'put' | 'delete';
  key: string;
  /** For deletes: key and mod only (etcd's delete events). */
  kv: Kv;
  prev?: Kv;
}

export function toKv(kv: mvccpb.KeyValue): Kv {
  return {
    key: (kv.key ?? Buffer.alloc(0)).toString('latin1'),
    value: (kv.value ?? Buffer.alloc(0)).toString('latin1'),
    create: kv.createRevision ?? 0,
    mod: kv.modRevision ?? 0,
    version: kv.version ?? 0,
    lease: kv.lease ?? 0,
  };
}

export function toEvent(e: mvccpb.Event): HEvent {
  const kv = toKv(e.kv!);
  return {
    rev: kv.mod,
    type: e.type === mvccpb.Event_EventType.DELETE ? 'delete' : 'put',
    key: kv.key,
    kv,
    prev: e.prevKv ? toKv(e.prevKv) : undefined,
  };
}

export const kvString = (kv: Kv | undefined): string => (kv ? `${kv.key}=${JSON.stringify(kv.value)} c${kv.create} m${kv.mod} v${kv.version} l${kv.lease}` : '(none)');
export const eventString = (e: HEvent): string => `@${e.rev} ${e.type} ${e.type === 'put' ? kvString(e.kv) : e.key}`;

// ---- a recording Watch stream ----

export interface Received {
  /** performance.now() when the response arrived. */
  at: number;
  r: pb.WatchResponse;
}

/** One Watch stream (its own connection) that records every response with its arrival time. */
export class WatchStream {
  readonly responses: Received[] = [];
  error?: grpc.ServiceError;
  ended = false;
  private readonly client: pb.WatchClient;
  private readonly call: grpc.ClientDuplexStream<pb.WatchRequest, pb.WatchResponse>;

  constructor(readonly endpoint: string) {
    this.client = new pb.WatchClient(endpoint, grpc.credentials.createInsecure(), OWN_CONNECTION);
    this.call = this.client.watch();
    this.call.on('data', (r: pb.WatchResponse) => this.responses.push({ at: performance.now(), r }));
    this.call.on('error', (e: grpc.ServiceError) => (this.error = e));
    this.call.on('end', () => (this.ended = true));
  }

  send(req: pb.WatchRequest): void {
    this.call.write(req);
  }

  /** Creates a watcher with a client-chosen ID and waits for its `created` response. */
  async create(id: number, req: pb.WatchCreateRequest, timeoutMs = 30_000): Promise<Received> {
    const from = this.responses.length;
    this.send({ createRequest: { ...req, watchId: id } });
    return this.waitFor((r) => !!r.created && r.watchId === id, `watch ${id} created`, timeoutMs, from);
  }

  /** Waits for a response (arrived at index >= from) matching pred. */
  async waitFor(pred: (r: pb.WatchResponse) => boolean, what: string, timeoutMs = 30_000, from = 0): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.responses.length; i++) if (pred(this.responses[i].r)) return this.responses[i];
      from = Math.max(from, this.responses.length);
      if (this.error) throw new Error(`${what}: the watch stream on ${this.endpoint} failed: ${this.error.message}`);
      if (Date.now() > deadline) throw new Error(`${what}: not seen on ${this.endpoint} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Waits until every watcher of the stream has delivered everything up to revision `rev`:
   * a RequestProgress is answered (watch_id -1) only once all the stream's watchers are synced
   * and their queues flushed, with the replica's revision in the header.
   */
  async progressAtLeast(rev: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const from = this.responses.length;
      this.send({ progressRequest: {} });
      const p = await this.waitFor((r) => r.watchId === -1 && !r.created && !r.canceled, `progress >= ${rev}`, Math.max(1000, deadline - Date.now()), from);
      if (p.r.header!.revision! >= rev) return;
      if (Date.now() > deadline) throw new Error(`progress of the watch stream on ${this.endpoint}: at ${p.r.header!.revision}, wanted ${rev}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The responses of one watcher (events or not), in order. */
  of(id: number): Received[] {
    return this.responses.filter((x) => x.r.watchId === id);
  }

  /** The events of one watcher, in order. */
  events(id: number): HEvent[] {
    return this.of(id).flatMap((x) => (x.r.events ?? []).map(toEvent));
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/**
 * The whole history of a replica from `fromRev` up to (at least) `untilRev`: a watch on every
 * key with prev_kv, read until a progress response covers `untilRev`. The stream's responses
 * come back too, for the per-response checks.
 */
export async function readHistory(endpoint: string, untilRev: number, fromRev = 2, timeoutMs = 60_000): Promise<{ events: HEvent[]; responses: Received[] }> {
  const s = new WatchStream(endpoint);
  try {
    await s.create(1, { ...ALL_KEYS, startRevision: fromRev, prevKv: true });
    await s.progressAtLeast(untilRev, timeoutMs);
    const canceled = s.of(1).find((x) => x.r.canceled);
    if (canceled) throw new Error(`history watch on ${endpoint} from ${fromRev} was canceled: ${JSON.stringify(canceled.r)}`);
    return { events: s.events(1).filter((e) => e.rev <= untilRev), responses: s.of(1) };
  } finally {
    s.close();
  }
}

// ---- checks over one watcher's responses ----

/**
 * The protocol checks every watcher's responses must pass; returns the problems found:
 * events in revision order and unique (a key at most once per revision), every revision's
 * events in one response (never split), no fragments, header revision >= the revision of
 * the response's events and never going backwards.
 */
export function responseProblems(responses: Received[], what: string): string[] {
  const problems: string[] = [];
  const seenRevs = new Set<number>();
  let lastRev = 0;
  let lastHeader = 0;
  for (const { r } of responses) {
    const h = r.header?.revision ?? 0;
    if (h < lastHeader) problems.push(`${what}: header revision went back from ${lastHeader} to ${h}`);
    lastHeader = Math.max(lastHeader, h);
    if (r.fragment) problems.push(`${what}: a fragmented response`);
    const evs = (r.events ?? []).map(toEvent);
    if (evs.length === 0) continue;
    const keysAt = new Map<number, Set<string>>();
    for (const e of evs) {
      if (e.rev < lastRev) problems.push(`${what}: event ${eventString(e)} after revision ${lastRev}`);
      let keys = keysAt.get(e.rev);
      if (!keys) {
        if (seenRevs.has(e.rev)) problems.push(`${what}: revision ${e.rev} split across responses`);
        keysAt.set(e.rev, (keys = new Set()));
      }
      if (keys.has(e.key)) problems.push(`${what}: key ${e.key} twice at revision ${e.rev}`);
      keys.add(e.key);
      lastRev = Math.max(lastRev, e.rev);
      if (h < e.rev) problems.push(`${what}: header revision ${h} below event revision ${e.rev}`);
    }
    for (const rev of keysAt.keys()) seenRevs.add(rev);
  }
  return problems;
}

// ---- replay ----

/** The state of every key at every revision, from a complete history (every change from revision 2 on). */
export class Replay {
  /** Per key: its states in revision order (undefined = deleted). */
  private readonly versions = new Map<string, { rev: number; kv: Kv | undefined }[]>();
  readonly problems: string[] = [];
  readonly revisions: number[] = [];
  readonly byRev = new Map<number, HEvent[]>();

  /** `withPrev`: the events were watched with prev_kv, so every event of an existing key must carry it. */
  constructor(
    readonly events: HEvent[],
    withPrev = true,
  ) {
    let last = 0;
    for (const e of events) {
      if (e.rev < last) this.problems.push(`history: ${eventString(e)} after revision ${last}`);
      if (e.rev !== last) {
        this.revisions.push(e.rev);
        this.byRev.set(e.rev, []);
      }
      this.byRev.get(e.rev)!.push(e);
      last = e.rev;
      const before = this.keyAt(e.key, e.rev - 1);
      let list = this.versions.get(e.key);
      if (!list) this.versions.set(e.key, (list = []));
      if (e.type === 'put') {
        const expect: Kv = { ...e.kv, create: before ? before.create : e.rev, version: before ? before.version + 1 : 1, mod: e.rev };
        if (kvString(expect) !== kvString(e.kv)) this.problems.push(`history: ${eventString(e)}: expected ${kvString(expect)} after ${kvString(before)}`);
        list.push({ rev: e.rev, kv: e.kv });
      } else {
        if (!before) this.problems.push(`history: ${eventString(e)} deletes a key that does not exist`);
        list.push({ rev: e.rev, kv: undefined });
      }
      if ((withPrev || e.prev !== undefined) && kvString(e.prev) !== kvString(before)) {
        this.problems.push(`history: ${eventString(e)}: prev_kv ${kvString(e.prev)}, but the key was ${kvString(before)}`);
      }
    }
  }

  /** The key's state at revision rev (after that revision's changes). */
  keyAt(key: string, rev: number): Kv | undefined {
    const list = this.versions.get(key);
    if (!list) return undefined;
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].rev <= rev) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 ? list[found].kv : undefined;
  }

  /** Every live key at revision rev, sorted by key (as a Range over every key returns them). */
  stateAt(rev: number): Kv[] {
    const out: Kv[] = [];
    for (const key of this.versions.keys()) {
      const kv = this.keyAt(key, rev);
      if (kv) out.push(kv);
    }
    return out.sort((a, b) => Buffer.compare(Buffer.from(a.key, 'latin1'), Buffer.from(b.key, 'latin1')));
  }
}
