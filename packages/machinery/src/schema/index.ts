// The API's schema as Kubernetes' rules see it: for each message of proto/, its fields by
// JSON name, what each field holds (a message, a scalar, or one of the types with a special
// JSON form), and the Kubernetes markers that proto/k8ts/meta/v1/schema.proto carries as
// field options (patch strategy and merge key, list type and list-map keys, map type), and
// where Kubernetes' own protobuf encoding puts the field (k8s_tag, k8s_embedded_in).
// Strategic merge patch, server-side apply and the OpenAPI documents all read it from here,
// so the markers are written once, beside the fields, in the .proto files.
import * as protobuf from 'protobufjs';
import { jsonName, protoRoot } from '@k8ts/api';

/** What a field (or a list's element, or a map's value) holds, in its JSON form. */
export type ValueKind =
  | 'message' // a JSON object of another message (typeName)
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'bytes' // base64 string
  | 'timestamp' // RFC 3339 string (google.protobuf.Timestamp)
  | 'intOrString' // a bare number or string (k8ts.meta.v1.IntOrString)
  | 'quantity' // a string such as "500m" (k8ts.meta.v1.Quantity)
  | 'rawJson'; // free-form JSON, kept as written (k8ts.meta.v1.FieldsV1 and the like)

export type ListType = 'atomic' | 'set' | 'map';

export interface FieldSchema {
  /** The JSON name ("containers", "podCIDRs"). */
  name: string;
  /** The .proto field name ("init_containers"). */
  protoName: string;
  /** What the field holds (for a list: each element; for a map: each value). */
  kind: ValueKind;
  /** The message type, when kind is 'message' ("k8ts.core.v1.Container"). */
  typeName?: string;
  /** A JSON array. */
  list: boolean;
  /** A JSON object with string keys (proto map<string, V>). */
  map: boolean;
  /** The field is optional: absent and zero differ (proto3 optional, or a message). */
  optional: boolean;
  /** patchStrategy: "merge", "replace", "retainKeys", "merge,retainKeys". */
  patchStrategy?: string;
  /** patchMergeKey ("name"). */
  patchMergeKey?: string;
  /** x-kubernetes-list-type; lists without the marker are atomic, as in Kubernetes. */
  listType?: ListType;
  /** x-kubernetes-list-map-keys, in order. */
  listMapKeys?: string[];
  /** x-kubernetes-map-type: "atomic" or "granular". */
  mapType?: 'atomic' | 'granular';
  /** The field's number in Kubernetes' protobuf encoding (k8s_tag); absent when Kubernetes has no such field. */
  k8sTag?: number;
  /**
   * When Kubernetes declares the field in a struct it embeds (Probe's ProbeHandler): that
   * struct's number in the message (k8s_embedded_in); k8sTag is then the number inside it.
   */
  k8sEmbeddedIn?: number;
  /** The field's comment in the .proto file, when the schema was loaded with comments. */
  description?: string;
}

export interface MessageSchema {
  /** Fully-qualified name without a leading dot ("k8ts.core.v1.PodSpec"). */
  typeName: string;
  /** Fields in declaration order. */
  fields: FieldSchema[];
  /** JSON name -> field. */
  byName: ReadonlyMap<string, FieldSchema>;
  description?: string;
}

/** Message types with a special JSON form: they are values, not objects with fields. */
const SPECIAL: Record<string, ValueKind> = {
  'google.protobuf.Timestamp': 'timestamp',
  'k8ts.meta.v1.IntOrString': 'intOrString',
  'k8ts.meta.v1.Quantity': 'quantity',
  'k8ts.meta.v1.FieldsV1': 'rawJson',
  'k8ts.meta.v1.RawExtension': 'rawJson',
};

const OPTION = '(k8ts.meta.v1.';

