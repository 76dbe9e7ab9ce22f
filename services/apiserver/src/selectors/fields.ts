// Field selectors in Kubernetes' string form: "metadata.name=x,spec.nodeName=node-1,
// status.phase!=Running". Terms are ANDed; '=' and '==' test equality, '!=' inequality.
// A backslash escapes ',', '=', '!' and '\' inside values. Which fields exist depends on the
// kind (metadata.name and metadata.namespace always; see each strategy's fields()).
import { SelectorParseError } from './labels';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

function splitUnescaped(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unescapeValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\') {
      const n = v[i + 1];
      if (n === undefined || !',=!\\'.includes(n)) throw new SelectorParseError(`invalid field selector value ${JSON.stringify(v)}: invalid escape sequence`);
      out += n;
      i++;
    } else out += v[i];
  }
  return out;
}

/** Parses a field selector; an empty string selects everything. Throws SelectorParseError. */
export function parseFieldSelector(text: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (text.trim() === '') return out;
  for (const term of splitUnescaped(text, ',')) {
    // Find the first unescaped operator.
    let idx = -1;
    let op: '=' | '!=' = '=';
    let len = 1;
    for (let i = 0; i < term.length; i++) {
      if (term[i] === '\\') {
        i++;
        continue;
      }
      if (term[i] === '!' && term[i + 1] === '=') {
        idx = i;
        op = '!=';
        len = 2;
        break;
      }
      if (term[i] === '=') {
        idx = i;
        op = '=';
        len = term[i + 1] === '=' ? 2 : 1;
        break;
      }
    }
    if (idx <= 0) throw new SelectorParseError(`invalid selector: '${text}'; can't understand '${term}'`);
    out.push({ field: term.slice(0, idx).trim(), op, value: unescapeValue(term.slice(idx + len).trim()) });
  }
  return out;
}

/** Whether every requirement holds for the object's field values. */
export function matchFields(reqs: readonly FieldRequirement[], fields: Record<string, string>): boolean {
  for (const r of reqs) {
    const v = fields[r.field] ?? '';
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
