// The service images, checked without a container engine: each services/<svc>/Dockerfile against
// the rules of the deployment issue (pinned slim base, multi-stage, npm ci --omit=dev of this
// workspace only, non-root user, exec-form entrypoint, STOPSIGNAL, ports and default flags the
// service accepts), the build context that .dockerignore leaves (what the build needs is in it;
// dependencies, builds, git, local state, secrets and tests are not), and the runtime stage's
// file set, assembled in a temporary directory from the Dockerfile's own COPY lines: it holds
// this service's workspace and the @k8ts packages it depends on and nothing else, and the
// service starts from it (`main.js --help` loads every module).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  REPO,
  SERVICES,
  assembleRuntime,
  contextFiles,
  dockerfile,
  execForm,
  filesUnder,
  k8tsDependencies,
  parseCopy,
  parseDockerignore,
  productionClosure,
  requiredModules,
  serviceFlags,
  workspaces,
} from './lib';

const BASE = /^node:20\.\d+\.\d+-(bookworm|bullseye|trixie)-slim$/;
const PORTS: Record<string, [number, number]> = {
  store: [2379, 2381],
  apiserver: [6443, 8080],
  scheduler: [10259, 10251],
  'controller-manager': [10257, 10252],
  kubelet: [10250, 10255],
  proxy: [10249, 10256],
};

const rules = parseDockerignore(fs.readFileSync(path.join(REPO, '.dockerignore'), 'utf8'));
let context: string[] = [];
beforeAll(() => {
  context = contextFiles(rules);
});

test('every service has a Dockerfile, and every Dockerfile under services/ is a service', () => {
  const withDockerfile = fs.readdirSync(path.join(REPO, 'services')).filter((d) => fs.existsSync(path.join(REPO, 'services', d, 'Dockerfile')));
  const all = fs.readdirSync(path.join(REPO, 'services')).filter((d) => fs.existsSync(path.join(REPO, 'services', d, 'package.json')));
  expect(withDockerfile.sort()).toEqual(all.sort());
  expect(all.sort()).toEqual([...SERVICES].sort());
});

test('the build stage is the same in every Dockerfile and installs every workspace before building', () => {
  const builds = SERVICES.map((svc) => {
    const { stages } = dockerfile(svc);
    const b = stages.find((s) => s.name === 'build');
    expect(b).toBeDefined();
    return { svc, from: b!.from, body: b!.instructions.map((i) => `${i.cmd} ${i.args}`) };
  });
  // Identical text: one build serves all six images from the cache.
  for (const b of builds) expect({ svc: b.svc, from: b.from, body: b.body }).toEqual({ svc: b.svc, from: builds[0].from, body: builds[0].body });
  const body = builds[0].body;
  const ci = body.findIndex((l) => /^RUN npm ci\b/.test(l));
  expect(ci).toBeGreaterThan(0);
  expect(body[ci]).not.toMatch(/--omit=dev|--workspace/); // the build needs buf, ts-proto, swc
  // Every workspace's manifest is in place before npm ci (else its dependencies are missing).
  const copied = body
    .slice(0, ci)
    .filter((l) => l.startsWith('COPY '))
    .flatMap((l) => l.slice(5).split(' ').slice(0, -1));
  for (const f of ['package.json', 'package-lock.json', '.npmrc', ...workspaces().map((w) => `${w}/package.json`)]) expect(copied).toContain(f);
  const after = body.slice(ci + 1);
  expect(after).toContain('COPY . .');
  expect(after.some((l) => /^RUN .*npm run gen\b.*&&.*node scripts\/build\.js/.test(l))).toBe(true);
});

