// `k8ts up` when something is wrong: a missing nats-server, a port already taken, a component
// that fails to start. Each failure names what went wrong, and nothing is left running.
import * as fs from 'fs';
import * as net from 'net';
import { k8ts, processesMentioning, testCluster } from './helpers';
import type { TestCluster } from './helpers';

let c: TestCluster;
beforeEach(async () => {
  c = await testCluster('fail');
});
afterEach(async () => {
  await k8ts(c, ['down', '--data-dir', c.dataDir]);
  await c.dispose();
});

test('a missing nats-server binary is named, and nothing starts', async () => {
  const r = await k8ts(c, ['up', '--detach', ...c.upFlags], { env: { NATS_SERVER_BIN: '/nonexistent/nats-server' } });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^error: nats-server not found/m);
  expect(fs.existsSync(`${c.dataDir}/state.json`)).toBe(false);
  expect(processesMentioning(c.dataDir)).toEqual([]);
});

test('an apiserver port already taken is named', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  try {
    const r = await k8ts(c, ['up', '--detach', ...c.upFlags, '--apiserver-port', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: port 127.0.0.1:${port} for the apiserver is already in use by another process`);
    expect(processesMentioning(c.dataDir)).toEqual([]);
  } finally {
    srv.close();
  }
});

test('a component that fails to start is named with the end of its log, and everything started is stopped', async () => {
  const r = await k8ts(c, ['up', '--detach', ...c.upFlags, '--nodes', '1', '--component-arg', 'scheduler:--no-such-flag=1']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/error: scheduler failed to start: it rejected its configuration \(exit code 2\)/);
  expect(r.stderr).toContain('logs/scheduler.log');
  expect(r.stderr).toMatch(/unknown flag --no-such-flag/);
  expect(r.stderr).toMatch(/Stopping what was started/);
  expect(fs.existsSync(`${c.dataDir}/state.json`)).toBe(false);
  expect(processesMentioning(c.dataDir)).toEqual([]);
  // And the data dir is still good for a later `up` (keys were made once).
  expect(fs.existsSync(`${c.dataDir}/pki/sa.key`)).toBe(true);
});
