// The string form of label selectors, parsed as Kubernetes' labels.Parse does, with its
// error messages (kubectl -l and ?labelSelector= take this form):
//   selector    = requirement { "," requirement }          ("" selects everything)
//   requirement = "!" key | key [ set-op "(" values ")" | exact-op value ]
//   set-op      = "in" | "notin"        exact-op = "=" | "==" | "!=" | ">" | "<"
// A bare key requires the label to exist; "!key" requires it to be absent. Blanks (space, tab,
// CR, LF) separate tokens. A value may be empty ("a=", "a in (x,)"); "in ()" means the one
// value "". "in" and "notin" are keywords only where an operator is expected ("in in (in)" is
// the key "in" with the value "in"). Set values are deduplicated and sorted, and the
// requirements sorted by key, so that equal selectors print alike.
// Messages: "unable to parse requirement: <why>" for a bad requirement, "found 'x', expected:
// ..." for a misplaced token ('' standing for the end of the input).
import { SelectorError } from './errors';
import { byKey, everything, selectorFromCheckedRequirements } from './labels';
import type { LabelSelector } from './labels';
import type { LabelRequirement, SelectorOperator } from './requirement';
import { labelKeyProblems, newRequirement } from './requirement';

type TokenKind = 'end' | 'identifier' | 'in' | 'notin' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
}

/** The tokens made of special characters; "!=" and "==" are read before "!" and "=". */
const SYMBOLS: ReadonlySet<string> = new Set(['(', ')', ',', '!', '=', '==', '!=', '>', '<']);
const SPECIAL_CHARS = '=!(),<>';
const BLANKS = ' \t\r\n';

