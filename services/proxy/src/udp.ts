// UDP: a socket per listening address, and one UdpFlow per client address and port. A
// flow has its own socket connected to the endpoint it picked: datagrams from the client go
// out on it, replies come back on it and are sent to the client from the listening socket
// (so their source is the Service address the client talked to). A flow ends when it has
// been idle for the engine's UDP idle timeout, when its endpoint leaves the rule, or when
// the endpoint answers with an ICMP error.
import * as dgram from 'dgram';
import * as net from 'net';
import type { Clock } from './balancer';
import { describeBindError, type ListenerState, type ProxyListener } from './listener';
import type { EndpointTarget, ListenerSpec } from './rules';
import type { Flow, FlowContext, RuleRuntime } from './runtime';
import type { TrafficStats } from './stats';

export class UdpFlow implements Flow {
  readonly protocol = 'UDP' as const;
  lastActive: number;
  private readonly sock: dgram.Socket;
  private pending: Buffer[] | undefined = [];
  private inBytes = 0;
  private outBytes = 0;
  private closed = false;
  private readonly epStats: TrafficStats;

  constructor(
    private readonly listener: UdpListener,
    private readonly key: string,
    private readonly clientAddress: string,
    private readonly clientPort: number,
    readonly endpoint: EndpointTarget,
    private readonly rt: RuleRuntime,
    private readonly clock: Clock,
  ) {
    this.lastActive = clock.now();
    rt.opened(this);
    this.epStats = rt.connected(endpoint);
    const sock = dgram.createSocket(net.isIPv6(endpoint.ip) ? 'udp6' : 'udp4');
    this.sock = sock;
    sock.on('message', (msg) => {
      this.outBytes += msg.length;
      this.lastActive = this.clock.now();
      this.listener.reply(msg, this.clientPort, this.clientAddress);
    });
    sock.on('error', () => {
      // An ICMP error from the endpoint (port unreachable: nothing listens there).
      this.rt.error('endpoint', this.epStats);
      this.close();
    });
    sock.connect(endpoint.port, endpoint.ip, () => {
      const queued = this.pending;
      this.pending = undefined;
      if (this.closed || !queued) return;
      for (const m of queued) sock.send(m);
    });
  }

  bytesIn(): number {
    return this.inBytes;
  }

  bytesOut(): number {
    return this.outBytes;
  }

  send(msg: Buffer): void {
    this.inBytes += msg.length;
    this.lastActive = this.clock.now();
    if (this.pending) this.pending.push(msg);
    else this.sock.send(msg);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.forget(this.key, this);
    try {
      this.sock.close();
    } catch {
      /* already closed */
    }
    this.rt.closed(this, this.epStats);
    this.rt.balancer.touch(this.clientAddress, this.endpoint);
  }
}

/** A UDP socket serving one Service port on one address. */
export class UdpListener implements ProxyListener {
  state: ListenerState = 'binding';
  error = '';
  retryAt = 0;
  private socket: dgram.Socket | undefined;
  private closed = false;
  private readonly flows = new Map<string, UdpFlow>();

  constructor(
    readonly spec: ListenerSpec,
    public owner: RuleRuntime,
    private readonly ctx: FlowContext & { clock: Clock },
  ) {}

  open(): Promise<void> {
    this.state = 'binding';
    this.error = '';
    const v6 = net.isIPv6(this.spec.host);
    const sock = dgram.createSocket(v6 ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
    this.socket = sock;
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    return new Promise<void>((resolve) => {
      const onBindError = (err: NodeJS.ErrnoException) => {
        this.socket = undefined;
        if (!this.closed) {
          this.state = 'error';
          this.error = describeBindError(err, 'UDP', this.spec.host, this.spec.port);
          this.retryAt = this.ctx.clock.now();
          this.ctx.logger.warn({ listener: this.spec.id, rule: this.owner.rule.key, error: this.error }, 'cannot listen');
        }
        try {
          sock.close();
        } catch {
          /* never bound */
        }
        resolve();
      };
      sock.once('error', onBindError);
      sock.bind({ address: this.spec.host, port: this.spec.port, exclusive: true }, () => {
        sock.off('error', onBindError);
        sock.on('error', (err) => this.ctx.logger.warn({ listener: this.spec.id, err: err.message }, 'UDP socket error'));
        if (this.closed) sock.close();
        else this.state = 'listening';
        resolve();
      });
    });
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let flow = this.flows.get(key);
    if (!flow) {
      const rt = this.owner;
      const ep = rt.balancer.pick(rinfo.address);
      if (!ep) {
        rt.error('no_endpoints');
        return;
      }
      flow = new UdpFlow(this, key, rinfo.address, rinfo.port, ep, rt, this.ctx.clock);
      this.flows.set(key, flow);
    }
    flow.send(msg);
  }

  /** Sends an endpoint's reply to the client, from the Service address. */
  reply(msg: Buffer, port: number, address: string): void {
    this.socket?.send(msg, port, address);
  }

  forget(key: string, flow: UdpFlow): void {
    if (this.flows.get(key) === flow) this.flows.delete(key);
  }

  /** Ends the flows idle for longer than idleMs. */
  sweep(now: number, idleMs: number): void {
    for (const f of this.flows.values()) if (now - f.lastActive > idleMs) f.close();
  }

  /** Unbinds and ends every flow (replies could no longer reach their clients). */
  close(): void {
    this.closed = true;
    this.state = 'refusing';
    for (const f of [...this.flows.values()]) f.close();
    if (this.socket) {
      try {
        this.socket.close();
      } catch {
        /* already closed */
      }
    }
    this.socket = undefined;
  }
}
