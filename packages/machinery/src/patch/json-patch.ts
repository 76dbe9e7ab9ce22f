// JSON patch (RFC 6902, application/json-patch+json) as Kubernetes' apiserver applies it:
// with evanphx/json-patch v4. Its rules, which this module keeps, differ from the RFC in a
// few places a client can see:
//  - "replace" of a missing object key adds the key; only a missing array index fails;
//  - "copy" from a missing object key copies null;
//  - "test" treats a missing key and a null value alike, and compares structurally;
//  - a negative array index counts from the end (-1 is the last element; for "add", the end);
//  - only "replace" and "test" accept the whole document (path ""); a path is split on "/"
//    and its first segment ignored, so "a/b" means "/b";
//  - an operation without "value" adds null.
// A patch that is not an array of objects is a 400; an operation that does not apply is a
// 422 whose message is the library's own ("add operation does not apply: doc is missing
// path: \"/spec/foo\": missing value").
import { PatchError, jsonTypeWord } from './errors';
import { cloneJson, isJsonObject, jsonEqual, type JsonObject, type JsonValue } from './json';

type Container = JsonObject | JsonValue[];

/** Where an operation's path lands: the container holding the last segment, and that segment. */
interface Target {
  container: Container;
  key: string;
}

const MISSING = 'missing value';
const INVALID_INDEX = 'invalid index referenced';

function invalid(message: string, field?: string): PatchError {
  return new PatchError(message, 'Invalid', field);
}

function isContainer(v: JsonValue | undefined): v is Container {
  return Array.isArray(v) || isJsonObject(v);
}

/** RFC 6901 escapes: "~1" is "/", "~0" is "~", decoded in one pass. */
function decodeKey(segment: string): string {
  return segment.replace(/~[01]/g, (m) => (m === '~1' ? '/' : '~'));
}

/** Go's strconv.Atoi on an array index, with its error text. */
function parseIndex(key: string): number | string {
  if (!/^[+-]?\d+$/.test(key)) return `strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`;
  return Number.parseInt(key, 10);
}

function badIndex(idx: number): string {
  return `Unable to access invalid index: ${idx}: ${INVALID_INDEX}`;
}

/** An existing array position: a negative index counts from the end. Returns an error text when out of range. */
function existingIndex(list: JsonValue[], key: string): number | string {
  const idx = parseIndex(key);
  if (typeof idx === 'string') return idx;
  if (idx < -list.length || idx >= list.length) return badIndex(idx);
  return idx < 0 ? idx + list.length : idx;
}

/** What reading one key gives: the value (undefined when an object lacks the key), or an error text. */
type Read = { value: JsonValue | undefined } | { error: string };

/** The value at key for move, copy and test: a bad or out-of-range array index is an error. */
function readAt(t: Target): Read {
  if (!Array.isArray(t.container)) return { value: Object.hasOwn(t.container, t.key) ? t.container[t.key] : undefined };
  const idx = existingIndex(t.container, t.key);
  return typeof idx === 'string' ? { error: idx } : { value: t.container[idx] };
}

/** evanphx's findObject: walk every segment but the last; a missing, null or scalar step fails. */
function findObject(root: JsonValue, path: string): Target | undefined {
  const split = path.split('/');
  if (split.length < 2 || !isContainer(root)) return undefined;
  let container: Container = root;
  for (const part of split.slice(1, -1)) {
    const next = readAt({ container, key: decodeKey(part) });
    if ('error' in next || !isContainer(next.value)) return undefined;
    container = next.value;
  }
  return { container, key: decodeKey(split[split.length - 1]) };
}

/** Adds at key: sets an object key, or inserts into an array ("-" appends). Returns an error text. */
function addAt(t: Target, value: JsonValue): string | undefined {
  if (!Array.isArray(t.container)) {
    t.container[t.key] = value;
    return undefined;
  }
  const list = t.container;
  if (t.key === '-') {
    list.push(value);
    return undefined;
  }
  const idx = parseIndex(t.key);
  if (typeof idx === 'string') return `value was not a proper array index: '${t.key}': ${idx}`;
  const size = list.length + 1;
  if (idx >= size || idx < -size) return badIndex(idx);
  list.splice(idx < 0 ? idx + size : idx, 0, value);
  return undefined;
}

