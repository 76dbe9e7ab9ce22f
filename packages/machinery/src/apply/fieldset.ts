// A set of field paths, kept as a trie (structured-merge-diff's fieldpath.Set): at each level
// the elements that are members of the set themselves, and the elements under which deeper
// members live. A path can be both a member and the parent of members: a map-list element
// that a manager owns as a whole and field by field.
//
// FieldsV1 is the trie as JSON: each element's serialized form is a key; a member without
// members below is {}, a parent is an object of its children, and a parent that is also a
// member carries "." : {} first. Keys of unknown types are dropped when read, as Kubernetes
// does.
//
// Difference removes exactly the members of the other set (a member there does not remove
// what lies below it here); recursiveDifference removes whole subtrees under the other set's
// members.
import { type JsonObject, isJsonObject } from './json';
import {
  type Path,
  type PathElement,
  PathElementSyntaxError,
  comparePathElements,
  parsePathElement,
  pathToString,
  serializePathElement,
} from './path';

interface Child {
  readonly pe: PathElement;
  readonly set: FieldSet;
}

/** A FieldsV1 document that could not be read: where and why. */
export class FieldsV1Error extends Error {
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'FieldsV1Error';
    this.path = path;
    this.reason = reason;
  }
}

export class FieldSet {
  /** Serialized element -> element, for the members at this level. */
  private readonly members = new Map<string, PathElement>();
  /** Serialized element -> the set below it. Never holds an empty set. */
  private readonly children = new Map<string, Child>();

  /** A set holding the given paths. */
  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** The empty set that withPrefix answers with (never inserted into). */
  private static readonly EMPTY = new FieldSet();

