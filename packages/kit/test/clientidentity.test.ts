// The client identity check over real mutual TLS: only certificates whose CN or O is allowed
// reach a handler (unary and streaming calls alike); other certificates of the CA get
// PERMISSION_DENIED, certificates of another CA and clients without one never connect.
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { type CertificateAndKey, type KitServer, createCA, issueCertificate, startServer } from '../src';
import { clientIdentityInterceptor, identityOf, isAllowedClient, parseAllowedClients } from '../src/clientidentity';

const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v ?? {})),
  deserialize: (b: Buffer) => (b.length ? JSON.parse(b.toString()) : {}),
};
const method = (name: string, stream: boolean) => ({
  path: `/k8ts.test.v1.Guarded/${name}`,
  requestStream: stream,
  responseStream: stream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const Guarded: grpc.ServiceDefinition = { echo: method('Echo', false), chat: method('Chat', true) };
const GuardedClient = grpc.makeGenericClientConstructor(Guarded, 'Guarded');
interface Client extends grpc.Client {
  echo(req: unknown, cb: (err: grpc.ServiceError | null, res: { handled: boolean }) => void): void;
  chat(): grpc.ClientDuplexStream<unknown, { handled: boolean }>;
}

let handled = 0;
const impl: grpc.UntypedServiceImplementation = {
  echo: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
    handled++;
    cb(null, { handled: true });
  },
  chat: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
    handled++;
    call.on('data', () => call.write({ handled: true }));
    call.on('end', () => call.end());
  },
};

let ca: CertificateAndKey;
let serving: CertificateAndKey;
let apiserver: CertificateAndKey;
let admin: CertificateAndKey;
let kubelet: CertificateAndKey;
let stranger: CertificateAndKey;
let server: KitServer;

beforeAll(async () => {
  ca = await createCA({ commonName: 'test-ca', days: 1 });
  const otherCa = await createCA({ commonName: 'other-ca', days: 1 });
  serving = await issueCertificate({ ca, commonName: 'store', ipAddresses: ['127.0.0.1'], usages: ['server'], days: 1 });
  apiserver = await issueCertificate({ ca, commonName: 'kube-apiserver-etcd-client', usages: ['client'], days: 1 });
  admin = await issueCertificate({ ca, commonName: 'someone', organizations: ['team', 'system:masters'], usages: ['client'], days: 1 });
  kubelet = await issueCertificate({ ca, commonName: 'system:node:n1', organizations: ['system:nodes'], usages: ['client'], days: 1 });
  stranger = await issueCertificate({ ca: otherCa, commonName: 'kube-apiserver-etcd-client', usages: ['client'], days: 1 });
  const logger = pino({ level: 'silent' });
  server = await startServer({
    component: 'store',
    listen: '127.0.0.1:0',
    logger,
    tls: { cert: serving.certPem, key: serving.keyPem, clientCa: ca.certPem },
    interceptors: [clientIdentityInterceptor('store', parseAllowedClients(['CN=kube-apiserver-etcd-client', 'O=system:masters']), logger)],
    services: [{ definition: Guarded, implementation: impl }],
  });
}, 30_000);
afterAll(() => server.shutdown());

function client(cert?: CertificateAndKey): Client {
  const creds = grpc.credentials.createSsl(Buffer.from(ca.certPem), cert ? Buffer.from(cert.keyPem) : null, cert ? Buffer.from(cert.certPem) : null);
  return new GuardedClient(server.address, creds) as unknown as Client;
}

function echo(cert?: CertificateAndKey): Promise<grpc.status> {
  const c = client(cert);
  return new Promise((resolve) =>
    c.echo({}, (err) => {
      c.close();
      resolve(err ? err.code : grpc.status.OK);
    }),
  );
}

function chat(cert?: CertificateAndKey): Promise<{ code: grpc.status; details: string; answers: number }> {
  const c = client(cert);
  const s = c.chat();
  let answers = 0;
  s.on('data', () => answers++);
  s.on('error', () => undefined); // the status below says it all
  s.write({});
  s.end();
  return new Promise((resolve) =>
    s.on('status', (st: grpc.StatusObject) => {
      c.close();
      resolve({ code: st.code, details: st.details, answers });
    }),
  );
}

describe('parseAllowedClients', () => {
  test('CN= and O= entries, case-insensitive attribute', () => {
    expect(parseAllowedClients(['CN=kube-apiserver-etcd-client', 'o=system:masters', ' cn = a b '])).toEqual([
      { commonName: 'kube-apiserver-etcd-client' },
      { organization: 'system:masters' },
      { commonName: 'a b' },
    ]);
  });

  test('refuses other attributes, empty values and an empty list, naming the flag', () => {
    expect(() => parseAllowedClients(['OU=x'])).toThrow('invalid value "OU=x" for --allowed-client: must be CN=<user> or O=<group>');
    expect(() => parseAllowedClients(['CN='])).toThrow('invalid value "CN=" for --allowed-client');
    expect(() => parseAllowedClients([])).toThrow('--allowed-client must name at least one client');
  });
});

describe('identityOf and isAllowedClient', () => {
  const rules = parseAllowedClients(['CN=a', 'O=g']);
  test('one or several O values', () => {
    const subject = (s: Record<string, string | string[]>) => identityOf({ subject: s } as never);
    expect(subject({ CN: 'x', O: ['h', 'g'] })).toEqual({ commonName: 'x', organizations: ['h', 'g'] });
    expect(isAllowedClient(subject({ CN: 'x', O: ['h', 'g'] }), rules)).toBe(true);
    expect(isAllowedClient(subject({ CN: 'a' }), rules)).toBe(true);
    expect(isAllowedClient(subject({ CN: 'x', O: 'h' }), rules)).toBe(false);
    expect(isAllowedClient(subject({ CN: 'A' }), rules)).toBe(false);
  });
});

describe('over mutual TLS', () => {
  test('the allowed CN and a member of the allowed group get through', async () => {
    const before = handled;
    expect(await echo(apiserver)).toBe(grpc.status.OK);
    expect(await echo(admin)).toBe(grpc.status.OK);
    expect(await chat(apiserver)).toEqual({ code: grpc.status.OK, details: 'OK', answers: 1 });
    expect(handled).toBe(before + 3);
  });

  test('another certificate of the CA is refused before the handler, unary and streaming', async () => {
    const before = handled;
    expect(await echo(kubelet)).toBe(grpc.status.PERMISSION_DENIED);
    const streamed = await chat(kubelet);
    expect(streamed.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(streamed.details).toBe('store: the client certificate CN="system:node:n1", O=["system:nodes"] is not allowed to call the store');
    expect(streamed.answers).toBe(0);
    expect(handled).toBe(before);
  });

  test('no certificate, or one of another CA (even with an allowed CN): no connection at all', async () => {
    const before = handled;
    expect(await echo()).toBe(grpc.status.UNAVAILABLE);
    expect(await echo(stranger)).toBe(grpc.status.UNAVAILABLE);
    expect(handled).toBe(before);
  });
});
