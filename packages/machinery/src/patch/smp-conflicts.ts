// Whether two strategic merge patches collide (strategicpatch.MergingMapsHaveConflicts):
// kubectl apply --overwrite=false refuses a patch that changes a key someone else changed
// differently since the last apply. Keys present in both patches conflict when their
// values differ; merging lists of objects are compared element by element by merge key,
// merging lists of scalars never conflict, other lists conflict unless equal (scalar lists
// compared as sets).
import { PatchError, goFormat } from './errors';
import { isJsonObject, jsonEqual, type JsonObject, type JsonValue } from './json';
import { lookupField, type SchemaNode } from './patch-meta';
import { DIRECTIVE, deduplicateScalars, MERGE, REPLACE, RETAIN_KEYS, scalarText, sliceElementKind, sortScalars } from './smp-common';

const UNKNOWN: SchemaNode = { kind: 'unknown' };

function fieldsHaveConflicts(left: JsonValue, right: JsonValue, node: SchemaNode, strategy: string, mergeKey: string): boolean {
  if (isJsonObject(left)) {
    if (!isJsonObject(right)) return true;
    const leftMarker = Object.hasOwn(left, DIRECTIVE);
    const rightMarker = Object.hasOwn(right, DIRECTIVE);
    // A directive acts on the whole object: one side with it and the other without, or two different ones, conflict.
    if ((leftMarker || rightMarker) && (leftMarker !== rightMarker || left[DIRECTIVE] !== right[DIRECTIVE])) return true;
    if (strategy === REPLACE) return false;
    return mergingMapsHaveConflicts(left, right, node);
  }
  if (Array.isArray(left)) {
    if (!Array.isArray(right)) return true;
    return slicesHaveConflicts(left, right, node, strategy, mergeKey);
  }
  return !jsonEqual(left, right);
}

/** True when the two patches set a key they both hold to different values. */
export function mergingMapsHaveConflicts(left: JsonObject, right: JsonObject, node: SchemaNode): boolean {
  for (const [key, leftValue] of Object.entries(left)) {
    if (key === DIRECTIVE || key === RETAIN_KEYS || !Object.hasOwn(right, key)) continue;
    const nested = isJsonObject(leftValue) || Array.isArray(leftValue);
    const { node: sub, meta } = nested ? lookupField(node, key, key) : { node: UNKNOWN, meta: { strategy: '', mergeKey: '' } };
    if (fieldsHaveConflicts(leftValue, right[key], sub, meta.strategy, meta.mergeKey)) return true;
  }
  return false;
}

/** A merging list of objects keyed by the %v text of its merge key. */
function byMergeKey(list: JsonValue[], mergeKey: string): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>();
  for (const v of list) {
    if (!isJsonObject(v)) throw new PatchError(`invalid element type in merging list:${goFormat(list)}`, 'Unknown');
    if (!(mergeKey in v)) throw new PatchError(`cannot find merge key \`${mergeKey}\` in merging list element:${goFormat(v)}`, 'Unknown');
    out.set(scalarText(v[mergeKey]), v);
  }
  return out;
}

function slicesHaveConflicts(left: JsonValue[], right: JsonValue[], node: SchemaNode, strategy: string, mergeKey: string): boolean {
  const kind = sliceElementKind([left, right], '');
  if (strategy === MERGE) {
    if (kind !== 'map') return false;
    const rightByKey = byMergeKey(right, mergeKey);
    for (const [k, v] of byMergeKey(left, mergeKey)) {
      const other = rightByKey.get(k);
      if (other !== undefined && fieldsHaveConflicts(v, other, node, '', '')) return true;
    }
    return false;
  }
  if (left.length !== right.length) return true;
  const l = kind === 'map' ? left : sortScalars(deduplicateScalars([...left]));
  const r = kind === 'map' ? right : sortScalars(deduplicateScalars([...right]));
  return l.some((v, i) => fieldsHaveConflicts(v, r[i], node, '', ''));
}
