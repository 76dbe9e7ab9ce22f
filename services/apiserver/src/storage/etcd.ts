// The etcd v3 gRPC client of the apiserver: KV.Range, KV.Txn, Lease.LeaseGrant and
// Watch.Watch, spoken to the k8ts store (or to a real etcd standing in for it).
//
// The client is built at run time from the API schema's copy of etcd's rpc.proto
// (proto/etcd/api/etcdserverpb, shipped in @k8ts/api) with @grpc/proto-loader, rather than
// with the ts-proto client generated from it: a real etcd's response headers carry 64-bit
// cluster and member IDs, which ts-proto's int64-as-number decoding refuses (values beyond
// 2^53), while proto-loader converts them (losing precision in fields the apiserver never
// reads). int64 values arrive as decimal strings: revisions are converted to numbers, lease
// IDs (random 64-bit values in etcd) stay strings. Field names are the same camelCase as the
// generated types, which type the calls.
//
// The store serves mutual TLS: the apiserver verifies it with --etcd-cafile and presents
// --etcd-certfile/--etcd-keyfile (kube-apiserver's flags), a certificate the store's
// --allowed-client names (CN kube-apiserver-etcd-client, as kubeadm's).
import * as fs from 'fs';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '@k8ts/kit';
import * as protoLoader from '@grpc/proto-loader';
import { type etcdserverpb, type mvccpb, protoDir } from '@k8ts/api';
import type { Compare, KV, KeyValue, RangeOptions, RangeResult, TxnOp, TxnResult } from './kv';
import { StoreError } from './kv';

interface EtcdPackage {
  KV: grpc.ServiceClientConstructor;
  Watch: grpc.ServiceClientConstructor;
  Lease: grpc.ServiceClientConstructor;
}

let etcdPackage: EtcdPackage | undefined;

