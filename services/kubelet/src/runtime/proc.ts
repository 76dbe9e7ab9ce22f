// Reading Linux /proc: whether a process still is the one we started (pid reuse), the members
// of a process group, and their resident memory.
import * as fs from 'fs';
import * as os from 'os';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), T, … */
  state: string;
  ppid: number;
  pgrp: number;
  /** Start time in clock ticks after boot: with the pid, identifies a process uniquely. */
  startTime: number;
}

/** Parses /proc/<pid>/stat; undefined when the process does not exist. */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseStat(text);
}

/** Parses the text of a /proc/<pid>/stat file (the command name may hold spaces and parens). */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // Fields after the command, numbered from 3 (state) as in proc(5).
  const rest = text.slice(close + 2).split(' ');
  return { pid, state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]), startTime: Number(rest[19]) };
}

/** True when pid exists, is not a zombie and (when given) started at startTime. */
export function isAlive(pid: number, startTime?: number): boolean {
  const st = readStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}

/** Resident memory of a process in bytes (VmRSS), 0 when unknown. */
export function readRss(pid: number): number {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Every live process, grouped by process group id. One scan of /proc. */
export function processGroups(): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return groups;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = readStat(Number(e));
    if (!st || st.state === 'Z') continue;
    const list = groups.get(st.pgrp);
    if (list) list.push(st.pid);
    else groups.set(st.pgrp, [st.pid]);
  }
  return groups;
}

/** Sum of VmRSS over the members of a process group. */
export function groupRss(members: number[]): number {
  let total = 0;
  for (const pid of members) total += readRss(pid);
  return total;
}

/** Sends a signal to a whole process group; false when the group no longer exists. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The number of a signal name (SIGKILL -> 9); 0 when unknown. */
export function signalNumber(name: string | null | undefined): number {
  if (!name) return 0;
  return (os.constants.signals as Record<string, number>)[name] ?? 0;
}
