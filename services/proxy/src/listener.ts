// What TCP and UDP listeners have in common, and the words for why a bind failed.
import type { ListenerSpec } from './rules';
import type { RuleRuntime } from './runtime';

/**
 * binding: the socket is being bound. listening: traffic is accepted. refusing: the
 * Service port has no ready endpoint, so nothing is bound and clients are refused by the
 * kernel. error: binding failed (see `error`), retried periodically.
 */
export type ListenerState = 'binding' | 'listening' | 'refusing' | 'error';

export interface ProxyListener {
  readonly spec: ListenerSpec;
  /** The rule served; may change when the same address moves to another rule. */
  owner: RuleRuntime;
  state: ListenerState;
  /** Why binding failed, when state is 'error'. */
  error: string;
  /** When (engine clock) the failed bind may be retried. */
  retryAt: number;
  /** Binds; resolves once bound or failed (never rejects: failures go to state/error). */
  open(): Promise<void>;
  /** Unbinds. TCP connections already accepted go on; UDP flows end. */
  close(): void;
}

/** A sentence saying why binding `host:port` failed and what fixes it. */
export function describeBindError(err: NodeJS.ErrnoException, protocol: string, host: string, port: number): string {
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  switch (err.code) {
    case 'EACCES':
      return (
        `permission denied binding ${protocol} ${addr}: ports below 1024 need root, the CAP_NET_BIND_SERVICE ` +
        'capability (setcap cap_net_bind_service=+ep "$(command -v node)"), or a lower ' +
        'net.ipv4.ip_unprivileged_port_start (sysctl -w net.ipv4.ip_unprivileged_port_start=0)'
      );
    case 'EADDRINUSE':
      return `${protocol} ${addr} is already in use by another socket on this machine`;
    case 'EADDRNOTAVAIL':
      return (
        `cannot bind ${protocol} ${addr}: ${host} is not an address of this machine ` +
        `(local mode: use 127.0.0.0/8 addresses; real nodes: add it to a dummy interface, ` +
        `ip addr add ${host}/32 dev k8ts0)`
      );
    default:
      return `cannot bind ${protocol} ${addr}: ${err.code ?? 'error'}: ${err.message}`;
  }
}
