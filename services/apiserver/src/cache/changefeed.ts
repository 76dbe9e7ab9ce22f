// The change feed: the ordered stream of committed changes under the apiserver's prefix that
// feeds the watch caches. Two implementations:
//   - NatsChangeFeed (./natsfeed.ts): an ordered JetStream consumer on the store's stream,
//     the architecture's path (the store's log is the event stream; every apiserver replica
//     consumes it and can resume from any retained revision);
//   - EtcdChangeFeed (below): an etcd v3 Watch with progress notifications, so that a real
//     etcd can stand in for the store.
import type { EtcdClient, WatchHandle } from '../storage/etcd';
import { prefixEnd } from '../storage/kv';

/** One change to one key. */
export interface ChangeEvent {
  type: 'PUT' | 'DELETE';
  key: string;
  /** The new value (PUT). */
  value?: Buffer;
  /** The revision of the change: the key's new mod_revision. */
  revision: number;
}

/**
 * A batch of changes, all events of one or more whole revisions in order; or, with no
 * events, a progress marker: every change up to `revision` has been delivered.
 */
export interface ChangeBatch {
  revision: number;
  events: ChangeEvent[];
}

export interface ChangeFeedHandlers {
  onBatch(batch: ChangeBatch): void;
  /**
   * The feed stopped. `compacted` means the resume point is no longer retained: the caller
   * must list again and restart from the new revision; otherwise it may restart from the last
   * revision it saw.
   */
  onError(err: Error, compacted: boolean): void;
}

export interface ChangeFeed {
  /** A short name for logs and metrics: 'nats' or 'etcd'. */
  readonly name: string;
  /** Delivers every change after `afterRevision` (exclusive), in order. */
  start(afterRevision: number, handlers: ChangeFeedHandlers): void;
  /** Asks for a progress marker at the store's current revision, soon. */
  requestProgress(): void;
  stop(): Promise<void>;
}

/** The change feed over an etcd v3 Watch on the prefix, with progress notifications. */
export class EtcdChangeFeed implements ChangeFeed {
  readonly name = 'etcd';
  private handle?: WatchHandle;

  constructor(
    private readonly client: EtcdClient,
    private readonly prefix: string,
  ) {}

  start(afterRevision: number, handlers: ChangeFeedHandlers): void {
    this.handle?.cancel();
    this.handle = this.client.watch(
      this.prefix,
      prefixEnd(this.prefix),
      afterRevision + 1,
      (b) => {
        // With events, trust only their own revisions (etcd may split a catch-up into several
        // responses whose header revision is already the store's current one).
        const last = b.events[b.events.length - 1];
        handlers.onBatch({
          revision: last ? last.kv.modRevision : b.revision,
          events: b.events.map((e) => ({
            type: e.type,
            key: e.kv.key,
            value: e.type === 'PUT' ? e.kv.value : undefined,
            revision: e.kv.modRevision,
          })),
        });
      },
      (err) => handlers.onError(err, err.compacted),
    );
  }

  requestProgress(): void {
    this.handle?.requestProgress();
  }

  async stop(): Promise<void> {
    this.handle?.cancel();
    this.handle = undefined;
  }
}
