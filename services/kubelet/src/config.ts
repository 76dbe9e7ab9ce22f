// The kubelet's configuration: every flag of the binary and the typed config start() takes.
// The node-side flags (runtime, root dir, pod CIDR, capacity, back-off, logs: engineFlags) and
// how they become a runtime and a PodManager; the API-side flags (apiserver, credentials, the
// kubelet API port, heartbeats, simulated nodes: agentFlags); @k8ts/client's delegated
// authentication and authorization flags (who may call the kubelet API); and the kit's server
// flags with --listen optional (kubeletServerFlags). main.ts puts the lists together.
import * as os from 'os';
import * as path from 'path';
import { type ApiserverConfig, type DelegatedAuthConfig, apiserverFlags, delegatedAuthFlags } from '@k8ts/client';
import { type FlagSpec, serverFlags } from '@k8ts/kit';
import { Quantity, QuantityError } from '@k8ts/machinery';
import type { Logger } from 'pino';
import { ImageTable } from './images';
import type { NodeIdentity } from './pod/manager';
import type { BackoffPolicy } from './pod/backoff';
import { ProcessRuntime } from './runtime/process';
import { SimRuntime } from './runtime/sim';
import { parseCidr } from './runtime/ipam';
import type { Runtime } from './runtime/types';

/** Why a flag value is not a Kubernetes quantity; undefined when it is one. */
function quantityProblem(v: string): string | undefined {
  try {
    Quantity.parse(v);
    return undefined;
  } catch (err) {
    if (err instanceof QuantityError) return err.message;
    throw err;
  }
}

