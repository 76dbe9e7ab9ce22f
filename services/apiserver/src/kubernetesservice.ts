// The `default/kubernetes` Service and its Endpoints: how pods find the apiserver. Every
// apiserver keeps them, as kube-apiserver's kubernetes-service controller and its lease
// endpoint reconciler do (pkg/controlplane/controller/kubernetesservice, reconcilers/lease.go):
//
// - The Service: ClusterIP, the first address of --service-cluster-ip-range, port 443 named
//   "https" (TCP) to the apiserver's HTTPS port, no selector, labels component=apiserver and
//   provider=kubernetes. Created when missing (at start and on every pass); its ports and type
//   are put back only on the first pass, as Kubernetes does.
// - Liveness: each apiserver holds a store key /kubernetes.io/masterleases/<ip>:<port> attached
//   to a store lease of 1.5 intervals (15 s for the 10 s default), written again on every pass.
//   An apiserver that stops writing drops out when its lease expires; one that shuts down
//   deletes its key at once. (Kubernetes keys by IP alone; the port is in the key here so that
//   several apiservers on one host, as in local clusters and tests, each count.)
// - The Endpoints: the live keys, sorted, one subset per port (with one port, Kubernetes' single
//   subset), labelled endpointslice.kubernetes.io/skip-mirror=true. Written only when they
//   differ. No live key at all (the store lost ours) leaves them untouched, as Kubernetes refuses
//   to erase every endpoint of the Service.
//
// A ClusterIP is normally drawn at random from the range, and the range keeps its first address
// from every Service (allocator/ranges.ts): no other Service can hold it, but a user-chosen
// first address is refused too. So the Service is created through a registry over the same
// store and caches whose range also accepts the first address; the allocation key and the
// Service are still written in one transaction, so two apiservers creating it at once cannot
// both succeed.
import type { Logger } from 'pino';
import { type KindInfo, type corev1, kindFor } from '@k8ts/api';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '@k8ts/kit';
import { MASTER_LEASES_PREFIX, masterLeaseKey } from '@k8ts/machinery';
import { AdmissionChain } from './admission';
import { PortRange, ServiceIPRange } from './allocator/ranges';
import { ApiError } from './errors';
import { Registry } from './registry/registry';
import { prefixEnd } from './storage/kv';
import type { ApiObject } from './strategies/types';
import { isIPv4 } from './strategies/validation';
import { clone, semanticEqual } from './util';

export const KUBERNETES_SERVICE_NAME = 'kubernetes';
export const KUBERNETES_SERVICE_NAMESPACE = 'default';
export const KUBERNETES_SERVICE_PORT = 443;
export const KUBERNETES_PORT_NAME = 'https';
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
/** Kubernetes' endpoint reconciler interval. */
export const DEFAULT_INTERVAL_MS = 10_000;

const SERVICES: KindInfo = kindFor('v1', 'Service')!;
const ENDPOINTS: KindInfo = kindFor('v1', 'Endpoints')!;

export interface KubernetesServiceDeps {
  registry: Registry;
  logger: Logger;
  /** The IP other components reach this apiserver at (--advertise-address). */
  advertiseAddress: string;
  /** This apiserver's HTTPS port. */
  httpsPort: number;
  /** --service-cluster-ip-range, as start() builds it. */
  serviceIPRange: ServiceIPRange;
  /** How often the Service, this apiserver's lease and the Endpoints are reconciled. Default 10 s. */
  intervalMs?: number;
}

/** An apiserver that holds a live lease. */
export interface ApiserverAddress {
  ip: string;
  port: number;
}

function ipToText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The kubernetes Service's ClusterIP: the first address after the network address of the range. */
export function firstServiceIP(range: ServiceIPRange): string {
  return ipToText(range.base + 1);
}

/** The range as the kubernetes Service sees it: its own first address may be held too. */
class RangeWithFirstAddress extends ServiceIPRange {
  private readonly first = firstServiceIP(this);

  override allocatable(ip: string): boolean {
    return ip === this.first || super.allocatable(ip);
  }
}

