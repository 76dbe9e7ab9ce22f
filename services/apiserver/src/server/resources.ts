// Binds the generic registry to every generated typed service (k8ts.core.v1.PodService,
// k8ts.apps.v1.DeploymentService, ...). There is one handler per kind of method: Get, List,
// Watch, Create, Update, UpdateStatus, Delete, and the subresources Bind, Logs and Scale;
// which one serves an RPC follows from its name. Every handler authenticates the caller,
// authorizes the request's attributes, runs the registry, records an audit line and maps
// errors (toServiceError).
import { performance } from 'perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import * as api from '@k8ts/api';
import { KINDS, type KindInfo, metav1 } from '@k8ts/api';
import type { ServiceBinding } from '@k8ts/kit';
import { parseFieldSelector } from '@k8ts/machinery';
import type { UserInfo, Verb } from '../auth/types';
import type { AuditSink } from '../audit';
import type { CacheHub } from '../cache/hub';
import type { WatchOut, WatchSink } from '../cache/watchcache';
import { encodeList, encodeWatchError, encodeWatchEvent } from '../cache/wire';
import { ApiError, internal, toServiceError } from '../errors';
import { encodeProto } from '../registry/codec';
import type { Registry } from '../registry/registry';
import { bindPod, getScale, updateScale } from '../registry/subresources';
import type { ApiObject } from '../strategies/types';
import { type KubeletDialer, openPodLogs } from './logs';
import { createServiceAccountToken } from './tokens';
import type { AttributesWithoutUser, Security } from './security';

export type Op = 'get' | 'list' | 'watch' | 'create' | 'update' | 'updateStatus' | 'delete' | 'bind' | 'logs' | 'getScale' | 'updateScale' | 'token';

/** Which generic handler serves an RPC of a kind's service, from the RPC's name. */
export function classify(method: string, kind: string): Op {
  if (method.startsWith('List')) return 'list';
  if (method.startsWith('Watch')) return 'watch';
  if (method === `Get${kind}Logs`) return 'logs';
  if (method === `Get${kind}Scale`) return 'getScale';
  if (method === `Update${kind}Scale`) return 'updateScale';
  if (method === `Update${kind}Status`) return 'updateStatus';
  if (method === `Bind${kind}`) return 'bind';
  if (method === `Create${kind}Token`) return 'token';
  if (method === `Get${kind}`) return 'get';
  if (method === `Create${kind}`) return 'create';
  if (method === `Update${kind}`) return 'update';
  if (method === `Delete${kind}`) return 'delete';
  throw new Error(`no generic handler for ${kind} RPC ${method}`);
}

const VERBS: Record<Op, Verb> = {
  get: 'get',
  list: 'list',
  watch: 'watch',
  create: 'create',
  update: 'update',
  updateStatus: 'update',
  delete: 'delete',
  bind: 'create',
  logs: 'get',
  getScale: 'get',
  updateScale: 'update',
  token: 'create',
};

const SUBRESOURCES: Partial<Record<Op, string>> = {
  updateStatus: 'status',
  bind: 'binding',
  logs: 'log',
  getScale: 'scale',
  updateScale: 'scale',
  token: 'token',
};

/** The request/response field holding the object: 'pod', 'replicaSet', 'clusterRoleBinding'. */
export function objectField(kind: KindInfo): string {
  return kind.kind[0].toLowerCase() + kind.kind.slice(1);
}

/** The generated service definition of a kind: api.corev1.PodServiceService, ... */
export function serviceDefinition(kind: KindInfo): grpc.ServiceDefinition {
  const pkg = kind.typeName.split('.').slice(1, 3).join('');
  const ns = (api as unknown as Record<string, Record<string, unknown>>)[pkg];
  const def = ns?.[`${kind.kind}ServiceService`] as grpc.ServiceDefinition | undefined;
  if (!def) throw new Error(`no generated service for ${kind.kind} (${pkg}.${kind.kind}ServiceService)`);
  return def;
}

