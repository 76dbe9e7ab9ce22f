// The Kubernetes HTTP API of the apiserver: HTTPS (HTTP/2 and HTTP/1.1 on one port) beside
// the gRPC services, over the same registry, caches, authenticators and authorizers.
//
// A request, step by step: the URL is read into a RequestInfo (requestinfo.ts); the caller
// is authenticated (a client certificate signed by --client-ca-file, else a bearer token:
// the token file, service-account and node JWTs; else system:anonymous); the request is
// authorized (resource attributes through the Node and RBAC authorizers, non-resource paths
// through Security.authorizeNonResource); then a resource request goes to resources.ts
// (watch.ts for ?watch=1) and a non-resource one to discovery, OpenAPI, /version, health
// and /metrics; /openapi/v2 and /openapi/v3 come from ../openapi (generated from proto/). Every request gets one audit line; every error is a Kubernetes Status.
import * as http2 from 'http2';
import type * as net from 'net';
import type * as tls from 'tls';
import { performance } from 'perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { KINDS, type KindInfo } from '@k8ts/api';
import { ANONYMOUS } from '../server/security';
import type { UserInfo } from '../auth/types';
import { ApiError, internal, notFound, unauthorized } from '../errors';
import type { HttpContext, HttpDeps, ResourceContext } from './context';
import { mediaType, parseRequestValue, readBody } from './body';
import { Discovery, type ExtraResource } from './discovery';
import { impersonate } from './impersonation';
import { type RequestInfo, type ResourceRequest, requestInfo } from './requestinfo';
import { type Request, type Response, negotiate, sendError, sendValue } from './respond';
import { serveOpenAPI } from '../openapi';
import { serveResource } from './resources';

/** A create-only resource served outside the registry (the access reviews). */
export interface ExtraHandler extends ExtraResource {
  create(ctx: HttpContext, body: unknown, namespace: string): Promise<Record<string, unknown>>;
}

export interface HttpServerOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  cert: Buffer | string;
  key: Buffer | string;
  /** PEM CA of client certificates (x509 authentication); none: certificates are ignored. */
  clientCa?: Buffer | string;
  extra?: readonly ExtraHandler[];
}

