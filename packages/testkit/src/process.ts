import { spawn, ChildProcess } from 'child_process';

export interface SpawnOptions {
  /** The executable, e.g. process.execPath for node. */
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Resolves once stdout or stderr matches this pattern; without it, resolves at once. */
  readyPattern?: RegExp;
  /** How long to wait for readyPattern before failing (default 30 s). */
  timeoutMs?: number;
}

export interface ServiceProcess {
  proc: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  logs(): string;
  /** The readyPattern match (empty when no pattern was given). */
  match: RegExpMatchArray;
  /** Sends a signal (default SIGTERM) and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** Resolves when the process has exited, with its code. */
  exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/**
 * Spawns a process, captures its output, and waits until its output matches readyPattern.
 * A process that exits or times out first fails the call with its output in the message.
 */
export function spawnService(opts: SpawnOptions): Promise<ServiceProcess> {
  const proc = spawn(opts.cmd, opts.args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let out = '';
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => {
      live.delete(proc);
      resolve(code);
    });
  });
  const onData = (b: Buffer) => {
    out += b.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15000): Promise<number | null> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  return new Promise((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? 30000;
    let done = false;
    const finish = (err?: Error, match?: RegExpMatchArray) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(poll);
      if (err) {
        proc.kill('SIGKILL');
        reject(err);
      } else resolve({ proc, logs: () => out, match: match ?? ([] as unknown as RegExpMatchArray), stop, exited });
    };
    const check = () => {
      if (!opts.readyPattern) return finish(undefined);
      const m = out.match(opts.readyPattern);
      if (m) finish(undefined, m);
    };
    const poll = setInterval(check, 20);
    const timer = setTimeout(
      () => finish(new Error(`${opts.cmd} ${opts.args.join(' ')}: not ready after ${timeoutMs} ms; output:\n${out.slice(-4000)}`)),
      timeoutMs,
    );
    proc.once('error', (e) => finish(new Error(`${opts.cmd}: ${e.message}`)));
    exited.then((code) => {
      check();
      finish(new Error(`${opts.cmd} ${opts.args.join(' ')} exited with code ${code} before it was ready; output:\n${out.slice(-4000)}`));
    });
    check();
  });
}

/** Polls `fn` until it returns a truthy value or throws no more, up to timeoutMs. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 10000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`waitFor: condition not met after ${timeoutMs} ms${lastErr ? `: ${String(lastErr)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
