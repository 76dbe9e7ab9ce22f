// Creating strategic merge patches, as kubectl does (strategicpatch.CreateTwoWayMergePatch
// and CreateThreeWayMergePatch): the patch that turns one object into another, using the
// schema's markers so that merging lists are diffed element by element:
//  - a key added or changed is set; a key removed is set to null;
//  - in a merging list of objects, changed elements carry only their changes and their merge
//    key, removed ones become {"<key>": ..., "$patch": "delete"}, and $setElementOrder/<field>
//    records the new order whenever the list changed; in a merging list of scalars, removed
//    values go to $deleteFromPrimitiveList/<field>;
//  - an object whose field has patchStrategy retainKeys gets $retainKeys naming its keys;
//  - other lists are replaced whole when they differ.
// The three-way patch (kubectl apply) is the change from the live object to the new
// configuration without deletions, plus the deletions from the last applied configuration to
// the new one: what the user stopped setting is removed, what others set is kept.
import { PatchError } from './errors';
import { cloneJson, isJsonObject, jsonEqual, jsonKind, type JsonObject, type JsonValue } from './json';
import { lookupField, messageNode, type SchemaNode } from './patch-meta';
import { mergeMap } from './smp-apply';
import {
  childPath,
  DELETE,
  DELETE_FROM_PRIMITIVE_LIST,
  DIRECTIVE,
  deduplicateScalars,
  errBadArgType,
  errNoMergeKey,
  MERGE,
  REPLACE,
  RETAIN_KEYS,
  SET_ELEMENT_ORDER,
  scalarText,
  sliceElementKind,
  sortMapsByKey,
  sortScalars,
} from './smp-common';
import { normalizeSliceOrder } from './smp-order';
import { mergingMapsHaveConflicts } from './smp-conflicts';

/** What a diff computes (strategicpatch.DiffOptions). */
interface DiffOptions {
  /** Emit $setElementOrder lists. */
  setElementOrder: boolean;
  /** Leave out additions and changes (the deletions half of a three-way patch). */
  ignoreChangesAndAdditions: boolean;
  /** Leave out deletions (the changes half of a three-way patch). */
  ignoreDeletions: boolean;
  /** Emit $retainKeys for this object (its field has patchStrategy retainKeys). */
  buildRetainKeysDirective: boolean;
}

/** A check of a finished patch; false fails the patch creation (mergepatch.PreconditionFunc). */
export type PatchPrecondition = (patch: JsonObject) => boolean;

/** The patch must not change this top-level key (kubectl apply: apiVersion, kind). */
export function requireKeyUnchanged(key: string): PatchPrecondition {
  return (patch) => !Object.hasOwn(patch, key);
}

/** The patch must not change this key of metadata (kubectl apply: name). */
export function requireMetadataKeyUnchanged(key: string): PatchPrecondition {
  return (patch) => {
    const metadata = patch.metadata;
    return !isJsonObject(metadata) || !Object.hasOwn(metadata, key);
  };
}

function checkPreconditions(patch: JsonObject, preconditions: PatchPrecondition[]): void {
  for (const ok of preconditions) {
    if (!ok(patch)) throw new PatchError(`precondition failed for: ${JSON.stringify(patch)}`, 'Invalid');
  }
}

/** True when original has a non-null key that modified lacks. */
function hasAdditionalNewField(original: JsonObject, modified: JsonObject): boolean {
  return Object.entries(original).some(([k, v]) => v !== null && !Object.hasOwn(modified, k));
}

