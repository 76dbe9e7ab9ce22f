// The order of a merged list in a strategic merge patch (Kubernetes' "preserve order in
// strategic merge patch" rules): the elements named by the patch come in the patch's order
// (or the $setElementOrder list's), the elements only the server has keep their live order,
// and the two are interleaved so that each server-only element stays before the first patch
// element it preceded in the live list. Elements of object lists are identified by their
// merge key; scalars by themselves.
import { PatchError } from './errors';
import type { ElementKind } from './smp-common';
import { DELETE, DIRECTIVE, errBadArgType, errNoMergeKey } from './smp-common';
import { isJsonObject, type JsonObject, type JsonValue } from './json';

/** What identifies an element: its merge key's value for objects, itself for scalars (null when missing). */
function identity(v: JsonValue | undefined, mergeKey: string, kind: ElementKind): JsonValue | undefined {
  if (kind !== 'map') return v;
  return isJsonObject(v) ? (v[mergeKey] ?? null) : null;
}

/** The position of an element in a list by its identity, -1 when absent. */
export function indexOfElement(list: JsonValue[], v: JsonValue, mergeKey: string, kind: ElementKind): number {
  const id = identity(v, mergeKey, kind);
  return list.findIndex((e) => identity(e, mergeKey, kind) === id);
}

/** Checks that every element of the lists is an object holding the merge key. */
export function validateMergeKeyInLists(mergeKey: string, lists: JsonValue[][], field: string): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isJsonObject(item)) throw errBadArgType('map', item, field);
      if (!(mergeKey in item)) throw errNoMergeKey(item, mergeKey, field);
    }
  }
}

/** Splits a list of objects into those kept and those carrying $patch: delete. */
export function extractToDeleteItems(list: JsonValue[], field: string): { keep: JsonValue[]; toDelete: JsonValue[] } {
  const keep: JsonValue[] = [];
  const toDelete: JsonValue[] = [];
  for (const v of list) {
    if (!isJsonObject(v)) throw errBadArgType('map', v, field);
    (v[DIRECTIVE] === DELETE ? toDelete : keep).push(v);
  }
  return { keep, toDelete };
}

/** Sorts a list by the positions its elements have in `order` (stable); $patch: delete elements go last. */
export function normalizeSliceOrder(toSort: JsonValue[], order: JsonValue[], mergeKey: string, kind: ElementKind, field: string): JsonValue[] {
  let items = toSort;
  let toDelete: JsonValue[] = [];
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, [toSort, order], field);
    ({ keep: items, toDelete } = extractToDeleteItems(toSort, field));
  }
  const position = (v: JsonValue) => indexOfElement(order, v, mergeKey, kind);
  const sorted = [...items].sort((a, b) => {
    const pa = position(a);
    const pb = position(b);
    return pa >= 0 && pb >= 0 ? pa - pb : 0;
  });
  return [...sorted, ...toDelete];
}

/**
 * Interleaves the server-only elements (left) into the patch elements (right), both already
 * in order: a server-only element goes before the next patch element when the live list
 * (serverOrder) has it first (mergeSortedSlice).
 */
export function mergeSortedSlice(left: JsonValue[], right: JsonValue[], serverOrder: JsonValue[], mergeKey: string, kind: ElementKind): JsonValue[] {
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexOfElement(serverOrder, left[i], mergeKey, kind);
      const ri = indexOfElement(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** Orders the patch elements by patchOrder and the server-only ones by serverOrder, then interleaves them. */
export function normalizeElementOrder(
  patchItems: JsonValue[],
  serverOnly: JsonValue[],
  patchOrder: JsonValue[],
  serverOrder: JsonValue[],
  mergeKey: string,
  kind: ElementKind,
  field: string,
): JsonValue[] {
  const patch = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind, field);
  const server = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind, field);
  return mergeSortedSlice(server, patch, serverOrder, mergeKey, kind);
}

/** Splits scalars into those present in `by` and the others, keeping their order. */
export function partitionPrimitives(list: JsonValue[], by: JsonValue[]): { inPatch: JsonValue[]; serverOnly: JsonValue[] } {
  const present = new Set(by);
  const inPatch: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  for (const v of list) (present.has(v) ? inPatch : serverOnly).push(v);
  return { inPatch, serverOnly };
}

/** The first object of a list whose merge key has this value, with its index (findMapInSliceBasedOnKeyValue). */
export function findByMergeKey(list: JsonValue[], mergeKey: string, value: JsonValue, field: string): { item: JsonObject; index: number } | undefined {
  for (let index = 0; index < list.length; index++) {
    const item = list[index];
    if (!isJsonObject(item)) throw new PatchError(`value for key ${index} is not a map`, 'Unknown', field);
    if (mergeKey in item && item[mergeKey] === value) return { item, index };
  }
  return undefined;
}

/** Splits objects into those whose merge key appears in `by` and the others, keeping their order. */
export function partitionMaps(list: JsonValue[], by: JsonValue[], mergeKey: string, field: string): { inPatch: JsonValue[]; serverOnly: JsonValue[] } {
  const inPatch: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  for (const v of list) {
    if (!isJsonObject(v)) throw errBadArgType('map', v, field);
    if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey, field);
    (findByMergeKey(by, mergeKey, v[mergeKey], field) ? inPatch : serverOnly).push(v);
  }
  return { inPatch, serverOnly };
}
