// Real TCP and UDP servers that stand in for pods, and small clients, for tests of anything
// that forwards traffic (the proxy, Services of a cluster). Every server and client socket made
// here is tracked; closeSockets() (in afterAll) closes them all.
import * as dgram from 'dgram';
import * as net from 'net';

const servers = new Set<{ close(): Promise<void> }>();
const sockets = new Set<net.Socket | dgram.Socket>();

/**
 * A TCP backend on host:port. On every connection it first writes its id ('host:port') and
 * a newline, then echoes what it receives; when the client half-closes, it ends its side
 * after the echo (so a client sees the half-close go through both ways).
 */
export interface TcpBackend {
  id: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections open now. */
  open: Set<net.Socket>;
  /** Resets every open connection (RST), as a crashing pod would. */
  resetAll(): void;
  close(): Promise<void>;
}

export async function startTcpBackend(host: string, port: number): Promise<TcpBackend> {
  const open = new Set<net.Socket>();
  const backend: TcpBackend = {
    id: `${host}:${port}`,
    accepted: 0,
    open,
    resetAll: () => {
      for (const s of open) s.resetAndDestroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
        servers.delete(backend);
      }),
  };
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
    backend.accepted++;
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => undefined);
    s.write(`${backend.id}\n`);
    s.pipe(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  servers.add(backend);
  return backend;
}

/**
 * A TCP backend that makes the proxy feel backpressure. The client's first line chooses:
 * 'sink' - the backend reads slowly (pausing a little after every chunk) and, once the
 * client half-closes, answers with the number of bytes it got; 'send <n>' - the backend
 * writes n bytes as fast as it can and ends.
 */
export async function startSlowTcpBackend(host: string, port: number): Promise<{ close(): Promise<void> }> {
  const conns = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
    s.on('error', () => undefined);
    let head = '';
    let count = -1;
    let sending = false;
    s.on('data', (d: Buffer) => {
      if (count < 0) {
        head += d.toString('latin1');
        const nl = head.indexOf('\n');
        if (nl < 0) return;
        const cmd = head.slice(0, nl);
        if (cmd.startsWith('send ')) {
          let left = Number(cmd.slice(5));
          const chunk = Buffer.alloc(65536, 120);
          const pump = () => {
            while (left > 0) {
              const n = Math.min(left, chunk.length);
              left -= n;
              if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void s.once('drain', pump);
            }
            s.end();
          };
          sending = true;
          count = 0;
          pump();
          return;
        }
        count = head.length - nl - 1;
      } else {
        count += d.length;
      }
      s.pause();
      setTimeout(() => s.resume(), 1);
    });
    s.on('end', () => {
      if (!sending) s.end(String(count));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const backend = {
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
        servers.delete(backend);
      }),
  };
  servers.add(backend);
  return backend;
}

/** A UDP backend: answers every datagram with '<host:port> <datagram>'. */
export interface UdpBackend {
  id: string;
  received: number;
  close(): Promise<void>;
}

export async function startUdpBackend(host: string, port: number): Promise<UdpBackend> {
  const sock = dgram.createSocket('udp4');
  const backend: UdpBackend = {
    id: `${host}:${port}`,
    received: 0,
    close: () =>
      new Promise<void>((resolve) => {
        servers.delete(backend);
        sock.close(() => resolve());
      }),
  };
  sock.on('message', (msg, rinfo) => {
    backend.received++;
    sock.send(Buffer.concat([Buffer.from(`${backend.id} `), msg]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => resolve());
  });
  servers.add(backend);
  return backend;
}

/** A TCP client connection that collects what it receives. */
export interface TcpConnection {
  sock: net.Socket;
  /** Everything received so far. */
  data(): string;
  /** Resolves once `text` has been received (in total). */
  waitFor(text: string): Promise<void>;
  /** Resolves with everything received once the server ended its side. */
  ended: Promise<string>;
}

export function tcpConnect(host: string, port: number, localAddress?: string): Promise<TcpConnection> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, localAddress, allowHalfOpen: true, noDelay: true });
    sockets.add(sock);
    let buf = '';
    const waiters: { text: string; resolve: () => void }[] = [];
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      for (const w of [...waiters]) {
        if (buf.includes(w.text)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
    const ended = new Promise<string>((res, rej) => {
      sock.on('end', () => res(buf));
      sock.on('error', rej);
    });
    ended.catch(() => undefined);
    sock.on('close', () => sockets.delete(sock));
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve({
        sock,
        data: () => buf,
        waitFor: (text) =>
          buf.includes(text)
            ? Promise.resolve()
            : new Promise<void>((res, rej) => {
                waiters.push({ text, resolve: res });
                sock.once('error', rej);
              }),
        ended,
      });
    });
  });
}

/** Connects, reads the backend's id line, closes; resolves with the id. */
export async function whoami(host: string, port: number, localAddress?: string): Promise<string> {
  const c = await tcpConnect(host, port, localAddress);
  await c.waitFor('\n');
  c.sock.end();
  const id = c.data().split('\n')[0];
  c.sock.destroy();
  return id;
}

/** Runs `n` calls of `fn` with at most `parallel` at a time; resolves with their results. */
export async function inParallel<T>(n: number, parallel: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return out;
}

/** Counts occurrences of each value. */
export function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Resolves with the error code of a failed connect (or 'connected' when it succeeds). */
export function connectError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    sock.once('connect', () => {
      sock.destroy();
      resolve('connected');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Sends one datagram from `sock` and resolves with the first reply. */
export function udpRequest(sock: dgram.Socket, host: string, port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: Buffer) => {
      sock.off('error', onError);
      resolve(msg.toString());
    };
    const onError = (err: Error) => {
      sock.off('message', onMessage);
      reject(err);
    };
    sock.once('message', onMessage);
    sock.once('error', onError);
    sock.send(payload, port, host);
  });
}

/** A UDP client socket bound to `localAddress`, closed by closeSockets(). */
export async function udpClient(localAddress = '127.0.0.1'): Promise<dgram.Socket> {
  const sock = dgram.createSocket('udp4');
  sockets.add(sock);
  await new Promise<void>((resolve) => sock.bind(0, localAddress, () => resolve()));
  return sock;
}

/** Closes every server and client socket the helpers made. */
export async function closeSockets(): Promise<void> {
  for (const s of sockets) {
    if (s instanceof net.Socket) s.destroy();
    else {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
  }
  sockets.clear();
  await Promise.all([...servers].map((s) => s.close()));
}
