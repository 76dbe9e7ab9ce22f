// Removing a set of fields from an object (structured-merge-diff's RemoveItems): a member of
// the set is removed with everything below it; a path with members below it is entered.
// Atomic values are only ever removed whole. A map, struct or list left empty is removed; a
// list element left empty stays, as an empty object (Kubernetes keeps the element too).
import type { FieldSet } from './fieldset';
import { asList, listElement } from './elements';
import { type JsonObject, type JsonValue, isJsonObject } from './json';
import { fieldElement } from './path';
import { type TypeRef, type TypeResolver, isAtomic } from './types';

type ListRef = Extract<TypeRef, { kind: 'list' }>;
type ObjectRef = Extract<TypeRef, { kind: 'struct' | 'map' }>;

class Remover {
  constructor(private readonly types: TypeResolver) {}

  remove(ref: TypeRef, v: JsonValue, set: FieldSet): JsonValue | undefined {
    if (isAtomic(ref)) return v;
    if (ref.kind === 'list') return this.list(ref, v, set);
    if (ref.kind === 'scalar') return v;
    return this.object(ref, v, set);
  }

  private list(ref: ListRef, v: JsonValue, set: FieldSet): JsonValue | undefined {
    const items = asList(v);
    if (!items || items.length === 0) return v;
    const out: JsonValue[] = [];
    for (const item of items) {
      const pe = listElement(ref, item);
      if (set.hasMember(pe)) continue;
      const below = set.withPrefix(pe);
      out.push(below.isEmpty() ? item : (this.remove(ref.element, item, below) ?? {}));
    }
    return out.length > 0 ? out : undefined;
  }

  private object(ref: ObjectRef, v: JsonValue, set: FieldSet): JsonValue | undefined {
    if (!isJsonObject(v) || Object.keys(v).length === 0) return v;
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(v)) {
      const pe = fieldElement(key);
      if (set.hasMember(pe)) continue;
      const below = set.withPrefix(pe);
      const childRef = this.types.child(ref, key);
      const kept = below.isEmpty() || !childRef ? child : this.remove(childRef, child, below);
      if (kept !== undefined) out[key] = kept;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
}

/** The value without the fields of the set (undefined when nothing remains). */
export function removeItems(types: TypeResolver, ref: TypeRef, v: JsonValue, set: FieldSet): JsonValue | undefined {
  if (set.isEmpty()) return v;
  return new Remover(types).remove(ref, v, set);
}
