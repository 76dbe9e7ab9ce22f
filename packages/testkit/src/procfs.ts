// What tests see of processes from the outside, through /proc (Linux): whether a process
// lives, which processes match a command line and an environment, and killing a process group.
// Tests use these to check what a kubelet or a cluster left running, without the kubelet's code.
import * as fs from 'fs';

/** A process as /proc shows it. */
export interface ProcessInfo {
  pid: number;
  /** The command line, one entry per argument. */
  argv: string[];
  /** The environment, as NAME=value entries (empty when unreadable). */
  env: string[];
}

/**
 * True when `pid` exists and is not a zombie; with `startTime` (field 22 of /proc/<pid>/stat,
 * in clock ticks since boot), also only when it is that same process and not a reused pid.
 */
export function isProcessAlive(pid: number, startTime?: number): boolean {
  const stat = readStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

/** Sends `signal` to the process group `pgid`; false when there is no such group. */
export function killProcessGroup(pgid: number, signal: NodeJS.Signals = 'SIGKILL'): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The live processes (other than this one) for which `match` holds. One scan of /proc. */
export function findProcesses(match: (p: ProcessInfo) => boolean): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const info = readProcess(Number(entry));
    if (info && match(info) && isProcessAlive(info.pid)) out.push(info);
  }
  return out;
}

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    let env: string[] = [];
    try {
      env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((e) => e !== '');
    } catch {
      // another user's process: the command line alone
    }
    return { pid, argv, env };
  } catch {
    return undefined; // gone meanwhile
  }
}

function readStat(pid: number): { state: string; startTime: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  return { state: fields[0], startTime: Number(fields[19]) };
}
