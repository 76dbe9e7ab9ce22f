// How the HTTP API answers: content negotiation (JSON, YAML, meta.k8s.io Tables; protobuf
// refused so that clients fall back to JSON), objects in their Kubernetes JSON form (encoded
// once per cached object version and shared by every list and watch that sends it), and
// errors as Kubernetes' Status objects with the HTTP code and reason kubectl expects.
import type * as http from 'http';
import * as grpc from '@grpc/grpc-js';
import type * as http2 from 'http2';
import { type KindInfo, toK8sJson } from '@k8ts/api';
import { boundStatus, HTTP_STATUS_LIMITS } from '../errorlimits';
import { ApiError } from '../errors';
import type { ApiObject } from '../strategies/types';

export type Request = http.IncomingMessage | http2.Http2ServerRequest;
export type Response = http.ServerResponse | http2.Http2ServerResponse;

/** What the client asked to get back. */
export type Format = 'json' | 'yaml' | 'table';

interface MediaType {
  type: string;
  params: Record<string, string>;
}

function parseAccept(accept: string | undefined): MediaType[] {
  if (!accept) return [{ type: '*/*', params: {} }];
  return accept.split(',').map((part) => {
    const [type, ...ps] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of ps) {
      const i = p.indexOf('=');
      if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"|"$/g, '');
    }
    return { type: type.toLowerCase(), params };
  });
}

/**
 * The format of a response, from Accept, in the client's order (as Kubernetes' negotiation):
 * a Table when `as=Table` (g=meta.k8s.io, v=v1 or v1beta1) is offered and allowed here, JSON or
 * YAML otherwise. Protobuf is not served: a client offering only protobuf gets 406.
 */
export function negotiate(accept: string | undefined, tableAllowed: boolean): Format {
  for (const m of parseAccept(accept)) {
    const as = m.params.as;
    if (as !== undefined) {
      if (as === 'Table' && tableAllowed && (m.params.g ?? '') === 'meta.k8s.io' && (m.params.v === 'v1' || m.params.v === 'v1beta1')) return 'table';
      continue;
    }
    if (m.type === 'application/json' || m.type === 'application/*' || m.type === '*/*' || m.type === 'application/json-seq') return 'json';
    if (m.type === 'application/yaml') return 'yaml';
  }
  throw new ApiError(
    grpc.status.INVALID_ARGUMENT,
    'NotAcceptable',
    406,
    `the server was unable to respond with a content type that the client supports (accepted: ${(accept ?? '').slice(0, 200)}; offered: application/json, application/yaml)`,
  );
}

/**
 * The Kubernetes JSON bytes of a cached object (never mutated), encoded once and shared by
 * every response that sends it: a 10,000-item List or a watch event to 1,000 watchers encodes
 * each object once, as the gRPC door shares its protobuf bytes.
 */
const jsonBytes = new WeakMap<object, Buffer>();

export function objectBytes(kind: KindInfo, obj: ApiObject): Buffer {
  let bytes = jsonBytes.get(obj);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(objectValue(kind, obj)));
    jsonBytes.set(obj, bytes);
  }
  return bytes;
}

export function objectJson(kind: KindInfo, obj: ApiObject): string {
  return objectBytes(kind, obj).toString('utf8');
}

/**
 * The parsed JSON value of a cached object, for Tables (printer columns read the JSON form);
 * kept only for objects a Table was asked for. Callers must not change it.
 */
const jsonValues = new WeakMap<object, Record<string, unknown>>();

export function sharedObjectValue(kind: KindInfo, obj: ApiObject): Record<string, unknown> {
  let value = jsonValues.get(obj);
  if (value === undefined) {
    value = JSON.parse(objectBytes(kind, obj).toString('utf8')) as Record<string, unknown>;
    jsonValues.set(obj, value);
  }
  return value;
}

/** An object's Kubernetes JSON value, apiVersion and kind first. */
export function objectValue(kind: KindInfo, obj: ApiObject): Record<string, unknown> {
  const json = toK8sJson(kind.typeName, obj);
  delete json.apiVersion;
  delete json.kind;
  return { apiVersion: kind.apiVersion, kind: kind.kind, ...json };
}

let yamlLib: typeof import('yaml') | undefined;
function toYaml(value: unknown): string {
  yamlLib ??= require('yaml') as typeof import('yaml');
  return yamlLib.stringify(value);
}

/** Writes a JSON body (already encoded) or its YAML form. */
export function sendText(res: Response, code: number, format: Format, jsonBody: string | Buffer, headers: Record<string, string> = {}): void {
  const body = format === 'yaml' ? toYaml(JSON.parse(jsonBody.toString())) : jsonBody;
  const type = format === 'yaml' ? 'application/yaml' : format === 'table' ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json';
  (res as http.ServerResponse).writeHead(code, { 'content-type': type, 'cache-control': 'no-cache, private', ...headers });
  (res as http.ServerResponse).end(body);
}

export function sendValue(res: Response, code: number, format: Format, value: unknown, headers: Record<string, string> = {}): void {
  sendText(res, code, format === 'table' ? 'json' : format, JSON.stringify(value), headers);
}

/** A Kubernetes metav1.Status of an error, in its JSON form, bounded as HTTP_STATUS_LIMITS say. */
export function statusJson(err: ApiError): Record<string, unknown> {
  const bounded = boundStatus(err.toStatus(), HTTP_STATUS_LIMITS);
  const d = bounded.details ?? {};
  const out: Record<string, unknown> = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: bounded.message, reason: err.reason };
  const details: Record<string, unknown> = {};
  if (d.name) details.name = d.name;
  if (d.group) details.group = d.group;
  if (d.kind) details.kind = d.kind;
  if (d.uid) details.uid = d.uid;
  if ((d.causes ?? []).length > 0) details.causes = d.causes!.map((c) => ({ reason: c.reason, message: c.message, field: c.field }));
  if (err.retryAfterSeconds > 0) details.retryAfterSeconds = err.retryAfterSeconds;
  if (Object.keys(details).length > 0) out.details = details;
  out.code = err.httpCode;
  if (!out.reason) delete out.reason;
  return out;
}

/** The success Status some deletes answer with. */
export function successStatus(details: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

/** Writes an error as a Status (always JSON, as Kubernetes does for errors). */
export function sendError(res: Response, err: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-cache, private' };
  if (err.retryAfterSeconds > 0) headers['retry-after'] = String(err.retryAfterSeconds);
  (res as http.ServerResponse).writeHead(err.httpCode, headers);
  (res as http.ServerResponse).end(JSON.stringify(statusJson(err)));
}
