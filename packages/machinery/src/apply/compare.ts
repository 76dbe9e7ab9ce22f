// What changed between two versions of an object (structured-merge-diff's Compare): the
// fields added, modified and removed, on which ownership moves.
//   - scalars and atomic values are compared whole: absent before → added, absent after →
//     removed, different → modified;
//   - a granular list, map or struct that appears (or disappears) is added (removed) itself,
//     and so is everything in it; when both sides are empty or null it is compared as a leaf;
//   - set and map-list elements are matched by name; elements named twice (duplicates) are
//     compared as one atomic value.
import { FieldSet } from './fieldset';
import { asList, indexListOrThrow } from './elements';
import { type JsonObject, type JsonValue, isJsonObject, jsonEqual } from './json';
import { type Path, fieldElement } from './path';
import { type TypeRef, type TypeResolver, isAtomic } from './types';

export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

type ListRef = Extract<TypeRef, { kind: 'list' }>;
type ObjectRef = Extract<TypeRef, { kind: 'struct' | 'map' }>;

function asObject(v: JsonValue | undefined): JsonObject | undefined {
  return isJsonObject(v) ? v : undefined;
}

class Comparer {
  readonly result: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  constructor(private readonly types: TypeResolver) {}

  /** lhs/rhs undefined: absent on that side (null is a value). */
  compare(ref: TypeRef, lhs: JsonValue | undefined, rhs: JsonValue | undefined, path: Path): void {
    const wasLeaf = this.dispatch(ref, lhs, rhs, path);
    if (wasLeaf) return;
    if (lhs === undefined) this.result.added.insert(path);
    else if (rhs === undefined) this.result.removed.insert(path);
  }

  /** Compares by kind; true when the value was compared as one leaf. */
  private dispatch(ref: TypeRef, lhs: JsonValue | undefined, rhs: JsonValue | undefined, path: Path): boolean {
    if (ref.kind === 'scalar') return this.leaf(lhs, rhs, path);
    if (ref.kind === 'list') {
      const l = asList(lhs);
      const r = asList(rhs);
      if (isAtomic(ref) || ((!l || l.length === 0) && (!r || r.length === 0))) return this.leaf(lhs, rhs, path);
      this.listItems(ref, l ?? [], r ?? [], path);
      return false;
    }
    const l = asObject(lhs);
    const r = asObject(rhs);
    const empty = (o: JsonObject | undefined) => !o || Object.keys(o).length === 0;
    if (isAtomic(ref) || (empty(l) && empty(r))) return this.leaf(lhs, rhs, path);
    this.objectItems(ref, l ?? {}, r ?? {}, path);
    return false;
  }

  private leaf(lhs: JsonValue | undefined, rhs: JsonValue | undefined, path: Path): true {
    if (lhs === undefined) this.result.added.insert(path);
    else if (rhs === undefined) this.result.removed.insert(path);
    else if (!jsonEqual(lhs, rhs)) this.result.modified.insert(path);
    return true;
  }

  private objectItems(ref: ObjectRef, lhs: JsonObject, rhs: JsonObject, path: Path): void {
    const keys = new Set([...Object.keys(lhs), ...Object.keys(rhs)]);
    for (const key of keys) {
      const childRef = this.types.child(ref, key);
      if (!childRef) continue; // not in the schema: not tracked
      this.compare(childRef, key in lhs ? lhs[key] : undefined, key in rhs ? rhs[key] : undefined, [...path, fieldElement(key)]);
    }
  }

  private listItems(ref: ListRef, lhs: JsonValue[], rhs: JsonValue[], path: Path): void {
    const left = indexListOrThrow(ref, lhs);
    const right = indexListOrThrow(ref, rhs);
    const ids = new Set([...left.keys(), ...right.keys()]);
    for (const id of ids) {
      const l = left.get(id);
      const r = right.get(id);
      const pe = (l ?? r)!.pe;
      const at = [...path, pe];
      const lItems = l?.items ?? [];
      const rItems = r?.items ?? [];
      if (lItems.length <= 1 && rItems.length <= 1) {
        this.compare(ref.element, lItems[0], rItems[0], at);
      } else if (lItems.length >= 2 && rItems.length >= 2) {
        if (!jsonEqual(lItems, rItems)) this.result.modified.insert(at);
      } else if (lItems.length >= 2) {
        // Duplicates resolved: the survivor is new, the duplicated whole is gone.
        if (rItems.length > 0) this.compare(ref.element, undefined, rItems[0], at);
        this.result.removed.insert(at);
      } else {
        // New duplicates: the single item is gone, the duplicated whole is new.
        if (lItems.length > 0) this.compare(ref.element, lItems[0], undefined, at);
        this.result.added.insert(at);
      }
    }
  }
}

/** The fields added, modified and removed from lhs to rhs (both of type ref). */
export function compareValues(types: TypeResolver, ref: TypeRef, lhs: JsonValue | undefined, rhs: JsonValue | undefined): Comparison {
  const comparer = new Comparer(types);
  comparer.compare(ref, lhs, rhs, []);
  return comparer.result;
}
