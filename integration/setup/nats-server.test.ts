// scripts/nats-server.sh: which nats-server k8ts runs on. The fetch from Debian's archive runs
// in `make setup` (and so in CI) for real; these check the choices around it.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const REPO = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(REPO, 'scripts', 'nats-server.sh');

function run(env: NodeJS.ProcessEnv) {
  const r = spawnSync('bash', [SCRIPT], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A stand-in nats-server that only reports a version. */
function fakeServer(version: string): { bin: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-fake-nats-'));
  const bin = path.join(dir, 'nats-server');
  fs.writeFileSync(bin, `#!/bin/sh\necho "nats-server: v${version}"\n`, { mode: 0o755 });
  return { bin, dir };
}

test('NATS_SERVER_BIN is used as it is; an old one is named in a warning', () => {
  const old = fakeServer('2.9.10');
  try {
    const r = run({ NATS_SERVER_BIN: old.bin });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').pop()).toBe(old.bin);
    expect(r.stderr).toContain('warning: NATS_SERVER_BIN is nats-server: v2.9.10; k8ts needs 2.10 or later');
  } finally {
    fs.rmSync(old.dir, { recursive: true, force: true });
  }
  const fresh = fakeServer('2.11.4');
  try {
    const r = run({ NATS_SERVER_BIN: fresh.bin });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(fresh.bin);
    expect(r.stderr).toBe('');
  } finally {
    fs.rmSync(fresh.dir, { recursive: true, force: true });
  }
});

test('a NATS_SERVER_BIN that does not exist is an error naming it', () => {
  const r = run({ NATS_SERVER_BIN: '/nonexistent/nats-server' });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('NATS_SERVER_BIN=/nonexistent/nats-server is not an executable');
});

test('without NATS_SERVER_BIN it answers with a nats-server of 2.10 or later (what make setup left)', () => {
  const env = { ...process.env };
  delete env.NATS_SERVER_BIN;
  const r = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8' });
  expect(r.status).toBe(0);
  const bin = r.stdout.trim().split('\n').pop() ?? '';
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout;
  const m = /v(\d+)\.(\d+)\./.exec(version);
  expect(m).not.toBeNull();
  expect(Number(m![1]) * 1000 + Number(m![2])).toBeGreaterThanOrEqual(2010);
});
