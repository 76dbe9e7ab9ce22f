// The schema definitions of the OpenAPI documents, generated from proto/ through the schema
// module (@k8ts/machinery): one definition per message, named as Kubernetes names it
// (names.ts), with each field's JSON name, type and format, its description (the .proto
// comment), `required` (docs.ts), Kubernetes' markers (x-kubernetes-patch-strategy,
// -patch-merge-key, -list-type, -list-map-keys, -map-type) and, on kinds,
// x-kubernetes-group-version-kind.
//
// Values with a special JSON form get Kubernetes' definitions: Time (an RFC 3339 string),
// IntOrString (format int-or-string, x-kubernetes-int-or-string), Quantity (a string, or in
// 3.0 one of string and number), RawExtension and FieldsV1 (free-form objects). Kubernetes
// types of the HTTP API that proto/ does not declare (DeleteOptions, WatchEvent, ...) are
// published as free-form objects until it does: the moment proto/ gains the message
// (k8ts.meta.v1.DeleteOptions), its full schema is published instead.
import { KINDS, protoRoot } from '@k8ts/api';
import { messageSchema, type FieldSchema } from '@k8ts/machinery';
import type * as protobuf from 'protobufjs';
import { fieldDescription, isRequiredByDescription, typeDescription } from './docs';
import { gvkOfKubeName, KUBE, kubeName, protoTypeOf } from './names';
import type { GroupVersionKind, Schema } from './types';

/** How one OpenAPI version writes what Kubernetes' documents say. */
export interface Dialect {
  /** Where definitions live: "#/components/schemas/" (3.0) or "#/definitions/" (2.0). */
  refPrefix: string;
  /**
   * OpenAPI 3.0 ignores the siblings of a $ref, so a reference that carries its own
   * description or markers is wrapped, {allOf: [{$ref}], description}; Swagger 2.0
   * documents put them beside the $ref. Kubernetes publishes both that way.
   */
  wrapRefs: boolean;
  /** IntOrString and Quantity: 3.0 lists the alternatives (oneOf); 2.0 calls them strings. */
  oneOf: boolean;
}

export const OPENAPI_V3: Dialect = { refPrefix: '#/components/schemas/', wrapRefs: true, oneOf: true };
export const SWAGGER_V2: Dialect = { refPrefix: '#/definitions/', wrapRefs: false, oneOf: false };

/** Kubernetes types the documents use that proto/ does not declare (yet). */
const NOT_IN_PROTO: Readonly<Record<string, { description: string; isKind?: boolean }>> = {
  [KUBE.deleteOptions]: {
    description: "The options of a delete request (gracePeriodSeconds, preconditions, propagationPolicy, dryRun), as Kubernetes' meta/v1 DeleteOptions.",
  },
  [KUBE.watchEvent]: { description: 'One event of a watch stream: its type (ADDED, MODIFIED, DELETED, BOOKMARK or ERROR) and the object concerned.' },
  [KUBE.patch]: { description: 'The body of a PATCH request, in the format its Content-Type names.' },
  [KUBE.apiResourceList]: { description: 'The resources of one group-version and the verbs each supports.' },
  [KUBE.apiVersions]: { description: 'The versions of the core API group (/api).' },
  [KUBE.apiGroupList]: { description: 'The API groups the server serves (/apis).' },
  [KUBE.apiGroup]: { description: 'One API group and the versions it is served in.' },
  [KUBE.tokenRequest]: { description: 'A request for a service account token (audiences, expiration, bound object) and, in its status, the token issued.', isKind: true },
};

const TIME_DESCRIPTION = 'A time, as an RFC 3339 string such as "2026-01-02T15:04:05Z".';

/** The definitions built for one dialect, each with the names it refers to. */
interface Built {
  schema: Schema;
  refs: ReadonlySet<string>;
}

/** What building a definition needs: the dialect, and where its references are recorded. */
interface BuildContext {
  dialect: Dialect;
  refs: Set<string>;
}

const builtByDialect = new Map<Dialect, Map<string, Built>>();

/**
 * Every definition reachable from `roots` (Kubernetes names), sorted by name. Each
 * definition is built once per dialect and shared by every document that uses it.
 */
