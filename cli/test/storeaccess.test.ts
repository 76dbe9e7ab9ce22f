// What `k8ts up` gives the store and NATS: the store's serving certificate and the two client
// certificates it lets in (made once, kept), the NATS users' NKeys (made once, kept) and
// nats-server's authorization block, and the flags that hand them to the store and the
// apiserver (that those flags start them is integration/cli's to show).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { layout } from '../src/cluster/layout';
import { ensureNatsUsers, natsAuthorization, natsSeedFile } from '../src/cluster/natsusers';
import { STORE_ALLOWED_CLIENTS, ensureCertificates, pkiPaths } from '../src/cluster/pki';
import { planComponents, resolveSettings } from '../src/cluster/up';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-cli-storeaccess-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const SANS = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };
const cert = (file: string) => new crypto.X509Certificate(fs.readFileSync(file));

describe("the store's certificates", () => {
  test('made on the first up: a serving certificate for loopback, the apiserver and the store administrator', async () => {
    const { paths: p, issued } = await ensureCertificates(dir, SANS);
    expect(issued).toEqual(expect.arrayContaining(['store (missing)', 'apiserver-etcd-client (missing)', 'store-admin (missing)']));
    const ca = cert(p.caCert);
    for (const f of [p.storeCert, p.apiserverEtcdClientCert, p.storeAdminCert]) expect(cert(f).verify(ca.publicKey)).toBe(true);
    expect(cert(p.storeCert).subjectAltName?.split(', ').sort()).toEqual(['DNS:localhost', 'IP Address:127.0.0.1']);
    expect(cert(p.storeCert).checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert(p.apiserverEtcdClientCert).subject).toBe('CN=kube-apiserver-etcd-client');
    expect(cert(p.storeAdminCert).subject).toBe('O=system:masters\nCN=k8ts-store-admin');
    for (const key of [p.storeKey, p.apiserverEtcdClientKey, p.storeAdminKey]) expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    // The allowed list names exactly the two client certificates.
    expect(STORE_ALLOWED_CLIENTS).toEqual([cert(p.apiserverEtcdClientCert).subject, 'CN=k8ts-store-admin']);
  });

  test('kept by the next up; one that is missing is made again alone', async () => {
    const { paths: p } = await ensureCertificates(dir, SANS);
    const before = fs.readFileSync(p.storeCert, 'utf8');
    expect((await ensureCertificates(dir, SANS)).issued).toEqual([]);
    fs.rmSync(p.storeAdminCert);
    expect((await ensureCertificates(dir, SANS)).issued).toEqual(['store-admin (missing)']);
    expect(fs.readFileSync(p.storeCert, 'utf8')).toBe(before);
  });
});

describe("NATS's users", () => {
  test('two NKey seeds, 0600, kept across ups; nats.conf gets their public keys only', () => {
    const p = pkiPaths(dir);
    const first = ensureNatsUsers(p);
    expect(ensureNatsUsers(p)).toEqual(first);
    expect(first.store.publicKey).not.toBe(first.apiserver.publicKey);
    const conf = natsAuthorization(first);
    for (const user of ['store', 'apiserver'] as const) {
      const seed = fs.readFileSync(natsSeedFile(p, user), 'utf8').trim();
      expect(seed).toMatch(/^SU/);
      expect(fs.statSync(natsSeedFile(p, user)).mode & 0o777).toBe(0o600);
      expect(conf).toContain(`nkey: ${first[user].publicKey}`);
      expect(conf).not.toContain(seed);
    }
    expect(fs.statSync(p.natsDir).mode & 0o777).toBe(0o700);
  });

  test('a seed file that is not a seed is an error naming it, never silently replaced', () => {
    const p = pkiPaths(dir);
    ensureNatsUsers(p);
    fs.writeFileSync(natsSeedFile(p, 'store'), 'garbage\n');
    expect(() => ensureNatsUsers(p)).toThrow(`${natsSeedFile(p, 'store')}: not an NKey seed`);
    expect(fs.readFileSync(natsSeedFile(p, 'store'), 'utf8')).toBe('garbage\n');
  });
});

describe('command lines', () => {
  test('the store serves mutual TLS to the allowed two and uses its NKey; the apiserver presents its certificate and its NKey', async () => {
    const l = layout(dir);
    const s = await resolveSettings(l, { nodes: '1' });
    const plan = planComponents(l, s, 'nats://127.0.0.1:4', '127.0.0.1:5', {}, {});
    const p = pkiPaths(l.dataDir);
    const arg = (args: string[], flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
    const store = plan.store.args;
    expect([arg(store, '--tls-cert'), arg(store, '--tls-key'), arg(store, '--tls-client-ca')]).toEqual([p.storeCert, p.storeKey, p.caCert]);
    expect(arg(store, '--allowed-client')).toBe(STORE_ALLOWED_CLIENTS.join(','));
    expect(arg(store, '--nats-nkey')).toBe(natsSeedFile(p, 'store'));
    expect(store).not.toContain('--insecure-plaintext');
    const apiserver = plan.apiserver.args;
    expect([arg(apiserver, '--etcd-cafile'), arg(apiserver, '--etcd-certfile'), arg(apiserver, '--etcd-keyfile')]).toEqual([
      p.caCert,
      p.apiserverEtcdClientCert,
      p.apiserverEtcdClientKey,
    ]);
    expect(arg(apiserver, '--nats-nkey')).toBe(natsSeedFile(p, 'apiserver'));
  });
});
