// Helpers of the apiserver's unit tests.
import type { ApiObject, Strategy } from '../src/strategies/types';
import { ErrorList, validateObjectMeta } from '../src/strategies/validation';

/** Defaults, prepares and validates a new object as the registry does; returns "field: message" lines. */
export function createErrors(strategy: Strategy, input: ApiObject): string[] {
  const obj = structuredClone(input);
  strategy.defaults?.(obj);
  strategy.prepareForCreate?.(obj);
  const errs = new ErrorList();
  validateObjectMeta(obj.metadata ?? {}, { namespaced: strategy.kind.namespaced, nameCheck: strategy.nameCheck }, errs);
  strategy.validate(obj, errs);
  return errs.errors.map((e) => `${e.field}: ${e.message}`);
}

/** The fields of createErrors. */
export function errorFields(strategy: Strategy, input: ApiObject): string[] {
  return createErrors(strategy, input).map((l) => l.slice(0, l.indexOf(': ')));
}

/** An object after defaults and create preparation. */
export function defaulted<T extends ApiObject>(strategy: Strategy, input: T): T {
  const obj = structuredClone(input);
  strategy.defaults?.(obj);
  strategy.prepareForCreate?.(obj);
  return obj;
}

/** The errors of an update of `next` over `old` (both defaulted). */
export function updateErrors(strategy: Strategy, next: ApiObject, old: ApiObject): string[] {
  const n = structuredClone(next);
  strategy.defaults?.(n);
  const errs = new ErrorList();
  strategy.validate(n, errs);
  strategy.validateUpdate?.(n, old, errs);
  return errs.errors.map((e) => `${e.field}: ${e.message}`);
}

export const pod = (name = 'web', extra: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], ...extra },
});