/** The same definition, with responses that may also be pre-encoded Buffers (lists, watch events). */
function passthrough(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(def)) {
    out[name] = { ...m, responseSerialize: (v: unknown) => (Buffer.isBuffer(v) ? v : m.responseSerialize(v)) };
  }
  return out as grpc.ServiceDefinition;
}

export interface ResourceServerDeps {
  registry: Registry;
  hub: CacheHub;
  security: Security;
  audit: AuditSink;
  logger: Logger;
  kubelet: KubeletDialer;
  /** How often a watch that asked for bookmarks gets one. */
  bookmarkIntervalMs: number;
  /** Most events queued for a slow watcher before it is closed (the client watches again). */
  maxPendingWatchEvents?: number;
}

type Req = Record<string, any>;

/** The namespace and name a request is about (for authorization and audit). */
function target(op: Op, kind: KindInfo, req: Req): { namespace?: string; name?: string } {
  const ns = (v: string | undefined) => (kind.namespaced ? v || 'default' : undefined);
  switch (op) {
    case 'create':
    case 'update':
    case 'updateStatus': {
      const m = (req[objectField(kind)] as ApiObject | undefined)?.metadata;
      return { namespace: ns(m?.namespace), name: m?.name || undefined };
    }
    case 'bind':
      return { namespace: ns(req.binding?.metadata?.namespace), name: req.binding?.metadata?.name };
    case 'updateScale':
      return { namespace: ns(req.scale?.metadata?.namespace), name: req.scale?.metadata?.name };
    case 'list':
    case 'watch': {
      // A metadata.name field selector names the one object (the node authorizer reads it).
      let name: string | undefined;
      try {
        name = parseFieldSelector(req.fieldSelector ?? '').requiresExactMatch('metadata.name');
      } catch {
        name = undefined;
      }
      return { namespace: kind.namespaced ? req.namespace || undefined : undefined, name };
    }
    default:
      return { namespace: ns(req.namespace), name: req.name };
  }
}

export function resourceServices(deps: ResourceServerDeps): ServiceBinding[] {
  return KINDS.map((kind) => {
    const def = serviceDefinition(kind);
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [key, m] of Object.entries(def)) {
      const method = m.path.slice(m.path.lastIndexOf('/') + 1);
      const op = classify(method, kind.kind);
      implementation[key] = m.responseStream ? streamHandler(deps, kind, op, m.path) : unaryHandler(deps, kind, op, m.path);
    }
    return { definition: passthrough(def), implementation };
  });
}

function attributesFor(kind: KindInfo, op: Op, req: Req): AttributesWithoutUser {
  const t = target(op, kind, req);
  const a: AttributesWithoutUser = { verb: VERBS[op], apiGroup: kind.group, resource: kind.resource };
  const sub = SUBRESOURCES[op];
  if (sub) a.subresource = sub;
  if (t.namespace) a.namespace = t.namespace;
  if (t.name) a.name = t.name;
  return a;
}

function audit(deps: ResourceServerDeps, path: string, user: UserInfo | undefined, a: AttributesWithoutUser | undefined, code: number, started: number): void {
  deps.audit.record({
    ts: new Date().toISOString(),
    user: user?.name ?? '',
    groups: user?.groups ?? [],
    verb: a?.verb ?? '',
    apiGroup: a?.apiGroup ?? '',
    resource: a?.resource ?? '',
    ...(a?.subresource ? { subresource: a.subresource } : {}),
    ...(a?.namespace ? { namespace: a.namespace } : {}),
    ...(a?.name ? { name: a.name } : {}),
    method: path,
    code: grpc.status[code] ?? String(code),
    latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
  });
}

function logFailure(deps: ResourceServerDeps, path: string, err: unknown): void {
  if (!(err instanceof ApiError) || err.code === grpc.status.INTERNAL) deps.logger.error({ err, method: path }, 'request failed');
}

