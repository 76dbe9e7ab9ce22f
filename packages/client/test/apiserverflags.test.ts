// The connection flags every component shares, the token file source (rotation, at most one
// look a second, errors naming the file, the last token kept when a rewrite is caught half
// way), and connectFromConfig against an in-process gRPC server: token, User-Agent, TLS with
// the CA and the expected server name.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import { corev1 } from '@k8ts/api';
import { ConfigError, createCA, issueCertificate, parseConfig } from '@k8ts/kit';
import { FakeClock, TokenFileError, apiserverFlags, apiserverFlagsWith, connectFromConfig, isUnavailable, tokenFileSource } from '../src';
import type { ApiserverConfig, GrpcClientset } from '../src';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-client-token-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeToken(name: string, text: string, mtimeSeconds?: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  if (mtimeSeconds !== undefined) fs.utimesSync(file, mtimeSeconds, mtimeSeconds);
  return file;
}

describe('connection flags', () => {
  test('--apiserver is required by default; --token-file and --apiserver-ca are checked files', () => {
    expect(apiserverFlags.map((f) => f.name)).toEqual(['apiserver', 'token-file', 'apiserver-ca', 'apiserver-server-name']);
    expect(() => parseConfig('c', apiserverFlags, [], {})).toThrow(/missing required flag --apiserver/);
    expect(() => parseConfig('c', apiserverFlags, ['--apiserver', 'a:1', '--token-file', path.join(dir, 'none')], {})).toThrow(ConfigError);
    const file = writeToken('t', 'tok\n');
    const config = parseConfig<ApiserverConfig>('c', apiserverFlags, ['--apiserver', '10.0.0.1:6443', '--token-file', file], {});
    expect(config).toMatchObject({ apiserver: '10.0.0.1:6443', tokenFile: file, apiserverServerName: '' });
  });

  test('a component may give --apiserver a default or make it optional; env works as for every flag', () => {
    const cm = apiserverFlagsWith({ defaultAddress: '127.0.0.1:6443' });
    expect(parseConfig<ApiserverConfig>('c', cm, [], {}).apiserver).toBe('127.0.0.1:6443');
    expect(parseConfig<ApiserverConfig>('c', cm, [], { K8TS_APISERVER: 'h:1' }).apiserver).toBe('h:1');
    const proxy = apiserverFlagsWith({ defaultAddress: '' });
    expect(parseConfig<ApiserverConfig>('c', proxy, [], {}).apiserver).toBe('');
    expect(cm.map((f) => f.name)).toEqual(apiserverFlags.map((f) => f.name));
  });
});

describe('tokenFileSource', () => {
  test('reads the token trimmed; a missing or empty file is an error naming the file', () => {
    expect(tokenFileSource(writeToken('t', '  abc.def \n'))()).toBe('abc.def');
    const missing = path.join(dir, 'missing.token');
    expect(() => tokenFileSource(missing)).toThrow(TokenFileError);
    expect(() => tokenFileSource(missing)).toThrow(`token file ${JSON.stringify(missing)} (--token-file): no such file`);
    const empty = writeToken('empty', ' \n');
    expect(() => tokenFileSource(empty)).toThrow(`token file ${JSON.stringify(empty)} (--token-file): the file is empty`);
  });

  test('a rotated token is read once the file changed, looking at the file at most once a second', async () => {
    const clock = new FakeClock();
    const file = writeToken('t', 'one', 1_000_000);
    const token = tokenFileSource(file, { clock });
    expect(token()).toBe('one');
    writeToken('t', 'two', 1_000_100);
    expect(token()).toBe('one'); // looked at less than a second ago
    await clock.advance(999);
    expect(token()).toBe('one');
    await clock.advance(1);
    expect(token()).toBe('two');
  });

  test('a rewrite with the same size and mtime but a new file (rename) is noticed', async () => {
    const clock = new FakeClock();
    const file = writeToken('t', 'aaaa', 1_000_000);
    const token = tokenFileSource(file, { clock, recheckMs: 10 });
    const next = writeToken('t.new', 'bbbb', 1_000_000);
    fs.renameSync(next, file);
    await clock.advance(10);
    expect(token()).toBe('bbbb');
  });

  test('a failed re-read keeps the last token and is reported once; the next good version is read', async () => {
    const clock = new FakeClock();
    const errors: string[] = [];
    const file = writeToken('t', 'one', 1_000_000);
    const token = tokenFileSource(file, { clock, onError: (e) => errors.push(e.message) });
    fs.rmSync(file);
    await clock.advance(1000);
    expect(token()).toBe('one');
    await clock.advance(1000);
    expect(token()).toBe('one');
    writeToken('t', '', 1_000_200);
    await clock.advance(1000);
    expect(token()).toBe('one');
    expect(errors).toEqual([`token file ${JSON.stringify(file)} (--token-file): no such file`, `token file ${JSON.stringify(file)} (--token-file): the file is empty`]);
    writeToken('t', 'three', 1_000_300);
    await clock.advance(1000);
    expect(token()).toBe('three');
  });
});

