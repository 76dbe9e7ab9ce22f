// scripts/gen-secrets.sh's secrets for the store and NATS, checked by tools that did not make
// them: OpenSSL verifies the store's serving certificate and its two client certificates for
// their purposes, the real nats-server accepts the deployment's nats.conf with the generated
// auth.conf, and the NKey seeds are the ones whose public keys auth.conf names. A second run
// keeps them all; --rotate makes new ones.
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { natsPublicKey } from '@k8ts/kit';
import { natsServerBinary } from '@k8ts/testkit';
import { REPO } from './lib';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-deploy-store-secrets-'));
const out = path.join(tmp, 'secrets');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const gen = (...args: string[]) => spawnSync(path.join(REPO, 'scripts', 'gen-secrets.sh'), ['--out', out, '--nodes', 'node-a', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
const read = (f: string) => fs.readFileSync(path.join(out, f), 'utf8');
const verifies = (cert: string, purpose: string) => spawnSync('openssl', ['verify', '-CAfile', path.join(out, 'ca.crt'), '-purpose', purpose, path.join(out, cert)]).status === 0;
const files = ['store.crt', 'store.key', 'apiserver-etcd-client.crt', 'apiserver-etcd-client.key', 'store-admin.crt', 'store-admin.key', 'nats-store.nk', 'nats-apiserver.nk', 'nats-auth.conf'];
const snapshot = () => Object.fromEntries(files.map((f) => [f, read(f)]));

beforeAll(() => {
  const r = gen();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('the files are secret (0600)', () => {
  for (const f of files) expect({ f, mode: fs.statSync(path.join(out, f)).mode & 0o777 }).toEqual({ f, mode: 0o600 });
});

test("the store's serving certificate names its Service and loopback; its client certificates are the apiserver's and an administrator's", () => {
  expect(verifies('store.crt', 'sslserver')).toBe(true);
  expect(verifies('apiserver-etcd-client.crt', 'sslclient')).toBe(true);
  expect(verifies('store-admin.crt', 'sslclient')).toBe(true);
  expect(verifies('apiserver-etcd-client.crt', 'sslserver')).toBe(false);
  const serving = new crypto.X509Certificate(read('store.crt'));
  expect(serving.subjectAltName?.split(', ').sort()).toEqual(
    [
      'DNS:localhost',
      'DNS:store',
      'DNS:store.k8ts-system',
      'DNS:store.k8ts-system.svc',
      'DNS:store.k8ts-system.svc.cluster.local',
      'IP Address:127.0.0.1',
    ].sort(),
  );
  expect(new crypto.X509Certificate(read('apiserver-etcd-client.crt')).subject).toBe('CN=kube-apiserver-etcd-client');
  expect(new crypto.X509Certificate(read('store-admin.crt')).subject).toBe('O=system:masters\nCN=k8ts-store-admin');
});

test("NATS: auth.conf names the seeds' public keys, holds no seed, and the real nats-server accepts it with the deployment's nats.conf", () => {
  const auth = read('nats-auth.conf');
  for (const user of ['store', 'apiserver']) {
    const seed = read(`nats-${user}.nk`).trim();
    expect(auth).toContain(`nkey: ${natsPublicKey(seed)}`);
    expect(auth).not.toContain(seed);
  }
  expect(auth).not.toMatch(/no_auth_user|password/);
  for (const conf of ['deploy/k8s/base/nats/nats.conf', 'deploy/k8s/overlays/ha/nats.conf']) {
    const dir = fs.mkdtempSync(path.join(tmp, 'conf-'));
    fs.copyFileSync(path.join(REPO, conf), path.join(dir, 'nats.conf'));
    fs.writeFileSync(path.join(dir, 'auth.conf'), auth);
    const checked = spawnSync(natsServerBinary(), ['-c', path.join(dir, 'nats.conf'), '-t'], { env: { ...process.env, POD_NAME: 'nats-0' }, encoding: 'utf8' });
    expect({ conf, output: `${checked.stdout}${checked.stderr}` }).toEqual({ conf, output: expect.stringMatching(/configuration file .* is valid/) });
  }
});

test('a second run keeps everything; --rotate makes new keys and certificates', () => {
  const before = snapshot();
  expect(gen().status).toBe(0);
  expect(snapshot()).toEqual(before);
  expect(gen('--rotate').status).toBe(0);
  const after = snapshot();
  for (const f of files) expect({ f, changed: after[f] !== before[f] }).toEqual({ f, changed: true });
});
