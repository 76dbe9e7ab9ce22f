// The proxy's flags (main.ts adds the kit's serverFlags) and the typed configuration start()
// takes. --apiserver is optional: the proxy serves --manifests without an apiserver (start()
// checks that one of the two is given).
import * as net from 'net';
import * as os from 'os';
import { type ApiserverConfig, type DelegatedAuthConfig, apiserverFlagsWith, delegatedAuthFlags } from '@k8ts/client';
import type { FlagSpec } from '@k8ts/kit';

const FORWARDING = ['auto', 'buffers', 'streams'];

/** The proxy's own flags; main.ts adds the kit's serverFlags. */
export const flags: FlagSpec[] = [
  ...apiserverFlagsWith({ defaultAddress: '' }),
  {
    name: 'node-name',
    type: 'string',
    default: os.hostname(),
    description: 'The name of the node this proxy runs on (reported by the admin API and in logs).',
  },
  {
    name: 'node-ip',
    type: 'string',
    default: '127.0.0.1',
    description: "The node's IP: NodePort Services are served on node-ip:nodePort.",
    validate: (v: string) => (net.isIP(v) ? undefined : 'must be an IP address'),
  },
  {
    name: 'bind-address',
    type: 'string',
    default: '',
    description: 'Address NodePort listeners bind to instead of --node-ip, e.g. 0.0.0.0 for every address of the machine.',
    validate: (v: string) => (net.isIP(v) ? undefined : 'must be an IP address'),
  },
  {
    name: 'manifests',
    type: 'file',
    description:
      'Serve the Services and Endpoints of this YAML file (reloaded when it changes) instead of watching the apiserver: for local runs and benchmarks.',
  },
  {
    name: 'udp-idle-timeout',
    type: 'duration',
    default: '30s',
    min: 100,
    description: 'A UDP flow (one client address and port) idle this long is forgotten; its next datagram picks an endpoint again.',
  },
  {
    name: 'forwarding',
    type: 'string',
    default: 'auto',
    description:
      'How TCP bytes are moved: buffers (reads into reused, adaptively sized buffers), streams (plain Node streams), or auto (buffers when this Node.js supports it).',
    validate: (v: string) => (FORWARDING.includes(v) ? undefined : `must be one of ${FORWARDING.join(', ')}`),
  },
  // who may call the admin API (client certificates, TokenReview, SubjectAccessReview)
  ...delegatedAuthFlags,
];

/**
 * The parsed configuration: the kit's server flags and the flags above. Fields start() has a
 * default for are optional, so that tests can give only what they change.
 */
export interface ProxyConfig extends ApiserverConfig, DelegatedAuthConfig {
  listen: string;
  metricsListen?: string;
  logLevel?: string;
  nodeName?: string;
  nodeIp?: string;
  bindAddress?: string;
  manifests?: string;
  udpIdleTimeout?: number;
  forwarding?: string;
  // The kit's serverFlags (besides listen, metricsListen and logLevel above).
  maxMessageBytes?: number;
  shutdownTimeout?: number;
}