/** Removes key. Returns an error text when there is nothing to remove. */
function removeAt(t: Target): string | undefined {
  if (!Array.isArray(t.container)) {
    if (!Object.hasOwn(t.container, t.key)) return `Unable to remove nonexistent key: ${t.key}: ${MISSING}`;
    delete t.container[t.key];
    return undefined;
  }
  const idx = existingIndex(t.container, t.key);
  if (typeof idx === 'string') return idx;
  t.container.splice(idx, 1);
  return undefined;
}

type Operation = JsonObject;

/** A string member of the operation ("path", "from"); an error text when absent or not a string. */
function stringMember(op: Operation, name: 'path' | 'from'): string | { error: string } {
  const v = op[name];
  if (v === undefined || v === null) return { error: name === 'path' ? `operation missing path field: ${MISSING}` : `operation, missing from field: ${MISSING}` };
  if (typeof v !== 'string') return { error: `json: cannot unmarshal ${jsonTypeWord(v)} into Go value of type string` };
  return v;
}

/** The operation's value, copied so that later operations never alias the patch; null when absent. */
function operationValue(op: Operation): JsonValue {
  return op.value === undefined ? null : cloneJson(op.value);
}

function add(root: JsonValue, op: Operation): JsonValue {
  const path = stringMember(op, 'path');
  if (typeof path !== 'string') throw invalid(`add operation failed to decode path: ${MISSING}`);
  const t = findObject(root, path);
  if (!t) throw invalid(`add operation does not apply: doc is missing path: "${path}": ${MISSING}`, path);
  const err = addAt(t, operationValue(op));
  if (err) throw invalid(`error in add for path: '${path}': ${err}`, path);
  return root;
}

function remove(root: JsonValue, op: Operation): JsonValue {
  const path = stringMember(op, 'path');
  if (typeof path !== 'string') throw invalid(`remove operation failed to decode path: ${MISSING}`);
  const t = findObject(root, path);
  if (!t) throw invalid(`remove operation does not apply: doc is missing path: "${path}": ${MISSING}`, path);
  const err = removeAt(t);
  if (err) throw invalid(`error in remove for path: '${path}': ${err}`, path);
  return root;
}

function replace(root: JsonValue, op: Operation): JsonValue {
  const path = stringMember(op, 'path');
  if (typeof path !== 'string') throw invalid(`replace operation failed to decode path: ${path.error}`);
  if (path === '') {
    const value = operationValue(op);
    if (!isContainer(value)) throw invalid('replace operation value must be object or array');
    return value;
  }
  const t = findObject(root, path);
  if (!t) throw invalid(`replace operation does not apply: doc is missing path: ${path}: ${MISSING}`, path);
  if (Array.isArray(t.container)) {
    const idx = existingIndex(t.container, t.key);
    if (typeof idx === 'string') throw invalid(`replace operation does not apply: doc is missing key: ${path}: ${MISSING}`, path);
    t.container[idx] = operationValue(op);
  } else {
    // evanphx v4 looks the key up without checking it exists: a missing key is added.
    t.container[t.key] = operationValue(op);
  }
  return root;
}

function move(root: JsonValue, op: Operation): JsonValue {
  const from = stringMember(op, 'from');
  if (typeof from !== 'string') throw invalid(`move operation failed to decode from: ${from.error}`);
  const source = findObject(root, from);
  if (!source) throw invalid(`move operation does not apply: doc is missing from path: ${from}: ${MISSING}`, from);
  const read = readAt(source);
  if ('error' in read) throw invalid(`error in move for path: '${source.key}': ${read.error}`, from);
  const removed = removeAt(source);
  if (removed) throw invalid(`error in move for path: '${source.key}': ${removed}`, from);
  const path = stringMember(op, 'path');
  if (typeof path !== 'string') throw invalid(`move operation failed to decode path: ${path.error}`);
  const t = findObject(root, path);
  if (!t) throw invalid(`move operation does not apply: doc is missing destination path: ${path}: ${MISSING}`, path);
  const err = addAt(t, read.value ?? null);
  if (err) throw invalid(`error in move for path: '${path}': ${err}`, path);
  return root;
}

