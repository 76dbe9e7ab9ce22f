import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { layout, nodeIP, stopRank } from '../src/cluster/layout';
import { ensureCredentials, issueNodeToken, pkiPaths, tokenFileLine } from '../src/cluster/pki';
import { componentEnv, findPodProcesses, isRunning, procStartTicks, stopPodProcesses } from '../src/cluster/procs';
import { decodeStatus } from '../src/cluster/health';
import { extraArgs, planComponents, resolveSettings } from '../src/cluster/up';
import { Progress } from '../src/cluster/progress';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-cli-cluster-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('credentials', () => {
  test('node tokens are ES256 JWTs the public key verifies, with the apiserver claims', () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const token = issueNodeToken(pem, 'node-2', Date.parse('2026-01-01T00:00:00Z'));
    const [h, p, s] = token.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    expect(header).toEqual({
      alg: 'ES256',
      typ: 'JWT',
      kid: crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url'),
    });
    expect(claims).toMatchObject({ iss: 'k8ts', aud: ['k8ts'], sub: 'system:node:node-2', iat: 1767225600, nbf: 1767225600, k8ts: { node: { name: 'node-2' } } });
    expect(claims.exp).toBeUndefined();
    const ok = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
    expect(ok).toBe(true);
  });

  test('token file lines', () => {
    expect(tokenFileLine('t', 'admin', 'admin', ['system:masters'])).toBe('t,admin,admin,system:masters');
    expect(tokenFileLine('t', 'u', '', ['a', 'b'])).toBe('t,u,,"a,b"');
    expect(tokenFileLine('t', 'system:kube-proxy')).toBe('t,system:kube-proxy,');
  });

  test('created once, kept afterwards, extended for new nodes; secrets are private', () => {
    const a = ensureCredentials(dir, ['node-1']);
    const p = pkiPaths(dir);
    const key = fs.readFileSync(p.key, 'utf8');
    const b = ensureCredentials(dir, ['node-1', 'node-2']);
    expect(b.admin).toBe(a.admin);
    expect(b.nodes['node-1']).toBe(a.nodes['node-1']);
    expect(Object.keys(b.nodes)).toEqual(['node-1', 'node-2']);
    expect(fs.readFileSync(p.key, 'utf8')).toBe(key);
    expect(fs.statSync(p.key).mode & 0o777).toBe(0o600);
    expect(fs.statSync(p.tokenFile).mode & 0o777).toBe(0o600);
    const lines = fs.readFileSync(p.tokenFile, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines.map((l) => l.split(',')[1])).toEqual(['admin', 'system:kube-scheduler', 'system:kube-controller-manager', 'system:kube-proxy']);
    expect(fs.readFileSync(path.join(p.tokensDir, 'kubelet-node-2.token'), 'utf8')).toBe(b.nodes['node-2']);
    // The user of the simulated nodes' kubelet exists only while they are used, in no group
    // (least privilege: the apiserver's policy binds it to a kubelet's rules, not system:masters).
    ensureCredentials(dir, ['node-1'], { simKubelet: true });
    const simLine = fs.readFileSync(p.tokenFile, 'utf8').split('\n').find((l) => l.includes('sim-kubelet'));
    expect(simLine?.split(',').slice(1)).toEqual(['system:k8ts-sim-kubelet', 'system:k8ts-sim-kubelet']);
    ensureCredentials(dir, ['node-1']);
    expect(fs.readFileSync(p.tokenFile, 'utf8')).not.toMatch(/sim-kubelet/);
  });
});

