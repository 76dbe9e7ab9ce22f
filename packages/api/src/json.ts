// The Kubernetes JSON codec: converts between the Kubernetes JSON form of an object (what
// manifests, the store's values and `k8ts get -o json` hold) and the generated ts-proto
// types, driven by the API schema (proto/). It is strict the way kubectl's server-side
// field validation is: a value of the wrong type or an unknown field is an error naming the
// field's path ("spec.template.spec.containers[0].ports[0].containerPort"), and every such
// problem in an object is reported at once.
//
// Special JSON forms, as in Kubernetes:
//   k8ts.meta.v1.IntOrString   a bare number or a bare string
//   k8ts.meta.v1.Quantity      a string ("500m", "128Mi"); a bare number is accepted on input
//   google.protobuf.Timestamp  an RFC 3339 string (kept as a string in the TypeScript types)
//   bytes                      base64
//   int64                      a number (a decimal string is accepted on input, as proto3 JSON)
import * as protobuf from 'protobufjs';
import { protoRoot } from './schema';

/** One problem found while decoding: the field's path and the reason. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/** Decoding failed: every problem found, each with its field path. */
export class DecodeError extends Error {
  readonly problems: FieldProblem[];
  constructor(typeName: string, problems: FieldProblem[]) {
    const shown = problems.slice(0, 20).map((p) => `${p.field || '<root>'}: ${p.reason}`);
    if (problems.length > 20) shown.push(`... and ${problems.length - 20} more`);
    super(`invalid ${shortName(typeName)}: ${shown.join('; ')}`);
    this.name = 'DecodeError';
    this.problems = problems;
  }
}

export interface DecodeOptions {
  /** What to do with a field the schema does not know: 'error' (default) or 'ignore'. */
  unknownFields?: 'error' | 'ignore';
  /** A path prefix for error messages, e.g. "items[3]". */
  path?: string;
}

const TIMESTAMP = 'google.protobuf.Timestamp';
const INT_OR_STRING = 'k8ts.meta.v1.IntOrString';
const QUANTITY = 'k8ts.meta.v1.Quantity';
const FIELDS_V1 = 'k8ts.meta.v1.FieldsV1';

// RFC 3339 date-time, as Kubernetes' metav1.Time and MicroTime accept.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
// Kubernetes' quantity grammar: sign, digits with optional fraction, then a binary or decimal
// SI suffix or a decimal exponent.
const QUANTITY_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);

function shortName(typeName: string): string {
  return typeName.replace(/^\./, '');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'object') return 'object';
  return `${typeof v} ${String(v)}`;
}

const jsonNames = new WeakMap<protobuf.Field, string>();

/** The JSON (and TypeScript) name of a field: its json_name, else lowerCamelCase. */
export function jsonName(field: protobuf.Field): string {
  let name = jsonNames.get(field);
  if (name === undefined) {
    const explicit = field.options?.['json_name'];
    name = typeof explicit === 'string' ? explicit : field.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    jsonNames.set(field, name);
  }
  return name;
}

interface TypeInfo {
  type: protobuf.Type;
  /** JSON name -> field. */
  byJson: Map<string, protobuf.Field>;
  /** Every field with its JSON name, in declaration order (computed once per type). */
  fields: { field: protobuf.Field; name: string }[];
}

const typeCache = new Map<string, TypeInfo>();

function typeInfo(typeName: string): TypeInfo {
  let info = typeCache.get(typeName);
  if (info) return info;
  const key = shortName(typeName);
  info = typeCache.get(key);
  if (!info) {
    const type = protoRoot().lookupType(key);
    const byJson = new Map<string, protobuf.Field>();
    const fields = type.fieldsArray.map((f) => ({ field: f, name: jsonName(f) }));
    for (const f of fields) byJson.set(f.name, f.field);
    info = { type, byJson, fields };
    typeCache.set(key, info);
  }
  typeCache.set(typeName, info);
  return info;
}

function isOptional(field: protobuf.Field): boolean {
  return Boolean(field.options?.['proto3_optional']) || (field.partOf !== null && field.partOf !== undefined);
}

function scalarDefault(field: protobuf.Field): unknown {
  if (field.resolvedType instanceof protobuf.Enum) return 0;
  switch (field.type) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'bytes':
      return Buffer.alloc(0);
    default:
      return 0;
  }
}

class Decoder {
  problems: FieldProblem[] = [];
  constructor(private readonly opts: DecodeOptions) {}

  problem(field: string, reason: string): undefined {
    this.problems.push({ field, reason });
    return undefined;
  }

