// Label and field selectors: parsing Kubernetes' string forms, matching, and converting
// metav1.LabelSelector. Pure functions and values with no I/O, shared by clients,
// informers, controllers and the apiserver.
//
// Label selector grammar (as in Kubernetes' labels.Parse), requirements joined by ',' (AND):
//   key            the label exists            !key           the label does not exist
//   key=value      equal (also key==value)     key!=value     not equal, or no such label
//   key in (a,b)   the value is one of         key notin (a)  not one of, or no such label
//   key>3, key<3   the value is an integer greater / less than
// Field selector grammar (as in Kubernetes' fields.ParseSelector): 'path=value',
// 'path==value' or 'path!=value' joined by ','; '\' escapes ',', '=' and '\' in values.
import type { metav1 } from '@k8ts/api';

/** A selector string that does not parse, or a LabelSelector that is not valid. */
export class SelectorError extends Error {
  constructor(
    message: string,
    /** The selector as given (for LabelSelector objects: a description of the field). */
    readonly selector: string,
    /** The 0-based character position of the problem in `selector`, when it is a string. */
    readonly position?: number,
  ) {
    super(message);
    this.name = 'SelectorError';
  }
}

// ---------------------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------------------

export type LabelOperator = 'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';

/** One condition on one label. Equals/NotEquals have one value, Gt/Lt one integer. */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

export type Labels = Readonly<Record<string, string>> | undefined | null;

/** A parsed label selector: requirements that must all hold. */
export interface LabelSelector {
  /** The requirements, sorted by key. */
  readonly requirements: readonly LabelRequirement[];
  /** True when the labels satisfy every requirement. */
  matches(labels: Labels): boolean;
  /** True for the selector that matches everything (no requirements). */
  isEverything(): boolean;
  /** True for the selector that matches nothing (from a missing LabelSelector). */
  isNothing(): boolean;
  /**
   * The canonical string form, which parses back to an equal selector. The selector that
   * matches nothing has no string form: it prints as '<none>', which does not parse.
   */
  toString(): string;
}

const NAME_RE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const INTEGER_RE = /^-?[0-9]+$/;

/** Why a label key is invalid, or undefined when it is valid. */
export function labelKeyProblem(key: string): string | undefined {
  if (key === '') return 'a label key must not be empty';
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix === '' || prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix)) {
      return `invalid label key "${key}": the prefix must be a DNS subdomain (lowercase alphanumerics, '-' and '.', at most 253 characters)`;
    }
  }
  if (name === '' || name.length > 63 || !NAME_RE.test(name)) {
    return `invalid label key "${key}": the name must be at most 63 characters, alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

/** Why a label value is invalid, or undefined when it is valid. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME_RE.test(value)) {
    return `invalid label value "${value}": at most 63 characters, alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

function requirementMatches(r: LabelRequirement, labels: Labels): boolean {
  const has = labels != null && Object.hasOwn(labels, r.key);
  const value = has ? labels![r.key] : undefined;
  switch (r.operator) {
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Equals':
    case 'In':
      return has && r.values.includes(value!);
    case 'NotEquals':
    case 'NotIn':
      return !has || !r.values.includes(value!);
    case 'Gt':
    case 'Lt': {
      if (!has || !INTEGER_RE.test(value!)) return false;
      const a = Number(value);
      const b = Number(r.values[0]);
      return r.operator === 'Gt' ? a > b : a < b;
    }
  }
}

function requirementString(r: LabelRequirement): string {
  switch (r.operator) {
    case 'Exists':
      return r.key;
    case 'DoesNotExist':
      return `!${r.key}`;
    case 'Equals':
      return `${r.key}=${r.values[0]}`;
    case 'NotEquals':
      return `${r.key}!=${r.values[0]}`;
    case 'In':
      return `${r.key} in (${r.values.join(',')})`;
    case 'NotIn':
      return `${r.key} notin (${r.values.join(',')})`;
    case 'Gt':
      return `${r.key}>${r.values[0]}`;
    case 'Lt':
      return `${r.key}<${r.values[0]}`;
  }
}

class RequirementsSelector implements LabelSelector {
  readonly requirements: readonly LabelRequirement[];

  constructor(
    requirements: LabelRequirement[],
    private readonly nothing = false,
  ) {
    // Stable sort by key, values of set operators sorted and unique: the canonical form.
    this.requirements = Object.freeze(
      requirements
        .map((r) =>
          Object.freeze({
            key: r.key,
            operator: r.operator,
            values: Object.freeze(r.operator === 'In' || r.operator === 'NotIn' ? [...new Set(r.values)].sort() : [...r.values]),
          }),
        )
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    );
  }

  matches(labels: Labels): boolean {
    if (this.nothing) return false;
    return this.requirements.every((r) => requirementMatches(r, labels));
  }

  isEverything(): boolean {
    return !this.nothing && this.requirements.length === 0;
  }

  isNothing(): boolean {
    return this.nothing;
  }

  toString(): string {
    return this.nothing ? '<none>' : this.requirements.map(requirementString).join(',');
  }
}

/** The selector that matches every object. */
export function everything(): LabelSelector {
  return new RequirementsSelector([]);
}

/** The selector that matches no object. */
export function nothing(): LabelSelector {
  return new RequirementsSelector([], true);
}

/** A selector requiring each label of `set` with its value ('app=web,tier=db' from {app:'web',tier:'db'}). */
export function selectorFromSet(set: Labels): LabelSelector {
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(set ?? {})) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) throw new SelectorError(problem, JSON.stringify(set));
    reqs.push({ key, operator: 'Equals', values: [value] });
  }
  return new RequirementsSelector(reqs);
}

