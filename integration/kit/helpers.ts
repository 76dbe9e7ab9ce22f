// Helpers for tests that run the kit's sample server (packages/kit/dist/sample/main.js) as a
// real process. Every process started here is tracked, and killAll() (call it in afterEach)
// kills whatever a test left running, also when the test failed.
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

export const REPO = path.resolve(__dirname, '..', '..');
export const SAMPLE = path.join(REPO, 'packages', 'kit', 'dist', 'sample', 'main.js');

/** Fails with a clear message when the build has not run. */
export function requireBuild(): void {
  const api = path.join(REPO, 'packages', 'api', 'dist', 'index.js');
  for (const f of [SAMPLE, api]) {
    if (!fs.existsSync(f)) {
      throw new Error(`${path.relative(REPO, f)} is missing: run 'npm run build' (or 'node scripts/build.js') before the integration tests`);
    }
  }
}

const live = new Set<ChildProcess>();

/** Kills every process started by these helpers that is still running. */
export async function killAll(): Promise<void> {
  const procs = [...live];
  live.clear();
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          p.once('exit', () => resolve());
          p.kill('SIGKILL');
        }),
    ),
  );
}

export interface Sample {
  proc: ChildProcess;
  /** gRPC 'host:port' from the "listening" log line. */
  address: string;
  /** Metrics 'host:port', when --metrics-listen was given. */
  metricsAddress?: string;
  /** Every JSON log line seen on stderr so far. */
  logs: any[];
  /** Raw stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or signal) once the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the sample server and resolves once it logged its "listening" line. */
export function startSample(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Sample> {
  requireBuild();
  const proc = spawn(process.execPath, [SAMPLE, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const logs: any[] = [];
  let err = '';
  let pending = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    });
  });
  return new Promise((resolve, reject) => {
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => {
      err += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        let entry: any;
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        logs.push(entry);
        if (entry.msg === 'listening') {
          resolve({ proc, address: entry.address, metricsAddress: entry.metricsAddress, logs, stderr: () => err, exited });
        }
      }
    });
    proc.stdout!.resume();
    exited.then(({ code, signal }) => reject(new Error(`sample exited (code ${code}, signal ${signal}) before listening:\n${err}`)));
  });
}

/** Runs the sample to completion and returns its exit code and output. */
export function runSample(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  requireBuild();
  const proc = spawn(process.execPath, [SAMPLE, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) =>
    proc.once('close', (code) => {
      live.delete(proc);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** A grpc.health.v1.Health client built from the proto that grpc-health-check ships. */
export function healthClient(address: string, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): any {
  const def = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String })) as any;
  return new def.grpc.health.v1.Health(address, creds, options);
}

/** Channel options for TLS tests: check the server certificate for 'localhost' (it also names 127.0.0.1). */
export const TLS_CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': 'localhost' };

/** Promisifies a unary call on a generic or generated client. */
export function call<T>(client: any, method: string, request: unknown, options: grpc.CallOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, new grpc.Metadata(), options, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

/** A deadline `seconds` from now, so that a broken server fails a test instead of hanging it. */
export function deadline(seconds = 10): Date {
  return new Date(Date.now() + seconds * 1000);
}
