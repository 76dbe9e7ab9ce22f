// Durations and timestamps the way Kubernetes prints them: apimachinery's duration.HumanDuration
// (precise for short spans, coarser for long ones: 59s, 119s, 2m, 9m59s, 179m, 3h, 7h59m, 47h,
// 2d, 7d23h, 729d, 2y, 7y364d, 8y), ShortHumanDuration (one unit), and the printers' rule for
// ages: an unset timestamp (Go's zero time) is "<unknown>", otherwise the time since it.

/** Go's zero time.Time, 0001-01-01T00:00:00Z, in epoch milliseconds. */
const GO_ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * The sign check of HumanDuration: up to a second into the future counts as now (clocks
 * differ a little between machines), more than that is "<invalid>". Go truncates toward zero.
 */
function skewed(ms: number): string | undefined {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  return undefined;
}

/** `value` followed by `rest` unless rest is 0: "2m" / "2m5s". */
function twoUnits(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major}${majorUnit}` : `${major}${majorUnit}${minor}${minorUnit}`;
}

/** Kubernetes' duration.HumanDuration of a span in milliseconds. */
export function humanDuration(ms: number): string {
  const skew = skewed(ms);
  if (skew !== undefined) return skew;
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(ms / MINUTE);
  if (minutes < 10) return twoUnits(minutes, 'm', seconds % 60, 's');
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(ms / HOUR);
  if (hours < 8) return twoUnits(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return twoUnits(Math.floor(hours / 24), 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return twoUnits(Math.floor(days / 365), 'y', days % 365, 'd');
  return `${Math.floor(days / 365)}y`;
}

/** Kubernetes' duration.ShortHumanDuration: one unit (45s, 3m, 5h, 2d, 1y). */
export function shortHumanDuration(ms: number): string {
  const skew = skewed(ms);
  if (skew !== undefined) return skew;
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(ms / MINUTE);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(ms / HOUR);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.floor(hours / 24)}d`;
  return `${Math.floor(hours / 24 / 365)}y`;
}

/**
 * A timestamp of the Kubernetes JSON form (RFC 3339) in epoch milliseconds, or undefined when
 * it is absent, not a timestamp, or Go's zero time (what an unset metav1.Time is).
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || ms <= GO_ZERO_TIME_MS) return undefined;
  return ms;
}

/** The printers' translateTimestampSince: the human duration since a timestamp, or "<unknown>". */
export function timestampAge(value: unknown, now: number): string {
  const ms = parseTimestamp(value);
  return ms === undefined ? '<unknown>' : humanDuration(now - ms);
}

/**
 * A timestamp as metav1.Time writes it and the default table convertor prints it
 * (`Time.UTC().Format(time.RFC3339)`): whole seconds in UTC, "2026-01-10T12:00:00Z"; an unset
 * one is Go's zero time, "0001-01-01T00:00:00Z".
 */
export function formatTimestampUTC(value: unknown): string {
  const ms = parseTimestamp(value) ?? GO_ZERO_TIME_MS;
  const wholeSeconds = Math.floor(ms / SECOND) * SECOND;
  return `${new Date(wholeSeconds).toISOString().slice(0, 19)}Z`;
}
