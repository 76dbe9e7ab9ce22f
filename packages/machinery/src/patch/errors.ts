// The error every patch function throws, carrying the answer Kubernetes' apiserver gives
// for it (k8s.io/apiserver endpoints/handlers/patch.go):
//  - JSON patch: a patch that does not decode is 400 BadRequest; an operation that does not
//    apply is 422 Invalid (Kubernetes then sends the generic message "the server rejected
//    our request due to an error in our request"; ours keeps the library's words);
//  - JSON merge patch: a patch that is not an object or array is 400 BadRequest;
//  - strategic merge patch: a malformed directive is 400 BadRequest, a list of lists or a
//    retainKeys mismatch 422 Invalid, and any other failure (a missing merge key, an unknown
//    $patch) reaches the client as a 500 whose reason is empty (StatusReasonUnknown) and
//    whose message is the patch code's own;
//  - creating a three-way patch: a conflict (kubectl apply --overwrite=false) is 409.
// Messages are worded as Kubernetes words them, which means Go's %v formatting of values
// (map[a:1 b:[x y]]); goFormat reproduces it.
import { isJsonObject, type JsonValue } from './json';

/** The Kubernetes status reason the HTTP layer answers with ("Unknown": Kubernetes sends an empty reason). */
export type PatchErrorReason = 'BadRequest' | 'Invalid' | 'Conflict' | 'Unknown';

const CODES: Record<PatchErrorReason, 400 | 409 | 422 | 500> = { BadRequest: 400, Invalid: 422, Conflict: 409, Unknown: 500 };

export class PatchError extends Error {
  override readonly name = 'PatchError';
  /** The HTTP status code Kubernetes answers with. */
  readonly code: 400 | 409 | 422 | 500;
  /**
   * The path of the field being patched when the error arose ("spec.containers"), when
   * known. Kubernetes' messages do not carry it; it is extra help for logs and tests.
   */
  readonly field?: string;

  constructor(
    message: string,
    readonly reason: PatchErrorReason,
    field?: string,
  ) {
    super(message);
    this.code = CODES[reason];
    if (field) this.field = field;
  }
}

/** A number as Go's %v prints a decoded JSON number (int64 for integers, float64 otherwise). */
export function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  const abs = Math.abs(n);
  if (abs !== 0 && abs < 1e-4) return goExponent(n.toExponential());
  return goExponent(String(n));
}

/** JavaScript writes 1e+21 and 1e-7; Go writes 1e+21 and 1e-07 (at least two exponent digits). */
function goExponent(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** A JSON value as Go's %v prints it after decoding into interface{}. */
export function goFormat(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  const keys = Object.keys(v).sort();
  return `map[${keys.map((k) => `${k}:${goFormat(v[k])}`).join(' ')}]`;
}

/** The Go type of a decoded JSON value, as reflect.TypeOf prints it. */
export function goTypeName(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  if (isJsonObject(v)) return 'map[string]interface {}';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

/** The name encoding/json gives a JSON value's type in its "cannot unmarshal" errors. */
export function jsonTypeWord(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}
