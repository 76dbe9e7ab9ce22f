// Reading a review's request body (Kubernetes JSON, already parsed) the way Kubernetes'
// decoder does: the body must be an object of the expected apiVersion and kind, a field of the
// wrong JSON type is a 400 BadRequest naming the field, absent and null fields read as empty,
// unknown fields are ignored. Also the rules every create applies before the REST handler:
// the object's namespace against the request's, and the Invalid error of a review
// (Kubernetes names the kind of a review "" in it: `.authorization.k8s.io "" is invalid: ...`).
import * as grpc from '@grpc/grpc-js';
import { ApiError, badRequest, type FieldError } from '../errors';

export type JsonObject = Record<string, unknown>;

/** The type a body is read as. */
export interface ReviewKind {
  group: string;
  version: string;
  kind: string;
}

export const apiVersionOf = (k: ReviewKind): string => `${k.group}/${k.version}`;

/** The JSON type of a value as Go's decoder names it in errors. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

const childPath = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** Reads the fields of one body, naming its kind and the field path in every error. */
export class BodyReader {
  constructor(readonly kind: ReviewKind) {}

  private cannotDecode(path: string, expected: string, value: unknown): ApiError {
    const k = this.kind.kind;
    return badRequest(
      `${k} in version ${JSON.stringify(this.kind.version)} cannot be handled as a ${k}: json: cannot unmarshal ${jsonType(value)} into Go struct field ${k}.${path} of type ${expected}`,
    );
  }

  /** The body as an object of this kind (a copy: the caller's object is never changed). */
  body(body: unknown): JsonObject {
    if (!isObject(body)) throw badRequest(`the request body must be a ${this.kind.kind} object, got ${jsonType(body)}`);
    const apiVersion = body.apiVersion;
    if (apiVersion !== undefined && apiVersion !== null && apiVersion !== '' && apiVersion !== apiVersionOf(this.kind)) {
      throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${apiVersionOf(this.kind)})`);
    }
    const kind = body.kind;
    if (kind !== undefined && kind !== null && kind !== '' && kind !== this.kind.kind) {
      throw badRequest(`${String(kind)} in version ${JSON.stringify(this.kind.version)} cannot be handled as a ${this.kind.kind}: the kind in the data is not ${this.kind.kind}`);
    }
    return structuredClone(body);
  }

  /** An object field; undefined when absent or null. */
  object(parent: JsonObject, key: string, path: string): JsonObject | undefined {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) throw this.cannotDecode(childPath(path, key), 'object', v);
    return v;
  }

  /** A string field; '' when absent or null. */
  string(parent: JsonObject, key: string, path: string): string {
    const v = parent[key];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw this.cannotDecode(childPath(path, key), 'string', v);
    return v;
  }

  /** A list of strings; [] when absent or null. */
  strings(parent: JsonObject, key: string, path: string): string[] {
    const v = parent[key];
    if (v === undefined || v === null) return [];
    const at = childPath(path, key);
    if (!Array.isArray(v)) throw this.cannotDecode(at, '[]string', v);
    return v.map((item) => {
      if (typeof item !== 'string') throw this.cannotDecode(at, 'string', item);
      return item;
    });
  }

  /** A map of string lists (a user's extra); undefined when absent or null. */
  stringLists(parent: JsonObject, key: string, path: string): Record<string, string[]> | undefined {
    const v = this.object(parent, key, path);
    if (!v) return undefined;
    const out: Record<string, string[]> = {};
    for (const k of Object.keys(v)) out[k] = this.strings(v, k, childPath(path, key));
    return out;
  }

  /** A list of objects; [] when absent or null. */
  objects(parent: JsonObject, key: string, path: string): JsonObject[] {
    const v = parent[key];
    if (v === undefined || v === null) return [];
    const at = childPath(path, key);
    if (!Array.isArray(v)) throw this.cannotDecode(at, 'array', v);
    return v.map((item) => {
      if (!isObject(item)) throw this.cannotDecode(at, 'object', item);
      return item;
    });
  }
}

/**
 * Whether a value is the zero of its type, as Kubernetes' semantic equality sees it: absent,
 * null, '', 0, false, and empty lists and maps (kubectl sends `"metadata": {"creationTimestamp": null}`).
 */
export function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return isObject(v) && Object.keys(v).length === 0;
}

/** Whether metadata holds nothing but zero values, ignoring managedFields and the fields named. */
export function metadataIsEmpty(meta: JsonObject | undefined, ignore: readonly string[] = []): boolean {
  if (!meta) return true;
  return Object.entries(meta).every(([k, v]) => k === 'managedFields' || ignore.includes(k) || isZero(v));
}

/**
 * The object's namespace against the request's, as Kubernetes' create handler: an object without
 * one takes the request's, a cluster-scoped object loses its own, a different one is BadRequest.
 */
export function reconcileNamespace(obj: JsonObject, reader: BodyReader, requestNamespace: string): void {
  const meta = reader.object(obj, 'metadata', '') ?? {};
  const own = reader.string(meta, 'namespace', 'metadata');
  if (own === requestNamespace) return;
  if (own !== '' && requestNamespace !== '') throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  if (requestNamespace === '') delete meta.namespace;
  else meta.namespace = requestNamespace;
  obj.metadata = meta;
}

/**
 * Kubernetes' Invalid error of a review: the internal object has no kind, so the message names
 * only the group (`.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": ...`).
 */
export function invalidReview(group: string, causes: FieldError[]): ApiError {
  const texts = [...new Set(causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)))];
  const body = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  return new ApiError(grpc.status.INVALID_ARGUMENT, 'Invalid', 422, `.${group} "" is invalid: ${body}`, {
    subject: { group, kind: '', name: '' },
    causes,
  });
}
