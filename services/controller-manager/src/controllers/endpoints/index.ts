// The Endpoints controller: for each Service with a selector, an Endpoints object of the same
// name listing the IPs of the pods it selects: ready pods in `addresses`, the others in
// `notReadyAddresses` (all in `addresses` when the Service publishes not-ready addresses).
// Each address names its pod (targetRef) and node. Service ports are resolved per pod (a
// named targetPort by the pod's container port of that name and protocol), and addresses are
// grouped into subsets of identical port sets, as Kubernetes does. Pods without an IP are
// left out; so are finished pods and, unless not-ready addresses are published, pods being
// deleted. A pod's readiness change is reflected at once (no batching).
import type { corev1 } from '@k8ts/api';
import { type Informer, type WorkQueue, deepCopy, isAlreadyExists, isNotFound, keyOf, selectorFromSet, splitKey } from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';
import { semanticEqual } from '../../util/canonical';
import { isPodReady, labelsOf } from '../../util/pods';

export const NAME = 'endpoints';

/** The label Kubernetes puts on the Endpoints of a headless Service. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

export interface EndpointsOptions {
  /** Workers (--concurrent-endpoint-syncs). Default 5. */
  workers?: number;
}

type Service = corev1.Service;
type Pod = corev1.Pod;
type Endpoints = corev1.Endpoints;

/** The port number a service port reaches on a pod, or undefined when the pod has no such port. */
export function findPort(pod: Pod, port: corev1.ServicePort): number | undefined {
  const target = port.targetPort;
  if (!target || (target.intVal === undefined && !target.strVal)) return port.port;
  if (target.intVal !== undefined) return target.intVal;
  const protocol = port.protocol || 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === target.strVal && (p.protocol || 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** Whether a pod belongs in the Service's endpoints at all. */
function podInEndpoints(pod: Pod, publishNotReady: boolean): boolean {
  if (!pod.status?.podIP) return false;
  const phase = pod.status?.phase ?? '';
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (pod.metadata?.deletionTimestamp && !publishNotReady) return false;
  return true;
}

function addressOf(pod: Pod, svc: Service): corev1.EndpointAddress {
  const a: corev1.EndpointAddress = {
    ip: pod.status?.podIP ?? '',
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata?.namespace ?? '',
      name: pod.metadata?.name ?? '',
      uid: pod.metadata?.uid ?? '',
    },
  };
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName;
  // DNS names for pods of a headless Service whose subdomain is the Service's name.
  if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && isHeadless(svc)) a.hostname = pod.spec.hostname;
  return a;
}

function portKey(ports: corev1.EndpointPort[]): string {
  return ports.map((p) => `${p.name}/${p.port}/${p.protocol}/${p.appProtocol ?? ''}`).join(',');
}

function addressKey(a: corev1.EndpointAddress): string {
  return `${a.ip}/${a.targetRef?.uid ?? ''}`;
}

function compareAddress(a: corev1.EndpointAddress, b: corev1.EndpointAddress): number {
  const ka = addressKey(a);
  const kb = addressKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Groups (address, ready, ports) entries into subsets: addresses with identical port sets
 * share a subset; an address ready in one entry is not also listed as not ready. Subsets,
 * addresses and ports are sorted, so the same state always gives the same Endpoints.
 */
export function repackSubsets(entries: { address: corev1.EndpointAddress; ready: boolean; ports: corev1.EndpointPort[] }[]): corev1.EndpointSubset[] {
  const groups = new Map<string, { ports: corev1.EndpointPort[]; ready: Map<string, corev1.EndpointAddress>; notReady: Map<string, corev1.EndpointAddress> }>();
  for (const e of entries) {
    const ports = [...e.ports].sort((a, b) => (portKey([a]) < portKey([b]) ? -1 : 1));
    const key = portKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, ready: new Map(), notReady: new Map() }));
    const k = addressKey(e.address);
    if (e.ready) {
      g.ready.set(k, e.address);
      g.notReady.delete(k);
    } else if (!g.ready.has(k)) g.notReady.set(k, e.address);
  }
  const subsets: corev1.EndpointSubset[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    const subset: corev1.EndpointSubset = {
      addresses: [...g.ready.values()].sort(compareAddress),
      notReadyAddresses: [...g.notReady.values()].sort(compareAddress),
      ports: g.ports,
    };
    subsets.push(subset);
  }
  return subsets;
}

export class EndpointsController extends BaseController {
  readonly queue: WorkQueue;
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly endpoints: Informer<Endpoints>;

  constructor(ctx: ControllerContext, opts: EndpointsOptions = {}) {
    super(NAME, ctx);
    this.services = ctx.informers.informerFor('services');
    this.pods = ctx.informers.informerFor('pods');
    this.endpoints = ctx.informers.informerFor('endpoints');
    this.queue = this.addLoop(NAME, opts.workers ?? 5, (key) => this.reconcile(key));

    this.services.addEventHandler({
      onAdd: (s) => this.queue.add(keyOf(s)),
      onUpdate: (_o, s) => this.queue.add(keyOf(s)),
      onDelete: (s) => this.queue.add(keyOf(s)),
    });
    this.pods.addEventHandler({
      onAdd: (p) => this.enqueueServicesOf(p),
      onUpdate: (old, p) => {
        if (old.metadata?.resourceVersion === p.metadata?.resourceVersion) return;
        if (!podChanged(old, p)) return;
        this.enqueueServicesOf(p);
        if (!semanticEqual(labelsOf(old), labelsOf(p))) this.enqueueServicesOf(old);
      },
      onDelete: (p) => this.enqueueServicesOf(p),
    });
    // Endpoints deleted (or changed) by someone else are put back.
    this.endpoints.addEventHandler({
      onDelete: (e) => this.enqueueIfService(e),
      onUpdate: (_o, e) => this.enqueueIfService(e),
    });
  }