  message(typeName: string, json: unknown, path: string): Record<string, unknown> | undefined {
    const { type, byJson, fields } = typeInfo(typeName);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      return this.problem(path, `expected object, got ${describe(json)}`);
    }
    const out: Record<string, unknown> = {};
    // Defaults first, in the shape ts-proto's decoders produce.
    for (const { field: f, name } of fields) {
      if (f.map) out[name] = {};
      else if (f.repeated) out[name] = [];
      else if (f.resolvedType instanceof protobuf.Type) out[name] = undefined;
      else if (!isOptional(f)) out[name] = scalarDefault(f);
    }
    for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
      const sub = path ? `${path}.${key}` : key;
      let field = byJson.get(key);
      // proto3 JSON also accepts the original .proto name.
      if (!field) field = type.fields[key];
      if (!field) {
        if ((this.opts.unknownFields ?? 'error') === 'error') this.problem(sub, 'unknown field');
        continue;
      }
      if (value === null || value === undefined) continue; // null means unset, as in Kubernetes
      const name = jsonName(field);
      if (field.map) out[name] = this.map(field, value, sub);
      else if (field.repeated) out[name] = this.repeated(field, value, sub);
      else {
        const v = this.single(field, value, sub);
        if (v !== undefined) out[name] = v;
      }
    }
    return out;
  }

  map(field: protobuf.Field, value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || Array.isArray(value) || value === null) {
      this.problem(path, `expected object (a map), got ${describe(value)}`);
      return {};
    }
    const out: Record<string, unknown> = {};
    const keyType = (field as unknown as protobuf.MapField).keyType;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const sub = `${path}[${JSON.stringify(k)}]`;
      if (keyType !== 'string' && !/^-?\d+$/.test(k)) {
        this.problem(sub, `map key must be an integer`);
        continue;
      }
      if (v === null) continue;
      const dv = this.single(field, v, sub);
      if (dv !== undefined) out[k] = dv;
    }
    return out;
  }

  repeated(field: protobuf.Field, value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) {
      this.problem(path, `expected array, got ${describe(value)}`);
      return [];
    }
    const out: unknown[] = [];
    value.forEach((v, i) => {
      const sub = `${path}[${i}]`;
      if (v === null) {
        this.problem(sub, 'null is not allowed in a list');
        return;
      }
      const dv = this.single(field, v, sub);
      if (dv !== undefined) out.push(dv);
    });
    return out;
  }

  single(field: protobuf.Field, value: unknown, path: string): unknown {
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) return this.special(rt.fullName, value, path);
    if (rt instanceof protobuf.Enum) {
      if (typeof value === 'string' && value in rt.values) return rt.values[value];
      if (typeof value === 'number' && Object.values(rt.values).includes(value)) return value;
      return this.problem(path, `expected one of ${Object.keys(rt.values).join(', ')}, got ${describe(value)}`);
    }
    return this.scalar(field.type, value, path);
  }

  special(fullName: string, value: unknown, path: string): unknown {
    const name = shortName(fullName);
    if (name === TIMESTAMP) {
      if (typeof value !== 'string') return this.problem(path, `expected an RFC 3339 timestamp string, got ${describe(value)}`);
      if (!RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
        return this.problem(path, `invalid RFC 3339 timestamp ${JSON.stringify(value)}`);
      }
      return value;
    }
    if (name === INT_OR_STRING) {
      if (typeof value === 'number') {
        if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
          return this.problem(path, `expected a 32-bit integer or a string, got ${describe(value)}`);
        }
        return { intVal: value };
      }
      if (typeof value === 'string') return { strVal: value };
      return this.problem(path, `expected an integer or a string, got ${describe(value)}`);
    }
    if (name === QUANTITY) {
      let s: string;
      if (typeof value === 'number' && Number.isFinite(value)) s = String(value);
      else if (typeof value === 'string') s = value;
      else return this.problem(path, `expected a quantity such as "500m" or "128Mi", got ${describe(value)}`);
      if (!QUANTITY_RE.test(s)) {
        return this.problem(path, `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$', got ${JSON.stringify(s)}`);
      }
      return { value: s };
    }
    if (name === FIELDS_V1) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.problem(path, `expected a FieldsV1 object, got ${describe(value)}`);
      return { raw: JSON.stringify(value) };
    }
    if (name.startsWith('google.protobuf.')) return this.problem(path, `unsupported well-known type ${name}`);
    return this.message(name, value, path);
  }

  scalar(type: string, value: unknown, path: string): unknown {
    if (type === 'string') {
      if (typeof value !== 'string') return this.problem(path, `expected string, got ${describe(value)}`);
      return value;
    }
    if (type === 'bool') {
      if (typeof value !== 'boolean') return this.problem(path, `expected boolean, got ${describe(value)}`);
      return value;
    }
    if (type === 'bytes') {
      if (typeof value !== 'string' || !BASE64_RE.test(value)) {
        return this.problem(path, `expected base64-encoded data, got ${describe(value)}`);
      }
      return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
    }
    if (type === 'double' || type === 'float') {
      if (typeof value !== 'number') return this.problem(path, `expected number, got ${describe(value)}`);
      return value;
    }
    if (INT32.has(type) || UINT32.has(type)) {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return this.problem(path, `expected integer, got ${describe(value)}`);
      }
      const [lo, hi] = INT32.has(type) ? [-2147483648, 2147483647] : [0, 4294967295];
      if (value < lo || value > hi) return this.problem(path, `${value} is out of range for a ${type}`);
      return value;
    }
    if (INT64.has(type)) {
      let n: number;
      if (typeof value === 'number' && Number.isInteger(value)) n = value;
      else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = Number(value);
      else return this.problem(path, `expected integer, got ${describe(value)}`);
      if (!Number.isSafeInteger(n)) return this.problem(path, `${String(value)} is out of range (beyond 2^53)`);
      if (type.startsWith('u') || type.startsWith('fixed')) {
        if (n < 0) return this.problem(path, `${n} is out of range for an unsigned integer`);
      }
      return n;
    }
    return this.problem(path, `unsupported field type ${type}`);
  }
}

