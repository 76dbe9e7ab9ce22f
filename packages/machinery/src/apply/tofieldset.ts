// The fields an object sets, as structured-merge-diff's ToFieldSet computes them — what an
// applier owns after applying a configuration:
//   - every scalar, every atomic list, map or struct (as a whole, nothing below it);
//   - every set or map-list element (itself, and what it sets);
//   - every key of a granular map (itself, and what its value sets);
//   - a struct field only through what it sets, unless it is null or an empty object;
//   - an empty set or map list sets nothing.
// Elements named twice in a stored list (duplicates) are owned as a whole, once.
// Also here: the two schema-aware adjustments of a set, EnsureNamedFieldsAreMembers and the
// reconciliation of a set recorded under an older schema.
import { FieldSet } from './fieldset';
import { asList, indexListOrThrow } from './elements';
import { type JsonValue, isJsonObject } from './json';
import { type Path, type PathElement, fieldElement } from './path';
import { type TypeRef, type TypeResolver, isAtomic } from './types';

function listToFieldSet(types: TypeResolver, ref: Extract<TypeRef, { kind: 'list' }>, v: JsonValue, path: Path, out: FieldSet): void {
  const items = asList(v);
  if (!items) return;
  for (const { pe, items: same } of indexListOrThrow(ref, items).values()) {
    const at = [...path, pe];
    if (same.length === 1) walk(types, ref.element, same[0], at, out);
    out.insert(at);
  }
}

function objectToFieldSet(types: TypeResolver, ref: Extract<TypeRef, { kind: 'struct' | 'map' }>, v: JsonValue, path: Path, out: FieldSet): void {
  if (!isJsonObject(v)) return;
  for (const [key, child] of Object.entries(v)) {
    const childRef = types.child(ref, key);
    if (!childRef) continue; // not in the schema: validation reports it where it matters
    const at = [...path, fieldElement(key)];
    walk(types, childRef, child, at, out);
    const emptyOrNull = child === null || (isJsonObject(child) && Object.keys(child).length === 0);
    if (emptyOrNull || ref.kind === 'map') out.insert(at);
  }
}

function walk(types: TypeResolver, ref: TypeRef, v: JsonValue, path: Path, out: FieldSet): void {
  if (isAtomic(ref)) {
    out.insert(path);
    return;
  }
  if (ref.kind === 'list') listToFieldSet(types, ref, v, path, out);
  else if (ref.kind !== 'scalar') objectToFieldSet(types, ref, v, path, out);
}

/** The set of fields a value sets. */
export function toFieldSet(types: TypeResolver, ref: TypeRef, v: JsonValue): FieldSet {
  const out = new FieldSet();
  walk(types, ref, v, [], out);
  return out;
}

function childType(types: TypeResolver, ref: TypeRef | undefined, pe: PathElement): TypeRef | undefined {
  if (!ref) return undefined;
  if (pe.type === 'field') return types.child(ref, pe.name);
  if (pe.type === 'key' && ref.kind === 'list') return ref.element;
  return undefined;
}

function addNamedFields(types: TypeResolver, set: FieldSet, ref: TypeRef | undefined, path: Path, out: FieldSet): void {
  for (const pe of set.childElements()) {
    if (pe.type === 'field' && ref?.kind === 'struct' && types.field(ref, pe.name)) out.insert([...path, pe]);
    addNamedFields(types, set.withPrefix(pe), childType(types, ref, pe), [...path, pe], out);
  }
}

/**
 * The set with every struct field that has members below it made a member too (so that
 * removing the set's members from an object removes those fields themselves).
 */
export function ensureNamedFieldsAreMembers(types: TypeResolver, set: FieldSet, ref: TypeRef): FieldSet {
  const out = set.copy();
  addNamedFields(types, set, ref, [], out);
  return out;
}

/** Paths of atomic values that a set owns piecewise (recorded before the value became atomic). */
function collapsible(types: TypeResolver, set: FieldSet | undefined, ref: TypeRef, path: Path, ownedWhole: boolean, out: Path[]): void {
  if (ref.kind === 'scalar') return;
  const atomic = isAtomic(ref);
  if (atomic && !ownedWhole) {
    if (ref.kind === 'list' || (set && !set.isEmpty())) out.push(path);
    return;
  }
  if (!set) return;
  const visit = (pe: PathElement, isMember: boolean) => {
    const below = set.withPrefix(pe);
    const childRef = ref.kind === 'list' ? ref.element : pe.type === 'field' ? types.child(ref, pe.name) : undefined;
    if (!childRef) return; // not in the schema: left as it is
    collapsible(types, below.isEmpty() ? undefined : below, childRef, [...path, pe], isMember && below.isEmpty(), out);
  };
  for (const pe of set.childElements()) if (!set.hasMember(pe)) visit(pe, false);
  for (const pe of set.memberElements()) visit(pe, true);
}

/**
 * A set recorded under an older schema, made to fit the current one (structured-merge-diff's
 * ReconcileFieldSetWithSchema): a value that has become atomic since is owned as a whole
 * instead of field by field. Returns the set itself when nothing changes.
 */
export function reconcileWithSchema(types: TypeResolver, set: FieldSet, ref: TypeRef): FieldSet {
  const paths: Path[] = [];
  collapsible(types, set, ref, [], false, paths);
  if (paths.length === 0) return set;
  const whole = FieldSet.of(...paths);
  return set.recursiveDifference(whole).union(whole);
}
