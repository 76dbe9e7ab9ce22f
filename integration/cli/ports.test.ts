// Every port of a `k8ts up` cluster, tried as an intruder on the machine would: the listening
// TCP sockets of each process of <data-dir>/state.json (read from /proc: the process's socket
// inodes, matched in /proc/net/tcp and tcp6), each accounted for and each refusing what it
// must refuse:
//   - the store: no etcd client without a certificate, nor with a certificate of another CA,
//     nor with a certificate of the cluster CA that is not the apiserver's or the store
//     administrator's (the kubeconfig's admin certificate included); real etcdctl with the
//     store administrator's certificate works;
//   - NATS: no anonymous connection, no password; the apiserver's NKey user can neither
//     delete, purge nor create a stream; the cluster's own traffic causes no violation;
//   - the apiserver: no state-changing call without credentials, over gRPC and over HTTPS;
//   - the scheduler and the controller-manager: they serve nothing but the kit's read-only
//     services (health, reflection, InfoService with secrets redacted);
//   - kubelets and proxies: listed, and checked by integration/kubelet/authn.test.ts.
// Unlike the other CLI tests, this one calls the servers directly: that is what it is about.
import * as fs from 'fs';
import * as https from 'https';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import { corev1, etcdserverpb } from '@k8ts/api';
import { type CertificateAndKey, createCA, issueCertificate } from '@k8ts/kit';
import { type ConnectionOptions, StorageType, connect, nkeyAuthenticator } from 'nats';
import { execFileSync } from 'child_process';
import { k8ts, ok, testCluster } from './helpers';
import type { TestCluster } from './helpers';

jest.setTimeout(120_000);

interface ProcessEntry {
  name: string;
  pid: number;
  address?: string;
}
interface ClusterState {
  server: string;
  httpsServer?: string;
  processes: ProcessEntry[];
}

/** One listening TCP socket of a cluster process. */
interface Port {
  component: string;
  pid: number;
  host: string;
  port: number;
}

/** How a port was checked: by this test, or by another test file. */
type Check = 'store' | 'nats' | 'apiserver-grpc' | 'apiserver-https' | 'read-only' | 'integration/kubelet/authn.test.ts';

let c: TestCluster;
let state: ClusterState;
let ports: Port[];
let pki: string;
const read = (f: string) => fs.readFileSync(path.join(pki, f));

// ---- the listening sockets of a process, from /proc -------------------------------------

/** The inodes of the sockets a process holds open. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** The address of /proc/net/tcp{,6}: little-endian 32-bit words of hex. */
function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return bytes.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':');
}

/** Listening TCP sockets (state 0A) whose inode is one of `inodes`. */
function listening(inodes: Set<string>): { host: string; port: number }[] {
  const out: { host: string; port: number }[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9])) continue;
      const [addr, port] = f[1].split(':');
      out.push({ host: procAddress(addr), port: Number.parseInt(port, 16) });
    }
  }
  return out;
}

function listeningPorts(st: ClusterState): Port[] {
  return st.processes.flatMap((p) => listening(socketInodes(p.pid)).map((l) => ({ component: p.name, pid: p.pid, ...l })));
}

const portOf = (address: string | undefined) => Number(/:(\d+)$/.exec(address ?? '')?.[1]);

/** What checks a port, from its process and the addresses state.json records. */
function checkOf(p: Port): Check | undefined {
  if (p.component === 'nats') return 'nats';
  if (p.component === 'store') return 'store';
  if (p.component === 'apiserver') {
    if (p.port === portOf(state.server)) return 'apiserver-grpc';
    if (p.port === portOf(state.httpsServer)) return 'apiserver-https';
    return undefined;
  }
  if (p.component === 'scheduler' || p.component === 'controller-manager') return 'read-only';
  if (p.component.startsWith('kubelet-') || p.component.startsWith('proxy-')) return 'integration/kubelet/authn.test.ts';
  return undefined;
}

const portsChecked = (check: Check) => ports.filter((p) => checkOf(p) === check);

