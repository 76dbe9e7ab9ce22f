// The package's two entry points: @k8ts/client for production code, @k8ts/client/fake for
// tests. The fake clientset is reachable only through the second, and no production source
// of the repository imports it.
import * as fs from 'fs';
import * as path from 'path';
import * as client from '@k8ts/client';
import * as fake from '@k8ts/client/fake';

const PACKAGE = path.resolve(__dirname, '..');
const REPO = path.resolve(PACKAGE, '..', '..');
const FAKE_NAMES = ['createFakeClientset', 'ObjectTracker'];

test('the production entry point does not export the fake clientset', () => {
  for (const name of FAKE_NAMES) expect(Object.keys(client)).not.toContain(name);
  expect(typeof client.connect).toBe('function');
});

test('@k8ts/client/fake exports the fake clientset, which serves the Clientset interface', async () => {
  expect(Object.keys(fake).sort()).toEqual(expect.arrayContaining(FAKE_NAMES));
  const cs = fake.createFakeClientset({ objects: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }] });
  expect((await cs.nodes.get('n1')).metadata?.name).toBe('n1');
});

test('package.json maps "." and "./fake" to the built modules of src/index.ts and src/fake.ts', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as { main: string; exports: Record<string, string> };
  expect(pkg.exports).toEqual({ '.': './dist/index.js', './fake': './dist/fake.js' });
  expect(`./${pkg.main}`).toBe(pkg.exports['.']);
  for (const target of Object.values(pkg.exports)) {
    const source = target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
    expect(fs.existsSync(path.join(PACKAGE, source))).toBe(true);
  }
});

/** Every .ts file under dir, skipping generated and built trees. */
function sources(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist' && e.name !== 'gen') out.push(...sources(p));
    } else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The src/ folders of every workspace: what production builds contain. */
function productionSourceDirs(): string[] {
  const dirs = [path.join(REPO, 'cli', 'src'), path.join(REPO, 'bench', 'src')];
  for (const group of ['packages', 'services']) {
    for (const ws of fs.readdirSync(path.join(REPO, group))) dirs.push(path.join(REPO, group, ws, 'src'));
  }
  return dirs;
}

test('no production source imports the fake clientset', () => {
  const fakeModule = path.join(PACKAGE, 'src', 'fake.ts');
  const offenders: string[] = [];
  for (const file of productionSourceDirs().flatMap(sources)) {
    if (file === fakeModule) continue;
    const text = fs.readFileSync(file, 'utf8');
    const importsFake = /from '@k8ts\/client\/fake'|require\('@k8ts\/client\/fake'\)/.test(text);
    const importsFakeModule = file.startsWith(path.join(PACKAGE, 'src')) && /from '\.\/fake'/.test(text);
    if (importsFake || importsFakeModule) offenders.push(path.relative(REPO, file));
  }
  expect(offenders).toEqual([]);
});
