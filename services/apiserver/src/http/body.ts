// Request bodies: read with a size bound (Kubernetes' 3 MiB), parsed as JSON or YAML
// (protobuf refused with 415 so that clients send JSON), and decoded into an object of the
// request's kind under the request's field validation (Strict, Warn, Ignore), with
// Kubernetes' messages for malformed bodies, unknown fields and duplicate fields.
import * as grpc from '@grpc/grpc-js';
import { DecodeError, type KindInfo, fromK8sJson } from '@k8ts/api';
import { K8S_PROTOBUF_MEDIA_TYPE, K8sProtoError, decodeK8sProtoBody } from '@k8ts/machinery';
import { ApiError, badRequest } from '../errors';
import type { ApiObject } from '../strategies/types';
import type { Request } from './respond';

/** Kubernetes' limit on a request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Reads the whole body; over the limit the request fails with 413 at once. */
export function readBody(req: Request, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      reject(new ApiError(grpc.status.RESOURCE_EXHAUSTED, 'RequestEntityTooLarge', 413, `Request entity too large: limit is ${limit}`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(new ApiError(grpc.status.RESOURCE_EXHAUSTED, 'RequestEntityTooLarge', 413, `Request entity too large: limit is ${limit}`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

/** The media type of a request body, without parameters. */
export function mediaType(req: Request): string {
  return String(req.headers['content-type'] ?? 'application/json')
    .split(';')[0]
    .trim()
    .toLowerCase();
}

export function unsupportedMediaType(type: string, supported: string[]): ApiError {
  return new ApiError(grpc.status.INVALID_ARGUMENT, 'UnsupportedMediaType', 415, `the body of the request was in an unknown format - accepted media types include: ${supported.join(', ')}`, {
    subject: { kind: type },
  });
}

/** The body types every object-carrying request accepts. */
export const OBJECT_MEDIA_TYPES = ['application/json', 'application/yaml', K8S_PROTOBUF_MEDIA_TYPE];

/**
 * A request body as Kubernetes JSON, whatever it came as: JSON, YAML, or Kubernetes'
 * protobuf (what kubectl's typed clients send: the `k8s\0` envelope around the object in
 * Kubernetes' own field numbers, decoded through the k8s_tag options of proto/ into the
 * message `typeName`). Protobuf has no strict decoding in Kubernetes: unknown field numbers
 * are dropped. Other media types: 415.
 */
export function parseRequestValue(body: Buffer, type: string, typeName: string, what: string): unknown {
  if (type === K8S_PROTOBUF_MEDIA_TYPE) {
    try {
      return decodeK8sProtoBody(body, typeName).object;
    } catch (err) {
      if (err instanceof K8sProtoError) throw badRequest(`${what}: ${truncate(err.message, 300)}`);
      throw err;
    }
  }
  if (type !== 'application/json' && type !== 'application/yaml') throw unsupportedMediaType(type, OBJECT_MEDIA_TYPES);
  return parseBody(body, type, what);
}

let yamlLib: typeof import('yaml') | undefined;

/** Parses a JSON or YAML body into a value; malformed input is a 400 naming the problem. */
export function parseBody(body: Buffer, type: string, what: string): unknown {
  const text = body.toString('utf8');
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    yamlLib ??= require('yaml') as typeof import('yaml');
    try {
      return yamlLib.parse(text, { uniqueKeys: true, maxAliasCount: 100 });
    } catch (err) {
      throw badRequest(`${what}: yaml: ${truncate((err as Error).message, 300)}`);
    }
  }
  if (text.trim() === '') throw badRequest(`${what}: the request body is empty`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`${what}: json parse error: ${truncate((err as Error).message, 300)}`);
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}

/**
 * Paths of keys that occur twice in one JSON object ("spec.replicas"), found by a scan of
 * the text (JSON.parse keeps the last one silently, as Go's decoder does unless strict).
 */
export function duplicateFields(text: string): string[] {
  const out: string[] = [];
  // A stack of open containers: objects keep their path, keys seen and the pending key.
  const stack: { obj: boolean; path: string; keys: Set<string>; key: string; index: number }[] = [];
  const childPath = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    if (top.obj) return top.path ? `${top.path}.${top.key}` : top.key;
    return `${top.path}[${top.index}]`;
  };
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') {
          s += text.slice(j, j + 2);
          j += 2;
        } else s += text[j++];
      }
      const top = stack[stack.length - 1];
      if (expectKey && top?.obj) {
        let key: string;
        try {
          key = JSON.parse(`"${s}"`) as string;
        } catch {
          key = s;
        }
        if (top.keys.has(key)) out.push(top.path ? `${top.path}.${key}` : key);
        top.keys.add(key);
        top.key = key;
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push({ obj: true, path: childPath(), keys: new Set(), key: '', index: 0 });
      expectKey = true;
    } else if (c === '[') {
      stack.push({ obj: false, path: childPath(), keys: new Set(), key: '', index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.obj) expectKey = true;
      else if (top) top.index++;
    }
  }
  return out;
}

export interface Decoded {
  obj: ApiObject;
  /** Unknown or duplicate fields under fieldValidation=Warn, as Kubernetes words them. */
  warnings: string[];
}

/** Reads ?fieldValidation= (default Warn, as Kubernetes). */
export function fieldValidation(query: URLSearchParams): FieldValidation {
  const v = query.get('fieldValidation') ?? '';
  if (v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${JSON.stringify(truncate(v, 40))}`);
}

/**
 * Decodes a parsed body into an object of `kind`: a wrong apiVersion or kind is a 400; a
 * value of the wrong type is a 400 naming every field; unknown and duplicate fields are
 * refused (Strict), reported as warnings (Warn) or dropped (Ignore).
 */
export function decodeObject(kind: KindInfo, value: unknown, rawText: string | undefined, validation: FieldValidation): Decoded {
  const handled = `${kind.kind} in version "${kind.version}" cannot be handled as a ${kind.kind}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(`${handled}: the body must be a JSON object`);
  const v = value as Record<string, unknown>;
  if (v.apiVersion !== undefined && v.apiVersion !== kind.apiVersion) {
    throw badRequest(`the API version in the data (${truncate(String(v.apiVersion), 60)}) does not match the expected API version (${kind.apiVersion})`);
  }
  if (v.kind !== undefined && v.kind !== kind.kind) {
    throw badRequest(`the kind in the data (${truncate(String(v.kind), 60)}) does not match the expected kind (${kind.kind})`);
  }
  const unknown: string[] = [];
  let obj: ApiObject;
  try {
    obj = fromK8sJson<ApiObject>(kind.typeName, v, { unknownFields: 'error' });
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    const bad = err.problems.filter((p) => p.reason !== 'unknown field');
    if (bad.length > 0) {
      const shown = bad.slice(0, 10).map((p) => `${p.field || '<root>'}: ${p.reason}`);
      if (bad.length > 10) shown.push(`and ${bad.length - 10} more`);
      throw badRequest(`${handled}: ${shown.join(', ')}`);
    }
    for (const p of err.problems) unknown.push(`unknown field ${JSON.stringify(p.field)}`);
    obj = fromK8sJson<ApiObject>(kind.typeName, v, { unknownFields: 'ignore' });
  }
  const problems = [...unknown, ...(rawText ? duplicateFields(rawText).map((f) => `duplicate field ${JSON.stringify(f)}`) : [])];
  if (problems.length > 0 && validation === 'Strict') throw badRequest(`${handled}: strict decoding error: ${problems.slice(0, 20).join(', ')}`);
  return { obj, warnings: validation === 'Warn' ? problems : [] };
}