const INTEGERS = new Set(['int32', 'sint32', 'sfixed32', 'uint32', 'fixed32', 'int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);

function strip(typeName: string): string {
  return typeName.startsWith('.') ? typeName.slice(1) : typeName;
}

function scalarKind(type: string): ValueKind {
  if (INTEGERS.has(type)) return 'integer';
  if (type === 'double' || type === 'float') return 'number';
  if (type === 'bool') return 'boolean';
  if (type === 'bytes') return 'bytes';
  return 'string';
}

/** Every value an option was given (list_map_keys may be given several times). */
function optionValues(field: protobuf.Field, name: string): string[] {
  const key = `${OPTION}${name})`;
  const out: string[] = [];
  for (const o of (field.parsedOptions ?? []) as Record<string, unknown>[]) {
    const v = o[key];
    if (Array.isArray(v)) out.push(...v.map(String));
    else if (v !== undefined) out.push(String(v));
  }
  if (out.length === 0 && field.options?.[key] !== undefined) out.push(String(field.options[key]));
  return out;
}

function option(field: protobuf.Field, name: string): string | undefined {
  return optionValues(field, name)[0];
}

function fieldSchema(field: protobuf.Field): FieldSchema {
  field.resolve();
  const map = field instanceof protobuf.MapField;
  const resolved = field.resolvedType;
  let kind: ValueKind;
  let typeName: string | undefined;
  if (resolved instanceof protobuf.Type) {
    const full = strip(resolved.fullName);
    kind = SPECIAL[full] ?? 'message';
    if (kind === 'message') typeName = full;
  } else if (resolved instanceof protobuf.Enum) {
    kind = 'string';
  } else {
    kind = scalarKind(field.type);
  }
  const out: FieldSchema = {
    name: jsonName(field),
    protoName: field.name,
    kind,
    list: field.repeated && !map,
    map,
    optional: Boolean(field.options?.proto3_optional) || (field.partOf !== null && field.partOf !== undefined) || kind === 'message',
  };
  if (typeName) out.typeName = typeName;
  const patchStrategy = option(field, 'patch_strategy');
  if (patchStrategy) out.patchStrategy = patchStrategy;
  const mergeKey = option(field, 'patch_merge_key');
  if (mergeKey) out.patchMergeKey = mergeKey;
  const listType = option(field, 'list_type');
  if (listType) {
    if (listType !== 'atomic' && listType !== 'set' && listType !== 'map') throw new Error(`${field.fullName}: list_type ${JSON.stringify(listType)} is not atomic, set or map`);
    out.listType = listType;
  }
  const keys = optionValues(field, 'list_map_keys');
  if (keys.length > 0) out.listMapKeys = keys;
  const mapType = option(field, 'map_type');
  if (mapType) {
    if (mapType !== 'atomic' && mapType !== 'granular') throw new Error(`${field.fullName}: map_type ${JSON.stringify(mapType)} is not atomic or granular`);
    out.mapType = mapType;
  }
  const k8sTag = option(field, 'k8s_tag');
  if (k8sTag) out.k8sTag = Number(k8sTag);
  const embeddedIn = option(field, 'k8s_embedded_in');
  if (embeddedIn) out.k8sEmbeddedIn = Number(embeddedIn);
  if (field.comment) out.description = field.comment;
  return out;
}

const cache = new Map<string, MessageSchema>();

/** The schema of a message type ("k8ts.core.v1.PodSpec"); throws for an unknown type. */
export function messageSchema(typeName: string): MessageSchema {
  const key = strip(typeName);
  let s = cache.get(key);
  if (s) return s;
  const type = protoRoot().lookupType(key);
  const fields = type.fieldsArray.map(fieldSchema);
  s = { typeName: key, fields, byName: new Map(fields.map((f) => [f.name, f])) };
  if (type.comment) s.description = type.comment;
  cache.set(key, s);
  return s;
}

/** The field of a message by its JSON name, or undefined when the message has no such field. */
export function fieldOf(typeName: string, name: string): FieldSchema | undefined {
  return messageSchema(typeName).byName.get(name);
}

/** The list semantics server-side apply uses: the marker, else what the patch tags imply, else atomic. */
export function effectiveListType(f: FieldSchema): ListType {
  if (f.listType) return f.listType;
  if (f.patchStrategy?.split(',').includes('merge')) return f.patchMergeKey ? 'map' : 'set';
  return 'atomic';
}
