// Who may call the store: start(config) exactly as main.ts runs it (flags parsed by the kit),
// over the in-memory log, called by real gRPC clients over real TLS. Mutual TLS is the
// default and plaintext needs --insecure-plaintext; only the allowed client certificates
// reach the etcd API (and the kit's own services), others get PERMISSION_DENIED.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import { etcdserverpb as pb } from '@k8ts/api';
import { type CertificateAndKey, createCA, issueCertificate, parseConfig } from '@k8ts/kit';
import pino from 'pino';
import { type StoreConfig, type StoreServer, start, storeFlags } from '../src';
import { MemoryBackend, MemoryLog } from '../src/memory';

const logger = pino({ level: 'silent' });
let dir: string;
let ca: CertificateAndKey;
const files: Record<string, string> = {};

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text, { mode: 0o600 });
  return f;
}

async function pair(name: string, ofCa: CertificateAndKey, commonName: string, organizations: string[], usages: ('server' | 'client')[]): Promise<void> {
  const p = await issueCertificate({ ca: ofCa, commonName, organizations, usages, ipAddresses: usages.includes('server') ? ['127.0.0.1'] : undefined, days: 1 });
  files[`${name}.crt`] = write(`${name}.crt`, p.certPem);
  files[`${name}.key`] = write(`${name}.key`, p.keyPem);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-store-security-'));
  ca = await createCA({ commonName: 'k8ts-ca', days: 1 });
  const other = await createCA({ commonName: 'other-ca', days: 1 });
  files['ca.crt'] = write('ca.crt', ca.certPem);
  await pair('store', ca, 'k8ts-store', [], ['server']);
  await pair('apiserver-etcd-client', ca, 'kube-apiserver-etcd-client', [], ['client']);
  await pair('admin', ca, 'k8ts-store-admin', ['system:masters'], ['client']);
  await pair('kubelet', ca, 'system:node:node-1', ['system:nodes'], ['client']);
  await pair('stranger', other, 'kube-apiserver-etcd-client', [], ['client']);
}, 30_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const config = (args: string[]) => parseConfig<StoreConfig>('store', storeFlags, ['--listen', '127.0.0.1:0', '--compaction-window', '0', ...args], {}, { exitOnHelp: false });
const tlsArgs = () => ['--tls-cert', files['store.crt'], '--tls-key', files['store.key'], '--tls-client-ca', files['ca.crt']];
const run = (args: string[]) => start(config(args), { logger, backend: new MemoryBackend(new MemoryLog()) });

/** KV.Range of one key with the given client certificate: OK or the error's code and message. */
function range(server: StoreServer, client?: string): Promise<{ code: grpc.status; details: string }> {
  const creds = client
    ? grpc.credentials.createSsl(fs.readFileSync(files['ca.crt']), fs.readFileSync(files[`${client}.key`]), fs.readFileSync(files[`${client}.crt`]))
    : grpc.credentials.createInsecure();
  const kv = new pb.KVClient(server.address, creds);
  return new Promise((resolve) =>
    kv.range({ key: Buffer.from('/registry/secrets/default/token') }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err) => {
      kv.close();
      resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' });
    }),
  );
}

describe('transport settings', () => {
  test('mutual TLS is required unless plaintext is asked for', async () => {
    await expect(run([])).rejects.toThrow(
      'the store serves mutual TLS: --tls-cert, --tls-key, --tls-client-ca are required (clients need a certificate of --tls-client-ca that --allowed-client names); --insecure-plaintext serves without TLS, for tests',
    );
    await expect(run(['--tls-cert', files['store.crt'], '--tls-key', files['store.key']])).rejects.toThrow('--tls-client-ca is required');
    await expect(run([...tlsArgs(), '--insecure-plaintext'])).rejects.toThrow('--insecure-plaintext excludes --tls-cert');
    await expect(run([...tlsArgs(), '--allowed-client', 'OU=x'])).rejects.toThrow('invalid value "OU=x" for --allowed-client');
  });

  test('--insecure-plaintext serves anyone, and says so', async () => {
    const lines: string[] = [];
    const server = await start(config(['--insecure-plaintext']), {
      logger: pino({ level: 'warn' }, { write: (l: string) => lines.push(l) }),
      backend: new MemoryBackend(new MemoryLog()),
    });
    try {
      expect(await range(server)).toEqual({ code: grpc.status.OK, details: '' });
      expect(lines.join('')).toContain('serving WITHOUT TLS (--insecure-plaintext)');
    } finally {
      await server.shutdown();
    }
  });
});

describe('the default: mutual TLS, the apiserver and administrators only', () => {
  let server: StoreServer;
  beforeAll(async () => {
    server = await run(tlsArgs());
  });
  afterAll(() => server.shutdown());

  test("the apiserver's etcd client certificate and a system:masters certificate may call", async () => {
    expect(await range(server, 'apiserver-etcd-client')).toEqual({ code: grpc.status.OK, details: '' });
    expect(await range(server, 'admin')).toEqual({ code: grpc.status.OK, details: '' });
  });

  test('another certificate of the cluster CA gets PERMISSION_DENIED', async () => {
    expect(await range(server, 'kubelet')).toEqual({
      code: grpc.status.PERMISSION_DENIED,
      details: 'store: the client certificate CN="system:node:node-1", O=["system:nodes"] is not allowed to call the store',
    });
  });

  test('no certificate, plaintext, or a certificate of another CA: no connection', async () => {
    expect((await range(server)).code).toBe(grpc.status.UNAVAILABLE);
    expect((await range(server, 'stranger')).code).toBe(grpc.status.UNAVAILABLE);
  });

  test('MemberList advertises an https client URL', async () => {
    const creds = grpc.credentials.createSsl(fs.readFileSync(files['ca.crt']), fs.readFileSync(files['admin.key']), fs.readFileSync(files['admin.crt']));
    const cluster = new pb.ClusterClient(server.address, creds);
    const res = await new Promise<pb.MemberListResponse>((resolve, reject) =>
      cluster.memberList({}, (err, r) => {
        cluster.close();
        if (err) reject(err);
        else resolve(r);
      }),
    );
    expect(res.members?.[0]?.clientURLs).toEqual([`https://${server.address}`]);
  });
});

describe('--allowed-client', () => {
  test('replaces the default list', async () => {
    const server = await run([...tlsArgs(), '--allowed-client', 'CN=system:node:node-1']);
    try {
      expect((await range(server, 'kubelet')).code).toBe(grpc.status.OK);
      expect((await range(server, 'admin')).code).toBe(grpc.status.PERMISSION_DENIED);
      expect((await range(server, 'apiserver-etcd-client')).code).toBe(grpc.status.PERMISSION_DENIED);
    } finally {
      await server.shutdown();
    }
  });
});
