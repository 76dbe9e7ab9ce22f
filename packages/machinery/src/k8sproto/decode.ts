// Kubernetes protobuf -> Kubernetes JSON, driven by k8ts' schema: the wire bytes of an object
// in Kubernetes' own encoding (k8s.io/api generated.proto numbering, which the k8s_tag option
// of every field records) are walked field by field and written under each field's JSON name,
// so that fromK8sJson (@k8ts/api) reads the result as it reads a JSON body.
//
// Kubernetes' encoder (gogo-protobuf, proto2) writes every non-pointer field, even when it is
// zero, and a pointer field only when it is set. JSON says the same with omitempty and null, so:
// - a plain scalar that is zero is left out (Go reads zero and absent alike);
// - an optional scalar (a pointer in Go: replicas, immutable, ...) is kept whenever present,
//   zero included, so that "set to 0" is not mistaken for "unset" and defaulted;
// - a nested message is kept whenever present, as {} when empty (Kubernetes' JSON writes an
//   empty non-pointer struct that way: "strategy": {}, "status": {}); a zero Time is left out;
// - repeated scalars may come packed or one per field; map entries are {key (1), value (2)}.
// A field number the schema does not know is skipped (Kubernetes has fields k8ts lacks); those
// holding a value other than zero are reported, as the unknown fields of a JSON body are.
import * as protobuf from 'protobufjs';
import { type FieldSchema, fieldOf } from '../schema';
import { decodeK8sEnvelope } from './envelope';
import { K8sProtoError } from './errors';
import { type MessagePlan, messagePlan } from './plan';
import { readIntOrString, readNested, readQuantity, readRawJson, readStringList, readTime } from './values';
import {
  type FieldKey,
  WIRE_BYTES,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_VARINT,
  expectEnd,
  expectWireType,
  readKey,
  readLengthEnd,
  readVarintNumber,
  skipValue,
  wireName,
} from './wire';

export type JsonMap = Record<string, unknown>;

/** A field number the schema does not know, holding a value other than zero. */
export interface UnknownK8sField {
  /** The JSON path of the object that holds it ("spec.template.spec"); empty for the top. */
  path: string;
  /** Its Kubernetes field number. */
  tag: number;
  /** Its protobuf wire type. */
  wireType: number;
}

/** An object decoded from Kubernetes protobuf, with the unknown fields it held. */
export interface K8sProtoDecoded {
  object: JsonMap;
  unknownFields: UnknownK8sField[];
}

/** A decoded body: the object (with apiVersion and kind from the envelope) and the envelope's type. */
export interface K8sProtoBody extends K8sProtoDecoded {
  apiVersion: string;
  kind: string;
}

/**
 * Message types whose JSON form is a bare list of strings while their protobuf form is a
 * message {items (1)}: Kubernetes' ExtraValue ([]string with its own name), which the JSON
 * codec's special forms do not include.
 */
const STRING_LIST_TYPES: ReadonlySet<string> = new Set(['k8ts.authentication.v1.ExtraValue', 'k8ts.authorization.v1.ExtraValue']);

/** Kubernetes' types nest about fifteen deep; a deeper body is refused rather than recursed into. */
const MAX_DEPTH = 64;

const PACKABLE: ReadonlySet<FieldSchema['kind']> = new Set(['integer', 'boolean', 'number']);

const childPath = (path: string, name: string): string => (path ? `${path}.${name}` : name);

function isZeroScalar(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}

/** The value of a map entry that carried none: what Go's zero value looks like in JSON. */
function zeroValue(field: FieldSchema): unknown {
  switch (field.kind) {
    case 'string':
    case 'bytes':
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'quantity':
      return '0';
    case 'intOrString':
      return 0;
    case 'message':
      return field.typeName && STRING_LIST_TYPES.has(field.typeName) ? [] : {};
    default:
      return undefined;
  }
}

/** Walks one body; the reader is shared by every nested message. */
class Walker {
  readonly unknownFields: UnknownK8sField[] = [];

  constructor(private readonly reader: protobuf.Reader) {}

