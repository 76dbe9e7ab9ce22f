// k8ts/echo: the built-in test image. A small HTTP server on the pod's IP (K8TS_POD_IP) and its
// first declared containerPort (PORT; 8080 when none) that answers with its pod's name and can be
// told to fail its health checks, exit, or use memory. Plain JavaScript with no dependencies
// (gRPC health is served only when @grpc/grpc-js can be found), run with `node echo.js`.
//
//   GET  /                     the pod's name and a newline
//   GET  /info                 JSON: pod, namespace, ip, port, node, hostname, pid, started, requests
//   GET  /healthz              200 "ok", or 500 after POST /fail (liveness)
//   GET  /readyz               200 "ready", or 503 after POST /fail-ready (readiness)
//   POST /fail, /fail-health   make /healthz (and gRPC health) fail
//   POST /fail-ready           make /readyz fail
//   POST /recover              make both healthy again (/recover-health, /recover-ready: one)
//   POST /exit?code=N          answer, then exit with code N (default 1)
//   POST /allocate?mb=N        allocate and touch N MiB more (memory limit tests)
//   GET  /env?names=A,B        JSON of the K8TS_* variables, PORT, HOSTNAME and the named ones
//   GET  /headers              JSON of the request headers
//
// Flags: --port N, --host H, --memory-hog MB (allocate at start), --grpc-port N (serve
// grpc.health.v1, following /healthz), --fail-health (start failing), --startup-delay-ms N
// (listen only after N ms). Env: ECHO_TERM_FILE (a file written on SIGTERM), ECHO_TERM_DELAY_MS
// (linger after SIGTERM), ECHO_IGNORE_SIGTERM=1 (never exit on SIGTERM).
const fs = require('fs');
const http = require('http');
const os = require('os');

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}

const podName = process.env.K8TS_POD_NAME || os.hostname();
const host = flag('host', process.env.K8TS_POD_IP || '127.0.0.1');
const port = Number(flag('port', process.env.PORT || 8080));
const state = { healthy: !flag('fail-health', false), ready: true, requests: 0, started: new Date().toISOString() };
const hog = [];
let grpcHealth;

function log(msg) {
  process.stdout.write(`${new Date().toISOString()} echo: ${msg}\n`);
}

function allocate(mb) {
  const b = Buffer.alloc(mb * 1024 * 1024);
  b.fill(1); // touch every page so that it is resident
  hog.push(b);
  return hog.reduce((a, x) => a + x.length, 0) / (1024 * 1024);
}

function setHealthy(v) {
  state.healthy = v;
  if (grpcHealth) grpcHealth.setStatus('', v ? 'SERVING' : 'NOT_SERVING');
}

function send(res, code, body, type = 'text/plain') {
  res.writeHead(code, { 'content-type': type });
  res.end(body);
}

const server = http.createServer((req, res) => {
  state.requests++;
  const url = new URL(req.url || '/', `http://${req.headers.host || 'localhost'}`);
  const route = `${req.method} ${url.pathname}`;
  res.on('finish', () => log(`${route} ${res.statusCode}`));
  switch (route) {
    case 'GET /':
      return send(res, 200, `${podName}\n`);
    case 'GET /info':
      return send(
        res,
        200,
        JSON.stringify({
          pod: podName,
          namespace: process.env.K8TS_POD_NAMESPACE || '',
          ip: host,
          port,
          node: process.env.K8TS_NODE_NAME || '',
          hostname: process.env.HOSTNAME || os.hostname(),
          pid: process.pid,
          started: state.started,
          requests: state.requests,
        }),
        'application/json',
      );
    case 'GET /healthz':
      return state.healthy ? send(res, 200, 'ok\n') : send(res, 500, 'failing\n');
    case 'GET /readyz':
      return state.ready ? send(res, 200, 'ready\n') : send(res, 503, 'not ready\n');
    case 'POST /fail':
    case 'POST /fail-health':
      setHealthy(false);
      return send(res, 200, 'health now failing\n');
    case 'POST /fail-ready':
      state.ready = false;
      return send(res, 200, 'readiness now failing\n');
    case 'POST /recover':
      setHealthy(true);
      state.ready = true;
      return send(res, 200, 'recovered\n');
    case 'POST /recover-health':
      setHealthy(true);
      return send(res, 200, 'health recovered\n');
    case 'POST /recover-ready':
    case 'POST /ready':
      state.ready = true;
      return send(res, 200, 'readiness recovered\n');
    case 'POST /exit': {
      const code = Number(url.searchParams.get('code') ?? 1);
      log(`exiting with code ${code} as asked`);
      res.on('finish', () => process.exit(code));
      return send(res, 200, `exiting with ${code}\n`);
    }
    case 'POST /allocate': {
      const mb = Number(url.searchParams.get('mb') ?? 16);
      return send(res, 200, `${allocate(mb)} MiB allocated\n`);
    }
    case 'GET /env': {
      const names = (url.searchParams.get('names') || '').split(',').filter(Boolean);
      const out = {};
      for (const [k, v] of Object.entries(process.env)) {
        if (k.startsWith('K8TS_') || k === 'PORT' || k === 'HOSTNAME' || names.includes(k)) out[k] = v;
      }
      return send(res, 200, JSON.stringify(out), 'application/json');
    }
    case 'GET /headers':
      return send(res, 200, JSON.stringify(req.headers), 'application/json');
    default:
      return send(res, 404, 'not found\n');
  }
});

function startGrpc(grpcPort) {
  let grpc;
  let HealthImplementation;
  try {
    grpc = require('@grpc/grpc-js');
    ({ HealthImplementation } = require('grpc-health-check'));
  } catch (err) {
    log(`no gRPC health: ${err.message}`);
    return;
  }
  grpcHealth = new HealthImplementation({ '': state.healthy ? 'SERVING' : 'NOT_SERVING' });
  const g = new grpc.Server();
  grpcHealth.addToServer(g);
  g.bindAsync(`${host}:${grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
    if (err) {
      log(`gRPC listen failed: ${err.message}`);
      process.exit(1);
    }
    log(`gRPC health listening on ${host}:${bound}`);
  });
}

process.on('SIGTERM', () => {
  log('received SIGTERM');
  if (process.env.ECHO_TERM_FILE) fs.writeFileSync(process.env.ECHO_TERM_FILE, `SIGTERM ${new Date().toISOString()}\n`);
  if (process.env.ECHO_IGNORE_SIGTERM === '1') return;
  const delay = Number(process.env.ECHO_TERM_DELAY_MS || 0);
  setTimeout(() => {
    server.close();
    log('shut down');
    process.exit(0);
  }, delay);
});

const hogMb = Number(flag('memory-hog', 0));
if (hogMb > 0) log(`${allocate(hogMb)} MiB allocated at start`);

setTimeout(
  () => {
    server.listen(port, host, () => log(`listening on http://${host}:${port} pod=${podName}`));
    const grpcPort = flag('grpc-port', process.env.ECHO_GRPC_PORT);
    if (grpcPort) startGrpc(Number(grpcPort));
  },
  Number(flag('startup-delay-ms', 0)),
);
server.on('error', (err) => {
  log(`listen failed: ${err.message}`);
  process.exit(1);
});
