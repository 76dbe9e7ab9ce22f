// `k8ts start NAME` with real processes: nats-server is ready once its log says so (it speaks
// no gRPC, so no health check can ever answer), and a component that exits at once is reported
// with its log instead of being waited for.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { layout, readState, writeState } from '../src/cluster/layout';
import type { ProcessEntry } from '../src/cluster/layout';
import { startComponents } from '../src/cluster/manage';
import { isRunning, stopAll } from '../src/cluster/procs';
import { componentKind, findNatsServer, freePort } from '../src/cluster/up';
import { bufferIO } from '../src/io';

let dir: string;
const started: ProcessEntry[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-cli-start-'));
});
afterEach(async () => {
  await stopAll(started.splice(0), 2000);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A cluster state with one stopped nats entry of these arguments. */
function stoppedNats(args: string[], address: string): void {
  const l = layout(dir);
  fs.mkdirSync(l.logs, { recursive: true });
  const entry: ProcessEntry = { name: 'nats', pid: 0, startTicks: 0, command: findNatsServer(process.env), args, log: path.join(l.logs, 'nats.log'), address, stopped: true };
  writeState(l, { startedAt: new Date().toISOString(), server: '127.0.0.1:1', processes: [entry] });
}

function natsEntry(): ProcessEntry {
  const entry = readState(layout(dir))!.processes.find((p) => p.name === 'nats')!;
  started.push(entry);
  return entry;
}

test('nats and the k8ts services are told apart by name', () => {
  expect(componentKind('nats')).toBe('nats');
  for (const n of ['store', 'apiserver', 'kubelet-node-1', 'proxy-node-1']) expect(componentKind(n)).toBe('service');
});

test('k8ts start nats returns once nats-server is ready, with its address', async () => {
  const port = await freePort();
  stoppedNats(['-a', '127.0.0.1', '-p', String(port)], `127.0.0.1:${port}`);
  const io = bufferIO(process.env);
  const t0 = Date.now();
  await startComponents(io, dir, ['nats'], { timeoutMs: 15_000 });
  const entry = natsEntry();
  expect(io.stdout()).toBe('nats started\n');
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(entry.stopped).toBe(false);
  expect(isRunning(entry)).toBe(true);
  expect(entry.address).toBe(`127.0.0.1:${port}`);
}, 30_000);

test('a nats-server that exits at once is reported with its log, not waited for', async () => {
  stoppedNats(['--no-such-flag'], '127.0.0.1:1');
  const io = bufferIO(process.env);
  const t0 = Date.now();
  await expect(startComponents(io, dir, ['nats'], { timeoutMs: 15_000 })).rejects.toThrow(/^nats failed to start: it exited\n {2}log: .*nats\.log/);
  natsEntry();
  expect(Date.now() - t0).toBeLessThan(10_000);
}, 30_000);
