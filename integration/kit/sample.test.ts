// The kit's sample server as a real process: health, reflection, InfoService, metrics,
// SIGTERM, flags and message size limits.
import * as grpc from '@grpc/grpc-js';
import { systemv1 } from '@k8ts/api';
import { call, deadline, healthClient, killAll, requireBuild, runSample, startSample } from './helpers';
import type { Sample } from './helpers';
import { fileContainingSymbol, listServices } from './reflect';

const clients: grpc.Client[] = [];
function track<T extends grpc.Client>(c: T): T {
  clients.push(c);
  return c;
}

beforeAll(() => requireBuild());
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killAll();
});

const metricLine = (text: string, name: string, labels: Record<string, string>): number | undefined => {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return undefined;
};

describe('sample server', () => {
  let sample: Sample;
  beforeEach(async () => {
    sample = await startSample(['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0'], {
      K8TS_GIT_COMMIT: 'abc1234',
      K8TS_API_TOKEN: 'do-not-show',
    });
  });

  it('logs its bound addresses on one info line', () => {
    const line = sample.logs.find((l) => l.msg === 'listening');
    expect(line).toMatchObject({ level: 'info', component: 'sample' });
    expect(sample.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(sample.metricsAddress).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
  });

  it('reports SERVING through grpc.health.v1 for the server and InfoService', async () => {
    const health = track(healthClient(sample.address));
    for (const service of ['', 'k8ts.system.v1.InfoService']) {
      const res = await call<{ status: string }>(health, 'Check', { service }, { deadline: deadline() });
      expect(res.status).toBe('SERVING');
    }
    const healthz = await fetch(`http://${sample.metricsAddress}/healthz`);
    expect(healthz.status).toBe(200);
  });

  it('lists its services through reflection v1 and v1alpha', async () => {
    for (const version of ['v1', 'v1alpha'] as const) {
      const services = await listServices(sample.address, version);
      expect(services.sort()).toEqual(
        ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection', 'k8ts.system.v1.InfoService'].sort(),
      );
    }
  });

  it('resolves the file of k8ts.system.v1.InfoService with its dependencies', async () => {
    for (const version of ['v1', 'v1alpha'] as const) {
      const files = await fileContainingSymbol(sample.address, 'k8ts.system.v1.InfoService', version);
      const [file] = files;
      expect(file.name).toBe('k8ts/system/v1/system.proto');
      expect(file.package).toBe('k8ts.system.v1');
      expect(file.service[0].name).toBe('InfoService');
      expect(file.service[0].method[0]).toMatchObject({
        name: 'GetInfo',
        inputType: '.k8ts.system.v1.GetInfoRequest',
        outputType: '.k8ts.system.v1.GetInfoResponse',
      });
      expect(file.dependency).toEqual(['google/protobuf/timestamp.proto']);
      expect(files.map((f) => f.name)).toContain('google/protobuf/timestamp.proto');
    }
    const health = await fileContainingSymbol(sample.address, 'grpc.health.v1.Health');
    expect(health[0].name).toBe('grpc/health/v1/health.proto');
  });

  it('answers InfoService.GetInfo with its identity and redacted configuration', async () => {
    const info = track(new systemv1.InfoServiceClient(sample.address, grpc.credentials.createInsecure()));
    const res = await call<systemv1.GetInfoResponse>(info, 'getInfo', {}, { deadline: deadline() });
    expect(res).toMatchObject({
      component: 'sample',
      gitCommit: 'abc1234',
      listenAddress: sample.address,
      metricsAddress: sample.metricsAddress,
      pid: sample.proc.pid,
    });
    expect(res.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(res.nodeVersion).toBe(process.version);
    expect(res.config).toMatchObject({
      listen: '127.0.0.1:0',
      'max-message-bytes': '4194304',
      'shutdown-timeout': '10000',
      greeting: 'hello',
      'api-token': '<redacted>',
    });
    expect(JSON.stringify(res)).not.toContain('do-not-show');
  });

  it('counts the GetInfo call in /metrics', async () => {
    const info = track(new systemv1.InfoServiceClient(sample.address, grpc.credentials.createInsecure()));
    await call(info, 'getInfo', {}, { deadline: deadline() });
    const res = await fetch(`http://${sample.metricsAddress}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const labels = { service: 'k8ts.system.v1.InfoService', method: 'GetInfo' };
    expect(metricLine(text, 'grpc_server_handled_total', { ...labels, code: 'OK' })).toBe(1);
    expect(metricLine(text, 'grpc_server_started_total', labels)).toBe(1);
    expect(metricLine(text, 'grpc_server_handling_seconds_count', labels)).toBe(1);
    expect(text).toContain('# TYPE grpc_server_handling_seconds histogram');
    expect(text).toMatch(/^process_resident_memory_bytes/m);
  });

  it('goes NOT_SERVING and exits 0 on SIGTERM', async () => {
    const health = track(healthClient(sample.address));
    const statuses: string[] = [];
    const watch = health.Watch({ service: '' });
    const watchEnded = new Promise<void>((resolve) => {
      watch.on('error', () => resolve());
      watch.on('end', () => resolve());
    });
    await new Promise<void>((resolve) =>
      watch.on('data', (m: { status: string }) => {
        statuses.push(m.status);
        if (m.status === 'SERVING') resolve();
      }),
    );
    sample.proc.kill('SIGTERM');
    const exit = await sample.exited;
    await watchEnded;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
    const msgs = sample.logs.map((l) => l.msg);
    expect(msgs).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  });
});

describe('sample server limits', () => {
  it('rejects an oversized request with RESOURCE_EXHAUSTED', async () => {
    const sample = await startSample(['--max-message-bytes', '1024', '--metrics-listen', '127.0.0.1:0']);
    const client = track(new grpc.Client(sample.address, grpc.credentials.createInsecure()));
    // A GetInfoRequest carrying one unknown length-delimited field (number 15) of n bytes.
    const request = (n: number) => Buffer.concat([Buffer.from([0x7a]), varint(n), Buffer.alloc(n, 0x61)]);
    const send = (body: Buffer) =>
      new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest(
          '/k8ts.system.v1.InfoService/GetInfo',
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          new grpc.Metadata(),
          { deadline: deadline() },
          (err, res) => (err ? reject(err) : resolve(res!)),
        ),
      );
    await expect(send(request(500))).resolves.toBeInstanceOf(Buffer);
    await expect(send(request(2000))).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    const text = await (await fetch(`http://${sample.metricsAddress}/metrics`)).text();
    expect(metricLine(text, 'grpc_server_handled_total', { method: 'GetInfo', code: 'RESOURCE_EXHAUSTED' })).toBe(1);
  });
});

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

describe('sample command line', () => {
  it('exits 2 naming the flag for a bad flag value', async () => {
    const res = await runSample(['--max-message-bytes', 'abc']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('sample: invalid value "abc" for --max-message-bytes (env K8TS_MAX_MESSAGE_BYTES): must be a positive integer');
  });

  it('exits 2 naming the env var for a bad environment value', async () => {
    const res = await runSample([], { K8TS_SHUTDOWN_TIMEOUT: 'soon' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('K8TS_SHUTDOWN_TIMEOUT');
    expect(res.stderr).toContain('--shutdown-timeout');
  });

  it('exits 2 for an unknown flag and for a missing TLS file', async () => {
    const unknown = await runSample(['--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown flag --bogus');
    const missing = await runSample(['--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--tls-cert');
  });

  it('lists every flag with --help and exits 0', async () => {
    const res = await runSample(['--help']);
    expect(res.code).toBe(0);
    for (const flag of ['listen', 'metrics-listen', 'tls-cert', 'tls-key', 'tls-client-ca', 'max-message-bytes', 'log-level', 'shutdown-timeout', 'greeting']) {
      expect(res.stdout).toContain(`--${flag} `);
      expect(res.stdout).toContain(`K8TS_${flag.toUpperCase().replace(/-/g, '_')}`);
    }
    expect(res.stdout).toContain('default: 4194304');
    expect(res.stdout).toContain('type: duration');
  });
});