/** Lexer.Lex over the whole input, ending with an 'end' token. */
function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  for (;;) {
    while (i < input.length && BLANKS.includes(input[i])) i++;
    if (i >= input.length) break;
    const start = i;
    if (SPECIAL_CHARS.includes(input[i])) {
      // The longest run of special characters that is still a token.
      while (i < input.length && SPECIAL_CHARS.includes(input[i]) && SYMBOLS.has(input.slice(start, i + 1))) i++;
      const text = input.slice(start, i);
      tokens.push({ kind: text as TokenKind, text });
    } else {
      while (i < input.length && !SPECIAL_CHARS.includes(input[i]) && !BLANKS.includes(input[i])) i++;
      const text = input.slice(start, i);
      tokens.push({ kind: text === 'in' || text === 'notin' ? text : 'identifier', text });
    }
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

const EXACT_OPERATORS: Partial<Record<TokenKind, SelectorOperator>> = { '=': '=', '==': '==', '!=': '!=', '>': 'gt', '<': 'lt' };
const SET_OPERATORS: Partial<Record<TokenKind, SelectorOperator>> = { in: 'in', notin: 'notin' };

/** A parse error with Kubernetes' text; requirement errors get their prefix where they are caught. */
class ParseProblem extends Error {}

class Parser {
  private position = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  /** The next token; where values are expected, "in" and "notin" are identifiers. */
  private lookahead(values = true): Token {
    const t = this.tokens[this.position];
    return values && (t.kind === 'in' || t.kind === 'notin') ? { kind: 'identifier', text: t.text } : t;
  }

  private consume(values = true): Token {
    const t = this.lookahead(values);
    this.position++;
    return t;
  }

  /** Parser.parse: every requirement, in input order. */
  requirements(): LabelRequirement[] {
    const out: LabelRequirement[] = [];
    for (;;) {
      const t = this.lookahead();
      if (t.kind === 'end') return out;
      if (t.kind !== 'identifier' && t.kind !== '!') throw new ParseProblem(`found '${t.text}', expected: !, identifier, or 'end of string'`);
      out.push(this.requirementOrExplain());
      const next = this.consume();
      if (next.kind === 'end') return out;
      if (next.kind !== ',') throw new ParseProblem(`found '${next.text}', expected: ',' or 'end of string'`);
      const after = this.lookahead();
      if (after.kind !== 'identifier' && after.kind !== '!') throw new ParseProblem(`found '${after.text}', expected: identifier after ','`);
    }
  }

  private requirementOrExplain(): LabelRequirement {
    try {
      return this.requirement();
    } catch (err) {
      if (!(err instanceof ParseProblem || err instanceof SelectorError)) throw err;
      throw new ParseProblem(`unable to parse requirement: ${err.message}`);
    }
  }

  private requirement(): LabelRequirement {
    const absent = this.lookahead().kind === '!';
    if (absent) this.consume();
    const key = this.consume();
    if (key.kind !== 'identifier') throw new ParseProblem(`found '${key.text}', expected: identifier`);
    // labels.Parse checks the key with no field path: Kubernetes prints it as "<nil>".
    const keyProblems = labelKeyProblems(key.text, '<nil>');
    if (keyProblems.length > 0) throw new ParseProblem(keyProblems[0]);
    if (absent) return newRequirement(key.text, '!', []);
    const next = this.lookahead().kind;
    if (next === 'end' || next === ',') return newRequirement(key.text, 'exists', []);
    const op = this.consume(false);
    const setOperator = SET_OPERATORS[op.kind];
    if (setOperator) return newRequirement(key.text, setOperator, this.setValues());
    const exactOperator = EXACT_OPERATORS[op.kind];
    if (exactOperator) return newRequirement(key.text, exactOperator, [this.exactValue()]);
    throw new ParseProblem(`found '${op.text}', expected: in, notin, =, ==, !=, gt, lt`);
  }

  /** parseValues: "(a,b)" as a sorted set; "()" is the empty value. */
  private setValues(): string[] {
    const open = this.consume();
    if (open.kind !== '(') throw new ParseProblem(`found '${open.text}' expected: '('`);
    const first = this.lookahead();
    if (first.kind === ')') {
      this.consume();
      return [''];
    }
    if (first.kind !== 'identifier' && first.kind !== ',') throw new ParseProblem(`found '${first.text}', expected: ',', ')' or identifier`);
    const values = this.valueList();
    // Kubernetes names the token that opened the list here, not the one found.
    if (this.consume().kind !== ')') throw new ParseProblem(`found '${first.text}', expected: ')'`);
    return [...values].sort();
  }

  /** parseIdentifiersList: values separated by commas, any of them empty; stops before ')'. */
  private valueList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const t = this.consume();
      if (t.kind === 'identifier') {
        values.add(t.text);
        const next = this.lookahead();
        if (next.kind === ')') return values;
        if (next.kind !== ',') throw new ParseProblem(`found '${next.text}', expected: ',' or ')'`);
      } else if (t.kind === ',') {
        // A comma first, last or twice in a row stands for an empty value.
        if (values.size === 0) values.add('');
        const next = this.lookahead().kind;
        if (next === ')' || next === ',') values.add('');
        if (next === ')') return values;
      } else {
        throw new ParseProblem(`found '${t.text}', expected: ',', or identifier`);
      }
    }
  }

  /** parseExactValue: one value, empty when the requirement ends here. */
  private exactValue(): string {
    const next = this.lookahead();
    if (next.kind === 'end' || next.kind === ',') return '';
    const t = this.consume();
    if (t.kind !== 'identifier') throw new ParseProblem(`found '${t.text}', expected: identifier`);
    return t.text;
  }
}

/** labels.ParseToRequirements: the requirements of a selector string, sorted by key. */
export function parseToRequirements(input: string): LabelRequirement[] {
  try {
    return new Parser(tokenize(input)).requirements().sort(byKey);
  } catch (err) {
    if (err instanceof ParseProblem) throw new SelectorError(err.message, input);
    throw err;
  }
}

/** labels.Parse: a selector string as a LabelSelector ("" and blanks select everything). */
export function parseLabelSelector(input: string): LabelSelector {
  return selectorFromCheckedRequirements(parseToRequirements(input));
}

/** A selector given as a string or already made; undefined and "" select everything. */
export function toLabelSelector(selector: string | LabelSelector | undefined): LabelSelector {
  if (selector === undefined || selector === '') return everything();
  return typeof selector === 'string' ? parseLabelSelector(selector) : selector;
}
