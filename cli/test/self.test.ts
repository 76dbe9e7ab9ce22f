// The commands the CLI suggests must work when pasted into a shell: `k8ts` only when the
// shell finds this very CLI on PATH, else the absolute path of its launcher. Each case runs
// the suggested command with `sh -c` and the same PATH.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI_ROOT, k8tsCommandFor, pathHint, selfEntryPoints, shellWord } from '../src/self';

let dir: string;
/** A fake CLI folder: bin/k8ts and dist/main.js, each printing who it is. */
let root: string;

function executableFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o755 });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-cli-self-'));
  root = path.join(dir, 'checkout with space', 'cli');
  executableFile(path.join(root, 'bin', 'k8ts'), '#!/bin/sh\necho "this k8ts: $*"\n');
  executableFile(path.join(root, 'dist', 'main.js'), '#!/bin/sh\necho "this k8ts (npm bin): $*"\n');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `<command> get nodes` in sh with this PATH (plus /bin for sh's own use). */
function runAsPrinted(command: string, pathValue: string): string {
  const r = spawnSync('/bin/sh', ['-c', `${command} get nodes`], { env: { PATH: pathValue }, encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim();
}

test('not on PATH: the absolute path of the launcher, quoted, which runs as printed', () => {
  const cmd = k8tsCommandFor('/usr/bin:/bin', root);
  expect(cmd).toBe(`'${path.join(root, 'bin', 'k8ts')}'`);
  expect(runAsPrinted(cmd, '/usr/bin:/bin')).toBe('this k8ts: get nodes');
});

test('on PATH (the launcher itself, a symlink to it, or npm linking dist/main.js): plain k8ts', () => {
  const binDir = path.join(root, 'bin');
  expect(k8tsCommandFor(`/usr/bin:${binDir}:/bin`, root)).toBe('k8ts');
  const linkDir = path.join(dir, 'links');
  fs.mkdirSync(linkDir);
  fs.symlinkSync(path.join(root, 'bin', 'k8ts'), path.join(linkDir, 'k8ts'));
  expect(k8tsCommandFor(`${linkDir}:/bin`, root)).toBe('k8ts');
  expect(runAsPrinted('k8ts', `${linkDir}:/bin`)).toBe('this k8ts: get nodes');
  fs.rmSync(path.join(linkDir, 'k8ts'));
  fs.symlinkSync(path.join(root, 'dist', 'main.js'), path.join(linkDir, 'k8ts'));
  expect(k8tsCommandFor(`${linkDir}:/bin`, root)).toBe('k8ts');
});

test('another k8ts first on PATH (another checkout): this one by its path, not the other', () => {
  const otherDir = path.join(dir, 'other');
  executableFile(path.join(otherDir, 'k8ts'), '#!/bin/sh\necho "the other k8ts"\n');
  const pathValue = `${otherDir}:${path.join(root, 'bin')}:/bin`;
  const cmd = k8tsCommandFor(pathValue, root);
  expect(cmd).not.toBe('k8ts');
  expect(runAsPrinted(cmd, pathValue)).toBe('this k8ts: get nodes');
});

test('a non-executable k8ts on PATH is skipped, as the shell skips it', () => {
  const otherDir = path.join(dir, 'other');
  fs.mkdirSync(otherDir);
  fs.writeFileSync(path.join(otherDir, 'k8ts'), 'not a program', { mode: 0o644 });
  expect(k8tsCommandFor(`${otherDir}:${path.join(root, 'bin')}`, root)).toBe('k8ts');
});

test('without the launcher (an installed package): node and the entry point', () => {
  fs.rmSync(path.join(root, 'bin'), { recursive: true });
  expect(k8tsCommandFor('/bin', root)).toBe(`node '${path.join(root, 'dist', 'main.js')}'`);
});

test('the PATH hint puts the launcher folder first', () => {
  expect(pathHint(root)).toBe(`export PATH='${path.join(root, 'bin')}':"$PATH"`);
  const r = spawnSync('/bin/sh', ['-c', `${pathHint(root)}; k8ts get nodes`], { env: { PATH: '/bin:/usr/bin' }, encoding: 'utf8' });
  expect(r.stdout.trim()).toBe('this k8ts: get nodes');
});

test('shell words', () => {
  expect(shellWord('/home/me/.k8ts/clusters/default')).toBe('/home/me/.k8ts/clusters/default');
  expect(shellWord('/a b/c')).toBe("'/a b/c'");
  expect(shellWord("it's")).toBe(`'it'\\''s'`);
});

test("this repository's CLI is cli/ with its launcher cli/bin/k8ts", () => {
  expect(path.basename(CLI_ROOT)).toBe('cli');
  expect(fs.existsSync(selfEntryPoints()[0])).toBe(true);
});
