// Building Kubernetes protobuf bodies by hand for the k8sproto tests, with Kubernetes' field
// numbers (k8s.io/api generated.proto), the way gogo-protobuf writes them: each piece writes
// one field; sub() nests a message; entry() is one map entry {key (1), value (2)}.
import * as protobuf from 'protobufjs';
import { K8S_PROTOBUF_MAGIC } from '@k8ts/machinery';

export type Piece = (w: protobuf.Writer) => void;

const key = (tag: number, wireType: number) => (tag << 3) | wireType;

export const str =
  (tag: number, value: string): Piece =>
  (w) =>
    w.uint32(key(tag, 2)).string(value);
export const int =
  (tag: number, value: number): Piece =>
  (w) =>
    w.uint32(key(tag, 0)).int64(value);
export const bool =
  (tag: number, value: boolean): Piece =>
  (w) =>
    w.uint32(key(tag, 0)).bool(value);
export const bytes =
  (tag: number, value: Uint8Array): Piece =>
  (w) =>
    w.uint32(key(tag, 2)).bytes(value);
export const double =
  (tag: number, value: number): Piece =>
  (w) =>
    w.uint32(key(tag, 1)).double(value);
/** A packed run of varints. */
export const packed =
  (tag: number, values: number[]): Piece =>
  (w) => {
    w.uint32(key(tag, 2)).fork();
    for (const v of values) w.int64(v);
    w.ldelim();
  };
/** A nested message. */
export const sub =
  (tag: number, ...pieces: Piece[]): Piece =>
  (w) =>
    w.uint32(key(tag, 2)).bytes(encode(...pieces));
/** One map entry. */
export const entry = (tag: number, k: string, value: Piece): Piece => sub(tag, str(1, k), value);
/** metav1.Time {seconds (1), nanos (2)}. */
export const time = (tag: number, seconds: number, nanos = 0): Piece => sub(tag, int(1, seconds), ...(nanos ? [int(2, nanos)] : []));
/** intstr.IntOrString holding an integer, as Kubernetes writes it (all three fields). */
export const intOrInt = (tag: number, value: number): Piece => sub(tag, int(1, 0), int(2, value), str(3, ''));
/** intstr.IntOrString holding a string. */
export const intOrStr = (tag: number, value: string): Piece => sub(tag, int(1, 1), int(2, 0), str(3, value));
/** resource.Quantity {string (1)}. */
export const quantity = (tag: number, value: string): Piece => sub(tag, str(1, value));

export function encode(...pieces: Piece[]): Buffer {
  const w = protobuf.Writer.create();
  for (const p of pieces) p(w);
  return Buffer.from(w.finish());
}

/** The body a client sends: magic number, then runtime.Unknown {typeMeta (1), raw (2), contentEncoding (3), contentType (4)}. */
export function body(apiVersion: string, kind: string, raw: Buffer, extra: Piece[] = [str(3, ''), str(4, '')]): Buffer {
  return Buffer.concat([K8S_PROTOBUF_MAGIC, encode(sub(1, str(1, apiVersion), str(2, kind)), bytes(2, raw), ...extra)]);
}

/**
 * ObjectMeta as kubectl writes it for a new object: every non-pointer field, zero or not
 * (generateName, namespace, selfLink, uid, resourceVersion, generation, an empty
 * creationTimestamp), then labels.
 */
export function newObjectMeta(tag: number, name: string, labels: Record<string, string> = {}): Piece {
  return sub(
    tag,
    str(1, name),
    str(2, ''),
    str(3, ''),
    str(4, ''), // selfLink: Kubernetes has it, k8ts does not
    str(5, ''),
    str(6, ''),
    int(7, 0),
    sub(8),
    ...Object.entries(labels).map(([k, v]) => entry(11, k, str(2, v))),
  );
}
