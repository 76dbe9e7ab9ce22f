// The Kubernetes manifests (deploy/k8s), checked offline: both overlays are rendered with
// `kubectl kustomize` over a temporary copy of deploy/k8s with freshly generated secrets, then
// every object is validated against the schema of its kind (schema.ts) and against what the
// suite needs: probes, resources, restricted Pod Security, pinned images, flags each service
// really accepts (from its --help), references that resolve, selectors that select, the
// replica counts of each overlay. `kubectl apply --dry-run=client` needs a cluster; these do not.
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { type FlagSpec, natsPublicKey, parseConfig } from '@k8ts/kit';
import { Quantity } from '@k8ts/machinery';
import { natsServerBinary } from '@k8ts/testkit';
import { KINDS, validate, DNS_LABEL, DNS_LABEL_1035, DNS_SUBDOMAIN, PORT_NAME } from './schema';
import { type K8sObject, type Rendered, SAMPLE_NODES, SERVICES, type Service, cleanupRender, kubectlStatus, render, serviceFlags } from './lib';

const kubectl = kubectlStatus();
if (!kubectl.ok) console.warn(`integration/deploy: ${kubectl.why}; the overlays cannot be rendered, so their checks are skipped`);
const describeRendered = kubectl.ok ? describe : describe.skip;

const NAMESPACE = 'k8ts-system';
const OVERLAYS = ['dev', 'ha'] as const;
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'];
/** The sysctls the baseline (and so restricted) Pod Security Standard allows. */
const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

const rendered = new Map<string, Rendered>();
function docsOf(overlay: string): K8sObject[] {
  let r = rendered.get(overlay);
  if (!r) {
    r = render(overlay);
    rendered.set(overlay, r);
  }
  return r.docs;
}
afterAll(() => cleanupRender());

