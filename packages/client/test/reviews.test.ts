// ReviewClient against a local HTTPS server standing in for the apiserver's reviews: the
// requests it sends (path, body, bearer token read per request, CA trust) and how it reads the
// answers, Kubernetes Status errors and connection failures.
import * as https from 'https';
import type { AddressInfo } from 'net';
import { type CertificateAndKey, createCA, issueCertificate } from '@k8ts/kit';
import { ReviewClient, ReviewError } from '../src';

interface Seen {
  path: string;
  authorization?: string;
  body: Record<string, any>;
}

let ca: CertificateAndKey;
let server: https.Server;
let url: string;
const seen: Seen[] = [];
/** What the next request is answered with: status and body. */
let answer: (body: Record<string, any>) => { status: number; body: unknown } = () => ({ status: 500, body: {} });

beforeAll(async () => {
  ca = await createCA({ commonName: 'test-ca', days: 1 });
  const serving = await issueCertificate({ ca, commonName: 'apiserver', ipAddresses: ['127.0.0.1'], usages: ['server'], days: 1 });
  server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
      const a = answer(body);
      res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 30_000);

afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => {
  seen.length = 0;
});

test('tokenReview posts a TokenReview with the component token and reads the user', async () => {
  let token = 'component-token-1';
  const client = new ReviewClient({ url, ca: ca.certPem, token: () => token });
  answer = (b) => ({
    status: 201,
    body: { ...b, status: { authenticated: true, user: { username: 'jane', uid: 'u1', groups: ['dev', 'system:authenticated'] }, audiences: ['k8ts'] } },
  });
  try {
    expect(await client.tokenReview('caller-token')).toEqual({
      authenticated: true,
      user: { username: 'jane', uid: 'u1', groups: ['dev', 'system:authenticated'] },
      audiences: ['k8ts'],
    });
    token = 'component-token-2';
    answer = (b) => ({ status: 201, body: { ...b, status: { user: {}, error: 'invalid bearer token' } } });
    expect(await client.tokenReview('other', ['api'])).toEqual({ authenticated: false, audiences: [], error: 'invalid bearer token' });
  } finally {
    client.close();
  }
  expect(seen.map((s) => [s.path, s.authorization])).toEqual([
    ['/apis/authentication.k8s.io/v1/tokenreviews', 'Bearer component-token-1'],
    ['/apis/authentication.k8s.io/v1/tokenreviews', 'Bearer component-token-2'],
  ]);
  expect(seen[0].body).toEqual({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'caller-token' } });
  expect(seen[1].body.spec).toEqual({ token: 'other', audiences: ['api'] });
});

test('subjectAccessReview posts the spec and reads allowed, denied and reason', async () => {
  const client = new ReviewClient({ url, ca: ca.certPem, token: 't' });
  answer = () => ({ status: 201, body: { status: { allowed: false, denied: true, reason: 'no', evaluationError: 'x' } } });
  try {
    const spec = { user: 'jane', groups: ['dev'], resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'n1' } };
    expect(await client.subjectAccessReview(spec)).toEqual({ allowed: false, denied: true, reason: 'no', evaluationError: 'x' });
    expect(seen[0].path).toBe('/apis/authorization.k8s.io/v1/subjectaccessreviews');
    expect(seen[0].body).toEqual({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
  } finally {
    client.close();
  }
});

test("a refusal of the apiserver is a ReviewError with its status and the Status message", async () => {
  const client = new ReviewClient({ url, ca: ca.certPem, token: 't' });
  answer = () => ({
    status: 403,
    body: { kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'tokenreviews.authentication.k8s.io is forbidden: User "x" cannot create' },
  });
  try {
    const err = await client.tokenReview('t').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReviewError);
    expect(err).toMatchObject({ review: 'TokenReview', status: 403 });
    expect((err as Error).message).toBe('TokenReview: HTTP 403: tokenreviews.authentication.k8s.io is forbidden: User "x" cannot create');
  } finally {
    client.close();
  }
});

test('a server the CA did not sign is refused; an http URL is refused at once', async () => {
  const other = await createCA({ commonName: 'other', days: 1 });
  const client = new ReviewClient({ url, ca: other.certPem });
  try {
    await expect(client.tokenReview('t')).rejects.toThrow(/TokenReview: https:\/\/127\.0\.0\.1:\d+: .*(self.signed|unable to verify|certificate)/i);
  } finally {
    client.close();
  }
  expect(() => new ReviewClient({ url: 'http://127.0.0.1:1' })).toThrow(/not an https:\/\/ URL/);
});
