// The label and field selectors an access review may carry in spec.resourceAttributes (a list
// or watch limited to some objects). Kubernetes validates their shape (a rawSelector or
// requirements, not both; In and NotIn need values, Exists and DoesNotExist take none; unknown
// operators pass, for newer clients) and, when evaluating, ignores the parts it cannot use,
// saying so in status.evaluationError ("spec.resourceAttributes.labelSelector partially ignored
// due to parse error"). Authorizers here (RBAC, Node) do not look at selectors.
import { parseFieldSelector, parseLabelSelector } from '@k8ts/machinery';
import { type ErrorList, isQualifiedName, isValidLabelValue } from '../strategies/validation';
import type { BodyReader, JsonObject } from './body';

export type SelectorKind = 'labelSelector' | 'fieldSelector';

export interface SelectorRequirement {
  key: string;
  operator: string;
  values: string[];
}

export interface SelectorAttributes {
  rawSelector: string;
  requirements: SelectorRequirement[];
}

/** Reads resourceAttributes.labelSelector or .fieldSelector; undefined when absent. */
export function readSelector(reader: BodyReader, parent: JsonObject, key: SelectorKind, path: string): SelectorAttributes | undefined {
  const obj = reader.object(parent, key, path);
  if (!obj) return undefined;
  const at = `${path}.${key}`;
  return {
    rawSelector: reader.string(obj, 'rawSelector', at),
    requirements: reader.objects(obj, 'requirements', at).map((r, i) => {
      const rp = `${at}.requirements[${i}]`;
      return { key: reader.string(r, 'key', rp), operator: reader.string(r, 'operator', rp), values: reader.strings(r, 'values', rp) };
    }),
  };
}

const IN_NOT_IN = ['In', 'NotIn'];
const EXISTENCE = ['Exists', 'DoesNotExist'];

function validateRequirement(kind: SelectorKind, r: SelectorRequirement, path: string, errs: ErrorList): void {
  if (kind === 'fieldSelector' && r.key === '') errs.required(`${path}.key`, 'must be specified');
  if (IN_NOT_IN.includes(r.operator) && r.values.length === 0) {
    errs.required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'");
  }
  if (EXISTENCE.includes(r.operator) && r.values.length > 0) {
    errs.forbidden(`${path}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
  }
  if (kind === 'labelSelector') errs.invalidEach(`${path}.key`, r.key, isQualifiedName(r.key));
}

/** Kubernetes' validation of one selector of resourceAttributes. */
export function validateSelector(kind: SelectorKind, s: SelectorAttributes | undefined, path: string, errs: ErrorList): void {
  if (!s) return;
  const at = `${path}.${kind}`;
  if (s.rawSelector !== '' && s.requirements.length > 0) {
    errs.invalid(`${at}.rawSelector`, s.rawSelector, 'may not specified at the same time as requirements');
  }
  if (s.rawSelector === '' && s.requirements.length === 0) {
    errs.required(`${at}.requirements`, `when ${at} is specified, requirements or rawSelector is required`);
  }
  s.requirements.forEach((r, i) => {
    validateRequirement(kind, r, `${at}.requirements[${i}]`, errs);
  });
}

/** Whether the authorizer could use a requirement (Kubernetes drops the others). */
function usable(kind: SelectorKind, r: SelectorRequirement): boolean {
  if (kind === 'fieldSelector') return IN_NOT_IN.includes(r.operator) && r.values.length === 1;
  if (isQualifiedName(r.key).length > 0) return false;
  if (IN_NOT_IN.includes(r.operator)) return r.values.length > 0 && r.values.every((v) => isValidLabelValue(v).length === 0);
  return EXISTENCE.includes(r.operator) && r.values.length === 0;
}

/** How many requirements an authorizer gets from the selector, and whether some were dropped. */
function interpret(kind: SelectorKind, s: SelectorAttributes): { kept: number; dropped: boolean } {
  if (s.rawSelector !== '') {
    try {
      const kept = (kind === 'labelSelector' ? parseLabelSelector(s.rawSelector) : parseFieldSelector(s.rawSelector)).requirements.length;
      return { kept, dropped: false };
    } catch {
      return { kept: 0, dropped: true };
    }
  }
  const kept = s.requirements.filter((r) => usable(kind, r)).length;
  return { kept, dropped: kept < s.requirements.length };
}

/** The evaluationError note for a selector the authorizer could not fully use, as Kubernetes words it. */
export function selectorNote(kind: SelectorKind, s: SelectorAttributes | undefined): string | undefined {
  if (!s) return undefined;
  const { kept, dropped } = interpret(kind, s);
  if (!dropped) return undefined;
  return `spec.resourceAttributes.${kind} ${kept > 0 ? 'partially ignored' : 'ignored'} due to parse error`;
}

/** The selector as the response echoes it (empty fields left out). */
export function selectorJson(s: SelectorAttributes): JsonObject {
  const out: JsonObject = {};
  if (s.rawSelector !== '') out.rawSelector = s.rawSelector;
  if (s.requirements.length > 0) {
    out.requirements = s.requirements.map((r) => ({ key: r.key, operator: r.operator, ...(r.values.length > 0 ? { values: [...r.values] } : {}) }));
  }
  return out;
}