beforeAll(async () => {
  c = await testCluster('ports');
  const r = await k8ts(c, ['up', '--detach', ...c.upFlags, '--nodes', '1'], { timeoutMs: 150_000 });
  if (r.code !== 0) throw new Error(`k8ts up failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  state = JSON.parse(fs.readFileSync(path.join(c.dataDir, 'state.json'), 'utf8')) as ClusterState;
  pki = path.join(c.dataDir, 'pki');
  ports = listeningPorts(state);
}, 180_000);

afterAll(async () => {
  if (!c) return;
  await k8ts(c, ['down', '--data-dir', c.dataDir]);
  await c.dispose();
}, 60_000);

test('every listening port of the cluster is on loopback and accounted for', () => {
  const table = ports.map((p) => `${p.component} ${p.host}:${p.port} -> ${checkOf(p) ?? 'UNCHECKED'}`);
  expect(table.filter((t) => t.endsWith('UNCHECKED'))).toEqual([]);
  expect(ports.filter((p) => !p.host.startsWith('127.'))).toEqual([]);
  // Each component that listens is found listening, with the address state.json says.
  for (const name of ['nats', 'store', 'apiserver', 'scheduler', 'controller-manager', 'kubelet-node-1', 'proxy-node-1']) {
    expect({ name, listens: ports.some((p) => p.component === name) }).toEqual({ name, listens: true });
  }
  for (const e of state.processes.filter((x) => x.address)) {
    expect({ name: e.name, found: ports.some((p) => p.component === e.name && p.port === portOf(e.address)) }).toEqual({ name: e.name, found: true });
  }
  expect(portsChecked('nats').map((p) => p.port)).toEqual([portOf(state.processes.find((x) => x.name === 'nats')?.address)]);
  expect(portsChecked('store')).toHaveLength(1);
  expect(portsChecked('apiserver-grpc')).toHaveLength(1);
  expect(portsChecked('apiserver-https')).toHaveLength(1);
});

// ---- the store -----------------------------------------------------------------------------

describe('the store', () => {
  let stranger: CertificateAndKey;
  let kubeletLike: CertificateAndKey;
  beforeAll(async () => {
    // Another CA, of the same name, signing the apiserver's identity.
    const otherCa = await createCA({ commonName: 'k8ts-ca', days: 1 });
    stranger = await issueCertificate({ ca: otherCa, commonName: 'kube-apiserver-etcd-client', usages: ['client'], days: 1 });
    // A certificate the cluster CA really signed, for someone else (a node).
    const ca = { certPem: read('ca.crt').toString(), keyPem: read('ca.key').toString() };
    kubeletLike = await issueCertificate({ ca, commonName: 'system:node:node-1', organizations: ['system:nodes'], usages: ['client'], days: 1 });
  });

  /** KV.Range of the whole cluster state: the code it ends with. */
  function range(endpoint: string, creds: grpc.ChannelCredentials): Promise<{ code: grpc.status; details: string }> {
    const kv = new etcdserverpb.KVClient(endpoint, creds);
    return new Promise((resolve) =>
      kv.range({ key: Buffer.from('/kubernetes.io/'), rangeEnd: Buffer.from('/kubernetes.io0') }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err) => {
        kv.close();
        resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' });
      }),
    );
  }
  const tls = (cert?: { certPem: string | Buffer; keyPem: string | Buffer }) =>
    grpc.credentials.createSsl(read('ca.crt'), cert ? Buffer.from(cert.keyPem) : null, cert ? Buffer.from(cert.certPem) : null);

  test('refuses clients without a certificate, with one of another CA, and in plaintext', async () => {
    for (const p of portsChecked('store')) {
      const endpoint = `${p.host}:${p.port}`;
      expect((await range(endpoint, grpc.credentials.createInsecure())).code).toBe(grpc.status.UNAVAILABLE);
      expect((await range(endpoint, tls())).code).toBe(grpc.status.UNAVAILABLE);
      expect((await range(endpoint, tls(stranger))).code).toBe(grpc.status.UNAVAILABLE);
    }
  });

  test("refuses certificates of the cluster CA that are not the apiserver's or the store administrator's, the kubeconfig's admin included", async () => {
    const admin = { certPem: read('admin.crt'), keyPem: read('admin.key') };
    for (const p of portsChecked('store')) {
      const endpoint = `${p.host}:${p.port}`;
      expect(await range(endpoint, tls(kubeletLike))).toEqual({
        code: grpc.status.PERMISSION_DENIED,
        details: 'store: the client certificate CN="system:node:node-1", O=["system:nodes"] is not allowed to call the store',
      });
      expect((await range(endpoint, tls(admin))).code).toBe(grpc.status.PERMISSION_DENIED);
      expect((await range(endpoint, tls({ certPem: read('apiserver-etcd-client.crt'), keyPem: read('apiserver-etcd-client.key') }))).code).toBe(grpc.status.OK);
    }
  });

  test("real etcdctl works with the store administrator's certificate, and not without it", () => {
    const [p] = portsChecked('store');
    const ctl = (extra: string[]) =>
      execFileSync('etcdctl', [`--endpoints=https://${p.host}:${p.port}`, '--cacert', path.join(pki, 'ca.crt'), '--command-timeout=5s', ...extra, 'get', '/kubernetes.io/namespaces/default', '--keys-only'], {
        env: { ...process.env, ETCDCTL_API: '3' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    expect(ctl(['--cert', path.join(pki, 'store-admin.crt'), '--key', path.join(pki, 'store-admin.key')]).trim()).toBe('/kubernetes.io/namespaces/default');
    expect(() => ctl([])).toThrow();
  });
});