/** A selector made of requirements (validated). */
export function selectorFromRequirements(requirements: LabelRequirement[]): LabelSelector {
  for (const r of requirements) {
    const problem = requirementProblem(r);
    if (problem) throw new SelectorError(problem, requirementString(r));
  }
  return new RequirementsSelector(requirements);
}

function requirementProblem(r: LabelRequirement): string | undefined {
  const keyProblem = labelKeyProblem(r.key);
  if (keyProblem) return keyProblem;
  switch (r.operator) {
    case 'Exists':
    case 'DoesNotExist':
      if (r.values.length > 0) return `values must be empty for the operator ${r.operator} of "${r.key}"`;
      return undefined;
    case 'In':
    case 'NotIn':
      if (r.values.length === 0) return `the operator ${r.operator === 'In' ? 'in' : 'notin'} of "${r.key}" needs at least one value`;
      break;
    case 'Equals':
    case 'NotEquals':
      if (r.values.length !== 1) return `the operator ${r.operator} of "${r.key}" needs exactly one value`;
      break;
    case 'Gt':
    case 'Lt':
      if (r.values.length !== 1 || !INTEGER_RE.test(r.values[0])) {
        return `the operator ${r.operator === 'Gt' ? '>' : '<'} of "${r.key}" needs one integer value`;
      }
      return undefined;
    default:
      return `unknown operator ${String((r as LabelRequirement).operator)}`;
  }
  for (const v of r.values) {
    const problem = labelValueProblem(v);
    if (problem) return problem;
  }
  return undefined;
}

type TokenKind = 'ident' | '!' | '=' | '==' | '!=' | '(' | ')' | ',' | '>' | '<' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
}

const SPECIAL = new Set(['!', '=', '(', ')', ',', '<', '>']);

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '!' && input[i + 1] === '=') {
      tokens.push({ kind: '!=', text: '!=', pos: i });
      i += 2;
    } else if (c === '=' && input[i + 1] === '=') {
      tokens.push({ kind: '==', text: '==', pos: i });
      i += 2;
    } else if (SPECIAL.has(c)) {
      tokens.push({ kind: c as TokenKind, text: c, pos: i });
      i++;
    } else {
      const start = i;
      while (i < input.length && !SPECIAL.has(input[i]) && !/\s/.test(input[i])) i++;
      tokens.push({ kind: 'ident', text: input.slice(start, i), pos: start });
    }
  }
  tokens.push({ kind: 'end', text: '', pos: input.length });
  return tokens;
}

function describeToken(t: Token): string {
  return t.kind === 'end' ? 'the end' : `"${t.text}"`;
}

/**
 * Parses a label selector in Kubernetes' string form. '' (or only spaces) selects
 * everything. Throws a SelectorError naming the position and what was expected.
 */
