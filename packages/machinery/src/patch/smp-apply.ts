// Applying a strategic merge patch (application/strategic-merge-patch+json), as Kubernetes'
// strategicpatch.StrategicMergeMapPatch does, driven by the API schema's patch markers:
//  - objects merge key by key; a null deletes a key; a field with patchStrategy "replace"
//    (and any $patch: replace object) is replaced whole, $patch: delete empties it;
//  - a list with patchStrategy "merge" merges: objects by their patchMergeKey (an element
//    {"name": "x", "$patch": "delete"} removes it, {"$patch": "replace"} makes the patch's
//    elements the whole list), scalars as a set; any other list is replaced;
//  - $deleteFromPrimitiveList/<field> removes scalars, $setElementOrder/<field> fixes the
//    order of the merged list, $retainKeys clears every key of the object it does not name;
//  - fields the schema does not know merge as in a JSON merge patch (objects merge, lists
//    are replaced).
// The same merge, with parallel lists kept rather than applied, combines the two halves of
// a three-way patch (smp-diff.ts).
import { PatchError, goFormat, jsonTypeWord } from './errors';
import { cloneJson, isJsonObject, jsonEqual, jsonKind, type JsonObject, type JsonValue } from './json';
import { lookupField, messageNode, nodeName, type PatchMeta, type SchemaNode } from './patch-meta';
import {
  childPath,
  DELETE,
  DELETE_FROM_PRIMITIVE_LIST,
  DIRECTIVE,
  deduplicateScalars,
  directiveTarget,
  discardNullValues,
  errBadArgType,
  errBadPatchFormatForRetainKeys,
  errBadPatchFormatForSetElementOrderList,
  errBadPatchType,
  errNoMergeKey,
  MERGE,
  type MergeOptions,
  REPLACE,
  RETAIN_KEYS,
  removeDirectives,
  SET_ELEMENT_ORDER,
  scalarText,
  sliceElementKind,
} from './smp-common';
import { extractToDeleteItems, findByMergeKey, normalizeElementOrder, partitionMaps, partitionPrimitives } from './smp-order';

const APPLY: MergeOptions = { mergeParallelList: true, ignoreUnmatchedNulls: true };

/** An object carrying $patch: "replace" is taken as it is (without the marker), "delete" becomes {}. */
function mergeDirective(patch: JsonObject, field: string): JsonObject {
  const directive = patch[DIRECTIVE];
  if (directive === REPLACE) {
    delete patch[DIRECTIVE];
    return patch;
  }
  if (directive === DELETE) return {};
  throw errBadPatchType(directive, patch, field);
}

/**
 * Merges patch into original, in place, and returns the result. Both may be changed: callers
 * pass copies. The schema node says which fields merge how.
 */
export function mergeMap(original: JsonObject | null, patch: JsonObject, node: SchemaNode, opts: MergeOptions, field: string): JsonObject {
  if (DIRECTIVE in patch) return mergeDirective(patch, field);
  const out = original ?? {};
  applyRetainKeysDirective(out, patch, opts, field);
  mergePatchIntoOriginal(out, patch, node, opts, field);
  for (const key of Object.keys(patch)) {
    if (Object.hasOwn(patch, key)) mergeKeyInto(out, key, patch[key], node, opts, field);
  }
  return out;
}

/** Sets original[key] to a patch value taken whole: nulls dropped when applying, directives removed. */
function takePatchValue(original: JsonObject, key: string, value: JsonValue, opts: MergeOptions): void {
  if (opts.ignoreUnmatchedNulls) discardNullValues(value);
  const kept = removeDirectives(value);
  if (kept === undefined) delete original[key];
  else original[key] = kept;
}

/** Merges one key of the patch into original. */
function mergeKeyInto(original: JsonObject, patchKey: string, value: JsonValue, node: SchemaNode, opts: MergeOptions, field: string): void {
  let key = patchKey;
  let isDeleteList = false;
  if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
    if (!opts.mergeParallelList) {
      original[key] = value;
      return;
    }
    key = directiveTarget(key, DELETE_FROM_PRIMITIVE_LIST, field);
    isDeleteList = true;
  }
  const path = childPath(field, key);
  if (value === null) {
    delete original[key];
    if (opts.ignoreUnmatchedNulls) return;
  }
  if (!Object.hasOwn(original, key) || jsonKind(original[key]) !== jsonKind(value)) {
    // Nothing to merge into (or a value of another type): the patch value is taken whole.
    // A deletion list never adds anything.
    if (!isDeleteList) takePatchValue(original, key, value, opts);
    return;
  }
  const current = original[key];
  if (isJsonObject(current) && isJsonObject(value)) {
    const { node: sub, meta } = lookupField(node, key, path);
    original[key] = meta.strategy === REPLACE ? value : mergeMap(current, value, sub, opts, path);
  } else if (Array.isArray(current) && Array.isArray(value)) {
    const { node: sub, meta } = lookupField(node, key, path);
    original[key] = mergeSliceHandler(current, value, sub, meta, isDeleteList, opts, path);
  } else {
    original[key] = value;
  }
}

