// Where a command reads and writes: the process's streams in real use (a reader that goes
// away ends the command quietly, as SIGPIPE ends Unix tools), buffers in tests.
import { Readable } from 'stream';

export interface IO {
  /** Writes to standard output. */
  out(text: string): void;
  /** Writes to standard error. */
  err(text: string): void;
  /** Standard input (for `apply -f -`). */
  stdin: Readable;
  /** True when standard error is a terminal (live progress lines may be redrawn). */
  isTTY: boolean;
  /** The environment (K8TS_CONFIG, HOME). */
  env: NodeJS.ProcessEnv;
}

/** The exit status of a program killed by SIGPIPE, as shells report it (128 + 13). */
export const BROKEN_PIPE_EXIT = 141;

/** The streams already watched, so that several processIO() calls add one listener each. */
const watched = new WeakSet<NodeJS.WritableStream>();

/**
 * Ends the command quietly when the reader of `stream` went away (`k8ts status | head -3`).
 * Node ignores SIGPIPE, so a write to a closed pipe fails with EPIPE, raised as an 'error'
 * event that would otherwise end the process with a stack trace; Unix tools are killed by
 * SIGPIPE instead, silently, and the shell sees 141: so does it here. Any other error of the
 * stream is a real failure and is thrown as before.
 */
export function exitOnBrokenPipe(stream: NodeJS.WritableStream, exit: (code: number) => void = (code) => process.exit(code)): void {
  if (watched.has(stream)) return;
  watched.add(stream);
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    exit(BROKEN_PIPE_EXIT);
  });
}

export function processIO(): IO {
  exitOnBrokenPipe(process.stdout);
  exitOnBrokenPipe(process.stderr);
  return {
    out: (text) => {
      process.stdout.write(text);
    },
    err: (text) => {
      process.stderr.write(text);
    },
    stdin: process.stdin,
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
  };
}

/** An IO that records what was written (unit tests). */
export function bufferIO(env: NodeJS.ProcessEnv = {}): IO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    stdin: Readable.from([]),
    isTTY: false,
    env,
    stdout: () => out,
    stderr: () => err,
  };
}