export function parseLabelSelector(input: string): LabelSelector {
  const tokens = lex(input);
  let p = 0;
  const peek = () => tokens[p];
  const fail = (message: string, t: Token = peek()): never => {
    throw new SelectorError(`invalid label selector "${input}": ${message} at position ${t.pos}`, input, t.pos);
  };
  const expect = (kind: TokenKind, what: string): Token => {
    const t = peek();
    if (t.kind !== kind) fail(`expected ${what} but found ${describeToken(t)}`);
    p++;
    return t;
  };
  const checked = (r: LabelRequirement, at: Token): LabelRequirement => {
    const problem = requirementProblem(r);
    if (problem) fail(problem, at);
    return r;
  };
  /** A value: an identifier, or empty when the next token ends the requirement. */
  const value = (): string => {
    const t = peek();
    if (t.kind === 'ident') {
      p++;
      return t.text;
    }
    if (t.kind === ',' || t.kind === 'end') return '';
    return fail(`expected a value but found ${describeToken(t)}`);
  };
  const valueList = (): string[] => {
    expect('(', "'(' after in/notin");
    const values: string[] = [];
    if (peek().kind === ')') {
      p++;
      return values;
    }
    for (;;) {
      const t = peek();
      if (t.kind === 'ident') {
        values.push(t.text);
        p++;
      } else if (t.kind === ',' || t.kind === ')') {
        values.push('');
      } else {
        fail(`expected a value, ',' or ')' but found ${describeToken(t)}`);
      }
      const sep = peek();
      if (sep.kind === ')') {
        p++;
        return values;
      }
      if (sep.kind !== ',') fail(`expected ',' or ')' but found ${describeToken(sep)}`);
      p++;
    }
  };
  const requirement = (): LabelRequirement => {
    const start = peek();
    if (start.kind === '!') {
      p++;
      const key = expect('ident', 'a label key after "!"');
      return checked({ key: key.text, operator: 'DoesNotExist', values: [] }, key);
    }
    const key = expect('ident', 'a label key');
    const op = peek();
    switch (op.kind) {
      case ',':
      case 'end':
        return checked({ key: key.text, operator: 'Exists', values: [] }, key);
      case '=':
      case '==':
        p++;
        return checked({ key: key.text, operator: 'Equals', values: [value()] }, op);
      case '!=':
        p++;
        return checked({ key: key.text, operator: 'NotEquals', values: [value()] }, op);
      case '>':
      case '<':
        p++;
        return checked({ key: key.text, operator: op.kind === '>' ? 'Gt' : 'Lt', values: [value()] }, op);
      case 'ident':
        if (op.text === 'in' || op.text === 'notin') {
          p++;
          return checked({ key: key.text, operator: op.text === 'in' ? 'In' : 'NotIn', values: valueList() }, op);
        }
        return fail(`expected an operator (=, ==, !=, in, notin, >, <) or ',' after "${key.text}" but found ${describeToken(op)}`, op);
      default:
        return fail(`expected an operator (=, ==, !=, in, notin, >, <) or ',' after "${key.text}" but found ${describeToken(op)}`, op);
    }
  };

  const reqs: LabelRequirement[] = [];
  if (peek().kind === 'end') return new RequirementsSelector(reqs);
  for (;;) {
    reqs.push(requirement());
    const t = peek();
    if (t.kind === 'end') break;
    if (t.kind !== ',') fail(`expected ',' or the end but found ${describeToken(t)}`);
    p++;
  }
  return new RequirementsSelector(reqs);
}

const EXPRESSION_OPERATORS: Record<string, LabelOperator> = {
  In: 'In',
  NotIn: 'NotIn',
  Exists: 'Exists',
  DoesNotExist: 'DoesNotExist',
};

/**
 * The selector of a metav1.LabelSelector (a Deployment's or ReplicaSet's spec.selector, a
 * Service's ...): matchLabels and matchExpressions ANDed. A missing selector (undefined or
 * null) matches nothing; an empty one matches everything. Throws a SelectorError naming the
 * bad field.
 */
export function labelSelectorAsSelector(selector: metav1.LabelSelector | undefined | null): LabelSelector {
  if (selector == null) return nothing();
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    const r: LabelRequirement = { key, operator: 'Equals', values: [value] };
    const problem = requirementProblem(r);
    if (problem) throw new SelectorError(`matchLabels: ${problem}`, `matchLabels[${JSON.stringify(key)}]`);
    reqs.push(r);
  }
  (selector.matchExpressions ?? []).forEach((e, i) => {
    const field = `matchExpressions[${i}]`;
    const operator = EXPRESSION_OPERATORS[e.operator ?? ''];
    if (!operator) {
      throw new SelectorError(`${field}.operator: "${e.operator ?? ''}" is not one of In, NotIn, Exists, DoesNotExist`, field);
    }
    const r: LabelRequirement = { key: e.key ?? '', operator, values: [...(e.values ?? [])] };
    const problem = requirementProblem(r);
    if (problem) throw new SelectorError(`${field}: ${problem}`, field);
    reqs.push(r);
  });
  return new RequirementsSelector(reqs);
}

/**
 * The string form of a metav1.LabelSelector, for a List or Watch request. A missing
 * selector gives '<none>', which the server rejects rather than listing everything.
 */
export function formatLabelSelector(selector: metav1.LabelSelector | undefined | null): string {
  return labelSelectorAsSelector(selector).toString();
}

/**
 * A selector given as a string or already parsed; undefined and '' select everything. (A
 * metav1.LabelSelector goes through labelSelectorAsSelector, where a missing one selects
 * nothing.)
 */
