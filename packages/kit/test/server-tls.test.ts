// startServer's TLS with client certificates asked for but not required (clientCertificate
// 'if-given'), PEM text instead of files, and extra interceptors: a call sees a client
// certificate only when the CA signed it, a caller without one still connects, and an
// interceptor that refuses a call ends it before the handler while the kit still counts it.
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { type CertificateAndKey, type KitServer, createCA, issueCertificate, startServer } from '../src';

const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v ?? {})),
  deserialize: (b: Buffer) => (b.length ? JSON.parse(b.toString()) : {}),
};
const WhoService: grpc.ServiceDefinition = {
  who: {
    path: '/k8ts.test.v1.WhoService/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
const WhoClient = grpc.makeGenericClientConstructor(WhoService, 'WhoService');

/** Answers with the CN of the verified client certificate, or '' without one. */
function who(call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>): void {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  cb(null, { cn: cert?.subject?.CN ?? '' });
}
const whoImpl: grpc.UntypedServiceImplementation = { who };

let ca: CertificateAndKey;
let otherCa: CertificateAndKey;
let serving: CertificateAndKey;
let alice: CertificateAndKey;
let mallory: CertificateAndKey;

beforeAll(async () => {
  ca = await createCA({ commonName: 'test-ca', days: 1 });
  otherCa = await createCA({ commonName: 'other-ca', days: 1 });
  serving = await issueCertificate({ ca, commonName: 'server', ipAddresses: ['127.0.0.1'], usages: ['server'], days: 1 });
  alice = await issueCertificate({ ca, commonName: 'alice', organizations: ['team'], usages: ['client'], days: 1 });
  mallory = await issueCertificate({ ca: otherCa, commonName: 'mallory', usages: ['client'], days: 1 });
}, 30_000);

function call(server: KitServer, client?: CertificateAndKey, metadata = new grpc.Metadata()): Promise<{ cn: string }> {
  const creds = grpc.credentials.createSsl(Buffer.from(ca.certPem), client ? Buffer.from(client.keyPem) : null, client ? Buffer.from(client.certPem) : null);
  const c = new WhoClient(server.address, creds) as unknown as {
    who(req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: { cn: string }) => void): void;
    close(): void;
  };
  return new Promise((resolve, reject) =>
    c.who({}, metadata, (err, res) => {
      c.close();
      if (err) reject(err);
      else resolve(res);
    }),
  );
}

describe("clientCertificate 'if-given'", () => {
  let server: KitServer;
  beforeAll(async () => {
    server = await startServer({
      component: 'test',
      listen: '127.0.0.1:0',
      logger: pino({ level: 'silent' }),
      // PEM text, not files
      tls: { cert: serving.certPem, key: serving.keyPem, clientCa: ca.certPem, clientCertificate: 'if-given' },
      services: [{ definition: WhoService, implementation: whoImpl }],
    });
  });
  afterAll(() => server.shutdown());

  test('a caller with a certificate of the CA is seen with it', async () => {
    expect(await call(server, alice)).toEqual({ cn: 'alice' });
  });

  test('a caller without a certificate connects and is seen without one', async () => {
    expect(await call(server)).toEqual({ cn: '' });
  });

  test("a certificate of another CA is not reported as the caller's", async () => {
    expect(await call(server, mallory)).toEqual({ cn: '' });
  });
});

describe("clientCertificate 'require' (the default)", () => {
  test('a caller without a certificate cannot connect', async () => {
    const server = await startServer({
      component: 'test',
      listen: '127.0.0.1:0',
      logger: pino({ level: 'silent' }),
      tls: { cert: serving.certPem, key: serving.keyPem, clientCa: ca.certPem },
      services: [{ definition: WhoService, implementation: whoImpl }],
    });
    try {
      expect(await call(server, alice)).toEqual({ cn: 'alice' });
      await expect(call(server)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      await server.shutdown();
    }
  });
});

describe('extra interceptors', () => {
  test('run after the kit: a call they refuse never reaches the handler and is counted with its code', async () => {
    let handled = 0;
    const refuseWithoutTicket: grpc.ServerInterceptor = (_method, next) =>
      new grpc.ServerInterceptingCall(next, {
        start: (go) =>
          go({
            onReceiveMetadata: (md, pass) => {
              if (md.get('ticket')[0] === 'yes') pass(md);
              else next.sendStatus({ code: grpc.status.PERMISSION_DENIED, details: 'no ticket' });
            },
          }),
      });
    const server = await startServer({
      component: 'test',
      listen: '127.0.0.1:0',
      logger: pino({ level: 'silent' }),
      tls: { cert: serving.certPem, key: serving.keyPem },
      interceptors: [refuseWithoutTicket],
      services: [
        {
          definition: WhoService,
          implementation: {
            who: (c: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
              handled++;
              who(c, cb);
            },
          },
        },
      ],
    });
    try {
      await expect(call(server)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: 'no ticket' });
      expect(handled).toBe(0);
      const md = new grpc.Metadata();
      md.set('ticket', 'yes');
      expect(await call(server, undefined, md)).toEqual({ cn: '' });
      expect(handled).toBe(1);
      const metrics = await server.registry.metrics();
      expect(metrics).toMatch(/grpc_server_handled_total\{service="k8ts.test.v1.WhoService",method="Who",code="PERMISSION_DENIED",component="test"\} 1/);
    } finally {
      await server.shutdown();
    }
  });
});
