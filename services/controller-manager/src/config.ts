// The controller-manager's flags (its own, and with the kit's server flags: `flags`) and their
// typed form, ControllerManagerConfig, which start() takes.
import { apiserverFlagsWith } from '@k8ts/client';
import { ConfigError, type FlagSpec, serverFlags } from '@k8ts/kit';

const rate = (v: string) => (/^\d+(\.\d+)?$/.test(v) ? undefined : 'must be a non-negative number such as 0.1');
const fraction = (v: string) => (/^(0(\.\d+)?|1(\.0+)?)$/.test(v) ? undefined : 'must be a number between 0 and 1');

export const controllerManagerFlags: FlagSpec[] = [
  ...apiserverFlagsWith({ defaultAddress: '127.0.0.1:6443' }),
  {
    name: 'controllers',
    type: 'list',
    default: ['*'],
    description: "Controllers to run: '*' for all, 'name' to add one, '-name' to leave one out (replicaset, job, deployment, endpoints, nodelifecycle, podgc, nodeipam, namespace, serviceaccount, token, garbagecollector).",
  },
  { name: 'leader-elect', type: 'bool', default: true, description: 'Run the controllers only while holding the leader lease (several instances: one active, the rest on standby).' },
  { name: 'leader-elect-lease-duration', type: 'duration', default: '15s', min: 1000, description: 'How long a leader lease is valid after its last renewal.' },
  { name: 'leader-elect-renew-deadline', type: 'duration', default: '10s', min: 500, description: 'The leader gives up when it could not renew for this long.' },
  { name: 'leader-elect-retry-period', type: 'duration', default: '2s', min: 100, description: 'How often candidates try to acquire and the leader renews.' },
  { name: 'leader-elect-resource-namespace', type: 'string', default: 'kube-system', description: 'Namespace of the leader lease.' },
  { name: 'leader-elect-resource-name', type: 'string', default: 'kube-controller-manager', description: 'Name of the leader lease.' },
  { name: 'concurrent-replicaset-syncs', type: 'int', default: 5, min: 1, description: 'ReplicaSets reconciled at once.' },
  { name: 'concurrent-deployment-syncs', type: 'int', default: 5, min: 1, description: 'Deployments reconciled at once.' },
  { name: 'concurrent-job-syncs', type: 'int', default: 5, min: 1, description: 'Jobs reconciled at once.' },
  { name: 'concurrent-endpoint-syncs', type: 'int', default: 5, min: 1, description: 'Services whose Endpoints are reconciled at once.' },
  { name: 'concurrent-namespace-syncs', type: 'int', default: 10, min: 1, description: 'Namespaces deleted at once.' },
  { name: 'concurrent-serviceaccount-syncs', type: 'int', default: 5, min: 1, description: 'Namespaces given their service accounts at once.' },
  { name: 'concurrent-serviceaccount-token-syncs', type: 'int', default: 5, min: 1, description: 'Service accounts and token Secrets reconciled at once.' },
  { name: 'concurrent-gc-syncs', type: 'int', default: 20, min: 1, description: 'Garbage collector workers.' },
  { name: 'concurrent-node-syncs', type: 'int', default: 5, min: 1, description: 'Nodes (and pod evictions) handled at once by the node lifecycle controller.' },
  { name: 'node-monitor-period', type: 'duration', default: '5s', min: 10, description: 'How often every node is checked.' },
  { name: 'node-monitor-grace-period', type: 'duration', default: '40s', min: 10, description: "Silence from a node's kubelet (no Lease renewal, no status) after which its Ready condition becomes Unknown." },
  { name: 'node-startup-grace-period', type: 'duration', default: '1m', min: 10, description: 'The same for a node that never posted a Ready condition.' },
  { name: 'node-eviction-rate', type: 'string', default: '0.1', validate: rate, description: 'Nodes per second that may get a NoExecute taint in a healthy zone.' },
  { name: 'secondary-node-eviction-rate', type: 'string', default: '0.01', validate: rate, description: 'The same in a partly disrupted zone larger than --large-cluster-size-threshold.' },
  { name: 'unhealthy-zone-threshold', type: 'string', default: '0.55', validate: fraction, description: 'Share of not-ready nodes (at least 3) that makes a zone partly disrupted.' },
  { name: 'large-cluster-size-threshold', type: 'int', default: 50, min: 0, description: 'A partly disrupted zone up to this many nodes gets no evictions.' },
  {
    name: 'terminated-pod-gc-threshold',
    type: 'int',
    default: 12500,
    description: 'Terminated pods (Succeeded, Failed) kept before the pod garbage collector deletes the oldest; 0 or less: no limit.',
  },
  { name: 'allocate-node-cidrs', type: 'bool', default: true, description: 'Give every node a pod CIDR from --cluster-cidr (the nodeipam controller).' },
  { name: 'cluster-cidr', type: 'string', default: '127.244.0.0/16', description: 'The range pod CIDRs are carved from.' },
  { name: 'node-cidr-mask-size', type: 'int', default: 24, min: 1, max: 32, description: "The prefix length of each node's pod CIDR." },
  { name: 'root-ca-file', type: 'file', description: 'PEM stored as ca.crt in service-account token Secrets.' },
  { name: 'namespace-sync-period', type: 'duration', default: '2s', min: 100, description: 'How soon a terminating namespace with content left is looked at again.' },
];

