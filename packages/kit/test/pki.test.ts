// The cluster PKI: certificates are checked by tools that did not make them (OpenSSL's
// `openssl verify` and `x509 -text`, Node's crypto.X509Certificate) and used for real TLS
// (a Node https server and client on loopback, with and without client certificates).
import { execFileSync, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as https from 'https';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import type * as tls from 'tls';
import { CLOCK_SKEW_MS, certificateInfo, createCA, isIssuedBy, issueCertificate } from '../src/pki';
import type { CertificateAndKey } from '../src/pki';

let dir: string;
let ca: CertificateAndKey;
let server: CertificateAndKey;
let client: CertificateAndKey;

const SERVER_SANS = { dnsNames: ['localhost', 'kubernetes', 'kubernetes.default.svc'], ipAddresses: ['127.0.0.1', '127.96.0.1'] };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-kit-pki-'));
  ca = await createCA({ commonName: 'k8ts-ca', days: 3650 });
  server = await issueCertificate({ ca, commonName: 'kube-apiserver', ...SERVER_SANS, usages: ['server'], days: 365 });
  client = await issueCertificate({ ca, commonName: 'kubernetes-admin', organizations: ['system:masters', 'team-a'], usages: ['client'], days: 365 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, pem: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, pem);
  return file;
}

/** `openssl verify` of `cert` against `caPem` alone: the exit status and output. */
function opensslVerify(caPem: string, certPem: string, purpose?: string): { ok: boolean; output: string } {
  const args = ['verify', '-CAfile', write('verify-ca.pem', caPem), ...(purpose ? ['-purpose', purpose] : []), write('verify-leaf.pem', certPem)];
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

const opensslText = (pem: string) => execFileSync('openssl', ['x509', '-noout', '-text', '-in', write('text.pem', pem)], { encoding: 'utf8' });

describe('the certificates, as OpenSSL and Node read them', () => {
  test('the CA is self-signed, a CA, and signs with its P-256 key', () => {
    const x = new crypto.X509Certificate(ca.certPem);
    expect(x.ca).toBe(true);
    expect(x.subject).toBe('CN=k8ts-ca');
    expect(x.issuer).toBe('CN=k8ts-ca');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(opensslVerify(ca.certPem, ca.certPem).ok).toBe(true);
    const text = opensslText(ca.certPem);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    // The private key is PKCS#8 and belongs to the certificate.
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const pub = crypto.createPublicKey(ca.keyPem).export({ type: 'spki', format: 'der' });
    expect(pub.equals(x.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
  });

  test('the serving certificate: SANs, issuer, serverAuth only, not a CA, chains to the CA', () => {
    const x = new crypto.X509Certificate(server.certPem);
    expect(x.subject).toBe('CN=kube-apiserver');
    expect(x.issuer).toBe('CN=k8ts-ca');
    expect(x.ca).toBe(false);
    expect(x.subjectAltName?.split(', ').sort()).toEqual(
      ['DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default.svc', 'IP Address:127.0.0.1', 'IP Address:127.96.0.1'].sort(),
    );
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(x.checkIssued(new crypto.X509Certificate(ca.certPem))).toBe(true);
    expect(x.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    expect(x.checkIP('127.96.0.1')).toBe('127.96.0.1');
    expect(x.checkIP('127.0.0.2')).toBeUndefined();
    expect(opensslVerify(ca.certPem, server.certPem, 'sslserver')).toMatchObject({ ok: true });
    expect(opensslVerify(ca.certPem, server.certPem, 'sslclient').ok).toBe(false);
    const text = opensslText(server.certPem);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    // The authority key id is the CA's subject key id.
    const caSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(opensslText(ca.certPem))?.[1];
    expect(caSki).toBeDefined();
    expect(text).toContain(caSki as string);
  });

  test("the client certificate: CN is the user, each O a group, clientAuth only", () => {
    const x = new crypto.X509Certificate(client.certPem);
    expect(x.subject.split('\n')).toEqual(['O=system:masters', 'O=team-a', 'CN=kubernetes-admin']);
    expect(x.subjectAltName).toBeUndefined();
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(opensslVerify(ca.certPem, client.certPem, 'sslclient')).toMatchObject({ ok: true });
    expect(opensslVerify(ca.certPem, client.certPem, 'sslserver').ok).toBe(false);
  });

  test('a certificate does not verify against another CA', async () => {
    const other = await createCA({ commonName: 'k8ts-ca', days: 1 });
    const r = opensslVerify(other.certPem, server.certPem);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/signature|unable to get local issuer/i);
    expect(isIssuedBy(server.certPem, other.certPem)).toBe(false);
    expect(isIssuedBy(server.certPem, ca.certPem)).toBe(true);
  });

  test('validity: from a little before the time of issue, for the days asked', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const c = await issueCertificate({ ca, commonName: 'x', usages: ['client'], days: 30, now });
    const x = new crypto.X509Certificate(c.certPem);
    expect(new Date(x.validFrom).getTime()).toBe(now.getTime() - CLOCK_SKEW_MS);
    expect(new Date(x.validTo).getTime()).toBe(now.getTime() + 30 * 86400_000);
  });

  test('serial numbers are random and positive', async () => {
    const a = new crypto.X509Certificate((await issueCertificate({ ca, commonName: 'a', usages: ['client'], days: 1 })).certPem);
    const b = new crypto.X509Certificate((await issueCertificate({ ca, commonName: 'a', usages: ['client'], days: 1 })).certPem);
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(a.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
  });

  test('certificateInfo reads back what was asked', () => {
    expect(certificateInfo(server.certPem)).toMatchObject({
      commonName: 'kube-apiserver',
      organizations: [],
      issuerCommonName: 'k8ts-ca',
      dnsNames: SERVER_SANS.dnsNames,
      ipAddresses: SERVER_SANS.ipAddresses,
      isCA: false,
      usages: ['server'],
    });
    expect(certificateInfo(client.certPem)).toMatchObject({ commonName: 'kubernetes-admin', organizations: ['system:masters', 'team-a'], usages: ['client'] });
    expect(certificateInfo(ca.certPem)).toMatchObject({ isCA: true, usages: [] });
  });

  test('a CA made by openssl (RSA key) can sign too', async () => {
    const keyFile = path.join(dir, 'rsa-ca.key');
    const certFile = path.join(dir, 'rsa-ca.crt');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=openssl-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ], { stdio: 'ignore' });
    const rsaCa = { certPem: fs.readFileSync(certFile, 'utf8'), keyPem: fs.readFileSync(keyFile, 'utf8') };
    const leaf = await issueCertificate({ ca: rsaCa, commonName: 'x', ipAddresses: ['127.0.0.1'], usages: ['server', 'client'], days: 1 });
    expect(opensslVerify(rsaCa.certPem, leaf.certPem, 'sslserver').ok).toBe(true);
    expect(opensslVerify(rsaCa.certPem, leaf.certPem, 'sslclient').ok).toBe(true);
  });
});

describe('bad input is refused naming the field', () => {
  test.each([
    [{ commonName: '' }, /^issueCertificate: commonName: required$/],
    [{ days: 0 }, /^issueCertificate: days: must be a positive integer, got 0$/],
    [{ usages: [] }, /^issueCertificate: usages: give at least one of server, client$/],
    [{ usages: ['server', 'peer'] }, /^issueCertificate: usages\[1\]: must be server or client, got "peer"$/],
    [{ ipAddresses: ['127.0.0.1', 'localhost'] }, /^issueCertificate: ipAddresses\[1\]: "localhost" is not an IP address$/],
    [{ dnsNames: ['ok.example', 'not a name'] }, /^issueCertificate: dnsNames\[1\]: "not a name" is not a DNS name$/],
    [{ organizations: [''] }, /^issueCertificate: organizations\[0\]: must be a non-empty string$/],
  ])('%o', async (change, message) => {
    await expect(issueCertificate({ ca, commonName: 'x', usages: ['server'], days: 1, ...change } as Parameters<typeof issueCertificate>[0])).rejects.toThrow(message);
  });

  test('a CA whose key is not its own, and a leaf used as a CA', async () => {
    const other = await createCA({ commonName: 'other', days: 1 });
    await expect(issueCertificate({ ca: { certPem: ca.certPem, keyPem: other.keyPem }, commonName: 'x', usages: ['server'], days: 1 })).rejects.toThrow(
      'issueCertificate: ca.keyPem: the key does not belong to ca.certPem',
    );
    await expect(issueCertificate({ ca: server, commonName: 'x', usages: ['server'], days: 1 })).rejects.toThrow(/ca.certPem: not a CA certificate/);
    await expect(createCA({ commonName: 'x', days: 1.5 })).rejects.toThrow(/^createCA: days: must be a positive integer/);
  });
});

describe('real TLS on loopback', () => {
  type Handler = (socket: tls.TLSSocket) => string;

  /** An https server answering each request with handler(socket); resolves with its port and a closer. */
  async function serve(options: https.ServerOptions, handler: Handler): Promise<{ port: number; close: () => Promise<void> }> {
    const srv = https.createServer(options, (req, res) => res.end(handler(req.socket as tls.TLSSocket)));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    return { port, close: () => new Promise<void>((r) => srv.close(() => r())) };
  }

  /** GET / and the body, or the error's code. */
  function get(port: number, options: https.RequestOptions): Promise<string> {
    return new Promise((resolve) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/', agent: false, ...options }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
    });
  }

  test('a client trusting only the CA accepts the serving certificate, by IP and by DNS name', async () => {
    const s = await serve({ cert: server.certPem, key: server.keyPem }, () => 'hello');
    try {
      expect(await get(s.port, { ca: ca.certPem })).toBe('hello');
      expect(await get(s.port, { ca: ca.certPem, servername: 'kubernetes.default.svc' })).toBe('hello');
      // A name outside the SANs, and a client that does not trust the CA, are refused.
      expect(await get(s.port, { ca: ca.certPem, servername: 'example.com' })).toBe('error ERR_TLS_CERT_ALTNAME_INVALID');
      expect(await get(s.port, {})).toMatch(/^error (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
    } finally {
      await s.close();
    }
  });

  test('a server requiring client certificates of the CA accepts the client certificate and sees CN and O', async () => {
    const s = await serve({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (socket) => {
      const peer = socket.getPeerCertificate();
      const org = peer.subject.O;
      return `${peer.subject.CN} ${Array.isArray(org) ? org.join(',') : org}`;
    });
    try {
      expect(await get(s.port, { ca: ca.certPem, cert: client.certPem, key: client.keyPem })).toBe('kubernetes-admin system:masters,team-a');
      // No certificate, one from another CA, and a serving-only certificate are all refused.
      expect(await get(s.port, { ca: ca.certPem })).toMatch(/^error /);
      const other = await createCA({ commonName: 'other', days: 1 });
      const stranger = await issueCertificate({ ca: other, commonName: 'mallory', usages: ['client'], days: 1 });
      expect(await get(s.port, { ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem })).toMatch(/^error /);
      expect(await get(s.port, { ca: ca.certPem, cert: server.certPem, key: server.keyPem })).toMatch(/^error /);
    } finally {
      await s.close();
    }
  });
});
