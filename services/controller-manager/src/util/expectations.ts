// Expectations: what a controller has asked the apiserver to do and not yet seen in its
// informer's cache. Until the creations and deletions it made are observed (or the record
// expires), the controller does not act on the key again: a slow watch therefore never
// makes it create or delete twice. Deletions are tracked by pod key, so that a pod's
// deletion is counted once even though the informer reports it twice (deletionTimestamp
// set, then gone). Kubernetes' UIDTrackingControllerExpectations.
import type { Clock } from '@k8ts/client';

/** Kubernetes' ExpectationsTimeout: a record older than this no longer blocks. */
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Record {
  add: number;
  del: number;
  at: number;
  /** Keys of objects whose deletion is expected. */
  deleting: Set<string>;
}

export class ControllerExpectations {
  private readonly records = new Map<string, Record>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = EXPECTATIONS_TTL_MS,
  ) {}

  /**
   * True when the controller may act on the key: nothing is expected, everything expected
   * was observed, or the record expired.
   */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del <= 0) return true;
    return this.clock.now() - r.at > this.ttlMs;
  }

  /** Expects `count` creations for the key (replacing an older record). */
  expectCreations(key: string, count: number): void {
    this.records.set(key, { add: count, del: 0, at: this.clock.now(), deleting: new Set() });
  }

  /** Expects the deletion of each object key (replacing an older record). */
  expectDeletions(key: string, objectKeys: string[]): void {
    this.records.set(key, { add: 0, del: objectKeys.length, at: this.clock.now(), deleting: new Set(objectKeys) });
  }

  /** One expected creation was observed (or will never happen: the create failed). */
  creationObserved(key: string): void {
    const r = this.records.get(key);
    if (r) r.add--;
  }

  /** The deletion of `objectKey` was observed; counted once per object. */
  deletionObserved(key: string, objectKey: string): void {
    const r = this.records.get(key);
    if (!r?.deleting.delete(objectKey)) return;
    r.del--;
  }

  /** Forgets the key (its object was deleted). */
  delete(key: string): void {
    this.records.delete(key);
  }

  /** What is still expected, for logs and tests. */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.records.get(key);
    return r && { add: r.add, del: r.del };
  }
}
