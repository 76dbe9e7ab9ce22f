// How much of a request an error may carry back. Two rules:
//
// 1. Messages quote a short prefix of a user's value, never the whole of it (quoteValue,
//    shortText): a 1 MiB name is shown as its first 128 characters and its length, a
//    structured value (a pod template) as its first 1024 characters of JSON. Kubernetes
//    goes further for values it finds too long (field.TooLong reports "<value omitted>" and no
//    value at all); k8ts keeps a prefix so the message still says which value it was.
// 2. Every Status sent has a hard size bound (boundStatus): its message, the names in its
//    details and each cause are cut, and causes that no longer fit are dropped. Over gRPC the
//    Status travels as trailer metadata (k8ts-status-bin, base64) next to the message
//    (grpc-message, percent-encoded), and clients refuse trailers over their metadata limit
//    (8 KiB for gRPC's C core: Python, C++, Ruby): GRPC_STATUS_LIMITS keep both under 6.5 KiB.
//    An HTTP Status is a body, so HTTP_STATUS_LIMITS are looser, but bounded all the same.
import { metav1 } from '@k8ts/api';
import { MAX_ERROR_MESSAGE_BYTES, truncateUtf8 } from '@k8ts/kit';

/** The most characters of a user's string that an error message quotes. */
export const MAX_QUOTED_CHARS = 128;
/**
 * The most characters of a structured value (a label map, a pod template) an error message
 * shows: most are shown whole, as Kubernetes shows them; a large one is cut.
 */
export const MAX_RENDERED_CHARS = 1024;

/** The bounds of one Status. */
export interface StatusLimits {
  /** The message, in UTF-8 bytes. */
  messageBytes: number;
  /** The whole Status, protobuf-encoded; causes that would pass it are dropped. */
  statusBytes: number;
}

/** gRPC: the message ≤ 3 KiB percent-encoded, the Status ≤ 3.4 KiB in base64. */
export const GRPC_STATUS_LIMITS: StatusLimits = { messageBytes: MAX_ERROR_MESSAGE_BYTES, statusBytes: 2560 };

/** HTTP: a body, so room for every cause of any real object, yet bounded. */
export const HTTP_STATUS_LIMITS: StatusLimits = { messageBytes: 16 * 1024, statusBytes: 64 * 1024 };

/** The longest name, group, kind or uid in a Status's details (a valid name, ≤ 253 characters, always fits). */
export const MAX_DETAIL_BYTES = 256;
/** The longest field path of a cause. */
export const MAX_CAUSE_FIELD_BYTES = 256;
/** The longest message of a cause. */
export const MAX_CAUSE_MESSAGE_BYTES = 512;
/** The longest reason of a cause. */
const MAX_CAUSE_REASON_BYTES = 64;

/** The first `n` UTF-16 units of `s`, one fewer when the last would split a surrogate pair. */
function prefixOf(s: string, n: number): string {
  const last = s.charCodeAt(n - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? n - 1 : n);
}

/**
 * A user's string as an error message quotes it: whole when at most MAX_QUOTED_CHARS
 * characters, else its first MAX_QUOTED_CHARS, then how long it was:
 * `"aaaa…a"... (1048576 characters)`. `quote` renders the kept part (default JSON, as field
 * errors show strings; names in "pods "x" not found" are quoted as they are).
 */
export function quoteValue(value: string, quote: (s: string) => string = JSON.stringify): string {
  if (value.length <= MAX_QUOTED_CHARS) return quote(value);
  return `${quote(prefixOf(value, MAX_QUOTED_CHARS))}... (${value.length} characters)`;
}

/** A name quoted as Kubernetes' messages show it ("pods "web-1" not found"), bounded by quoteValue. */
export function quoteName(name: string): string {
  return quoteValue(name, (s) => `"${s}"`);
}

/** A rendered value (the JSON of a list, an object) cut to MAX_RENDERED_CHARS, as quoteValue cuts strings. */
export function shortText(text: string): string {
  if (text.length <= MAX_RENDERED_CHARS) return text;
  return `${prefixOf(text, MAX_RENDERED_CHARS)}... (${text.length} characters)`;
}

const cut = (text: string | undefined, maxBytes: number): string | undefined => (text === undefined ? undefined : truncateUtf8(text, maxBytes));

function boundCause(c: metav1.StatusCause): metav1.StatusCause {
  return {
    reason: cut(c.reason, MAX_CAUSE_REASON_BYTES),
    message: cut(c.message, MAX_CAUSE_MESSAGE_BYTES),
    field: cut(c.field, MAX_CAUSE_FIELD_BYTES),
  };
}

/**
 * A cause's share of an encoded Status: its bytes, its tag and length prefix (≤ 3 bytes below
 * 16 KiB), and one byte for the details' own length prefix growing.
 */
function causeCost(c: metav1.StatusCause): number {
  return metav1.StatusCause.encode(c).finish().length + 4;
}

/**
 * `status` within `limits`: the message cut to limits.messageBytes, the details' names to
 * MAX_DETAIL_BYTES, each cause's field and message cut, and the causes kept in order while
 * the encoded Status stays within limits.statusBytes (the rest dropped: the message, which
 * lists every cause, still names them as far as it goes).
 */
export function boundStatus(status: metav1.Status, limits: StatusLimits = GRPC_STATUS_LIMITS): metav1.Status {
  const out: metav1.Status = { ...status, message: cut(status.message, limits.messageBytes) };
  const details = status.details;
  if (!details) return out;
  const causes: metav1.StatusCause[] = [];
  out.details = {
    ...details,
    name: cut(details.name, MAX_DETAIL_BYTES),
    group: cut(details.group, MAX_DETAIL_BYTES),
    kind: cut(details.kind, MAX_DETAIL_BYTES),
    uid: cut(details.uid, MAX_DETAIL_BYTES),
    causes,
  };
  let size = metav1.Status.encode(out).finish().length;
  for (const c of details.causes ?? []) {
    const cause = boundCause(c);
    const cost = causeCost(cause);
    if (size + cost > limits.statusBytes) break;
    causes.push(cause);
    size += cost;
  }
  return out;
}
