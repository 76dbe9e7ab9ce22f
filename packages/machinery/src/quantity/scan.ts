// The scanner of a quantity's text, as Kubernetes' parseQuantityString reads it: an optional
// sign, leading zeros dropped, integer digits, an optional "." and fraction digits, then a
// suffix made of the letters eEinumkKMGTP, an optional sign and digits. What the suffix means
// is decided later (suffix.ts). Kubernetes' scanner is lenient in ways this one keeps: "." ,
// "+", "-" and a bare suffix such as "m" all read as zero; "1." and "1.G" are numbers.
import { QuantityError } from './errors';

/** The parts of a quantity's text. */
export interface ScannedQuantity {
  /** False when the text starts with "-". */
  readonly positive: boolean;
  /** The number as written, sign and leading zeros included ("-007.50"). */
  readonly value: string;
  /** The integer digits without leading zeros; "0" when none remain. */
  readonly num: string;
  /** The fraction digits as written (may be empty). */
  readonly denom: string;
  /** Everything after the number ("Mi", "m", "e-3", ""). */
  readonly suffix: string;
}

const SUFFIX_LETTERS = 'eEinumkKMGTP';

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

/** The index of the first character at or after `from` that is not a digit. */
function skipDigits(text: string, from: number): number {
  let i = from;
  while (isDigit(text[i])) i++;
  return i;
}

/** Splits a quantity's text into sign, number and suffix; throws QuantityError(FormatWrong). */
export function scanQuantity(text: string): ScannedQuantity {
  const end = text.length;
  let pos = 0;
  let positive = true;
  if (text[0] === '-') {
    positive = false;
    pos++;
  } else if (text[0] === '+') {
    pos++;
  }
  while (text[pos] === '0') pos++;
  // Nothing but zeros (or nothing) after the sign: zero, whatever the sign.
  if (pos >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' };

  const numStart = pos;
  pos = skipDigits(text, pos);
  if (pos >= end) return { positive, value: text, num: text.slice(numStart), denom: '', suffix: '' };
  const num = text.slice(numStart, pos) || '0';

  let denom = '';
  if (text[pos] === '.') {
    const denomStart = pos + 1;
    pos = skipDigits(text, denomStart);
    denom = text.slice(denomStart, pos);
    if (pos >= end) return { positive, value: text, num, denom, suffix: '' };
  }

  const value = text.slice(0, pos);
  const suffixStart = pos;
  while (pos < end && SUFFIX_LETTERS.includes(text[pos])) pos++;
  if (text[pos] === '-' || text[pos] === '+') pos++;
  pos = skipDigits(text, pos);
  if (pos < end) throw new QuantityError('FormatWrong', text);
  return { positive, value, num, denom, suffix: text.slice(suffixStart) };
}