  /** Reads the fields of a message (or of a struct it embeds) up to `end` into `out`. */
  message(plan: MessagePlan, fields: ReadonlyMap<number, FieldSchema>, end: number, path: string, out: JsonMap, depth: number): void {
    if (depth > MAX_DEPTH) throw new K8sProtoError(path, `nested deeper than ${MAX_DEPTH} messages`);
    while (this.reader.pos < end) {
      let field: FieldSchema | undefined;
      try {
        const key = readKey(this.reader, path);
        field = fields.get(key.tag);
        const embedded = fields === plan.fields ? plan.embedded.get(key.tag) : undefined;
        if (field) this.field(field, key, path, out, depth);
        else if (embedded) this.embedded(plan, embedded, key, path, out, depth);
        else this.unknown(key, path);
      } catch (err) {
        // protobufjs reports data that ends too early as a RangeError: name the field.
        if (err instanceof K8sProtoError) throw err;
        throw new K8sProtoError(field ? childPath(path, field.name) : path, `malformed protobuf: ${(err as Error).message}`);
      }
    }
    expectEnd(this.reader, end, path);
  }

  /** An embedded Go struct: a nested message whose fields belong to the enclosing object. */
  private embedded(plan: MessagePlan, fields: ReadonlyMap<number, FieldSchema>, key: FieldKey, path: string, out: JsonMap, depth: number): void {
    expectWireType(key.wireType, WIRE_BYTES, path);
    this.message(plan, fields, readLengthEnd(this.reader, path), path, out, depth + 1);
  }

  private unknown(key: FieldKey, path: string): void {
    if (skipValue(this.reader, key.wireType, path)) this.unknownFields.push({ path, tag: key.tag, wireType: key.wireType });
  }

  private field(field: FieldSchema, key: FieldKey, parent: string, out: JsonMap, depth: number): void {
    const path = childPath(parent, field.name);
    if (field.map) this.mapEntry(field, key, path, out, depth);
    else if (field.list) this.listElements(field, key, path, out, depth);
    else this.single(field, key, path, out, depth);
  }

  /** A singular field: set, or left out when Kubernetes' JSON would leave it out. */
  private single(field: FieldSchema, key: FieldKey, path: string, out: JsonMap, depth: number): void {
    const value = this.value(field, key, path, out[field.name], depth);
    const isScalar = !(field.kind === 'message' || field.kind === 'intOrString' || field.kind === 'quantity');
    if (value === undefined || (isScalar && !field.optional && isZeroScalar(value))) delete out[field.name];
    else out[field.name] = value;
  }

  /** One element of a list, or a packed run of them. */
  private listElements(field: FieldSchema, key: FieldKey, path: string, out: JsonMap, depth: number): void {
    const list = (out[field.name] ??= []) as unknown[];
    if (key.wireType === WIRE_BYTES && PACKABLE.has(field.kind)) {
      const end = readLengthEnd(this.reader, path);
      const elementWire = field.kind === 'number' ? WIRE_FIXED64 : WIRE_VARINT;
      while (this.reader.pos < end) list.push(this.scalar(field, elementWire, `${path}[${list.length}]`));
      expectEnd(this.reader, end, path);
      return;
    }
    const value = this.value(field, key, `${path}[${list.length}]`, undefined, depth);
    if (value !== undefined) list.push(value);
  }

  /** One map entry {key (1), value (2)}; an entry without a value holds the zero value. */
  private mapEntry(field: FieldSchema, key: FieldKey, path: string, out: JsonMap, depth: number): void {
    expectWireType(key.wireType, WIRE_BYTES, path);
    const map = (out[field.name] ??= {}) as JsonMap;
    let entryKey = '';
    let value: unknown;
    let hasValue = false;
    readNested(this.reader, path, (entryField) => {
      if (entryField.tag === 1) {
        expectWireType(entryField.wireType, WIRE_BYTES, `${path} (map key)`);
        entryKey = this.reader.string();
      } else if (entryField.tag === 2) {
        value = this.value(field, entryField, `${path}[${JSON.stringify(entryKey)}]`, undefined, depth);
        hasValue = true;
      } else skipValue(this.reader, entryField.wireType, path);
    });
    const stored = hasValue ? value : zeroValue(field);
    if (stored !== undefined) map[entryKey] = stored;
  }

  /** The JSON value of one occurrence of a field (a list element, a map value, a singular value). */
  private value(field: FieldSchema, key: FieldKey, path: string, previous: unknown, depth: number): unknown {
    switch (field.kind) {
      case 'message':
        return this.nestedMessage(field, key, path, previous, depth);
      case 'timestamp':
        expectWireType(key.wireType, WIRE_BYTES, path);
        return readTime(this.reader, path);
      case 'intOrString':
        expectWireType(key.wireType, WIRE_BYTES, path);
        return readIntOrString(this.reader, path);
      case 'quantity':
        expectWireType(key.wireType, WIRE_BYTES, path);
        return readQuantity(this.reader, path);
      case 'rawJson':
        expectWireType(key.wireType, WIRE_BYTES, path);
        return readRawJson(this.reader, path);
      default:
        return this.scalar(field, key.wireType, path);
    }
  }

