// Hand-assembled protobuf responses. Watch fan-out and large Lists send the same object
// bytes many times: each cached object is encoded once, and responses are assembled from
// those bytes. Every typed service's responses share the shape this relies on:
//   Watch<Plural>Response { WatchEventType type = 1; <Kind> object = 2; Status status = 3; }
//   List<Plural>Response  { ListMeta metadata = 1; repeated <Kind> items = 2; }
import { metav1 } from '@k8ts/api';

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** Tag and length prefix of a length-delimited field. */
function ldPrefix(field: number, len: number): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(len)]);
}

/** A Watch<Plural>Response carrying an event of `type` (metav1.WatchEventType) and an encoded object. */
export function encodeWatchEvent(type: number, object: Uint8Array): Buffer {
  return Buffer.concat([varint((1 << 3) | 0), varint(type), ldPrefix(2, object.length), object]);
}

/** A Watch<Plural>Response of type ERROR carrying a Status. */
export function encodeWatchError(status: metav1.Status): Buffer {
  const s = metav1.Status.encode(status).finish();
  return Buffer.concat([varint((1 << 3) | 0), varint(metav1.WatchEventType.WATCH_EVENT_TYPE_ERROR), ldPrefix(3, s.length), s]);
}

/** A List<Plural>Response from its ListMeta and encoded items. */
export function encodeList(meta: metav1.ListMeta, items: Uint8Array[]): Buffer {
  const m = metav1.ListMeta.encode(meta).finish();
  const parts: Uint8Array[] = [ldPrefix(1, m.length), m];
  for (const it of items) parts.push(ldPrefix(2, it.length), it);
  return Buffer.concat(parts);
}
