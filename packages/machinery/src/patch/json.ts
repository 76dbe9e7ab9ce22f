// JSON values as the patch functions see them (what JSON.parse returns and what toK8sJson
// produces), with the few helpers every patch type needs: a deep copy that accepts any
// plain object, structural equality, and the kind of a value in Go's terms, because
// Kubernetes' patch code compares the Go types of decoded JSON values.

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The kind of a JSON value, as Go's reflect.TypeOf tells decoded JSON apart. */
export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function jsonKind(v: JsonValue): JsonKind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v as 'string' | 'number' | 'boolean';
}

/**
 * A deep copy of a plain JSON-like value. Object properties that are undefined are left out
 * (as JSON.stringify does); a value that JSON cannot hold is refused with a TypeError.
 */
export function cloneJson(v: unknown): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map((e) => cloneJson(e === undefined ? null : e));
  if (typeof v === 'object') {
    const out: JsonObject = {};
    for (const [k, e] of Object.entries(v as Record<string, unknown>)) if (e !== undefined) out[k] = cloneJson(e);
    return out;
  }
  throw new TypeError(`a ${typeof v} is not a JSON value`);
}

/** Structural equality: objects by their keys in any order, arrays in order (reflect.DeepEqual on decoded JSON). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}
