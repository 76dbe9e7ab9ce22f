// Reading the Kubernetes JSON form of an object (a plain object, as toK8sJson returns it) without
// trusting its shape: every accessor returns the value when it has the expected JSON type and an
// empty value otherwise ('' / 0 / {} / []), which is what Go's zero values give the printers in
// Kubernetes when a field is absent.
import type { metav1 } from '@k8ts/api';

/** A JSON object. */
export type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a path of keys, or undefined when a step is missing or not an object. */
export function field(o: unknown, ...keys: string[]): unknown {
  let cur: unknown = o;
  for (const k of keys) {
    if (!isObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** The object at a path, or an empty object. */
export function objectAt(o: unknown, ...keys: string[]): JsonObject {
  const v = field(o, ...keys);
  return isObject(v) ? v : {};
}

/** The objects of the array at a path (elements that are not objects are skipped). */
export function objectsAt(o: unknown, ...keys: string[]): JsonObject[] {
  const v = field(o, ...keys);
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** The strings of the array at a path. */
export function stringsAt(o: unknown, ...keys: string[]): string[] {
  const v = field(o, ...keys);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The string at a path, or ''. */
export function stringAt(o: unknown, ...keys: string[]): string {
  const v = field(o, ...keys);
  return typeof v === 'string' ? v : '';
}

/** The number at a path (int64 may come as a decimal string), or 0. */
export function numberAt(o: unknown, ...keys: string[]): number {
  const v = field(o, ...keys);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return 0;
}

/** The number at a path, or undefined when the field is absent (Go's nil pointer). */
export function optionalNumberAt(o: unknown, ...keys: string[]): number | undefined {
  const v = field(o, ...keys);
  return v === undefined || v === null ? undefined : numberAt(o, ...keys);
}

/** Whether the field at a path is present (not undefined or null). */
export function has(o: unknown, ...keys: string[]): boolean {
  const v = field(o, ...keys);
  return v !== undefined && v !== null;
}

/** The string map at a path (values that are not strings are skipped). */
export function stringMapAt(o: unknown, ...keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(objectAt(o, ...keys))) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * The metav1.LabelSelector at a path (undefined when absent or null), its parts read as
 * strings so that a malformed one still converts (and is then reported as invalid).
 */
export function labelSelectorAt(o: unknown, ...keys: string[]): metav1.LabelSelector | undefined {
  if (!has(o, ...keys)) return undefined;
  const selector = field(o, ...keys);
  return {
    matchLabels: stringMapAt(selector, 'matchLabels'),
    matchExpressions: objectsAt(selector, 'matchExpressions').map((e) => ({
      key: stringAt(e, 'key'),
      operator: stringAt(e, 'operator'),
      values: stringsAt(e, 'values'),
    })),
  };
}
