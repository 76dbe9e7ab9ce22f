// Durations and timestamps: expected values follow apimachinery's duration.HumanDuration and
// ShortHumanDuration, and metav1.Time's RFC 3339 form.
import { formatTimestampUTC, humanDuration, parseTimestamp, shortHumanDuration, timestampAge } from '@k8ts/machinery';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('humanDuration (duration.HumanDuration)', () => {
  test.each([
    [0, '0s'],
    [59 * S, '59s'],
    [119 * S + 999, '119s'],
    [120 * S, '2m'],
    [125 * S, '2m5s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M + 30 * S, '10m'],
    [179 * M, '179m'],
    [3 * H, '3h'],
    [3 * H + 7 * M, '3h7m'],
    [7 * H + 59 * M, '7h59m'],
    [8 * H + 30 * M, '8h'],
    [47 * H, '47h'],
    [48 * H, '2d'],
    [2 * D + 5 * H, '2d5h'],
    [7 * D + 23 * H, '7d23h'],
    [8 * D, '8d'],
    [729 * D, '729d'],
    [730 * D, '2y'],
    [(3 * 365 + 12) * D, '3y12d'],
    [(7 * 365 + 364) * D, '7y364d'],
    [8 * 365 * D, '8y'],
    [20 * 365 * D, '20y'],
  ])('%d ms is %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  test('up to a second of clock skew reads as now; more is invalid', () => {
    expect(humanDuration(-999)).toBe('0s');
    expect(humanDuration(-1999)).toBe('0s');
    expect(humanDuration(-2000)).toBe('<invalid>');
  });
});

describe('shortHumanDuration (duration.ShortHumanDuration)', () => {
  test.each([
    [59 * S, '59s'],
    [60 * S, '1m'],
    [119 * M, '1h'],
    [59 * M + 59 * S, '59m'],
    [23 * H + 59 * M, '23h'],
    [364 * D, '364d'],
    [400 * D, '1y'],
  ])('%d ms is %s', (ms, text) => {
    expect(shortHumanDuration(ms)).toBe(text);
  });
});

describe('timestamps', () => {
  const now = Date.parse('2026-01-10T12:00:00Z');
  test('the age of a timestamp, and <unknown> when it is unset or Go zero time', () => {
    expect(timestampAge('2026-01-10T11:59:15Z', now)).toBe('45s');
    expect(timestampAge('2026-01-10T11:00:00Z', now)).toBe('60m');
    expect(timestampAge(undefined, now)).toBe('<unknown>');
    expect(timestampAge('', now)).toBe('<unknown>');
    expect(timestampAge('0001-01-01T00:00:00Z', now)).toBe('<unknown>');
    expect(timestampAge('yesterday', now)).toBe('<unknown>');
    expect(parseTimestamp(42)).toBeUndefined();
  });
  test('metav1.Time in UTC with whole seconds; an unset one is the zero time', () => {
    expect(formatTimestampUTC('2026-01-10T13:04:05.678+01:00')).toBe('2026-01-10T12:04:05Z');
    expect(formatTimestampUTC('2026-01-10T12:00:00Z')).toBe('2026-01-10T12:00:00Z');
    expect(formatTimestampUTC(undefined)).toBe('0001-01-01T00:00:00Z');
  });
});
