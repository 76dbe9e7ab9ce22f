// Small helpers: copying and comparing API objects, names, times.
import { randomInt, randomUUID } from 'crypto';

/** A deep copy of a plain API object (never mutate what a cache holds: copy it first). */
export function clone<T>(v: T): T {
  return structuredClone(v);
}

function isEmptyish(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    v === '' ||
    v === 0 ||
    v === false ||
    (Array.isArray(v) && v.length === 0) ||
    (v instanceof Uint8Array && v.length === 0)
  );
}

/**
 * Structural equality of two API objects in the sense of their serialized form: key order
 * does not matter, and a missing field equals its zero value ('' , 0, false, [], {} for maps).
 * Nested messages that are set but empty still differ from unset ones only when both sides
 * disagree on presence and the set one is non-empty.
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isEmptyish(a) && isEmptyish(b)) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!semanticEqual(a[i], b[i])) return false;
    return true;
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
    for (const k of keys) if (!semanticEqual(ao[k], bo[k])) return false;
    return true;
  }
  // An object on one side and an empty value on the other: equal when the object is all zero.
  if (typeof a === 'object' && a !== null && isEmptyish(b)) return Object.values(a).every((v) => semanticEqual(v, undefined));
  if (typeof b === 'object' && b !== null && isEmptyish(a)) return Object.values(b).every((v) => semanticEqual(v, undefined));
  return false;
}

// Kubernetes' alphabet for generated names: no vowels (no words) and no confusable characters.
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** Five random characters, as Kubernetes appends to metadata.generateName. */
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHANUMS[randomInt(ALPHANUMS.length)];
  return s;
}

export function newUID(): string {
  return randomUUID();
}

/** The current time as Kubernetes writes it: RFC 3339 with whole seconds. */
export function nowRFC3339(offsetSeconds = 0): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000 + offsetSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** Compares keys in byte order (the store's order). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