function loadEtcd(): EtcdPackage {
  if (etcdPackage) return etcdPackage;
  const dir = protoDir();
  const def = protoLoader.loadSync(path.join(dir, 'etcd', 'api', 'etcdserverpb', 'rpc.proto'), {
    includeDirs: [dir],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  etcdPackage = grpc.loadPackageDefinition(def).etcdserverpb as unknown as EtcdPackage;
  return etcdPackage;
}

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;
type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: Callback<Res>) => grpc.ClientUnaryCall;
interface KVClient extends grpc.Client {
  range: Unary<etcdserverpb.RangeRequest, etcdserverpb.RangeResponse>;
  txn: Unary<unknown, etcdserverpb.TxnResponse>;
}
interface LeaseClient extends grpc.Client {
  leaseGrant: Unary<etcdserverpb.LeaseGrantRequest, etcdserverpb.LeaseGrantResponse>;
}
interface WatchClient extends grpc.Client {
  watch(): grpc.ClientDuplexStream<unknown, etcdserverpb.WatchResponse & { events?: (mvccpb.Event & { type?: unknown })[] }>;
}

function toKV(raw: mvccpb.KeyValue): KeyValue {
  return {
    key: Buffer.from(raw.key ?? []).toString(),
    value: Buffer.from(raw.value ?? []),
    createRevision: Number(raw.createRevision ?? 0),
    modRevision: Number(raw.modRevision ?? 0),
    version: Number(raw.version ?? 0),
    lease: String(raw.lease ?? '0'),
  };
}

function encodeOp(op: TxnOp): etcdserverpb.RequestOp {
  if ('put' in op) return { requestPut: { key: Buffer.from(op.put.key), value: op.put.value, lease: (op.put.lease ?? '0') as unknown as number } };
  if ('delete' in op) return { requestDeleteRange: { key: Buffer.from(op.delete.key) } };
  return { requestRange: { key: Buffer.from(op.get.key) } };
}

/** Splits "http://127.0.0.1:2379,127.0.0.1:2380" into host:port endpoints. */
export function parseEndpoints(list: string[]): string[] {
  return list
    .flatMap((s) => s.split(','))
    .map((s) => s.trim().replace(/^(https?|grpc):\/\//, '').replace(/\/$/, ''))
    .filter((s) => s !== '');
}

/** The grpc target for a list of endpoints: several IPv4 endpoints become one ipv4: target. */
function target(endpoints: string[]): string {
  if (endpoints.length > 1 && endpoints.every((e) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(e))) return `ipv4:${endpoints.join(',')}`;
  return endpoints[0];
}

/** The TLS files of the store connection (--etcd-cafile, --etcd-certfile, --etcd-keyfile). */
export interface EtcdTlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/**
 * The channel credentials for the store: TLS when any of the files is given (trusting caFile,
 * else the system's roots; presenting certFile/keyFile, which go together), else undefined
 * (plaintext, which only a store started with --insecure-plaintext accepts).
 */
export function etcdCredentials(files: EtcdTlsFiles): grpc.ChannelCredentials | undefined {
  const { caFile, certFile, keyFile } = files;
  if (!caFile && !certFile && !keyFile) return undefined;
  if (!certFile !== !keyFile) {
    throw new ConfigError('--etcd-certfile and --etcd-keyfile must be given together: they are the client certificate the store checks', {
      flag: certFile ? 'etcd-keyfile' : 'etcd-certfile',
    });
  }
  const read = (file: string | undefined, flag: string) => {
    if (!file) return null;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new ConfigError(`cannot read --${flag} ${JSON.stringify(file)}: ${(err as Error).message}`, { flag, value: file, cause: err });
    }
  };
  return grpc.credentials.createSsl(read(caFile, 'etcd-cafile'), read(keyFile, 'etcd-keyfile'), read(certFile, 'etcd-certfile'));
}

export interface EtcdOptions {
  endpoints: string[];
  credentials?: grpc.ChannelCredentials;
  /** Deadline of each unary call, in ms (default 10 s). */
  timeoutMs?: number;
}

/** The events of one watch response. */
export interface WatchBatch {
  revision: number;
  events: { type: 'PUT' | 'DELETE'; kv: KeyValue; prevKv?: KeyValue }[];
  /** A progress notification: no events, every change up to `revision` was delivered. */
  progress: boolean;
}

export interface WatchHandle {
  /** Asks the store for a progress notification (etcd's RequestProgress). */
  requestProgress(): void;
  cancel(): void;
}

export class EtcdClient implements KV {
  private readonly kv: KVClient;
  private readonly lease: LeaseClient;
  private readonly watchClient: WatchClient;
  readonly endpoints: string[];
  private readonly timeoutMs: number;

  constructor(opts: EtcdOptions) {
    this.endpoints = parseEndpoints(opts.endpoints);
    if (this.endpoints.length === 0) throw new Error('no store endpoints given');
    const creds = opts.credentials ?? grpc.credentials.createInsecure();
    const t = target(this.endpoints);
    const options = {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
      // grpc-js waits 1 s before its first reconnect by default; a store that is still
      // starting (k8ts up starts both at once) or restarting is usually back well before.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 5000,
      // Several endpoints are one ipv4: target, whose authority is no host name: check the
      // serving certificate against the first endpoint's host (TLS only).
      ...(this.endpoints.length > 1 ? { 'grpc.ssl_target_name_override': this.endpoints[0].replace(/:\d+$/, '').replace(/^\[|\]$/g, '') } : {}),
    };
    const pkg = loadEtcd();
    this.kv = new pkg.KV(t, creds, options) as unknown as KVClient;
    // The same target and options make grpc-js share one connection between the clients.
    this.lease = new pkg.Lease(t, creds, options) as unknown as LeaseClient;
    this.watchClient = new pkg.Watch(t, creds, options) as unknown as WatchClient;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  private unary<Req, Res>(method: string, fn: Unary<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      fn(req, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err) reject(new StoreError(`store ${method}: ${err.details || err.message}`, err.code, err));
        else resolve(res);
      });
    });
  }

  async range(key: string, opts: RangeOptions = {}): Promise<RangeResult> {
    const res = await this.unary('Range', this.kv.range.bind(this.kv), {
      key: Buffer.from(key),
      rangeEnd: opts.end !== undefined ? Buffer.from(opts.end) : undefined,
      revision: opts.revision ?? 0,
      limit: opts.limit ?? 0,
      keysOnly: opts.keysOnly ?? false,
      countOnly: opts.countOnly ?? false,
    });
    return {
      kvs: (res.kvs ?? []).map(toKV),
      more: Boolean(res.more),
      count: Number(res.count ?? 0),
      revision: Number(res.header?.revision ?? 0),
    };
  }

  async txn(compares: Compare[], success: TxnOp[], failure: TxnOp[] = []): Promise<TxnResult> {
    // Enums by name (proto-loader's enums: String).
    const compare = compares.map((c) => {
      const base = { key: Buffer.from(c.key), result: c.result, target: c.target };
      if (c.target === 'CREATE') return { ...base, createRevision: c.value };
      if (c.target === 'MOD') return { ...base, modRevision: c.value };
      return { ...base, version: c.value };
    });
    const res = await this.unary('Txn', this.kv.txn.bind(this.kv), { compare, success: success.map(encodeOp), failure: failure.map(encodeOp) });
    return {
      succeeded: Boolean(res.succeeded),
      revision: Number(res.header?.revision ?? 0),
      responses: (res.responses ?? []).map((r) => {
        if (r.responseRange) return { kvs: (r.responseRange.kvs ?? []).map(toKV) };
        if (r.responseDeleteRange) return { deleted: Number(r.responseDeleteRange.deleted ?? 0) };
        return {};
      }),
    };
  }

  async leaseGrant(ttlSeconds: number): Promise<string> {
    const res = await this.unary('LeaseGrant', this.lease.leaseGrant.bind(this.lease), { TTL: ttlSeconds, ID: 0 });
    if (res.error) throw new StoreError(`store LeaseGrant: ${res.error}`, grpc.status.UNKNOWN);
    return String(res.ID);
  }

  /**
   * Watches [key, end) from startRevision (inclusive) with previous values and progress
   * notifications. onBatch gets every response with events or progress; onError gets the
   * end of the stream: a StoreError (compacted: the start revision is gone) or another error.
   */
  watch(
    key: string,
    end: string,
    startRevision: number,
    onBatch: (b: WatchBatch) => void,
    onError: (err: StoreError) => void,
  ): WatchHandle {
    const call = this.watchClient.watch();
    let ended = false;
    const fail = (err: StoreError) => {
      if (ended) return;
      ended = true;
      call.cancel();
      onError(err);
    };
    call.on('data', (res: etcdserverpb.WatchResponse) => {
      if (ended) return;
      if (res.canceled) {
        const compact = Number(res.compactRevision ?? 0);
        const msg = compact > 0 ? `watch start revision ${startRevision} has been compacted (compact revision ${compact})` : `watch canceled: ${res.cancelReason || 'by the store'}`;
        fail(new StoreError(msg, compact > 0 ? grpc.status.OUT_OF_RANGE : grpc.status.CANCELLED));
        return;
      }
      const events = (res.events ?? []).map((e) => ({
        type: (e.type as unknown) === 'DELETE' || (e.type as unknown) === 1 ? ('DELETE' as const) : ('PUT' as const),
        kv: toKV(e.kv ?? {}),
        prevKv: e.prevKv?.key && e.prevKv.key.length > 0 ? toKV(e.prevKv) : undefined,
      }));
      if (res.created && events.length === 0) return;
      onBatch({ revision: Number(res.header?.revision ?? 0), events, progress: events.length === 0 });
    });
    call.on('error', (err: grpc.ServiceError) => fail(new StoreError(`store watch: ${err.details || err.message}`, err.code, err)));
    call.on('end', () => fail(new StoreError('store watch: stream ended', grpc.status.UNAVAILABLE)));
    call.write({
      createRequest: { key: Buffer.from(key), rangeEnd: Buffer.from(end), startRevision, progressNotify: true, prevKv: true },
    });
    return {
      requestProgress: () => {
        if (!ended) call.write({ progressRequest: {} });
      },
      cancel: () => {
        if (ended) return;
        ended = true;
        call.cancel();
      },
    };
  }

  close(): void {
    this.kv.close();
    this.lease.close();
    this.watchClient.close();
  }
}
