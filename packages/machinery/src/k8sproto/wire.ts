// Reading protobuf wire data the way Kubernetes writes it (gogo-protobuf, proto2 syntax): each
// field is a key (number << 3 | wire type) followed by a varint, a fixed 64-bit or 32-bit
// value, or a length-delimited run of bytes. Groups (wire types 3 and 4) are never written by
// Kubernetes and are refused, so that skipping an unknown field never recurses.
import * as protobuf from 'protobufjs';
import { K8sProtoError } from './errors';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

const WIRE_NAMES: Readonly<Record<number, string>> = {
  0: 'a varint',
  1: 'a fixed 64-bit value',
  2: 'length-delimited bytes',
  3: 'a group start',
  4: 'a group end',
  5: 'a fixed 32-bit value',
};

/** "a varint (wire type 0)". */
export function wireName(wireType: number): string {
  return `${WIRE_NAMES[wireType] ?? 'an invalid value'} (wire type ${wireType})`;
}

/** One field key read from the wire. */
export interface FieldKey {
  tag: number;
  wireType: number;
}

/** Reads the next field key; field number 0 and groups are errors. */
export function readKey(reader: protobuf.Reader, path: string): FieldKey {
  const key = reader.uint32();
  const tag = key >>> 3;
  const wireType = key & 7;
  if (tag === 0) throw new K8sProtoError(path, 'field number 0 is not valid protobuf');
  if (wireType === 3 || wireType === 4 || wireType > 5) throw new K8sProtoError(path, `field ${tag}: ${wireName(wireType)} is not used by Kubernetes' encoding`);
  return { tag, wireType };
}

/** The end offset of a length-delimited value whose length comes next; checked against the data. */
export function readLengthEnd(reader: protobuf.Reader, path: string): number {
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > reader.len) throw new K8sProtoError(path, `a length of ${length} bytes runs past the end of the data`);
  return end;
}

/** Fails when the fields of a length-delimited message ran past its end. */
export function expectEnd(reader: protobuf.Reader, end: number, path: string): void {
  if (reader.pos !== end) throw new K8sProtoError(path, 'a field runs past the end of its enclosing message');
}

/** A varint as a JavaScript number; values beyond 2^53 cannot be represented and are refused. */
export function readVarintNumber(reader: protobuf.Reader, path: string): number {
  const text = reader.int64().toString();
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new K8sProtoError(path, `${text} is out of range (beyond 2^53)`);
  return value;
}

/**
 * Skips one value of an unknown field and says whether it held anything: Kubernetes writes
 * every non-pointer field even when it is zero (an empty selfLink, generation 0), and such a
 * zero means "not set", so only a value that is not zero is worth reporting.
 */
export function skipValue(reader: protobuf.Reader, wireType: number, path: string): boolean {
  switch (wireType) {
    case WIRE_VARINT:
      return readVarintNumber(reader, path) !== 0;
    case WIRE_FIXED64:
      return reader.fixed64().toString() !== '0';
    case WIRE_FIXED32:
      return reader.fixed32() !== 0;
    default: {
      const end = readLengthEnd(reader, path);
      const held = end > reader.pos;
      reader.pos = end;
      return held;
    }
  }
}

/** Fails unless the value has the wire type the field's kind needs. */
export function expectWireType(actual: number, expected: number, path: string): void {
  if (actual !== expected) throw new K8sProtoError(path, `expected ${wireName(expected)}, got ${wireName(actual)}`);
}