describe('connectFromConfig', () => {
  const seen: { auth: string; userAgent: string }[] = [];
  const nodeService: Partial<corev1.NodeServiceServer> = {
    getNode: (call, cb) => {
      seen.push({ auth: String(call.metadata.get('authorization')[0] ?? ''), userAgent: String(call.metadata.get('user-agent')[0] ?? '') });
      cb(null, { node: { metadata: { name: call.request.name } } });
    },
  };
  const servers: grpc.Server[] = [];
  const clients: GrpcClientset[] = [];

  async function serve(credentials: grpc.ServerCredentials): Promise<string> {
    const server = new grpc.Server();
    server.addService(corev1.NodeServiceService, nodeService as grpc.UntypedServiceImplementation);
    servers.push(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
    return `127.0.0.1:${port}`;
  }

  function connectTracked(config: ApiserverConfig): GrpcClientset {
    const cs = connectFromConfig(config, { userAgent: 'kube-test/v9', retries: 0, deadlineMs: 5000 });
    clients.push(cs);
    return cs;
  }

  beforeEach(() => {
    seen.length = 0;
  });
  afterAll(async () => {
    for (const cs of clients) cs.close();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.tryShutdown(() => resolve()))));
  });

  test('sends the token of --token-file and the User-Agent; without --token-file no token', async () => {
    const address = await serve(grpc.ServerCredentials.createInsecure());
    const file = writeToken('t', 'sched-token\n');
    const cs = connectTracked({ apiserver: address, tokenFile: file });
    await cs.nodes.get('n1');
    expect(await cs.bearerToken()).toBe('sched-token');
    await connectTracked({ apiserver: address }).nodes.get('n2');
    expect(seen.map((s) => s.auth)).toEqual(['Bearer sched-token', '']);
    expect(seen[0].userAgent).toMatch(/^kube-test\/v9 /);
  });

  test('refuses a missing --apiserver and an empty token file, naming them', () => {
    expect(() => connectFromConfig({ apiserver: '' }, { userAgent: 'x' })).toThrow(/--apiserver/);
    const empty = writeToken('empty', '');
    expect(() => connectFromConfig({ apiserver: '127.0.0.1:1', tokenFile: empty }, { userAgent: 'x' })).toThrow(empty);
  });

  test('--apiserver-ca turns on TLS; --apiserver-server-name is the name checked in the certificate', async () => {
    const ca = await createCA({ commonName: 'test-ca', days: 1 });
    const serving = await issueCertificate({ ca, commonName: 'apiserver', usages: ['server'], days: 1, dnsNames: ['apiserver.test'] });
    const address = await serve(grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(serving.keyPem), cert_chain: Buffer.from(serving.certPem) }]));
    const caFile = writeToken('ca.crt', ca.certPem);
    const named = connectTracked({ apiserver: address, apiserverCa: caFile, apiserverServerName: 'apiserver.test' });
    expect((await named.nodes.get('n1')).metadata?.name).toBe('n1');
    // 127.0.0.1 is not in the certificate: the handshake fails.
    const unnamed = connectTracked({ apiserver: address, apiserverCa: caFile });
    const err = await unnamed.nodes.get('n1').catch((e: unknown) => e);
    expect(isUnavailable(err)).toBe(true);
    // Plaintext against a TLS server fails too: the CA is what turns TLS on.
    const plain = await connectTracked({ apiserver: address }).nodes.get('n1').catch((e: unknown) => e);
    expect(isUnavailable(plain)).toBe(true);
  });
});