function unaryHandler(deps: ResourceServerDeps, kind: KindInfo, op: Op, path: string): grpc.handleUnaryCall<Req, unknown> {
  const { registry, security } = deps;
  const field = objectField(kind);
  const run = async (req: Req, user: UserInfo, md: grpc.Metadata): Promise<unknown> => {
    // The field manager of a gRPC write is its client's user agent, as Kubernetes names it.
    const ua = md.get('user-agent')[0];
    const writer = { userAgent: typeof ua === 'string' ? ua : undefined };
    switch (op) {
      case 'get':
        return { [field]: await registry.get(kind, req.namespace ?? '', req.name ?? '', req.resourceVersion ?? '') };
      case 'list': {
        const res = await registry.list(kind, {
          namespace: req.namespace,
          labelSelector: req.labelSelector,
          fieldSelector: req.fieldSelector,
          limit: req.limit,
          continueToken: req.continue,
          resourceVersion: req.resourceVersion,
        });
        return encodeList(
          { resourceVersion: res.resourceVersion, continue: res.continueToken, remainingItemCount: res.remainingItemCount },
          res.items.map((i) => i.proto),
        );
      }
      case 'create':
        security.checkEscalation(user, kind.resource, req[field]);
        return { [field]: await registry.create(kind, req[field], { dryRun: req.dryRun, ...writer }) };
      case 'update':
        security.checkEscalation(user, kind.resource, req[field]);
        return { [field]: await registry.update(kind, req[field], { dryRun: req.dryRun, ...writer }) };
      case 'updateStatus':
        return { [field]: await registry.updateStatus(kind, req[field], writer) };
      case 'delete':
        return {
          [field]: await registry.delete(kind, kind.namespaced ? req.namespace || 'default' : '', req.name ?? '', {
            gracePeriodSeconds: req.gracePeriodSeconds,
            propagationPolicy: req.propagationPolicy,
            preconditions: req.preconditions,
            dryRun: req.dryRun,
          }),
        };
      case 'bind':
        await bindPod(registry, req.binding);
        return {};
      case 'getScale':
        return { scale: await getScale(registry, kind, req.namespace ?? '', req.name ?? '') };
      case 'updateScale':
        return { scale: await updateScale(registry, kind, req.scale, writer) };
      case 'token':
        return createServiceAccountToken(registry, security, req as api.corev1.CreateServiceAccountTokenRequest);
      default:
        throw internal(`${op} is not a unary operation`);
    }
  };
  return (call, callback) => {
    const started = performance.now();
    let user: UserInfo | undefined;
    let attrs: AttributesWithoutUser | undefined;
    (async () => {
      user = await security.authenticate(call.metadata);
      attrs = attributesFor(kind, op, call.request);
      await security.authorize(user, attrs);
      return run(call.request, user, call.metadata);
    })().then(
      (res) => {
        audit(deps, path, user, attrs, grpc.status.OK, started);
        callback(null, res);
      },
      (err: unknown) => {
        logFailure(deps, path, err);
        const se = toServiceError(err);
        audit(deps, path, user, attrs, se.code, started);
        callback(se);
      },
    );
  };
}

function streamHandler(deps: ResourceServerDeps, kind: KindInfo, op: Op, path: string): grpc.handleServerStreamingCall<Req, unknown> {
  if (op !== 'watch' && op !== 'logs') throw new Error(`${op} is not a streaming operation`);
  return (call) => {
    const started = performance.now();
    let user: UserInfo | undefined;
    let attrs: AttributesWithoutUser | undefined;
    let finished = false;
    let stopStream: (() => void) | undefined;
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      stopStream?.();
      if (err && !call.cancelled) {
        logFailure(deps, path, err);
        const se = toServiceError(err);
        audit(deps, path, user, attrs, se.code, started);
        call.emit('error', se);
      } else {
        audit(deps, path, user, attrs, call.cancelled ? grpc.status.CANCELLED : grpc.status.OK, started);
        if (!call.cancelled) call.end();
      }
    };
    call.on('cancelled', () => finish());
    (async () => {
      user = await deps.security.authenticate(call.metadata);
      attrs = attributesFor(kind, op, call.request);
      await deps.security.authorize(user, attrs);
      if (finished) return;
      if (op === 'watch') stopStream = await startWatch(deps, kind, call, finish);
      else stopStream = await startLogs(deps, call, finish);
      if (finished) stopStream?.();
    })().catch((err: unknown) => finish(err));
  };
}