/** A list field: merged when its strategy is merge (or for a deletion list), otherwise replaced. */
function mergeSliceHandler(original: JsonValue[], patch: JsonValue[], node: SchemaNode, meta: PatchMeta, isDeleteList: boolean, opts: MergeOptions, field: string): JsonValue[] {
  if (meta.strategy === MERGE || isDeleteList) return mergeSlice(original, patch, node, meta.mergeKey, opts, isDeleteList, field);
  return patch;
}

/** Merges two lists: objects by merge key, scalars as a set (or removed, for a deletion list); then orders the result. */
function mergeSlice(original: JsonValue[], patch: JsonValue[], node: SchemaNode, mergeKey: string, opts: MergeOptions, isDeleteList: boolean, field: string): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind([original, patch], field);
  let serverOrder = original;
  let patchOrder = patch;
  let merged: JsonValue[];
  if (kind !== 'map') {
    if (opts.mergeParallelList && isDeleteList) return deleteFromSlice(original, patch);
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (mergeKey === '') throw new PatchError(`cannot merge lists without merge key for ${nodeName(node)}`, 'Unknown', field);
    ({ original: serverOrder, patch: patchOrder } = applySpecialElements(original, patch, mergeKey, field));
    merged = mergeByKey(serverOrder, patchOrder, mergeKey, node, opts, field);
  }
  const { inPatch, serverOnly } = mergeKey === '' ? partitionPrimitives(merged, patchOrder) : partitionMaps(merged, patchOrder, mergeKey, field);
  return normalizeElementOrder(inPatch, serverOnly, patchOrder, serverOrder, mergeKey, kind, field);
}

/**
 * Applies the elements of a merging list that carry $patch: "delete" removes the original
 * elements with that key; "replace" makes the other patch elements the whole list.
 * Returns the original left and the patch elements still to merge.
 */
function applySpecialElements(original: JsonValue[], patch: JsonValue[], mergeKey: string, field: string): { original: JsonValue[]; patch: JsonValue[] } {
  const plain: JsonValue[] = [];
  let kept = original;
  let replace = false;
  for (const v of patch) {
    const m = v as JsonObject;
    if (!(DIRECTIVE in m)) {
      plain.push(v);
      continue;
    }
    const directive = m[DIRECTIVE];
    if (directive === DELETE) {
      if (!(mergeKey in m)) throw errNoMergeKey(m, mergeKey, field);
      kept = deleteMatchingEntries(kept, mergeKey, m[mergeKey], field);
    } else if (directive === REPLACE) {
      replace = true;
    } else if (directive === MERGE) {
      throw new PatchError('merging lists cannot yet be specified in the patch', 'Unknown', field);
    } else {
      throw errBadPatchType(directive, m, field);
    }
  }
  return replace ? { original: plain, patch: [] } : { original: kept, patch: plain };
}

function deleteMatchingEntries(list: JsonValue[], mergeKey: string, value: JsonValue, field: string): JsonValue[] {
  const out = [...list];
  for (let found = findByMergeKey(out, mergeKey, value, field); found; found = findByMergeKey(out, mergeKey, value, field)) out.splice(found.index, 1);
  return out;
}

/** Merges each patch element into the original element with the same key, or appends it. */
function mergeByKey(original: JsonValue[], patch: JsonValue[], mergeKey: string, node: SchemaNode, opts: MergeOptions, field: string): JsonValue[] {
  const out = [...original];
  for (const v of patch) {
    const m = v as JsonObject;
    if (!(mergeKey in m)) throw errNoMergeKey(m, mergeKey, field);
    const found = findByMergeKey(out, mergeKey, m[mergeKey], field);
    if (found) out[found.index] = mergeMap(found.item, m, node, opts, `${field}[${mergeKey}=${scalarText(m[mergeKey])}]`);
    else out.push(v);
  }
  return out;
}

function deleteFromSlice(current: JsonValue[], toDelete: JsonValue[]): JsonValue[] {
  const gone = new Set(toDelete);
  return current.filter((v) => !gone.has(v));
}

/**
 * $retainKeys: every key of original it does not name is cleared, and every non-null key of
 * the patch must be named (else a 400). When combining patches it is kept, not applied.
 */
function applyRetainKeysDirective(original: JsonObject, patch: JsonObject, opts: MergeOptions, field: string): void {
  if (!(RETAIN_KEYS in patch)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!opts.mergeParallelList) {
    if (!(RETAIN_KEYS in original)) original[RETAIN_KEYS] = retain;
    else if (!jsonEqual(original[RETAIN_KEYS], retain)) {
      throw new PatchError(`${goFormat(original[RETAIN_KEYS])} and ${goFormat(retain)} are not deep equal: this may happen when calculating the 3-way diff patch`, 'Unknown', field);
    }
    return;
  }
  if (!Array.isArray(retain)) throw errBadPatchFormatForRetainKeys(field);
  const keep = new Set<JsonValue>(retain);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) throw errBadPatchFormatForRetainKeys(field);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** Two list elements are the same element: equal scalars, or objects with equal merge keys. */