export const engineFlags: FlagSpec[] = [
  { name: 'node-name', type: 'string', description: 'the node name (spec.nodeName of its pods); default: the hostname' },
  { name: 'node-ip', type: 'string', default: '127.10.0.1', description: "the node's IP, reported as the pods' hostIP" },
  {
    name: 'pod-cidr',
    type: 'string',
    default: '',
    description:
      "the range pod IPs come from (loopback on one machine, e.g. 127.244.1.0/24); empty: the Node's spec.podCIDR, assigned by the controller-manager's node IPAM. With --sim-nodes, split into one range per node",
    validate: (v: string) => {
      if (v === '') return undefined;
      try {
        parseCidr(v);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  },
  { name: 'root-dir', type: 'string', description: 'state, logs and IP allocations; default .k8ts/kubelet/<node-name>' },
  { name: 'runtime', type: 'string', default: 'process', description: 'process (child processes) or sim (no processes)', validate: (v: string) => (v === 'process' || v === 'sim' ? undefined : 'must be process or sim') },
  { name: 'image-table', type: 'file', description: 'a JSON image table {"name": {"command": [...], "args": [...], "env": {...}}}' },
  { name: 'allow-local-images', type: 'bool', default: false, description: 'let images named local/<x> run the container command as is on the host' },
  { name: 'cpu', type: 'string', description: 'allocatable cpu (e.g. 4 or 3500m); default: the CPUs of the machine', validate: quantityProblem },
  { name: 'memory', type: 'string', description: 'allocatable memory (e.g. 8Gi); default: the memory of the machine', validate: quantityProblem },
  { name: 'max-pods', type: 'int', default: 110, min: 1, description: 'the most pods the node runs (capacity "pods")' },
  { name: 'pods', type: 'int', min: 1, description: 'the same as --max-pods (wins when both are given)' },
  { name: 'crashloop-backoff-base', type: 'duration', default: '10s', description: 'the first restart back-off of a crashing container, doubling each time' },
  { name: 'crashloop-backoff-cap', type: 'duration', default: '5m', description: 'the longest restart back-off' },
  { name: 'log-max-bytes', type: 'int', default: 10 * 1024 * 1024, min: 1024, description: 'rotate a container log file past this size' },
  { name: 'log-max-files', type: 'int', default: 4, min: 0, description: 'rotated log files kept per container instance' },
  { name: 'sim-start-delay', type: 'duration', default: '50ms', description: 'sim runtime: time from start to running' },
];

/** The typed values of engineFlags, as parseConfig returns them. */
export interface EngineConfig {
  nodeName?: string;
  nodeIp: string;
  podCidr: string;
  rootDir?: string;
  runtime: string;
  imageTable?: string;
  allowLocalImages: boolean;
  cpu?: string;
  memory?: string;
  maxPods: number;
  pods?: number;
  crashloopBackoffBase: number;
  crashloopBackoffCap: number;
  logMaxBytes: number;
  logMaxFiles: number;
  simStartDelay: number;
}

// --token-file holds a node token (user system:node:<node-name>); with --sim-nodes, the token
// of a user that may write every simulated node.
export const agentFlags: FlagSpec[] = [
  ...apiserverFlags,
  {
    name: 'kubelet-port',
    type: 'int',
    default: 10250,
    min: 0,
    max: 65535,
    description: 'the port of the kubelet API (k8ts.kubelet.v1, container logs) on --node-ip; 0 picks a free port. --listen, when given, wins',
  },
  {
    name: 'sim-nodes',
    type: 'int',
    default: 0,
    min: 0,
    description: 'run this many simulated nodes (<node-name>-1 … -N) in this process over the sim runtime, each with its own Node, Lease and pods',
  },
  { name: 'node-labels', type: 'list', default: [], description: 'extra labels of the Node, key=value,…' },
  { name: 'node-lease-duration-seconds', type: 'int', default: 40, min: 1, description: "the Lease's leaseDurationSeconds" },
  { name: 'lease-renew-interval', type: 'duration', default: '10s', min: 100, description: 'how often the Lease in kube-node-lease is renewed' },
  { name: 'node-status-update-frequency', type: 'duration', default: '10s', min: 100, description: 'how often node status is computed (and posted when it changed)' },
  { name: 'node-status-report-frequency', type: 'duration', default: '1m', min: 100, description: 'node status is posted at least this often even when unchanged' },
  { name: 'probe-second', type: 'duration', default: '1s', min: 1, description: 'how long one second of probe settings lasts (tests shorten it)' },
  { name: 'pod-resync', type: 'duration', default: '10s', min: 100, description: 'each pod worker re-syncs at least this often' },
  { name: 'event-qps', type: 'int', default: 50, min: 0, description: 'Events created per second at most (0: no limit); more are dropped' },
  { name: 'event-burst', type: 'int', default: 100, min: 1, description: 'Events allowed in a burst above --event-qps' },
  { name: 'status-concurrency', type: 'int', default: 32, min: 1, description: 'pod status writes in flight at once' },
];

/** The kit's server flags, with --listen optional: by default the kubelet API listens on <node-ip>:<kubelet-port>. */
export const kubeletServerFlags: FlagSpec[] = serverFlags.map((f) =>
  f.name === 'listen'
    ? { ...f, default: '', required: false, description: 'address of the kubelet API (gRPC), host:port; default <node-ip>:<kubelet-port>' }
    : f,
);

/** Every flag of the kubelet binary but the server flags (main.ts adds kubeletServerFlags). */
export const flags: FlagSpec[] = [...engineFlags, ...agentFlags, ...delegatedAuthFlags];

/**
 * The configuration start() takes: the parsed flags, camelCased, as parseConfig returns them.
 * Fields start() has a default for are optional, so that tests can give only what they change.
 */
export interface KubeletConfig extends EngineConfig, ApiserverConfig, DelegatedAuthConfig {
  apiserver: string;
  kubeletPort?: number;
  simNodes?: number;
  nodeLabels?: string[];
  nodeLeaseDurationSeconds?: number;
  leaseRenewInterval?: number;
  nodeStatusUpdateFrequency?: number;
  nodeStatusReportFrequency?: number;
  probeSecond?: number;
  podResync?: number;
  eventQps?: number;
  eventBurst?: number;
  statusConcurrency?: number;
  // kubeletServerFlags.
  listen?: string;
  metricsListen?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  maxMessageBytes?: number;
  logLevel?: string;
  shutdownTimeout?: number;
}

export function nodeIdentity(cfg: EngineConfig): NodeIdentity {
  return {
    name: cfg.nodeName || os.hostname(),
    ip: cfg.nodeIp,
    allocatable: {
      cpuMilli: cfg.cpu ? Quantity.parse(cfg.cpu).milliValue() : os.cpus().length * 1000,
      memoryBytes: cfg.memory ? Quantity.parse(cfg.memory).value() : os.totalmem(),
      pods: cfg.pods || cfg.maxPods || 110,
    },
  };
}

export function backoffPolicy(cfg: EngineConfig): BackoffPolicy {
  return { baseMs: cfg.crashloopBackoffBase, capMs: cfg.crashloopBackoffCap, resetAfterMs: 600_000 };
}

export function rootDir(cfg: EngineConfig): string {
  return path.resolve(cfg.rootDir || path.join('.k8ts', 'kubelet', cfg.nodeName || os.hostname()));
}

/**
 * The runtime the flags ask for. `podCIDR` overrides --pod-cidr (the kubelet passes the range
 * it settled on: the flag's, or the one the node IPAM assigned).
 */
export function createRuntime(cfg: EngineConfig, logger?: Logger, podCIDR = cfg.podCidr): Runtime {
  if (!podCIDR) throw new Error('createRuntime: no pod CIDR (give --pod-cidr, or wait for the Node to get spec.podCIDR)');
  if (cfg.runtime === 'sim') return new SimRuntime({ podCIDR, startDelayMs: cfg.simStartDelay });
  return new ProcessRuntime({
    rootDir: rootDir(cfg),
    podCIDR,
    images: new ImageTable({ file: cfg.imageTable || undefined, allowLocal: cfg.allowLocalImages }),
    logRotation: { maxBytes: cfg.logMaxBytes, maxFiles: cfg.logMaxFiles },
    logger,
  });
}
