// Is a server ready? grpc.health.v1.Health/Check against any k8ts server, and GET /readyz on
// the apiserver's HTTPS API (200 when ready, as kube-apiserver's).
//
// The two gRPC messages are tiny, so they are encoded by hand: HealthCheckRequest { string
// service = 1 }, HealthCheckResponse { ServingStatus status = 1 } (0 UNKNOWN, 1 SERVING,
// 2 NOT_SERVING, 3 SERVICE_UNKNOWN).
import * as fs from 'fs';
import * as grpc from '@grpc/grpc-js';
import * as https from 'https';
import { pkiPaths } from './pki';

const STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function encodeRequest(service: string): Buffer {
  if (!service) return Buffer.alloc(0);
  const s = Buffer.from(service, 'utf8');
  if (s.length > 127) throw new Error('service name too long');
  return Buffer.concat([Buffer.from([0x0a, s.length]), s]);
}

export function decodeStatus(buf: Buffer): string {
  // Field 1, varint: tag 0x08 then the value.
  for (let i = 0; i + 1 < buf.length; i++) {
    if (buf[i] === 0x08) return STATUS[buf[i + 1]] ?? `STATUS_${buf[i + 1]}`;
  }
  return 'UNKNOWN';
}

const HealthClient = grpc.makeGenericClientConstructor(
  {
    check: {
      path: '/grpc.health.v1.Health/Check',
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: string) => encodeRequest(v),
      requestDeserialize: (b: Buffer) => b.toString(),
      responseSerialize: (v: Buffer) => v,
      responseDeserialize: (b: Buffer) => b,
    },
  },
  'Health',
);

/**
 * The serving status of a server ('' = the whole server): SERVING, NOT_SERVING, ..., or an
 * error text such as "unreachable: ..." when the call fails. `credentials`: TLS for servers
 * that require it (the store: healthCredentials); default plaintext.
 */
export function checkHealth(address: string, timeoutMs = 2000, service = '', credentials = grpc.credentials.createInsecure()): Promise<string> {
  const client = new HealthClient(address, credentials);
  return new Promise((resolve) => {
    (client as unknown as { check: (req: string, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Buffer) => void) => void }).check(
      service,
      { deadline: new Date(Date.now() + timeoutMs) },
      (err, res) => {
        client.close();
        if (err) resolve(err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED ? 'UNREACHABLE' : `ERROR: ${err.details || err.message}`);
        else resolve(decodeStatus(res));
      },
    );
  });
}

/**
 * The credentials a component's health check needs: the store serves mutual TLS to the
 * identities it allows, so it is asked with the store administrator's certificate (pki.ts);
 * kubelets and proxies serve TLS with certificates of the cluster CA (their health checks need
 * no credentials); the others answer plaintext.
 */
export function healthCredentials(dataDir: string, component: string): grpc.ChannelCredentials {
  if (/^(kubelet|proxy)-/.test(component)) return nodeServerCredentials(dataDir);
  if (component !== 'store') return grpc.credentials.createInsecure();
  const p = pkiPaths(dataDir);
  try {
    return grpc.credentials.createSsl(fs.readFileSync(p.caCert), fs.readFileSync(p.storeAdminKey), fs.readFileSync(p.storeAdminCert));
  } catch {
    // No certificate (a data dir of an older k8ts): ask in plaintext; the answer says why not.
    return grpc.credentials.createInsecure();
  }
}

/** TLS trusting the cluster CA (a data dir without one: the system roots, and the check says why it fails). */
function nodeServerCredentials(dataDir: string): grpc.ChannelCredentials {
  try {
    return grpc.credentials.createSsl(fs.readFileSync(pkiPaths(dataDir).caCert));
  } catch {
    return grpc.credentials.createSsl();
  }
}

/** An HTTPS readiness probe: the URL, the CA to trust, and the client certificate to present (PEM texts). */
export interface HttpsProbe {
  url: string;
  ca: string;
  cert?: string;
  key?: string;
}

/**
 * GET probe.url over HTTPS, trusting only probe.ca: 'OK' on 200, else 'HTTP <status>',
 * 'UNREACHABLE' (no connection) or 'ERROR: <reason>' (TLS refused, timeout, ...).
 */
export function checkHttps(probe: HttpsProbe, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get(probe.url, { ca: probe.ca, cert: probe.cert, key: probe.key, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? 'OK' : `HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      resolve(e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' ? 'UNREACHABLE' : `ERROR: ${e.message}`);
    });
  });
}
