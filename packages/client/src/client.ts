// connect(): one gRPC channel to the apiserver and one typed client per kind over it.
// Every call carries the bearer token, gets a deadline, and fails with a StatusError. Reads
// (get, list) are retried with backoff and jitter when the server is UNAVAILABLE; writes
// and streams never are, since a write whose answer was lost may have happened.
import * as fs from 'fs';
import * as grpc from '@grpc/grpc-js';
import { metav1 } from '@k8ts/api';
import type { KindInfo } from '@k8ts/api';
import { Backoff } from './backoff';
import { realClock, sleep } from './clock';
import { StatusError, statusErrorFromStatus, toStatusError } from './errors';
import type { KubeObject } from './objects';
import { RESOURCES, resourceFor } from './resources';
import type {
  CallOptions,
  Clientset,
  DeleteOptions,
  GenericResourceClient,
  GetOptions,
  ListOptions,
  LogOptions,
  ObjectList,
  ResourceInfo,
  ServiceClientClass,
  WatchOptions,
  WriteOptions,
} from './resources';
import { StreamQueue } from './watch';
import type { Stream, Watch, WatchEvent, WatchEventType } from './watch';

/** Retries of idempotent reads that failed with UNAVAILABLE. */
export interface RetryOptions {
  /** How many times a read is retried after the first attempt. Default 3; 0 disables. */
  retries?: number;
  /** The first delay. Default 100 ms. */
  initialBackoffMs?: number;
  /** The largest delay. Default 2 s. */
  maxBackoffMs?: number;
}

export interface ConnectOptions {
  /** The apiserver: 'host:port', 'dns:///host:port', 'unix:///path', ... */
  address: string;
  /**
   * The bearer token sent as 'authorization: Bearer <token>' on every call, or a function
   * returning the current one (called per call, for tokens that rotate).
   */
  token?: string | (() => string | Promise<string>);
  /** TLS (otherwise plaintext). Each value is a PEM file path or the PEM text itself. */
  tls?: { ca?: string; cert?: string; key?: string; serverName?: string };
  /** The default deadline of unary calls, in milliseconds. Default 30 s. */
  deadlineMs?: number;
  /** Retries of reads on UNAVAILABLE: a count or the full options. Default 3. */
  retries?: number | RetryOptions;
  /** The largest message accepted from the server. Default 64 MiB. */
  maxReceiveMessageBytes?: number;
  /**
   * Who the client is, sent as the User-Agent ("kube-scheduler/v0.1.0"): the apiserver names
   * the field manager of this client's writes after its first word, as Kubernetes does.
   */
  userAgent?: string;
  /** Extra grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
}

/** A Clientset over gRPC, with access to its channel. */
export interface GrpcClientset extends Clientset {
  readonly address: string;
  readonly channel: grpc.Channel;
  /** The bearer token the clientset sends now (for other gRPC clients sharing `channel`). */
  bearerToken(): Promise<string | undefined>;
}

const DEFAULT_DEADLINE_MS = 30_000;

function pem(value: string | undefined): Buffer | null {
  if (!value) return null;
  return value.includes('-----BEGIN') ? Buffer.from(value) : fs.readFileSync(value);
}

function channelCredentials(tls: ConnectOptions['tls']): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if (!!tls.cert !== !!tls.key) throw new Error('connect: tls.cert and tls.key must be given together');
  return grpc.credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert));
}

function cancelled(): StatusError {
  return new StatusError(grpc.status.CANCELLED, 'the call was cancelled by the caller');
}

interface UnaryOptions extends CallOptions {
  /** Safe to send again: retried on UNAVAILABLE. */
  idempotent: boolean;
}

/** The shared connection: one channel, one generated client per service, the call policy. */
class Transport {
  readonly channel: grpc.Channel;
  private readonly clients = new Map<ServiceClientClass, grpc.Client>();
  private readonly credentials: grpc.ChannelCredentials;
  private readonly deadlineMs: number;
  private readonly retry: Required<RetryOptions>;

