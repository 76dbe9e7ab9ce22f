// The store's flags: the kit's server flags plus the store's own.
//
// The store holds the whole cluster state (every Secret in clear), so it serves mutual TLS
// unless told otherwise: --tls-cert, --tls-key and --tls-client-ca are required, and only the
// client certificates --allowed-client names may call (the apiserver's, an administrator's).
// --insecure-plaintext is the explicit way out, for tests; the store then logs a warning.
import * as os from 'os';
import { ConfigError, natsAuthFlags, serverFlags } from '@k8ts/kit';
import type { FlagSpec } from '@k8ts/kit';
import { DEFAULT_GUARD_WINDOW } from '@k8ts/machinery';
import { DEFAULT_MAX_TXN_OPS } from './validate';

export interface StoreConfig {
  listen: string;
  metricsListen: string;
  tlsCert: string;
  tlsKey: string;
  tlsClientCa: string;
  maxMessageBytes: number;
  logLevel: string;
  shutdownTimeout: number;
  natsUrl: string[];
  stream: string;
  subjectPrefix: string;
  replicas: number;
  compactionWindow: number;
  name: string;
  advertiseClientUrl: string;
  jetstreamTimeout: number;
  maxRequestBytes: number;
  maxTxnOps: number;
  watchProgressNotifyInterval: number;
  guardWindow: number;
  allowedClient: string[];
  insecurePlaintext: boolean;
  natsUser: string;
  natsPassword: string;
  natsNkey?: string;
  natsCreds?: string;
}

/** Who may call the store by default: kube-apiserver's etcd client certificate (kubeadm's CN), and administrators. */
export const DEFAULT_ALLOWED_CLIENTS = ['CN=kube-apiserver-etcd-client', 'O=system:masters'];

const NAME_RE = /^[A-Za-z0-9_-]+$/;
const TOKEN_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export const storeFlags: FlagSpec[] = [
  ...serverFlags.map((f) =>
    f.name === 'max-message-bytes'
      ? {
          ...f,
          default: 128 * 1024 * 1024,
          description:
            'Largest gRPC message received or sent, in bytes (responses such as large ranges can be big; requests are limited by --max-request-bytes).',
        }
      : f,
  ),
  {
    name: 'nats-url',
    type: 'list',
    default: ['nats://127.0.0.1:4222'],
    description: 'NATS server URLs, comma separated (any servers of the JetStream cluster).',
  },
  {
    name: 'stream',
    type: 'string',
    default: 'K8TS',
    description: 'Name of the JetStream stream that is the store\'s log; the metadata bucket is "<stream>-meta".',
    validate: (v: string) => (NAME_RE.test(v) ? undefined : 'must be letters, digits, "-" or "_"'),
  },
  {
    name: 'subject-prefix',
    type: 'string',
    default: '',
    description: 'Subject prefix of the stream (default: the stream name in lower case).',
    validate: (v: string) => (TOKEN_RE.test(v) ? undefined : 'must be dot-separated tokens of letters, digits, "-" or "_"'),
  },
  {
    name: 'replicas',
    type: 'int',
    default: 1,
    min: 1,
    max: 5,
    description: 'Replicas of the stream and the metadata bucket: 1 on one NATS server, 3 (or 5) in a JetStream cluster.',
  },
  {
    name: 'compaction-window',
    type: 'duration',
    default: '5m',
    description: 'History kept by automatic compaction (as etcd --auto-compaction-mode=periodic); 0 turns it off.',
  },
  {
    name: 'name',
    type: 'string',
    default: '',
    description: 'Name of this store replica (logs, MemberList, the writer of its log entries); default store-<host>-<pid>.',
  },
  {
    name: 'advertise-client-url',
    type: 'string',
    default: '',
    description: 'Client URL reported by Cluster.MemberList (default: https://<listen address>, http:// with --insecure-plaintext).',
  },
  {
    name: 'jetstream-timeout',
    type: 'duration',
    default: '5s',
    min: 100,
    description: 'Bound on every JetStream request (publish acknowledgement, stream info); past it a write fails with UNAVAILABLE.',
  },
  {
    name: 'max-request-bytes',
    type: 'int',
    default: 1572864,
    min: 1024,
    description: 'Largest request accepted, in bytes (etcd\'s default 1.5 MiB); larger ones fail with "etcdserver: request is too large".',
  },
  {
    name: 'max-txn-ops',
    type: 'int',
    default: DEFAULT_MAX_TXN_OPS,
    min: 1,
    description: 'Most operations in one txn (etcd --max-txn-ops).',
  },
  {
    name: 'watch-progress-notify-interval',
    type: 'duration',
    default: '10m',
    min: 10,
    description: 'Period of progress notifications to watchers that asked for them (etcd --experimental-watch-progress-notify-interval).',
  },
  {
    name: 'guard-window',
    type: 'int',
    default: DEFAULT_GUARD_WINDOW,
    min: 100,
    description: 'Guard window W written into a new stream (see proto/k8ts/store/v1/log.proto); an existing stream keeps its own.',
  },
  {
    name: 'allowed-client',
    type: 'list',
    default: DEFAULT_ALLOWED_CLIENTS,
    description:
      'Client certificates (of --tls-client-ca) that may call the store: CN=<user> or O=<group>, comma separated or repeated; any other gets PERMISSION_DENIED.',
  },
  {
    name: 'insecure-plaintext',
    type: 'bool',
    default: false,
    description: 'Serve without TLS and accept any client: whoever reaches the port can read and change the whole cluster state. Tests only.',
  },
  ...natsAuthFlags,
];

/**
 * Checks the transport settings: mutual TLS with an allowed-client list, or plaintext only when
 * asked for explicitly. Returns whether the store serves plaintext.
 */
export function checkTransport(c: StoreConfig): { plaintext: boolean } {
  if (c.insecurePlaintext) {
    if (c.tlsCert || c.tlsKey || c.tlsClientCa) {
      throw new ConfigError('--insecure-plaintext excludes --tls-cert, --tls-key and --tls-client-ca: choose plaintext or mutual TLS', { flag: 'insecure-plaintext' });
    }
    return { plaintext: true };
  }
  const missing = [c.tlsCert ? '' : 'tls-cert', c.tlsKey ? '' : 'tls-key', c.tlsClientCa ? '' : 'tls-client-ca'].filter(Boolean);
  if (missing.length > 0) {
    throw new ConfigError(
      `the store serves mutual TLS: --${missing.join(', --')} ${missing.length === 1 ? 'is' : 'are'} required (clients need a certificate of --tls-client-ca that --allowed-client names); --insecure-plaintext serves without TLS, for tests`,
      { flag: missing[0] },
    );
  }
  return { plaintext: false };
}

/** Fills the defaults that depend on other settings. */
export function resolveConfig(c: StoreConfig): StoreConfig {
  return {
    ...c,
    subjectPrefix: c.subjectPrefix || c.stream.toLowerCase(),
    name: c.name || `store-${os.hostname()}-${process.pid}`,
  };
}