function sameElement(left: JsonValue, right: JsonValue, mergeKey: string, field: string): boolean {
  if (mergeKey === '') return left === right;
  if (!isJsonObject(left)) throw errBadArgType('map', left, field);
  if (!isJsonObject(right)) throw errBadArgType('map', right, field);
  if (!(mergeKey in left)) throw errNoMergeKey(left, mergeKey, field);
  if (!(mergeKey in right)) throw errNoMergeKey(right, mergeKey, field);
  return left[mergeKey] === right[mergeKey];
}

/** The patch's own elements must appear in $setElementOrder, in the same relative order. */
function validatePatchWithSetOrderList(patchList: JsonValue[], setOrder: JsonValue[], mergeKey: string, field: string): void {
  if (setOrder.length === 0 || patchList.length === 0) return;
  const items = mergeKey ? extractToDeleteItems(patchList, field).keep : patchList;
  let p = 0;
  let s = 0;
  while (p < items.length && s < setOrder.length) {
    if (isJsonObject(items[p]) && DIRECTIVE in (items[p] as JsonObject)) {
      p++;
      continue;
    }
    if (sameElement(items[p], setOrder[s], mergeKey, field)) p++;
    s++;
  }
  if (p < items.length && s >= setOrder.length) {
    throw new PatchError(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(setOrder)}\n`, 'Unknown', field);
  }
}

/** A list value of original or patch, checked to be a list. */
function listAt(obj: JsonObject, key: string, field: string): JsonValue[] | undefined {
  if (!Object.hasOwn(obj, key)) return undefined;
  const v = obj[key];
  if (!Array.isArray(v)) throw errBadArgType('list', v, field);
  return v;
}

/**
 * Handles every $setElementOrder/<field> of the patch: merges <field> (when the patch has it)
 * and orders the result as the directive says, server-only elements interleaved by their
 * live order. The field is then removed from the patch. When combining patches, the
 * directive is also copied into original.
 */
function mergePatchIntoOriginal(original: JsonObject, patch: JsonObject, node: SchemaNode, opts: MergeOptions, field: string): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER) || !Object.hasOwn(patch, key)) continue;
    const setOrder = patch[key];
    if (!opts.mergeParallelList) {
      if (!Object.hasOwn(original, key)) original[key] = setOrder;
      else if (!jsonEqual(original[key], setOrder)) throw errBadPatchFormatForSetElementOrderList(field);
    }
    delete patch[key];
    if (!Array.isArray(setOrder)) throw errBadArgType('list', setOrder, field);
    const target = directiveTarget(key, SET_ELEMENT_ORDER, field);
    const path = childPath(field, target);
    const originalList = listAt(original, target, path);
    const patchList = listAt(patch, target, path);
    const { node: sub, meta } = lookupField(node, target, path);
    validatePatchWithSetOrderList(patchList ?? [], setOrder, meta.mergeKey, path);
    let merged: JsonValue[];
    if (originalList && patchList) merged = mergeSliceHandler(originalList, patchList, sub, meta, false, opts, path);
    else if (originalList) merged = originalList;
    else if (patchList) merged = removeDirectives(patchList) as JsonValue[];
    else continue;
    const { inPatch, serverOnly } = meta.mergeKey === '' ? partitionPrimitives(merged, setOrder) : partitionMaps(merged, setOrder, meta.mergeKey, path);
    const kind = sliceElementKind([originalList ?? [], patchList ?? []], path);
    original[target] = normalizeElementOrder(inPatch, serverOnly, setOrder, originalList ?? [], meta.mergeKey, kind, path);
    delete patch[target];
  }
}

/**
 * Applies a strategic merge patch to a copy of doc, an object of the message typeName
 * ("k8ts.core.v1.Pod") in Kubernetes JSON, and returns the result; doc is left as it was.
 * Throws a PatchError whose code is the one Kubernetes answers with (see errors.ts).
 */
export function applyStrategicMergePatch(typeName: string, doc: unknown, patch: unknown): JsonObject {
  const node = messageNode(typeName);
  const p = patch === null ? {} : cloneJson(patch);
  if (!isJsonObject(p)) throw new PatchError(`json: cannot unmarshal ${jsonTypeWord(patch)} into Go value of type map[string]interface {}`, 'BadRequest');
  const original = cloneJson(doc ?? {});
  if (!isJsonObject(original)) throw new PatchError('invalid JSON document', 'BadRequest');
  return mergeMap(original, p, node, APPLY, '');
}
