// One label requirement: a key, an operator and values, as Kubernetes' labels.Requirement
// (k8s.io/apimachinery/pkg/labels, operators of pkg/selection). newRequirement checks it the
// way labels.NewRequirement does, with its messages:
//   in, notin          at least one value          =, ==, !=   exactly one value
//   exists, !          no values                   gt, lt      one value, an int64
// the key a qualified name and every value a valid label value. Matching, also Kubernetes':
// in/=/== need the label with one of the values; notin/!= hold when the label is absent or
// has none of them; gt/lt need the label's value to parse as an int64 and compare.
import { SelectorError, aggregate, childPath, invalidValue, unsupportedValue } from './errors';
import { isQualifiedName, isValidLabelValue } from './names';

/** The operators of label (and field) requirements: selection.Operator's values. */
export const SelectorOperator = {
  DoesNotExist: '!',
  Equals: '=',
  DoubleEquals: '==',
  In: 'in',
  NotEquals: '!=',
  NotIn: 'notin',
  Exists: 'exists',
  GreaterThan: 'gt',
  LessThan: 'lt',
} as const;
export type SelectorOperator = (typeof SelectorOperator)[keyof typeof SelectorOperator];

/** Every operator, in the order Kubernetes lists them in "supported values". */
const ALL_OPERATORS: readonly SelectorOperator[] = ['in', 'notin', '=', '==', '!=', 'gt', 'lt', 'exists', '!'];

/** A condition on one label. Values are kept as given (a set-based parse gives them sorted). */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** A map of labels, as objects carry them in metadata.labels. */
export type Labels = Readonly<Record<string, string>>;

/** An empty label map, for objects without labels. */
export const NO_LABELS: Labels = Object.freeze({});

const INT64_RE = /^[+-]?[0-9]+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64): the value, or undefined when it is not a decimal int64. */
export function parseInt64(text: string): bigint | undefined {
  if (!INT64_RE.test(text)) return undefined;
  const n = BigInt(text);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** The problem of the operator and the number of values, or none. */
function operatorProblems(operator: string, values: readonly string[], path: string | undefined): string[] {
  const valuesPath = childPath(path, 'values');
  switch (operator) {
    case 'in':
    case 'notin':
      return values.length === 0 ? [invalidValue(valuesPath, values, "for 'in', 'notin' operators, values set can't be empty")] : [];
    case '=':
    case '==':
    case '!=':
      return values.length !== 1 ? [invalidValue(valuesPath, values, 'exact-match compatibility requires one single value')] : [];
    case 'exists':
    case '!':
      return values.length !== 0 ? [invalidValue(valuesPath, values, 'values set must be empty for exists and does not exist')] : [];
    case 'gt':
    case 'lt':
      return [
        ...(values.length !== 1 ? [invalidValue(valuesPath, values, "for 'Gt', 'Lt' operators, exactly one value is required")] : []),
        ...values.flatMap((v, i) =>
          parseInt64(v) === undefined ? [invalidValue(`${valuesPath}[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer")] : [],
        ),
      ];
    default:
      return [unsupportedValue(childPath(path, 'operator'), operator, ALL_OPERATORS)];
  }
}

/** validateLabelKey: the key's problems as one field error, or none. */
export function labelKeyProblems(key: string, path: string): string[] {
  const problems = isQualifiedName(key);
  return problems.length > 0 ? [invalidValue(path, key, problems.join('; '))] : [];
}

/** validateLabelValue: the value's problems as one field error at path[key], or none. */
function labelValueProblems(key: string, value: string, path: string): string[] {
  const problems = isValidLabelValue(value);
  return problems.length > 0 ? [invalidValue(`${path}[${key}]`, value, problems.join('; '))] : [];
}

/**
 * labels.NewRequirement: a checked requirement, or a SelectorError whose message is
 * Kubernetes' (field paths under `path` when given: "spec.selector.values[0][app]: ...").
 */
export function newRequirement(key: string, operator: string, values: readonly string[], path?: string): LabelRequirement {
  const problems = [
    ...labelKeyProblems(key, childPath(path, 'key')),
    ...operatorProblems(operator, values, path),
    ...values.flatMap((v, i) => labelValueProblems(key, v, `${childPath(path, 'values')}[${i}]`)),
  ];
  if (problems.length > 0) throw new SelectorError(aggregate(problems), path ?? key);
  return Object.freeze({ key, operator: operator as SelectorOperator, values: Object.freeze([...values]) });
}

/**
 * Requirement.String(): "key=value", "key==value", "key!=value", "key in (a,b)",
 * "key notin (a,b)", "key>3", "key<3", "key" (exists) and "!key". Several values print sorted.
 */
export function requirementString(r: LabelRequirement): string {
  if (r.operator === 'exists') return r.key;
  if (r.operator === '!') return `!${r.key}`;
  const values = r.values.length === 1 ? r.values[0] : [...r.values].sort().join(',');
  switch (r.operator) {
    case 'in':
      return `${r.key} in (${values})`;
    case 'notin':
      return `${r.key} notin (${values})`;
    case 'gt':
      return `${r.key}>${values}`;
    case 'lt':
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

/** A requirement ready to be matched many times: values in a Set, the gt/lt bound parsed. */
export interface CompiledRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: ReadonlySet<string>;
  /** The bound of gt/lt; undefined when it is not one int64 (the requirement then never matches). */
  readonly bound: bigint | undefined;
}

export function compileRequirement(r: LabelRequirement): CompiledRequirement {
  const bound = r.values.length === 1 ? parseInt64(r.values[0]) : undefined;
  return { key: r.key, operator: r.operator, values: new Set(r.values), bound };
}

/** Requirement.Matches. A label that is present has an own property (never an inherited one). */
export function requirementMatches(r: CompiledRequirement, labels: Labels | undefined | null): boolean {
  const value = labels != null && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return value !== undefined && r.values.has(value);
    case 'notin':
    case '!=':
      return value === undefined || !r.values.has(value);
    case 'exists':
      return value !== undefined;
    case '!':
      return value === undefined;
    case 'gt':
    case 'lt':
      return compareInt64(r, value);
  }
}

/** gt/lt: the label's value and the bound both int64, and in that order. */
function compareInt64(r: CompiledRequirement, value: string | undefined): boolean {
  const n = value === undefined ? undefined : parseInt64(value);
  if (n === undefined || r.bound === undefined) return false;
  return r.operator === 'gt' ? n > r.bound : n < r.bound;
}
