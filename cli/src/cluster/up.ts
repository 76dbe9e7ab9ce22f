// k8ts up: a local multi-node cluster from separate processes, like kind without containers.
//
//   nats-server (JetStream, file storage under the data dir; only the store's and the
//   apiserver's NKey users may connect, each to its own subjects: natsusers.ts)
//     -> store (etcd v3 API on the JetStream stream; mutual TLS, only the apiserver's and the
//        store administrator's certificates may call) and apiserver (token file, signing key
//        and certificates from <data-dir>/pki; it waits for the store) together
//       -> scheduler, controller-manager, and per node a kubelet and a proxy, together
//
// The apiserver serves gRPC on its --listen port and the Kubernetes HTTP API over HTTPS on a
// second port (--http-listen), both on 127.0.0.1 and both kept in cluster.json so that the
// config file and the kubeconfig stay valid across restarts. Its serving certificate and the
// admin's client certificate come from the cluster CA (pki.ts); <data-dir>/kubeconfig is
// written once the cluster is ready.
//
// Each is `node services/<name>/dist/main.js ...` (nats-server from PATH or /usr/sbin),
// started detached with its output in <data-dir>/logs/<name>.log. A component is `listening`
// when it logs {"msg":"listening","address":...}, `ready` when its gRPC health check answers
// SERVING (the apiserver: and GET /readyz over HTTPS answers 200; a kubelet: when its Node is
// Ready). Everything started is recorded in state.json as it starts, so `k8ts down` can stop
// it even if `up` itself dies. If anything
// fails to start, everything started so far is stopped again and the error names the
// component and shows the end of its log.
//
// This module keeps the sequence; the parts live beside it: binaries.ts (where the programs
// are), ports.ts (port choice), plan.ts (command lines), launcher.ts (start one component and
// wait for it), readiness.ts (listening lines, Nodes Ready), supervise.ts (foreground mode,
// stopping everything), procs.ts (processes), health.ts (health checks).
import * as fs from 'fs';
import * as path from 'path';
import { connect } from '@k8ts/client';
import { MIN_NATS_SERVER, natsServerVersion, natsVersionOk } from '@k8ts/kit';
import type { Clientset } from '@k8ts/client';
import { configPath, loadConfig, saveConfig, upsertContext } from '../config';
import type { Context } from '../config';
import { CliError } from '../errors';
import type { IO } from '../io';
import { parseTimeout } from '../session';
import { k8tsCommand, pathHint, shellWord } from '../self';
import { findNatsServer, requireBuiltServices } from './binaries';
import { writeKubeconfig } from './kubeconfig';
import { Launcher } from './launcher';
import { defaultDataDir, layout, nodeIP, readSettings, readState, removeState, writeSettings } from './layout';
import type { ClusterSettings, ClusterState, Layout } from './layout';
import { ensureNatsUsers, natsAuthorization } from './natsusers';
import { apiserverSans, ensureCertificates, ensureCredentials, ensureNodeCertificates, firstServiceIP, pkiPaths } from './pki';
import type { Credentials } from './pki';
import { expectedNodes, httpsServerUrl, kubeletOf, nodeServers, planComponents } from './plan';
import { APISERVER_IP, choosePort, freePort } from './ports';
import { isRunning, stopPodProcesses } from './procs';
import type { Spawned } from './procs';
import { Progress } from './progress';
import { waitNodesReady } from './readiness';
import { stopEverything } from './supervise';

// The parts up.ts was made of, still importable from here.
export { servicesDir, serviceMain, findNatsServer } from './binaries';
export { APISERVER_IP, portFree, freePort } from './ports';
export { SHUTDOWN_TIMEOUT, SIM_POD_CIDR, expectedNodes, extraArgs, httpsAddress, httpsServerUrl, nodeFlags, nodeServers, planComponents } from './plan';
export type { HttpsReadiness, Plan } from './plan';
export { Launcher } from './launcher';
export { componentKind, listeningAddress } from './readiness';
export type { ComponentKind } from './readiness';
export { StartError } from './procs';
export { stopEverything, supervise } from './supervise';

export interface UpOptions {
  nodes?: string;
  runtime?: string;
  simNodes?: string;
  dataDir?: string;
  detach?: boolean;
  /** false with --no-config-update. */
  configUpdate?: boolean;
  name?: string;
  apiserverPort?: string;
  apiserverHttpsPort?: string;
  nodeSubnet?: string;
  clusterCidr?: string;
  serviceCidr?: string;
  componentArg?: string[];
  timeout?: string;
  logLevel?: string;
  natsSync?: string;
}

