import * as net from 'net';

/**
 * Returns a TCP port that was free on `host` a moment ago (the OS picks it). Another process
 * may still take it before the caller binds it; callers that can should bind port 0 instead
 * and read the port back.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
