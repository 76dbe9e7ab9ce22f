// Quantities as API objects hold them: the decoded message ({ value: "500m" }) or, from JSON
// and flags, a bare string. An unset message ({} or { value: "" }, the protobuf default) is
// zero, as the JSON codec writes it ("0"); a bare empty string is not a quantity.
import type { metav1 } from '@k8ts/api';
import { QuantityError } from './errors';
import { Quantity } from './quantity';

/** A quantity as it appears in an API object or a flag. */
export type QuantityLike = metav1.Quantity | string;

/**
 * The Quantity of an API value; undefined when absent. A parse error names `path` (the field,
 * such as "spec.containers[0].resources.requests[cpu]") when given.
 */
export function quantityOf(q: QuantityLike | undefined | null, path?: string): Quantity | undefined {
  if (q === undefined || q === null) return undefined;
  const text = typeof q === 'string' ? q : q.value;
  if (typeof q !== 'string' && (text === undefined || text === '')) return Quantity.ZERO;
  try {
    return Quantity.parse(text ?? '');
  } catch (err) {
    if (path && err instanceof QuantityError) throw err.at(path);
    throw err;
  }
}

/** The message form of a Quantity, for API objects: { value: its string form }. */
export function toQuantityMessage(q: Quantity): metav1.Quantity {
  return { value: q.toString() };
}
