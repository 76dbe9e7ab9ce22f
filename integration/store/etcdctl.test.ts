// The store driven by the real etcdctl, side by side with a real etcd: the same scripted
// session runs against both and the outputs must match once cluster/member IDs, raft terms
// and lease IDs (random in etcd) are masked.
import { startNats } from '@k8ts/testkit';
import type { NatsServer } from '@k8ts/testkit';
import { CtlResult, etcdctl, etcdctlChild, eventually, startEtcd, startStore, EtcdProcess, StoreProcess } from './harness';

type Step = { step: string; out: string };

function maskJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskJson);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (['cluster_id', 'member_id', 'raft_term'].includes(k)) o[k] = '<masked>';
      else if ((k === 'ID' || k === 'lease') && typeof x === 'number' && x !== 0) o[k] = '<lease>';
      else o[k] = maskJson(x);
    }
    return o;
  }
  return v;
}

function normalize(r: CtlResult, leaseList = false): string {
  const out = r.stdout
    .split('\n')
    .map((line) => {
      if (line.startsWith('{')) {
        try {
          return JSON.stringify(maskJson(JSON.parse(line)));
        } catch {
          return line;
        }
      }
      return line
        .replace(/lease [0-9a-f]+/g, 'lease <ID>')
        .replace(leaseList ? /^[0-9a-f]{1,16}$/ : /^$^/, '<ID>')
        .replace(/remaining\(\d+s\)/, 'remaining(<N>s)')
        // etcd lists a lease's keys in map order (random); compare them as a set.
        .replace(/attached keys\(\[([^\]]*)\]\)/, (_m, keys: string) => `attached keys([${keys.split(' ').sort().join(' ')}])`);
    })
    .join('\n');
  const errors = r.stderr
    .split('\n')
    .filter((l) => /^(Error:|watch was canceled)/.test(l))
    .join('\n');
  return `exit=${r.code}\n${out}${errors ? `\nstderr:\n${errors}` : ''}`;
}