  private enqueueIfService(e: Endpoints): void {
    if (this.services.lister.get(e.metadata?.name ?? '', e.metadata?.namespace ?? '')) this.queue.add(keyOf(e));
  }

  /** Queues every Service in the pod's namespace whose selector matches the pod. */
  private enqueueServicesOf(pod: Pod): void {
    for (const svc of this.services.lister.list({ namespace: pod.metadata?.namespace ?? '' })) {
      const sel = svc.spec?.selector ?? {};
      if (Object.keys(sel).length === 0) continue;
      if (selectorFromSet(sel).matches(labelsOf(pod))) this.queue.add(keyOf(svc));
    }
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cs = this.ctx.clientset;
    const svc = this.services.lister.get(name, namespace);
    if (!svc) {
      try {
        await cs.endpoints.delete(name, { namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    const selector = svc.spec?.selector ?? {};
    // Services without a selector get their endpoints from someone else.
    if (Object.keys(selector).length === 0 || svc.spec?.type === 'ExternalName') return;

    const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
    const match = selectorFromSet(selector);
    const entries: { address: corev1.EndpointAddress; ready: boolean; ports: corev1.EndpointPort[] }[] = [];
    const servicePorts = svc.spec?.ports ?? [];
    for (const pod of this.pods.lister.list({ namespace })) {
      if (!match.matches(labelsOf(pod)) || !podInEndpoints(pod, publishNotReady)) continue;
      const address = addressOf(pod, svc);
      const ready = publishNotReady || isPodReady(pod);
      if (servicePorts.length === 0) {
        // A headless Service may have no ports: addresses only.
        if (isHeadless(svc)) entries.push({ address, ready, ports: [] });
        continue;
      }
      for (const sp of servicePorts) {
        const port = findPort(pod, sp);
        if (port === undefined) {
          this.logger.debug({ service: key, pod: keyOf(pod), port: sp.name }, 'endpoints: pod has no such port');
          continue;
        }
        const ep: corev1.EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol || 'TCP' };
        if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
        entries.push({ address, ready, ports: [ep] });
      }
    }
    const subsets = repackSubsets(mergePerAddress(entries));

    const labels: Record<string, string> = { ...svc.metadata?.labels };
    if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
    else delete labels[HEADLESS_LABEL];

    const current = this.endpoints.lister.get(name, namespace);
    if (current && semanticEqual(current.subsets, subsets) && semanticEqual(current.metadata?.labels ?? {}, labels)) return;
    if (!current) {
      try {
        await cs.endpoints.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets });
      } catch (err) {
        // The cache is behind: the next event for the new object queues the key again.
        if (!isAlreadyExists(err)) throw err;
        const live = await cs.endpoints.get(name, { namespace });
        await cs.endpoints.update({ ...deepCopy(live), metadata: { ...deepCopy(live.metadata), labels }, subsets });
      }
      return;
    }
    const next = deepCopy(current);
    next.metadata = { ...next.metadata, labels };
    next.subsets = subsets;
    await cs.endpoints.update(next);
  }
}

/**
 * Combines the per-port entries of one address into one entry with all its ports, so that an
 * address whose ports resolve the same way as another's lands in the same subset.
 */
function mergePerAddress(
  entries: { address: corev1.EndpointAddress; ready: boolean; ports: corev1.EndpointPort[] }[],
): { address: corev1.EndpointAddress; ready: boolean; ports: corev1.EndpointPort[] }[] {
  const byAddress = new Map<string, { address: corev1.EndpointAddress; ready: boolean; ports: corev1.EndpointPort[] }>();
  for (const e of entries) {
    const k = addressKey(e.address);
    const cur = byAddress.get(k);
    if (cur) cur.ports.push(...e.ports);
    else byAddress.set(k, { address: e.address, ready: e.ready, ports: [...e.ports] });
  }
  return [...byAddress.values()];
}

/** Whether a pod change can change any Endpoints. */
function podChanged(old: Pod, pod: Pod): boolean {
  if (!!old.metadata?.deletionTimestamp !== !!pod.metadata?.deletionTimestamp) return true;
  if (isPodReady(old) !== isPodReady(pod)) return true;
  if ((old.status?.podIP ?? '') !== (pod.status?.podIP ?? '')) return true;
  if ((old.spec?.nodeName ?? '') !== (pod.spec?.nodeName ?? '')) return true;
  if ((old.status?.phase ?? '') !== (pod.status?.phase ?? '')) return true;
  if ((old.spec?.hostname ?? '') !== (pod.spec?.hostname ?? '') || (old.spec?.subdomain ?? '') !== (pod.spec?.subdomain ?? '')) return true;
  if (!semanticEqual(labelsOf(old), labelsOf(pod))) return true;
  return !semanticEqual(
    pod.spec?.containers?.map((c) => c.ports),
    old.spec?.containers?.map((c) => c.ports),
  );
}
