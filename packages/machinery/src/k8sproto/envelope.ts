// The envelope of a Kubernetes protobuf body (Content-Type application/vnd.kubernetes.protobuf,
// what client-go and kubectl's typed commands send): the four bytes "k8s\0", then a
// runtime.Unknown message {typeMeta (1) {apiVersion (1), kind (2)}, raw (2), contentEncoding
// (3), contentType (4)} whose raw holds the object in Kubernetes' protobuf encoding. Kubernetes
// writes no contentEncoding and either no contentType or the protobuf one; anything else is
// refused here rather than misread.
import * as protobuf from 'protobufjs';
import { K8sProtoError } from './errors';
import { WIRE_BYTES, expectEnd, expectWireType, readKey, readLengthEnd, skipValue } from './wire';

/** The media type of Kubernetes' protobuf encoding. */
export const K8S_PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** The magic number every Kubernetes protobuf body starts with: "k8s" and a zero byte. */
export const K8S_PROTOBUF_MAGIC: Readonly<Buffer> = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** What the envelope says and holds. */
export interface K8sEnvelope {
  /** The object's apiVersion ("v1", "apps/v1"); empty when the sender left it out. */
  apiVersion: string;
  /** The object's kind ("ConfigMap"); empty when the sender left it out. */
  kind: string;
  /** The object in Kubernetes' protobuf encoding (k8sProtoToJson reads it). */
  raw: Buffer;
}

const ENVELOPE = 'protobuf envelope';

function hasMagic(body: Buffer): boolean {
  return body.length >= K8S_PROTOBUF_MAGIC.length && body.subarray(0, K8S_PROTOBUF_MAGIC.length).equals(K8S_PROTOBUF_MAGIC);
}

/** Reads a length-delimited string or bytes field of the envelope. */
function readBytesField(reader: protobuf.Reader, wireType: number, field: string): Buffer {
  expectWireType(wireType, WIRE_BYTES, field);
  const end = readLengthEnd(reader, field);
  const out = Buffer.from(reader.buf.subarray(reader.pos, end));
  reader.pos = end;
  return out;
}

/** typeMeta: {apiVersion (1), kind (2)}. */
function readTypeMeta(reader: protobuf.Reader, end: number, into: K8sEnvelope): void {
  while (reader.pos < end) {
    const { tag, wireType } = readKey(reader, `${ENVELOPE} typeMeta`);
    if (tag === 1) into.apiVersion = readBytesField(reader, wireType, `${ENVELOPE} typeMeta.apiVersion`).toString('utf8');
    else if (tag === 2) into.kind = readBytesField(reader, wireType, `${ENVELOPE} typeMeta.kind`).toString('utf8');
    else skipValue(reader, wireType, `${ENVELOPE} typeMeta`);
  }
  expectEnd(reader, end, `${ENVELOPE} typeMeta`);
}

function checkContentEncoding(encoding: string): void {
  if (encoding !== '') throw new K8sProtoError(`${ENVELOPE} contentEncoding`, `content encoding ${JSON.stringify(encoding)} is not supported (only none)`);
}

function checkContentType(type: string): void {
  if (type !== '' && type !== K8S_PROTOBUF_MEDIA_TYPE) {
    throw new K8sProtoError(`${ENVELOPE} contentType`, `content type ${JSON.stringify(type)} is not supported (only ${K8S_PROTOBUF_MEDIA_TYPE})`);
  }
}

/**
 * Opens a Kubernetes protobuf body: checks the magic number, reads the runtime.Unknown
 * envelope, and returns the type it names and the raw object. Throws K8sProtoError for a body
 * without the magic number, an empty or malformed envelope, or a content encoding or content
 * type other than Kubernetes' own.
 */
export function decodeK8sEnvelope(body: Buffer): K8sEnvelope {
  if (!hasMagic(body)) throw new K8sProtoError('', `the body is not Kubernetes protobuf: it must start with the bytes ${[...K8S_PROTOBUF_MAGIC].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ')} ("k8s\\0")`);
  if (body.length === K8S_PROTOBUF_MAGIC.length) throw new K8sProtoError('', 'the protobuf body is empty after its magic number');
  const reader = protobuf.Reader.create(body.subarray(K8S_PROTOBUF_MAGIC.length));
  const out: K8sEnvelope = { apiVersion: '', kind: '', raw: Buffer.alloc(0) };
  try {
    while (reader.pos < reader.len) {
      const { tag, wireType } = readKey(reader, ENVELOPE);
      if (tag === 1) {
        expectWireType(wireType, WIRE_BYTES, `${ENVELOPE} typeMeta`);
        readTypeMeta(reader, readLengthEnd(reader, `${ENVELOPE} typeMeta`), out);
      } else if (tag === 2) out.raw = readBytesField(reader, wireType, `${ENVELOPE} raw`);
      else if (tag === 3) checkContentEncoding(readBytesField(reader, wireType, `${ENVELOPE} contentEncoding`).toString('utf8'));
      else if (tag === 4) checkContentType(readBytesField(reader, wireType, `${ENVELOPE} contentType`).toString('utf8'));
      else skipValue(reader, wireType, ENVELOPE);
    }
  } catch (err) {
    if (err instanceof K8sProtoError) throw err;
    throw new K8sProtoError(ENVELOPE, `malformed protobuf: ${(err as Error).message}`);
  }
  return out;
}
