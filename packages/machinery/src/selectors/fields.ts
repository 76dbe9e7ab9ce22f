// Field selectors ("metadata.name=web,spec.nodeName!=" in ?fieldSelector= and kubectl
// --field-selector), parsed, matched and printed as Kubernetes' fields package does:
// - terms are split at commas not escaped by '\', sorted as strings, and ANDed; empty terms
//   are skipped, so "" selects everything;
// - each term is split at the first "!=", "==" or "=" ("==" is "="); the field name is taken
//   as it is (no blanks trimmed, any text: the server then refuses fields its kind does not
//   know with "field label not supported");
// - a value escapes '\', ',' and '=' with '\'; any other escape, an unescaped ',' or '=', or a
//   trailing '\' is an error;
// - a field the object does not have reads as "", so "spec.nodeName=" selects pods not yet
//   scheduled and "spec.nodeName!=" the scheduled ones.
// Messages are Kubernetes': "invalid selector: '<s>'; can't understand '<term>'", "invalid
// field selector: invalid escape sequence: \x", "invalid field selector: unescaped character
// in value: 61" (the character's code, as Go prints a rune).
import { SelectorError } from './errors';

/** A condition on one field: its value equals ("=") or differs from ("!=") `value`. */
export interface FieldRequirement {
  /** A field name, a dotted path into the object: "metadata.name", "spec.nodeName". */
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

/** The field values of an object, by field name (Kubernetes' fields.Set). */
export type Fields = Readonly<Record<string, string>>;

/** A parsed field selector: requirements that must all hold. */
export interface FieldSelector {
  /** The requirements, in the selector's order (terms sorted as strings). */
  readonly requirements: readonly FieldRequirement[];
  /** True when every requirement holds for the field values (a missing field reads as ""). */
  matches(fields: Fields): boolean;
  /** matches() with each field read from the object at its dotted path (see fieldValue). */
  matchesObject(obj: unknown): boolean;
  /** The value the selector requires `field` to equal, if it has such a requirement. */
  requiresExactMatch(field: string): string | undefined;
  /** True when it has no requirements (it selects everything). */
  isEverything(): boolean;
  /** Selector.String(): the terms joined by ",", values escaped; parses back to an equal selector. */
  toString(): string;
}

/** fields.EscapeValue: '\', ',' and '=' preceded by '\'. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** fields.UnescapeValue: the literal value of an escaped one; throws a SelectorError. */
export function unescapeFieldValue(text: string, selector = text): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      const next = text[i + 1];
      if (next !== '\\' && next !== ',' && next !== '=') {
        const escaped = i + 1 < text.length ? String.fromCodePoint(text.codePointAt(i + 1)!) : '';
        throw new SelectorError(`invalid field selector: invalid escape sequence: \\${escaped}`, selector);
      }
      out += next;
      i++;
    } else if (c === ',' || c === '=') {
      throw new SelectorError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`, selector);
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * The value at a dotted path of an object as a field selector compares it: a string as it is,
 * a number or boolean in its text form, anything else (missing, an object, a list) as "".
 */
export function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return '';
    cur = Object.hasOwn(cur, part) ? (cur as Record<string, unknown>)[part] : undefined;
  }
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean' || typeof cur === 'bigint') return String(cur);
  return '';
}

function requirementHolds(r: FieldRequirement, value: string): boolean {
  return (value === r.value) === (r.operator === '=');
}

class RequirementsFieldSelector implements FieldSelector {
  readonly requirements: readonly FieldRequirement[];

  constructor(requirements: readonly FieldRequirement[]) {
    this.requirements = Object.freeze(requirements.map((r) => Object.freeze({ ...r })));
  }

  matches(fields: Fields): boolean {
    return this.requirements.every((r) => requirementHolds(r, Object.hasOwn(fields, r.field) ? fields[r.field] : ''));
  }

  matchesObject(obj: unknown): boolean {
    return this.requirements.every((r) => requirementHolds(r, fieldValue(obj, r.field)));
  }

  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === '=')?.value;
  }

  isEverything(): boolean {
    return this.requirements.length === 0;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
  }
}

/** splitTerms: the terms between commas that are not escaped (escapes kept). */
function splitTerms(input: string): string[] {
  const terms: string[] = [];
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] === '\\') i++;
    else if (input[i] === ',') {
      terms.push(input.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(input.slice(start));
  return terms;
}

const TERM_OPERATORS = ['!=', '==', '='] as const;

/** splitTerm: field, operator and raw value at the first operator of the term. */
function splitTerm(term: string): { field: string; operator: '=' | '!='; raw: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    const op = TERM_OPERATORS.find((o) => term.startsWith(o, i));
    if (op) return { field: term.slice(0, i), operator: op === '!=' ? '!=' : '=', raw: term.slice(i + op.length) };
  }
  return undefined;
}

/** fields.ParseSelector: a field selector string; throws a SelectorError with Kubernetes' message. */
export function parseFieldSelector(input: string): FieldSelector {
  const requirements: FieldRequirement[] = [];
  const terms = input === '' ? [] : splitTerms(input).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const term of terms) {
    if (term === '') continue;
    const parts = splitTerm(term);
    if (!parts) throw new SelectorError(`invalid selector: '${input}'; can't understand '${term}'`, input);
    requirements.push({ field: parts.field, operator: parts.operator, value: unescapeFieldValue(parts.raw, input) });
  }
  return new RequirementsFieldSelector(requirements);
}

/** fields.SelectorFromSet: each field of `set` equal to its value (sorted by field, for a stable text). */
export function fieldSelectorFromSet(set: Fields): FieldSelector {
  const fields = Object.keys(set).sort();
  return new RequirementsFieldSelector(fields.map((field) => ({ field, operator: '=', value: set[field] })));
}
