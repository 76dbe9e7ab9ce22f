// @k8ts/proxy: the node component that makes Service virtual IPs and node ports reach ready
// endpoints (kube-proxy's counterpart). start(config) watches Services and Endpoints,
// keeps the engine's listeners and endpoints in line with them, and serves the admin API
// (k8ts.proxy.v1.ProxyService) with the kit's health, reflection and metrics, over TLS, to
// callers authenticated and authorized through the apiserver (auth.ts, @k8ts/client's
// delegated authentication and authorization).
import * as os from 'os';
import { proxyv1 } from '@k8ts/api';
import { connectFromConfig, delegatedAuthFromConfig } from '@k8ts/client';
import { ConfigError, createLogger, type KitServer, serverOptionsFromConfig, startServer } from '@k8ts/kit';
import { adminService } from './admin';
import type { ProxyConfig } from './config';
import { proxyRequestAttributes } from './auth';
import type { Clock } from './balancer';
import { ProxyEngine } from './engine';
import type { ForwardingMode } from './forward';
import { registerProxyMetrics } from './metrics';
import { Proxier } from './proxier';
import { FileSource, type ServiceSource } from './source';

export { ProxyEngine } from './engine';
export type { EngineOptions, RuleStatus, ListenerStatus, EndpointStatus } from './engine';
export { computeRules, computeServiceRules, resolveEndpoints, DEFAULT_AFFINITY_TIMEOUT_SECONDS } from './rules';
export type { ServicePortRule, ListenerSpec, EndpointTarget, RulesOptions, ServiceRules, Protocol } from './rules';
export { Balancer, RoundRobin, systemClock } from './balancer';
export type { Clock } from './balancer';
export { MemorySource, FileSource } from './source';
export type { ServiceSource } from './source';
export { Proxier } from './proxier';
export { adminService, rulesMessage } from './admin';
export { registerProxyMetrics } from './metrics';
export { describeBindError } from './listener';
export { userBuffersSupported } from './forward';
export type { ForwardingMode } from './forward';

export { flags } from './config';
export type { ProxyConfig } from './config';

/** What tests (and embedding programs) may pass besides the configuration. */
export interface StartDeps {
  /** Use this source instead of the apiserver or --manifests. */
  source?: ServiceSource;
  clock?: Clock;
}

export interface RunningProxy {
  server: KitServer;
  engine: ProxyEngine;
  proxier: Proxier;
  /** The admin API's 'host:port'. */
  address: string;
  /** Resolves once the first rules are applied (the server then reports ready). */
  synced: Promise<void>;
  shutdown(): Promise<void>;
}

async function apiserverSource(config: ProxyConfig, logger: ReturnType<typeof createLogger>): Promise<ServiceSource> {
  // Loaded only when used: a proxy serving --manifests needs no informers.
  const { InformerSource } = await import('./informer-source');
  const clientset = connectFromConfig(config, { userAgent: 'kube-proxy/v0.1.0', logger });
  return new InformerSource(clientset, { logger });
}

/** Starts the proxy: admin server, engine, and the control loop over the chosen source. */
export async function start(config: ProxyConfig, deps: StartDeps = {}): Promise<RunningProxy> {
  const logger = createLogger('proxy', config.logLevel);
  if (!deps.source && !config.apiserver && !config.manifests) {
    throw new ConfigError('missing --apiserver (env K8TS_APISERVER): the proxy needs an apiserver to watch, or --manifests to serve', {
      flag: 'apiserver',
    });
  }
  const nodeIP = config.nodeIp || '127.0.0.1';
  const nodePortAddress = config.bindAddress || undefined;
  // The admin API: TLS, callers authenticated and authorized through the apiserver (auth.ts).
  const auth = await delegatedAuthFromConfig(config, {
    component: 'proxy',
    userAgent: 'kube-proxy/v0.1.0',
    servingHosts: [nodeIP, config.listen.slice(0, config.listen.lastIndexOf(':')).replace(/^\[|\]$/g, ''), config.nodeName ?? os.hostname()],
    attributes: proxyRequestAttributes,
    logger,
  });
  const engine = new ProxyEngine({
    logger,
    clock: deps.clock,
    forwarding: (config.forwarding as 'auto' | ForwardingMode | undefined) ?? 'auto',
    udpIdleTimeoutMs: config.udpIdleTimeout ?? 30_000,
  });
  let source: ServiceSource;
  if (deps.source) source = deps.source;
  else if (config.manifests) source = new FileSource(config.manifests, logger);
  else source = await apiserverSource(config, logger);

  let proxier: Proxier | undefined;
  const server = await startServer({
    component: 'proxy',
    ...serverOptionsFromConfig({ ...config, tlsCert: undefined, tlsKey: undefined }),
    tls: auth.tls,
    interceptors: [auth.interceptor],
    services: [
      {
        definition: proxyv1.ProxyServiceService,
        implementation: adminService(engine, () => ({
          nodeName: config.nodeName ?? os.hostname(),
          nodeIP: nodePortAddress ?? nodeIP,
          lastSyncTime: proxier?.lastSyncTime,
          syncCount: proxier?.syncCount ?? 0,
        })),
      },
    ],
    logger,
    config: { ...config },
    onShutdown: () => proxier?.stop(),
  });
  const metrics = registerProxyMetrics(server.registry, engine);
  proxier = new Proxier(source, engine, { rules: { nodeIP, nodePortAddress }, logger, metrics });
  logger.info({ forwarding: engine.forwarding, nodeIP, nodePortAddress, source: source.constructor.name }, 'proxy starting');

  const p = proxier;
  const synced = p.start().then((ok) => {
    if (!ok) return;
    server.setReady(true);
    logger.info({ rules: engine.status().length }, 'rules synced');
  });
  if (source instanceof FileSource || deps.source) {
    // Local sources load at once: fail start() when they cannot.
    try {
      await synced;
    } catch (err) {
      await server.shutdown();
      engine.close();
      auth.close();
      throw err instanceof ConfigError ? err : new ConfigError(`cannot load --manifests: ${(err as Error).message}`, { cause: err });
    }
  } else {
    synced.catch((err) => logger.error({ err }, 'watching Services and Endpoints failed'));
  }

  let stopping: Promise<void> | undefined;
  return {
    server,
    engine,
    proxier: p,
    address: server.address,
    synced,
    shutdown() {
      stopping ??= (async () => {
        await p.stop();
        await server.shutdown();
        engine.close();
        auth.close();
      })();
      return stopping;
    },
  };
}
