// What `apply` sends when the object exists: the live object with what the manifest sets
// laid over it, so that fields the server owns (resourceVersion, uid, status, clusterIP,
// nodePort, defaults) are kept and only what the manifest says is replaced.
//
// It is a three-way merge, like kubectl's client-side apply: the manifest applied last time
// is kept in the annotation kubectl.kubernetes.io/last-applied-configuration, and a field
// that was in that manifest but is no longer in the new one is removed. Lists of objects are
// merged element by element when the elements have a key (containers, env and volumes by
// name, ports by port number), so the server's defaults inside each element survive; other
// lists are replaced.
//
// Everything here works on the Kubernetes JSON form (plain objects, as in manifests).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys that identify the elements of a list, tried in order. */
const MERGE_KEYS: string[][] = [['name'], ['containerPort', 'protocol'], ['port', 'protocol'], ['ip'], ['type']];

function keyOf(el: Json, fields: string[]): string | undefined {
  if (!isObject(el)) return undefined;
  if (el[fields[0]] === undefined || el[fields[0]] === null) return undefined;
  // A missing second field (protocol) means its default: TCP.
  return fields.map((f, i) => (i === 0 ? String(el[f]) : String(el[f] ?? 'TCP'))).join('\u0000');
}

/** The key fields that identify every element of the list uniquely, if any. */
export function mergeKeyFor(list: Json[]): string[] | undefined {
  if (list.length === 0 || !list.every(isObject)) return undefined;
  for (const fields of MERGE_KEYS) {
    const keys = list.map((el) => keyOf(el, fields));
    if (keys.every((k) => k !== undefined) && new Set(keys).size === keys.length) return fields;
  }
  return undefined;
}

function clone<T extends Json>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * Merges `desired` (the new manifest) over `live`, removing what `last` (the previous
 * manifest) set and `desired` no longer does.
 */
export function threeWayMerge(live: Json | undefined, desired: Json, last: Json | undefined): Json {
  if (isObject(desired)) {
    if (!isObject(live)) return clone(desired);
    const out: JsonObject = clone(live);
    for (const [k, v] of Object.entries(desired)) {
      if (v === null) {
        // An explicit null removes the field, as in a JSON merge patch.
        delete out[k];
        continue;
      }
      out[k] = threeWayMerge(live[k], v, isObject(last) ? last[k] : undefined);
    }
    if (isObject(last)) {
      for (const k of Object.keys(last)) if (!(k in desired)) delete out[k];
    }
    return out;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return clone(desired);
    const fields = mergeKeyFor(desired);
    if (!fields || !live.every((el) => keyOf(el, fields) !== undefined)) return clone(desired);
    const lastList = Array.isArray(last) && last.every((el) => keyOf(el, fields) !== undefined) ? last : [];
    return desired.map((d) => {
      const k = keyOf(d, fields);
      const l = live.find((el) => keyOf(el, fields) === k);
      const prev = lastList.find((el) => keyOf(el, fields) === k);
      return l === undefined ? clone(d) : threeWayMerge(l, d, prev);
    });
  }
  return desired;
}

/** Structural equality of JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The manifest as recorded in the last-applied annotation: without status, compact JSON. */
export function lastAppliedText(manifest: JsonObject): string {
  const copy = clone(manifest);
  delete copy.status;
  if (isObject(copy.metadata)) {
    const md = copy.metadata;
    if (isObject(md.annotations)) {
      delete md.annotations[LAST_APPLIED];
      if (Object.keys(md.annotations).length === 0) delete md.annotations;
    }
  }
  return `${JSON.stringify(copy)}\n`;
}

/** The previous manifest from the live object's annotation, if it holds valid JSON. */
export function lastAppliedOf(live: JsonObject): JsonObject | undefined {
  const md = live.metadata;
  const text = isObject(md) && isObject(md.annotations) ? md.annotations[LAST_APPLIED] : undefined;
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text) as Json;
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The object to send for `apply` when `live` exists: the merge of the manifest over it, with
 * the annotation recording the manifest. Status is left as it is (the server ignores it).
 */
export function applyPatch(live: JsonObject, manifest: JsonObject): JsonObject {
  const last = lastAppliedOf(live);
  const desired = clone(manifest);
  delete desired.status;
  const merged = threeWayMerge(live, desired, last) as JsonObject;
  const md: JsonObject = isObject(merged.metadata) ? merged.metadata : {};
  const annotations: JsonObject = isObject(md.annotations) ? md.annotations : {};
  annotations[LAST_APPLIED] = lastAppliedText(manifest);
  md.annotations = annotations;
  merged.metadata = md;
  return merged;
}

/** The object to create for `apply` when nothing exists yet: the manifest plus the annotation. */
export function withLastApplied(manifest: JsonObject): JsonObject {
  const out = clone(manifest);
  const md: JsonObject = isObject(out.metadata) ? out.metadata : {};
  const annotations: JsonObject = isObject(md.annotations) ? md.annotations : {};
  annotations[LAST_APPLIED] = lastAppliedText(manifest);
  md.annotations = annotations;
  out.metadata = md;
  return out;
}