  /** A nested message; a second occurrence of a singular one merges into the first, as protobuf does. */
  private nestedMessage(field: FieldSchema, key: FieldKey, path: string, previous: unknown, depth: number): unknown {
    expectWireType(key.wireType, WIRE_BYTES, path);
    const typeName = field.typeName as string;
    if (STRING_LIST_TYPES.has(typeName)) return readStringList(this.reader, path);
    const target = typeof previous === 'object' && previous !== null && !Array.isArray(previous) ? (previous as JsonMap) : {};
    const plan = messagePlan(typeName);
    this.message(plan, plan.fields, readLengthEnd(this.reader, path), path, target, depth + 1);
    return target;
  }

  private scalar(field: FieldSchema, wireType: number, path: string): unknown {
    switch (field.kind) {
      case 'string':
        expectWireType(wireType, WIRE_BYTES, path);
        return this.reader.string();
      case 'bytes':
        expectWireType(wireType, WIRE_BYTES, path);
        return Buffer.from(this.reader.bytes()).toString('base64');
      case 'integer':
        expectWireType(wireType, WIRE_VARINT, path);
        return readVarintNumber(this.reader, path);
      case 'boolean':
        expectWireType(wireType, WIRE_VARINT, path);
        return readVarintNumber(this.reader, path) !== 0;
      case 'number':
        if (wireType === WIRE_FIXED64) return this.reader.double();
        if (wireType === WIRE_FIXED32) return this.reader.float();
        throw new K8sProtoError(path, `expected a fixed 64-bit or 32-bit value, got ${wireName(wireType)}`);
      default:
        throw new K8sProtoError(path, `a field of kind ${field.kind} cannot be read as a scalar`);
    }
  }
}

/**
 * Decodes an object in Kubernetes' protobuf encoding (the raw of the envelope) as the k8ts
 * message `typeName` ("k8ts.core.v1.ConfigMap"), into Kubernetes JSON, and lists the field
 * numbers it did not know. Throws K8sProtoError naming the field path for malformed data or a
 * wire type the field cannot have.
 */
export function decodeK8sProto(typeName: string, raw: Uint8Array): K8sProtoDecoded {
  const reader = protobuf.Reader.create(raw);
  const walker = new Walker(reader);
  const plan = messagePlan(typeName);
  const object: JsonMap = {};
  walker.message(plan, plan.fields, reader.len, '', object, 0);
  return { object, unknownFields: walker.unknownFields };
}

/** Kubernetes protobuf (the envelope's raw) -> the Kubernetes JSON form of `typeName`. */
export function k8sProtoToJson(typeName: string, raw: Buffer): Record<string, unknown> {
  return decodeK8sProto(typeName, raw).object;
}

/**
 * A whole request body (magic number, envelope, object) decoded as `typeName`. The
 * envelope's apiVersion and kind are written into the object when the type has those fields
 * (every kind does), so that the result reads like the JSON body a client would have sent.
 */
export function decodeK8sProtoBody(body: Buffer, typeName: string): K8sProtoBody {
  const envelope = decodeK8sEnvelope(body);
  const decoded = decodeK8sProto(typeName, envelope.raw);
  const typeMeta: JsonMap = {};
  if (envelope.apiVersion !== '' && carriesTypeMeta(typeName, 'apiVersion')) typeMeta.apiVersion = envelope.apiVersion;
  if (envelope.kind !== '' && carriesTypeMeta(typeName, 'kind')) typeMeta.kind = envelope.kind;
  return { apiVersion: envelope.apiVersion, kind: envelope.kind, object: { ...typeMeta, ...decoded.object }, unknownFields: decoded.unknownFields };
}

/** Whether the type has this field of TypeMeta, which Kubernetes carries in the envelope (no k8s_tag). */
function carriesTypeMeta(typeName: string, name: 'apiVersion' | 'kind'): boolean {
  const field = fieldOf(typeName, name);
  return field !== undefined && field.k8sTag === undefined;
}

/** A warning for an unknown field, as the HTTP API reports the unknown fields of a JSON body. */
export function describeUnknownField(field: UnknownK8sField): string {
  return `unknown field number ${field.tag} in ${field.path ? JSON.stringify(field.path) : 'the object'} (Kubernetes protobuf)`;
}
