// The StatusSink over the API, like Kubernetes' status manager: the pod workers hand it every
// changed status and go on; it keeps the latest status per pod and writes it with
// UpdatePodStatus (the uid in metadata is the precondition: a pod re-created under the same
// name is never written with the old one's status), a bounded number of writes in flight.
// A status that arrives while the previous one of the same pod is still waiting replaces it,
// so a busy apiserver sees fewer, newer writes. A conflict (the uid no longer matches) is
// checked with a fresh Get; a pod that is gone is forgotten; other failures are retried with
// back-off, keeping the newest status.
import type { corev1 } from '@k8ts/api';
import { type PodClient, isConflict, isInvalid, isNotFound, toApiError } from '@k8ts/client';
import pino, { type Logger } from 'pino';
import type { PodRef, StatusSink } from '../pod/sinks';

export interface PodStatusWriterOptions {
  /** Writes in flight at once; default 32. */
  concurrency?: number;
  /** First retry delay after a failure; default 200 ms, doubling to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  logger?: Logger;
}

interface Item {
  ref: PodRef;
  status: corev1.PodStatus;
  failures: number;
  notBefore: number;
}

export class PodStatusWriter implements StatusSink {
  private readonly pending = new Map<string, Item>();
  private readonly inflight = new Set<string>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly log: Logger;
  private readonly concurrency: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  /** Writes done, for metrics and tests. */
  written = 0;
  failed = 0;

  constructor(
    private readonly pods: Pick<PodClient, 'updateStatus' | 'get'>,
    opts: PodStatusWriterOptions = {},
  ) {
    this.concurrency = opts.concurrency ?? 32;
    this.retryMs = opts.retryMs ?? 200;
    this.maxRetryMs = opts.maxRetryMs ?? 10_000;
    this.log = opts.logger ?? pino({ level: 'silent' });
  }

  updatePodStatus(ref: PodRef, status: corev1.PodStatus): void {
    if (this.closed || !ref.uid) return;
    const old = this.pending.get(ref.uid);
    this.pending.set(ref.uid, { ref, status, failures: old?.failures ?? 0, notBefore: old?.notBefore ?? 0 });
    this.pump();
  }

  /** Statuses waiting or being written. */
  get backlog(): number {
    return this.pending.size + this.inflight.size;
  }

  /** Drops what is waiting for a pod (it is gone from the API). */
  forget(uid: string): void {
    this.pending.delete(uid);
    this.wake(uid);
  }

  /** Resolves once nothing of this pod waits or is in flight (or after timeoutMs). */
  settled(uid: string, timeoutMs = 5000): Promise<void> {
    if (!this.pending.has(uid) && !this.inflight.has(uid)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      const list = this.waiters.get(uid) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.waiters.set(uid, list);
    });
  }

  /** Writes what waits (up to timeoutMs), then stops accepting. */
  async close(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.backlog > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.closed = true;
    clearTimeout(this.timer);
    this.pending.clear();
  }

  private wake(uid: string): void {
    if (this.pending.has(uid) || this.inflight.has(uid)) return;
    const list = this.waiters.get(uid);
    if (!list) return;
    this.waiters.delete(uid);
    for (const w of list) w();
  }

  private pump(): void {
    if (this.closed) return;
    const now = Date.now();
    let nextAt = Number.POSITIVE_INFINITY;
    for (const [uid, item] of this.pending) {
      if (this.inflight.size >= this.concurrency) return;
      if (this.inflight.has(uid)) continue;
      if (item.notBefore > now) {
        nextAt = Math.min(nextAt, item.notBefore);
        continue;
      }
      this.pending.delete(uid);
      this.inflight.add(uid);
      void this.write(item).finally(() => {
        this.inflight.delete(uid);
        this.wake(uid);
        this.pump();
      });
    }
    if (nextAt !== Number.POSITIVE_INFINITY) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.pump(), Math.max(1, nextAt - now));
      this.timer.unref?.();
    }
  }

  private async write(item: Item): Promise<void> {
    const { ref } = item;
    const pod: corev1.Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ref.namespace, name: ref.name, uid: ref.uid }, status: item.status };
    try {
      await this.pods.updateStatus(pod);
      this.written++;
      return;
    } catch (err) {
      this.failed++;
      if (isNotFound(err)) return; // deleted: nothing to report to
      if (isInvalid(err)) {
        this.log.error({ pod: `${ref.namespace}/${ref.name}`, err: toApiError(err).message }, 'the apiserver refused a pod status');
        return;
      }
      if (isConflict(err)) {
        // The uid precondition failed: is it still our pod?
        try {
          const fresh = await this.pods.get(ref.name, { namespace: ref.namespace });
          if (fresh.metadata?.uid !== ref.uid) return;
        } catch (e) {
          if (isNotFound(e)) return;
        }
      } else {
        this.log.warn({ pod: `${ref.namespace}/${ref.name}`, err: toApiError(err).message, failures: item.failures + 1 }, 'pod status update failed; will retry');
      }
      this.retry(item);
    }
  }

  /** Puts a failed status back, unless a newer one is waiting. */
  private retry(item: Item): void {
    if (this.closed || this.pending.has(item.ref.uid)) return;
    const failures = item.failures + 1;
    this.pending.set(item.ref.uid, { ...item, failures, notBefore: Date.now() + Math.min(this.maxRetryMs, this.retryMs * 2 ** Math.min(10, failures - 1)) });
  }
}
