// JSON merge patch (RFC 7386, application/merge-patch+json) as Kubernetes' apiserver applies
// it, with evanphx/json-patch v4: a null deletes a key, an object merges into an object, and
// anything else (arrays included) replaces the value whole. Nulls inside a value that has
// nothing to merge into are dropped, since merging into nothing is merging into {}.
// A patch that is neither an object nor an array is a 400 ("Invalid JSON Patch").
import { PatchError } from './errors';
import { cloneJson, isJsonObject, type JsonObject, type JsonValue } from './json';

/** Drops null members of objects, at every depth (array elements stay, even null ones). */
function pruneNulls(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map((e) => (e === null ? e : pruneNulls(e)));
  if (!isJsonObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, e] of Object.entries(v)) if (e !== null) out[k] = pruneNulls(e);
  return out;
}

/** The value of one key after patching: evanphx's merge(cur, patch). */
function mergeValue(current: JsonValue, patch: JsonValue): JsonValue {
  if (!isJsonObject(current)) return pruneNulls(patch);
  if (!isJsonObject(patch)) return patch;
  mergeObjects(current, patch);
  return current;
}

/** Merges patch into doc, in place. */
function mergeObjects(doc: JsonObject, patch: JsonObject): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete doc[k];
      continue;
    }
    const current = doc[k];
    doc[k] = current === undefined || current === null ? pruneNulls(v) : mergeValue(current, v);
  }
}

/**
 * Applies a JSON merge patch (RFC 7386) to a copy of doc and returns the result; doc is left
 * as it was. Throws a PatchError 400 (BadRequest) "Invalid JSON Patch" when the patch is
 * neither an object nor an array (an array patch replaces the document, as evanphx does).
 */
export function applyMergePatch(doc: unknown, patch: unknown): JsonValue {
  if (patch === null || typeof patch !== 'object') throw new PatchError('Invalid JSON Patch', 'BadRequest');
  if (doc === null || doc === undefined) throw new PatchError('Invalid JSON Document', 'Unknown');
  const p = cloneJson(patch);
  if (Array.isArray(p)) return pruneNulls(p);
  const d = cloneJson(doc);
  if (!isJsonObject(d)) return pruneNulls(p);
  mergeObjects(d, p as JsonObject);
  return d;
}
