// The reviews over the apiserver's real Security: the default policy written by bootstrap into
// a registry (in-memory store), read back through the watch caches by the RBAC and Node
// authorizers, and a token file on disk, as `start()` wires them.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { AdmissionChain } from '../src/admission';
import { PortRange, ServiceIPRange } from '../src/allocator/ranges';
import { formatTokenFileLine } from '../src/auth';
import { bootstrap } from '../src/bootstrap';
import { CacheHub } from '../src/cache/hub';
import { Registry } from '../src/registry/registry';
import { REVIEW_RESOURCES } from '../src/reviews';
import { Security } from '../src/server/security';
import { MemoryKV } from './memorykv';

const logger = pino({ level: 'silent' });
const TOKEN = 'carol-token-0123456789abcdefghijklmnop';

describe('reviews over the apiserver Security and the default policy', () => {
  let dir: string;
  let hub: CacheHub;
  let security: Security;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-reviews-'));
    const tokens = path.join(dir, 'tokens.csv');
    fs.writeFileSync(tokens, `${formatTokenFileLine(TOKEN, 'carol', 'uid-carol')}\n`);
    const kv = new MemoryKV();
    hub = new CacheHub(kv, kv.feed(), logger, { maxEvents: 1000, historyMs: 60_000 });
    await hub.start();
    const registry = new Registry({ kv, hub, admission: new AdmissionChain([]), serviceIPs: new ServiceIPRange('10.96.0.0/24'), nodePorts: PortRange.parse('30000-30010'), logger });
    await bootstrap(registry, logger);
    await hub.sync();
    security = new Security({ tokenAuthFile: tokens, serviceAccountIssuer: 'k8ts', authorizationModes: ['RBAC', 'Node'], anonymousAuth: false }, hub);
  });

  afterAll(async () => {
    await hub.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const create = async (resource: string, body: unknown) => {
    const user = await security.authenticator.authenticate(TOKEN);
    return REVIEW_RESOURCES.find((r) => r.resource === resource)!.create({ security, user: user!, body });
  };

  test('a plain user may create the self reviews, by system:basic-user', async () => {
    const out = await create('selfsubjectaccessreviews', {
      spec: { resourceAttributes: { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' } },
    });
    expect(out.status).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"',
    });
  });

  test('discovery paths are open to authenticated users, metrics are not', async () => {
    const get = (p: string) => create('selfsubjectaccessreviews', { spec: { nonResourceAttributes: { verb: 'get', path: p } } });
    expect((await get('/apis/apps/v1')).status).toMatchObject({ allowed: true, reason: expect.stringContaining('system:discovery') });
    expect((await get('/version')).status).toMatchObject({ allowed: true });
    expect((await get('/metrics')).status).toEqual({ allowed: false });
  });

  test('the rules review lists the default non-resource rules', async () => {
    const out = await create('selfsubjectrulesreviews', { spec: { namespace: 'default' } });
    const status = out.status as { nonResourceRules: { nonResourceURLs: string[] }[]; incomplete: boolean };
    expect(status.incomplete).toBe(false);
    expect(status.nonResourceRules.flatMap((r) => r.nonResourceURLs)).toEqual(expect.arrayContaining(['/apis/*', '/livez', '/version/']));
  });

  test('TokenReview and whoami see the token file user', async () => {
    const tr = await create('tokenreviews', { spec: { token: TOKEN } });
    expect(tr.status).toEqual({ authenticated: true, user: { username: 'carol', uid: 'uid-carol', groups: ['system:authenticated'] }, audiences: ['k8ts'] });
    const me = await create('selfsubjectreviews', {});
    expect(me.status).toEqual({ userInfo: { username: 'carol', uid: 'uid-carol', groups: ['system:authenticated'] } });
  });
});
