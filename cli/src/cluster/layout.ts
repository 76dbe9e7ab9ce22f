// The data directory of a local cluster and the two files that describe it:
//
//   <data-dir>/cluster.json   what the cluster is (written on first `up`, kept afterwards):
//                             name, nodes, runtime, address ranges, the apiserver's port
//   <data-dir>/state.json     what is running now: one entry per process (pid, its start
//                             time, command line, log, address), written by `up`, read by
//                             `down`, `status`, `stop` and `start`
//   <data-dir>/config         a client config with the admin credentials (k8ts, gRPC)
//   <data-dir>/kubeconfig     a kubeconfig for kubectl and Kubernetes client libraries (HTTPS,
//                             the admin client certificate), rewritten by every `up`
//   <data-dir>/pki/           keys, certificates and tokens (pki.ts)
//   <data-dir>/nats/          nats-server's configuration and JetStream storage: the state
//   <data-dir>/nodes/<node>/  each kubelet's root directory (pods, their logs)
//   <data-dir>/logs/<component>.log
import * as fs from 'fs';
import * as path from 'path';
import { k8tsHome } from '../config';

export interface ClusterSettings {
  name: string;
  nodes: number;
  runtime: 'process' | 'sim';
  simNodes: number;
  /** Node i gets the i-th address of this /24: 127.10.0.i. */
  nodeSubnet: string;
  /** Pod CIDRs (/24 per node) are allocated from it by the controller-manager. */
  clusterCidr: string;
  serviceCidr: string;
  /** The apiserver's port on 127.0.0.1 (kept so that the config file stays valid). */
  apiserverPort: number;
  /** The apiserver's HTTPS port on 127.0.0.1 (kept so that the kubeconfig stays valid). Absent in older settings: chosen on the next up. */
  apiserverHttpsPort?: number;
  /** JetStream's sync_interval: 'always' (fsync before every ack) or a duration such as '2m'. Absent in older settings: always. */
  natsSync?: string;
  created: string;
}

export interface ProcessEntry {
  /** Component name: nats, store, apiserver, scheduler, controller-manager, kubelet-<node>, proxy-<node>. */
  name: string;
  pid: number;
  /** /proc/<pid>/stat field 22, so that a reused pid is never signalled. */
  startTicks: number;
  command: string;
  args: string[];
  log: string;
  /** The gRPC address (nats: the client URL's host:port). */
  address?: string;
  /** The node it serves (kubelets and proxies). */
  node?: string;
  /** True after `k8ts stop NAME`: not running on purpose. */
  stopped?: boolean;
}

export interface ClusterState {
  /** The `k8ts up` process supervising the cluster in the foreground (absent with --detach). */
  supervisorPid?: number;
  startedAt: string;
  /** The apiserver's gRPC address, host:port. */
  server: string;
  /** The apiserver's Kubernetes HTTP API, https://host:port (absent in the state of older versions). */
  httpsServer?: string;
  processes: ProcessEntry[];
}

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(k8tsHome(env), 'clusters', 'default');
}

export interface Layout {
  dataDir: string;
  settings: string;
  state: string;
  config: string;
  kubeconfig: string;
  logs: string;
  nats: string;
  nodes: string;
}

export function layout(dataDir: string): Layout {
  const d = path.resolve(dataDir);
  return {
    dataDir: d,
    settings: path.join(d, 'cluster.json'),
    state: path.join(d, 'state.json'),
    config: path.join(d, 'config'),
    kubeconfig: path.join(d, 'kubeconfig'),
    logs: path.join(d, 'logs'),
    nats: path.join(d, 'nats'),
    nodes: path.join(d, 'nodes'),
  };
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export const readSettings = (l: Layout) => readJson<ClusterSettings>(l.settings);
export const writeSettings = (l: Layout, s: ClusterSettings) => writeJson(l.settings, s);
export const readState = (l: Layout) => readJson<ClusterState>(l.state);
export const writeState = (l: Layout, s: ClusterState) => writeJson(l.state, s);

export function removeState(l: Layout): void {
  fs.rmSync(l.state, { force: true });
}

/** The i-th address (1-based) of a /24 written as a.b.c.0/24. */
export function nodeIP(subnet: string, i: number): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.0\/24$/.exec(subnet);
  if (!m) throw new Error(`node subnet must be a /24 such as 127.10.0.0/24, got "${subnet}"`);
  if (i < 1 || i > 254) throw new Error(`at most 254 nodes fit in ${subnet}`);
  return `${m[1]}.${m[2]}.${m[3]}.${i}`;
}

export function nodeName(i: number): string {
  return `node-${i}`;
}

/** Stop order: nodes first, the store and NATS last. */
export function stopRank(name: string): number {
  if (name.startsWith('proxy-')) return 0;
  if (name.startsWith('kubelet-')) return 1;
  if (name === 'controller-manager' || name === 'scheduler') return 2;
  if (name === 'apiserver') return 3;
  if (name === 'store') return 4;
  return 5;
}
