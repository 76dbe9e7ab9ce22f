// The 'buffers' forwarding pump on its own, with real sockets: the cases where a write
// stays pending although it is smaller than the stream's highWaterMark (so no 'drain'
// follows), which must still resume reading.
import * as net from 'net';
import { leaseTestNetwork, type TestNetwork } from '@k8ts/testkit';
import { BufferPump, userBuffersSupported } from '../src/forward';

let network: TestNetwork;
/** A pod address of the file's own network. */
let HOST: string;
const cleanup: (() => void)[] = [];

beforeAll(async () => {
  network = await leaseTestNetwork(__filename);
  HOST = network.podIP(1, 2);
});

afterAll(async () => {
  for (const f of cleanup) f();
  await network?.release();
});

function listen(server: net.Server): Promise<number> {
  cleanup.push(() => server.close());
  return new Promise((resolve) => server.listen(0, HOST, () => resolve((server.address() as net.AddressInfo).port)));
}

test('this Node.js supports reading accepted sockets into the pump buffers', () => {
  expect(userBuffersSupported).toBe(true);
});

test('a pump whose destination is still connecting forwards everything once it connects', async () => {
  let received = 0;
  const sinkDone = deferred<number>();
  const sink = net.createServer((s) => {
    s.on('data', (d: Buffer) => (received += d.length));
    s.on('end', () => sinkDone.resolve(received));
  });
  const port = await listen(sink);
  const proxy = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    // Small first reads (8 KiB) are written while dst is connecting: pending, below the
    // highWaterMark, so there is no 'drain'.
    const dst = net.connect(port, HOST);
    const pump = new BufferPump(dst, 1 << 20);
    expect(pump.adopt(client)).toBe(true);
    client.resume();
  });
  const proxyPort = await listen(proxy);
  const c = net.connect(proxyPort, HOST, () => c.end(Buffer.alloc(3_000_000, 1)));
  cleanup.push(() => c.destroy());
  const guard = new Promise<string>((resolve) => setTimeout(() => resolve('stalled'), 10_000).unref());
  expect(await Promise.race([sinkDone.promise, guard])).toBe(3_000_000);
});

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