/** The patch from original to modified, two objects at `node` (diffMaps). */
function diffMaps(original: JsonObject, modified: JsonObject, node: SchemaNode, opts: DiffOptions, field: string): JsonObject {
  const patch: JsonObject = {};
  const retainKeys: JsonValue[] = [];
  for (const [key, modifiedValue] of Object.entries(modified)) {
    if (opts.buildRetainKeysDirective && modifiedValue !== null) retainKeys.push(key);
    if (!Object.hasOwn(original, key)) {
      if (!opts.ignoreChangesAndAdditions) patch[key] = modifiedValue;
      continue;
    }
    const originalValue = original[key];
    if (key === DIRECTIVE) {
      if (typeof originalValue !== 'string' || typeof modifiedValue !== 'string') throw new PatchError(`invalid value for special key: ${DIRECTIVE}`, 'Unknown', field);
      if (originalValue !== modifiedValue) patch[key] = modifiedValue;
      continue;
    }
    if (jsonKind(originalValue) !== jsonKind(modifiedValue)) {
      if (!opts.ignoreChangesAndAdditions) patch[key] = modifiedValue;
      continue;
    }
    const path = childPath(field, key);
    if (isJsonObject(originalValue) && isJsonObject(modifiedValue)) diffMapField(key, originalValue, modifiedValue, patch, node, opts, path);
    else if (Array.isArray(originalValue) && Array.isArray(modifiedValue)) diffListField(key, originalValue, modifiedValue, patch, node, opts, path);
    else if (!opts.ignoreChangesAndAdditions && !jsonEqual(originalValue, modifiedValue)) patch[key] = modifiedValue;
  }
  if (!opts.ignoreDeletions) {
    for (const key of Object.keys(original)) if (!Object.hasOwn(modified, key)) patch[key] = null;
  }
  if (retainKeys.length > 0 && (Object.keys(patch).length > 0 || hasAdditionalNewField(original, modified))) {
    patch[RETAIN_KEYS] = sortScalars(retainKeys);
  }
  return patch;
}

/** An object-valued field: replaced whole under patchStrategy replace, otherwise diffed. */
function diffMapField(key: string, original: JsonObject, modified: JsonObject, patch: JsonObject, node: SchemaNode, opts: DiffOptions, field: string): void {
  const { node: sub, meta } = lookupField(node, key, field);
  if (meta.strategy === REPLACE) {
    if (!opts.ignoreChangesAndAdditions) patch[key] = modified;
    return;
  }
  const value = diffMaps(original, modified, sub, { ...opts, buildRetainKeysDirective: meta.retainKeys }, field);
  if (Object.keys(value).length > 0) patch[key] = value;
}

/** A list-valued field: diffed element by element under patchStrategy merge, otherwise replaced when different. */
function diffListField(key: string, original: JsonValue[], modified: JsonValue[], patch: JsonObject, node: SchemaNode, opts: DiffOptions, field: string): void {
  const { node: sub, meta } = lookupField(node, key, field);
  if (meta.strategy !== MERGE) {
    if (!opts.ignoreChangesAndAdditions && !jsonEqual(original, modified)) patch[key] = modified;
    return;
  }
  const lists = diffLists(original, modified, sub, meta.mergeKey, { ...opts, buildRetainKeysDirective: meta.retainKeys }, field);
  if (lists.patch.length > 0) patch[key] = lists.patch;
  if (lists.deletions.length > 0) patch[`${DELETE_FROM_PRIMITIVE_LIST}/${key}`] = lists.deletions;
  if (lists.order.length > 0) patch[`${SET_ELEMENT_ORDER}/${key}`] = lists.order;
}

/** The three parts of a merging list's diff: the patch list, the scalar deletion list, the order list. */
interface ListDiff {
  patch: JsonValue[];
  deletions: JsonValue[];
  order: JsonValue[];
}

function diffLists(original: JsonValue[], modified: JsonValue[], node: SchemaNode, mergeKey: string, opts: DiffOptions, field: string): ListDiff {
  if (original.length === 0) {
    if (modified.length === 0 || opts.ignoreChangesAndAdditions) return { patch: [], deletions: [], order: [] };
    return { patch: modified, deletions: [], order: [] };
  }
  const kind = sliceElementKind([original, modified], field);
  return kind === 'map' ? diffListsOfMapsWithOrder(original, modified, node, mergeKey, opts, field) : diffListsOfScalarsWithOrder(original, modified, mergeKey, opts, field);
}

