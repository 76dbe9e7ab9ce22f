// Who may reach the cluster state, over real processes: the store (mutual TLS, allowed
// client identities) driven by the real etcdctl, and a real nats-server with the NKey users
// and permissions of @k8ts/kit (natsauth.ts), the configuration `k8ts up` and the deployment
// write. The store started here with the store's user is the proof that its permissions are
// enough; the apiserver's are exercised the way its change feed uses them (an ordered
// consumer from sequence 1, stream info, the compaction record).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { type CertificateAndKey, apiserverNatsPermissions, createCA, generateNatsUserKey, issueCertificate, natsAuthorizationConf, storeNatsPermissions } from '@k8ts/kit';
import { type NatsServer, startNats } from '@k8ts/testkit';
import { type ConnectionOptions, type NatsConnection, StorageType, connect, nkeyAuthenticator } from 'nats';
import { STORE_MAIN, type StoreProcess, etcdctl, eventually, startStore } from './harness';

jest.setTimeout(120_000);

const STREAM = 'K8TS';
let dir: string;
let nats: NatsServer;
let store: StoreProcess;
const files: Record<string, string> = {};
const keys = { store: generateNatsUserKey(), apiserver: generateNatsUserKey(), stranger: generateNatsUserKey() };

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text, { mode: 0o600 });
  return f;
}

async function pair(name: string, ca: CertificateAndKey, commonName: string, organizations: string[], usages: ('server' | 'client')[]): Promise<void> {
  const p = await issueCertificate({ ca, commonName, organizations, usages, ipAddresses: usages.includes('server') ? ['127.0.0.1'] : undefined, days: 1 });
  files[name] = write(`${name}.crt`, p.certPem);
  files[`${name}-key`] = write(`${name}.key`, p.keyPem);
}

const as = (user: keyof typeof keys): ConnectionOptions => ({ servers: nats.url, authenticator: nkeyAuthenticator(new TextEncoder().encode(keys[user].seed)), reconnect: false, timeout: 5000 });

/** etcdctl over TLS with the named client certificate (none: no certificate). */
const ctl = (args: string[], client?: string) =>
  etcdctl(`https://${store.endpoint}`, ['--cacert', files.ca, ...(client ? ['--cert', files[client], '--key', files[`${client}-key`]] : []), ...args]);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-store-security-it-'));
  const ca = await createCA({ commonName: 'k8ts-ca', days: 1 });
  const otherCa = await createCA({ commonName: 'k8ts-ca', days: 1 });
  files.ca = write('ca.crt', ca.certPem);
  await pair('store', ca, 'k8ts-store', [], ['server']);
  await pair('apiserver', ca, 'kube-apiserver-etcd-client', [], ['client']);
  await pair('admin', ca, 'k8ts-store-admin', ['system:masters'], ['client']);
  await pair('kubelet', ca, 'system:node:node-1', ['system:nodes'], ['client']);
  // Another CA of the same name, and a certificate of it with the apiserver's name.
  await pair('forged', otherCa, 'kube-apiserver-etcd-client', [], ['client']);
  for (const u of ['store', 'apiserver', 'stranger'] as const) files[`${u}.nk`] = write(`${u}.nk`, keys[u].seed);

  const authorization = natsAuthorizationConf([
    { name: 'store', publicKey: keys.store.publicKey, permissions: storeNatsPermissions({ stream: STREAM }) },
    { name: 'apiserver', publicKey: keys.apiserver.publicKey, permissions: apiserverNatsPermissions({ stream: STREAM }) },
  ]);
  nats = await startNats({ extraConfig: authorization });
  store = await startStore(nats.url, [
    '--tls-cert',
    files.store,
    '--tls-key',
    files['store-key'],
    '--tls-client-ca',
    files.ca,
    '--allowed-client',
    'CN=kube-apiserver-etcd-client,CN=k8ts-store-admin',
    '--nats-nkey',
    files['store.nk'],
    // Compaction every 100 ms: its purges and its record run under the store's permissions too.
    '--compaction-window',
    '1s',
  ]);
}, 120_000);

