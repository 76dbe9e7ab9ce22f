// The `process` runtime: every container is a child process on this machine.
//
// A container runs under a tiny /bin/sh wrapper (the "shim", a few hundred KiB) in its own
// session and process group (spawned detached): the wrapper waits for the command, writes its
// exit code to <attempt>.exit and exits with it, so the exit code is known even when the kubelet
// that started the container is gone. Stopping signals the whole group (SIGTERM, SIGKILL after the
// grace period), so children of the container die with it. stdout and stderr go straight to the
// log file (O_APPEND), which the container keeps writing while no kubelet runs.
//
// Every container has a state file (<attempt>.json: pid, the process's start time from
// /proc/<pid>/stat, pod, name, attempt, env, …). A new runtime instance (kubelet restart) reads
// them: a process still alive with the same start time is adopted, not started again; a gone one
// is reported exited (code from the .exit file). A monitor loop polls adopted processes, resident
// memory (VmRSS summed over the process group; above the limit: SIGKILL, OOMKilled, 137) and log
// growth (timestamps index, rotation).
//
// On disk, under rootDir:
//   ipam/<ip>                                    pod IP allocations (content: the pod uid)
//   pods/<ns>_<name>_<uid>/sandbox.json          the pod's sandbox (its IP)
//   pods/<ns>_<name>_<uid>/work/                 the default working directory of its containers
//   pods/<ns>_<name>_<uid>/<container>/<attempt>.json   container state
//   pods/<ns>_<name>_<uid>/<container>/<attempt>.exit   exit code, written by the shim
//   pods/<ns>_<name>_<uid>/<container>/<attempt>.log    stdout+stderr (.log.1 … rotated, .idx times)
import { spawn, type ChildProcess } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import pino, { type Logger } from 'pino';
import { ImageTable, type ResolvedImage } from '../images';
import { expandVars } from './env';
import { IpAllocator } from './ipam';
import { DEFAULT_LOG_ROTATION, LogWatcher, rotatedFiles, type LogRotation } from './logs';
import { groupRss, isAlive, killGroup, processGroups, readStat, signalNumber } from './proc';
import {
  CreateContainerError,
  ImagePullError,
  type ContainerConfig,
  type ContainerEvent,
  type ContainerInfo,
  type ExecResult,
  type ImageRef,
  type PodSandbox,
  type PodSandboxConfig,
  type Runtime,
} from './types';

export interface ProcessRuntimeOptions {
  /** The kubelet's root directory (state, logs, IP allocations). */
  rootDir: string;
  /** The node's pod CIDR, e.g. 127.244.1.0/24. */
  podCIDR: string;
  /** The image table; default: built-in images only. */
  images?: ImageTable;
  logger?: Logger;
  /** How often adopted processes, memory and logs are checked; default 250 ms. */
  monitorIntervalMs?: number;
  logRotation?: LogRotation;
  /** The shell running the shim; default /bin/sh. */
  shell?: string;
  /** Environment every container starts from; default PATH (and LANG) of the kubelet. */
  baseEnv?: Record<string, string>;
}

/** The wrapper around every container command: records the exit code, survives SIGTERM. */
const SHIM = 'f=$1; shift; trap true TERM INT HUP; "$@"; c=$?; echo "$c" > "$f"; exit "$c"';

interface StateFile {
  version: 1;
  id: string;
  podUid: string;
  podName: string;
  podNamespace: string;
  name: string;
  attempt: number;
  image: string;
  imageId: string;
  pid?: number;
  procStartTime?: number;
  createdAt: number;
  startedAt: number;
  env: Record<string, string>;
  cwd: string;
  memoryLimitBytes?: number;
  logPath: string;
  /** Set when the runtime killed (or began stopping) the container, and why. */
  kill?: { reason: 'Stopped' | 'OOMKilled'; at: number };
  exit?: { finishedAt: number; exitCode: number; signal?: number; reason: string; message?: string };
}

interface Rec {
  info: ContainerInfo;
  state: StateFile;
  stateFile: string;
  exitFile: string;
  child?: ChildProcess;
  watcher?: LogWatcher;
  exited: Promise<void>;
  resolveExited: () => void;
}