/** The scripted session; returns each step's normalized output. */
async function session(ep: string): Promise<Step[]> {
  const steps: Step[] = [];
  const run = async (step: string, args: string[], input?: string) => {
    const r = await etcdctl(ep, args, input);
    steps.push({ step, out: normalize(r, step === 'lease list') });
    return r;
  };
  const rev = async () => JSON.parse((await etcdctl(ep, ['get', 'foo', '-w', 'json'])).stdout).header.revision as number;

  // put, get, get --prefix, get --rev, JSON output
  await run('put', ['put', 'foo', 'bar']);
  await run('get', ['get', 'foo']);
  await run('get json', ['get', 'foo', '-w', 'json']);
  for (const [k, v] of [['/registry/pods/default/a', '1'], ['/registry/pods/default/b', '2'], ['/registry/pods/kube-system/c', '3'], ['/registry/services/x', 's']]) {
    await run(`put ${k}`, ['put', k, v]);
  }
  await run('get --prefix', ['get', '--prefix', '/registry/pods/']);
  await run('get --prefix json', ['get', '--prefix', '/registry/', '-w', 'json']);
  await run('get --limit', ['get', '--prefix', '/registry/', '--limit', '2', '-w', 'json']);
  await run('get --keys-only', ['get', '--prefix', '/registry/', '--keys-only']);
  await run('get range', ['get', '/registry/pods/', '/registry/pods0']);
  await run('get --from-key', ['get', '--from-key', '/registry/s']);
  await run('get sorted', ['get', '--prefix', '/registry', '--sort-by=MODIFY', '--order=DESCEND']);
  await run('get missing', ['get', 'nothing-here', '-w', 'json']);
  await run('put --prev-kv', ['put', 'foo', 'baz', '--prev-kv']);
  await run('put --prev-kv json', ['put', 'foo', 'baz2', '--prev-kv', '-w', 'json']);
  await run('get --rev=2', ['get', 'foo', '--rev=2']);
  await run('get --rev=7 json', ['get', 'foo', '--rev=7', '-w', 'json']);
  await run('get future rev', ['get', 'foo', '--rev=999']);

  // txn, interactive, with compares
  await run('txn success', ['txn', '-i'], 'value("foo") = "baz2"\nversion("foo") > "1"\n\nput foo qux\nget foo\n\nget foo\n\n');
  await run('txn failure json', ['txn', '-i', '-w', 'json'], 'mod("foo") = "1"\n\nput foo never\n\nget foo\nget --prefix /registry/pods/\n\n');
  await run('txn create', ['txn', '-i', '-w', 'json'], 'create("new") = "0"\n\nput new 1\nget new\n\n\n');
  await run('txn create again', ['txn', '-i'], 'create("new") = "0"\n\nput new 2\n\nget new\n\n');
  await run('txn delete range', ['txn', '-i', '-w', 'json'], 'mod("new") > "0"\n\ndel --prefix /registry/services/\nput new 3\n\n\n');

  // del
  await run('del', ['del', '/registry/pods/default/a']);
  await run('del --prefix --prev-kv', ['del', '--prefix', '/registry/pods/', '--prev-kv']);
  await run('del nothing', ['del', 'nothing-here']);
  await run('del json', ['del', 'new', '-w', 'json']);

  // watch with --rev and --prev-kv, history then live events
  const start = (await rev()) + 1;
  await etcdctl(ep, ['put', '/w/a', '1']);
  await etcdctl(ep, ['put', '/w/b', '1']);
  await etcdctl(ep, ['put', '/w/a', '2']);
  const w1 = etcdctlChild(ep, ['watch', '--prefix', '/w/', `--rev=${start}`, '--prev-kv']);
  const w2 = etcdctlChild(ep, ['watch', '/w/a', `--rev=${start}`, '-w', 'json']);
  try {
    await w1.waitFor((o) => o.split('PUT').length - 1 >= 3);
    await w2.waitFor((o) => o.includes('"revision"'));
    await etcdctl(ep, ['del', '/w/a']);
    await etcdctl(ep, ['put', '/w/c', '1']);
    await w1.waitFor((o) => o.includes('/w/c'));
    await w2.waitFor((o) => o.includes('"type":1'));
  } finally {
    await w1.stop();
    await w2.stop();
  }
  steps.push({ step: 'watch --prefix --rev --prev-kv', out: w1.output() });
  steps.push({ step: 'watch json', out: normalize({ code: 0, stdout: w2.output(), stderr: '' }) });

  // leases: grant, put --lease, timetolive, keep-alive, revoke
  const grant = await run('lease grant', ['lease', 'grant', '100']);
  const id = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1];
  await run('put --lease', ['put', '--lease', id, '/l/a', 'x']);
  await run('put --lease 2', ['put', '--lease', id, '/l/b', 'y']);
  await run('get leased json', ['get', '--prefix', '/l/', '-w', 'json']);
  await run('lease timetolive --keys', ['lease', 'timetolive', id, '--keys']);
  await run('lease keep-alive --once', ['lease', 'keep-alive', '--once', id]);
  await run('lease list', ['lease', 'list']);
  await run('lease revoke', ['lease', 'revoke', id]);
  await run('get after revoke', ['get', '--prefix', '/l/']);
  await run('lease timetolive revoked', ['lease', 'timetolive', id]);
  await run('lease revoke again', ['lease', 'revoke', id]);
  await run('put unknown lease', ['put', '--lease', '1234abcd', '/l/c', 'z']);

  // keep-alive keeps a short lease alive; expiry deletes its keys
  const short = /lease ([0-9a-f]+) granted/.exec((await etcdctl(ep, ['lease', 'grant', '2'])).stdout)![1];
  await etcdctl(ep, ['put', '--lease', short, '/ka/k', 'v']);
  const ka = etcdctlChild(ep, ['lease', 'keep-alive', short]);
  try {
    // A 2 s lease refreshed several times outlives its TTL.
    await ka.waitFor((o) => o.split('keepalived').length - 1 >= 5, 30_000);
    await run('get kept alive', ['get', '/ka/k']);
  } finally {
    await ka.stop();
  }
  steps.push({ step: 'lease keep-alive', out: ka.output().split('\n')[0].replace(/lease [0-9a-f]+/, 'lease <ID>') });
  await eventually(async () => (await etcdctl(ep, ['get', '/ka/k'])).stdout === '', 30_000, 'keep-alive lease expiry');
  const expiring = /lease ([0-9a-f]+) granted/.exec((await etcdctl(ep, ['lease', 'grant', '1'])).stdout)![1];
  await etcdctl(ep, ['put', '--lease', expiring, '/e/k', 'v']);
  await eventually(async () => (await etcdctl(ep, ['get', '/e/k'])).stdout === '', 30_000, 'lease expiry');
  await run('get expired', ['get', '--prefix', '/e/', '-w', 'json']);
  await run('lease timetolive expired', ['lease', 'timetolive', expiring]);

  // compaction
  const now = await rev();
  await run('compaction', ['compaction', String(now - 3)]);
  await run('get compacted', ['get', 'foo', `--rev=${now - 5}`]);
  await run('get at compact rev', ['get', 'foo', `--rev=${now - 3}`, '-w', 'json']);
  await run('compaction again', ['compaction', String(now - 4)]);
  await run('compaction future', ['compaction', String(now + 100)]);
  await run('watch compacted', ['watch', 'foo', '--rev=2']);
  await run('final state', ['get', '', '--from-key', '-w', 'json']);
  return steps;
}

