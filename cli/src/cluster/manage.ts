// k8ts down, status, stop, start and kubeconfig: the processes of a running local cluster,
// found through <data-dir>/state.json, and its kubeconfig. The data dir is --data-dir, else
// the one the current context was written for by `k8ts up`, else ~/.k8ts/clusters/default.
import * as fs from 'fs';
import * as path from 'path';
import { connect } from '@k8ts/client';
import { configPath, loadConfig } from '../config';
import { CliError } from '../errors';
import type { IO } from '../io';
import { formatTable, humanDuration } from '../printers/table';
import { k8tsCommand, shellWord } from '../self';
import { checkHealth, checkHttps, healthCredentials } from './health';
import { defaultDataDir, layout, readState, removeState, writeState } from './layout';
import type { Layout, ProcessEntry } from './layout';
import { pkiPaths } from './pki';
import { findPodProcesses, isRunning, logTail, spawnComponent, componentEnv, stopAll, stopPodProcesses } from './procs';
import { componentKind, listeningAddress } from './readiness';
import { stopEverything } from './supervise';

/** The data dir a cluster command works on. */
export function clusterDataDir(flag: string | undefined, io: IO, configFlag?: string): string {
  if (flag) return path.resolve(flag);
  try {
    const cfg = loadConfig(configPath(configFlag, io.env));
    const ctx = cfg.contexts.find((c) => c.name === cfg['current-context']);
    if (ctx?.['data-dir']) return ctx['data-dir'];
  } catch {
    // an unreadable config: fall back to the default
  }
  return defaultDataDir(io.env);
}

function stateOrFail(l: Layout, env: NodeJS.ProcessEnv) {
  const st = readState(l);
  if (!st) throw new CliError(`no cluster is running from ${l.dataDir} (no state.json): start one with "${upCommand(l, env)}"`);
  return st;
}

/** The command that starts the cluster of this data dir again, as it can be pasted. */
function upCommand(l: Layout, env: NodeJS.ProcessEnv): string {
  return `${k8tsCommand(env)} up${l.dataDir === defaultDataDir(env) ? '' : ` --data-dir ${shellWord(l.dataDir)}`}`;
}

export async function down(io: IO, dataDir: string, opts: { graceMs?: number } = {}): Promise<void> {
  const l = layout(dataDir);
  const st = readState(l);
  if (!st) {
    const pods = await stopPodProcesses(l.dataDir, 2000);
    if (pods > 0) io.err(`Stopped ${pods} leftover pod process${pods === 1 ? '' : 'es'}.\n`);
    io.err(`No cluster is running from ${l.dataDir}.\n`);
    return;
  }
  const running = st.processes.filter(isRunning);
  io.err(`Stopping cluster in ${l.dataDir}: ${running.map((p) => p.name).join(', ') || 'nothing is running'}\n`);
  // Stopped on purpose: a foreground `k8ts up` does not report these exits.
  for (const p of st.processes) p.stopped = true;
  writeState(l, st);
  await stopEverything(l, st.processes, opts.graceMs ?? 8000);
  if (st.supervisorPid && st.supervisorPid !== process.pid) {
    try {
      process.kill(st.supervisorPid, 'SIGTERM');
    } catch {
      // not running
    }
  }
  removeState(l);
  io.err(`Cluster stopped. Its state stays in the data dir: "${upCommand(l, io.env)}" brings it back.\n`);
}

/** GET /readyz on the cluster's HTTPS API with the admin's certificate: 'OK', 'HTTP 503', 'UNREACHABLE', ... */
function httpsReadyz(l: Layout, httpsServer: string): Promise<string> {
  const p = pkiPaths(l.dataDir);
  try {
    const read = (f: string) => fs.readFileSync(f, 'utf8');
    return checkHttps({ url: `${httpsServer}/readyz`, ca: read(p.caCert), cert: read(p.adminCert), key: read(p.adminKey) }, 1500);
  } catch (e) {
    return Promise.resolve(`ERROR: ${(e as Error).message}`);
  }
}