/** A port range with no port: the kubernetes Service is a ClusterIP Service and never takes a node port. */
const NO_NODE_PORTS = new PortRange(1, 0);

/** The Service as Kubernetes creates it (the registry's generated-object shape). */
export function kubernetesService(clusterIP: string, httpsPort: number): ApiObject {
  return {
    metadata: {
      name: KUBERNETES_SERVICE_NAME,
      namespace: KUBERNETES_SERVICE_NAMESPACE,
      labels: { component: 'apiserver', provider: 'kubernetes' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilyPolicy: 'SingleStack',
      sessionAffinity: 'None',
      ports: servicePorts(httpsPort),
    },
  };
}

function servicePorts(httpsPort: number): corev1.ServicePort[] {
  return [{ name: KUBERNETES_PORT_NAME, protocol: 'TCP', port: KUBERNETES_SERVICE_PORT, targetPort: { intVal: httpsPort } }];
}

/** Whether a stored Service has the type and ports Kubernetes gives it (checkServiceFormat). */
function serviceFormatCorrect(svc: ApiObject, httpsPort: number): boolean {
  const spec = svc.spec as corev1.ServiceSpec | undefined;
  const ports = spec?.ports ?? [];
  if (spec?.type !== 'ClusterIP' || ports.length !== 1) return false;
  const [p] = ports;
  return p.name === KUBERNETES_PORT_NAME && p.protocol === 'TCP' && p.port === KUBERNETES_SERVICE_PORT && p.targetPort?.intVal === httpsPort && !p.nodePort;
}

/** The Endpoints subsets of the live apiservers: addresses sorted, one subset per port. */
export function endpointSubsets(apiservers: readonly ApiserverAddress[]): corev1.EndpointSubset[] {
  const byPort = new Map<number, Set<string>>();
  for (const a of apiservers) {
    let ips = byPort.get(a.port);
    if (!ips) byPort.set(a.port, (ips = new Set()));
    ips.add(a.ip);
  }
  return [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, ips]) => ({
      addresses: [...ips].sort(compareIPs).map((ip) => ({ ip })),
      ports: [{ name: KUBERNETES_PORT_NAME, port, protocol: 'TCP' }],
    }));
}

