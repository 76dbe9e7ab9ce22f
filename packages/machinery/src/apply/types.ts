// The shapes server-side apply walks, read from the API schema (../schema): what each field
// holds and how apply treats it, in structured-merge-diff's terms.
//   struct  a message: granular (field by field) unless marked map_type=atomic
//   map     a proto map (labels, annotations, resource lists): granular unless map_type=atomic
//   list    listType atomic (replaced whole; the default for an unmarked list), set (elements
//           by value) or map (elements by listMapKeys, else patchMergeKey)
//   scalar  everything else, including the special JSON forms (quantities, int-or-string,
//           timestamps) and free-form JSON (FieldsV1, RawExtension), compared as a whole
// On a repeated field, map_type=atomic describes each element (OwnerReference is atomic).
//
// A map-list key a config may leave out has the default Kubernetes declares for it (the
// protocol of container and service ports is "TCP"), so that `containerPort: 80` names the
// same element as the stored `{containerPort: 80, protocol: TCP}`.
import { type FieldSchema, type ListType, type MessageSchema, type ValueKind, effectiveListType, messageSchema } from '../schema';
import type { JsonValue } from './json';

/** Where apply reads message schemas from; tests may supply their own. */
export interface SchemaSource {
  message(typeName: string): MessageSchema;
}

export const API_SCHEMA: SchemaSource = { message: messageSchema };

export type TypeRef =
  | { readonly kind: 'scalar'; readonly valueKind: ValueKind }
  | { readonly kind: 'struct'; readonly typeName: string; readonly atomic: boolean }
  | { readonly kind: 'map'; readonly atomic: boolean; readonly value: TypeRef }
  | {
      readonly kind: 'list';
      readonly listType: ListType;
      /** The fields naming an element of a map list. */
      readonly keys: readonly string[];
      readonly element: TypeRef;
      /** "k8ts.core.v1.PodSpec.containers", for errors. */
      readonly where: string;
    };

/** Kubernetes' +default values of map-list key fields (OpenAPI `default`). */
const KEY_DEFAULTS: Readonly<Record<string, JsonValue>> = {
  'k8ts.core.v1.ContainerPort.protocol': 'TCP',
  'k8ts.core.v1.ServicePort.protocol': 'TCP',
};

/** The default of a key field of a map list's element type, if Kubernetes declares one. */
export function keyDefault(element: TypeRef, key: string): JsonValue | undefined {
  return element.kind === 'struct' ? KEY_DEFAULTS[`${element.typeName}.${key}`] : undefined;
}

/** The type of an object of a message type ("k8ts.apps.v1.Deployment"). */
export function rootType(typeName: string): TypeRef {
  return { kind: 'struct', typeName, atomic: false };
}

function elementRef(f: FieldSchema, atomic: boolean): TypeRef {
  if (f.kind === 'message' && f.typeName) return { kind: 'struct', typeName: f.typeName, atomic };
  return { kind: 'scalar', valueKind: f.kind };
}

function listKeys(f: FieldSchema, listType: ListType, where: string): string[] {
  if (listType !== 'map') return [];
  const keys = f.listMapKeys ?? (f.patchMergeKey ? [f.patchMergeKey] : []);
  if (keys.length === 0) throw new Error(`${where}: a list of type map needs list_map_keys (or patch_merge_key)`);
  return keys;
}

/** The type of a field's value, from its schema. */
export function fieldType(owner: string, f: FieldSchema): TypeRef {
  const atomic = f.mapType === 'atomic';
  if (f.list) {
    const where = `${owner}.${f.name}`;
    const listType = effectiveListType(f);
    return { kind: 'list', listType, keys: listKeys(f, listType, where), element: elementRef(f, atomic), where };
  }
  if (f.map) return { kind: 'map', atomic, value: elementRef(f, false) };
  return elementRef(f, atomic);
}

/** Resolves the fields of struct types, caching each type's field table. */
export class TypeResolver {
  private readonly fields = new Map<string, Map<string, TypeRef>>();
  constructor(readonly schema: SchemaSource = API_SCHEMA) {}

  /** The type of a struct's field, or undefined when the struct has no such field. */
  field(struct: Extract<TypeRef, { kind: 'struct' }>, name: string): TypeRef | undefined {
    return this.table(struct.typeName).get(name);
  }

  /** The field names of a struct, in declaration order. */
  fieldNames(struct: Extract<TypeRef, { kind: 'struct' }>): string[] {
    return [...this.table(struct.typeName).keys()];
  }

  /** The type of what lies under a map key or struct field (undefined: not in the schema). */
  child(ref: TypeRef, name: string): TypeRef | undefined {
    if (ref.kind === 'struct') return this.field(ref, name);
    if (ref.kind === 'map') return ref.value;
    return undefined;
  }

  private table(typeName: string): Map<string, TypeRef> {
    let t = this.fields.get(typeName);
    if (!t) {
      const schema = this.schema.message(typeName);
      t = new Map(schema.fields.map((f) => [f.name, fieldType(typeName, f)]));
      this.fields.set(typeName, t);
    }
    return t;
  }
}

/** True for a struct or a proto map: a JSON object in the data. */
export function isObjectType(ref: TypeRef): ref is Extract<TypeRef, { kind: 'struct' | 'map' }> {
  return ref.kind === 'struct' || ref.kind === 'map';
}

/** True when the value is replaced as a whole (scalars, atomic lists, maps and structs). */
export function isAtomic(ref: TypeRef): boolean {
  if (ref.kind === 'scalar') return true;
  if (ref.kind === 'list') return ref.listType === 'atomic';
  return ref.atomic;
}
