// What applying and creating strategic merge patches share: the directive names, the errors
// (worded as k8s.io/apimachinery's mergepatch and strategicpatch packages word them), the
// type check of list elements, scalar sorting by Go's %v text, and removal of directives
// from values that are taken whole.
import { PatchError, goFormat, goTypeName } from './errors';
import { isJsonObject, jsonKind, type JsonObject, type JsonValue } from './json';

export const DIRECTIVE = '$patch';
export const DELETE = 'delete';
export const REPLACE = 'replace';
export const MERGE = 'merge';
export const RETAIN_KEYS = '$retainKeys';
export const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
export const SET_ELEMENT_ORDER = '$setElementOrder';

/** How both appliers and differs combine lists: applying merges parallel lists, combining patches keeps them. */
export interface MergeOptions {
  /** Apply $deleteFromPrimitiveList, $setElementOrder and $retainKeys (server side); false keeps them (three-way patch). */
  mergeParallelList: boolean;
  /** A null for a key the original lacks is dropped (server side); false keeps it in the result. */
  ignoreUnmatchedNulls: boolean;
}

// Errors of k8s.io/apimachinery/pkg/util/mergepatch, with the answer the apiserver gives.
export const errBadPatchFormatForPrimitiveList = (field: string) => new PatchError('invalid patch format of primitive list', 'BadRequest', field);
export const errBadPatchFormatForRetainKeys = (field: string) => new PatchError('invalid patch format of retainKeys', 'BadRequest', field);
export const errBadPatchFormatForSetElementOrderList = (field: string) => new PatchError('invalid patch format of setElementOrder list', 'BadRequest', field);
export const errNoListOfLists = (field: string) => new PatchError('lists of lists are not supported', 'Invalid', field);

export function errNoMergeKey(m: JsonObject, mergeKey: string, field: string): PatchError {
  return new PatchError(`map: ${goFormat(m)} does not contain declared merge key: ${mergeKey}`, 'Unknown', field);
}

/** "expected a []interface {}, but received a string": what was expected, as a sample value of that type. */
export function errBadArgType(expected: 'map' | 'list', actual: JsonValue | undefined, field: string): PatchError {
  const want = expected === 'map' ? 'map[string]interface {}' : '[]interface {}';
  return new PatchError(`expected a ${want}, but received a ${goTypeName(actual)}`, 'Unknown', field);
}

export function errBadPatchType(directive: JsonValue, m: JsonObject, field: string): PatchError {
  return new PatchError(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(m)}`, 'Unknown', field);
}

/** Appends a key to a field path for error reports ("spec" + "containers"). */
export function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** What the elements of one or more lists are: objects ("map") or scalars. */
export type ElementKind = 'map' | 'scalar';

/**
 * The common kind of the elements of the given lists (sliceElementType): every element must
 * have the same JSON type and none may be a list. Throws when they differ or all are empty.
 */
export function sliceElementKind(lists: JsonValue[][], field: string): ElementKind {
  let first: ReturnType<typeof jsonKind> | undefined;
  for (const list of lists) {
    for (const v of list) {
      const kind = jsonKind(v);
      if (first === undefined) {
        // Kubernetes' code dereferences the type of the first element; a null one makes it panic.
        if (kind === 'null') throw new PatchError('a list element is null', 'Unknown', field);
        if (kind === 'array') throw errNoListOfLists(field);
        first = kind;
      } else if (kind !== first) {
        throw new PatchError(`list element types are not identical: ${goFormat(lists)}`, 'Unknown', field);
      }
    }
  }
  if (first === undefined) throw new PatchError('no elements in any of the given slices', 'Unknown', field);
  return first === 'object' ? 'map' : 'scalar';
}

/** A scalar as Go's %v prints it: what Kubernetes sorts and compares scalars and merge keys by. */
export function scalarText(v: JsonValue | undefined): string {
  return goFormat(v);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts scalars by their %v text, in place (sortScalars). */
export function sortScalars(list: JsonValue[]): JsonValue[] {
  return list.sort((a, b) => compareText(scalarText(a), scalarText(b)));
}

/** Sorts objects by the %v text of their merge key, in place (sortMapsBasedOnField). */
export function sortMapsByKey(list: JsonValue[], mergeKey: string): JsonValue[] {
  const keyText = (v: JsonValue) => scalarText(isJsonObject(v) ? v[mergeKey] : undefined);
  return list.sort((a, b) => compareText(keyText(a), keyText(b)));
}

/**
 * Drops repeated scalars, in place, as Kubernetes' deduplicateScalars does: a repeat is
 * overwritten by the last element and the list shortened, so the order can change.
 */
export function deduplicateScalars(s: JsonValue[]): JsonValue[] {
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (s[i] === s[j]) {
        s[j] = s[length];
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

/**
 * A value with its directives removed, or undefined when the value itself is a directive
 * (an object with $patch) and must not be kept (removeDirectives).
 */
export function removeDirectives(v: JsonValue): JsonValue | undefined {
  if (Array.isArray(v)) {
    const out: JsonValue[] = [];
    for (const e of v) {
      const kept = removeDirectives(e);
      if (kept !== undefined) out.push(kept);
    }
    return out;
  }
  if (!isJsonObject(v)) return v;
  if (DIRECTIVE in v) return undefined;
  for (const [k, e] of Object.entries(v)) {
    const kept = removeDirectives(e);
    if (kept === undefined) delete v[k];
    else v[k] = kept;
  }
  return v;
}

/** Drops null members of objects at every depth, in place (discardNullValuesFromPatch). */
export function discardNullValues(v: JsonValue): void {
  if (Array.isArray(v)) {
    for (const e of v) discardNullValues(e);
    return;
  }
  if (!isJsonObject(v)) return;
  for (const [k, e] of Object.entries(v)) {
    if (e === null) delete v[k];
    else discardNullValues(e);
  }
}

/** The field a parallel-list directive key refers to ("$setElementOrder/containers" -> "containers"). */
export function directiveTarget(key: string, prefix: string, field: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw prefix === DELETE_FROM_PRIMITIVE_LIST ? errBadPatchFormatForPrimitiveList(field) : errBadPatchFormatForSetElementOrderList(field);
  }
  return key.slice(slash + 1);
}
