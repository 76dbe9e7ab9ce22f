// @k8ts/store: the k8ts store, an etcd v3 protocol server whose replicated log is a NATS
// JetStream stream. start(config) runs it in-process (tests) exactly as main.ts does.
import { createLogger, serverOptionsFromConfig, startServer } from '@k8ts/kit';
import type { KitServer } from '@k8ts/kit';
import type { Logger } from 'pino';
import type { Backend } from './backend';
import { resolveConfig, StoreConfig } from './config';
import { etcdServices } from './frontend/services';
import { WatchStreams } from './frontend/watch';
import { KeepAliveStreams } from './frontend/leaseKeepAlive';
import { JetStreamBackend } from './jetstream';
import { createStoreMetrics } from './metrics';
import { Store } from './store';

export { storeFlags, resolveConfig } from './config';
export type { StoreConfig } from './config';
export { Store } from './store';
export type { Backend } from './backend';
export { MemoryBackend, MemoryLog } from './memory';
export { keySubject, subjectKey } from '@k8ts/machinery';
export { prefixEnd } from './keys';

export interface StoreServer {
  readonly address: string;
  readonly port: number;
  readonly store: Store;
  readonly server: KitServer;
  shutdown(): Promise<void>;
}

/**
 * Starts the store: connects to NATS (creating the stream and the metadata bucket if
 * needed), starts the gRPC server (NOT_SERVING while the index is rebuilt from the stream),
 * rebuilds the index, then reports ready.
 */
export async function start(config: StoreConfig, opts: { logger?: Logger; backend?: Backend } = {}): Promise<StoreServer> {
  const c = resolveConfig(config);
  const logger = opts.logger ?? createLogger('store', c.logLevel);
  const backend =
    opts.backend ??
    (await JetStreamBackend.open({
      urls: c.natsUrl,
      stream: c.stream,
      subjectPrefix: c.subjectPrefix,
      replicas: c.replicas,
      timeoutMs: c.jetstreamTimeout,
      name: `k8ts-store ${c.name}`,
      logger,
    }));
  const metrics = createStoreMetrics();
  const store = new Store({
    backend,
    subjectPrefix: c.subjectPrefix,
    name: c.name,
    logger,
    metrics,
    compactionWindowMs: c.compactionWindow,
    guardWindow: c.guardWindow,
    applyTimeoutMs: Math.max(30_000, c.jetstreamTimeout * 2),
  });
  const watches = new WatchStreams(store, { progressNotifyMs: c.watchProgressNotifyInterval });
  const keepAlives = new KeepAliveStreams();
  let server: KitServer | undefined;
  const clientUrls = () => (c.advertiseClientUrl ? [c.advertiseClientUrl] : server ? [`${c.tlsCert ? 'https' : 'http'}://${server.address}`] : []);
  try {
    server = await startServer({
      component: 'store',
      ...serverOptionsFromConfig(c as unknown as Record<string, unknown>),
      services: etcdServices(store, watches, keepAlives, { maxTxnOps: c.maxTxnOps, maxRequestBytes: c.maxRequestBytes, clientUrls }),
      logger,
      config: c as unknown as Record<string, unknown>,
      onShutdown: () => {
        watches.closeAll();
        keepAlives.closeAll();
      },
    });
    for (const m of Object.values(metrics)) server.registry.registerMetric(m);
    await store.start();
  } catch (err) {
    await server?.shutdown();
    await store.close();
    await backend.close();
    throw err;
  }
  const srv = server;
  logger.info(
    { address: srv.address, stream: c.stream, subjectPrefix: c.subjectPrefix, replicas: c.replicas, revision: store.index.rev, name: c.name, memberId: store.memberId },
    'store started',
  );
  srv.setReady(true);
  let stopping: Promise<void> | undefined;
  return {
    address: srv.address,
    port: srv.port,
    store,
    server: srv,
    shutdown() {
      stopping ??= (async () => {
        await srv.shutdown();
        await store.close();
        await backend.close();
      })();
      return stopping;
    },
  };
}