function diffListsOfMapsWithOrder(original: JsonValue[], modified: JsonValue[], node: SchemaNode, mergeKey: string, opts: DiffOptions, field: string): ListDiff {
  const { patch: changes, deletions } = diffListsOfMaps(original, modified, node, mergeKey, opts, field);
  const ordered = normalizeSliceOrder(changes, modified, mergeKey, 'map', field);
  const orderSame = isOrderSame(original, modified, mergeKey, field);
  // Deleted elements travel in the patch list itself, after the others.
  const patch = [...ordered, ...deletions];
  const changedOrReordered = !opts.ignoreChangesAndAdditions && (patch.length > 0 || !orderSame);
  const deleted = !opts.ignoreDeletions && patch.length > 0;
  const order = opts.setElementOrder && (changedOrReordered || deleted) ? modified.map((v) => ({ [mergeKey]: (v as JsonObject)[mergeKey] })) : [];
  return { patch, deletions: [], order };
}

function diffListsOfScalarsWithOrder(original: JsonValue[], modified: JsonValue[], mergeKey: string, opts: DiffOptions, field: string): ListDiff {
  const { additions, deletions } = diffListsOfScalars(original, modified, opts);
  const patch = normalizeSliceOrder(additions, modified, mergeKey, 'scalar', field);
  // diffListsOfScalars sorted original in place, as Kubernetes' does: a list that was only
  // reordered compares equal here and gets no order list.
  const changed = (!opts.ignoreDeletions && deletions.length > 0) || (!opts.ignoreChangesAndAdditions && !jsonEqual(original, modified));
  return { patch, deletions, order: opts.setElementOrder && changed ? modified : [] };
}

function isOrderSame(original: JsonValue[], modified: JsonValue[], mergeKey: string, field: string): boolean {
  if (original.length !== modified.length) return false;
  return modified.every((m, i) => mergeKeyOf(original[i], mergeKey, field) === mergeKeyOf(m, mergeKey, field));
}

function mergeKeyOf(v: JsonValue, mergeKey: string, field: string): JsonValue {
  if (!isJsonObject(v)) throw errBadArgType('map', v, field);
  if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey, field);
  return v[mergeKey];
}

/**
 * Added and removed scalars, by walking both lists sorted by their %v text. original is
 * sorted in place (as in Kubernetes); modified is not touched.
 */
function diffListsOfScalars(original: JsonValue[], modified: JsonValue[], opts: DiffOptions): { additions: JsonValue[]; deletions: JsonValue[] } {
  const o = sortScalars(original);
  const m = sortScalars([...modified]);
  const additions: JsonValue[] = [];
  const deletions: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < o.length || j < m.length) {
    const ot = i < o.length ? scalarText(o[i]) : undefined;
    const mt = j < m.length ? scalarText(m[j]) : undefined;
    if (ot !== undefined && ot === mt) {
      i++;
      j++;
    } else if (ot === undefined || (mt !== undefined && ot > mt)) {
      if (!opts.ignoreChangesAndAdditions) additions.push(m[j]);
      j++;
    } else {
      if (!opts.ignoreDeletions) deletions.push(o[i]);
      i++;
    }
  }
  return { additions, deletions: deduplicateScalars(deletions) };
}

