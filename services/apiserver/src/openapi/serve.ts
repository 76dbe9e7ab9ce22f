// Answers the OpenAPI URLs as kube-apiserver does (kube-openapi's handler and handler3),
// without depending on any HTTP framework: the caller passes the request's method, URL and
// headers and writes back the status, headers and body returned.
//
//   GET /openapi/v2                 Swagger 2.0 JSON. client-go asks only for protobuf
//                                   (application/com.github.proto-openapi.spec.v2@v1.0+protobuf),
//                                   which k8ts does not serve: that request gets 406, as
//                                   kube-openapi answers an Accept it cannot meet.
//   GET /openapi/v3                 the index (JSON whatever the Accept), with an ETag.
//   GET /openapi/v3/<entry>         an OpenAPI 3.0 document (JSON; protobuf is refused with 406).
//                                   With ?hash= equal to its hash: Cache-Control public,
//                                   immutable and an Expires a year ahead; with a stale hash:
//                                   301 to the current URL. Without: just the ETag.
// Every document answers If-None-Match (and If-Modified-Since) with 304, HEAD without a body,
// and a gzip body when the client accepts it (client-go always does).
import { gzipSync } from 'zlib';
import { BUILT_AT, openapiHash, openapiV2, openapiV3Document, openapiV3Index, type OpenAPIBody } from './documents';

export interface OpenAPIRequest {
  method?: string;
  /** The request target: path and query ("/openapi/v3/api/v1?hash=..."). */
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface OpenAPIResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const JSON_TYPE = 'application/json';

interface AcceptClause {
  type: string;
  subtype: string;
  q: number;
}

function header(request: OpenAPIRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Accept clauses by preference: higher q first, then specific types before wildcards (goautoneg's order). */
export function parseAccept(accept: string | undefined): AcceptClause[] {
  const clauses: AcceptClause[] = [];
  for (const part of (accept === undefined || accept.trim() === '' ? '*/*' : accept).split(',')) {
    const [range, ...params] = part.split(';').map((s) => s.trim());
    const [type, subtype] = range.split('/');
    if (!type || subtype === undefined) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!(q > 0)) continue;
    clauses.push({ type: type.toLowerCase(), subtype: subtype.toLowerCase(), q });
  }
  const wildness = (c: AcceptClause): number => (c.type === '*' ? 2 : c.subtype === '*' ? 1 : 0);
  return clauses.map((c, i) => ({ c, i })).sort((a, b) => b.c.q - a.c.q || wildness(a.c) - wildness(b.c) || a.i - b.i).map((x) => x.c);
}

/** Whether the Accept header admits JSON (the only form of the documents served). */
export function acceptsJson(accept: string | undefined): boolean {
  return parseAccept(accept).some((c) => (c.type === 'application' || c.type === '*') && (c.subtype === 'json' || c.subtype === '*'));
}

function status(code: number, reason: string, message: string, headers: Record<string, string> = {}): OpenAPIResponse {
  const body = Buffer.from(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  return { status: code, headers: { 'Content-Type': JSON_TYPE, ...headers }, body };
}

function notAcceptable(accept: string | undefined): OpenAPIResponse {
  return status(406, 'NotAcceptable', `the OpenAPI documents are served as application/json only (accepted: ${(accept ?? '').slice(0, 200)})`, { Vary: 'Accept' });
}

const gzipped = new WeakMap<Buffer, Buffer>();

function gzipOf(body: Buffer): Buffer {
  let out = gzipped.get(body);
  if (!out) {
    out = gzipSync(body);
    gzipped.set(body, out);
  }
  return out;
}

function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

function notModifiedSince(ifModifiedSince: string | undefined): boolean {
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && Math.floor(BUILT_AT.getTime() / 1000) * 1000 <= since;
}

/** 200 with the document (or 304), as Go's http.ServeContent answers. */
function content(request: OpenAPIRequest, document: OpenAPIBody, extraHeaders: Record<string, string>): OpenAPIResponse {
  const etag = `"${document.hash}"`;
  const headers: Record<string, string> = { 'Content-Type': JSON_TYPE, ETag: etag, 'Last-Modified': BUILT_AT.toUTCString(), ...extraHeaders };
  const ifNoneMatch = header(request, 'if-none-match');
  if (etagMatches(ifNoneMatch, etag) || (ifNoneMatch === undefined && notModifiedSince(header(request, 'if-modified-since')))) {
    delete headers['Content-Type'];
    return { status: 304, headers, body: Buffer.alloc(0) };
  }
  let body = document.json;
  if (/\bgzip\b/i.test(header(request, 'accept-encoding') ?? '')) {
    body = gzipOf(document.json);
    headers['Content-Encoding'] = 'gzip';
    headers.Vary = headers.Vary ? `${headers.Vary}, Accept-Encoding` : 'Accept-Encoding';
  }
  headers['Content-Length'] = String(body.length);
  return { status: 200, headers, body: request.method === 'HEAD' ? Buffer.alloc(0) : body };
}

function serveV2(request: OpenAPIRequest): OpenAPIResponse {
  const accept = header(request, 'accept');
  if (!acceptsJson(accept)) return notAcceptable(accept);
  return content(request, openapiV2(), { Vary: 'Accept' });
}

let indexBody: OpenAPIBody | undefined;

function serveV3Index(request: OpenAPIRequest): OpenAPIResponse {
  if (!indexBody) {
    const json = Buffer.from(JSON.stringify(openapiV3Index()));
    indexBody = { json, hash: openapiHash(json) };
  }
  return content(request, indexBody, {});
}

function oneYearFromNow(): string {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d.toUTCString();
}

function serveV3Entry(request: OpenAPIRequest, entry: string, query: URLSearchParams): OpenAPIResponse {
  const document = openapiV3Document(entry);
  if (!document) return status(404, 'NotFound', `no OpenAPI v3 document for "${entry}"`);
  const accept = header(request, 'accept');
  if (!acceptsJson(accept)) return notAcceptable(accept);
  const hash = query.get('hash');
  if (hash !== null && hash !== '' && hash !== document.hash) {
    const location = `/openapi/v3/${entry}?hash=${document.hash}`;
    return { status: 301, headers: { Location: location, Vary: 'Accept', 'Content-Length': '0' }, body: Buffer.alloc(0) };
  }
  // A URL with the hash names one version of the document: it may be cached for good.
  const caching: Record<string, string> = hash === document.hash ? { 'Cache-Control': 'public, immutable', Expires: oneYearFromNow() } : {};
  return content(request, document, { Vary: 'Accept', ...caching });
}

/**
 * The response to a request for /openapi/v2, /openapi/v3 or /openapi/v3/<entry>; undefined
 * for any other path (the caller routes it elsewhere). Only GET and HEAD are answered (405
 * otherwise).
 */
export function serveOpenAPI(request: OpenAPIRequest): OpenAPIResponse | undefined {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (path !== '/openapi/v2' && path !== '/openapi/v3' && !path.startsWith('/openapi/v3/')) return undefined;
  const method = (request.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return status(405, 'MethodNotAllowed', `${method} is not supported on ${path}`, { Allow: 'GET, HEAD' });
  if (path === '/openapi/v2') return serveV2(request);
  if (path === '/openapi/v3') return serveV3Index(request);
  return serveV3Entry(request, decodeURIComponent(path.slice('/openapi/v3/'.length)), url.searchParams);
}