afterAll(async () => {
  await store?.stop();
  await nats?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the store: mutual TLS, then the allowed identities', () => {
  test('etcdctl with the store administrator certificate (--cacert --cert --key) reads and writes', async () => {
    const put = await ctl(['put', '/registry/secrets/default/db', 'hunter2'], 'admin');
    expect(put).toMatchObject({ code: 0, stdout: 'OK\n' });
    expect((await ctl(['get', '/registry/secrets/default/db', '--print-value-only'], 'admin')).stdout).toBe('hunter2\n');
    expect((await ctl(['get', '/registry/secrets/default/db', '--print-value-only'], 'apiserver')).stdout).toBe('hunter2\n');
  });

  test('refused: no client certificate, a certificate of another CA, plaintext', async () => {
    const get = ['get', '/registry/secrets/default/db', '--command-timeout=3s'];
    for (const r of [await ctl(get), await ctl(get, 'forged')]) {
      expect(r.code).not.toBe(0);
      expect(r.stdout).not.toContain('hunter2');
    }
    const plain = await etcdctl(store.endpoint, get);
    expect(plain.code).not.toBe(0);
    expect(plain.stdout).not.toContain('hunter2');
  });

  test('refused with PERMISSION_DENIED: a certificate of the cluster CA that is not allowed (a kubelet)', async () => {
    const r = await ctl(['put', '/registry/clusterrolebindings/pwned', 'x'], 'kubelet');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('store: the client certificate CN="system:node:node-1", O=["system:nodes"] is not allowed to call the store');
    expect((await ctl(['get', '/registry/clusterrolebindings/pwned', '--count-only', '-w', 'json'], 'admin')).stdout).not.toContain('"count":1');
  });

  test('a store without TLS settings refuses to start (exit code 2), naming the flags', () => {
    const r = spawnSync(process.execPath, [STORE_MAIN, '--listen', '127.0.0.1:0', '--nats-url', nats.url], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('store: the store serves mutual TLS: --tls-cert, --tls-key, --tls-client-ca are required');
  });
});

describe('NATS: no anonymous clients; the apiserver reads, only the store writes', () => {
  const open: NatsConnection[] = [];
  afterAll(async () => {
    for (const nc of open) await nc.close().catch(() => undefined);
  });
  const connectAs = async (o: ConnectionOptions) => {
    const nc = await connect(o);
    open.push(nc);
    return nc;
  };

  test('anonymous connections, unknown NKeys and passwords are refused', async () => {
    await expect(connect({ servers: nats.url, reconnect: false, timeout: 5000 })).rejects.toThrow(/Authorization Violation/i);
    await expect(connect(as('stranger'))).rejects.toThrow(/Authorization Violation/i);
    await expect(connect({ servers: nats.url, user: 'store', pass: 'guess', reconnect: false, timeout: 5000 })).rejects.toThrow(/Authorization Violation/i);
  });

  test('a store with an NKey NATS does not know exits, saying NATS refused its credentials', () => {
    const r = spawnSync(
      process.execPath,
      [STORE_MAIN, '--listen', '127.0.0.1:0', '--nats-url', nats.url, '--insecure-plaintext', '--nats-nkey', files['stranger.nk']],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("NATS refused the store's credentials");
  });

  test("the apiserver's user follows the stream as its change feed does", async () => {
    const nc = await connectAs(as('apiserver'));
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(STREAM);
    expect(info.state.last_seq).toBeGreaterThanOrEqual(2);
    const js = nc.jetstream();
    const consumer = await js.consumers.get(STREAM, { opt_start_seq: 1 });
    const first = await consumer.next({ expires: 5000 });
    expect(first?.subject).toBe('k8ts.genesis');
    const kv = await js.views.kv(`${STREAM}-meta`, { bindOnly: true });
    await kv.get('compact');
  });

  test("the apiserver's user can neither write nor delete the store's state", async () => {
    const nc = await connectAs(as('apiserver'));
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream({ timeout: 3000 });
    await expect(jsm.streams.delete(STREAM)).rejects.toThrow(/Permissions Violation/i);
    await expect(jsm.streams.purge(STREAM)).rejects.toThrow(/Permissions Violation/i);
    await expect(jsm.streams.add({ name: 'EVIL', subjects: ['evil.>'], storage: StorageType.Memory })).rejects.toThrow(/Permissions Violation/i);
    await expect(jsm.streams.deleteMessage(STREAM, 1)).rejects.toThrow(/Permissions Violation/i);
    await expect(js.publish('k8ts.kv.registry.clusterrolebindings.pwned', new Uint8Array([1]))).rejects.toThrow(/Permissions Violation/i);
    const kv = await js.views.kv(`${STREAM}-meta`, { bindOnly: true });
    await expect(kv.put('compact', new Uint8Array([1]))).rejects.toThrow(/Permissions Violation/i);
    // All of it still there, unchanged, as the store's administrator sees it.
    const after = await jsm.streams.info(STREAM);
    expect(after.config.name).toBe(STREAM);
    expect(after.state.first_seq).toBe(1);
    expect((await ctl(['get', '/registry/secrets/default/db', '--print-value-only'], 'admin')).stdout).toBe('hunter2\n');
  });

  test("compaction works under the store's permissions (purge, compaction record)", async () => {
    for (let i = 0; i < 3; i++) expect((await ctl(['put', '/registry/configmaps/default/c', `v${i}`], 'admin')).code).toBe(0);
    await eventually(async () => /compacted/.test((await ctl(['get', '/registry/configmaps/default/c', '--rev=2'], 'admin')).stderr), 20_000, 'compaction');
    expect((await ctl(['get', '/registry/configmaps/default/c', '--print-value-only'], 'admin')).stdout).toBe('v2\n');
  });

  test("the store's user cannot touch other streams", async () => {
    const nc = await connectAs(as('store'));
    const jsm = await nc.jetstreamManager();
    await expect(jsm.streams.add({ name: 'OTHER', subjects: ['other.>'], storage: StorageType.Memory })).rejects.toThrow(/Permissions Violation/i);
  });

  test("the server logged no permission violation of the store's or the change feed's own traffic", () => {
    // The violations the tests above provoke name their subjects; the rest must have none.
    const violations = nats
      .logs()
      .split('\n')
      .filter((l) => /Violation/i.test(l) && !/EVIL|OTHER|STREAM\.(DELETE|PURGE)|MSG\.DELETE|pwned|\$KV\.K8TS-meta\.compact|Authorization Violation/.test(l));
    expect(violations).toEqual([]);
  });
});
