// The error every selector function throws, and the pieces of Kubernetes' field error text
// (k8s.io/apimachinery/pkg/util/validation/field) that selector messages are made of.
// Kubernetes' selector code reports problems as field errors joined into one aggregate:
//   one error          "values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"
//   several errors     "[key: Invalid value: ..., values: Invalid value: ...]" (duplicates dropped)
// A field path is relative to what was checked ("key", "values[0][app]"), or the path a caller
// gave; a key checked with no path at all reads "<nil>", as a Go *field.Path that is nil does
// (labels.Parse says "<nil>: Invalid value: \"-bad\": ..." for a bad key).

/** A label or field selector that does not parse, or a requirement that is not valid. */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';

  constructor(
    message: string,
    /** The selector as given: its string form, or a description of the structured one. */
    readonly selector: string,
  ) {
    super(message);
  }
}

/** A value as Kubernetes' field errors print it: JSON (strings quoted, lists as [..]). */
function showValue(value: unknown): string {
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** field.Invalid(path, value, detail).Error(). */
export function invalidValue(path: string, value: unknown, detail: string): string {
  return `${path}: Invalid value: ${showValue(value)}${detail ? `: ${detail}` : ''}`;
}

/** field.NotSupported(path, value, supported).Error(). */
export function unsupportedValue(path: string, value: unknown, supported: readonly string[]): string {
  const list = supported.map((s) => JSON.stringify(s)).join(', ');
  return `${path}: Unsupported value: ${showValue(value)}${list ? `: supported values: ${list}` : ''}`;
}

/** utilerrors.NewAggregate(errs).Error(): one message as it is, several deduplicated in [..]. */
export function aggregate(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

/** The path of a child field: "spec.selector" + "key"; a child of no path is just its name. */
export function childPath(path: string | undefined, name: string): string {
  return path ? `${path}.${name}` : name;
}