function intFlag(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`invalid --${name} "${value}": must be an integer from ${min} to ${max}`);
  return n;
}

/** Cluster settings: those of an existing data dir, with the flags given now applied. */
export async function resolveSettings(l: Layout, opts: UpOptions): Promise<ClusterSettings> {
  const old = readSettings(l);
  const nodes = intFlag(opts.nodes, 'nodes', 0, 254);
  const simNodes = intFlag(opts.simNodes, 'sim-nodes', 0, 100000);
  if (opts.runtime !== undefined && opts.runtime !== 'process' && opts.runtime !== 'sim') {
    throw new CliError(`invalid --runtime "${opts.runtime}": must be process or sim`);
  }
  const port = intFlag(opts.apiserverPort, 'apiserver-port', 0, 65535);
  const httpsPort = intFlag(opts.apiserverHttpsPort, 'apiserver-https-port', 0, 65535);
  const s: ClusterSettings = {
    name: opts.name ?? old?.name ?? (path.basename(l.dataDir) || 'default'),
    nodes: nodes ?? old?.nodes ?? 3,
    runtime: (opts.runtime as ClusterSettings['runtime']) ?? old?.runtime ?? 'process',
    simNodes: simNodes ?? old?.simNodes ?? 0,
    nodeSubnet: opts.nodeSubnet ?? old?.nodeSubnet ?? '127.10.0.0/24',
    clusterCidr: opts.clusterCidr ?? old?.clusterCidr ?? '127.244.0.0/16',
    serviceCidr: opts.serviceCidr ?? old?.serviceCidr ?? '127.96.0.0/16',
    apiserverPort: old?.apiserverPort ?? 0,
    apiserverHttpsPort: old?.apiserverHttpsPort,
    natsSync: opts.natsSync ?? old?.natsSync ?? 'always',
    created: old?.created ?? new Date().toISOString(),
  };
  if (s.natsSync !== 'always' && !/^\d+(ms|s|m|h)$/.test(s.natsSync ?? '')) {
    throw new CliError(`invalid --nats-sync "${s.natsSync}": must be always or a duration such as 30s or 2m`);
  }
  nodeIP(s.nodeSubnet, 1);
  if (s.nodes === 0 && s.simNodes === 0) throw new CliError('a cluster needs nodes: give --nodes 1 or more, or --sim-nodes');
  firstServiceIP(s.serviceCidr);
  if (port && httpsPort && port === httpsPort) throw new CliError(`--apiserver-port and --apiserver-https-port must differ; both are ${port}`);
  s.apiserverPort = await choosePort(port, old?.apiserverPort, 'apiserver-port', 'apiserver', httpsPort ? [httpsPort] : []);
  s.apiserverHttpsPort = await choosePort(httpsPort, old?.apiserverHttpsPort, 'apiserver-https-port', "apiserver's HTTPS API", [s.apiserverPort]);
  return s;
}

export interface UpResult {
  layout: Layout;
  settings: ClusterSettings;
  /** The apiserver's gRPC address. */
  server: string;
  /** The apiserver's Kubernetes HTTP API, https://host:port. */
  httpsServer: string;
  /** <data-dir>/kubeconfig. */
  kubeconfig: string;
  credentials: Credentials;
  seconds: number;
  configFile: string;
  contextName: string;
  /** The processes started (children of this process until it exits). */
  children: Spawned[];
}

/** Writes <data-dir>/kubeconfig for the HTTPS API, with the admin's client certificate. */
export function writeClusterKubeconfig(l: Layout, s: ClusterSettings): void {
  const p = pkiPaths(l.dataDir);
  const read = (f: string) => fs.readFileSync(f, 'utf8');
  writeKubeconfig(l.kubeconfig, { server: httpsServerUrl(s), caPem: read(p.caCert), clientCertPem: read(p.adminCert), clientKeyPem: read(p.adminKey) });
}

