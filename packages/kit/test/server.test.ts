// In-process tests of startServer over loopback: health, metrics of unary and streaming calls
// with their final codes, per-call logs, InfoService, size limits and shutdown.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import pino from 'pino';
import { systemv1 } from '@k8ts/api';
import { grpcError, startServer } from '../src';
import type { KitServer } from '../src';

// A hand-written service with JSON messages: unary and server streaming.
const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v ?? {})),
  deserialize: (b: Buffer) => (b.length ? JSON.parse(b.toString()) : {}),
};
const method = (name: string, responseStream: boolean) => ({
  path: `/k8ts.test.v1.TestService/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const TestService: grpc.ServiceDefinition = { unary: method('Unary', false), stream: method('Stream', true) };
const TestClient = grpc.makeGenericClientConstructor(TestService, 'TestService');

interface Req {
  fail?: boolean;
  count?: number;
  hang?: boolean;
  pad?: string;
}
const testImpl: grpc.UntypedServiceImplementation = {
  unary: (call: grpc.ServerUnaryCall<Req, unknown>, cb: grpc.sendUnaryData<unknown>) => {
    if (call.request.fail) {
      cb(grpcError(grpc.status.NOT_FOUND, 'no such thing'));
      return;
    }
    cb(null, { ok: true });
  },
  stream: (call: grpc.ServerWritableStream<Req, unknown>) => {
    for (let i = 0; i < (call.request.count ?? 0); i++) call.write({ i });
    if (call.request.hang) return;
    if (call.request.fail) call.emit('error', grpcError(grpc.status.INVALID_ARGUMENT, 'bad stream'));
    else call.end();
  },
};

const healthDef = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String })) as any;
const HealthClient = healthDef.grpc.health.v1.Health as typeof grpc.Client;

function memoryLogger() {
  const lines: any[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

async function eventually<T>(fn: () => T | Promise<T>, what: string): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 200; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`${what}: ${(last as Error)?.message}`);
}

function unary<T>(client: any, name: string, req: unknown, opts: grpc.CallOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => client[name](req, new grpc.Metadata(), opts, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

function readStream(call: grpc.ClientReadableStream<unknown>): Promise<{ messages: unknown[]; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const messages: unknown[] = [];
    call.on('data', (m) => messages.push(m));
    call.on('error', (error: grpc.ServiceError) => resolve({ messages, error }));
    call.on('end', () => resolve({ messages }));
  });
}

async function handled(server: KitServer, m: string, code: string): Promise<number> {
  const metric = await server.registry.getSingleMetric('grpc_server_handled_total')!.get();
  return metric.values.find((v) => v.labels.method === m && v.labels.code === code)?.value ?? 0;
}

describe('startServer (in-process)', () => {
  let server: KitServer;
  let log: ReturnType<typeof memoryLogger>;
  let client: any;
  let health: any;
  let info: systemv1.InfoServiceClient;

  beforeAll(async () => {
    log = memoryLogger();
    server = await startServer({
      component: 'unit',
      listen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      maxMessageBytes: 4096,
      services: [{ definition: TestService, implementation: testImpl }],
      logger: log.logger,
      shutdownTimeoutMs: 500,
      config: { listen: '127.0.0.1:0', apiToken: 'hunter2', maxMessageBytes: 4096 },
      version: '9.9.9',
    });
    client = new TestClient(server.address, grpc.credentials.createInsecure());
    health = new HealthClient(server.address, grpc.credentials.createInsecure());
    info = new systemv1.InfoServiceClient(server.address, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    health?.close();
    info?.close();
    await server?.shutdown();
  });

  it('logs one listening line with the bound addresses', () => {
    const line = log.lines.find((l) => l.msg === 'listening');
    expect(line).toMatchObject({ level: 30, address: server.address, metricsAddress: server.metricsAddress });
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.port).toBe(Number(server.address.split(':')[1]));
    expect(server.port).toBeGreaterThan(0);
  });

  it('warns that a service outside the API schema is invisible to reflection', () => {
    const line = log.lines.find((l) => l.msg?.includes('not visible to reflection'));
    expect(line?.services).toEqual(['k8ts.test.v1.TestService']);
  });

  it('reports NOT_SERVING until ready, then SERVING for the server and every service', async () => {
    const check = (service: string) => unary<{ status: string }>(health, 'Check', { service });
    for (const s of ['', 'k8ts.test.v1.TestService', 'k8ts.system.v1.InfoService']) {
      expect((await check(s)).status).toBe('NOT_SERVING');
    }
    const before = await fetch(`http://${server.metricsAddress}/healthz`);
    expect(before.status).toBe(503);
    server.setReady(true);
    for (const s of ['', 'k8ts.test.v1.TestService', 'k8ts.system.v1.InfoService']) {
      expect((await check(s)).status).toBe('SERVING');
    }
    await expect(check('no.such.Service')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    const after = await fetch(`http://${server.metricsAddress}/healthz`);
    expect(after.status).toBe(200);
  });

  it('answers InfoService with identity and redacted config', async () => {
    const res = await unary<systemv1.GetInfoResponse>(info, 'getInfo', {});
    expect(res).toMatchObject({
      component: 'unit',
      version: '9.9.9',
      pid: process.pid,
      nodeVersion: process.version,
      listenAddress: server.address,
      metricsAddress: server.metricsAddress,
      config: { listen: '127.0.0.1:0', 'api-token': '<redacted>', 'max-message-bytes': '4096' },
    });
    expect(Date.parse(res.startTime!)).toBeLessThanOrEqual(Date.now());
    expect(res.uptimeSeconds).toBeGreaterThanOrEqual(0);
  });

  it('counts unary calls with their final code and logs each at debug level', async () => {
    await unary(client, 'unary', {});
    await expect(unary(client, 'unary', { fail: true })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
    expect(await handled(server, 'Unary', 'OK')).toBe(1);
    expect(await handled(server, 'Unary', 'NOT_FOUND')).toBe(1);
    const lines = log.lines.filter((l) => l.msg === 'rpc finished' && l.method === 'Unary');
    expect(lines.map((l) => l.code).sort()).toEqual(['NOT_FOUND', 'OK']);
    expect(lines[0]).toMatchObject({ level: 20, service: 'k8ts.test.v1.TestService' });
    expect(typeof lines[0].durationMs).toBe('number');
  });

  it('counts streaming calls with their final code', async () => {
    const ok = await readStream(client.stream({ count: 3 }));
    expect(ok.messages).toHaveLength(3);
    const failed = await readStream(client.stream({ count: 2, fail: true }));
    expect(failed.messages).toHaveLength(2);
    expect(failed.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await handled(server, 'Stream', 'OK')).toBe(1);
    expect(await handled(server, 'Stream', 'INVALID_ARGUMENT')).toBe(1);
  });

  it('counts a stream the client cancels as CANCELLED and an expired deadline as DEADLINE_EXCEEDED', async () => {
    const call = client.stream({ count: 1, hang: true });
    await new Promise((r) => call.once('data', r));
    call.on('error', () => undefined);
    call.cancel();
    await eventually(async () => expect(await handled(server, 'Stream', 'CANCELLED')).toBe(1), 'cancelled stream counted');

    const late = readStream(client.stream({ hang: true }, { deadline: Date.now() + 200 }));
    expect((await late).error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await eventually(async () => expect(await handled(server, 'Stream', 'DEADLINE_EXCEEDED')).toBe(1), 'deadline counted');
  });

  it('rejects an oversized request with RESOURCE_EXHAUSTED and counts it', async () => {
    await expect(unary(client, 'unary', { pad: 'x'.repeat(5000) })).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    await eventually(async () => expect(await handled(server, 'Unary', 'RESOURCE_EXHAUSTED')).toBe(1), 'oversized counted');
  });

  it('serves Prometheus text on /metrics', async () => {
    const res = await fetch(`http://${server.metricsAddress}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^grpc_server_started_total\{.*method="Unary".*\} \d+/m);
    expect(text).toMatch(/^grpc_server_handled_total\{.*method="Unary".*code="OK".*\} 1$/m);
    expect(text).toMatch(/^grpc_server_handling_seconds_bucket\{.*method="Stream".*\} \d+/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total/m);
    expect((await fetch(`http://${server.metricsAddress}/nope`)).status).toBe(404);
  });
});

describe('shutdown', () => {
  it('goes NOT_SERVING, ends health watches and cancels a hanging stream after the timeout', async () => {
    const { logger, lines } = memoryLogger();
    const server = await startServer({
      component: 'unit',
      listen: '127.0.0.1:0',
      services: [{ definition: TestService, implementation: testImpl }],
      logger,
      shutdownTimeoutMs: 300,
    });
    server.setReady(true);
    const client: any = new TestClient(server.address, grpc.credentials.createInsecure());
    const health: any = new HealthClient(server.address, grpc.credentials.createInsecure());
    try {
      const statuses: string[] = [];
      const watch = health.Watch({ service: '' });
      const watchDone = new Promise<void>((resolve) => {
        watch.on('data', (m: { status: string }) => statuses.push(m.status));
        watch.on('error', () => resolve());
        watch.on('end', () => resolve());
      });
      await eventually(() => expect(statuses).toContain('SERVING'), 'watch got SERVING');

      const hanging = client.stream({ count: 1, hang: true });
      const hangingDone = readStream(hanging);
      await new Promise((r) => hanging.once('data', r));

      await server.shutdown();
      await watchDone;
      expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
      const result = await hangingDone;
      expect(result.error).toBeDefined();
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
      expect(lines.some((l) => l.msg?.includes('cancelling them'))).toBe(true);
      // Idempotent.
      await server.shutdown();
      server.setReady(true);
      expect(lines.some((l) => l.msg?.includes('ignored'))).toBe(true);
    } finally {
      client.close();
      health.close();
    }
  });
});

describe('grpcError', () => {
  it('builds a ServiceError carrying code, details and metadata', () => {
    const md = new grpc.Metadata();
    md.set('k', 'v');
    const e = grpcError(grpc.status.ABORTED, 'conflict', md);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(grpc.status.ABORTED);
    expect(e.details).toBe('conflict');
    expect(e.message).toBe('10 ABORTED: conflict');
    expect(e.metadata.get('k')).toEqual(['v']);
    expect(grpcError(grpc.status.NOT_FOUND, 'x').metadata).toBeInstanceOf(grpc.Metadata);
  });
});