const workloads = (docs: K8sObject[]) => docs.filter((d) => WORKLOAD_KINDS.includes(d.kind));
const find = (docs: K8sObject[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
/** A generated object by its name in the sources (kustomize adds -<hash>). */
const findGenerated = (docs: K8sObject[], kind: string, name: string) =>
  docs.find((d) => d.kind === kind && (d.metadata.name === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(d.metadata.name)));
const id = (d: K8sObject) => `${d.kind}/${d.metadata.name}`;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

interface Ctr {
  workload: K8sObject;
  pod: any;
  c: any;
  /** The k8ts service this container runs (from its image k8ts/<service>), if any. */
  svc?: Service;
  where: string;
}
function containers(docs: K8sObject[]): Ctr[] {
  return workloads(docs).flatMap((w) =>
    [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers].map((c: any) => {
      const m = /^(?:docker\.io\/)?k8ts\/([a-z-]+)[:@]/.exec(c.image ?? '');
      return { workload: w, pod: w.spec.template.spec, c, svc: m ? (m[1] as Service) : undefined, where: `${id(w)} container ${c.name}` };
    }),
  );
}

/** Sample values of the container's environment, for $(VAR) expansion in args. */
function sampleEnv(ctr: Ctr, nodeName = SAMPLE_NODES[1]): Map<string, string> {
  const env = new Map<string, string>();
  for (const e of ctr.c.env ?? []) {
    if (e.value !== undefined) env.set(e.name, e.value);
    else if (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName') env.set(e.name, nodeName);
    else if (e.valueFrom?.fieldRef?.fieldPath === 'status.podIP') env.set(e.name, '10.244.1.7');
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env.set(e.name, `${ctr.workload.metadata.name}-0`);
    else env.set(e.name, 'value');
  }
  return env;
}

/** Kubernetes' $(VAR) expansion of args; references to variables the container lacks are errors. */
function expand(args: string[], env: Map<string, string>, problems: string[], where: string): string[] {
  return args.map((a) =>
    a.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => {
      if (m === '$$') return '$';
      const v = env.get(name!);
      if (v === undefined) problems.push(`${where}: args use $(${name}), which is not in the container's env`);
      return v ?? m;
    }),
  );
}

/** The configuration the service would start with, parsed by the kit from the container's args and K8TS_* env. */
function serviceConfig(ctr: Ctr, problems: string[], nodeName?: string): Record<string, any> | undefined {
  const svc = ctr.svc!;
  const specs: FlagSpec[] = serviceFlags(svc).map((f) => ({
    name: f.name,
    // Files live in the pod, not here: their paths are checked against the volume mounts.
    type: f.type === 'file' ? 'string' : f.type,
    required: f.required,
    description: '',
  }));
  const env = sampleEnv(ctr, nodeName);
  const argv = expand([...(ctr.c.command?.slice(1) ?? []), ...(ctr.c.args ?? [])], env, problems, ctr.where);
  const k8tsEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of env) if (k.startsWith('K8TS_')) k8tsEnv[k] = v;
  try {
    return parseConfig<Record<string, any>>(svc, specs, argv, k8tsEnv, { exitOnHelp: false });
  } catch (err) {
    problems.push(`${ctr.where}: ${(err as Error).message}`);
    return undefined;
  }
}

function portOf(address: string): number {
  return Number(/:(\d+)$/.exec(address)?.[1] ?? Number.NaN);
}

/** Where a file path in the pod comes from: the Secret or ConfigMap key mounted there. */
function fileSource(docs: K8sObject[], ctr: Ctr, file: string): string | undefined {
  const mount = (ctr.c.volumeMounts ?? []).find((m: any) => path.posix.dirname(file) === m.mountPath.replace(/\/$/, ''));
  if (!mount) return `${file} is not in a mounted volume`;
  const vol = (ctr.pod.volumes ?? []).find((v: any) => v.name === mount.name);
  const ref = vol?.secret ? ['Secret', vol.secret.secretName, vol.secret.items] : vol?.configMap ? ['ConfigMap', vol.configMap.name, vol.configMap.items] : undefined;
  if (!ref) return `${file} is on volume ${mount.name}, which is neither a Secret nor a ConfigMap`;
  const [kind, name, items] = ref as [string, string, { key: string; path: string }[] | undefined];
  const obj = find(docs, kind, name);
  if (!obj) return `${file}: ${kind} ${name} does not exist`;
  const base = path.posix.basename(file);
  const key = items ? items.find((i) => i.path === base)?.key : base;
  if (!key || !(key in (obj.data ?? {}))) return `${file}: ${kind} ${name} has no key ${key ?? base}`;
  return undefined;
}

describeRendered.each(OVERLAYS)('overlay %s', (overlay) => {
  test('renders, and every object is a known kind that validates against its schema', () => {
    const docs = docsOf(overlay);
    expect(docs.length).toBeGreaterThan(20);
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const d of docs) {
      const known = KINDS[d.kind];
      if (!known) {
        problems.push(`${id(d)}: unknown kind ${d.kind}`);
        continue;
      }
      if (d.apiVersion !== known[0]) problems.push(`${id(d)}: apiVersion ${d.apiVersion}, expected ${known[0]}`);
      problems.push(...validate(d, known[1]).map((e) => `${id(d)}: ${e}`));
      if (seen.has(id(d))) problems.push(`${id(d)}: twice`);
      seen.add(id(d));
      const nameRule = d.kind === 'Service' ? DNS_LABEL_1035 : DNS_SUBDOMAIN;
      if (!nameRule.test(d.metadata.name) || d.metadata.name.length > (d.kind === 'Service' ? 63 : 253)) problems.push(`${id(d)}: invalid name`);
      if (d.kind === 'Namespace') {
        if (d.metadata.name !== NAMESPACE) problems.push(`${id(d)}: expected only the namespace ${NAMESPACE}`);
      } else if (d.metadata.namespace !== NAMESPACE) {
        problems.push(`${id(d)}: namespace ${d.metadata.namespace}, expected ${NAMESPACE}`);
      }
      if (d.metadata.labels?.['app.kubernetes.io/part-of'] !== 'k8ts') problems.push(`${id(d)}: no label app.kubernetes.io/part-of=k8ts`);
    }
    for (const kind of Object.keys(KINDS)) if (!docs.some((d) => d.kind === kind)) problems.push(`no ${kind} rendered`);
    expect([...new Set(problems)]).toEqual([]);
  });

  test('every container has probes, resources and a restricted securityContext', () => {
    const docs = docsOf(overlay);
    const problems: string[] = [];
    const ns = find(docs, 'Namespace', NAMESPACE);
    if (ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted') problems.push('the namespace does not enforce the restricted Pod Security Standard');
    for (const w of workloads(docs)) {
      const pod = w.spec.template.spec;
      for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[f]) problems.push(`${id(w)}: ${f}`);
      if (pod.automountServiceAccountToken !== false) problems.push(`${id(w)}: mounts a token of this cluster (automountServiceAccountToken is not false)`);
      for (const v of pod.volumes ?? []) {
        const type = Object.keys(v).find((k) => k !== 'name');
        if (!type || !RESTRICTED_VOLUMES.includes(type)) problems.push(`${id(w)}: volume ${v.name} of type ${type} (restricted allows ${RESTRICTED_VOLUMES.join(', ')})`);
      }
      for (const s of pod.securityContext?.sysctls ?? []) if (!SAFE_SYSCTLS.includes(s.name)) problems.push(`${id(w)}: sysctl ${s.name} is not a safe sysctl`);
      if (pod.securityContext?.runAsUser === 0) problems.push(`${id(w)}: runAsUser 0`);
    }
    for (const ctr of containers(docs)) {
      const { c, pod, where } = ctr;
      for (const p of ['readinessProbe', 'livenessProbe'] as const) if (!c[p]) problems.push(`${where}: no ${p}`);
      for (const p of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        const probe = c[p];
        if (probe && (probe.timeoutSeconds ?? 1) >= (probe.periodSeconds ?? 10)) problems.push(`${where}: ${p} timeoutSeconds >= periodSeconds`);
        for (const port of [probe?.httpGet?.port, probe?.tcpSocket?.port]) {
          if (typeof port === 'string' && !(c.ports ?? []).some((cp: any) => cp.name === port)) problems.push(`${where}: ${p} uses port ${port}, which the container does not name`);
        }
      }
      for (const r of ['requests', 'limits']) {
        for (const k of ['cpu', 'memory']) if (c.resources?.[r]?.[k] === undefined) problems.push(`${where}: no resources.${r}.${k}`);
      }
      for (const k of ['cpu', 'memory']) {
        const req = c.resources?.requests?.[k];
        const lim = c.resources?.limits?.[k];
        if (req !== undefined && lim !== undefined && Quantity.parse(String(req)).cmp(Quantity.parse(String(lim))) > 0) problems.push(`${where}: ${k} request ${req} above its limit ${lim}`);
      }
      const sc = c.securityContext ?? {};
      const psc = pod.securityContext ?? {};
      if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
      if ((sc.runAsUser ?? psc.runAsUser) === 0) problems.push(`${where}: runs as uid 0`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (sc.privileged) problems.push(`${where}: privileged`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities do not drop ALL`);
      for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') problems.push(`${where}: adds capability ${cap}`);
      const seccomp = (sc.seccompProfile ?? psc.seccompProfile)?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${where}: seccompProfile ${seccomp ?? 'unset'}`);
      // Every component here can run on a read-only root filesystem; writable dirs are emptyDirs.
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
      if (!DNS_LABEL.test(c.name)) problems.push(`${where}: invalid container name`);
      for (const p of c.ports ?? []) if (p.name && (!PORT_NAME.test(p.name) || p.name.length > 15)) problems.push(`${where}: invalid port name ${p.name}`);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  test('images are pinned: k8ts/<service>:dev for the k8ts components, an exact version for the others', () => {
    const problems: string[] = [];
    for (const { c, svc, where } of containers(docsOf(overlay))) {
      const image: string = c.image;
      const digest = image.includes('@sha256:');
      const tag = /:([^:/@]+)$/.exec(image)?.[1];
      if (!digest && (!tag || tag === 'latest')) problems.push(`${where}: image ${image} is not pinned (no tag, or latest)`);
      if (svc) {
        if (!SERVICES.includes(svc)) problems.push(`${where}: image ${image} names no k8ts service`);
        if (image !== `k8ts/${svc}:dev`) problems.push(`${where}: image ${image}, expected k8ts/${svc}:dev (kind load; override it in an overlay's images:)`);
        if (c.name !== svc) problems.push(`${where}: the container of ${svc} should be named ${svc}`);
      } else if (!digest && !/^v?\d+\.\d+\.\d+/.test(tag ?? '')) {
        problems.push(`${where}: image ${image}: a third-party image needs an exact version tag (x.y.z)`);
      }
      if (c.imagePullPolicy !== 'IfNotPresent') problems.push(`${where}: imagePullPolicy ${c.imagePullPolicy}, expected IfNotPresent (images loaded into kind are not in a registry)`);
    }
    const svcs = new Set(containers(docsOf(overlay)).map((c) => c.svc));
    for (const s of SERVICES) if (!svcs.has(s)) problems.push(`no container runs k8ts/${s}`);
    expect([...new Set(problems)]).toEqual([]);
  });

  test('every flag given to a k8ts container is a flag of that service, with a valid value', () => {
    const docs = docsOf(overlay);
    const problems: string[] = [];
    for (const ctr of containers(docs)) {
      if (!ctr.svc) continue;
      if (ctr.c.command && ctr.c.command.length > 0) problems.push(`${ctr.where}: sets command; the image's entrypoint (node services/${ctr.svc}/dist/main.js) should stay`);
      for (const e of ctr.c.env ?? []) {
        // The kit reads K8TS_<FLAG> for every flag: other K8TS_ names would be typos.
        if (e.name.startsWith('K8TS_') && !serviceFlags(ctr.svc).some((f) => `K8TS_${f.name.toUpperCase().replace(/-/g, '_')}` === e.name)) {
          problems.push(`${ctr.where}: env ${e.name} is no flag of ${ctr.svc}`);
        }
      }
      serviceConfig(ctr, problems);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  test('listen addresses, container ports, gRPC probes and metrics annotations agree', () => {
    const docs = docsOf(overlay);
    const problems: string[] = [];
    for (const ctr of containers(docs)) {
      if (!ctr.svc) continue;
      const cfg = serviceConfig(ctr, problems);
      if (!cfg) continue;
      const grpcPort = portOf(cfg.listen);
      const metricsPort = portOf(cfg.metricsListen);
      if (!/^0\.0\.0\.0:/.test(cfg.listen)) problems.push(`${ctr.where}: --listen ${cfg.listen} is not reachable from outside the pod (use 0.0.0.0)`);
      if (!/^0\.0\.0\.0:/.test(cfg.metricsListen)) problems.push(`${ctr.where}: --metrics-listen ${cfg.metricsListen || '(off)'} is not 0.0.0.0:<port>`);
      const named = (name: string) => (ctr.c.ports ?? []).find((p: any) => p.name === name)?.containerPort;
      if (named('grpc') !== grpcPort) problems.push(`${ctr.where}: container port "grpc" is ${named('grpc')}, --listen says ${grpcPort}`);
      if (named('metrics') !== metricsPort) problems.push(`${ctr.where}: container port "metrics" is ${named('metrics')}, --metrics-listen says ${metricsPort}`);
      for (const p of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        // A server of TLS to authenticated callers only (the kubelet API, the proxy's admin API,
        // the store's mutual TLS) is probed on /healthz of its metrics port: Kubernetes' grpc
        // probes speak no TLS.
        if (ctr.svc === 'kubelet' || ctr.svc === 'proxy' || ctr.svc === 'store') {
          const h = ctr.c[p]?.httpGet;
          if (h?.path !== '/healthz' || (h.port !== 'metrics' && h.port !== metricsPort)) problems.push(`${ctr.where}: ${p} is not GET /healthz of the metrics port ${metricsPort}`);
        } else if (ctr.c[p]?.grpc?.port !== grpcPort) problems.push(`${ctr.where}: ${p} is not a gRPC probe of port ${grpcPort} (grpc.health.v1 of --listen)`);
      }
      const ann = ctr.workload.spec.template.metadata?.annotations ?? {};
      if (ann['prometheus.io/port'] !== String(metricsPort)) problems.push(`${ctr.where}: prometheus.io/port ${ann['prometheus.io/port']}, --metrics-listen says ${metricsPort}`);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  test('every Secret, ConfigMap, ServiceAccount, volume and file the pods use exists', () => {
    const docs = docsOf(overlay);
    const problems: string[] = [];
    for (const w of workloads(docs)) {
      const pod = w.spec.template.spec;
      if (!pod.serviceAccountName || !find(docs, 'ServiceAccount', pod.serviceAccountName)) problems.push(`${id(w)}: ServiceAccount ${pod.serviceAccountName} does not exist`);
      for (const v of pod.volumes ?? []) {
        if (v.secret && !find(docs, 'Secret', v.secret.secretName)) problems.push(`${id(w)}: Secret ${v.secret.secretName} does not exist`);
        if (v.configMap && !find(docs, 'ConfigMap', v.configMap.name)) problems.push(`${id(w)}: ConfigMap ${v.configMap.name} does not exist`);
        for (const src of v.projected?.sources ?? []) {
          if (src.secret && !find(docs, 'Secret', src.secret.name)) problems.push(`${id(w)}: volume ${v.name}: Secret ${src.secret.name} does not exist`);
          if (src.configMap && !find(docs, 'ConfigMap', src.configMap.name)) problems.push(`${id(w)}: volume ${v.name}: ConfigMap ${src.configMap.name} does not exist`);
        }
        if (!DNS_LABEL.test(v.name)) problems.push(`${id(w)}: invalid volume name ${v.name}`);
      }
      const volumeNames = new Set([...(pod.volumes ?? []).map((v: any) => v.name), ...(w.spec.volumeClaimTemplates ?? []).map((t: any) => t.metadata.name)]);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        for (const m of c.volumeMounts ?? []) if (!volumeNames.has(m.name)) problems.push(`${id(w)} container ${c.name}: mounts ${m.name}, which is no volume`);
        for (const e of c.env ?? []) {
          const s = e.valueFrom?.secretKeyRef;
          if (s && !s.optional && !(s.key in (find(docs, 'Secret', s.name)?.data ?? {}))) problems.push(`${id(w)}: env ${e.name}: Secret ${s.name} key ${s.key} does not exist`);
          const cm = e.valueFrom?.configMapKeyRef;
          if (cm && !cm.optional && !(cm.key in (find(docs, 'ConfigMap', cm.name)?.data ?? {}))) problems.push(`${id(w)}: env ${e.name}: ConfigMap ${cm.name} key ${cm.key} does not exist`);
        }
        for (const e of c.envFrom ?? []) {
          if (e.secretRef && !e.secretRef.optional && !find(docs, 'Secret', e.secretRef.name)) problems.push(`${id(w)}: envFrom Secret ${e.secretRef.name} does not exist`);
          if (e.configMapRef && !e.configMapRef.optional && !find(docs, 'ConfigMap', e.configMapRef.name)) problems.push(`${id(w)}: envFrom ConfigMap ${e.configMapRef.name} does not exist`);
        }
      }
    }
    // The files the k8ts components read (file flags: tokens, keys) are keys of mounted Secrets.
    for (const ctr of containers(docs)) {
      if (!ctr.svc) continue;
      const fileFlags = serviceFlags(ctr.svc).filter((f) => f.type === 'file');
      // The kubelet's token path names its node: check it for every node.
      const nodes = (ctr.c.args ?? []).some((a: string) => a.includes('$(NODE_NAME)')) ? SAMPLE_NODES : [SAMPLE_NODES[1]];
      for (const node of nodes) {
        const cfg = serviceConfig(ctr, problems, node);
        for (const f of fileFlags) {
          const value = cfg?.[f.name.replace(/-([a-z0-9])/g, (_m, ch: string) => ch.toUpperCase())];
          if (!value) continue;
          const why = fileSource(docs, ctr, value);
          if (why) problems.push(`${ctr.where}: --${f.name}: ${why}`);
        }
      }
    }
    // Every Secret and ConfigMap made is used by someone.
    for (const d of docs.filter((x) => x.kind === 'Secret' || x.kind === 'ConfigMap')) {
      const used = workloads(docs).some((w) => JSON.stringify(w.spec.template.spec).includes(`"${d.metadata.name}"`));
      if (!used) problems.push(`${id(d)}: no pod uses it`);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  test('Service, PodDisruptionBudget and workload selectors select the right pods', () => {
    const docs = docsOf(overlay);
    const problems: string[] = [];
    const pods = workloads(docs).map((w) => ({ w, labels: w.spec.template.metadata?.labels ?? {}, spec: w.spec.template.spec }));
    for (const w of workloads(docs)) {
      const sel = w.spec.selector.matchLabels ?? {};
      if (!matches(sel, w.spec.template.metadata?.labels)) problems.push(`${id(w)}: selector ${JSON.stringify(sel)} does not match its pod template`);
      const others = pods.filter((p) => p.w !== w && matches(sel, p.labels));
      if (others.length > 0) problems.push(`${id(w)}: selector also matches ${others.map((p) => id(p.w)).join(', ')}`);
    }
    for (const s of docs.filter((d) => d.kind === 'Service')) {
      const selected = pods.filter((p) => matches(s.spec.selector ?? {}, p.labels));
      if (selected.length === 0) problems.push(`${id(s)}: selects no pods`);
      for (const port of s.spec.ports ?? []) {
        const target = port.targetPort ?? port.port;
        for (const p of selected) {
          const ok = p.spec.containers.some((c: any) => (c.ports ?? []).some((cp: any) => (typeof target === 'string' ? cp.name === target : cp.containerPort === target)));
          if (!ok) problems.push(`${id(s)}: port ${port.name ?? port.port} targets ${target}, which ${id(p.w)} does not expose`);
        }
        if (port.name && !PORT_NAME.test(port.name)) problems.push(`${id(s)}: invalid port name ${port.name}`);
      }
    }
    for (const pdb of docs.filter((d) => d.kind === 'PodDisruptionBudget')) {
      const selected = pods.filter((p) => matches(pdb.spec.selector.matchLabels ?? {}, p.labels));
      if (selected.length !== 1) problems.push(`${id(pdb)}: selects ${selected.length} workloads, expected 1`);
      if (pdb.spec.minAvailable === undefined && pdb.spec.maxUnavailable === undefined) problems.push(`${id(pdb)}: neither minAvailable nor maxUnavailable`);
    }
    for (const w of docs.filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet')) {
      const pdbs = docs.filter((d) => d.kind === 'PodDisruptionBudget' && matches(d.spec.selector.matchLabels ?? {}, w.spec.template.metadata?.labels));
      if (pdbs.length !== 1) problems.push(`${id(w)}: ${pdbs.length} PodDisruptionBudgets, expected 1`);
    }
    for (const sts of docs.filter((d) => d.kind === 'StatefulSet')) {
      const headless = find(docs, 'Service', sts.spec.serviceName);
      if (headless?.spec.clusterIP !== 'None') problems.push(`${id(sts)}: serviceName ${sts.spec.serviceName} is not a headless Service`);
      else if (!matches(headless.spec.selector ?? {}, sts.spec.template.metadata?.labels)) problems.push(`${id(sts)}: its headless Service does not select its pods`);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  test('the addresses the components dial are Services (or StatefulSet pods) of this overlay', () => {
    const docs = docsOf(overlay);
    const problems: string[] = [];
    const check = (where: string, target: string) => {
      const m = /^(?:[a-z]+:\/\/)?([^:/]+):(\d+)$/.exec(target);
      if (!m) return problems.push(`${where}: cannot read address ${target}`);
      const [host, port] = [m[1], Number(m[2])];
      const pod = /^([a-z0-9-]+)-(\d+)\.([a-z0-9-]+)$/.exec(host);
      if (pod) {
        const sts = find(docs, 'StatefulSet', pod[1]);
        if (!sts || sts.spec.serviceName !== pod[3] || Number(pod[2]) >= (sts.spec.replicas ?? 1)) problems.push(`${where}: ${host} is no pod of a StatefulSet here`);
        return;
      }
      const svc = find(docs, 'Service', host);
      if (!svc) return problems.push(`${where}: ${host} is no Service here`);
      if (!(svc.spec.ports ?? []).some((p: any) => p.port === port)) problems.push(`${where}: Service ${host} has no port ${port}`);
    };
    for (const ctr of containers(docs)) {
      if (!ctr.svc) continue;
      const cfg = serviceConfig(ctr, problems);
      if (!cfg) continue;
      if (cfg.apiserver) check(`${ctr.where} --apiserver`, cfg.apiserver);
      for (const e of cfg.etcdServers ?? []) check(`${ctr.where} --etcd-servers`, e);
      for (const u of cfg.natsUrl ?? []) check(`${ctr.where} --nats-url`, u);
      if (ctr.svc !== 'store' && ctr.svc !== 'apiserver' && !cfg.apiserver) problems.push(`${ctr.where}: no --apiserver`);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  test('the kubelet runs the sim runtime, and every node has its node token', () => {
    const docs = docsOf(overlay);
    const problems: string[] = [];
    const kubelet = containers(docs).find((c) => c.svc === 'kubelet')!;
    expect(kubelet.workload.kind).toBe('DaemonSet');
    expect(containers(docs).find((c) => c.svc === 'proxy')!.workload.kind).toBe('DaemonSet');
    const cfg = serviceConfig(kubelet, problems)!;
    expect([...new Set(problems)]).toEqual([]);
    expect(cfg.runtime).toBe('sim');
    expect(cfg.nodeName).toBe(SAMPLE_NODES[1]);
    expect(cfg.tokenFile).toBe(`/etc/k8ts/node-tokens/${SAMPLE_NODES[1]}.token`);
    const tokens = findGenerated(docs, 'Secret', 'node-tokens')!;
    expect(Object.keys(tokens.data).sort()).toEqual(SAMPLE_NODES.map((n) => `${n}.token`).sort());
  });

  test('NATS: JetStream on the volume, a cluster route to every server, the store replicating to all of them', () => {
    const docs = docsOf(overlay);
    const sts = find(docs, 'StatefulSet', 'nats')!;
    const replicas = sts.spec.replicas ?? 1;
    const nats = sts.spec.template.spec.containers.find((c: any) => c.name === 'nats');
    // nats.conf (a ConfigMap) and the auth.conf it includes (a Secret) in one projected volume.
    const configVolume = sts.spec.template.spec.volumes.find((v: any) => v.projected?.sources?.some((src: any) => src.configMap))!;
    const sources: any[] = configVolume.projected.sources;
    const conf: string = find(docs, 'ConfigMap', sources.find((src) => src.configMap).configMap.name)!.data['nats.conf'];
    const authSecret = find(docs, 'Secret', sources.find((src) => src.secret)?.secret.name ?? '');
    const authConf = Buffer.from(authSecret?.data?.['auth.conf'] ?? '', 'base64').toString();
    expect(conf).toMatch(/^include auth\.conf$/m);
    expect(authConf).toMatch(/^authorization \{/m);
    expect(conf + authConf).not.toMatch(/no_auth_user/);
    const mount = (name: string) => nats.volumeMounts.find((m: any) => m.name === name)?.mountPath;
    expect(nats.args).toEqual(['--config', `${mount(configVolume.name)}/nats.conf`]);
    // nats-server keeps JetStream in <store_dir>/jetstream: on the PersistentVolume.
    const storeDir = /store_dir:\s*(\S+)/.exec(conf)?.[1] ?? '';
    const data = mount(sts.spec.volumeClaimTemplates[0].metadata.name);
    expect(storeDir === data || storeDir.startsWith(`${data}/`)).toBe(true);
    // Every acknowledged write is fsynced first (a power loss loses nothing acknowledged).
    expect(conf).toMatch(/^\s*sync_interval:\s*always\s*$/m);
    // The real nats-server accepts the file (-t: check the configuration and exit).
    const confFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-nats-conf-')), 'nats.conf');
    fs.writeFileSync(confFile, conf);
    fs.writeFileSync(path.join(path.dirname(confFile), 'auth.conf'), authConf);
    const checked = spawnSync(natsServerBinary(), ['-c', confFile, '-t'], { env: { ...process.env, POD_NAME: 'nats-0' }, encoding: 'utf8' });
    expect(`${checked.stdout}${checked.stderr}`).toMatch(/configuration file .* is valid/);
    fs.rmSync(path.dirname(confFile), { recursive: true, force: true });
    // Kubernetes objects reach 1.5 MiB; the store needs max_payload above that.
    const payload = /max_payload:\s*(\d+)\s*(MB|KB)?/.exec(conf);
    expect(payload).not.toBeNull();
    expect(Number(payload![1]) * (payload![2] === 'MB' ? 2 ** 20 : payload![2] === 'KB' ? 2 ** 10 : 1)).toBeGreaterThanOrEqual(1.5 * 2 ** 20);
    const routes = [...conf.matchAll(/nats:\/\/([a-z0-9.-]+):6222/g)].map((m) => m[1]).sort();
    if (replicas === 1) {
      expect(conf).not.toMatch(/^\s*cluster\s*\{/m);
    } else {
      expect(conf).toMatch(/^\s*cluster\s*\{/m);
      expect(routes).toEqual(Array.from({ length: replicas }, (_, i) => `nats-${i}.${sts.spec.serviceName}`).sort());
    }
    // The store's stream is replicated on every NATS server (R1 on one, R3 on three).
    const problems: string[] = [];
    const cfg = serviceConfig(containers(docs).find((c) => c.svc === 'store')!, problems);
    expect([...new Set(problems)]).toEqual([]);
    expect(cfg!.replicas).toBe(replicas);
  });

  test('the store: mutual TLS, only the apiserver and the store administrator, whose certificates the secrets hold', () => {
    const docs = docsOf(overlay);
    const problems: string[] = [];
    const store = containers(docs).find((c) => c.svc === 'store')!;
    const apiserver = containers(docs).find((c) => c.svc === 'apiserver')!;
    const s = serviceConfig(store, problems)!;
    const a = serviceConfig(apiserver, problems)!;
    expect([...new Set(problems)]).toEqual([]);
    expect(s.insecurePlaintext).toBe(false);
    expect([s.tlsCert, s.tlsKey, s.tlsClientCa].every(Boolean)).toBe(true);
    expect(s.advertiseClientUrl).toMatch(/^https:/);
    expect(s.allowedClient).toEqual(['CN=kube-apiserver-etcd-client', 'CN=k8ts-store-admin']);
    /** A mounted file's content, from the Secret behind its volume. */
    const content = (ctr: Ctr, file: string): string => {
      const mount = (ctr.c.volumeMounts ?? []).find((m: any) => path.posix.dirname(file) === m.mountPath);
      const vol = (ctr.pod.volumes ?? []).find((v: any) => v.name === mount?.name);
      const secret = find(docs, 'Secret', vol?.secret?.secretName ?? '');
      return Buffer.from(secret?.data?.[path.posix.basename(file)] ?? '', 'base64').toString();
    };
    // The apiserver verifies the store with the CA the store's clients are checked against,
    // presents a certificate of it that the store allows, and dials a name the store's
    // serving certificate has.
    const ca = new crypto.X509Certificate(content(store, s.tlsClientCa));
    expect(content(apiserver, a.etcdCafile)).toBe(content(store, s.tlsClientCa));
    const client = new crypto.X509Certificate(content(apiserver, a.etcdCertfile));
    expect(client.checkIssued(ca) && client.verify(ca.publicKey)).toBe(true);
    expect(s.allowedClient).toContain(client.subject);
    const serving = new crypto.X509Certificate(content(store, s.tlsCert));
    expect(serving.checkIssued(ca)).toBe(true);
    for (const e of a.etcdServers as string[]) expect(serving.checkHost(e.replace(/:\d+$/, ''))).toBeDefined();
    // NATS: each one's NKey seed is the public key auth.conf names.
    const sts = find(docs, 'StatefulSet', 'nats')!;
    const authName = sts.spec.template.spec.volumes.flatMap((v: any) => v.projected?.sources ?? []).find((src: any) => src.secret).secret.name;
    const authConf = Buffer.from(find(docs, 'Secret', authName)!.data['auth.conf'], 'base64').toString();
    for (const [ctr, cfg] of [
      [store, s],
      [apiserver, a],
    ] as const) {
      expect(cfg.natsNkey).toBeTruthy();
      expect(authConf).toContain(`nkey: ${natsPublicKey(content(ctr, cfg.natsNkey))}`);
    }
  });

  test('NetworkPolicies: the store only from apiservers, NATS only from the store and the apiservers (routes: NATS)', () => {
    const docs = docsOf(overlay);
    const policy = (name: string) => find(docs, 'NetworkPolicy', name);
    const fromNames = (rule: any) => (rule.from ?? []).map((f: any) => f.podSelector?.matchLabels?.['app.kubernetes.io/name'] ?? 'anything').sort();
    const rules = (name: string) =>
      Object.fromEntries((policy(name)?.spec.ingress ?? []).flatMap((r: any) => r.ports.map((p: any) => [p.port, r.from ? fromNames(r) : ['anywhere']])));
    expect(policy('store')?.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'store' });
    expect(rules('store')).toEqual({ grpc: ['apiserver'], metrics: ['anywhere'] });
    expect(policy('nats')?.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'nats' });
    expect(rules('nats')).toEqual({ client: ['apiserver', 'store'], cluster: ['nats'] });
    // The named ports are the pods' own.
    for (const [name, ports] of [
      ['store', ['grpc', 'metrics']],
      ['nats', ['client', 'cluster']],
    ] as const) {
      const w = workloads(docs).find((x) => x.metadata.name === name)!;
      const named = w.spec.template.spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.name));
      for (const p of ports) expect({ name, port: p, named: named.includes(p) }).toEqual({ name, port: p, named: true });
    }
  });
});

describeRendered('replicas', () => {
  const replicas = (docs: K8sObject[], kind: string, name: string) => find(docs, kind, name)?.spec.replicas;
  const counts = (docs: K8sObject[]) => ({
    nats: replicas(docs, 'StatefulSet', 'nats'),
    store: replicas(docs, 'Deployment', 'store'),
    apiserver: replicas(docs, 'Deployment', 'apiserver'),
    scheduler: replicas(docs, 'Deployment', 'scheduler'),
    'controller-manager': replicas(docs, 'Deployment', 'controller-manager'),
  });

  test('dev runs one of each', () => {
    expect(counts(docsOf('dev'))).toEqual({ nats: 1, store: 1, apiserver: 1, scheduler: 1, 'controller-manager': 1 });
  });

  test('ha runs 3 NATS servers, 3 stores, 2 apiservers, 2 schedulers, 2 controller-managers, spread over nodes, leader-elected', () => {
    const docs = docsOf('ha');
    expect(counts(docs)).toEqual({ nats: 3, store: 3, apiserver: 2, scheduler: 2, 'controller-manager': 2 });
    const problems: string[] = [];
    for (const w of docs.filter((d) => (d.spec?.replicas ?? 1) > 1)) {
      if (!(w.spec.template.spec.topologySpreadConstraints ?? []).some((t: any) => t.topologyKey === 'kubernetes.io/hostname')) problems.push(`${id(w)}: not spread over nodes`);
    }
    for (const ctr of containers(docs).filter((c) => c.svc === 'scheduler' || c.svc === 'controller-manager')) {
      if (serviceConfig(ctr, problems)?.leaderElect !== true) problems.push(`${ctr.where}: --leader-elect is not on`);
    }
    expect([...new Set(problems)]).toEqual([]);
  });
});
