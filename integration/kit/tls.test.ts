// TLS and mutual TLS on the sample server, with a throwaway CA made by openssl.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import { systemv1 } from '@k8ts/api';
import { clientCredentials } from '@k8ts/kit';
import { call, deadline, healthClient, killAll, requireBuild, startSample, TLS_CHANNEL_OPTIONS } from './helpers';
import { reflect } from './reflect';

interface Certs {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCa: string;
  otherClientCert: string;
  otherClientKey: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A CA with a server certificate for 127.0.0.1/localhost and a client certificate, and an
 * unrelated CA with a client certificate of its own.
 */
function makeCerts(): Certs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-kit-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string) =>
    openssl(dir, ['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  ca('ca');
  ca('other-ca');
  const leaf = (name: string, issuer: string, ext: string) => {
    openssl(dir, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial',
      '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`]);
  };
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('other-client', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string) => path.join(dir, f);
  return {
    dir,
    ca: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    otherCa: p('other-ca.crt'),
    otherClientCert: p('other-client.crt'),
    otherClientKey: p('other-client.key'),
  };
}

async function getInfo(address: string, creds: grpc.ChannelCredentials): Promise<systemv1.GetInfoResponse> {
  const client = new systemv1.InfoServiceClient(address, creds, TLS_CHANNEL_OPTIONS);
  try {
    return await call<systemv1.GetInfoResponse>(client, 'getInfo', {}, { deadline: deadline(5) });
  } finally {
    client.close();
  }
}

let certs: Certs;
beforeAll(() => {
  requireBuild();
  certs = makeCerts();
});
afterAll(() => fs.rmSync(certs.dir, { recursive: true, force: true }));
afterEach(killAll);

describe('TLS', () => {
  it('serves InfoService, health and reflection over TLS and refuses plaintext and untrusted clients', async () => {
    const sample = await startSample(['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey]);
    expect(sample.logs.find((l) => l.msg === 'listening')).toMatchObject({ tls: true, mutualTls: false });

    const creds = clientCredentials({ ca: certs.ca });
    expect((await getInfo(sample.address, creds)).component).toBe('sample');
    const health = healthClient(sample.address, clientCredentials({ ca: certs.ca }), TLS_CHANNEL_OPTIONS);
    try {
      expect((await call<{ status: string }>(health, 'Check', { service: '' }, { deadline: deadline() })).status).toBe('SERVING');
    } finally {
      health.close();
    }

    await expect(getInfo(sample.address, grpc.credentials.createInsecure())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    await expect(getInfo(sample.address, clientCredentials({ ca: certs.otherCa }))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
  });

  it('accepts PEM text as well as file paths in clientCredentials', async () => {
    const sample = await startSample(['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey]);
    const creds = clientCredentials({ ca: fs.readFileSync(certs.ca, 'utf8') });
    expect((await getInfo(sample.address, creds)).component).toBe('sample');
  });
});

describe('mutual TLS', () => {
  it('serves a client with a certificate signed by the client CA and refuses others', async () => {
    const sample = await startSample(
      ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey],
      { K8TS_TLS_CLIENT_CA: certs.ca },
    );
    expect(sample.logs.find((l) => l.msg === 'listening')).toMatchObject({ tls: true, mutualTls: true });

    const withCert = clientCredentials({ ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });
    expect((await getInfo(sample.address, withCert)).component).toBe('sample');

    await expect(getInfo(sample.address, clientCredentials({ ca: certs.ca }))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    const foreign = clientCredentials({ ca: certs.ca, cert: certs.otherClientCert, key: certs.otherClientKey });
    await expect(getInfo(sample.address, foreign)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('serves reflection to an authenticated client', async () => {
    const sample = await startSample(['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-client-ca', certs.ca]);
    const creds = clientCredentials({ ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });
    const [res] = await reflect(sample.address, [{ listServices: '*' }], 'v1', creds, TLS_CHANNEL_OPTIONS);
    expect(res.listServicesResponse.service.map((s: { name: string }) => s.name)).toContain('k8ts.system.v1.InfoService');
  });
});