export async function status(io: IO, dataDir: string, opts: { output?: string } = {}): Promise<void> {
  const l = layout(dataDir);
  const st = stateOrFail(l, io.env);
  const rows = await Promise.all(
    st.processes.map(async (p) => {
      const alive = isRunning(p);
      let health = alive ? 'RUNNING' : p.stopped ? 'STOPPED' : 'EXITED';
      if (alive && p.address && componentKind(p.name) === 'service') health = await checkHealth(p.address, 1500, '', healthCredentials(l.dataDir, p.name));
      let uptime = '';
      if (alive) {
        try {
          uptime = humanDuration(Date.now() - fs.statSync(`/proc/${p.pid}`).ctimeMs);
        } catch {
          uptime = '';
        }
      }
      return { name: p.name, pid: alive ? String(p.pid) : '-', address: p.address ?? '', health, uptime };
    }),
  );
  let nodes: { name: string; ready: string }[] = [];
  let apiError = '';
  try {
    const creds = JSON.parse(fs.readFileSync(pkiPaths(l.dataDir).credentials, 'utf8')) as { admin: string };
    const cs = connect({ address: st.server, token: creds.admin, deadlineMs: 3000, retries: 0 });
    try {
      nodes = (await cs.nodes.list()).items.map((n) => ({
        name: n.metadata?.name ?? '',
        ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady',
      }));
    } finally {
      cs.close();
    }
  } catch (e) {
    apiError = (e as Error).message;
  }
  const readyz = st.httpsServer ? await httpsReadyz(l, st.httpsServer) : undefined;
  if (opts.output === 'json') {
    const https = st.httpsServer ? { httpsServer: st.httpsServer, readyz, kubeconfig: l.kubeconfig } : {};
    io.out(`${JSON.stringify({ dataDir: l.dataDir, server: st.server, ...https, components: rows, nodes }, null, 2)}\n`);
    return;
  }
  io.out(formatTable(['COMPONENT', 'STATUS', 'ADDRESS', 'PID', 'UPTIME'], rows.map((r) => [r.name, r.health, r.address, r.pid, r.uptime])));
  const ready = nodes.filter((n) => n.ready === 'Ready').length;
  io.out(`\nAPI server: ${st.server}   Nodes: ${apiError ? `unknown (${apiError})` : `${ready}/${nodes.length} Ready`}   Pod processes: ${findPodProcesses(l.dataDir).length}\n`);
  if (st.httpsServer) io.out(`HTTPS API:  ${st.httpsServer}   /readyz: ${readyz}   Kubeconfig: ${l.kubeconfig}\n`);
  io.out(`Data dir:   ${l.dataDir}\n`);
}

/**
 * k8ts kubeconfig: prints <data-dir>/kubeconfig (as `kind get kubeconfig` does). The cluster
 * must have been started by a k8ts that writes one; when it is not running now, the file is
 * still printed, with a note on standard error.
 */
export function printKubeconfig(io: IO, dataDir: string): void {
  const l = layout(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(l.kubeconfig, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`cannot read ${l.kubeconfig}: ${(e as Error).message}`);
    throw new CliError(`no kubeconfig in ${l.dataDir}: "${upCommand(l, io.env)}" writes it when the cluster starts`);
  }
  const st = readState(l);
  if (!st?.processes.some((p) => p.name === 'apiserver' && isRunning(p))) {
    io.err(`note: the apiserver of ${l.dataDir} is not running; start it with "${upCommand(l, io.env)}"\n`);
  }
  io.out(text);
}

function findEntries(st: { processes: ProcessEntry[] }, names: string[]): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const n of names) {
    const matches = st.processes.filter((p) => p.name === n || p.name === `kubelet-${n}` || p.name === `proxy-${n}`);
    if (matches.length === 0) {
      throw new CliError(`no component "${n}" in this cluster; components: ${st.processes.map((p) => p.name).join(', ')}`);
    }
    out.push(...matches.filter((m) => !out.includes(m)));
  }
  return out;
}

/** k8ts stop NAME...: stops components (a node name stops its kubelet and proxy). */
export async function stopComponents(io: IO, dataDir: string, names: string[]): Promise<void> {
  const l = layout(dataDir);
  const st = stateOrFail(l, io.env);
  const entries = findEntries(st, names);
  const running = entries.filter(isRunning);
  for (const e of entries) e.stopped = true;
  writeState(l, st);
  await stopAll(running, 8000);
  for (const e of entries) io.out(running.includes(e) ? `${e.name} stopped\n` : `${e.name} was not running\n`);
}

/** k8ts start NAME...: starts stopped components again with the command line they had, each waited for (timeoutMs, default 30 s). */
export async function startComponents(io: IO, dataDir: string, names: string[], opts: { timeoutMs?: number } = {}): Promise<void> {
  const l = layout(dataDir);
  const st = stateOrFail(l, io.env);
  const entries = findEntries(st, names);
  for (const e of entries) {
    if (isRunning(e)) {
      io.out(`${e.name} is already running\n`);
      continue;
    }
    const sp = spawnComponent({ name: e.name, command: e.command, args: e.args, log: e.log, cwd: l.dataDir, env: componentEnv(io.env), node: e.node });
    sp.child.unref();
    Object.assign(e, sp.entry, { address: e.address, stopped: false });
    writeState(l, st);
    e.address = await waitStarted(e, sp.logOffset, opts.timeoutMs ?? 30_000, l.dataDir);
    writeState(l, st);
    io.out(`${e.name} started\n`);
  }
}

/**
 * Waits until a component started again is ready, and returns its address (which changes when
 * its port was 0): nats-server once its log says it is ready (it speaks no gRPC, so it has no
 * health check to ask), a k8ts service once it logged where it listens and its health check
 * answers SERVING.
 */
async function waitStarted(e: ProcessEntry, logOffset: number, timeoutMs: number, dataDir: string): Promise<string | undefined> {
  const kind = componentKind(e.name);
  const deadline = Date.now() + timeoutMs;
  const failure = (why: string) => new CliError(`${e.name} ${why}\n  log: ${e.log}\n${logTail(e.log, logOffset)}`);
  for (;;) {
    if (!isRunning(e)) throw failure('failed to start: it exited');
    const found = listeningAddress(kind, e.log, logOffset);
    if (found && kind === 'nats') return found === 'ready' ? e.address : found;
    if (found && (await checkHealth(found, 1000, '', healthCredentials(dataDir, e.name))) === 'SERVING') return found;
    if (Date.now() > deadline) throw failure('did not become ready in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export { removeState };
