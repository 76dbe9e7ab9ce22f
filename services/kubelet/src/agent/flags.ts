// The kubelet's API-side flags (apiserver, credentials, the kubelet API port, heartbeats,
// simulated nodes, and who may call the kubelet API: @k8ts/client's delegated authentication
// and authorization flags) and the configuration start() takes: these plus the engine's flags
// (config.ts) plus the kit's server flags. main.ts puts the three lists together.
import { type ApiserverConfig, type DelegatedAuthConfig, apiserverFlags, delegatedAuthFlags } from '@k8ts/client';
import { type FlagSpec, serverFlags } from '@k8ts/kit';
import { type EngineConfig, engineFlags } from '../config';

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

/** Every flag of the kubelet binary. */
export const flags: FlagSpec[] = [...engineFlags, ...agentFlags, ...delegatedAuthFlags];

/** The configuration start() takes: the parsed flags, camelCased, as parseConfig returns them. */
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
  listen?: string;
  metricsListen?: string;
  logLevel?: string;
  [key: string]: unknown;
}
