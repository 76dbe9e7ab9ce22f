// The processes of a local cluster: starting them detached with their output in a log file,
// recognising them again later (pid plus start time, so that a reused pid is never
// signalled), stopping them (SIGTERM, SIGKILL after a grace period), and finding the pods'
// processes that the kubelets started (their shim's command line names the data directory).
import { spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CliError } from '../errors';
import type { ProcessEntry } from './layout';

/** The start time of a process in clock ticks since boot (/proc/<pid>/stat field 22), or undefined. */
export function procStartTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); field 22 is rest[19].
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return Number(rest[19]);
  } catch {
    return undefined;
  }
}

/** True when the process recorded in the entry is still the one running under its pid. */
export function isRunning(e: Pick<ProcessEntry, 'pid' | 'startTicks'>): boolean {
  if (!e.pid) return false;
  const t = procStartTicks(e.pid);
  return t !== undefined && t === e.startTicks;
}

/** Environment for a component: ours without K8TS_* (components read their flags from K8TS_*). */
export function componentEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('K8TS_') && k !== 'K8TS_VERSION' && k !== 'K8TS_GIT_COMMIT') continue;
    if (k === 'NODE_OPTIONS' || k === 'NODE_V8_COVERAGE') continue;
    out[k] = v;
  }
  return out;
}

export interface Spawned {
  child: ChildProcess;
  entry: ProcessEntry;
  /** The byte offset in the log where this run's output starts. */
  logOffset: number;
  /** Resolves with the exit code (or signal) once the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a process detached (its own process group: a Ctrl-C on the terminal does not reach
 * it), stdin closed, stdout and stderr appended to `log`.
 */
export function spawnComponent(opts: {
  name: string;
  command: string;
  args: string[];
  log: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  node?: string;
}): Spawned {
  fs.mkdirSync(path.dirname(opts.log), { recursive: true });
  fs.appendFileSync(opts.log, `---- k8ts: starting ${opts.name} at ${new Date().toISOString()}: ${opts.command} ${opts.args.join(' ')}\n`);
  const logOffset = fs.statSync(opts.log).size;
  const fd = fs.openSync(opts.log, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: 127, signal: null }));
  });
  const pid = child.pid ?? 0;
  const entry: ProcessEntry = {
    name: opts.name,
    pid,
    startTicks: pid ? (procStartTicks(pid) ?? 0) : 0,
    command: opts.command,
    args: opts.args,
    log: opts.log,
    node: opts.node,
  };
  return { child, entry, logOffset, exited };
}

/** The log written since `offset`, its last `lines` lines. */
export function logTail(file: string, offset = 0, lines = 15): string {
  try {
    const buf = fs.readFileSync(file);
    const text = buf.subarray(Math.min(offset, buf.length)).toString('utf8');
    const all = text.split('\n').filter((l) => l.trim() !== '');
    return all.slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function signal(pid: number, sig: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    // gone already
  }
}

/** Waits until none of the processes runs any more, or the deadline passes. */
async function waitAllGone(entries: Pick<ProcessEntry, 'pid' | 'startTicks'>[], until: number): Promise<boolean> {
  for (;;) {
    if (entries.every((e) => !isRunning(e))) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Stops processes: SIGTERM to each (to its process group when it leads one), then SIGKILL to
 * those still running after `graceMs`. Entries whose pid now belongs to another process are
 * left alone.
 */
export async function stopAll(entries: Pick<ProcessEntry, 'pid' | 'startTicks'>[], graceMs: number): Promise<void> {
  const live = entries.filter(isRunning);
  for (const e of live) signal(e.pid, 'SIGTERM', false);
  if (await waitAllGone(live, Date.now() + graceMs)) return;
  for (const e of live) if (isRunning(e)) signal(e.pid, 'SIGKILL', false);
  await waitAllGone(live, Date.now() + 5000);
}

/**
 * The pods' processes of a cluster: the kubelet runs each container under a shell wrapper
 * (`sh -c ... k8ts-shim <root-dir>/pods/.../<n>.exit <command>`) that leads its own process
 * group; the wrapper's arguments name the kubelet's root directory under the data dir.
 */
export function findPodProcesses(dataDir: string): { pid: number; startTicks: number }[] {
  const prefix = `${path.resolve(dataDir)}${path.sep}`;
  const out: { pid: number; startTicks: number }[] = [];
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const p of pids) {
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const shim = argv.indexOf('k8ts-shim');
    if (shim < 0 || !(argv[shim + 1] ?? '').startsWith(prefix)) continue;
    const pid = Number(p);
    const startTicks = procStartTicks(pid);
    if (startTicks !== undefined) out.push({ pid, startTicks });
  }
  return out;
}

/** Stops the pods' processes (each wrapper's whole process group). */
export async function stopPodProcesses(dataDir: string, graceMs: number): Promise<number> {
  const pods = findPodProcesses(dataDir);
  if (pods.length === 0) return 0;
  for (const p of pods) signal(p.pid, 'SIGTERM', true);
  if (!(await waitAllGone(pods, Date.now() + graceMs))) {
    for (const p of pods) if (isRunning(p)) signal(p.pid, 'SIGKILL', true);
    await waitAllGone(pods, Date.now() + 3000);
  }
  // Whatever else was left in those groups.
  for (const p of pods) signal(p.pid, 'SIGKILL', true);
  return pods.length;
}

/** How a process ended, as `up`, its errors and the supervisor say it. */
export function exitText(x: { code: number | null; signal: NodeJS.Signals | null }): string {
  if (x.signal) return `it was killed by ${x.signal}`;
  if (x.code === 2) return 'it rejected its configuration (exit code 2)';
  return `it exited with code ${x.code}`;
}

/** A failure to start: names the component and shows the end of its log. */
export class StartError extends CliError {
  constructor(component: string, why: string, log: string, tail: string) {
    super(`${component} failed to start: ${why}\n  log: ${log}${tail ? `\n  last lines:\n${tail.split('\n').map((x) => `    ${x}`).join('\n')}` : ''}`);
  }
}
