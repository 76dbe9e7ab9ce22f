// The local cluster's HTTPS side: the cluster CA and certificates in <data-dir>/pki (SANs,
// subjects, kept or issued again), the kubeconfig (parsed back with yaml), the apiserver's
// HTTPS flags and port, `k8ts kubeconfig`, the HTTPS line of `k8ts status`, and what `up`
// prints. Certificates are read with Node's X509Certificate and `openssl verify`, and the
// kubeconfig is tried with a real TLS server (and with kubectl when the machine has it).
import { execFile, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as https from 'https';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import type * as tls from 'tls';
import { parse } from 'yaml';
import { run } from '../src/cli';
import { checkHttps } from '../src/cluster/health';
import { buildKubeconfig, writeKubeconfig } from '../src/cluster/kubeconfig';
import type { Kubeconfig } from '../src/cluster/kubeconfig';
import { layout, writeSettings, writeState } from '../src/cluster/layout';
import type { ClusterSettings, Layout } from '../src/cluster/layout';
import { printKubeconfig, status } from '../src/cluster/manage';
import { apiserverSans, ensureCertificates, firstServiceIP, LEAF_DAYS, pkiPaths } from '../src/cluster/pki';
import { APISERVER_IP, planComponents, readyMessage, resolveSettings, writeClusterKubeconfig } from '../src/cluster/up';
import type { UpResult } from '../src/cluster/up';
import { bufferIO } from '../src/io';

let dir: string;
let l: Layout;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-cli-https-'));
  l = layout(dir);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const read = (f: string) => fs.readFileSync(f, 'utf8');
const x509 = (f: string) => new crypto.X509Certificate(read(f));
const mode = (f: string) => fs.statSync(f).mode & 0o777;
const DEFAULT_SANS = apiserverSans('127.0.0.1', '127.96.0.0/16');

function opensslVerifies(caFile: string, certFile: string, purpose: 'sslserver' | 'sslclient'): boolean {
  return spawnSync('openssl', ['verify', '-CAfile', caFile, '-purpose', purpose, certFile]).status === 0;
}

/** Every file of the pki folder that is a certificate or key, with its content. */
function certificateFiles(): Record<string, string> {
  const p = pkiPaths(dir);
  const files = [p.caCert, p.caKey, p.apiserverCert, p.apiserverKey, p.adminCert, p.adminKey];
  return Object.fromEntries(files.map((f) => [path.basename(f), read(f)]));
}

describe('the kubernetes Service IP and the serving certificate SANs', () => {
  test('the first address of the service range, whatever address the range is written with', () => {
    expect(firstServiceIP('127.96.0.0/16')).toBe('127.96.0.1');
    expect(firstServiceIP('10.96.0.0/12')).toBe('10.96.0.1');
    expect(firstServiceIP('10.100.5.7/12')).toBe('10.96.0.1');
    expect(firstServiceIP('192.168.7.0/24')).toBe('192.168.7.1');
    expect(() => firstServiceIP('127.96.0.0')).toThrow('invalid --service-cidr "127.96.0.0": must be an IPv4 CIDR');
    expect(() => firstServiceIP('300.1.1.0/24')).toThrow(/invalid --service-cidr/);
    expect(() => firstServiceIP('10.0.0.0/31')).toThrow(/prefix of 1 to 30 bits/);
  });

  test("kube-apiserver's SANs: localhost, loopback, the listen IP, the kubernetes Service's names and ClusterIP", () => {
    expect(apiserverSans('127.0.0.5', '10.96.0.0/12')).toEqual({
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      ipAddresses: ['127.0.0.1', '127.0.0.5', '10.96.0.1'],
    });
    expect(DEFAULT_SANS.ipAddresses).toEqual(['127.0.0.1', '127.96.0.1']);
  });
});

describe('cluster certificates', () => {
  test('first start: a CA, a serving certificate with the SANs, and the kubeadm-like admin certificate', async () => {
    const r = await ensureCertificates(dir, DEFAULT_SANS);
    expect(r.issued).toEqual([
      'ca (missing)',
      'apiserver (missing)',
      'admin (missing)',
      'store (missing)',
      'apiserver-etcd-client (missing)',
      'store-admin (missing)',
    ]);
    const p = r.paths;
    const ca = x509(p.caCert);
    expect(ca.ca).toBe(true);
    const server = x509(p.apiserverCert);
    expect(server.subjectAltName?.split(', ').sort()).toEqual(
      [
        'DNS:localhost',
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
        'DNS:kubernetes.default.svc.cluster.local',
        'IP Address:127.0.0.1',
        'IP Address:127.96.0.1',
      ].sort(),
    );
    expect(server.checkIssued(ca)).toBe(true);
    const admin = x509(p.adminCert);
    expect(admin.subject.split('\n')).toEqual(['O=system:masters', 'CN=kubernetes-admin']);
    expect(opensslVerifies(p.caCert, p.apiserverCert, 'sslserver')).toBe(true);
    expect(opensslVerifies(p.caCert, p.adminCert, 'sslclient')).toBe(true);
    for (const key of [p.caKey, p.apiserverKey, p.adminKey]) expect(mode(key)).toBe(0o600);
    expect(mode(p.dir)).toBe(0o700);
  });

  test('idempotent: the same SANs again change nothing', async () => {
    await ensureCertificates(dir, DEFAULT_SANS);
    const before = certificateFiles();
    const again = await ensureCertificates(dir, apiserverSans('127.0.0.1', '127.96.0.0/16'));
    expect(again.issued).toEqual([]);
    expect(certificateFiles()).toEqual(before);
  });

  test('other SANs (another service range): only the serving certificate is issued again', async () => {
    await ensureCertificates(dir, DEFAULT_SANS);
    const before = certificateFiles();
    const r = await ensureCertificates(dir, apiserverSans('127.0.0.1', '127.97.0.0/16'));
    expect(r.issued).toEqual(['apiserver (other SANs)']);
    const after = certificateFiles();
    expect(after['ca.crt']).toBe(before['ca.crt']);
    expect(after['admin.crt']).toBe(before['admin.crt']);
    expect(after['apiserver.crt']).not.toBe(before['apiserver.crt']);
    expect(x509(r.paths.apiserverCert).checkIP('127.97.0.1')).toBe('127.97.0.1');
    expect(x509(r.paths.apiserverCert).checkIP('127.96.0.1')).toBeUndefined();
  });

  test('certificates about to expire are renewed, the CA kept', async () => {
    await ensureCertificates(dir, DEFAULT_SANS);
    const before = certificateFiles();
    const later = new Date(Date.now() + (LEAF_DAYS - 10) * 86400_000);
    const r = await ensureCertificates(dir, DEFAULT_SANS, later);
    expect(r.issued.map((x) => x.split(' ')[0])).toEqual(['apiserver', 'admin', 'store', 'apiserver-etcd-client', 'store-admin']);
    expect(r.issued[0]).toMatch(/^apiserver \(expires \d{4}-/);
    expect(certificateFiles()['ca.crt']).toBe(before['ca.crt']);
  });

  test('a new CA (the old one deleted) means new certificates; a missing key too', async () => {
    const first = await ensureCertificates(dir, DEFAULT_SANS);
    fs.rmSync(first.paths.caCert);
    const r = await ensureCertificates(dir, DEFAULT_SANS);
    expect(r.issued).toEqual([
      'ca (missing)',
      'apiserver (not signed by the cluster CA)',
      'admin (not signed by the cluster CA)',
      'store (not signed by the cluster CA)',
      'apiserver-etcd-client (not signed by the cluster CA)',
      'store-admin (not signed by the cluster CA)',
    ]);
    expect(opensslVerifies(r.paths.caCert, r.paths.adminCert, 'sslclient')).toBe(true);
    fs.rmSync(r.paths.adminKey);
    expect((await ensureCertificates(dir, DEFAULT_SANS)).issued).toEqual(['admin (missing)']);
  });
});

describe('the kubeconfig', () => {
  const settings = async (): Promise<ClusterSettings> => {
    const s = await resolveSettings(l, {});
    writeSettings(l, s);
    return s;
  };

  test('one cluster k8ts, one user k8ts-admin, one current context k8ts; the data decodes to the PEMs; mode 0600', async () => {
    const s = await settings();
    const p = (await ensureCertificates(dir, DEFAULT_SANS)).paths;
    writeClusterKubeconfig(l, s);
    expect(mode(l.kubeconfig)).toBe(0o600);
    const cfg = parse(read(l.kubeconfig)) as Kubeconfig;
    expect(cfg).toMatchObject({ apiVersion: 'v1', kind: 'Config', 'current-context': 'k8ts' });
    expect(cfg.clusters.map((c) => c.name)).toEqual(['k8ts']);
    expect(cfg.users.map((u) => u.name)).toEqual(['k8ts-admin']);
    expect(cfg.contexts).toEqual([{ name: 'k8ts', context: { cluster: 'k8ts', user: 'k8ts-admin' } }]);
    const cluster = cfg.clusters[0].cluster;
    expect(cluster.server).toBe(`https://127.0.0.1:${s.apiserverHttpsPort}`);
    const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    expect(decode(cluster['certificate-authority-data'])).toBe(read(p.caCert));
    expect(decode(cfg.users[0].user['client-certificate-data'])).toBe(read(p.adminCert));
    expect(decode(cfg.users[0].user['client-key-data'])).toBe(read(p.adminKey));
    // One line per base64 value, as kubectl writes them.
    expect(read(l.kubeconfig)).toMatch(/^ {6}certificate-authority-data: [A-Za-z0-9+/=]+$/m);
  });

  test('rewriting keeps it private even when the old file was readable by others', () => {
    fs.writeFileSync(l.kubeconfig, 'old', { mode: 0o644 });
    writeKubeconfig(l.kubeconfig, { server: 'https://127.0.0.1:1', caPem: 'a', clientCertPem: 'b', clientKeyPem: 'c' });
    expect(mode(l.kubeconfig)).toBe(0o600);
    expect(parse(read(l.kubeconfig))).toEqual(buildKubeconfig({ server: 'https://127.0.0.1:1', caPem: 'a', clientCertPem: 'b', clientKeyPem: 'c' }));
  });

  describe('against a TLS server that checks client certificates as kube-apiserver does', () => {
    let server: https.Server;
    let url: string;
    beforeEach(async () => {
      const p = (await ensureCertificates(dir, DEFAULT_SANS)).paths;
      // 200 "ok" only for a client certificate of user kubernetes-admin in group system:masters.
      server = https.createServer({ cert: read(p.apiserverCert), key: read(p.apiserverKey), ca: read(p.caCert), requestCert: true, rejectUnauthorized: false }, (req, res) => {
        const socket = req.socket as tls.TLSSocket;
        const peer = socket.getPeerCertificate();
        const admin = socket.authorized && peer.subject?.CN === 'kubernetes-admin' && peer.subject?.O === 'system:masters';
        res.writeHead(admin && req.url === '/readyz' ? 200 : 401);
        res.end(admin ? 'ok' : 'Unauthorized');
      });
      await new Promise<void>((r) => server.listen(0, APISERVER_IP, r));
      url = `https://${APISERVER_IP}:${(server.address() as AddressInfo).port}`;
    });
    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    test("up's readiness probe: 200 with the admin certificate, 401 without", async () => {
      const p = pkiPaths(dir);
      expect(await checkHttps({ url: `${url}/readyz`, ca: read(p.caCert), cert: read(p.adminCert), key: read(p.adminKey) })).toBe('OK');
      expect(await checkHttps({ url: `${url}/readyz`, ca: read(p.caCert) })).toBe('HTTP 401');
      expect(await checkHttps({ url: 'https://127.0.0.1:1/readyz', ca: read(p.caCert) })).toBe('UNREACHABLE');
    });

    const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
    (kubectl ? test : test.skip)('kubectl (Go) accepts the CA, the serving certificate and the admin certificate from the kubeconfig', async () => {
      const p = pkiPaths(dir);
      writeKubeconfig(l.kubeconfig, { server: url, caPem: read(p.caCert), clientCertPem: read(p.adminCert), clientKeyPem: read(p.adminKey) });
      // Asynchronously: the server answers from this process's event loop.
      const out = await new Promise<string>((resolve, reject) =>
        execFile('kubectl', ['--kubeconfig', l.kubeconfig, 'get', '--raw', '/readyz'], { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
      expect(out.trim()).toBe('ok');
    });
  });
});

describe('the apiserver: HTTPS port and flags', () => {
  test('an HTTPS port of its own, kept across starts, never the gRPC port', async () => {
    const s = await resolveSettings(l, {});
    expect(s.apiserverHttpsPort).toBeGreaterThan(0);
    expect(s.apiserverHttpsPort).not.toBe(s.apiserverPort);
    writeSettings(l, s);
    const again = await resolveSettings(l, {});
    expect(again.apiserverHttpsPort).toBe(s.apiserverHttpsPort);
    // Older settings without one get one.
    const { apiserverHttpsPort: _, ...older } = s;
    writeSettings(l, older as ClusterSettings);
    expect((await resolveSettings(l, {})).apiserverHttpsPort).toBeGreaterThan(0);
    await expect(resolveSettings(l, { apiserverPort: '5555', apiserverHttpsPort: '5555' })).rejects.toThrow(
      '--apiserver-port and --apiserver-https-port must differ; both are 5555',
    );
  });

  test('a taken HTTPS port is refused by name; a kept one that was taken since is replaced', async () => {
    const net = await import('net');
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as AddressInfo).port;
    try {
      await expect(resolveSettings(l, { apiserverHttpsPort: String(port) })).rejects.toThrow(
        `port 127.0.0.1:${port} for the apiserver's HTTPS API is already in use by another process: choose another with --apiserver-https-port`,
      );
      const s = await resolveSettings(l, {});
      writeSettings(l, { ...s, apiserverHttpsPort: port });
      const moved = await resolveSettings(l, {});
      expect(moved.apiserverHttpsPort).not.toBe(port);
    } finally {
      srv.close();
    }
  });

  test('its command line: --http-listen, the serving certificate, the client CA, the advertised address; ready on /readyz', async () => {
    const s = await resolveSettings(l, { nodes: '1', serviceCidr: '127.97.0.0/16' });
    const plan = planComponents(l, s, 'nats://127.0.0.1:4', '127.0.0.1:5', {}, {});
    const args = plan.apiserver.args;
    const arg = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
    const p = pkiPaths(l.dataDir);
    expect(arg('--listen')).toBe(`127.0.0.1:${s.apiserverPort}`);
    expect(arg('--http-listen')).toBe(`127.0.0.1:${s.apiserverHttpsPort}`);
    expect(arg('--http-tls-cert')).toBe(p.apiserverCert);
    expect(arg('--http-tls-key')).toBe(p.apiserverKey);
    expect(arg('--client-ca-file')).toBe(p.caCert);
    expect(arg('--advertise-address')).toBe('127.0.0.1');
    expect(arg('--service-cluster-ip-range')).toBe('127.97.0.0/16');
    expect(plan.apiserver.httpsReady).toEqual({ url: `https://127.0.0.1:${s.apiserverHttpsPort}/readyz`, caFile: p.caCert, certFile: p.adminCert, keyFile: p.adminKey });
    expect(plan.store.httpsReady).toBeUndefined();
  });
});

describe('k8ts kubeconfig and k8ts status', () => {
  test('kubeconfig: the file as written; a note when the cluster is not running; an error naming up when there is none', async () => {
    const io = bufferIO({ HOME: dir, PATH: '' });
    expect(() => printKubeconfig(io, dir)).toThrow(/^no kubeconfig in .*: ".*k8ts up --data-dir .*" writes it when the cluster starts$/);
    fs.writeFileSync(l.kubeconfig, 'apiVersion: v1\nkind: Config\n');
    const code = await run(['kubeconfig', '--data-dir', dir], io);
    expect(code).toBe(0);
    expect(io.stdout()).toBe('apiVersion: v1\nkind: Config\n');
    expect(io.stderr()).toMatch(/^note: the apiserver of .* is not running; start it with ".*k8ts up --data-dir /);
  });

  test('status shows the HTTPS URL and whether /readyz answers', async () => {
    const p = (await ensureCertificates(dir, DEFAULT_SANS)).paths;
    const server = https.createServer({ cert: read(p.apiserverCert), key: read(p.apiserverKey) }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, APISERVER_IP, r));
    const httpsServer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      writeState(l, { startedAt: new Date().toISOString(), server: '127.0.0.1:1', httpsServer, processes: [] });
      const io = bufferIO({ HOME: dir });
      await status(io, dir);
      expect(io.stdout()).toContain(`HTTPS API:  ${httpsServer}   /readyz: OK   Kubeconfig: ${l.kubeconfig}\n`);
      const json = bufferIO({ HOME: dir });
      await status(json, dir, { output: 'json' });
      expect(JSON.parse(json.stdout())).toMatchObject({ httpsServer, readyz: 'OK', kubeconfig: l.kubeconfig });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('what up prints', () => {
  const result = (): UpResult => ({
    layout: l,
    settings: { name: 'default', nodes: 3, runtime: 'process', simNodes: 0, nodeSubnet: '', clusterCidr: '', serviceCidr: '', apiserverPort: 40000, created: '' },
    server: '127.0.0.1:40000',
    httpsServer: 'https://127.0.0.1:40001',
    kubeconfig: l.kubeconfig,
    credentials: { admin: '', scheduler: '', controllerManager: '', proxy: '', nodes: {} },
    seconds: 3.2,
    configFile: '/home/me/.k8ts/config',
    contextName: 'k8ts-default',
    children: [],
  });

  test('the kubeconfig and how to use it with kubectl; k8ts hints as the shell will find them', () => {
    const text = readyMessage(result(), true, 'k8ts');
    expect(text).toContain('The apiserver is at 127.0.0.1:40000 (gRPC) and https://127.0.0.1:40001 (Kubernetes API).');
    expect(text).toContain(`\n  export KUBECONFIG=${l.kubeconfig}\n  kubectl get nodes\n`);
    expect(text).toContain(`Kubeconfig:  ${l.kubeconfig}`);
    expect(text).toMatch(/\n {2}k8ts get nodes\n/);
    expect(text).toContain(`  k8ts status --data-dir ${l.dataDir}`);
    expect(text).not.toContain('PATH');
  });

  test('when k8ts is not on PATH: every hint starts with the launcher path, and how to put it on PATH', () => {
    const launcher = '/src/k8ts/cli/bin/k8ts';
    const text = readyMessage(result(), true, launcher);
    const hints = text.split('\n').filter((line) => /^ {2}\S/.test(line) && !line.startsWith('  export') && !line.startsWith('  kubectl'));
    expect(hints.length).toBe(5);
    for (const h of hints) expect(h.startsWith(`  ${launcher} `)).toBe(true);
    expect(text).toMatch(/To type just "k8ts", put it on your PATH: export PATH=.*\/cli\/bin:"\$PATH"/);
  });
});
