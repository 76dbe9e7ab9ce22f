// The Kubernetes types whose protobuf form is not the shape of their JSON form, each read from
// its nested message into its JSON value:
//   metav1.Time, MicroTime   {seconds int64 (1), nanos int32 (2)}     -> RFC 3339 string
//                            (empty: the zero time, JSON null -> left out)
//   intstr.IntOrString       {type int64 (1), intVal int32 (2), strVal string (3)}
//                            -> the number, or the string when type is 1
//   resource.Quantity        {string (1)}                              -> the string
//   FieldsV1, RawExtension   {raw bytes (1)} holding JSON text         -> that JSON value
//   ExtraValue               {items repeated string (1)}               -> the bare list
import type * as protobuf from 'protobufjs';
import { K8sProtoError } from './errors';
import { type FieldKey, WIRE_BYTES, WIRE_VARINT, expectEnd, expectWireType, readKey, readLengthEnd, readVarintNumber, skipValue } from './wire';

/** Reads the nested message that comes next, handing each field to `onField`. */
export function readNested(reader: protobuf.Reader, path: string, onField: (key: FieldKey) => void): void {
  const end = readLengthEnd(reader, path);
  while (reader.pos < end) onField(readKey(reader, path));
  expectEnd(reader, end, path);
}

function readString(reader: protobuf.Reader, key: FieldKey, path: string): string {
  expectWireType(key.wireType, WIRE_BYTES, path);
  return reader.string();
}

function readInteger(reader: protobuf.Reader, key: FieldKey, path: string): number {
  expectWireType(key.wireType, WIRE_VARINT, path);
  return readVarintNumber(reader, path);
}

// Go's time.Time runs from year 1 to 9999 in RFC 3339.
const MIN_SECONDS = -62135596800; // 0001-01-01T00:00:00Z
const MAX_SECONDS = 253402300799; // 9999-12-31T23:59:59Z

/** An RFC 3339 string in UTC: whole seconds, or microseconds as MicroTime keeps them. */
export function formatTime(seconds: number, nanos: number, path: string): string {
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) throw new K8sProtoError(path, `time ${seconds}s is outside years 1 to 9999`);
  if (nanos < 0 || nanos > 999_999_999) throw new K8sProtoError(path, `nanos ${nanos} is outside 0 to 999999999`);
  const wholeSeconds = new Date(seconds * 1000).toISOString().slice(0, 19); // "YYYY-MM-DDTHH:MM:SS"
  const micros = Math.floor(nanos / 1000);
  return `${wholeSeconds}${micros > 0 ? `.${String(micros).padStart(6, '0')}` : ''}Z`;
}

/** metav1.Time / MicroTime; undefined for the zero time (Kubernetes writes it as an empty message). */
export function readTime(reader: protobuf.Reader, path: string): string | undefined {
  let seconds = 0;
  let nanos = 0;
  let present = false;
  readNested(reader, path, (key) => {
    present = true;
    if (key.tag === 1) seconds = readInteger(reader, key, `${path} (seconds)`);
    else if (key.tag === 2) nanos = readInteger(reader, key, `${path} (nanos)`);
    else skipValue(reader, key.wireType, path);
  });
  return present ? formatTime(seconds, nanos, path) : undefined;
}

const INT_OR_STRING_INT = 0;
const INT_OR_STRING_STRING = 1;

/** intstr.IntOrString: the number, or the string when its type says so. */
export function readIntOrString(reader: protobuf.Reader, path: string): number | string {
  let type = INT_OR_STRING_INT;
  let intVal = 0;
  let strVal = '';
  readNested(reader, path, (key) => {
    if (key.tag === 1) type = readInteger(reader, key, `${path} (type)`);
    else if (key.tag === 2) intVal = readInteger(reader, key, `${path} (intVal)`);
    else if (key.tag === 3) strVal = readString(reader, key, `${path} (strVal)`);
    else skipValue(reader, key.wireType, path);
  });
  if (type === INT_OR_STRING_STRING) return strVal;
  if (type === INT_OR_STRING_INT) return intVal;
  throw new K8sProtoError(path, `IntOrString type ${type} is neither 0 (integer) nor 1 (string)`);
}

/** resource.Quantity: its canonical string ("0" when the message is empty). */
export function readQuantity(reader: protobuf.Reader, path: string): string {
  let value = '';
  readNested(reader, path, (key) => {
    if (key.tag === 1) value = readString(reader, key, path);
    else skipValue(reader, key.wireType, path);
  });
  return value === '' ? '0' : value;
}

/** FieldsV1 / RawExtension: the JSON value its raw bytes hold; undefined when they are empty. */
export function readRawJson(reader: protobuf.Reader, path: string): unknown {
  let text = '';
  readNested(reader, path, (key) => {
    if (key.tag === 1) text = readString(reader, key, path);
    else skipValue(reader, key.wireType, path);
  });
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new K8sProtoError(path, `raw JSON does not parse: ${(err as Error).message}`);
  }
}

/** A named list of strings (ExtraValue): the bare list. */
export function readStringList(reader: protobuf.Reader, path: string): string[] {
  const items: string[] = [];
  readNested(reader, path, (key) => {
    if (key.tag === 1) items.push(readString(reader, key, `${path}[${items.length}]`));
    else skipValue(reader, key.wireType, path);
  });
  return items;
}
