// Moving bytes between two TCP sockets, both ways, as cheaply as Node allows.
//
// Two ways to forward one direction (src -> dst):
//
// - 'buffers' (the default where available): src reads straight into a buffer the pump owns
//   (Node's `onread` user buffer), and each read is written to dst at once. When dst's
//   kernel buffer takes the whole chunk synchronously (the common case), the same buffer is
//   read into again: no allocation per chunk. When it does not, the buffer stays with the
//   pending write, src stops reading until the write has been flushed (backpressure), and
//   the next read gets a fresh buffer. The buffer grows x4 from 8 KiB up to `maxReadBuffer` (1 MiB) while reads
//   fill it (bulk transfers: fewer, larger reads) and shrinks when they do not (idle and
//   request/response connections keep only a small one).
//
//   For outgoing sockets this is the public `net.connect({ onread })` option. Accepted
//   sockets have no such option, so the pump installs its buffer on them the way
//   `net.Socket`'s own constructor does (its kBuffer* fields and `_handle.useUserBuffer`),
//   before they start reading (servers use pauseOnConnect). That reaches into Node's
//   internals: `userBuffersSupported` detects it, and without it the proxy falls back to
//   'streams'.
//
// - 'streams': ordinary 'data' events (Node allocates a 64 KiB buffer per read), write, and
//   pause/resume on backpressure: what stream.pipe does, minus its bookkeeping.
//
// Both propagate a half-close (end -> end) and leave error handling (reset propagation) to
// the connection (engine.ts).
import * as net from 'net';

export type ForwardingMode = 'buffers' | 'streams';

export const MIN_READ_BUFFER = 8 * 1024;
export const DEFAULT_MAX_READ_BUFFER = 1024 * 1024;

interface UserBufferSymbols {
  kBuffer: symbol;
  kBufferCb: symbol;
  kBufferGen: symbol;
}

function findSymbols(): UserBufferSymbols | undefined {
  try {
    const probe = new net.Socket();
    const byName = new Map<string, symbol>();
    for (const s of Object.getOwnPropertySymbols(probe)) if (s.description) byName.set(s.description, s);
    probe.destroy();
    const kBuffer = byName.get('kBuffer');
    const kBufferCb = byName.get('kBufferCb');
    const kBufferGen = byName.get('kBufferGen');
    if (!kBuffer || !kBufferCb || !kBufferGen) return undefined;
    return { kBuffer, kBufferCb, kBufferGen };
  } catch {
    return undefined;
  }
}

const SYMBOLS = findSymbols();

/** Whether this Node.js lets the proxy read accepted sockets into its own buffers. */
export const userBuffersSupported = SYMBOLS !== undefined;

/** The mode to use: 'buffers' when asked for (or 'auto') and supported, else 'streams'. */
export function resolveForwardingMode(requested: 'auto' | ForwardingMode | undefined): ForwardingMode {
  if (requested === 'streams') return 'streams';
  return userBuffersSupported ? 'buffers' : 'streams';
}

/**
 * One direction of a connection in 'buffers' mode: reads of `src` go into the pump's buffer
 * and are written to `dst`.
 */
export class BufferPump {
  private size = MIN_READ_BUFFER;
  private buf: Buffer;
  private fresh = false;
  private src: net.Socket | undefined;
  /** Reading is paused until dst has flushed everything written. */
  private waiting = false;
  /** The callback of every write (one function per pump, not one per chunk). */
  private readonly onWritten: () => void;
  /** For net.connect({ onread }). */
  readonly onread: { buffer: () => Buffer; callback: (n: number, b: Buffer) => boolean };

  constructor(
    private readonly dst: net.Socket,
    private readonly maxSize: number,
  ) {
    this.buf = Buffer.allocUnsafeSlow(this.size);
    this.onread = { buffer: () => this.nextBuffer(), callback: (n, b) => this.onRead(n, b) };
    // 'drain' comes only after a write() that returned false (highWaterMark reached); a
    // smaller write can be pending too, so the write callbacks resume reading instead.
    this.onWritten = () => {
      if (this.waiting && this.dst.writableLength === 0) {
        this.waiting = false;
        this.src?.resume();
      }
    };
  }

  /** Starts forwarding from `src` (already carrying this pump's onread). */
  attach(src: net.Socket): void {
    this.src = src;
    src.on('end', () => this.dst.end());
  }

  /**
   * Installs the pump's buffer on an accepted socket that has not started reading
   * (pauseOnConnect), then attaches it. False when the socket cannot take it.
   */
  adopt(src: net.Socket): boolean {
    const handle = (src as any)._handle;
    if (!SYMBOLS || !handle || typeof handle.useUserBuffer !== 'function') return false;
    const s = src as any;
    s[SYMBOLS.kBufferGen] = this.onread.buffer;
    s[SYMBOLS.kBufferCb] = this.onread.callback;
    s[SYMBOLS.kBuffer] = this.buf;
    handle.useUserBuffer(this.buf);
    this.attach(src);
    return true;
  }

  private onRead(n: number, b: Buffer): boolean {
    const dst = this.dst;
    if (n === b.length) {
      dst.write(b, this.onWritten);
      if (this.size < this.maxSize) {
        this.size = Math.min(this.size * 4, this.maxSize);
        this.fresh = true;
      }
    } else {
      dst.write(b.subarray(0, n), this.onWritten);
      if (n < this.size >> 3 && this.size > MIN_READ_BUFFER) {
        this.size = Math.max(this.size >> 2, MIN_READ_BUFFER);
        this.fresh = true;
      }
    }
    if (dst.writableLength !== 0) {
      // The kernel did not take it all: the pending write keeps this buffer, and reading
      // stops until it is flushed (backpressure).
      this.fresh = true;
      this.waiting = true;
      return false;
    }
    return true;
  }

  private nextBuffer(): Buffer {
    if (this.fresh) {
      this.buf = Buffer.allocUnsafeSlow(this.size);
      this.fresh = false;
    }
    return this.buf;
  }
}

/** One direction of a connection in 'streams' mode. */
export function streamForward(src: net.Socket, dst: net.Socket): void {
  src.on('data', (chunk: Buffer) => {
    if (!dst.write(chunk)) src.pause();
  });
  dst.on('drain', () => src.resume());
  src.on('end', () => dst.end());
}