  /** Adds a path (mutates this set; sets are otherwise treated as values). */
  insert(path: Path): void {
    if (path.length === 0) return;
    if (this === FieldSet.EMPTY) throw new Error('FieldSet: the shared empty set is read-only');
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) node = node.descend(path[i]);
    const last = path[path.length - 1];
    node.members.set(serializePathElement(last), last);
  }

  private descend(pe: PathElement): FieldSet {
    const key = serializePathElement(pe);
    let child = this.children.get(key);
    if (!child) {
      child = { pe, set: new FieldSet() };
      this.children.set(key, child);
    }
    return child.set;
  }

  has(path: Path): boolean {
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && node; i++) node = node.children.get(serializePathElement(path[i]))?.set;
    return path.length > 0 && !!node && node.members.has(serializePathElement(path[path.length - 1]));
  }

  hasMember(pe: PathElement): boolean {
    return this.members.has(serializePathElement(pe));
  }

  /** The set below an element (empty when there is none); read it, do not insert into it. */
  withPrefix(pe: PathElement): FieldSet {
    return this.children.get(serializePathElement(pe))?.set ?? FieldSet.EMPTY;
  }

  isEmpty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  /** The number of paths in the set. */
  get size(): number {
    let n = this.members.size;
    for (const c of this.children.values()) n += c.set.size;
    return n;
  }

  /** The member elements at this level, in Kubernetes' order. */
  memberElements(): PathElement[] {
    return [...this.members.values()].sort(comparePathElements);
  }

  /** The elements with members below them at this level, in Kubernetes' order. */
  childElements(): PathElement[] {
    return [...this.children.values()].map((c) => c.pe).sort(comparePathElements);
  }

  copy(): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, c] of this.children) out.children.set(k, { pe: c.pe, set: c.set.copy() });
    return out;
  }

  union(other: FieldSet): FieldSet {
    const out = this.copy();
    for (const [k, pe] of other.members) out.members.set(k, pe);
    for (const [k, c] of other.children) {
      const mine = out.children.get(k);
      out.children.set(k, { pe: c.pe, set: mine ? mine.set.union(c.set) : c.set.copy() });
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const theirs = other.children.get(k);
      if (!theirs) continue;
      const both = c.set.intersection(theirs.set);
      if (!both.isEmpty()) out.children.set(k, { pe: c.pe, set: both });
    }
    return out;
  }

  /** The paths of this set that are not paths of the other. */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const theirs = other.children.get(k);
      const rest = theirs ? c.set.difference(theirs.set) : c.set.copy();
      if (!rest.isEmpty()) out.children.set(k, { pe: c.pe, set: rest });
    }
    return out;
  }

  /** The paths of this set not equal to, nor below, a path of the other. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      if (other.members.has(k)) continue;
      const theirs = other.children.get(k);
      const rest = theirs ? c.set.recursiveDifference(theirs.set) : c.set.copy();
      if (!rest.isEmpty()) out.children.set(k, { pe: c.pe, set: rest });
    }
    return out;
  }

  equals(other: FieldSet): boolean {
    if (this.members.size !== other.members.size || this.children.size !== other.children.size) return false;
    for (const k of this.members.keys()) if (!other.members.has(k)) return false;
    for (const [k, c] of this.children) {
      const theirs = other.children.get(k);
      if (!theirs || !c.set.equals(theirs.set)) return false;
    }
    return true;
  }

  /** Every path, members of a level before the levels below, each in Kubernetes' order. */
  paths(prefix: Path = []): Path[] {
    const out: Path[] = this.memberElements().map((pe) => [...prefix, pe]);
    for (const pe of this.childElements()) out.push(...this.withPrefix(pe).paths([...prefix, pe]));
    return out;
  }

  /** The paths, printed one per line as Kubernetes prints them (for tests and messages). */
  toString(): string {
    return this.paths().map(pathToString).join('\n');
  }

  /** The FieldsV1 form of the set. */
  toFieldsV1(): JsonObject {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): JsonObject {
    const out: JsonObject = {};
    if (includeSelf && !this.isEmpty()) out['.'] = {};
    const elements = new Map<string, PathElement>(this.members);
    for (const [k, c] of this.children) elements.set(k, c.pe);
    const ordered = [...elements.entries()].sort((a, b) => comparePathElements(a[1], b[1]));
    for (const [k] of ordered) {
      const child = this.children.get(k);
      out[k] = child ? child.set.emit(this.members.has(k)) : {};
    }
    return out;
  }

  /** Reads a FieldsV1 document; `where` names it in errors ("metadata.managedFields[0].fieldsV1"). */
  static fromFieldsV1(doc: unknown, where = 'fieldsV1'): FieldSet {
    if (!isJsonObject(doc)) throw new FieldsV1Error(where, 'expected a JSON object');
    return FieldSet.readLevel(doc, where).children ?? new FieldSet();
  }

  /** One level of a FieldsV1 document: the set below it, and whether the level itself is a member. */
  private static readLevel(doc: JsonObject, where: string): { children?: FieldSet; isMember: boolean } {
    let children: FieldSet | undefined;
    let isMember = false;
    for (const [key, value] of Object.entries(doc)) {
      const at = `${where}[${JSON.stringify(key)}]`;
      if (key === '.') {
        isMember = true;
        continue;
      }
      const pe = parseKey(key, at);
      if (!pe) continue; // an element type from a future version: dropped, as Kubernetes does
      if (!isJsonObject(value)) throw new FieldsV1Error(at, 'expected a JSON object');
      const below = FieldSet.readLevel(value, at);
      children ??= new FieldSet();
      const id = serializePathElement(pe);
      if (below.isMember) children.members.set(id, pe);
      if (below.children) {
        const earlier = children.children.get(id); // the same element written twice ("k:" keys in another order)
        children.children.set(id, { pe, set: earlier ? earlier.set.union(below.children) : below.children });
      }
    }
    return { children, isMember: isMember || !children };
  }
}

function parseKey(key: string, at: string): PathElement | undefined {
  try {
    return parsePathElement(key);
  } catch (err) {
    if (err instanceof PathElementSyntaxError) throw new FieldsV1Error(at, err.message);
    throw err;
  }
}
