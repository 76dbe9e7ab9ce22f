// metav1.LabelSelector ({matchLabels, matchExpressions}, the selector of Deployments, Jobs,
// Services' endpoints, affinity terms, aggregation rules, ...) to and from label selectors, as
// Kubernetes' metav1 helpers do:
// - LabelSelectorAsSelector: a missing selector selects nothing, an empty one ({} or both
//   lists empty) everything; matchLabels are "=" requirements; expression operators In,
//   NotIn, Exists and DoesNotExist map to in, notin, exists and "!" (anything else:
//   `"Near" is not a valid label selector operator`); each requirement is checked by
//   newRequirement, whose message is the error.
// - FormatLabelSelector, the text kubectl prints (describe's Selector, get -o wide): the
//   selector's string, "<none>" when that is empty, "<error>" when it does not convert. An
//   Exists expression prints as its bare key ("tier"), DoesNotExist as "!tier".
// - ParseToLabelSelector: a selector string as a LabelSelector (= and == into matchLabels);
//   gt and lt have no LabelSelector form.
import type { metav1 } from '@k8ts/api';
import { SelectorError } from './errors';
import { everything, nothing, selectorFromCheckedRequirements } from './labels';
import type { LabelSelector } from './labels';
import { parseToRequirements } from './parse';
import type { LabelRequirement, Labels, SelectorOperator } from './requirement';
import { newRequirement } from './requirement';

/** The selector operators of metav1.LabelSelectorRequirement operators. */
const EXPRESSION_OPERATORS: Readonly<Record<string, SelectorOperator>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

function expressionRequirement(e: metav1.LabelSelectorRequirement): LabelRequirement {
  const operator = Object.hasOwn(EXPRESSION_OPERATORS, e.operator ?? '') ? EXPRESSION_OPERATORS[e.operator ?? ''] : undefined;
  if (!operator) throw new SelectorError(`${JSON.stringify(e.operator ?? '')} is not a valid label selector operator`, 'matchExpressions');
  return newRequirement(e.key ?? '', operator, e.values ?? []);
}

function isEmptyLabelSelector(selector: metav1.LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/** metav1.LabelSelectorAsSelector; throws a SelectorError with Kubernetes' message. */
export function labelSelectorAsSelector(selector: metav1.LabelSelector | undefined | null): LabelSelector {
  if (selector == null) return nothing();
  if (isEmptyLabelSelector(selector)) return everything();
  const requirements = [
    ...Object.entries(selector.matchLabels ?? {}).map(([key, value]) => newRequirement(key, '=', [value])),
    ...(selector.matchExpressions ?? []).map(expressionRequirement),
  ];
  return selectorFromCheckedRequirements(requirements);
}

/** labelSelectorAsSelector, or the SelectorError saying why the selector does not convert. */
export function tryLabelSelectorAsSelector(selector: metav1.LabelSelector | undefined | null): LabelSelector | SelectorError {
  try {
    return labelSelectorAsSelector(selector);
  } catch (err) {
    if (err instanceof SelectorError) return err;
    throw err;
  }
}

/** metav1.FormatLabelSelector: the selector's text, "<none>" when empty, "<error>" when invalid. */
export function formatLabelSelector(selector: metav1.LabelSelector | undefined | null): string {
  const converted = tryLabelSelectorAsSelector(selector);
  if (converted instanceof SelectorError) return '<error>';
  const text = converted.toString();
  return text === '' ? '<none>' : text;
}

/** The LabelSelectorRequirement of a parsed requirement (= and == go to matchLabels instead). */
function expressionOf(r: LabelRequirement, input: string): metav1.LabelSelectorRequirement {
  switch (r.operator) {
    case 'in':
      return { key: r.key, operator: 'In', values: [...r.values] };
    case 'notin':
      return { key: r.key, operator: 'NotIn', values: [...r.values] };
    case 'exists':
      return { key: r.key, operator: 'Exists', values: [] };
    case '!':
      return { key: r.key, operator: 'DoesNotExist', values: [] };
    case 'gt':
    case 'lt':
      throw new SelectorError(`${JSON.stringify(r.operator)} isn't supported in label selectors`, input);
    default:
      throw new SelectorError(`${JSON.stringify(r.operator)} is not a valid label selector operator`, input);
  }
}

/** metav1.ParseToLabelSelector: a selector string as a metav1.LabelSelector. */
export function parseToLabelSelector(input: string): metav1.LabelSelector {
  let requirements: LabelRequirement[];
  try {
    requirements = parseToRequirements(input);
  } catch (err) {
    if (!(err instanceof SelectorError)) throw err;
    throw new SelectorError(`couldn't parse the selector string "${input}": ${err.message}`, input);
  }
  const out: Required<metav1.LabelSelector> = { matchLabels: {}, matchExpressions: [] };
  for (const r of requirements) {
    if (r.operator === '=' || r.operator === '==') out.matchLabels[r.key] = r.values[0];
    else out.matchExpressions.push(expressionOf(r, input));
  }
  return out;
}

/** metav1.SetAsLabelSelector: the LabelSelector requiring each label of a set. */
export function setAsLabelSelector(set: Labels): metav1.LabelSelector {
  return { matchLabels: { ...set } };
}
