// Timestamps as the API carries them: RFC 3339 strings. Kubernetes' metav1.Time has second
// precision; so do the timestamps controllers write here, in the same form the apiserver's
// decoder produces ("2030-01-01T00:00:00.000Z"), so that a status compares equal after a
// round trip.
import type { Clock } from '@k8ts/client';

/** An RFC 3339 timestamp of `ms`, truncated to whole seconds. */
export function timestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

/** The current time of a clock as a timestamp. */
export function now(clock: Clock): string {
  return timestamp(clock.now());
}

/** Milliseconds since the epoch of a timestamp; undefined when absent or malformed. */
export function parseTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
