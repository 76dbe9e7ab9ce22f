// One probe attempt by each handler Kubernetes has: httpGet, tcpSocket, exec and grpc
// (grpc.health.v1.Health/Check). Failure messages follow Kubernetes' wording, since they end up
// in Unhealthy events.
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as grpc from '@grpc/grpc-js';
import type { corev1, metav1 } from '@k8ts/api';
import type { Runtime } from '../runtime/types';

export interface ProbeTarget {
  runtime: Runtime;
  containerId: string;
  /** The pod's IP: the default host of httpGet, tcpSocket and grpc probes. */
  podIP: string;
  /** The container's spec (named ports). */
  container: corev1.Container;
}

export interface ProbeOutcome {
  ok: boolean;
  /** Why it failed (empty on success). */
  message: string;
}

type Handler = 'exec' | 'httpGet' | 'tcpSocket' | 'grpc';

export function probeHandler(probe: corev1.Probe): Handler | undefined {
  if (probe.exec) return 'exec';
  if (probe.httpGet) return 'httpGet';
  if (probe.tcpSocket) return 'tcpSocket';
  if (probe.grpc) return 'grpc';
  return undefined;
}

/** A probe port: a number, a numeric string, or the name of one of the container's ports. */
export function resolvePort(port: metav1.IntOrString | undefined, container: corev1.Container): number | undefined {
  if (!port) return undefined;
  if (port.intVal !== undefined) return port.intVal;
  const s = port.strVal ?? '';
  if (/^\d+$/.test(s)) return Number(s);
  return container.ports?.find((p) => p.name === s)?.containerPort;
}

/** Runs one attempt of a probe, failing it after timeoutMs. */
export async function runProbe(probe: corev1.Probe, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const handler = probeHandler(probe);
  if (!handler) return { ok: false, message: 'probe has no handler (exec, httpGet, tcpSocket or grpc)' };
  if (target.runtime.simulateProbe) return target.runtime.simulateProbe(target.containerId, handler);
  switch (handler) {
    case 'exec':
      return execProbe(probe.exec!, target, timeoutMs);
    case 'httpGet':
      return httpProbe(probe.httpGet!, target, timeoutMs);
    case 'tcpSocket':
      return tcpProbe(probe.tcpSocket!, target, timeoutMs);
    case 'grpc':
      return grpcProbe(probe.grpc!, target, timeoutMs);
  }
}

async function execProbe(action: corev1.ExecAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const command = action.command ?? [];
  const res = await target.runtime.exec(target.containerId, command, timeoutMs);
  if (res.timedOut) return { ok: false, message: `command ${JSON.stringify(command.join(' '))} timed out after ${timeoutMs / 1000}s` };
  if (res.exitCode === 0) return { ok: true, message: '' };
  const out = res.output.trim();
  return { ok: false, message: out ? out : `command ${JSON.stringify(command.join(' '))} exited with ${res.exitCode}` };
}

function httpProbe(action: corev1.HTTPGetAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const port = resolvePort(action.port, target.container);
  if (!port) return Promise.resolve({ ok: false, message: `port ${describePort(action.port)} not found in the container's ports` });
  const secure = (action.scheme ?? '').toUpperCase() === 'HTTPS';
  const host = action.host || target.podIP;
  let p = action.path || '/';
  if (!p.startsWith('/')) p = `/${p}`;
  const url = `${secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}${p}`;
  const headers: Record<string, string | string[]> = { 'user-agent': 'kube-probe/k8ts', accept: '*/*' };
  for (const h of action.httpHeaders ?? []) {
    const name = (h.name ?? '').toLowerCase();
    if (!name) continue;
    const prev = headers[name];
    // A probe header replaces the default of the same name; repeated probe headers accumulate.
    if (prev === undefined || name === 'user-agent' || name === 'accept') headers[name] = h.value ?? '';
    else headers[name] = [...(Array.isArray(prev) ? prev : [prev]), h.value ?? ''];
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(o);
    };
    const lib = secure ? https : http;
    const req = lib.request(url, { method: 'GET', headers, agent: false, rejectUnauthorized: false } as https.RequestOptions, (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      res.on('error', () => {});
      if (code >= 200 && code < 400) finish({ ok: true, message: '' });
      else finish({ ok: false, message: `HTTP probe failed with statuscode: ${code}` });
      req.destroy();
    });
    const timer = setTimeout(() => {
      finish({ ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => finish({ ok: false, message: `Get "${url}": ${dialError(err)}` }));
    req.end();
  });
}

function tcpProbe(action: corev1.TCPSocketAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const port = resolvePort(action.port, target.container);
  if (!port) return Promise.resolve({ ok: false, message: `port ${describePort(action.port)} not found in the container's ports` });
  const host = action.host || target.podIP;
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ok: true, message: '' });
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, message: `dial tcp ${host}:${port}: ${dialError(err)}` });
    });
  });
}

const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** HealthCheckRequest { string service = 1; } */
function encodeHealthRequest(service: string): Buffer {
  const body = Buffer.from(service, 'utf8');
  if (body.length === 0) return Buffer.alloc(0);
  const len: number[] = [];
  let n = body.length;
  while (n > 127) {
    len.push((n & 127) | 128);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([0x0a, ...len]), body]);
}

/** HealthCheckResponse { ServingStatus status = 1; } -> the status number. */
function decodeHealthResponse(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const tag = buf[i++];
    const field = tag >> 3;
    const wire = tag & 7;
    let v = 0;
    let shift = 0;
    if (wire === 0) {
      for (;;) {
        const b = buf[i++];
        v += (b & 127) * 2 ** shift;
        shift += 7;
        if (b < 128 || i >= buf.length) break;
      }
      if (field === 1) return v;
    } else if (wire === 2) {
      let len = 0;
      for (;;) {
        const b = buf[i++];
        len += (b & 127) * 2 ** shift;
        shift += 7;
        if (b < 128 || i >= buf.length) break;
      }
      i += len;
    } else {
      break;
    }
  }
  return 0;
}

function grpcProbe(action: corev1.GRPCAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const port = action.port ?? 0;
  if (!port) return Promise.resolve({ ok: false, message: 'grpc probe has no port' });
  const host = target.podIP;
  const address = `${host}:${port}`;
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest<string, number>(
      '/grpc.health.v1.Health/Check',
      encodeHealthRequest,
      decodeHealthResponse,
      action.service ?? '',
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, status) => {
        client.close();
        if (err) {
          if (err.code === grpc.status.DEADLINE_EXCEEDED) {
            resolve({ ok: false, message: `timeout: health rpc did not complete within ${timeoutMs / 1000}s` });
          } else if (err.code === grpc.status.UNAVAILABLE) {
            resolve({ ok: false, message: `timeout: failed to connect service ${JSON.stringify(address)} within ${timeoutMs / 1000}s: ${err.details}` });
          } else {
            resolve({ ok: false, message: `rpc error: code = ${grpc.status[err.code]} desc = ${err.details}` });
          }
          return;
        }
        if (status === 1) resolve({ ok: true, message: '' });
        else resolve({ ok: false, message: `service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[status ?? 0] ?? status)})` });
      },
    );
  });
}

function describePort(port: metav1.IntOrString | undefined): string {
  if (!port) return '(unset)';
  return port.intVal !== undefined ? String(port.intVal) : JSON.stringify(port.strVal);
}

function dialError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connect: connection refused';
  if (code === 'ECONNRESET') return 'read: connection reset by peer';
  if (code === 'EHOSTUNREACH') return 'connect: no route to host';
  return err.message;
}