function compareIPs(a: string, b: string): number {
  const n = (ip: string) => ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  return n(a) - n(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** The store lease of an apiserver's key: 1.5 intervals (Kubernetes: 15 s for 10 s), at least one interval and a second. */
export function leaseTtlSeconds(intervalMs: number): number {
  return Math.max(Math.ceil((intervalMs * 1.5) / 1000), Math.ceil(intervalMs / 1000) + 1);
}

const isCode = (err: unknown, code: grpc.status): boolean => err instanceof ApiError && err.code === code;

/** One apiserver's part in keeping the kubernetes Service: the passes that start() repeats. */
export class KubernetesServiceReconciler {
  private readonly registry: Registry;
  /** Writes the Service: a registry whose range accepts the Service's first address. */
  private readonly serviceWriter: Registry;
  private readonly logger: Logger;
  private readonly self: ApiserverAddress;
  private readonly clusterIP: string;
  private readonly ttlSeconds: number;
  private warnedAboutIP = false;

  constructor(deps: KubernetesServiceDeps) {
    if (!isIPv4(deps.advertiseAddress) || deps.advertiseAddress === '0.0.0.0') {
      throw new ConfigError(
        `--advertise-address ${JSON.stringify(deps.advertiseAddress)}: must be an IPv4 address other apiserver clients can reach (the kubernetes Service endpoints point at it)`,
        { flag: 'advertise-address', value: deps.advertiseAddress },
      );
    }
    if (!Number.isInteger(deps.httpsPort) || deps.httpsPort < 1 || deps.httpsPort > 65535) {
      throw new ConfigError(`the HTTPS port ${deps.httpsPort} of the kubernetes Service endpoints must be within 1-65535`, { flag: 'http-listen' });
    }
    this.registry = deps.registry;
    this.logger = deps.logger;
    this.self = { ip: deps.advertiseAddress, port: deps.httpsPort };
    this.clusterIP = firstServiceIP(deps.serviceIPRange);
    this.ttlSeconds = leaseTtlSeconds(deps.intervalMs ?? DEFAULT_INTERVAL_MS);
    // As Kubernetes' controller writes through the API without NamespaceLifecycle mattering:
    // "default" can never be deleted.
    this.serviceWriter = new Registry({
      kv: deps.registry.kv,
      hub: deps.registry.hub,
      admission: new AdmissionChain([]),
      serviceIPs: new RangeWithFirstAddress(deps.serviceIPRange.cidr),
      nodePorts: NO_NODE_PORTS,
      logger: deps.logger,
    });
  }

  /** The store key of an apiserver's lease. */
  leaseKey(a: ApiserverAddress = this.self): string {
    return masterLeaseKey(a.ip, a.port);
  }

  /**
   * One pass: the Service (its ports and type put back when `reconcileServiceFormat`), this
   * apiserver's lease, then the Endpoints. The lease is renewed even when the Service fails,
   * so that the others keep counting this apiserver.
   */
  async reconcile(reconcileServiceFormat = false): Promise<void> {
    let serviceError: unknown;
    try {
      await this.ensureService(reconcileServiceFormat);
    } catch (err) {
      serviceError = err;
    }
    await this.renewLease();
    await this.reconcileEndpoints();
    if (serviceError) throw serviceError;
  }

  /** Shutdown: drops this apiserver's lease, then its address from the Endpoints. */
  async removeSelf(): Promise<void> {
    await this.registry.kv.txn([], [{ delete: { key: this.leaseKey() } }]);
    await this.reconcileEndpoints();
  }

  /** The apiservers whose lease is alive (the store deletes a key when its lease expires). */
  async liveApiservers(): Promise<ApiserverAddress[]> {
    const res = await this.registry.kv.range(MASTER_LEASES_PREFIX, { end: prefixEnd(MASTER_LEASES_PREFIX) });
    const out: ApiserverAddress[] = [];
    for (const kv of res.kvs) {
      const address = parseLeaseKey(kv.key.slice(MASTER_LEASES_PREFIX.length));
      if (address) out.push(address);
      else this.logger.warn({ key: kv.key }, 'kubernetes service: ignoring an apiserver lease key that is not <ip>:<port>');
    }
    return out;
  }

  private async ensureService(reconcileFormat: boolean): Promise<void> {
    const current = await this.registry.read(SERVICES, KUBERNETES_SERVICE_NAMESPACE, KUBERNETES_SERVICE_NAME);
    if (!current) {
      await this.createService();
      return;
    }
    const ip = (current.spec as corev1.ServiceSpec | undefined)?.clusterIP;
    if (ip !== this.clusterIP && !this.warnedAboutIP) {
      this.warnedAboutIP = true;
      this.logger.warn({ clusterIP: ip, expected: this.clusterIP }, 'the kubernetes Service has another ClusterIP than the first address of the service range');
    }
    if (reconcileFormat && !serviceFormatCorrect(current, this.self.port)) await this.resetServicePorts(current);
  }

  private async createService(): Promise<void> {
    try {
      await this.serviceWriter.create(SERVICES, kubernetesService(this.clusterIP, this.self.port));
      this.logger.info({ clusterIP: this.clusterIP, targetPort: this.self.port }, 'created the kubernetes Service');
    } catch (err) {
      // Another apiserver created it first: nothing to do.
      if (!isCode(err, grpc.status.ALREADY_EXISTS)) throw err;
    }
  }

  private async resetServicePorts(current: ApiObject): Promise<void> {
    const next = clone(current);
    next.spec.type = 'ClusterIP';
    next.spec.ports = servicePorts(this.self.port);
    this.logger.warn({ ports: next.spec.ports }, 'resetting the ports of the kubernetes Service');
    await this.registry.update(SERVICES, next);
  }

  private async renewLease(): Promise<void> {
    const lease = await this.registry.kv.leaseGrant(this.ttlSeconds);
    const value = Buffer.from(
      JSON.stringify({ apiVersion: 'v1', kind: 'Endpoints', subsets: endpointSubsets([this.self]) }),
    );
    await this.registry.kv.txn([], [{ put: { key: this.leaseKey(), value, lease } }]);
  }

  private async reconcileEndpoints(): Promise<void> {
    const live = await this.liveApiservers();
    if (live.length === 0) {
      throw new Error('no apiserver leases were listed in the store: refusing to erase all endpoints of the kubernetes Service');
    }
    const subsets = endpointSubsets(live);
    const current = await this.registry.read(ENDPOINTS, KUBERNETES_SERVICE_NAMESPACE, KUBERNETES_SERVICE_NAME);
    if (!current) {
      await this.createEndpoints(subsets);
      return;
    }
    if (semanticEqual(current.subsets, subsets) && current.metadata?.labels?.[SKIP_MIRROR_LABEL] === 'true') return;
    this.logger.info({ addresses: live.map((a) => `${a.ip}:${a.port}`) }, 'resetting the endpoints of the kubernetes Service');
    await this.registry.guaranteedUpdate(ENDPOINTS, KUBERNETES_SERVICE_NAMESPACE, KUBERNETES_SERVICE_NAME, (obj) => {
      obj.subsets = subsets;
      obj.metadata = { ...obj.metadata, labels: { ...obj.metadata?.labels, [SKIP_MIRROR_LABEL]: 'true' } };
      return obj;
    });
  }

  private async createEndpoints(subsets: corev1.EndpointSubset[]): Promise<void> {
    try {
      await this.registry.create(ENDPOINTS, {
        metadata: { name: KUBERNETES_SERVICE_NAME, namespace: KUBERNETES_SERVICE_NAMESPACE, labels: { [SKIP_MIRROR_LABEL]: 'true' } },
        subsets,
      });
    } catch (err) {
      // Another apiserver created them first: the next pass brings them up to date.
      if (!isCode(err, grpc.status.ALREADY_EXISTS)) throw err;
    }
  }
}

function parseLeaseKey(rest: string): ApiserverAddress | undefined {
  const i = rest.lastIndexOf(':');
  const ip = rest.slice(0, i);
  const port = Number(rest.slice(i + 1));
  return i > 0 && isIPv4(ip) && Number.isInteger(port) && port > 0 && port < 65536 ? { ip, port } : undefined;
}

/**
 * Keeps the kubernetes Service and its Endpoints from now on: a pass at once (which also puts
 * the Service's ports back), then one per interval. stop() ends the passes and removes this
 * apiserver from the Endpoints, waiting at most two intervals (as Kubernetes) so that a store
 * that does not answer cannot hold up shutdown.
 */
export function startKubernetesService(deps: KubernetesServiceDeps): { stop(): Promise<void> } {
  const intervalMs = deps.intervalMs ?? DEFAULT_INTERVAL_MS;
  const reconciler = new KubernetesServiceReconciler(deps);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const pass = async (first: boolean): Promise<void> => {
    try {
      await reconciler.reconcile(first);
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'could not reconcile the kubernetes Service; trying again at the next interval');
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass(false).then(schedule);
    }, intervalMs);
    timer.unref();
  };
  running = pass(true).then(schedule);

  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        stopped = true;
        clearTimeout(timer);
        let deadline: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          deadline = setTimeout(() => {
            deps.logger.warn('removing this apiserver from the kubernetes Service endpoints timed out');
            resolve();
          }, 2 * intervalMs);
        });
        // The pass under way first, so that it cannot write this apiserver's lease back.
        const removal = running.then(() =>
          reconciler.removeSelf().catch((err: Error) => {
            deps.logger.warn({ err: err.message }, 'could not remove this apiserver from the kubernetes Service endpoints');
          }),
        );
        await Promise.race([removal, timeout]);
        clearTimeout(deadline);
      })();
      return stopping;
    },
  };
}
