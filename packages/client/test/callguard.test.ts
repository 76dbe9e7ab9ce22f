// The call guard on a real kit server over TLS that asks for client certificates: health stays
// open; no credentials is UNAUTHENTICATED; a refused call is PERMISSION_DENIED with the
// kubelet's message and its handler never runs; a client certificate or a reviewed token is
// let through; the attributes are built from the first request (unary and server streaming);
// an authorizer failure is INTERNAL.
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { type CertificateAndKey, type KitServer, createCA, issueCertificate, startServer } from '@k8ts/kit';
import {
  type RequestAttributes,
  type RequestAuthorizer,
  TokenReviewAuthenticator,
  type UserInfo,
  callGuard,
  delegatingAuthenticator,
  x509Authenticator,
} from '../src';

const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v ?? {})),
  deserialize: (b: Buffer) => (b.length ? JSON.parse(b.toString()) : {}),
};
const method = (name: string, responseStream: boolean) => ({
  path: `/k8ts.test.v1.NodeService/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const NodeService: grpc.ServiceDefinition = { get: method('Get', false), tail: method('Tail', true) };
interface NodeClient extends grpc.Client {
  get(req: { node: string }, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: { ok: boolean }) => void): void;
  tail(req: { node: string }, md: grpc.Metadata): grpc.ClientReadableStream<{ line: string }>;
}
const Client = grpc.makeGenericClientConstructor(NodeService, 'NodeService') as unknown as new (a: string, c: grpc.ChannelCredentials) => NodeClient;

let ca: CertificateAndKey;
let apiserverClient: CertificateAndKey;
let server: KitServer;
let handled = 0;
/** The decisions asked for: "<user> <verb> <subresource> <name>". */
const asked: string[] = [];
let authorizerFails = false;

/** Allows kube-apiserver-kubelet-client everything and jane only on node-1; records the questions. */
const authorizer: RequestAuthorizer = {
  async authorize(user: UserInfo, a: RequestAttributes) {
    if (a.kind !== 'resource') throw new Error('resource requests only');
    asked.push(`${user.name} ${a.verb} ${a.subresource} ${a.name}`);
    if (authorizerFails) throw new Error('SubjectAccessReview: HTTP 500: the apiserver is down');
    return { allowed: user.name === 'kube-apiserver-kubelet-client' || (user.name === 'jane' && a.name === 'node-1'), reason: '' };
  },
};

beforeAll(async () => {
  ca = await createCA({ commonName: 'cluster-ca', days: 1 });
  const serving = await issueCertificate({ ca, commonName: 'node-1', ipAddresses: ['127.0.0.1'], usages: ['server'], days: 1 });
  apiserverClient = await issueCertificate({ ca, commonName: 'kube-apiserver-kubelet-client', usages: ['client'], days: 1 });
  const reviewer = {
    tokenReview: async (token: string) =>
      token === 'jane-token'
        ? { authenticated: true, user: { username: 'jane', groups: ['dev'] }, audiences: [] }
        : { authenticated: false, audiences: [], error: 'invalid bearer token' },
  };
  server = await startServer({
    component: 'test',
    listen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    tls: { cert: serving.certPem, key: serving.keyPem, clientCa: ca.certPem, clientCertificate: 'if-given' },
    interceptors: [
      callGuard({
        authenticator: delegatingAuthenticator([x509Authenticator(), new TokenReviewAuthenticator(reviewer, { cacheTtlMs: 0 })], { anonymous: false }),
        authorizer,
        attributes: (path, request) => ({
          kind: 'resource',
          verb: 'get',
          apiGroup: '',
          apiVersion: 'v1',
          resource: 'nodes',
          subresource: path.endsWith('/Tail') ? 'log' : 'proxy',
          name: (request as { node?: string } | undefined)?.node ?? '',
          namespace: '',
        }),
      }),
    ],
    services: [
      {
        definition: NodeService,
        implementation: {
          get: (_c: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
            handled++;
            cb(null, { ok: true });
          },
          tail: (c: grpc.ServerWritableStream<unknown, unknown>) => {
            handled++;
            c.write({ line: 'one' });
            c.end();
          },
        },
      },
    ],
  });
  server.setReady(true);
}, 30_000);

afterAll(() => server.shutdown());

beforeEach(() => {
  handled = 0;
  asked.length = 0;
  authorizerFails = false;
});

function client(cert?: CertificateAndKey): NodeClient {
  return new Client(server.address, grpc.credentials.createSsl(Buffer.from(ca.certPem), cert ? Buffer.from(cert.keyPem) : null, cert ? Buffer.from(cert.certPem) : null));
}

function bearer(token?: string): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

function get(c: NodeClient, node: string, md = new grpc.Metadata()): Promise<{ ok: boolean }> {
  return new Promise((resolve, reject) => c.get({ node }, md, (err, res) => (err ? reject(err) : resolve(res))));
}

function tail(c: NodeClient, node: string, md = new grpc.Metadata()): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const s = c.tail({ node }, md);
    s.on('data', (d: { line: string }) => lines.push(d.line));
    s.on('error', reject);
    s.on('end', () => resolve(lines));
  });
}

test('health checks need no credentials', async () => {
  const Health = grpc.makeGenericClientConstructor(
    {
      check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: () => Buffer.alloc(0),
        requestDeserialize: () => ({}),
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    'Health',
  );
  const h = new Health(server.address, grpc.credentials.createSsl(Buffer.from(ca.certPem))) as unknown as {
    check(r: unknown, cb: (e: grpc.ServiceError | null, b: Buffer) => void): void;
    close(): void;
  };
  const answer = await new Promise<Buffer>((resolve, reject) => h.check({}, (e, b) => (e ? reject(e) : resolve(b))));
  h.close();
  expect([...answer]).toEqual([0x08, 1]); // SERVING
});

test('no credentials: UNAUTHENTICATED, and the handler never runs', async () => {
  const c = client();
  try {
    await expect(get(c, 'node-1')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/^Unauthorized/) });
    await expect(tail(c, 'node-1')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(get(c, 'node-1', bearer('stolen'))).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: 'Unauthorized: the apiserver did not accept the token: invalid bearer token',
    });
  } finally {
    c.close();
  }
  expect(handled).toBe(0);
  expect(asked).toEqual([]);
});

test("a token user is authorized per request: allowed on node-1, refused with the kubelet's message on node-2", async () => {
  const c = client();
  try {
    expect(await get(c, 'node-1', bearer('jane-token'))).toEqual({ ok: true });
    await expect(get(c, 'node-2', bearer('jane-token'))).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: 'Forbidden (user=jane, verb=get, resource=nodes, subresource=proxy)',
    });
    await expect(tail(c, 'node-2', bearer('jane-token'))).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: 'Forbidden (user=jane, verb=get, resource=nodes, subresource=log)',
    });
  } finally {
    c.close();
  }
  expect(handled).toBe(1);
  expect(asked).toEqual(['jane get proxy node-1', 'jane get proxy node-2', 'jane get log node-2']);
});

test('a client certificate of the CA is its CN: served, streams included', async () => {
  const c = client(apiserverClient);
  try {
    expect(await get(c, 'node-2')).toEqual({ ok: true });
    expect(await tail(c, 'node-2')).toEqual(['one']);
  } finally {
    c.close();
  }
  expect(asked).toEqual(['kube-apiserver-kubelet-client get proxy node-2', 'kube-apiserver-kubelet-client get log node-2']);
});

test('an authorizer that cannot answer fails the call with INTERNAL, naming the request', async () => {
  authorizerFails = true;
  const c = client(apiserverClient);
  try {
    await expect(get(c, 'node-1')).rejects.toMatchObject({
      code: grpc.status.INTERNAL,
      details: 'Authorization error (user=kube-apiserver-kubelet-client, verb=get, resource=nodes, subresource=proxy): SubjectAccessReview: HTTP 500: the apiserver is down',
    });
  } finally {
    c.close();
  }
  expect(handled).toBe(0);
});