  constructor(private readonly opts: ConnectOptions) {
    this.credentials = channelCredentials(opts.tls);
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': opts.maxReceiveMessageBytes ?? 64 * 1024 * 1024,
      // Reconnect soon after an apiserver (re)start instead of grpc-js' default first wait of 1 s.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 5000,
      ...(opts.tls?.serverName ? { 'grpc.ssl_target_name_override': opts.tls.serverName } : {}),
      ...(opts.userAgent ? { 'grpc.primary_user_agent': opts.userAgent } : {}),
      ...opts.channelOptions,
    };
    this.channel = new grpc.Channel(opts.address, this.credentials, channelOptions);
    this.deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const r = typeof opts.retries === 'number' ? { retries: opts.retries } : (opts.retries ?? {});
    this.retry = { retries: r.retries ?? 3, initialBackoffMs: r.initialBackoffMs ?? 100, maxBackoffMs: r.maxBackoffMs ?? 2000 };
  }

  private client(info: ResourceInfo): Record<string, (...args: unknown[]) => any> {
    let c = this.clients.get(info.Client);
    if (!c) {
      c = new info.Client(this.opts.address, this.credentials, { channelOverride: this.channel });
      this.clients.set(info.Client, c);
    }
    return c as unknown as Record<string, (...args: unknown[]) => any>;
  }

  /** The current bearer token ('' or undefined: none). */
  async token(): Promise<string | undefined> {
    return typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
  }

  private async metadata(): Promise<grpc.Metadata> {
    const md = new grpc.Metadata();
    const token = await this.token();
    if (token) md.set('authorization', `Bearer ${token}`);
    return md;
  }

  /** A unary call with deadline, cancellation and (for idempotent calls) retries on UNAVAILABLE. */
  async unary<Res>(info: ResourceInfo, method: string, request: object, opts: UnaryOptions): Promise<Res> {
    const deadline = Date.now() + (opts.deadlineMs ?? this.deadlineMs);
    const backoff = new Backoff({ initialMs: this.retry.initialBackoffMs, maxMs: this.retry.maxBackoffMs });
    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted) throw cancelled();
      try {
        return await this.unaryOnce<Res>(info, method, request, deadline, opts.signal);
      } catch (e) {
        const err = toStatusError(e);
        const retriable = opts.idempotent && err.code === grpc.status.UNAVAILABLE && attempt < this.retry.retries;
        const delay = retriable ? backoff.next() : 0;
        if (!retriable || Date.now() + delay >= deadline) throw err;
        await sleep(realClock, delay, opts.signal);
      }
    }
  }

  private async unaryOnce<Res>(
    info: ResourceInfo,
    method: string,
    request: object,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<Res> {
    const md = await this.metadata();
    return new Promise<Res>((resolve, reject) => {
      if (signal?.aborted) {
        reject(cancelled());
        return;
      }
      const onAbort = () => call.cancel();
      const call: grpc.ClientUnaryCall = this.client(info)[method](
        request,
        md,
        { deadline: new Date(deadline) },
        (err: grpc.ServiceError | null, res: Res) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(signal?.aborted && err.code === grpc.status.CANCELLED ? cancelled() : toStatusError(err));
          else resolve(res);
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * A server-streaming call delivered through a StreamQueue. `map` turns each message into
   * an item to deliver, undefined to skip it, or an Error that ends the stream.
   */
  stream<Msg, T>(
    info: ResourceInfo,
    method: string,
    request: object,
    opts: { deadlineMs?: number; signal?: AbortSignal },
    map: (msg: Msg) => T | Error | undefined,
  ): StreamQueue<T> {
    let call: grpc.ClientReadableStream<Msg> | undefined;
    const queue = new StreamQueue<T>({
      onStop: () => call?.cancel(),
      pause: () => call?.pause(),
      resume: () => call?.resume(),
    });
    const signal = opts.signal;
    if (signal) {
      if (signal.aborted) queue.stop();
      else signal.addEventListener('abort', () => queue.stop(), { once: true });
    }
    this.metadata().then(
      (md) => {
        if (queue.closed) return;
        const callOptions: grpc.CallOptions = opts.deadlineMs ? { deadline: new Date(Date.now() + opts.deadlineMs) } : {};
        const c: grpc.ClientReadableStream<Msg> = this.client(info)[method](request, md, callOptions);
        call = c;
        c.on('data', (msg: Msg) => {
          const item = map(msg);
          if (item instanceof Error) {
            queue.fail(item);
            c.cancel();
          } else if (item !== undefined) {
            queue.push(item);
          }
        });
        c.on('error', (err: grpc.ServiceError) => queue.fail(toStatusError(err)));
        c.on('end', () => queue.end());
      },
      (err) => queue.fail(toStatusError(err)),
    );
    return queue;
  }

  close(): void {
    this.channel.close();
  }
}

const EVENT_TYPES: Record<number, WatchEventType> = {
  [metav1.WatchEventType.WATCH_EVENT_TYPE_ADDED]: 'ADDED',
  [metav1.WatchEventType.WATCH_EVENT_TYPE_MODIFIED]: 'MODIFIED',
  [metav1.WatchEventType.WATCH_EVENT_TYPE_DELETED]: 'DELETED',
  [metav1.WatchEventType.WATCH_EVENT_TYPE_BOOKMARK]: 'BOOKMARK',
};

interface WatchResponse {
  type?: metav1.WatchEventType;
  object?: KubeObject;
  status?: metav1.Status;
}

function missingNamespace(info: ResourceInfo, verb: string, name: string): StatusError {
  return new StatusError(
    grpc.status.INVALID_ARGUMENT,
    `${info.kind.resource} "${name}": a namespace is required to ${verb} a namespaced ${info.kind.kind}`,
    { reason: 'BadRequest' },
  );
}

/** The standard methods of one kind over the transport, built from the kind's method names. */
function grpcResourceClient(info: ResourceInfo, t: Transport): GenericResourceClient {
  const { field, methods: m, kind } = info;
  const namespaced = kind.namespaced;

  /** Namespace and name of a request that addresses one object. */
  const target = (verb: string, name: string, namespace: string | undefined): Record<string, string> => {
    if (!namespaced) return { name };
    if (!namespace) throw missingNamespace(info, verb, name);
    return { namespace, name };
  };
  const select = (opts: { namespace?: string; labelSelector?: string; fieldSelector?: string }) => ({
    ...(namespaced ? { namespace: opts.namespace ?? '' } : {}),
    labelSelector: opts.labelSelector ?? '',
    fieldSelector: opts.fieldSelector ?? '',
  });
  const unwrap = <T>(res: Record<string, unknown> | undefined, key: string, verb: string): T => {
    const value = res?.[key];
    if (value === undefined || value === null) {
      throw new StatusError(grpc.status.INTERNAL, `${verb} ${kind.resource}: the server's answer holds no ${key}`);
    }
    return value as T;
  };
  const call = async <T>(method: string, request: object, opts: CallOptions | undefined, idempotent: boolean, verb: string) =>
    unwrap<T>(await t.unary<Record<string, unknown>>(info, method, request, { ...opts, idempotent }), field, verb);

  const list = async (opts: ListOptions = {}): Promise<ObjectList<KubeObject>> => {
    const res = await t.unary<{ metadata?: metav1.ListMeta; items?: KubeObject[] }>(
      info,
      m.list,
      {
        ...select(opts),
        limit: opts.limit ?? 0,
        continue: opts.continue ?? '',
        resourceVersion: opts.resourceVersion ?? '',
      },
      { deadlineMs: opts.deadlineMs, signal: opts.signal, idempotent: true },
    );
    const out: ObjectList<KubeObject> = {
      items: res.items ?? [],
      resourceVersion: res.metadata?.resourceVersion ?? '',
      continue: res.metadata?.continue ?? '',
    };
    if (res.metadata?.remainingItemCount !== undefined) out.remainingItemCount = res.metadata.remainingItemCount;
    return out;
  };

  const client: GenericResourceClient = {
    kind,
    get: async (name, opts: GetOptions = {}) =>
      call(m.get, { ...target('get', name, opts.namespace), resourceVersion: opts.resourceVersion ?? '' }, opts, true, 'get'),
    list,
    listAll: (opts = {}) => listAllPages(list, opts),
    watch: (opts: WatchOptions = {}): Watch<KubeObject> =>
      t.stream<WatchResponse, WatchEvent<KubeObject>>(
        info,
        m.watch,
        { ...select(opts), resourceVersion: opts.resourceVersion ?? '', allowWatchBookmarks: opts.allowWatchBookmarks ?? false },
        opts,
        (msg) => {
          if (msg.type === metav1.WatchEventType.WATCH_EVENT_TYPE_ERROR) return statusErrorFromStatus(msg.status);
          const type = msg.type === undefined ? undefined : EVENT_TYPES[msg.type];
          return type ? { type, object: msg.object ?? {} } : undefined;
        },
      ),
    create: async (obj, opts: WriteOptions = {}) => call(m.create, { [field]: obj, dryRun: opts.dryRun ?? false }, opts, false, 'create'),
    update: async (obj, opts: WriteOptions = {}) => call(m.update, { [field]: obj, dryRun: opts.dryRun ?? false }, opts, false, 'update'),
    delete: async (name, opts: DeleteOptions = {}) =>
      call(
        m.delete,
        {
          ...target('delete', name, opts.namespace),
          gracePeriodSeconds: opts.gracePeriodSeconds,
          propagationPolicy: opts.propagationPolicy ?? '',
          preconditions: opts.preconditions,
          dryRun: opts.dryRun ?? false,
        },
        opts,
        false,
        'delete',
      ),
  };
  if (m.updateStatus) {
    const method = m.updateStatus;
    client.updateStatus = async (obj, opts) => call(method, { [field]: obj }, opts, false, 'update status of');
  }
  if (m.getScale && m.updateScale) {
    const get = m.getScale;
    const update = m.updateScale;
    client.getScale = async (name, opts = {}) =>
      unwrap(await t.unary(info, get, target('get scale of', name, opts.namespace), { ...opts, idempotent: true }), 'scale', 'get scale of');
    client.updateScale = async (scale, opts) =>
      unwrap(await t.unary(info, update, { scale }, { ...opts, idempotent: false }), 'scale', 'update scale of');
  }
  if (m.bind && m.logs) {
    const bind = m.bind;
    const logs = m.logs;
    const pods = client as GenericResourceClient & Record<string, unknown>;
    pods.bind = async (binding: object, opts?: CallOptions): Promise<void> => {
      await t.unary(info, bind, { binding }, { ...opts, idempotent: false });
    };
    pods.logs = (name: string, opts: LogOptions = {}): Stream<Buffer> => {
      const { signal, deadlineMs, namespace, ...rest } = opts;
      const request = { ...target('get logs of', name, namespace), ...rest };
      return t.stream<{ data?: Buffer }, Buffer>(info, logs, request, { signal, deadlineMs }, (msg) =>
        msg.data && msg.data.length > 0 ? Buffer.from(msg.data) : undefined,
      );
    };
  }
  return wrapSyncThrows(client);
}

/**
 * Reads every page of a list. All pages of one list are read at the version of the first;
 * if that version is compacted between pages the call fails with Gone (list again).
 */
export async function listAllPages<T>(
  list: (opts: ListOptions) => Promise<ObjectList<T>>,
  opts: Omit<ListOptions, 'continue'>,
): Promise<ObjectList<T>> {
  const first = await list(opts);
  const items = [...first.items];
  let token = first.continue;
  while (token) {
    const page = await list({ ...opts, continue: token });
    items.push(...page.items);
    token = page.continue;
  }
  return { items, resourceVersion: first.resourceVersion, continue: '' };
}

/** Turns synchronous throws of a client's methods (bad arguments) into rejections or failed streams. */
function wrapSyncThrows(client: GenericResourceClient): GenericResourceClient {
  const out: Record<string, unknown> = { kind: client.kind };
  for (const [name, fn] of Object.entries(client)) {
    if (typeof fn !== 'function') continue;
    const streaming = name === 'watch' || name === 'logs';
    out[name] = (...args: unknown[]) => {
      try {
        return fn(...args);
      } catch (err) {
        if (!streaming) return Promise.reject(toStatusError(err));
        const q = new StreamQueue<never>();
        q.fail(toStatusError(err));
        return q;
      }
    };
  }
  return out as unknown as GenericResourceClient;
}

/**
 * Connects to an apiserver. The channel connects lazily: the first call does it, and calls
 * made while the server is unreachable fail with UNAVAILABLE (reads are retried first).
 *
 *   const cs = connect({ address: '127.0.0.1:6443', token });
 *   const { items } = await cs.pods.list({ namespace: 'default' });
 */
export function connect(opts: ConnectOptions): GrpcClientset {
  const transport = new Transport(opts);
  const byMember = new Map<string, GenericResourceClient>();
  for (const info of RESOURCES) byMember.set(info.member, grpcResourceClient(info, transport));
  const clientset: Record<string, unknown> = {
    address: opts.address,
    channel: transport.channel,
    bearerToken: () => transport.token(),
    forKind: (kind: KindInfo | string) => byMember.get(resourceFor(kind).member),
    close: () => transport.close(),
  };
  for (const [member, client] of byMember) clientset[member] = client;
  return clientset as unknown as GrpcClientset;
}
