// The apiserver's own metrics, next to the kit's per-method counts and latencies: watch cache
// sizes and revision, watchers and events sent per resource, feed restarts and relists.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheHub } from './cache/hub';

export function registerMetrics(registry: Registry, hub: CacheHub): void {
  new Gauge({
    name: 'apiserver_watch_cache_objects',
    help: 'Objects held by the watch cache, per resource.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      for (const [r, c] of hub.caches) this.set({ resource: r }, c.size);
    },
  });
  new Gauge({
    name: 'apiserver_watch_cache_events',
    help: 'Events kept in the watch cache history window, per resource.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      for (const [r, c] of hub.caches) this.set({ resource: r }, c.historySize);
    },
  });
  new Gauge({
    name: 'apiserver_watchers',
    help: 'Open watches, per resource.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      for (const [r, c] of hub.caches) this.set({ resource: r }, c.watcherCount);
    },
  });
  new Counter({
    name: 'apiserver_watch_events_sent_total',
    help: 'Watch events sent to clients, per resource.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [r, c] of hub.caches) this.inc({ resource: r }, c.sent);
    },
  });
  new Gauge({
    name: 'apiserver_watch_cache_revision',
    help: 'The store revision the watch caches have applied every change up to.',
    registers: [registry],
    collect() {
      this.set(hub.revision);
    },
  });
  new Counter({
    name: 'apiserver_change_feed_restarts_total',
    help: 'Times the change feed had to be restarted (relists included).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(hub.restarts);
    },
  });
  new Counter({
    name: 'apiserver_watch_cache_relists_total',
    help: 'Times the watch caches were filled again from a full list (the feed lost its place).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(hub.relists);
    },
  });
}