export function collectDefinitions(roots: Iterable<string>, dialect: Dialect): Record<string, Schema> {
  const seen = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const ref of builtDefinition(name, dialect).refs) if (!seen.has(ref)) pending.push(ref);
  }
  const out: Record<string, Schema> = {};
  for (const name of [...seen].sort()) out[name] = builtDefinition(name, dialect).schema;
  return out;
}

/** A reference to a definition, recorded so that the definition is published too. */
export function refTo(kube: string, ctx: BuildContext): Schema {
  ctx.refs.add(kube);
  return { $ref: `${ctx.dialect.refPrefix}${kube}` };
}

function builtDefinition(kube: string, dialect: Dialect): Built {
  let cache = builtByDialect.get(dialect);
  if (!cache) {
    cache = new Map();
    builtByDialect.set(dialect, cache);
  }
  let built = cache.get(kube);
  if (!built) {
    const ctx: BuildContext = { dialect, refs: new Set() };
    built = { schema: definition(kube, ctx), refs: ctx.refs };
    cache.set(kube, built);
  }
  return built;
}

function definition(kube: string, ctx: BuildContext): Schema {
  const special = specialDefinition(kube, ctx.dialect);
  if (special) return special;
  const protoType = protoTypeOf(kube);
  if (protoType && isMessage(protoType)) return messageDefinition(protoType, kube, ctx);
  const missing = NOT_IN_PROTO[kube];
  if (!missing) throw new Error(`OpenAPI: no schema for ${kube}: proto/ has no message ${protoType ?? '(none maps to it)'}`);
  return withKinds({ description: missing.description, type: 'object' }, kindsOf(kube, missing.isKind === true));
}

function isMessage(protoType: string): boolean {
  const found = protoRoot().lookup(protoType);
  return found !== null && 'fieldsArray' in found;
}

/** The definitions of the values with a special JSON form. */
function specialDefinition(kube: string, dialect: Dialect): Schema | undefined {
  const description = (protoType: string): string | undefined => (isMessage(protoType) ? typeDescription(protoType) : undefined);
  switch (kube) {
    case KUBE.time:
      return { description: TIME_DESCRIPTION, type: 'string', format: 'date-time' };
    case KUBE.intOrString: {
      const base: Schema = { description: description('k8ts.meta.v1.IntOrString'), format: 'int-or-string', 'x-kubernetes-int-or-string': true };
      return dialect.oneOf ? { ...base, oneOf: [{ type: 'integer' }, { type: 'string' }] } : { ...base, type: 'string' };
    }
    case KUBE.quantity: {
      const base: Schema = { description: description('k8ts.meta.v1.Quantity') };
      return dialect.oneOf ? { ...base, oneOf: [{ type: 'string' }, { type: 'number' }] } : { ...base, type: 'string' };
    }
    case KUBE.rawExtension:
    case kubeName('k8ts.meta.v1.FieldsV1'):
      return { description: description(protoTypeOf(kube) as string), type: 'object' };
    default:
      return undefined;
  }
}

function messageDefinition(protoType: string, kube: string, ctx: BuildContext): Schema {
  const message = messageSchema(protoType);
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const field of message.fields) {
    const description = field.description ?? fieldDescription(protoType, field.protoName);
    properties[field.name] = fieldSchema(protoType, field, description, ctx);
    if (isRequiredByDescription(description)) required.push(field.name);
  }
  const schema: Schema = { description: message.description ?? typeDescription(protoType), type: 'object', properties };
  if (required.length > 0) schema.required = required;
  const isKind = message.byName.has('apiVersion') && message.byName.has('kind');
  return withKinds(schema, kindsOf(kube, isKind));
}

/**
 * The x-kubernetes-group-version-kind of a definition: a kind (a message with apiVersion and
 * kind) names its own; Status is core/v1's; DeleteOptions and WatchEvent are shared by every
 * served group-version, as in Kubernetes.
 */
function kindsOf(kube: string, isKind: boolean): GroupVersionKind[] {
  if (kube === KUBE.status) return [{ group: '', version: 'v1', kind: 'Status' }];
  if (kube === KUBE.deleteOptions || kube === KUBE.watchEvent) {
    const kind = kube.slice(kube.lastIndexOf('.') + 1);
    return servedGroupVersions().map((gv) => ({ ...gv, kind }));
  }
  const gvk = isKind ? gvkOfKubeName(kube) : undefined;
  return gvk ? [gvk] : [];
}