describe('store vs etcd, driven by etcdctl', () => {
  let nats: NatsServer | undefined;
  let store: StoreProcess | undefined;
  let etcd: EtcdProcess | undefined;

  beforeAll(async () => {
    [nats, etcd] = await Promise.all([startNats(), startEtcd()]);
    store = await startStore(nats.url);
  });
  afterAll(async () => {
    await store?.stop();
    await etcd?.stop();
    await nats?.stop();
  });

  it('gives the same outputs as etcd for the same session', async () => {
    const [ours, theirs] = await Promise.all([session(store!.endpoint), session(etcd!.endpoint)]);
    expect(ours.map((s) => s.step)).toEqual(theirs.map((s) => s.step));
    for (let i = 0; i < theirs.length; i++) expect({ step: ours[i].step, out: ours[i].out }).toEqual(theirs[i]);
  });

  it('reports an etcd 3.6 version, itself as member, and no alarms', async () => {
    const status = JSON.parse((await etcdctl(store!.endpoint, ['endpoint', 'status', '-w', 'json'])).stdout);
    expect(status[0].Status.version).toBe('3.6.0');
    expect(status[0].Status.header.revision).toBeGreaterThan(1);
    const members = await etcdctl(store!.endpoint, ['member', 'list', '-w', 'json']);
    const m = JSON.parse(members.stdout).members;
    expect(m).toHaveLength(1);
    expect(m[0].clientURLs).toEqual([`http://${store!.endpoint}`]);
    expect((await etcdctl(store!.endpoint, ['alarm', 'list'])).code).toBe(0);
    expect((await etcdctl(store!.endpoint, ['endpoint', 'health'])).stderr).toMatch(/is healthy/);
  });

  it('answers UNIMPLEMENTED, naming the RPC, for what it does not support', async () => {
    const r = await etcdctl(store!.endpoint, ['user', 'add', 'root:pw']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Unimplemented.*Auth\.UserAdd is not supported by the k8ts store/);
    const d = await etcdctl(store!.endpoint, ['defrag']);
    expect(d.stderr).toMatch(/Maintenance\.Defragment is not supported/);
    const s = await etcdctl(store!.endpoint, ['snapshot', 'save', '/tmp/k8ts-store-snapshot-should-not-exist.db']);
    expect(s.stderr).toMatch(/Maintenance\.Snapshot is not supported/);
    const ma = await etcdctl(store!.endpoint, ['member', 'add', 'x', '--peer-urls=http://127.0.0.1:1']);
    expect(ma.stderr).toMatch(/Cluster\.MemberAdd is not supported/);
  });
});