export function toLabelSelector(selector: string | LabelSelector | undefined): LabelSelector {
  if (selector === undefined || selector === '') return everything();
  if (typeof selector === 'string') return parseLabelSelector(selector);
  return selector;
}

// ---------------------------------------------------------------------------------------
// Field selectors
// ---------------------------------------------------------------------------------------

/** One condition on one field: its value equals (or differs from) `value`. */
export interface FieldRequirement {
  /** A dotted path into the object: 'metadata.name', 'spec.nodeName', 'status.phase'. */
  readonly field: string;
  readonly operator: 'Equals' | 'NotEquals';
  readonly value: string;
}

/** A parsed field selector. */
export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  /** Matches an object by walking each requirement's path (a missing field reads as ''). */
  matches(obj: unknown): boolean;
  /** Matches a precomputed set of field values (a missing field reads as ''). */
  matchesFields(fields: Readonly<Record<string, string>>): boolean;
  /** The value the selector requires `field` to equal, if it has such a requirement. */
  requiresExactMatch(field: string): string | undefined;
  isEverything(): boolean;
  /** The canonical string form (values escaped), which parses back to an equal selector. */
  toString(): string;
}

/**
 * The value at a dotted path of an object, as a field selector compares it: strings as they
 * are, numbers and booleans as their decimal / 'true' / 'false' form, anything missing
 * (or an object or list) as ''.
 */
export function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean' || typeof cur === 'bigint') return String(cur);
  return '';
}

/** Escapes '\', ',' and '=' in a field selector value. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

class RequirementsFieldSelector implements FieldSelector {
  readonly requirements: readonly FieldRequirement[];

  constructor(reqs: FieldRequirement[]) {
    this.requirements = Object.freeze(
      reqs.map((r) => Object.freeze({ ...r })).sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0)),
    );
  }

  matches(obj: unknown): boolean {
    return this.requirements.every((r) => (fieldValue(obj, r.field) === r.value) === (r.operator === 'Equals'));
  }

  matchesFields(fields: Readonly<Record<string, string>>): boolean {
    return this.requirements.every((r) => ((fields[r.field] ?? '') === r.value) === (r.operator === 'Equals'));
  }

  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === 'Equals')?.value;
  }

  isEverything(): boolean {
    return this.requirements.length === 0;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator === 'Equals' ? '=' : '!='}${escapeFieldValue(r.value)}`).join(',');
  }
}

const FIELD_PATH_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Parses a field selector: 'metadata.name=x,spec.nodeName!=y'. '' selects everything.
 * Throws a SelectorError naming the position and the problem.
 */
export function parseFieldSelector(input: string): FieldSelector {
  const reqs: FieldRequirement[] = [];
  const fail = (message: string, pos: number): never => {
    throw new SelectorError(`invalid field selector "${input}": ${message} at position ${pos}`, input, pos);
  };
  if (input.trim() === '') return new RequirementsFieldSelector(reqs);
  // Split into terms at unescaped commas, remembering where each starts.
  const terms: { text: string; pos: number }[] = [];
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] === '\\') i++;
    else if (input[i] === ',') {
      terms.push({ text: input.slice(start, i), pos: start });
      start = i + 1;
    }
  }
  terms.push({ text: input.slice(start), pos: start });
  for (const term of terms) {
    const m = /!=|==|=/.exec(term.text);
    if (!m) fail(`"${term.text}" has no operator (=, == or !=)`, term.pos);
    const opIndex = m!.index;
    const field = term.text.slice(0, opIndex).trim();
    if (!FIELD_PATH_RE.test(field)) fail(`"${field}" is not a field path like spec.nodeName`, term.pos);
    const raw = term.text.slice(opIndex + m![0].length);
    let value = '';
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      const pos = term.pos + opIndex + m![0].length + i;
      if (c === '\\') {
        const next = raw[i + 1];
        if (next !== '\\' && next !== ',' && next !== '=') fail("'\\' may only escape '\\', ',' or '='", pos);
        value += next;
        i++;
      } else if (c === '=') {
        fail("an '=' in a value must be escaped as '\\='", pos);
      } else {
        value += c;
      }
    }
    reqs.push({ field, operator: m![0] === '!=' ? 'NotEquals' : 'Equals', value });
  }
  return new RequirementsFieldSelector(reqs);
}

/** A field selector requiring each field of `set` to equal its value. */
export function fieldSelectorFromSet(set: Readonly<Record<string, string>>): FieldSelector {
  const reqs: FieldRequirement[] = [];
  for (const [field, value] of Object.entries(set)) {
    if (!FIELD_PATH_RE.test(field)) throw new SelectorError(`"${field}" is not a field path like spec.nodeName`, field);
    reqs.push({ field, operator: 'Equals', value });
  }
  return new RequirementsFieldSelector(reqs);
}
