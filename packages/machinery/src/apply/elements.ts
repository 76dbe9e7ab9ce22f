// How an element of a set or map list is named (structured-merge-diff's listItemToPathElement):
// a set element by its value, a map-list element by its key fields. A key field the element
// leaves out takes its declared default; it is left out of the name when there is none, and an
// element with no key field at all is an error. Elements of atomic lists have no names: the
// list is one value.
import { type JsonValue, isJsonObject } from './json';
import { type KeyField, type PathElement, keyElement, serializePathElement, valueElement } from './path';
import { type TypeRef, keyDefault } from './types';

export type ListRef = Extract<TypeRef, { kind: 'list' }>;

/** An element that cannot be named: the reason, as structured-merge-diff words it. */
export class ElementError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ElementError';
  }
}

function keyedElement(list: ListRef, item: JsonValue): PathElement {
  if (item === null) throw new ElementError('associative list with keys may not have a null element');
  if (!isJsonObject(item)) throw new ElementError('associative list with keys may not have non-map elements');
  const fields: KeyField[] = [];
  for (const name of list.keys) {
    const value = name in item ? item[name] : keyDefault(list.element, name);
    if (value !== undefined) fields.push({ name, value });
  }
  if (fields.length === 0) {
    throw new ElementError(
      `associative list with keys has an element that omits all key fields [${list.keys.map((k) => JSON.stringify(k)).join(' ')}] (and doesn't have default values for any key fields)`,
    );
  }
  return keyElement(fields);
}

function setElement(item: JsonValue): PathElement {
  if (item === null) throw new ElementError("associative list without keys has an element that's an explicit null");
  if (Array.isArray(item)) throw new ElementError('not supported: associative list with lists as elements');
  if (isJsonObject(item)) throw new ElementError("associative list without keys has an element that's a map type");
  return valueElement(item);
}

/** The path element naming an element of a set or map list. */
export function listElement(list: ListRef, item: JsonValue): PathElement {
  if (list.listType === 'atomic') throw new ElementError(`invalid indexing of non-associative list ${list.where}`);
  return list.listType === 'map' ? keyedElement(list, item) : setElement(item);
}

/** One distinct element name of a list, with every item carrying it (more than one: duplicates). */
export interface NamedItems {
  readonly pe: PathElement;
  readonly id: string;
  readonly items: JsonValue[];
}

/**
 * The elements of a list by name, in order of first appearance. Items that cannot be named
 * are reported as "element <i>: <reason>" and left out.
 */
export function indexList(list: ListRef, items: readonly JsonValue[], problems: string[]): Map<string, NamedItems> {
  const out = new Map<string, NamedItems>();
  items.forEach((item, i) => {
    let pe: PathElement;
    try {
      pe = listElement(list, item);
    } catch (err) {
      if (!(err instanceof ElementError)) throw err;
      problems.push(`element ${i}: ${err.message}`);
      return;
    }
    const id = serializePathElement(pe);
    const seen = out.get(id);
    if (seen) seen.items.push(item);
    else out.set(id, { pe, id, items: [item] });
  });
  return out;
}

/** Throws the first naming problem of a list that was already validated (live objects, merges). */
export function indexListOrThrow(list: ListRef, items: readonly JsonValue[]): Map<string, NamedItems> {
  const problems: string[] = [];
  const out = indexList(list, items, problems);
  if (problems.length > 0) throw new ElementError(`${list.where}: ${problems[0]}`);
  return out;
}

/** The array of a value, or undefined for null, absence or a non-list (validation reports those). */
export function asList(v: JsonValue | undefined): JsonValue[] | undefined {
  return Array.isArray(v) ? v : undefined;
}
