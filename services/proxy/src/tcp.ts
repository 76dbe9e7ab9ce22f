// TCP: a listener per address (net.Server), and one TcpConnection per accepted client that
// picks an endpoint, connects to it (trying other endpoints when it cannot) and forwards
// both ways until both sides are done.
import * as net from 'net';
import type { Clock } from './balancer';
import { BufferPump, streamForward } from './forward';
import { describeBindError, type ListenerState, type ProxyListener } from './listener';
import type { ListenerSpec, EndpointTarget } from './rules';
import type { Flow, FlowContext, RuleRuntime } from './runtime';
import type { TrafficStats } from './stats';

/** Errors that mean "this endpoint cannot be reached", worth trying another one for. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL', 'ECONNRESET']);

export class TcpConnection implements Flow {
  readonly protocol = 'TCP' as const;
  endpoint: EndpointTarget | undefined;
  private upstream: net.Socket | undefined;
  private epStats: TrafficStats | undefined;
  private tried: Set<string> | undefined;
  private connected = false;
  private clientClosed = false;
  private upstreamClosed = true;
  private down: BufferPump | undefined;
  private finished = false;
  private readonly clientIP: string;

  constructor(
    private readonly client: net.Socket,
    private readonly rt: RuleRuntime,
    private readonly ctx: FlowContext,
  ) {
    this.clientIP = client.remoteAddress ?? '';
  }

  bytesIn(): number {
    return this.client.bytesRead;
  }

  bytesOut(): number {
    return this.client.bytesWritten;
  }

  close(): void {
    this.client.destroy();
    this.upstream?.destroy();
  }

  start(): void {
    const client = this.client;
    this.rt.opened(this);
    client.on('error', () => {
      if (this.connected) {
        this.rt.error('client', this.epStats);
        this.upstream?.resetAndDestroy();
      } else {
        this.upstream?.destroy();
      }
    });
    client.on('close', () => {
      this.clientClosed = true;
      // A client gone while its endpoint is still being chosen: stop connecting.
      if (!this.connected) this.upstream?.destroy();
      this.maybeFinish();
    });
    this.connectNext();
  }

  private connectNext(): void {
    const rt = this.rt;
    const ep = rt.balancer.pick(this.clientIP, this.tried);
    if (!ep || this.clientClosed) {
      if (!this.clientClosed) {
        rt.error(this.tried ? 'connect' : 'no_endpoints');
        this.client.resetAndDestroy();
      }
      return;
    }
    this.endpoint = ep;
    const ctx = this.ctx;
    const opts: net.NetConnectOpts = { host: ep.ip, port: ep.port, allowHalfOpen: true, noDelay: true };
    if (ctx.forwarding === 'buffers') {
      this.down ??= new BufferPump(this.client, ctx.maxReadBuffer);
      (opts as net.TcpNetConnectOpts).onread = this.down.onread;
    }
    const up = net.connect(opts);
    this.upstream = up;
    this.upstreamClosed = false;
    up.setTimeout(ctx.connectTimeoutMs, () => {
      if (!this.connected) up.destroy(Object.assign(new Error(`connect to ${ep.key} timed out`), { code: 'ETIMEDOUT' }));
    });
    up.once('connect', () => this.onConnected(up, ep));
    up.on('error', (err: NodeJS.ErrnoException) => this.onUpstreamError(up, ep, err));
    up.on('close', () => {
      if (up !== this.upstream) return;
      this.upstreamClosed = true;
      this.maybeFinish();
    });
  }

  private onConnected(up: net.Socket, ep: EndpointTarget): void {
    if (up !== this.upstream) return;
    this.connected = true;
    up.setTimeout(0);
    this.epStats = this.rt.connected(ep);
    const client = this.client;
    if (this.ctx.forwarding === 'buffers') {
      this.down!.attach(up);
      const upPump = new BufferPump(up, this.ctx.maxReadBuffer);
      if (!upPump.adopt(client)) streamForward(client, up);
    } else {
      streamForward(client, up);
      streamForward(up, client);
    }
    up.resume();
    client.resume();
  }

  private onUpstreamError(up: net.Socket, ep: EndpointTarget, err: NodeJS.ErrnoException): void {
    if (up !== this.upstream) return;
    if (this.connected) {
      // The endpoint failed mid-connection: the client sees a reset, as it would directly.
      this.rt.error('endpoint', this.epStats);
      this.client.resetAndDestroy();
      return;
    }
    this.ctx.logger.debug({ endpoint: ep.key, rule: this.rt.rule.key, err: err.message }, 'endpoint unreachable');
    // Not connected yet, so nothing of the client's was read: another endpoint may serve it.
    const tried = (this.tried ??= new Set());
    tried.add(ep.key);
    this.upstream = undefined;
    this.upstreamClosed = true;
    this.endpoint = undefined;
    if (CONNECT_ERRORS.has(err.code ?? '') && tried.size < this.ctx.connectAttempts) {
      this.connectNext();
    } else if (!this.clientClosed) {
      this.rt.error('connect');
      this.client.resetAndDestroy();
    }
  }

  private maybeFinish(): void {
    if (this.finished || !this.clientClosed || !this.upstreamClosed) return;
    this.finished = true;
    this.rt.closed(this, this.epStats);
    const ep = this.endpoint;
    if (ep) this.rt.balancer.touch(this.clientIP, ep);
  }
}

/** A TCP listening socket serving one Service port on one address. */
export class TcpListener implements ProxyListener {
  state: ListenerState = 'binding';
  error = '';
  retryAt = 0;
  private server: net.Server | undefined;
  private closed = false;

  constructor(
    readonly spec: ListenerSpec,
    public owner: RuleRuntime,
    private readonly ctx: FlowContext & { clock: Clock },
  ) {}

  open(): Promise<void> {
    this.state = 'binding';
    this.error = '';
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (sock) => {
      if (this.closed) {
        sock.destroy();
        return;
      }
      new TcpConnection(sock, this.owner, this.ctx).start();
    });
    this.server = server;
    return new Promise<void>((resolve) => {
      const onBindError = (err: NodeJS.ErrnoException) => {
        this.server = undefined;
        if (!this.closed) {
          this.state = 'error';
          this.error = describeBindError(err, 'TCP', this.spec.host, this.spec.port);
          this.retryAt = this.ctx.clock.now();
          this.ctx.logger.warn({ listener: this.spec.id, rule: this.owner.rule.key, error: this.error }, 'cannot listen');
        }
        resolve();
      };
      server.once('error', onBindError);
      server.listen({ host: this.spec.host, port: this.spec.port, backlog: 1024 }, () => {
        server.off('error', onBindError);
        server.on('error', (err) => this.ctx.logger.warn({ listener: this.spec.id, err: err.message }, 'accept failed'));
        if (this.closed) server.close();
        else this.state = 'listening';
        resolve();
      });
    });
  }

  /** Stops accepting; established connections are not affected. */
  close(): void {
    this.closed = true;
    this.state = 'refusing';
    this.server?.close();
    this.server = undefined;
  }
}