/** Relays one watch from the cache to the call, with flow control and bookmarks. */
async function startWatch(
  deps: ResourceServerDeps,
  kind: KindInfo,
  call: grpc.ServerWritableStream<Req, unknown>,
  finish: (err?: unknown) => void,
): Promise<() => void> {
  const req = call.request;
  const maxPending = deps.maxPendingWatchEvents ?? 100_000;
  const pending: Buffer[] = [];
  let blocked = false;
  let closed = false;
  let lastRv = 0;
  const write = (b: Buffer): boolean => {
    if (closed) return false;
    if (blocked) {
      if (pending.length >= maxPending) return false;
      pending.push(b);
      return true;
    }
    if (!call.write(b)) blocked = true;
    return true;
  };
  call.on('drain', () => {
    blocked = false;
    while (pending.length > 0 && !blocked) if (!call.write(pending.shift()!)) blocked = true;
  });
  const sink: WatchSink = {
    send(ev: WatchOut) {
      lastRv = Math.max(lastRv, ev.rv);
      return write(ev.bytes);
    },
    close(err?: Error) {
      if (closed) return;
      if (err instanceof ApiError) write(encodeWatchError(err.toStatus()));
      closed = true;
      finish(err);
    },
  };
  const watcher = await deps.registry.watch(
    kind,
    { namespace: req.namespace, labelSelector: req.labelSelector, fieldSelector: req.fieldSelector, resourceVersion: req.resourceVersion },
    sink,
  );
  let timer: NodeJS.Timeout | undefined;
  if (req.allowWatchBookmarks) {
    const cache = deps.hub.cache(kind.resource);
    const bookmark = () => {
      if (closed || blocked) return;
      const rv = Math.max(cache.rv, lastRv);
      const obj = { metadata: { resourceVersion: String(rv) } } as ApiObject;
      write(encodeWatchEvent(metav1.WatchEventType.WATCH_EVENT_TYPE_BOOKMARK, encodeProto(kind, obj)));
    };
    // One right after the initial events, then periodically.
    bookmark();
    timer = setInterval(bookmark, deps.bookmarkIntervalMs);
  }
  return () => {
    closed = true;
    clearInterval(timer);
    watcher.stop();
  };
}

/** Relays a container log from the kubelet to the call. */
async function startLogs(
  deps: ResourceServerDeps,
  call: grpc.ServerWritableStream<Req, unknown>,
  finish: (err?: unknown) => void,
): Promise<() => void> {
  const upstream = await openPodLogs(deps.registry, deps.kubelet, call.request);
  let done = false;
  upstream.on('data', (chunk: api.kubeletv1.GetContainerLogsResponse) => {
    if (!call.write({ data: chunk.data ?? Buffer.alloc(0) })) {
      upstream.pause();
      call.once('drain', () => upstream.resume());
    }
  });
  upstream.on('end', () => {
    done = true;
    finish();
  });
  upstream.on('error', (err: grpc.ServiceError) => {
    done = true;
    if (err.code === grpc.status.CANCELLED) return finish();
    const code = err.code === grpc.status.UNAVAILABLE ? grpc.status.UNAVAILABLE : err.code;
    finish(new ApiError(code, 'InternalError', 500, `kubelet: ${err.details || err.message}`));
  });
  return () => {
    if (!done) upstream.cancel();
  };
}

