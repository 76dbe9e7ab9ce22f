// Bounded error messages (truncateUtf8, grpcError) and INVALID_ARGUMENT for requests that do not
// decode, over a real loopback server: a JSON service of the test's own and the kit's protobuf
// InfoService.
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { grpcError, MAX_ERROR_MESSAGE_BYTES, startServer, truncateUtf8 } from '../src';
import type { KitServer } from '../src';

describe('truncateUtf8', () => {
  test('text that fits is returned as is', () => {
    expect(truncateUtf8('short', 10)).toBe('short');
    expect(truncateUtf8('é'.repeat(5), 10)).toBe('é'.repeat(5));
  });

  test('long text keeps its longest prefix that fits with the marker', () => {
    const out = truncateUtf8('a'.repeat(5000), 100);
    expect(Buffer.byteLength(out)).toBe(100);
    expect(out).toMatch(/^a+\.\.\. \(truncated\)$/);
  });

  test('never cuts inside a character: multi-byte and surrogate pairs survive', () => {
    for (const ch of ['€', '😀']) {
      const out = truncateUtf8(ch.repeat(1000), 101);
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(101);
      const kept = out.replace(/\.\.\. \(truncated\)$/, '');
      expect(kept).toBe(ch.repeat(kept.length / ch.length));
      expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out);
    }
  });

  test('grpcError bounds the details it sends', () => {
    const e = grpcError(grpc.status.INVALID_ARGUMENT, `bad name "${'n'.repeat(1 << 20)}"`);
    expect(Buffer.byteLength(e.details)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    expect(e.details.startsWith('bad name "nnn')).toBe(true);
  });
});

// A JSON service whose handler records that it ran.
let handled = 0;
const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v ?? {})),
  deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
};
const EchoService: grpc.ServiceDefinition = {
  echo: {
    path: '/k8ts.test.v1.EchoService/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
/** A client of the same method that sends raw bytes, so that it can send what does not decode. */
const RawClient = grpc.makeGenericClientConstructor(
  { echo: { ...EchoService.echo, requestSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b } },
  'EchoService',
);
const InfoRawClient = grpc.makeGenericClientConstructor(
  {
    getInfo: {
      path: '/k8ts.system.v1.InfoService/GetInfo',
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  },
  'InfoService',
);

function rawCall(client: grpc.Client, method: string, bytes: Buffer): Promise<{ err: grpc.ServiceError | null; res?: Buffer }> {
  return new Promise((resolve) => {
    (client as unknown as Record<string, (r: Buffer, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void>)[method](
      bytes,
      { deadline: Date.now() + 5000 },
      (err, res) => resolve({ err, res }),
    );
  });
}

describe('requests that do not decode', () => {
  let server: KitServer;
  let address: string;

  beforeAll(async () => {
    server = await startServer({
      component: 'decode-test',
      listen: '127.0.0.1:0',
      logger: pino({ level: 'silent' }),
      services: [
        {
          definition: EchoService,
          implementation: {
            echo: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
              handled++;
              cb(null, { echoed: call.request });
            },
          },
        },
      ],
    });
    server.setReady(true);
    address = server.address;
  });
  afterAll(async () => {
    await server?.shutdown();
  });

  test('get INVALID_ARGUMENT naming the method, without running the handler; the next call works', async () => {
    const client = new RawClient(address, grpc.credentials.createInsecure());
    try {
      const before = handled;
      const bad = await rawCall(client, 'echo', Buffer.from('{not json'));
      expect(bad.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(bad.err?.details).toMatch(/^cannot decode the \/k8ts\.test\.v1\.EchoService\/Echo request: /);
      expect(handled).toBe(before);
      const good = await rawCall(client, 'echo', Buffer.from('{"a":1}'));
      expect(good.err).toBeNull();
      expect(JSON.parse(good.res!.toString())).toEqual({ echoed: { a: 1 } });
      expect(handled).toBe(before + 1);
    } finally {
      client.close();
    }
  });

  test('protobuf requests too: a truncated GetInfoRequest is INVALID_ARGUMENT, and is counted so', async () => {
    const client = new InfoRawClient(address, grpc.credentials.createInsecure());
    try {
      // Field 1, length-delimited, claiming 5 bytes of which none follow.
      const bad = await rawCall(client, 'getInfo', Buffer.from([0x0a, 0x05]));
      expect(bad.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(bad.err?.details).toMatch(/^cannot decode the \/k8ts\.system\.v1\.InfoService\/GetInfo request: /);
      const metric = await server.registry.getSingleMetric('grpc_server_handled_total')!.get();
      const counted = metric.values.find((v) => v.labels.method === 'GetInfo' && v.labels.code === 'INVALID_ARGUMENT');
      expect(counted?.value).toBe(1);
      expect((await rawCall(client, 'getInfo', Buffer.alloc(0))).err).toBeNull();
    } finally {
      client.close();
    }
  });
});
