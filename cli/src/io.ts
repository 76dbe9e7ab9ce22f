// Where a command reads and writes: the process's streams in real use, buffers in tests.
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

export function processIO(): IO {
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
