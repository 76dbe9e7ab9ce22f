// Quantities kept once: Kubernetes' resource.Quantity (k8s.io/apimachinery/pkg/api/resource),
// exact (nano-units as bigint), with its parser, errors, canonical text and arithmetic.
export { MAX_QUANTITY_DIGITS, QUANTITY_SPLIT_PATTERN, QuantityError } from './errors';
export type { QuantityErrorReason } from './errors';
export type { QuantityFormat } from './suffix';
export { Quantity, parseQuantity } from './quantity';
export { quantityOf, toQuantityMessage } from './api';
export type { QuantityLike } from './api';
