// The kubelet's node-side flags (runtime, root dir, pod CIDR, capacity, back-off, logs) and how
// they become a runtime and a PodManager. main.ts (with the API wiring) adds the apiserver
// flags and serverFlags from @k8ts/kit to these.
import * as os from 'os';
import * as path from 'path';
import type { FlagSpec } from '@k8ts/kit';
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