/** Every flag of the binary: the kit's server flags and the controller-manager's own. */
export const flags: FlagSpec[] = [...serverFlags, ...controllerManagerFlags];

/** The controller-manager's configuration, as parseConfig returns it for `flags`. */
export interface ControllerManagerConfig {
  apiserver: string;
  tokenFile?: string;
  apiserverCa?: string;
  apiserverServerName?: string;
  controllers: string[];
  leaderElect: boolean;
  leaderElectLeaseDuration: number;
  leaderElectRenewDeadline: number;
  leaderElectRetryPeriod: number;
  leaderElectResourceNamespace: string;
  leaderElectResourceName: string;
  concurrentReplicasetSyncs: number;
  concurrentDeploymentSyncs: number;
  concurrentJobSyncs: number;
  concurrentEndpointSyncs: number;
  concurrentNamespaceSyncs: number;
  concurrentServiceaccountSyncs: number;
  concurrentServiceaccountTokenSyncs: number;
  concurrentGcSyncs: number;
  concurrentNodeSyncs: number;
  nodeMonitorPeriod: number;
  nodeMonitorGracePeriod: number;
  nodeStartupGracePeriod: number;
  nodeEvictionRate: string;
  secondaryNodeEvictionRate: string;
  unhealthyZoneThreshold: string;
  largeClusterSizeThreshold: number;
  terminatedPodGcThreshold: number;
  allocateNodeCidrs: boolean;
  clusterCidr: string;
  nodeCidrMaskSize: number;
  rootCaFile?: string;
  namespaceSyncPeriod: number;
  // The kit's serverFlags.
  listen: string;
  metricsListen: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  maxMessageBytes: number;
  logLevel: string;
  shutdownTimeout: number;
}

/** Kubernetes' names of the same controllers (old and new style), accepted in --controllers. */
const ALIASES: Record<string, string> = {
  endpoint: 'endpoints',
  'endpoints-controller': 'endpoints',
  'replicaset-controller': 'replicaset',
  'deployment-controller': 'deployment',
  'job-controller': 'job',
  'node-lifecycle-controller': 'nodelifecycle',
  'pod-garbage-collector-controller': 'podgc',
  'node-ipam-controller': 'nodeipam',
  'namespace-controller': 'namespace',
  'serviceaccount-controller': 'serviceaccount',
  'serviceaccount-token': 'token',
  'serviceaccount-token-controller': 'token',
  'garbage-collector-controller': 'garbagecollector',
};

/**
 * Which controllers run, from --controllers: '*' enables all; 'name' enables one; '-name'
 * disables one (Kubernetes' syntax, and Kubernetes' controller names are accepted too).
 * Unknown names are a ConfigError.
 */
export function enabledControllers(spec: string[], known: readonly string[]): string[] {
  const enabled = new Set<string>();
  const disabled = new Set<string>();
  let all = false;
  for (const raw of spec) {
    const item = raw.trim();
    if (item === '*') {
      all = true;
      continue;
    }
    const negated = item.startsWith('-');
    const given = negated ? item.slice(1) : item;
    const name = ALIASES[given] ?? given;
    if (!known.includes(name)) {
      throw new ConfigError(`unknown controller ${JSON.stringify(name)} in --controllers: known controllers are ${known.join(', ')}`, { flag: 'controllers', value: raw });
    }
    (negated ? disabled : enabled).add(name);
  }
  return known.filter((n) => !disabled.has(n) && (all || enabled.has(n)));
}