/** Changed and added elements, and delete directives for removed ones, walking both lists sorted by merge key. */
function diffListsOfMaps(original: JsonValue[], modified: JsonValue[], node: SchemaNode, mergeKey: string, opts: DiffOptions, field: string): { patch: JsonValue[]; deletions: JsonValue[] } {
  const o = sortMapsByKey([...original], mergeKey);
  const m = sortMapsByKey([...modified], mergeKey);
  const patch: JsonValue[] = [];
  const deletions: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < o.length || j < m.length) {
    const ov = i < o.length ? (o[i] as JsonObject) : undefined;
    const mv = j < m.length ? (m[j] as JsonObject) : undefined;
    const ok = ov ? scalarText(mergeKeyOf(ov, mergeKey, field)) : undefined;
    const mk = mv ? scalarText(mergeKeyOf(mv, mergeKey, field)) : undefined;
    if (ov && mv && ok === mk) {
      const value = diffMaps(ov, mv, node, opts, `${field}[${mergeKey}=${mk}]`);
      if (Object.keys(value).length > 0) {
        value[mergeKey] = mv[mergeKey];
        patch.push(value);
      }
      i++;
      j++;
    } else if (mv && (!ov || (ok as string) > (mk as string))) {
      if (!opts.ignoreChangesAndAdditions) patch.push(mv);
      j++;
    } else if (ov) {
      if (!opts.ignoreDeletions) deletions.push({ [mergeKey]: ov[mergeKey], [DIRECTIVE]: DELETE });
      i++;
    }
  }
  return { patch, deletions };
}

/** Options of createThreeWayMergePatch. */
export interface ThreeWayOptions {
  /**
   * When false, fail with a 409 Conflict if the patch changes a field that someone changed
   * differently since the last apply (kubectl apply --overwrite=false). Defaults to true.
   */
  overwrite?: boolean;
  /** Checks of the finished patch, as kubectl apply's (requireKeyUnchanged("kind"), ...). */
  preconditions?: PatchPrecondition[];
}

function objectArg(v: unknown, what: string): JsonObject {
  if (v === null || v === undefined) return {};
  const out = cloneJson(v);
  if (!isJsonObject(out)) throw new PatchError(`${what}: invalid JSON document`, 'BadRequest');
  return out;
}

const TWO_WAY: DiffOptions = { setElementOrder: true, ignoreChangesAndAdditions: false, ignoreDeletions: false, buildRetainKeysDirective: false };

/**
 * The strategic merge patch that turns original into modified, objects of the message
 * typeName in Kubernetes JSON (CreateTwoWayMergePatch). Neither argument is changed.
 */
export function createStrategicMergePatch(typeName: string, original: unknown, modified: unknown, preconditions: PatchPrecondition[] = []): JsonObject {
  const patch = diffMaps(objectArg(original, 'original'), objectArg(modified, 'modified'), messageNode(typeName), TWO_WAY, '');
  checkPreconditions(patch, preconditions);
  return patch;
}

/**
 * The patch kubectl apply sends (CreateThreeWayMergePatch): from current (the live object)
 * to modified (the new configuration) without deletions, plus the deletions from original
 * (the last applied configuration, from the kubectl.kubernetes.io/last-applied-configuration
 * annotation; null or {} when there is none) to modified. None of the arguments is changed.
 */
export function createThreeWayMergePatch(typeName: string, original: unknown, modified: unknown, current: unknown, options: ThreeWayOptions = {}): JsonObject {
  const node = messageNode(typeName);
  const o = objectArg(original, 'original');
  const m = objectArg(modified, 'modified');
  const c = objectArg(current, 'current');
  const delta = diffMaps(c, m, node, { ...TWO_WAY, ignoreDeletions: true }, '');
  const deletions = diffMaps(o, m, node, { ...TWO_WAY, ignoreChangesAndAdditions: true }, '');
  const patch = mergeMap(deletions, delta, node, { mergeParallelList: false, ignoreUnmatchedNulls: false }, '');
  checkPreconditions(patch, options.preconditions ?? []);
  if (options.overwrite === false) {
    const changed = diffMaps(o, c, node, { ...TWO_WAY, setElementOrder: false }, '');
    if (mergingMapsHaveConflicts(patch, changed, node)) {
      throw new PatchError(`patch:\n${JSON.stringify(patch)}\nconflicts with changes made from original to current:\n${JSON.stringify(changed)}\n`, 'Conflict');
    }
  }
  return patch;
}