interface SandboxRec extends PodSandbox {
  dir: string;
}

export class ProcessRuntime implements Runtime {
  readonly type = 'process';
  readonly version = '0.1.0';
  private readonly rootDir: string;
  private readonly images: ImageTable;
  private readonly log: Logger;
  private readonly rotation: LogRotation;
  private readonly shell: string;
  private readonly baseEnv: Record<string, string>;
  private readonly monitorMs: number;
  private ipam!: IpAllocator;
  private readonly sandboxes = new Map<string, SandboxRec>();
  private readonly recs = new Map<string, Rec>();
  private readonly listeners = new Set<(e: ContainerEvent) => void>();
  private monitor?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: ProcessRuntimeOptions) {
    this.rootDir = path.resolve(opts.rootDir);
    this.images = opts.images ?? new ImageTable();
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.rotation = opts.logRotation ?? DEFAULT_LOG_ROTATION;
    this.shell = opts.shell ?? '/bin/sh';
    this.monitorMs = opts.monitorIntervalMs ?? 250;
    const base: Record<string, string> = { PATH: process.env.PATH || '/usr/local/bin:/usr/bin:/bin' };
    if (process.env.LANG) base.LANG = process.env.LANG;
    this.baseEnv = opts.baseEnv ?? base;
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async init(): Promise<void> {
    fs.mkdirSync(path.join(this.rootDir, 'pods'), { recursive: true, mode: 0o700 });
    this.ipam = new IpAllocator(this.opts.podCIDR, path.join(this.rootDir, 'ipam'));
    for (const entry of fs.readdirSync(path.join(this.rootDir, 'pods'))) {
      const dir = path.join(this.rootDir, 'pods', entry);
      const sb = readJson<PodSandbox>(path.join(dir, 'sandbox.json'));
      if (!sb) continue;
      const ip = sb.stopped ? '' : (this.ipam.lookup(sb.podUid) ?? this.ipam.allocate(sb.podUid));
      this.sandboxes.set(sb.podUid, { ...sb, ip, dir });
      for (const cname of safeReaddir(dir)) {
        const cdir = path.join(dir, cname);
        for (const f of safeReaddir(cdir)) {
          if (/^\d+\.json$/.test(f)) this.load(path.join(cdir, f));
        }
      }
    }
    // Allocations without a sandbox are leaks of a crash between allocation and sandbox.json.
    for (const [, owner] of this.ipam.allocations()) {
      if (!this.sandboxes.get(owner) || this.sandboxes.get(owner)!.stopped) this.ipam.release(owner);
    }
    this.monitor = setInterval(() => this.tick(), this.monitorMs);
    this.monitor.unref();
    const adopted = [...this.recs.values()].filter((r) => r.info.adopted).length;
    this.log.info({ sandboxes: this.sandboxes.size, containers: this.recs.size, adopted }, 'process runtime initialized');
  }

  /** Loads one container state file left by an earlier runtime instance. */
  private load(stateFile: string): void {
    const st = readJson<StateFile>(stateFile);
    if (st?.version !== 1) return;
    const exitFile = stateFile.replace(/\.json$/, '.exit');
    const rec = this.newRec(st, stateFile, exitFile);
    if (st.exit) {
      this.applyExit(rec, st.exit);
      rec.resolveExited();
    } else if (st.pid && isAlive(st.pid, st.procStartTime)) {
      rec.info.adopted = true;
      rec.watcher = new LogWatcher(st.logPath, this.rotation);
      this.log.info({ id: st.id, pod: `${st.podNamespace}/${st.podName}`, container: st.name, pid: st.pid }, 'adopted running container');
    } else {
      this.finishFromDisk(rec);
    }
    this.recs.set(st.id, rec);
  }

  private newRec(state: StateFile, stateFile: string, exitFile: string): Rec {
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));
    const info: ContainerInfo = {
      id: state.id,
      podUid: state.podUid,
      podName: state.podName,
      podNamespace: state.podNamespace,
      name: state.name,
      attempt: state.attempt,
      image: state.image,
      imageId: state.imageId,
      state: 'running',
      pid: state.pid,
      createdAt: state.createdAt,
      startedAt: state.startedAt,
      logPath: state.logPath,
    };
    return { info, state, stateFile, exitFile, exited, resolveExited };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.monitor) clearInterval(this.monitor);
    this.monitor = undefined;
    this.listeners.clear();
  }

  // ---- sandboxes -------------------------------------------------------------------------

  async runPodSandbox(pod: PodSandboxConfig): Promise<PodSandbox> {
    const existing = this.sandboxes.get(pod.uid);
    if (existing && !existing.stopped) return publicSandbox(existing);
    const ip = this.ipam.allocate(pod.uid);
    const dir = existing?.dir ?? path.join(this.rootDir, 'pods', `${pod.namespace}_${pod.name}_${pod.uid}`);
    fs.mkdirSync(path.join(dir, 'work'), { recursive: true, mode: 0o700 });
    const sb: SandboxRec = { podUid: pod.uid, name: pod.name, namespace: pod.namespace, ip, createdAt: existing?.createdAt ?? Date.now(), stopped: false, dir };
    writeJsonAtomic(path.join(dir, 'sandbox.json'), publicSandbox(sb));
    this.sandboxes.set(pod.uid, sb);
    return publicSandbox(sb);
  }

  getPodSandbox(podUid: string): PodSandbox | undefined {
    const sb = this.sandboxes.get(podUid);
    return sb && publicSandbox(sb);
  }

  listPodSandboxes(): PodSandbox[] {
    return [...this.sandboxes.values()].map(publicSandbox);
  }

  async stopPodSandbox(podUid: string): Promise<void> {
    const running = this.listContainers(podUid).filter((c) => c.state === 'running');
    await Promise.all(running.map((c) => this.stopContainer(c.id, 0)));
    this.ipam.release(podUid);
    const sb = this.sandboxes.get(podUid);
    if (sb && !sb.stopped) {
      sb.stopped = true;
      sb.ip = '';
      writeJsonAtomic(path.join(sb.dir, 'sandbox.json'), publicSandbox(sb));
    }
  }

  async removePodSandbox(podUid: string): Promise<void> {
    await this.stopPodSandbox(podUid);
    for (const c of this.listContainers(podUid)) this.recs.delete(c.id);
    const sb = this.sandboxes.get(podUid);
    if (sb) fs.rmSync(sb.dir, { recursive: true, force: true });
    this.sandboxes.delete(podUid);
  }

  // ---- images ----------------------------------------------------------------------------

  private resolveImage(image: string): ResolvedImage {
    const img = this.images.resolve(image);
    if (!img) throw new ImagePullError(image, this.images.missingMessage(image));
    return img;
  }

  async pullImage(image: string): Promise<ImageRef> {
    const img = this.resolveImage(image);
    return { image, imageId: img.id };
  }

  // ---- containers ------------------------------------------------------------------------

  async startContainer(cfg: ContainerConfig): Promise<ContainerInfo> {
    const sb = this.sandboxes.get(cfg.pod.uid);
    if (!sb || sb.stopped) throw new CreateContainerError(`pod ${cfg.pod.namespace}/${cfg.pod.name} has no running sandbox`);
    const c = cfg.spec;
    const name = c.name ?? '';
    const img = this.resolveImage(c.image ?? '');
    const env: Record<string, string> = { ...this.baseEnv, ...(img.spec.env ?? {}), ...cfg.env };
    const expand = (list: string[]) => list.map((s) => expandVars(s, cfg.env));
    let argv: string[];
    if (img.local) {
      if (!c.command?.length) throw new CreateContainerError(`image ${JSON.stringify(c.image)} is a local image: the container must set command`);
      argv = [...expand(c.command), ...expand(c.args ?? [])];
    } else if (c.command?.length) {
      argv = [...expand(c.command), ...expand(c.args ?? [])];
    } else if (c.args?.length) {
      argv = [...img.spec.command, ...expand(c.args)];
    } else {
      argv = [...img.spec.command, ...(img.spec.args ?? [])];
    }
    const cwd = c.workingDir || img.spec.workingDir || path.join(sb.dir, 'work');

    const id = randomBytes(16).toString('hex');
    const cdir = path.join(sb.dir, name);
    fs.mkdirSync(cdir, { recursive: true, mode: 0o700 });
    const base = path.join(cdir, String(cfg.attempt));
    const logPath = `${base}.log`;
    const now = Date.now();
    const state: StateFile = {
      version: 1,
      id,
      podUid: cfg.pod.uid,
      podName: cfg.pod.name,
      podNamespace: cfg.pod.namespace,
      name,
      attempt: cfg.attempt,
      image: c.image ?? '',
      imageId: img.id,
      createdAt: now,
      startedAt: now,
      env,
      cwd,
      memoryLimitBytes: cfg.memoryLimitBytes,
      logPath,
    };
    // A leftover of an attempt with the same number (a crash right after starting it) goes.
    for (const f of [`${base}.exit`, `${base}.json`]) fs.rmSync(f, { force: true });
    const rec = this.newRec(state, `${base}.json`, `${base}.exit`);
    this.recs.set(id, rec);

    const problem = startProblem(argv, env, cwd);
    if (problem) {
      fs.appendFileSync(logPath, `${problem}\n`);
      this.finish(rec, { finishedAt: Date.now(), exitCode: 128, reason: 'StartError', message: problem });
      return { ...rec.info };
    }

    const fd = fs.openSync(logPath, 'a', 0o640);
    let child: ChildProcess;
    try {
      child = spawn(this.shell, ['-c', SHIM, 'k8ts-shim', rec.exitFile, ...argv], {
        cwd,
        env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      fs.closeSync(fd);
    }
    if (child.pid === undefined) {
      const err = await new Promise<Error>((resolve) => child.once('error', resolve));
      const message = `failed to start ${this.shell}: ${err.message}`;
      this.finish(rec, { finishedAt: Date.now(), exitCode: 128, reason: 'StartError', message });
      return { ...rec.info };
    }
    child.unref();
    rec.child = child;
    rec.info.pid = state.pid = child.pid;
    state.procStartTime = readStat(child.pid)?.startTime;
    rec.watcher = new LogWatcher(logPath, this.rotation);
    child.once('exit', (code, signal) => {
      if (this.closed) return;
      const exitCode = code ?? 128 + signalNumber(signal);
      this.onProcessExit(rec, exitCode, signal ? signalNumber(signal) : undefined);
    });
    writeJsonAtomic(rec.stateFile, state);
    this.log.debug({ id, pod: `${cfg.pod.namespace}/${cfg.pod.name}`, container: name, pid: child.pid, argv }, 'container started');
    this.emit({ type: 'started', container: { ...rec.info } });
    return { ...rec.info };
  }

  /** The container's process group is gone: record how it ended. */
  private onProcessExit(rec: Rec, exitCode: number, signal?: number): void {
    if (rec.info.state === 'exited') return;
    const oom = rec.state.kill?.reason === 'OOMKilled';
    const finishedAt = Date.now();
    if (oom) {
      this.finish(rec, { finishedAt, exitCode: 137, signal: 9, reason: 'OOMKilled', message: `memory limit of ${rec.state.memoryLimitBytes} bytes exceeded` });
    } else {
      this.finish(rec, { finishedAt, exitCode, signal, reason: exitCode === 0 ? 'Completed' : 'Error' });
    }
  }

  /** An adopted container whose process is gone: its exit code comes from the shim's file. */
  private finishFromDisk(rec: Rec): void {
    const text = safeRead(rec.exitFile);
    const code = text !== undefined && /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
    const finishedAt = fileMtime(rec.exitFile) ?? Date.now();
    if (rec.state.kill?.reason === 'OOMKilled') {
      this.finish(rec, { finishedAt, exitCode: 137, signal: 9, reason: 'OOMKilled', message: `memory limit of ${rec.state.memoryLimitBytes} bytes exceeded` });
    } else if (code !== undefined) {
      this.finish(rec, { finishedAt, exitCode: code, reason: code === 0 ? 'Completed' : 'Error' });
    } else if (rec.state.kill) {
      this.finish(rec, { finishedAt, exitCode: 137, signal: 9, reason: 'Error' });
    } else {
      this.finish(rec, {
        finishedAt,
        exitCode: 137,
        reason: 'ContainerStatusUnknown',
        message: 'The container could not be located when the kubelet restarted',
      });
    }
  }

  private applyExit(rec: Rec, exit: NonNullable<StateFile['exit']>): void {
    Object.assign(rec.info, {
      state: 'exited',
      finishedAt: exit.finishedAt,
      exitCode: exit.exitCode,
      signal: exit.signal,
      reason: exit.reason,
      message: exit.message,
    });
  }

  private finish(rec: Rec, exit: NonNullable<StateFile['exit']>): void {
    if (rec.state.exit && rec.info.state === 'exited') return;
    rec.watcher?.tick();
    rec.watcher = undefined;
    // Anything the container left behind in its process group goes with it.
    if (rec.info.pid) killGroup(rec.info.pid, 'SIGKILL');
    rec.state.exit = exit;
    this.applyExit(rec, exit);
    try {
      writeJsonAtomic(rec.stateFile, rec.state);
    } catch {
      /* the pod's directory is gone (removePodSandbox) */
    }
    rec.resolveExited();
    this.log.debug({ id: rec.info.id, container: rec.info.name, exitCode: exit.exitCode, reason: exit.reason }, 'container exited');
    this.emit({ type: 'exited', container: { ...rec.info } });
  }

  async stopContainer(id: string, gracePeriodMs: number): Promise<ContainerInfo | undefined> {
    const rec = this.recs.get(id);
    if (!rec) return undefined;
    if (rec.info.state === 'exited') return { ...rec.info };
    const pid = rec.info.pid!;
    if (!rec.state.kill) {
      rec.state.kill = { reason: 'Stopped', at: Date.now() };
      writeJsonAtomic(rec.stateFile, rec.state);
    }
    const poll = rec.child ? undefined : setInterval(() => this.checkAdopted(rec), 50);
    let killTimer: NodeJS.Timeout | undefined;
    let giveUp: NodeJS.Timeout | undefined;
    try {
      if (gracePeriodMs <= 0) killGroup(pid, 'SIGKILL');
      else {
        killGroup(pid, 'SIGTERM');
        killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), gracePeriodMs);
      }
      // A process that even SIGKILL does not end (uninterruptible sleep) is given up on.
      const hard = new Promise<void>((resolve) => (giveUp = setTimeout(resolve, Math.max(gracePeriodMs, 0) + 15_000)));
      await Promise.race([rec.exited, hard]);
      if ((rec.info.state as string) !== 'exited') {
        this.finish(rec, { finishedAt: Date.now(), exitCode: 137, signal: 9, reason: 'Error', message: 'the process did not exit after SIGKILL' });
      }
    } finally {
      if (poll) clearInterval(poll);
      clearTimeout(killTimer);
      clearTimeout(giveUp);
    }
    return { ...rec.info };
  }

  async removeContainer(id: string): Promise<void> {
    const rec = this.recs.get(id);
    if (!rec) return;
    if (rec.info.state !== 'exited') throw new Error(`container ${id} is still running`);
    this.recs.delete(id);
    for (const f of [rec.stateFile, rec.exitFile, ...rotatedFiles(rec.info.logPath, this.rotation.maxFiles)]) {
      fs.rmSync(f, { force: true });
      fs.rmSync(`${f}.idx`, { force: true });
    }
  }

  listContainers(podUid?: string): ContainerInfo[] {
    const out: ContainerInfo[] = [];
    for (const r of this.recs.values()) if (!podUid || r.info.podUid === podUid) out.push({ ...r.info });
    return out.sort((a, b) => a.createdAt - b.createdAt || a.attempt - b.attempt);
  }

  containerStatus(id: string): ContainerInfo | undefined {
    const r = this.recs.get(id);
    return r && { ...r.info };
  }

  async exec(id: string, command: string[], timeoutMs: number): Promise<ExecResult> {
    const rec = this.recs.get(id);
    if (!rec) return { exitCode: 126, output: `container ${id} not found`, timedOut: false };
    if (command.length === 0) return { exitCode: 126, output: 'empty command', timedOut: false };
    return new Promise<ExecResult>((resolve) => {
      let output = '';
      let timedOut = false;
      const child = spawn(command[0], command.slice(1), {
        cwd: fs.existsSync(rec.state.cwd) ? rec.state.cwd : undefined,
        env: rec.state.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const add = (b: Buffer) => {
        if (output.length < 10_240) output += b.toString('utf8').slice(0, 10_240 - output.length);
      };
      child.stdout!.on('data', add);
      child.stderr!.on('data', add);
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid) killGroup(child.pid, 'SIGKILL');
      }, timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        resolve({ exitCode: 127, output: err.message, timedOut: false });
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ exitCode: code ?? 128 + signalNumber(signal), output, timedOut });
      });
    });
  }

  logFiles(id: string): string[] {
    const rec = this.recs.get(id);
    return rec ? rotatedFiles(rec.info.logPath, this.rotation.maxFiles) : [];
  }

  onContainerEvent(listener: (event: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: ContainerEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.log.error({ err }, 'container event listener failed');
      }
    }
  }

  // ---- monitor ---------------------------------------------------------------------------

  private checkAdopted(rec: Rec): void {
    if (rec.info.state !== 'running' || rec.child) return;
    if (!isAlive(rec.info.pid!, rec.state.procStartTime)) this.finishFromDisk(rec);
  }

  /** One pass: adopted processes, memory limits, log files. */
  tick(): void {
    if (this.closed) return;
    const running = [...this.recs.values()].filter((r) => r.info.state === 'running');
    for (const rec of running) this.checkAdopted(rec);
    const limited = running.filter((r) => r.info.state === 'running' && r.state.memoryLimitBytes && !r.state.kill);
    if (limited.length > 0) {
      const groups = processGroups();
      for (const rec of limited) {
        const pid = rec.info.pid!;
        const rss = groupRss(groups.get(pid) ?? [pid]);
        if (rss > rec.state.memoryLimitBytes!) {
          this.log.info({ id: rec.info.id, container: rec.info.name, rss, limit: rec.state.memoryLimitBytes }, 'memory limit exceeded: killing container');
          rec.state.kill = { reason: 'OOMKilled', at: Date.now() };
          writeJsonAtomic(rec.stateFile, rec.state);
          killGroup(pid, 'SIGKILL');
        }
      }
    }
    for (const rec of running) rec.watcher?.tick();
  }
}