export interface HttpServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  if (i < 0) throw new Error(`--http-listen ${JSON.stringify(listen)}: expected host:port`);
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--http-listen ${JSON.stringify(listen)}: bad port`);
  return { host, port };
}

/** The user of a verified client certificate: CN is the name, each O a group. */
function certificateUser(req: Request): UserInfo | undefined {
  const socket = req.socket as tls.TLSSocket | undefined;
  if (!socket || typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  const subject = cert?.subject as unknown as Record<string, string | string[]> | undefined;
  if (!subject?.CN) return undefined;
  const cn = Array.isArray(subject.CN) ? subject.CN[0] : subject.CN;
  const orgs = subject.O === undefined ? [] : Array.isArray(subject.O) ? subject.O : [subject.O];
  return { name: cn, groups: [...new Set([...orgs, 'system:authenticated'])] };
}

export async function startHttpServer(deps: HttpDeps, opts: HttpServerOptions): Promise<HttpServer> {
  const { host, port } = splitHostPort(opts.listen);
  const extra = opts.extra ?? [];
  const discovery = new Discovery(extra);
  const server = http2.createSecureServer({
    cert: opts.cert,
    key: opts.key,
    allowHTTP1: true,
    ...(opts.clientCa ? { ca: opts.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
    // Watches are long-lived: no idle timeout on the HTTP/2 session or the socket.
    settings: { maxConcurrentStreams: 1000 },
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('sessionError', () => {});
  server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    handle(deps, discovery, extra, req, res, `${host}:${actual()}`).catch((err) => {
      deps.logger.error({ err }, 'HTTP handler failed');
      try {
        sendError(res, internal('internal error'));
      } catch {
        res.stream?.close();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = () => (server.address() as net.AddressInfo).port;
  return {
    host,
    port: actual(),
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

async function authenticate(deps: HttpDeps, req: Request, path: string): Promise<UserInfo> {
  const fromCert = certificateUser(req);
  if (fromCert) return fromCert;
  const header = req.headers.authorization;
  const user = await deps.security.authenticateBearer(typeof header === 'string' ? header : undefined);
  if (user) return user;
  if (deps.security.anonymousAllowed || PUBLIC_PATHS.has(path) || path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/')) return ANONYMOUS;
  throw unauthorized('Unauthorized');
}

function findKind(info: ResourceRequest): KindInfo | undefined {
  return KINDS.find((k) => k.group === info.group && k.version === info.version && k.resource === info.resource);
}

async function handle(
  deps: HttpDeps,
  discovery: Discovery,
  extra: readonly ExtraHandler[],
  req: Request,
  res: Response,
  serverAddress: string,
): Promise<void> {
  const started = performance.now();
  const url = new URL(req.url ?? '/', 'https://apiserver');
  let info: RequestInfo | undefined;
  let user: UserInfo | undefined;
  let code = 200;
  try {
    info = requestInfo(req.method ?? 'GET', url.pathname, url.searchParams);
    user = await impersonate(deps.security, req, await authenticate(deps, req, url.pathname));
    const ctx: HttpContext = { deps, req, res, query: url.searchParams, info, user };
    if (!info.isResource) {
      await deps.security.authorizeNonResource(user, info.verb, info.path);
      await serveNonResource(ctx, discovery, serverAddress);
      return;
    }
    const resource: ResourceRequest = info;
    const e = extra.find((x) => x.group === resource.group && x.version === resource.version && x.resource === resource.resource);
    if (e) {
      await serveExtra(ctx as HttpContext & { info: ResourceRequest }, e);
      code = 201;
      return;
    }
    const kind = findKind(info);
    if (!kind || (!kind.namespaced && info.namespace !== '' && info.resource !== 'namespaces')) {
      throw new ApiError(grpc.status.NOT_FOUND, 'NotFound', 404, 'the server could not find the requested resource', {});
    }
    const namespace = kind.namespaced ? info.namespace : '';
    const attrs = {
      verb: info.verb,
      apiGroup: kind.group,
      resource: kind.resource,
      ...(info.subresource ? { subresource: info.subresource } : {}),
      ...(namespace ? { namespace } : kind.resource === 'namespaces' && info.name ? { namespace: info.name } : {}),
      ...(info.name ? { name: info.name } : {}),
    };
    await deps.security.authorize(user, attrs);
    const tableAllowed = info.verb === 'get' || info.verb === 'list' || info.verb === 'watch';
    const format = info.subresource === 'log' ? 'json' : negotiate(req.headers.accept, tableAllowed);
    const rctx: ResourceContext = { ...ctx, info, kind, namespace, format };
    await serveResource(rctx);
    code = res.statusCode;
  } catch (err) {
    const e = err instanceof ApiError ? err : internal(`internal error: ${(err as Error)?.message ?? String(err)}`, err);
    if (e.code === grpc.status.INTERNAL) deps.logger.error({ err, path: url.pathname }, 'HTTP request failed');
    code = e.httpCode;
    sendError(res, e);
  } finally {
    const r = info?.isResource ? info : undefined;
    deps.audit.record({
      ts: new Date().toISOString(),
      user: user?.name ?? '',
      groups: user?.groups ?? [],
      verb: info?.verb ?? '',
      apiGroup: r?.group ?? '',
      resource: r?.resource ?? '',
      ...(r?.subresource ? { subresource: r.subresource } : {}),
      ...(r?.namespace ? { namespace: r.namespace } : {}),
      ...(r?.name ? { name: r.name } : {}),
      method: `${req.method} ${url.pathname}`,
      code: String(code),
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
  }
}

async function serveExtra(ctx: HttpContext & { info: ResourceRequest }, e: ExtraHandler): Promise<void> {
  const { info } = ctx;
  if (info.verb !== 'create' || info.name !== '' || info.subresource !== '') {
    throw new ApiError(grpc.status.UNIMPLEMENTED, 'MethodNotAllowed', 405, `the server does not allow this method on the requested resource (${info.verb} ${info.resource})`);
  }
  await ctx.deps.security.authorize(ctx.user, { verb: 'create', apiGroup: e.group, resource: e.resource, ...(info.namespace ? { namespace: info.namespace } : {}) });
  // The review kinds' messages: k8ts.authorization.v1.SelfSubjectAccessReview, ...
  const typeName = `k8ts.${e.group.split('.')[0]}.${e.version}.${e.kind}`;
  const body = parseRequestValue(await readBody(ctx.req), mediaType(ctx.req), typeName, e.kind);
  const out = await e.create(ctx, body, info.namespace);
  sendValue(ctx.res, 201, negotiate(ctx.req.headers.accept, false), out);
}

/** Health checks as Kubernetes names them, for /healthz, /livez and /readyz (?verbose). */
function health(deps: HttpDeps, path: string, query: URLSearchParams): { ok: boolean; text: string } {
  const [, endpoint, single] = path.split('/');
  const checks: [string, boolean][] = [
    ['ping', true],
    ['log', true],
    ['etcd', deps.hub.revision > 0],
    ['informer-sync', deps.ready()],
  ];
  if (endpoint === 'readyz') checks.push(['shutdown', deps.ready()]);
  const excluded = new Set(query.getAll('exclude'));
  const picked = single ? checks.filter(([n]) => n === single) : checks.filter(([n]) => !excluded.has(n));
  if (single && picked.length === 0) return { ok: false, text: '' };
  const ok = picked.every(([, v]) => v);
  if (single) return { ok, text: ok ? 'ok' : `internal server error: ${single} check failed` };
  if (!query.has('verbose') && ok) return { ok, text: 'ok' };
  const lines = picked.map(([n, v]) => (v ? `[+]${n} ok` : `[-]${n} failed: reason withheld`));
  lines.push(ok ? `${endpoint} check passed` : `${endpoint} check failed`);
  return { ok, text: `${lines.join('\n')}\n` };
}

async function serveNonResource(ctx: HttpContext, discovery: Discovery, serverAddress: string): Promise<void> {
  const { res, req, query } = ctx;
  const path = ctx.info.path.replace(/\/+$/, '') || '/';
  if (ctx.info.verb !== 'get' && ctx.info.verb !== 'head') throw notFound('', '', path);
  const accept = String(req.headers.accept ?? '');
  const aggregated = /as=APIGroupDiscoveryList/.test(accept) && /g=apidiscovery\.k8s\.io/.test(accept) && /v=v2\b/.test(accept);
  const sendJson = (value: unknown, type = 'application/json') => {
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache, private' });
    res.end(JSON.stringify(value));
  };
  const aggregatedType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
  if (path === '/api') return aggregated ? sendJson(discovery.aggregated(true), aggregatedType) : sendJson(discovery.apiVersions(serverAddress));
  if (path === '/apis') return aggregated ? sendJson(discovery.aggregated(false), aggregatedType) : sendJson(discovery.apiGroupList());
  const gv = /^\/api\/(v1)$/.exec(path)?.[1] ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(path)?.[1];
  if (gv) {
    const list = discovery.resourceList(gv);
    if (list) return sendJson(list);
  }
  const group = /^\/apis\/([^/]+)$/.exec(path)?.[1];
  if (group) {
    const g = discovery.apiGroup(group);
    if (g) return sendJson(g);
  }
  if (path === '/version') return sendJson(ctx.deps.version);
  if (/^\/(healthz|livez|readyz)(\/[^/]+)?$/.test(path)) {
    const h = health(ctx.deps, path, query);
    res.writeHead(h.ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end(h.text);
    return;
  }
  if (path === '/metrics') {
    const m = await ctx.deps.metrics();
    res.writeHead(200, { 'content-type': m.contentType });
    res.end(m.body);
    return;
  }
  const doc = serveOpenAPI({ method: req.method, url: req.url, headers: req.headers });
  if (doc) {
    res.writeHead(doc.status, doc.headers);
    if (req.method === 'HEAD') res.end();
    else res.end(doc.body);
    return;
  }
  throw new ApiError(grpc.status.NOT_FOUND, 'NotFound', 404, 'the server could not find the requested resource');
}

export type { HttpDeps } from './context';