function withKinds(schema: Schema, kinds: GroupVersionKind[]): Schema {
  return kinds.length > 0 ? { ...schema, 'x-kubernetes-group-version-kind': kinds } : schema;
}

/** Every group-version of KINDS, the core group first, then by group name. */
export function servedGroupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const k of KINDS) seen.set(`${k.group}/${k.version}`, { group: k.group, version: k.version });
  return [...seen.values()].sort((a, b) => (a.group === b.group ? a.version.localeCompare(b.version) : a.group.localeCompare(b.group)));
}

/** The schema of one field: its value (or element, or map value), description and markers. */
function fieldSchema(owner: string, field: FieldSchema, description: string | undefined, ctx: BuildContext): Schema {
  const value = valueSchema(owner, field, ctx);
  const markers = markerExtensions(field);
  // Kubernetes' +mapType/+structType describe an object: on a list of structs that is each
  // element (proto/k8ts/meta/v1/schema.proto says the same of map_type on a repeated field).
  const mapType: Schema = field.mapType ? { 'x-kubernetes-map-type': field.mapType } : {};
  if (field.list) {
    const items = field.mapType ? annotate(value, {}, ctx.dialect, mapType) : value;
    return compact({ type: 'array', items, description, ...markers });
  }
  if (field.map) return compact({ type: 'object', additionalProperties: value, description, ...markers, ...mapType });
  return annotate(value, { description }, ctx.dialect, { ...markers, ...mapType });
}

/** Adds a description and extensions to a value schema, wrapping a reference in 3.0. */
function annotate(value: Schema, text: Pick<Schema, 'description'>, dialect: Dialect, extensions: Schema): Schema {
  const extra = compact({ ...text, ...extensions });
  if (Object.keys(extra).length === 0) return value;
  if (value.$ref !== undefined && dialect.wrapRefs) return { allOf: [value], ...extra };
  return { ...value, ...extra };
}

function markerExtensions(field: FieldSchema): Schema {
  return compact({
    'x-kubernetes-list-map-keys': field.listMapKeys,
    'x-kubernetes-list-type': field.listType,
    'x-kubernetes-patch-merge-key': field.patchMergeKey,
    'x-kubernetes-patch-strategy': field.patchStrategy,
  });
}

/** What one value of the field is: a reference to a definition or a scalar with its format. */
function valueSchema(owner: string, field: FieldSchema, ctx: BuildContext): Schema {
  const where = `${owner}.${field.protoName}`;
  switch (field.kind) {
    case 'message':
      return refTo(kubeNameAt(field.typeName as string, where), ctx);
    case 'timestamp':
    case 'intOrString':
    case 'quantity':
    case 'rawJson':
      return refTo(kubeNameAt(protoFieldType(owner, field), where), ctx);
    default:
      return scalarSchema(protoField(owner, field).type);
  }
}

function kubeNameAt(protoType: string, where: string): string {
  try {
    return kubeName(protoType);
  } catch (err) {
    throw new Error(`OpenAPI: field ${where}: ${(err as Error).message}`);
  }
}

function protoField(owner: string, field: FieldSchema): protobuf.Field {
  const found = protoRoot().lookupType(owner).fields[field.protoName];
  if (!found) throw new Error(`OpenAPI: ${owner} has no field ${field.protoName}`);
  return found;
}

/** The message type of a field with a special JSON form ("k8ts.meta.v1.Quantity"). */
function protoFieldType(owner: string, field: FieldSchema): string {
  const resolved = protoField(owner, field).resolvedType;
  if (!resolved) throw new Error(`OpenAPI: field ${owner}.${field.protoName}: type not resolved`);
  return resolved.fullName.replace(/^\./, '');
}

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64', 'uint32', 'fixed32']);

/** A scalar's schema from its .proto type; enums are strings, as Kubernetes' enums are. */
export function scalarSchema(protoType: string): Schema {
  if (INT32.has(protoType)) return { type: 'integer', format: 'int32' };
  if (INT64.has(protoType)) return { type: 'integer', format: 'int64' };
  if (protoType === 'double' || protoType === 'float') return { type: 'number', format: protoType };
  if (protoType === 'bool') return { type: 'boolean' };
  if (protoType === 'bytes') return { type: 'string', format: 'byte' };
  return { type: 'string' };
}

/** The object without its undefined members. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