/** Why argv cannot start (missing executable or working directory), Kubernetes' wording. */
function startProblem(argv: string[], env: Record<string, string>, cwd: string): string | undefined {
  if (argv.length === 0) return 'no command specified';
  try {
    if (!fs.statSync(cwd).isDirectory()) return `chdir to cwd (${JSON.stringify(cwd)}) set in config.json failed: not a directory`;
  } catch {
    return `chdir to cwd (${JSON.stringify(cwd)}) set in config.json failed: no such file or directory`;
  }
  const exe = argv[0];
  if (exe.includes('/')) {
    const full = path.resolve(cwd, exe);
    return isExecutable(full) ? undefined : `exec: ${JSON.stringify(exe)}: stat ${full}: no such file or executable`;
  }
  for (const dir of (env.PATH ?? '').split(':')) {
    if (dir && isExecutable(path.join(dir, exe))) return undefined;
  }
  return `exec: ${JSON.stringify(exe)}: executable file not found in $PATH`;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function publicSandbox(sb: SandboxRec | PodSandbox): PodSandbox {
  return { podUid: sb.podUid, name: sb.name, namespace: sb.namespace, ip: sb.ip, createdAt: sb.createdAt, stopped: sb.stopped };
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function safeRead(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function fileMtime(file: string): number | undefined {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}
