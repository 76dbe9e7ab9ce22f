// The runtime stage's `npm ci --omit=dev --workspace=services/<svc> --include-workspace-root=false`
// for real, for one service (the kubelet: the most dependencies, and the built-in image scripts):
// in a temporary directory holding what the Dockerfile copies before it (the lockfile, the root
// package.json and the package.json of this workspace and of its @k8ts packages), then the
// Dockerfile's remaining COPY lines. The install resolves from that alone, installs no dev
// dependency and no other workspace, installs what dockerfiles.test.ts computes from the lockfile
// for the other five, and the kubelet starts from the result. Needs the npm registry or npm's
// cache (make setup's npm ci fills it).
import { execFileSync, execSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { type PackageJson, REPO, assembleRuntime, productionClosure, readJson } from './lib';

const SVC = 'kubelet';

function topLevelPackages(nm: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(nm)) {
    if (e.startsWith('.')) continue;
    if (e.startsWith('@')) for (const s of fs.readdirSync(path.join(nm, e))) out.push(`${e}/${s}`);
    else out.push(e);
  }
  return out.sort();
}

test(`npm ci --omit=dev --workspace=services/${SVC} installs what the image needs and nothing more`, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `k8ts-npm-${SVC}-`));
  try {
    const { npmCi } = assembleRuntime(SVC, dir, {
      installDependencies: (command, cwd) => {
        expect(command).toMatch(/^npm ci /);
        execSync(`${command} --prefer-offline --loglevel=error`, {
          cwd,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, npm_config_update_notifier: 'false' },
          timeout: 110_000,
        });
      },
    });
    expect(npmCi).toContain('--omit=dev');
    const nm = path.join(dir, 'node_modules');
    const installed = topLevelPackages(nm);
    // Workspaces: this one and the @k8ts packages it depends on, as links.
    expect(installed.filter((p) => p.startsWith('@k8ts/'))).toEqual(['@k8ts/api', '@k8ts/client', '@k8ts/kit', '@k8ts/machinery', `@k8ts/${SVC}`].sort());
    for (const p of installed.filter((x) => x.startsWith('@k8ts/'))) expect(fs.lstatSync(path.join(nm, p)).isSymbolicLink()).toBe(true);
    // No development-only package (the lockfile marks them dev), none of the build's tools.
    const lock = readJson<{ packages: Record<string, { dev?: boolean }> }>(path.join(REPO, 'package-lock.json')).packages;
    expect(installed.filter((p) => lock[`node_modules/${p}`]?.dev)).toEqual([]);
    const tools = Object.keys(readJson<PackageJson>(path.join(REPO, 'package.json')).devDependencies ?? {}).filter((p) => !p.startsWith('@types/'));
    expect(installed.filter((p) => tools.includes(p))).toEqual([]);
    // Exactly what dockerfiles.test.ts assumes for every service (productionClosure).
    const { packages, missing } = productionClosure(`services/${SVC}`);
    expect(missing).toEqual([]);
    const expected = [...packages].filter((p) => fs.existsSync(path.join(REPO, 'node_modules', p)) || p.startsWith('@k8ts/'));
    expect(installed.filter((p) => !p.startsWith('@k8ts/'))).toEqual(expected.filter((p) => !p.startsWith('@k8ts/')).sort());
    // And the kubelet starts from it.
    const out = execFileSync(process.execPath, [`services/${SVC}/dist/main.js`, '--help'], { cwd: dir, encoding: 'utf8' });
    expect(out).toMatch(/^Usage: kubelet \[flags\]/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