describe.each(SERVICES)('services/%s/Dockerfile', (svc) => {
  const { stages } = dockerfile(svc);
  const final = stages[stages.length - 1];
  const ins = (cmd: string) => final.instructions.filter((i) => i.cmd === cmd);
  const deps = k8tsDependencies(`services/${svc}`);

  test('multi-stage on a pinned slim node:20 base', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const names = new Set(stages.map((s) => s.name).filter(Boolean));
    for (const s of stages) {
      if (names.has(s.from)) continue; // FROM <an earlier stage>
      expect(s.from).toMatch(BASE);
    }
    expect(new Set(stages.map((s) => s.from)).size).toBe(1); // one base everywhere
    expect(final.name).toBeUndefined();
  });

  test('the runtime stage installs only this workspace\'s production dependencies, then its built files', () => {
    const runs = ins('RUN').map((i) => i.args);
    const ci = runs.filter((r) => /\bnpm ci\b/.test(r));
    expect(ci).toHaveLength(1);
    const cmd = ci[0].split('&&')[0].trim().split(' ');
    expect(cmd).toContain('--omit=dev');
    expect(cmd).toContain(`--workspace=services/${svc}`);
    expect(cmd).toContain('--include-workspace-root=false');
    expect(cmd).toContain('--ignore-scripts');
    expect(ci[0]).toMatch(/rm -rf \/root\/\.npm/); // no npm cache left in the layer
    // From the build stage: the dist of this service and of exactly the @k8ts packages it needs.
    const fromBuild = ins('COPY')
      .map(parseCopy)
      .filter((c) => c.from === 'build')
      .flatMap((c) => c.sources);
    const expected = [
      ...deps.map((d) => `/src/${d}/dist`),
      ...(deps.includes('packages/api') ? ['/src/packages/api/proto'] : []),
      `/src/services/${svc}/dist`,
      ...(svc === 'kubelet' ? ['/src/services/kubelet/src/images/*.js'] : []),
    ];
    expect(fromBuild.sort()).toEqual(expected.sort());
    // From the context: the manifests npm ci needs, no sources.
    const fromContext = ins('COPY')
      .map(parseCopy)
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources);
    expect(fromContext.sort()).toEqual(['package.json', 'package-lock.json', '.npmrc', ...deps.map((d) => `${d}/package.json`), `services/${svc}/package.json`].sort());
  });

  test('non-root USER, EXPOSE of both ports, STOPSIGNAL SIGTERM, exec-form ENTRYPOINT and CMD', () => {
    const user = ins('USER');
    expect(user.length).toBeGreaterThan(0);
    const last = user[user.length - 1].args;
    expect(last).not.toMatch(/^(root|0)(:|$)/);
    expect(last).toMatch(/^[1-9]\d*(:\d+)?$/); // numeric, so that runAsNonRoot can verify it
    const entry = ins('ENTRYPOINT');
    expect(entry).toHaveLength(1);
    expect(entry[0].line).toBeGreaterThan(user[user.length - 1].line);
    expect(execForm(entry[0].args)).toEqual(['node', `services/${svc}/dist/main.js`]);
    expect(ins('STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
    const [grpc, metrics] = PORTS[svc];
    const exposed = ins('EXPOSE').flatMap((i) => i.args.split(' ')).map((p) => Number(p.replace(/\/tcp$/, '')));
    // The apiserver also serves the Kubernetes HTTP API (HTTPS) beside gRPC.
    const extra = svc === 'apiserver' ? [6444] : [];
    expect(exposed.sort()).toEqual([grpc, metrics, ...extra].sort());
    const cmd = execForm(ins('CMD')[0]?.args ?? '');
    expect(cmd).toBeDefined();
    const at = (flag: string) => cmd![cmd!.indexOf(flag) + 1];
    expect(at('--listen')).toBe(`0.0.0.0:${grpc}`);
    expect(at('--metrics-listen')).toBe(`0.0.0.0:${metrics}`);
    const known = new Set(serviceFlags(svc).map((f) => f.name));
    for (const a of cmd!.filter((x) => x.startsWith('--'))) expect(known).toContain(a.slice(2).split('=')[0]);
    // Nothing after the last USER switches back to root.
    expect(final.instructions.filter((i) => i.line > user[user.length - 1].line && i.cmd === 'RUN')).toEqual([]);
  });

  test('every module its code requires is a production dependency npm ci --workspace installs', () => {
    const { packages, missing } = productionClosure(`services/${svc}`);
    expect(missing).toEqual([]);
    const builtins = new Set(require('module').builtinModules as string[]);
    const problems: string[] = [];
    for (const ws of [`services/${svc}`, ...deps]) {
      const dist = path.join(REPO, ws, 'dist');
      if (!fs.existsSync(dist)) throw new Error(`${ws}/dist is missing: run make build first`);
      for (const mod of requiredModules(dist)) {
        if (!builtins.has(mod) && !packages.has(mod)) problems.push(`${ws}/dist requires ${mod}, which is no production dependency of ${svc} (add it to ${ws}/package.json)`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('the runtime file set holds this workspace and its @k8ts packages, nothing else, and the service starts from it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `k8ts-image-${svc}-`));
    try {
      assembleRuntime(svc, dir);
      const files = filesUnder(dir);
      const allowed = [
        /^(package\.json|package-lock\.json|\.npmrc)$/,
        new RegExp(`^services/${svc}/(package\\.json|dist/.+\\.js(\\.map)?)$`),
        ...deps.map((d) => new RegExp(`^${d}/(package\\.json|dist/.+\\.js(\\.map)?)$`)),
        /^packages\/api\/proto\/(.+\.proto|descriptors\.binpb)$/,
        ...(svc === 'kubelet' ? [/^services\/kubelet\/src\/images\/[a-z0-9-]+\.js$/] : []),
      ];
      expect(files.filter((f) => !allowed.some((re) => re.test(f)))).toEqual([]);
      for (const must of [`services/${svc}/dist/main.js`, `services/${svc}/package.json`, ...deps.map((d) => `${d}/dist/index.js`)]) expect(files).toContain(must);
      if (deps.includes('packages/api')) expect(files.filter((f) => f.startsWith('packages/api/proto/')).length).toBeGreaterThan(10);
      const out = execFileSync(process.execPath, [`services/${svc}/dist/main.js`, '--help'], { cwd: dir, encoding: 'utf8' });
      expect(out).toMatch(new RegExp(`^Usage: ${svc} \\[flags\\]`));
      if (svc === 'kubelet') {
        // The built-in images resolve inside the image, not from the repository.
        const script = execFileSync(process.execPath, ['-e', "process.stdout.write(require('./services/kubelet/dist/images').builtinScript('echo'))"], { cwd: dir, encoding: 'utf8' });
        expect(fs.realpathSync(script).startsWith(fs.realpathSync(dir))).toBe(true);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('build context (.dockerignore)', () => {
  test('holds what the build stage needs: manifests, lockfile, protos, sources, build scripts', () => {
    const has = new Set(context);
    const need = ['package.json', 'package-lock.json', '.npmrc', 'buf.yaml', 'buf.gen.yaml', 'scripts/build.js', 'scripts/gen-resource-protos.js', 'packages/api/scripts/index-gen.js'];
    for (const ws of workspaces()) need.push(`${ws}/package.json`);
    // Every source file of the packages and services, and every proto.
    const walk = (rel: string): string[] =>
      fs.existsSync(path.join(REPO, rel))
        ? fs.readdirSync(path.join(REPO, rel), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(`${rel}/${e.name}`) : [`${rel}/${e.name}`]))
        : [];
    for (const ws of workspaces().filter((w) => w.startsWith('packages/') || w.startsWith('services/'))) {
      need.push(...walk(`${ws}/src`).filter((f) => !f.startsWith('packages/api/src/gen/') && !f.endsWith('.md')));
    }
    need.push(...walk('proto'));
    expect(need.filter((f) => !has.has(f))).toEqual([]);
    for (const svc of SERVICES) expect(has.has(`services/${svc}/src/main.ts`)).toBe(true);
  });

  test('leaves out dependencies, builds, generated code, git, local state, secrets, tests', () => {
    const bad = context.filter(
      (f) =>
        /(^|\/)(node_modules|dist|coverage|test|\.git|\.k8ts|\.tools)\//.test(f) ||
        /^(deploy|integration|packages\/api\/src\/gen|packages\/api\/proto|bench\/src|cli\/src)\//.test(f) ||
        /\.(key|pem|token|log)$/.test(f) ||
        /(^|\/)tokens\.csv$/.test(f),
    );
    expect(bad).toEqual([]);
    // contextFiles prunes node_modules and .git: that is right only if no rule re-includes into them.
    expect(rules.filter((r) => r.exclusion && /node_modules|\.git/.test(r.pattern))).toEqual([]);
    // The generated secrets really are excluded (there may be none in this checkout).
    expect(context.some((f) => f.startsWith('deploy/'))).toBe(false);
  });
});