function copy(root: JsonValue, op: Operation): JsonValue {
  const from = stringMember(op, 'from');
  if (typeof from !== 'string') throw invalid(`copy operation failed to decode from: ${from.error}`);
  const source = findObject(root, from);
  if (!source) throw invalid(`copy operation does not apply: doc is missing from path: ${from}: ${MISSING}`, from);
  const read = readAt(source);
  if ('error' in read) throw invalid(`error in copy for from: '${from}': ${read.error}`, from);
  const path = stringMember(op, 'path');
  if (typeof path !== 'string') throw invalid(`copy operation failed to decode path: ${MISSING}`);
  const t = findObject(root, path);
  if (!t) throw invalid(`copy operation does not apply: doc is missing destination path: ${path}: ${MISSING}`, path);
  const err = addAt(t, read.value === undefined ? null : cloneJson(read.value));
  if (err) throw invalid(`error while adding value during copy: ${err}`, path);
  return root;
}

function test(root: JsonValue, op: Operation): JsonValue {
  const path = stringMember(op, 'path');
  if (typeof path !== 'string') throw invalid(`test operation failed to decode path: ${path.error}`);
  const failed = () => invalid(`testing value ${path} failed: test failed`, path);
  if (path === '') {
    if (jsonEqual(root, op.value)) return root;
    throw failed();
  }
  const t = findObject(root, path);
  if (!t) throw invalid(`test operation does not apply: is missing path: ${path}: ${MISSING}`, path);
  const read = readAt(t);
  if ('error' in read) throw invalid(`error in test for path: '${path}': ${read.error}`, path);
  const actual = read.value;
  // A missing key and a null value are the same to evanphx; so are an absent and a null "value".
  const expected = op.value;
  if (actual === undefined || actual === null) {
    if (expected === undefined || expected === null) return root;
    throw failed();
  }
  if (expected === undefined || !jsonEqual(actual, expected)) throw failed();
  return root;
}

const OPERATIONS: Record<string, (root: JsonValue, op: Operation) => JsonValue> = { add, remove, replace, move, copy, test };

/** The patch as evanphx's DecodePatch accepts it: an array of objects; anything else is a 400. */
function decodePatch(ops: unknown): Operation[] {
  if (!Array.isArray(ops)) throw new PatchError(`json: cannot unmarshal ${jsonTypeWord(ops)} into Go value of type jsonpatch.Patch`, 'BadRequest');
  return ops.map((op) => {
    if (op !== null && !isJsonObject(op)) throw new PatchError(`json: cannot unmarshal ${jsonTypeWord(op)} into Go value of type jsonpatch.Operation`, 'BadRequest');
    return (op ?? {}) as Operation;
  });
}

/**
 * Applies a JSON patch (RFC 6902) to a copy of doc and returns the result; doc is left as it
 * was. Throws a PatchError: 400 (BadRequest) when ops is not an array of objects, 422
 * (Invalid) when an operation does not apply, worded as Kubernetes words it.
 */
export function applyJsonPatch(doc: unknown, ops: unknown): JsonValue {
  const operations = decodePatch(ops);
  let root = cloneJson(doc);
  if (!isContainer(root)) throw invalid(`json: cannot unmarshal ${jsonTypeWord(root)} into Go value of type jsonpatch.partialDoc`);
  for (const op of operations) {
    const kind = typeof op.op === 'string' ? op.op : 'unknown';
    const apply = Object.hasOwn(OPERATIONS, kind) ? OPERATIONS[kind] : undefined;
    if (!apply) throw invalid(`Unexpected kind: ${kind}`);
    root = apply(root, op);
  }
  return root;
}
