// Comparing and hashing API objects. Objects read from the apiserver are decoded by ts-proto,
// which fills unset fields with '' / [] / {}; objects built in code usually leave them out.
// canonical() drops those empty values and sorts keys, so two objects that mean the same
// thing compare equal and hash the same, whichever way they were built.

/** The object without empty values ('' , null, undefined, [], {}), with sorted keys; undefined when nothing is left. */
export function canonical(value: unknown): unknown {
  if (value === null || value === undefined || value === '') return undefined;
  if (Buffer.isBuffer(value)) return value.length > 0 ? value.toString('base64') : undefined;
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return bytes.length > 0 ? bytes.toString('base64') : undefined;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    // Positions matter in a list: an empty element stays as null.
    return value.map((v) => canonical(v) ?? null);
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = canonical((value as Record<string, unknown>)[key]);
      if (v !== undefined) out[key] = v;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value;
}

/** A stable JSON text of the canonical form. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(canonical(value)) ?? '';
}

/** True when two values have the same canonical form. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

/** FNV-1a, 32 bits, over the UTF-8 bytes of a text. */
export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

// Kubernetes' rand.SafeEncodeString alphabet: no vowels (no words) and no 0, 1, 3 (look-alikes).
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Encodes a text into characters that cannot form bad words, as Kubernetes does for hashes. */
export function safeEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += SAFE_ALPHABET[byte % SAFE_ALPHABET.length];
  return out;
}

const RANDOM_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A random suffix of safe characters (generated names: `<account>-token-<suffix>`). */
export function randomSuffix(length = 5, random: () => number = Math.random): string {
  let out = '';
  for (let i = 0; i < length; i++) out += RANDOM_ALPHABET[Math.floor(random() * RANDOM_ALPHABET.length)];
  return out;
}
