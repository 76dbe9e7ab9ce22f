// Label selectors in Kubernetes' string form: "app=web,tier!=db,env in (a,b),!legacy,gpu",
// parsed once into requirements and matched against label sets.
//
// Grammar (as Kubernetes' labels.Parse):
//   selector    = requirement { "," requirement }
//   requirement = ["!"] key | key op value | key ("in" | "notin") "(" [value {"," value}] ")"
//   op          = "=" | "==" | "!=" | ">" | "<"
// Keys must be qualified names and values valid label values.
import { isQualifiedName, isValidLabelValue } from '../strategies/validation';

export type LabelOperator = 'in' | 'notin' | 'exists' | '!exists' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOperator;
  values: string[];
}

export class SelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorParseError';
  }
}

type Token = { t: 'id' | 'op' | '(' | ')' | ',' | '!' | 'end'; v: string; pos: number };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      out.push({ t: c, v: c, pos: i });
      i++;
      continue;
    }
    if (c === '!' && text[i + 1] === '=') {
      out.push({ t: 'op', v: '!=', pos: i });
      i += 2;
      continue;
    }
    if (c === '!') {
      out.push({ t: '!', v: '!', pos: i });
      i++;
      continue;
    }
    if (c === '=') {
      const v = text[i + 1] === '=' ? '==' : '=';
      out.push({ t: 'op', v, pos: i });
      i += v.length;
      continue;
    }
    if (c === '>' || c === '<') {
      out.push({ t: 'op', v: c, pos: i });
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && !' \t\n(),!=<>'.includes(text[j])) j++;
    out.push({ t: 'id', v: text.slice(i, j), pos: i });
    i = j;
  }
  out.push({ t: 'end', v: '', pos: text.length });
  return out;
}

function checkKey(key: string): void {
  const errs = isQualifiedName(key);
  if (errs.length > 0) throw new SelectorParseError(`unable to parse requirement: invalid label key "${key}": ${errs.join('; ')}`);
}

function checkValue(v: string): void {
  const errs = isValidLabelValue(v);
  if (errs.length > 0) throw new SelectorParseError(`unable to parse requirement: invalid label value: "${v}": at key: ${errs.join('; ')}`);
}

/** Parses a label selector string; an empty string selects everything. Throws SelectorParseError. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  const toks = tokenize(text);
  let i = 0;
  const peek = () => toks[i];
  const next = () => toks[i++];
  const reqs: LabelRequirement[] = [];
  if (peek().t === 'end') return reqs;
  for (;;) {
    let tok = next();
    if (tok.t === '!') {
      const key = next();
      if (key.t !== 'id') throw new SelectorParseError(`found '${key.v}', expected: identifier after '!'`);
      checkKey(key.v);
      reqs.push({ key: key.v, op: '!exists', values: [] });
    } else if (tok.t === 'id') {
      const key = tok.v;
      checkKey(key);
      tok = peek();
      if (tok.t === ',' || tok.t === 'end') {
        reqs.push({ key, op: 'exists', values: [] });
      } else if (tok.t === 'op') {
        next();
        const valTok = peek();
        let value = '';
        if (valTok.t === 'id') {
          value = valTok.v;
          next();
        } else if (valTok.t !== ',' && valTok.t !== 'end') {
          throw new SelectorParseError(`found '${valTok.v}', expected: identifier`);
        }
        if (tok.v === '>' || tok.v === '<') {
          if (!/^-?\d+$/.test(value)) throw new SelectorParseError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
          reqs.push({ key, op: tok.v === '>' ? 'gt' : 'lt', values: [value] });
        } else {
          checkValue(value);
          reqs.push({ key, op: tok.v === '!=' ? 'notin' : 'in', values: [value] });
        }
      } else if (tok.t === 'id' && (tok.v === 'in' || tok.v === 'notin')) {
        next();
        if (next().t !== '(') throw new SelectorParseError(`found '${peek().v}', expected: '('`);
        const values: string[] = [];
        for (;;) {
          const v = next();
          if (v.t === ')') break;
          if (v.t === ',') {
            values.push('');
            continue;
          }
          if (v.t !== 'id') throw new SelectorParseError(`found '${v.v}', expected: ',', ')' or identifier`);
          checkValue(v.v);
          values.push(v.v);
          const sep = next();
          if (sep.t === ')') break;
          if (sep.t !== ',') throw new SelectorParseError(`found '${sep.v}', expected: ',' or ')'`);
        }
        if (values.length === 0) throw new SelectorParseError(`unable to parse requirement: for 'in', 'notin' operators, values set can't be empty`);
        reqs.push({ key, op: tok.v === 'in' ? 'in' : 'notin', values });
      } else {
        throw new SelectorParseError(`found '${tok.v}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    } else {
      throw new SelectorParseError(`found '${tok.v}', expected: !, identifier, or 'end of string'`);
    }
    const sep = next();
    if (sep.t === 'end') break;
    if (sep.t !== ',') throw new SelectorParseError(`found '${sep.v}', expected: ',' or 'end of string'`);
  }
  return reqs;
}

/** Whether every requirement holds for the labels. */
export function matchLabels(reqs: readonly LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'in':
        if (!has || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(v)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case '!exists':
        if (has) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v)) return false;
        const a = Number(v);
        const b = Number(r.values[0]);
        if (r.op === 'gt' ? !(a > b) : !(a < b)) return false;
        break;
      }
    }
  }
  return true;
}