/** Writes <data-dir>/kubeconfig, <data-dir>/config and (unless disabled) the user's config with a context for the cluster. */
function writeConfigs(l: Layout, s: ClusterSettings, server: string, creds: Credentials, opts: UpOptions, io: IO): { configFile: string; contextName: string } {
  writeClusterKubeconfig(l, s);
  const contextName = `k8ts-${s.name}`;
  const ctx: Context = { name: contextName, server, token: creds.admin, namespace: 'default', 'data-dir': l.dataDir };
  saveConfig(l.config, upsertContext(loadConfig(l.config), ctx, true));
  if (opts.configUpdate === false) return { configFile: l.config, contextName };
  const userFile = configPath(undefined, io.env);
  if (path.resolve(userFile) !== path.resolve(l.config)) {
    const existing = loadConfig(userFile).contexts.find((c) => c.name === contextName);
    saveConfig(userFile, upsertContext(loadConfig(userFile), { ...ctx, namespace: existing?.namespace ?? 'default' }, true));
  }
  return { configFile: userFile, contextName };
}

export async function up(io: IO, opts: UpOptions): Promise<UpResult> {
  const began = Date.now();
  const l = layout(opts.dataDir ?? defaultDataDir(io.env));
  fs.mkdirSync(l.dataDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(l.logs, { recursive: true });

  const previous = readState(l);
  if (previous) {
    const running = previous.processes.filter((p) => isRunning(p));
    if (running.length > 0) {
      throw new CliError(
        `a cluster is already running from ${l.dataDir} (${running.map((p) => p.name).join(', ')}): see "${k8tsCommand(io.env)} status --data-dir ${shellWord(l.dataDir)}", stop it with "${k8tsCommand(io.env)} down --data-dir ${shellWord(l.dataDir)}"`,
      );
    }
    removeState(l);
  }
  // Pods left over from a cluster that was not stopped cleanly.
  await stopPodProcesses(l.dataDir, 2000);

  const nats = findNatsServer(io.env);
  const natsVersion = natsServerVersion(nats);
  const oldNats = natsVersion !== undefined && !natsVersionOk(natsVersion);
  if (oldNats) {
    io.err(
      `warning: ${nats} is nats-server ${natsVersion}; k8ts needs ${MIN_NATS_SERVER} or later for the cluster state to survive a crashed NATS server (run make setup, or set NATS_SERVER_BIN)\n`,
    );
  }
  requireBuiltServices(io.env);
  const settings = await resolveSettings(l, opts);
  writeSettings(l, settings);
  const nodeNames = expectedNodes(settings);
  const creds = ensureCredentials(
    l.dataDir,
    nodeNames.filter((n) => kubeletOf(n) !== 'kubelet-sim'),
    { simKubelet: settings.simNodes > 0 },
  );
  const certificates = await ensureCertificates(l.dataDir, apiserverSans(APISERVER_IP, settings.serviceCidr));
  certificates.issued.push(...(await ensureNodeCertificates(l.dataDir, nodeServers(settings))));
  const natsUsers = ensureNatsUsers(certificates.paths);
  const server = `${APISERVER_IP}:${settings.apiserverPort}`;
  const httpsServer = httpsServerUrl(settings);

  const timeoutMs = parseTimeout(opts.timeout) || 120_000;
  const deadline = Date.now() + timeoutMs;
  const progress = new Progress((t) => io.err(t), io.isTTY);
  const state: ClusterState = { startedAt: new Date().toISOString(), server, httpsServer, processes: [] };
  if (!opts.detach) state.supervisorPid = process.pid;
  const launcher = new Launcher(l, state, progress, io.env, deadline);

  const sims = settings.simNodes > 0 ? ` + ${settings.simNodes} simulated` : '';
  io.err(`Starting cluster "${settings.name}" in ${l.dataDir} (${settings.nodes} node${settings.nodes === 1 ? '' : 's'}${sims}, runtime ${settings.runtime})\n`);
  if (certificates.issued.length > 0) io.err(`Certificates issued in ${certificates.paths.dir}: ${certificates.issued.join(', ')}\n`);
  let cs: Clientset | undefined;
  try {
    const natsPort = await freePort();
    const storePort = await freePort();
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    fs.mkdirSync(l.nats, { recursive: true });
    const natsConf = path.join(l.nats, 'nats.conf');
    fs.writeFileSync(
      natsConf,
      [
        '# Written by k8ts up on every start (the port changes; the storage stays).',
        'server_name: k8ts',
        `listen: 127.0.0.1:${natsPort}`,
        'max_payload: 8MB',
        // sync_interval: always fsyncs every write before JetStream acknowledges it, so an
        // acknowledged write survives a power loss (one server: no replica to fall back on).
        // (nats-server 2.9 knows no sync_interval: it fsyncs every 2 minutes, as warned above.)
        `jetstream { store_dir: ${JSON.stringify(path.join(l.nats, 'jetstream'))}${oldNats ? '' : `, sync_interval: ${settings.natsSync ?? 'always'}`} }`,
        // No anonymous clients: the store writes its stream, the apiserver reads it, nobody else.
        natsAuthorization(natsUsers),
      ].join('\n'),
    );
    const plans = planComponents(l, settings, natsUrl, `127.0.0.1:${storePort}`, opts, io.env);
    for (const p of ['nats', 'store', 'apiserver', ...plans.controlPlane.map((x) => x.name), ...plans.nodes.map((x) => x.name)]) progress.add(p);

    await launcher.start({ name: 'nats', command: nats, args: ['-c', natsConf], kind: 'nats' });
    // The apiserver waits for the store by itself: start both at once. The others start once
    // the apiserver answers (they would retry until then, but on a machine with few CPUs
    // booting them alongside only slows the apiserver down, and their retries back off).
    const guard = (p: Promise<Spawned>) =>
      p.catch((e) => {
        launcher.abort(e);
        throw e;
      });
    await Promise.all([plans.store, plans.apiserver].map((p) => guard(launcher.start(p))));
    await Promise.all([...plans.controlPlane, ...plans.nodes].map((p) => guard(launcher.start(p))));
    cs = connect({ address: server, token: creds.admin, deadlineMs: 5000 });
    await waitNodesReady(cs, nodeNames, progress, launcher, deadline);
    progress.done();
  } catch (e) {
    progress.done();
    launcher.abort(e as Error);
    cs?.close();
    io.err('Stopping what was started...\n');
    await stopEverything(l, state.processes, 3000);
    removeState(l);
    throw e;
  }
  cs?.close();
  const { configFile, contextName } = writeConfigs(l, settings, server, creds, opts, io);
  const seconds = (Date.now() - began) / 1000;
  for (const sp of launcher.spawned) {
    if (opts.detach) sp.child.unref();
  }
  return { layout: l, settings, server, httpsServer, kubeconfig: l.kubeconfig, credentials: creds, seconds, configFile, contextName, children: launcher.spawned };
}

/**
 * What `up` prints once the cluster is ready. Every suggested command works as printed:
 * `command` is how this CLI is typed in the user's shell (self.ts), and the kubectl lines
 * name the kubeconfig by its absolute path.
 */
export function readyMessage(r: UpResult, detach: boolean, command = k8tsCommand()): string {
  const cfgFlag = r.configFile === r.layout.config ? ` --config ${shellWord(r.configFile)}` : '';
  const dd = r.layout.dataDir === defaultDataDir() ? '' : ` --data-dir ${shellWord(r.layout.dataDir)}`;
  const k = command;
  const nodes = `${r.settings.nodes} node${r.settings.nodes === 1 ? '' : 's'}${r.settings.simNodes > 0 ? ` and ${r.settings.simNodes} simulated` : ''}`;
  const lines = [
    '',
    `Cluster "${r.settings.name}" is ready: ${nodes} in ${r.seconds.toFixed(1)}s. The apiserver is at ${r.server} (gRPC) and ${r.httpsServer} (Kubernetes API).`,
    '',
    'Try:',
    `  ${k}${cfgFlag} get nodes`,
    `  ${k}${cfgFlag} create deployment web --image=k8ts/echo --replicas=3`,
    `  ${k}${cfgFlag} get pods -o wide`,
    `  ${k} status${dd}          # each component's health`,
    `  ${k} down${dd}            # stop the cluster (${detach ? 'it keeps running in the background' : 'or press Ctrl-C'})`,
    '',
    'With kubectl (or any Kubernetes client):',
    `  export KUBECONFIG=${shellWord(r.kubeconfig)}`,
    '  kubectl get nodes',
    '',
    `Config:      ${r.configFile} (context ${r.contextName})`,
    `Kubeconfig:  ${r.kubeconfig}`,
    `Logs:        ${r.layout.logs}`,
  ];
  if (k !== 'k8ts') lines.push('', `To type just "k8ts", put it on your PATH: ${pathHint()}`);
  lines.push('');
  return lines.join('\n');
}

