// Keys <-> NATS subjects. Every single-key entry of the log is published on a subject that
// encodes its key, so that a NATS consumer can follow one resource type or one namespace
// (`k8ts.kv.kubernetes%2Eio.pods.default.>`). The layout is documented in
// proto/k8ts/store/v1/log.proto; this file is its implementation.
import { createHash } from 'crypto';

/** Encoded subjects longer than this fall back to the hashed form `<prefix>.kvh.<sha256>`. */
export const MAX_SUBJECT_BYTES = 1024;

// For each byte: the text it becomes inside a subject token.
const ENC: string[] = [];
for (let b = 0; b < 256; b++) {
  const literal = b > 0x20 && b < 0x7f && b !== 0x2e /* . */ && b !== 0x2a /* * */ && b !== 0x3e /* > */ && b !== 0x25; /* % */
  ENC.push(literal ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'));
}

/** Encodes one key segment (the bytes between two '/') as one subject token. */
export function encodeSegment(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (start === end) return '%';
  let out = '';
  for (let i = start; i < end; i++) out += ENC[bytes[i]];
  return out;
}

/** Decodes one subject token back to the segment's bytes; undefined when malformed. */
export function decodeSegment(token: string): number[] | undefined {
  if (token === '%') return [];
  if (token === '') return undefined;
  const out: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x25) {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x2a && c !== 0x3e) {
      out.push(c);
    } else {
      return undefined;
    }
  }
  return out;
}

/** The subject of the single-key entries of `key` (raw bytes). */
export function keySubject(prefix: string, key: Uint8Array): string {
  let kind = 'kv';
  let pos = 0;
  if (key.length > 0 && key[0] === 0x2f) pos = 1;
  else kind = 'kvb';
  let subject = `${prefix}.${kind}`;
  let segStart = pos;
  for (let i = pos; i <= key.length; i++) {
    if (i === key.length || key[i] === 0x2f) {
      subject += '.' + encodeSegment(key, segStart, i);
      segStart = i + 1;
      if (subject.length > MAX_SUBJECT_BYTES) return hashedSubject(prefix, key);
    }
  }
  return subject;
}

/** The fallback subject of a key whose encoded form is too long. */
export function hashedSubject(prefix: string, key: Uint8Array): string {
  return `${prefix}.kvh.${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * The key encoded in a single-key subject; undefined for hashed subjects (whose key is only
 * in the payload) and for subjects that are not single-key subjects of this prefix.
 */
export function subjectKey(prefix: string, subject: string): Buffer | undefined {
  if (!subject.startsWith(prefix + '.')) return undefined;
  const tokens = subject.slice(prefix.length + 1).split('.');
  const kind = tokens.shift();
  if ((kind !== 'kv' && kind !== 'kvb') || tokens.length === 0) return undefined;
  const bytes: number[] = kind === 'kv' ? [0x2f] : [];
  for (let i = 0; i < tokens.length; i++) {
    const seg = decodeSegment(tokens[i]);
    if (!seg) return undefined;
    if (i > 0) bytes.push(0x2f);
    for (const b of seg) bytes.push(b);
  }
  return Buffer.from(bytes);
}

/** What a subject of the stream is. */
export type SubjectKind = 'genesis' | 'txn' | 'key' | 'other';

/** Classifies a subject of the stream. */
export function subjectKind(prefix: string, subject: string): SubjectKind {
  if (subject.length <= prefix.length + 1 || !subject.startsWith(prefix) || subject.charCodeAt(prefix.length) !== 0x2e) {
    return 'other';
  }
  const rest = subject.slice(prefix.length + 1);
  if (rest === 'txn') return 'txn';
  if (rest === 'genesis') return 'genesis';
  if (rest.startsWith('kv.') || rest.startsWith('kvb.') || rest.startsWith('kvh.')) return 'key';
  return 'other';
}

/** The subject of multi-key entries. */
export function txnSubject(prefix: string): string {
  return `${prefix}.txn`;
}

/** The subject of the first message of the stream. */
export function genesisSubject(prefix: string): string {
  return `${prefix}.genesis`;
}

/** The end of the prefix range of `key`: the key with its last byte incremented (etcd's GetPrefixRangeEnd). */
export function prefixEnd(key: Uint8Array): Buffer {
  const end = Buffer.from(key);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