describe('cluster layout and plan', () => {
  test('node addresses and stop order', () => {
    expect(nodeIP('127.10.0.0/24', 3)).toBe('127.10.0.3');
    expect(() => nodeIP('127.10.0.0/16', 1)).toThrow(/must be a \/24/);
    const order = ['nats', 'apiserver', 'kubelet-node-1', 'store', 'proxy-node-1', 'scheduler'].sort((a, b) => stopRank(a) - stopRank(b));
    expect(order).toEqual(['proxy-node-1', 'kubelet-node-1', 'scheduler', 'apiserver', 'store', 'nats']);
  });

  test('settings: defaults on first start, kept afterwards, flags win', async () => {
    const l = layout(dir);
    const s = await resolveSettings(l, {});
    expect(s).toMatchObject({ nodes: 3, runtime: 'process', nodeSubnet: '127.10.0.0/24', clusterCidr: '127.244.0.0/16', serviceCidr: '127.96.0.0/16' });
    expect(s.apiserverPort).toBeGreaterThan(0);
    fs.writeFileSync(l.settings, JSON.stringify({ ...s, nodes: 2 }));
    const again = await resolveSettings(l, {});
    expect(again.nodes).toBe(2);
    expect(again.apiserverPort).toBe(s.apiserverPort);
    expect((await resolveSettings(l, { nodes: '5' })).nodes).toBe(5);
    await expect(resolveSettings(l, { nodes: 'x' })).rejects.toThrow(/invalid --nodes "x"/);
    await expect(resolveSettings(l, { runtime: 'docker' })).rejects.toThrow(/must be process or sim/);
  });

  test('settings: NATS fsyncs before every ack unless told an interval, which is kept', async () => {
    const l = layout(dir);
    expect((await resolveSettings(l, {})).natsSync).toBe('always');
    const s = await resolveSettings(l, { natsSync: '2m' });
    expect(s.natsSync).toBe('2m');
    fs.writeFileSync(l.settings, JSON.stringify(s));
    expect((await resolveSettings(l, {})).natsSync).toBe('2m');
    await expect(resolveSettings(l, { natsSync: 'sometimes' })).rejects.toThrow(/invalid --nats-sync "sometimes": must be always or a duration/);
  });

  test('a taken apiserver port is refused by name', async () => {
    const net = await import('net');
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    await expect(resolveSettings(layout(dir), { apiserverPort: String(port) })).rejects.toThrow(
      `port 127.0.0.1:${port} for the apiserver is already in use by another process`,
    );
    srv.close();
  });

  test('component command lines', async () => {
    const l = layout(dir);
    const s = await resolveSettings(l, { nodes: '2' });
    const plan = planComponents(l, s, 'nats://127.0.0.1:4', '127.0.0.1:5', { componentArg: ['controller-manager:--node-monitor-grace-period=8s', 'kubelet:--max-pods=20'] }, {});
    const arg = (args: string[], flag: string) => args[args.indexOf(flag) + 1];
    expect(arg(plan.apiserver.args, '--etcd-servers')).toBe('127.0.0.1:5');
    expect(arg(plan.apiserver.args, '--token-auth-file')).toBe(pkiPaths(l.dataDir).tokenFile);
    expect(arg(plan.store.args, '--nats-url')).toBe('nats://127.0.0.1:4');
    const cm = plan.controlPlane.find((p) => p.name === 'controller-manager')!;
    expect(cm.args).toContain('--node-monitor-grace-period=8s');
    expect(plan.nodes.map((n) => n.name)).toEqual(['kubelet-node-1', 'proxy-node-1', 'kubelet-node-2', 'proxy-node-2']);
    const k2 = plan.nodes[2];
    expect(arg(k2.args, '--node-ip')).toBe('127.10.0.2');
    expect(arg(k2.args, '--listen')).toBe('127.10.0.2:0');
    expect(k2.args).toContain('--max-pods=20');
    expect(plan.nodes[1].args).not.toContain('--max-pods=20');
    expect(extraArgs(['kubelet-node-2:--x'], 'kubelet-node-2')).toEqual(['--x']);
    expect(() => extraArgs(['nocolon'], 'x')).toThrow(/COMPONENT:--flag=value/);
  });

  test('components do not inherit K8TS_* variables (they are their flags)', () => {
    expect(componentEnv({ PATH: '/bin', K8TS_CONFIG: '/c', K8TS_VERSION: '1', NODE_OPTIONS: '--inspect' })).toEqual({ PATH: '/bin', K8TS_VERSION: '1' });
  });

  test('health responses', () => {
    expect(decodeStatus(Buffer.from([0x08, 0x01]))).toBe('SERVING');
    expect(decodeStatus(Buffer.from([0x08, 0x02]))).toBe('NOT_SERVING');
    expect(decodeStatus(Buffer.alloc(0))).toBe('UNKNOWN');
  });

  test('progress lines without a terminal', () => {
    let out = '';
    const p = new Progress((t) => (out += t), false);
    p.add('store');
    p.set('store', 'starting');
    p.set('store', 'listening', '127.0.0.1:1');
    p.set('store', 'listening', '127.0.0.1:1');
    p.set('store', 'ready', '127.0.0.1:1');
    p.done();
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^ … store\s+listening\s+\d+\.\ds\s+127\.0\.0\.1:1$/);
    expect(lines[2]).toMatch(/^ ✓ store\s+ready/);
  });
});

describe('processes', () => {
  test('a process is recognised by pid and start time', () => {
    const t = procStartTicks(process.pid)!;
    expect(t).toBeGreaterThan(0);
    expect(isRunning({ pid: process.pid, startTicks: t })).toBe(true);
    expect(isRunning({ pid: process.pid, startTicks: t + 1 })).toBe(false);
    expect(isRunning({ pid: 0, startTicks: 0 })).toBe(false);
  });

  test("pods' processes are found by their shim's arguments and stopped with their group", async () => {
    const exitFile = path.join(dir, 'nodes', 'node-1', 'pods', 'p', 'c', '0.exit');
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-other-'));
    const spawnShim = (f: string) =>
      spawn('/bin/sh', ['-c', 'f=$1; shift; "$@"; echo $? > "$f"', 'k8ts-shim', f, 'sleep', '30'], { detached: true, stdio: 'ignore' });
    const mine = spawnShim(exitFile);
    const theirs = spawnShim(path.join(other, 'x.exit'));
    try {
      await new Promise((r) => setTimeout(r, 100));
      const found = findPodProcesses(dir);
      expect(found.map((p) => p.pid)).toEqual([mine.pid]);
      expect(await stopPodProcesses(dir, 2000)).toBe(1);
      expect(findPodProcesses(dir)).toEqual([]);
      expect(isRunning({ pid: theirs.pid!, startTicks: procStartTicks(theirs.pid!)! })).toBe(true);
    } finally {
      try {
        process.kill(-theirs.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