/**
 * Decodes the Kubernetes JSON form of a message (already parsed, e.g. from YAML) into the
 * generated TypeScript type. Throws DecodeError listing every bad field with its path.
 */
export function fromK8sJson<T = Record<string, unknown>>(typeName: string, json: unknown, opts: DecodeOptions = {}): T {
  const d = new Decoder(opts);
  const out = d.special(typeName, json, opts.path ?? '');
  if (d.problems.length > 0) throw new DecodeError(typeName, d.problems);
  return out as T;
}

function isDefaultScalar(v: unknown): boolean {
  return v === '' || v === 0 || v === false || (Buffer.isBuffer(v) && v.length === 0) || (v instanceof Uint8Array && v.length === 0);
}

function encodeSingle(field: protobuf.Field, v: unknown): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return encodeSpecial(rt.fullName, v);
  if (rt instanceof protobuf.Enum) return typeof v === 'number' ? (rt.valuesById[v] ?? v) : v;
  if (field.type === 'bytes') return Buffer.from(v as Uint8Array).toString('base64');
  if (INT64.has(field.type)) return typeof v === 'string' ? Number(v) : v;
  return v;
}

function encodeSpecial(fullName: string, v: unknown): unknown {
  const name = shortName(fullName);
  if (name === TIMESTAMP) {
    // Kubernetes writes whole seconds without a fraction ("2026-01-02T15:04:05Z").
    const text = v instanceof Date ? v.toISOString() : String(v);
    return text.replace(/\.0+(?=[Zz]|[+-]\d{2}:\d{2}$)/, '');
  }
  if (name === INT_OR_STRING) {
    const ios = v as { intVal?: number; strVal?: string };
    if (ios.strVal !== undefined && ios.strVal !== null) return ios.strVal;
    return ios.intVal ?? 0;
  }
  if (name === QUANTITY) return (v as { value?: string }).value ?? '0';
  if (name === FIELDS_V1) return JSON.parse((v as { raw?: string }).raw || '{}') as unknown;
  return encodeMessage(name, v as Record<string, unknown>);
}

function encodeMessage(typeName: string, obj: Record<string, unknown>): Record<string, unknown> {
  const { fields } = typeInfo(typeName);
  const out: Record<string, unknown> = {};
  for (const { field: f, name } of fields) {
    const v = obj[name];
    if (v === undefined || v === null) continue;
    if (f.map) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 0) continue;
      const m: Record<string, unknown> = {};
      for (const [k, mv] of entries) m[k] = encodeSingle(f, mv);
      out[name] = m;
    } else if (f.repeated) {
      const arr = v as unknown[];
      if (arr.length === 0) continue;
      out[name] = arr.map((x) => encodeSingle(f, x));
    } else if (f.resolvedType instanceof protobuf.Type) {
      out[name] = encodeSingle(f, v);
    } else {
      if (!isOptional(f) && isDefaultScalar(v)) continue;
      out[name] = encodeSingle(f, v);
    }
  }
  return out;
}

/**
 * Encodes a generated TypeScript object as its Kubernetes JSON form: default scalars, empty
 * lists and empty maps are omitted (Kubernetes' omitempty), optional fields are written when
 * set, even to zero.
 */
export function toK8sJson(typeName: string, obj: unknown): Record<string, unknown> {
  return encodeSpecial(typeName, obj) as Record<string, unknown>;
}
