// The subjects of the store's log (proto/k8ts/store/v1/log.proto, "Subjects"): where each
// message of the stream is published. A single-key entry goes on a subject that spells its
// key, one token per "/"-separated segment, so that a NATS consumer can follow one resource
// type or one namespace; multi-key entries go on P.txn and the first message on P.genesis.
// The mapping from key to subject is reversible except for the hashed form of very long keys.
import { createHash } from 'crypto';

/** Encoded subjects longer than this fall back to the hashed form `<prefix>.kvh.<sha256>`. */
export const MAX_SUBJECT_BYTES = 1024;

/** What a subject of the stream carries. */
export type SubjectKind = 'genesis' | 'txn' | 'key' | 'other';

const SLASH = 0x2f;
const PERCENT = 0x25;

/** Whether a byte stands for itself inside a token (printable ASCII except '.', '*', '>', '%'). */
function isLiteral(b: number): boolean {
  return b > 0x20 && b < 0x7f && b !== 0x2e /* . */ && b !== 0x2a /* * */ && b !== 0x3e /* > */ && b !== PERCENT;
}

// For each byte value: the text it becomes inside a token.
const TOKEN_TEXT: string[] = Array.from({ length: 256 }, (_, b) =>
  isLiteral(b) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
);

/** Encodes one key segment (the bytes between two '/') as one subject token; empty is "%". */
export function encodeSegment(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (start === end) return '%';
  let out = '';
  for (let i = start; i < end; i++) out += TOKEN_TEXT[bytes[i]];
  return out;
}

/** Decodes one subject token back to the segment's bytes; undefined when malformed. */
export function decodeSegment(token: string): number[] | undefined {
  if (token === '%') return [];
  if (token === '') return undefined;
  const out: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === PERCENT) {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (isLiteral(c)) {
      out.push(c);
    } else {
      return undefined;
    }
  }
  return out;
}

/** The subject of the single-key entries of `key` (raw bytes). */
export function keySubject(prefix: string, key: Uint8Array): string {
  const rooted = key.length > 0 && key[0] === SLASH;
  let subject = `${prefix}.${rooted ? 'kv' : 'kvb'}`;
  let segStart = rooted ? 1 : 0;
  for (let i = segStart; i <= key.length; i++) {
    if (i === key.length || key[i] === SLASH) {
      subject += `.${encodeSegment(key, segStart, i)}`;
      segStart = i + 1;
      if (subject.length > MAX_SUBJECT_BYTES) return hashedSubject(prefix, key);
    }
  }
  return subject;
}

/** The fallback subject of a key whose encoded form is too long: `<prefix>.kvh.<sha256 hex>`. */
export function hashedSubject(prefix: string, key: Uint8Array): string {
  return `${prefix}.kvh.${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * The key spelled by a single-key subject; undefined for hashed subjects (whose key is only
 * in the payload) and for subjects that are not single-key subjects of this prefix.
 */
export function subjectKey(prefix: string, subject: string): Buffer | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  const tokens = subject.slice(prefix.length + 1).split('.');
  const kind = tokens.shift();
  if ((kind !== 'kv' && kind !== 'kvb') || tokens.length === 0) return undefined;
  const bytes: number[] = kind === 'kv' ? [SLASH] : [];
  for (let i = 0; i < tokens.length; i++) {
    const seg = decodeSegment(tokens[i]);
    if (!seg) return undefined;
    if (i > 0) bytes.push(SLASH);
    for (const b of seg) bytes.push(b);
  }
  return Buffer.from(bytes);
}

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
