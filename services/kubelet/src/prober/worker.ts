// A probe worker runs one probe (liveness, readiness or startup) of one container instance:
// after initialDelaySeconds, every periodSeconds, each attempt bounded by timeoutSeconds. The
// result flips to success after successThreshold consecutive successes and to failure after
// failureThreshold consecutive failures, as in Kubernetes. Initial results: liveness success,
// readiness failure, startup unknown (undefined). A startup worker stops once it succeeded.
import type { corev1 } from '@k8ts/api';
import { runProbe, type ProbeOutcome, type ProbeTarget } from './probes';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** Kubernetes' defaults for unset (zero) probe fields. */
export function probeTiming(probe: corev1.Probe): {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
} {
  return {
    initialDelaySeconds: Math.max(0, probe.initialDelaySeconds ?? 0),
    periodSeconds: Math.max(1, probe.periodSeconds || 10),
    timeoutSeconds: Math.max(1, probe.timeoutSeconds || 1),
    successThreshold: Math.max(1, probe.successThreshold || 1),
    failureThreshold: Math.max(1, probe.failureThreshold || 3),
  };
}

export interface ProbeWorkerOptions {
  kind: ProbeKind;
  probe: corev1.Probe;
  target: ProbeTarget;
  /** How long one "second" of the probe's settings is, in ms (1000; tests may shorten it). */
  secondMs?: number;
  /** When the container started (epoch ms): initialDelaySeconds counts from there. */
  startedAt?: number;
  /** Liveness and readiness wait for this (the startup probe's success) before probing. */
  gate?: () => boolean;
  /** Every attempt's outcome. */
  onAttempt?: (outcome: ProbeOutcome) => void;
  /** The thresholded result changed. */
  onChange: (result: boolean) => void;
}

export class ProbeWorker {
  readonly kind: ProbeKind;
  private result: boolean | undefined;
  private successes = 0;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly timing: ReturnType<typeof probeTiming>;
  private readonly unit: number;

  constructor(private readonly opts: ProbeWorkerOptions) {
    this.kind = opts.kind;
    this.timing = probeTiming(opts.probe);
    this.unit = opts.secondMs ?? 1000;
    this.result = opts.kind === 'liveness' ? true : opts.kind === 'readiness' ? false : undefined;
  }

  /** The current thresholded result (undefined: unknown). */
  get current(): boolean | undefined {
    return this.result;
  }

  start(): void {
    const since = Date.now() - (this.opts.startedAt ?? Date.now());
    const delay = Math.max(0, this.timing.initialDelaySeconds * this.unit - since);
    this.schedule(delay);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.attempt(), ms);
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const began = Date.now();
    const period = this.timing.periodSeconds * this.unit;
    if (this.opts.gate && !this.opts.gate()) {
      this.schedule(period);
      return;
    }
    let outcome: ProbeOutcome;
    try {
      outcome = await runProbe(this.opts.probe, this.opts.target, this.timing.timeoutSeconds * this.unit);
    } catch (err) {
      outcome = { ok: false, message: (err as Error).message };
    }
    if (this.stopped) return;
    this.opts.onAttempt?.(outcome);
    if (outcome.ok) {
      this.successes++;
      this.failures = 0;
      if (this.result !== true && this.successes >= this.timing.successThreshold) this.set(true);
    } else {
      this.failures++;
      this.successes = 0;
      if (this.result !== false && this.failures >= this.timing.failureThreshold) this.set(false);
    }
    if (this.kind === 'startup' && this.result === true) {
      this.stop();
      return;
    }
    this.schedule(Math.max(0, period - (Date.now() - began)));
  }

  private set(result: boolean): void {
    this.result = result;
    this.opts.onChange(result);
  }
}
