// The errors of parsing a quantity, with Kubernetes' messages (resource.ErrFormatWrong,
// ErrNumeric, ErrSuffix), plus the one limit k8ts adds: it keeps values exact as integers of
// nano-units, so it refuses the absurd quantities (more than MAX_QUANTITY_DIGITS digits, or a
// magnitude past 10^MAX_QUANTITY_DIGITS) that Kubernetes would accept but could never use
// (Value() overflows int64 beyond 9.2e18).

/** The pattern Kubernetes names in ErrFormatWrong (it splits number from suffix; its own scanner is stricter). */
export const QUANTITY_SPLIT_PATTERN = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';

/** The most digits, and the largest decimal magnitude, a k8ts quantity holds. */
export const MAX_QUANTITY_DIGITS = 1000;

/**
 * Why a text is not a quantity: FormatWrong (not number-then-suffix), Numeric (no digits
 * where the number should be), Suffix (an unknown suffix or exponent), OutOfRange (k8ts' limit).
 */
export type QuantityErrorReason = 'FormatWrong' | 'Numeric' | 'Suffix' | 'OutOfRange';

const MESSAGES: Record<QuantityErrorReason, string> = {
  FormatWrong: `quantities must match the regular expression '${QUANTITY_SPLIT_PATTERN}'`,
  Numeric: 'unable to parse numeric part of quantity',
  Suffix: "unable to parse quantity's suffix",
  OutOfRange: `quantities may have at most ${MAX_QUANTITY_DIGITS} digits and a magnitude below 10^${MAX_QUANTITY_DIGITS}`,
};

/** A text that is not a Kubernetes quantity; the message is Kubernetes', prefixed by the field path when known. */
export class QuantityError extends Error {
  override name = 'QuantityError';

  constructor(
    readonly reason: QuantityErrorReason,
    /** The text that failed to parse. */
    readonly text: string,
    /** The field path of the quantity ("spec.containers[0].resources.requests[cpu]"), when known. */
    readonly path?: string,
  ) {
    super(path ? `${path}: ${MESSAGES[reason]}` : MESSAGES[reason]);
  }

  /** Kubernetes' message alone, without the path. */
  get detail(): string {
    return MESSAGES[this.reason];
  }

  /** The same error, located at `path`. */
  at(path: string): QuantityError {
    return new QuantityError(this.reason, this.text, path);
  }
}
