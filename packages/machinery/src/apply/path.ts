// Path elements: the steps of a path into an object, as structured-merge-diff names them.
//   field  a field of a struct or a key of a map      serialized f:<name>      printed .name
//   key    an element of a map list, by its keys       k:{"name":"nginx"}       [name="nginx"]
//   value  an element of a set list, by its value      v:"finalizer.x"          [="finalizer.x"]
//   index  an element by position (never produced     i:3                      [3]
//          for Kubernetes' typed lists; read and kept when a client sends it)
// The serialized form is the element's identity: keys are sorted by name and values written as
// Go writes JSON, so equal elements serialize to equal strings. Elements order field < key <
// value < index, then by name, keys or value (structured-merge-diff's PathElement.Compare).
import { type JsonValue, compareJson, compareStrings, goJson, isJsonObject, valueToString } from './json';

export interface KeyField {
  readonly name: string;
  readonly value: JsonValue;
}

export type PathElement =
  | { readonly type: 'field'; readonly name: string }
  | { readonly type: 'key'; readonly fields: readonly KeyField[] }
  | { readonly type: 'value'; readonly value: JsonValue }
  | { readonly type: 'index'; readonly index: number };

export type Path = readonly PathElement[];

/** A path element that could not be read from its serialized form. */
export class PathElementSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathElementSyntaxError';
  }
}

export function fieldElement(name: string): PathElement {
  return { type: 'field', name };
}

/** A map-list element by its key fields (sorted by name, as Kubernetes sorts them). */
export function keyElement(fields: readonly KeyField[]): PathElement {
  return { type: 'key', fields: [...fields].sort((a, b) => compareStrings(a.name, b.name)) };
}

export function valueElement(value: JsonValue): PathElement {
  return { type: 'value', value };
}

export function indexElement(index: number): PathElement {
  return { type: 'index', index };
}

/** The path of field names a.b.c. */
export function fieldPath(...names: string[]): Path {
  return names.map(fieldElement);
}

// Elements are immutable: the text of a key or value element is computed once.
const serialized = new WeakMap<PathElement, string>();

/** The FieldsV1 key of an element ("f:spec", "k:{\"name\":\"x\"}") — also its identity. */
export function serializePathElement(pe: PathElement): string {
  if (pe.type === 'field') return `f:${pe.name}`;
  if (pe.type === 'index') return `i:${pe.index}`;
  let text = serialized.get(pe);
  if (text === undefined) {
    text = pe.type === 'key' ? `k:{${pe.fields.map((f) => `${goJson(f.name)}:${goJson(f.value)}`).join(',')}}` : `v:${goJson(pe.value)}`;
    serialized.set(pe, text);
  }
  return text;
}

function parseJsonText(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new PathElementSyntaxError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Reads a FieldsV1 key. Returns undefined for a key of an unknown type ("x:..."), which
 * Kubernetes drops; throws PathElementSyntaxError for a malformed one.
 */
export function parsePathElement(text: string): PathElement | undefined {
  if (text.length < 2) throw new PathElementSyntaxError('key must be 2 characters long');
  if (text[1] !== ':') throw new PathElementSyntaxError(`missing colon: ${text}`);
  const body = text.slice(2);
  switch (text[0]) {
    case 'f':
      return fieldElement(body);
    case 'v':
      return valueElement(parseJsonText(body, 'the value'));
    case 'k': {
      const keys = parseJsonText(body, 'the key');
      if (!isJsonObject(keys)) throw new PathElementSyntaxError('the key must be a JSON object');
      return keyElement(Object.entries(keys).map(([name, value]) => ({ name, value })));
    }
    case 'i': {
      if (!/^[+-]?\d+$/.test(body)) throw new PathElementSyntaxError(`the index ${JSON.stringify(body)} is not an integer`);
      return indexElement(Number(body));
    }
    default:
      return undefined;
  }
}

const TYPE_ORDER = { field: 0, key: 1, value: 2, index: 3 } as const;

function compareKeys(a: readonly KeyField[], b: readonly KeyField[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const byName = compareStrings(a[i].name, b[i].name);
    if (byName !== 0) return byName;
    const byValue = compareJson(a[i].value, b[i].value);
    if (byValue !== 0) return byValue;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** structured-merge-diff's PathElement.Compare. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  if (a.type !== b.type) return TYPE_ORDER[a.type] < TYPE_ORDER[b.type] ? -1 : 1;
  switch (a.type) {
    case 'field':
      return compareStrings(a.name, (b as typeof a).name);
    case 'key':
      return compareKeys(a.fields, (b as typeof a).fields);
    case 'value':
      return compareJson(a.value, (b as typeof a).value);
    case 'index':
      return Math.sign(a.index - (b as typeof a).index);
  }
}

/** An element as Kubernetes prints it in paths: .name, [name="x"], [="v"], [3]. */
export function pathElementToString(pe: PathElement): string {
  switch (pe.type) {
    case 'field':
      return `.${pe.name}`;
    case 'key':
      return `[${pe.fields.map((f) => `${f.name}=${valueToString(f.value)}`).join(',')}]`;
    case 'value':
      return `[=${valueToString(pe.value)}]`;
    case 'index':
      return `[${pe.index}]`;
  }
}

/** A path as Kubernetes prints it in conflicts: .spec.containers[name="nginx"].image */
export function pathToString(path: Path): string {
  return path.map(pathElementToString).join('');
}