// ---- NATS ----------------------------------------------------------------------------------

describe('NATS', () => {
  const url = () => {
    const [p] = portsChecked('nats');
    return `nats://${p.host}:${p.port}`;
  };
  const nkey = (user: string): ConnectionOptions => ({
    servers: url(),
    authenticator: nkeyAuthenticator(new TextEncoder().encode(read(path.join('nats', `${user}.nk`)).toString().trim())),
    reconnect: false,
    timeout: 5000,
  });
  const natsLog = () => fs.readFileSync(path.join(c.dataDir, 'logs', 'nats.log'), 'utf8');

  test("the cluster's own traffic caused no permission or authorization violation", () => {
    expect(natsLog().split('\n').filter((l) => /Violation/i.test(l))).toEqual([]);
  });

  test('refuses anonymous connections and passwords', async () => {
    await expect(connect({ servers: url(), reconnect: false, timeout: 5000 })).rejects.toThrow(/Authorization Violation/i);
    await expect(connect({ servers: url(), user: 'store', pass: 'store', reconnect: false, timeout: 5000 })).rejects.toThrow(/Authorization Violation/i);
  });

  test("the apiserver's NKey user cannot delete, purge or create a stream", async () => {
    const nc = await connect(nkey('apiserver'));
    try {
      const jsm = await nc.jetstreamManager();
      const before = await jsm.streams.info('K8TS');
      await expect(jsm.streams.delete('K8TS')).rejects.toThrow(/Permissions Violation/i);
      await expect(jsm.streams.purge('K8TS')).rejects.toThrow(/Permissions Violation/i);
      await expect(jsm.streams.add({ name: 'EVIL', subjects: ['evil.>'], storage: StorageType.Memory })).rejects.toThrow(/Permissions Violation/i);
      const after = await jsm.streams.info('K8TS');
      expect(after.state.messages).toBeGreaterThanOrEqual(before.state.messages);
    } finally {
      await nc.close();
    }
    // The cluster still answers from its state.
    expect(await ok(c, ['get', 'namespace', 'default', '-o', 'name'])).toBe('namespace/default\n');
  });
});

// ---- the apiserver -------------------------------------------------------------------------

describe('the apiserver', () => {
  test('gRPC: a state-changing call without a token, or with a made-up one, is UNAUTHENTICATED', async () => {
    const [p] = portsChecked('apiserver-grpc');
    const client = new corev1.NamespaceServiceClient(`${p.host}:${p.port}`, grpc.credentials.createInsecure());
    const create = (md: grpc.Metadata) =>
      new Promise<grpc.status>((resolve) =>
        client.createNamespace({ namespace: { metadata: { name: 'intruder' } } }, md, { deadline: Date.now() + 5000 }, (err) => resolve(err ? err.code : grpc.status.OK)),
      );
    const forged = new grpc.Metadata();
    forged.set('authorization', 'Bearer made-up');
    try {
      expect(await create(new grpc.Metadata())).toBe(grpc.status.UNAUTHENTICATED);
      expect(await create(forged)).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
    expect((await k8ts(c, ['get', 'namespace', 'intruder'])).code).not.toBe(0);
  });

  test('HTTPS: creating without credentials, or reading Secrets, is 401', async () => {
    const [p] = portsChecked('apiserver-https');
    const request = (method: string, urlPath: string, body?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = https.request(
          { host: p.host, port: p.port, method, path: urlPath, ca: read('ca.crt'), agent: false, headers: { 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    expect(await request('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'intruder' } }))).toBe(401);
    expect(await request('GET', '/api/v1/secrets')).toBe(401);
    expect(await request('DELETE', '/api/v1/namespaces/default')).toBe(401);
  });
});

// ---- the others ----------------------------------------------------------------------------

test('the scheduler and the controller-manager serve only the read-only services of the kit', () => {
  for (const p of portsChecked('read-only')) {
    const log = fs.readFileSync(path.join(c.dataDir, 'logs', `${p.component}.log`), 'utf8');
    const line = log.split('\n').find((l) => l.includes('"msg":"listening"') && l.includes(`:${p.port}"`));
    expect({ component: p.component, port: p.port, found: !!line }).toEqual({ component: p.component, port: p.port, found: true });
    const services = (JSON.parse(line!) as { services: string[] }).services;
    expect({ component: p.component, services }).toEqual({ component: p.component, services: ['k8ts.system.v1.InfoService'] });
  }
});

test('kubelet and proxy ports are listed here and checked by integration/kubelet/authn.test.ts', () => {
  const elsewhere = portsChecked('integration/kubelet/authn.test.ts').map((p) => p.component);
  expect(elsewhere).toEqual(expect.arrayContaining(['kubelet-node-1', 'proxy-node-1']));
  expect(fs.existsSync(path.join(__dirname, '..', 'kubelet', 'authn.test.ts'))).toBe(true);
});
