// Integration tests use only what a user or another component can use: the public entry points
// of the packages (@k8ts/<package>, and the subpaths their package.json "exports" maps name),
// npm packages, Node's own modules, and processes with their APIs. No module of integration/
// imports a service's or the CLI's source, or any file outside integration/; tests that run a
// service's internals in-process live in services/<name>/test. (A path to a dist/main.js that
// a test spawns is a string, not an import, and stays allowed.)
import * as fs from 'fs';
import * as path from 'path';

const INTEGRATION = __dirname;
const REPO = path.resolve(INTEGRATION, '..');
const PACKAGES = path.join(REPO, 'packages');

/** Every .ts file under dir. */
function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The module specifiers a file imports: import/export ... from, import(), require(). */
function specifiersOf(text: string): string[] {
  const out: string[] = [];
  const patterns = [/\bfrom\s+'([^']+)'/g, /\bimport\s+'([^']+)'/g, /\bimport\(\s*'([^']+)'\s*\)/g, /\brequire\(\s*'([^']+)'\s*\)/g];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]);
  return out;
}

/** The @k8ts specifiers the packages offer: '@k8ts/<package>' and their exports' subpaths. */
function packageEntryPoints(): Set<string> {
  const entries = new Set<string>();
  for (const dir of fs.readdirSync(PACKAGES)) {
    const file = path.join(PACKAGES, dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string; exports?: Record<string, unknown> };
    entries.add(pkg.name);
    for (const subpath of Object.keys(pkg.exports ?? {})) if (subpath !== '.') entries.add(`${pkg.name}${subpath.slice(1)}`);
  }
  return entries;
}

/** Why a specifier imported by `file` breaks the rule, or undefined when it is allowed. */
function violation(file: string, spec: string, entries: Set<string>): string | undefined {
  if (spec.startsWith('.')) {
    const target = path.resolve(path.dirname(file), spec);
    return target === INTEGRATION || target.startsWith(INTEGRATION + path.sep) ? undefined : `reaches outside integration/ (${path.relative(REPO, target)})`;
  }
  if (spec.startsWith('@k8ts/')) return entries.has(spec) ? undefined : 'is no public entry point of a package (packages/*/package.json: name, exports)';
  if (path.isAbsolute(spec)) return 'is an absolute path';
  return undefined; // Node's own module or an npm package
}

test('no integration module imports anything but public entry points, npm packages and its own folder', () => {
  const entries = packageEntryPoints();
  const problems: string[] = [];
  for (const file of tsFiles(INTEGRATION)) {
    for (const spec of specifiersOf(fs.readFileSync(file, 'utf8'))) {
      const why = violation(file, spec, entries);
      if (why) problems.push(`${path.relative(REPO, file)}: '${spec}' ${why}`);
    }
  }
  expect(problems).toEqual([]);
});

test('the rule refuses a service source, a package internal and a path out of integration/, and allows entry points', () => {
  const entries = packageEntryPoints();
  const file = path.join(INTEGRATION, 'kubelet', 'x.test.ts');
  expect(violation(file, '../../services/kubelet/src', entries)).toMatch(/^reaches outside integration\/ \(services\/kubelet\/src\)$/);
  expect(violation(file, '@k8ts/client/src/fake', entries)).toMatch(/no public entry point/);
  expect(violation(file, '@k8ts/kubelet', entries)).toMatch(/no public entry point/);
  expect(violation(file, './cluster', entries)).toBeUndefined();
  expect(violation(file, '@k8ts/client', entries)).toBeUndefined();
  expect(violation(file, '@k8ts/client/fake', entries)).toBeUndefined();
  expect(violation(file, 'node:fs', entries)).toBeUndefined();
  expect(specifiersOf("import { a } from './x';\nconst b = require('y');\nexport * from './z';\nimport './side';")).toEqual(['./x', './z', './side', 'y']);
});
