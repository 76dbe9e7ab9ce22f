// The apiserver's flags (main.ts puts the kit's serverFlags first) and the typed configuration
// start() takes.
import { type FlagSpec, natsAuthFlags } from '@k8ts/kit';

/** The apiserver's own flags (the kit's serverFlags come first). */
export const flags: FlagSpec[] = [
  {
    name: 'etcd-servers',
    type: 'list',
    default: ['127.0.0.1:2379'],
    required: true,
    description: 'The store (or an etcd standing in for it): comma-separated host:port endpoints of its etcd v3 gRPC API.',
  },
  { name: 'etcd-cafile', type: 'file', description: "PEM CA bundle that verifies the store's serving certificate: TLS to the store." },
  { name: 'etcd-certfile', type: 'file', description: 'PEM client certificate presented to the store (with --etcd-keyfile); the store accepts only the identities it allows.' },
  { name: 'etcd-keyfile', type: 'file', description: 'PEM private key of --etcd-certfile.' },
  {
    name: 'nats-url',
    type: 'list',
    default: [],
    description: "NATS URLs of the store's JetStream: when set, the watch caches follow the store's stream directly (else an etcd Watch).",
  },
  { name: 'nats-stream', type: 'string', default: 'K8TS', description: "The store's JetStream stream." },
  ...natsAuthFlags,
  { name: 'nats-subject-prefix', type: 'string', default: '', description: "The stream's subject prefix; empty: the stream name in lower case." },
  { name: 'service-cluster-ip-range', type: 'string', default: '127.96.0.0/16', description: 'The CIDR Service cluster IPs are allocated from.' },
  { name: 'service-node-port-range', type: 'string', default: '30000-32767', description: 'The range NodePorts are allocated from, <min>-<max>.' },
  { name: 'event-ttl', type: 'duration', default: '1h', min: 1000, description: 'How long Events are kept (a store lease).' },
  {
    name: 'default-not-ready-toleration-seconds',
    type: 'int',
    default: 300,
    min: 0,
    description: 'tolerationSeconds of the NoExecute toleration for node.kubernetes.io/not-ready added to every pod that has none.',
  },
  {
    name: 'default-unreachable-toleration-seconds',
    type: 'int',
    default: 300,
    min: 0,
    description: 'tolerationSeconds of the NoExecute toleration for node.kubernetes.io/unreachable added to every pod that has none.',
  },
  { name: 'audit-log-path', type: 'string', default: '', description: "Append one JSON line per API call to this file ('-': stdout; empty: no audit log)." },
  { name: 'token-auth-file', type: 'file', description: 'Static bearer tokens, one "token,user,uid,\\"group1,group2\\"" line each (administrators, components).' },
  {
    name: 'service-account-key-file',
    type: 'file',
    description: 'PEM private key (ES256 or RS256) whose public half verifies service-account and node tokens.',
  },
  { name: 'service-account-issuer', type: 'string', default: 'k8ts', description: 'The "iss" of service-account and node tokens.' },
  {
    name: 'authorization-mode',
    type: 'list',
    default: ['RBAC', 'Node'],
    description: 'Authorizers, in order: RBAC, Node; or AlwaysAllow alone (tests only).',
  },
  { name: 'anonymous-auth', type: 'bool', default: false, description: 'Treat calls without a token as system:anonymous instead of refusing them (tests only).' },
  { name: 'watch-cache-history', type: 'duration', default: '5m', min: 1000, description: 'How long watch events stay available for a Watch to resume from.' },
  { name: 'watch-cache-max-events', type: 'int', default: 100000, min: 100, description: 'Most watch events kept per resource.' },
  { name: 'watch-bookmark-interval', type: 'duration', default: '10s', min: 100, description: 'How often a watch that asked for bookmarks gets one.' },
  { name: 'store-timeout', type: 'duration', default: '10s', min: 100, description: 'Deadline of each store call.' },
  {
    name: 'kubelet-ca',
    type: 'file',
    description: "PEM CA of kubelet serving certificates, verified when the apiserver reaches kubelets (always over TLS); none: kubelets' certificates are not verified.",
  },
  {
    name: 'kubelet-client-certificate',
    type: 'file',
    description: 'PEM client certificate the apiserver presents to kubelets (CN kube-apiserver-kubelet-client, bound to system:kubelet-api-admin).',
  },
  { name: 'kubelet-client-key', type: 'file', description: 'PEM private key of --kubelet-client-certificate.' },
  { name: 'bootstrap', type: 'bool', default: true, description: 'Create the system namespaces and the default RBAC policy at start.' },
  {
    name: 'http-listen',
    type: 'string',
    default: 'auto',
    description: "Address of the Kubernetes HTTP API (HTTPS), host:port; 'auto': the --listen host, port + 1 (a free port when --listen's is 0); 'none': off.",
  },
  { name: 'http-tls-cert', type: 'file', description: 'PEM serving certificate of the HTTPS API; none: --tls-cert, else a self-signed certificate made at start.' },
  { name: 'http-tls-key', type: 'file', description: 'PEM private key of --http-tls-cert.' },
  {
    name: 'client-ca-file',
    type: 'file',
    description: 'PEM CA of client certificates: an HTTPS client presenting one it signed is the user of its subject CN, in the groups of its O values.',
  },
  { name: 'advertise-address', type: 'string', default: '', description: 'The IP the kubernetes Service endpoints point at; empty: the HTTPS listen host.' },
];

/** The configuration start() takes: serverFlags and `flags`, parsed (camelCased) by parseConfig. */
export interface ApiserverConfig {
  // The kit's serverFlags.
  listen: string;
  metricsListen: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  maxMessageBytes: number;
  logLevel: string;
  shutdownTimeout: number;
  // The apiserver's own flags.
  etcdServers: string[];
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
  natsUrl: string[];
  natsUser?: string;
  natsPassword?: string;
  natsNkey?: string;
  natsCreds?: string;
  natsStream: string;
  natsSubjectPrefix: string;
  serviceClusterIpRange: string;
  serviceNodePortRange: string;
  eventTtl: number;
  defaultNotReadyTolerationSeconds: number;
  defaultUnreachableTolerationSeconds: number;
  auditLogPath: string;
  tokenAuthFile?: string;
  serviceAccountKeyFile?: string;
  serviceAccountIssuer: string;
  authorizationMode: string[];
  anonymousAuth: boolean;
  watchCacheHistory: number;
  watchCacheMaxEvents: number;
  watchBookmarkInterval: number;
  storeTimeout: number;
  kubeletCa?: string;
  kubeletClientCertificate?: string;
  kubeletClientKey?: string;
  bootstrap: boolean;
  httpListen: string;
  httpTlsCert?: string;
  httpTlsKey?: string;
  clientCaFile?: string;
  advertiseAddress: string;
}
