#!/usr/bin/env node
// Transpiles every workspace's src/**/*.ts to dist/**/*.js (CommonJS) with swc.
// It then checks that every file a workspace's package.json "exports" map names (e.g.
// @k8ts/client/fake -> dist/fake.js) was built.
// Type checking is separate (`npm run typecheck`), so a build stays fast.
'use strict';
const fs = require('fs');
const path = require('path');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));

function workspaces() {
  const dirs = [];
  for (const pattern of pkg.workspaces) {
    if (pattern.endsWith('/*')) {
      const parent = path.join(root, pattern.slice(0, -2));
      if (!fs.existsSync(parent)) continue;
      for (const d of fs.readdirSync(parent)) dirs.push(path.join(parent, d));
    } else {
      dirs.push(path.join(root, pattern));
    }
  }
  return dirs.filter((d) => fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'src')));
}

function* tsFiles(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.test.ts')) yield p;
  }
}

/**
 * The files a workspace's package.json "exports" map points at (e.g. @k8ts/client's "." and
 * "./fake"), which must exist after the build for require('@k8ts/client/fake') to resolve.
 */
function missingExports(ws) {
  const exportsMap = require(path.join(ws, 'package.json')).exports ?? {};
  const missing = [];
  for (const [subpath, target] of Object.entries(exportsMap)) {
    if (typeof target !== 'string') missing.push(`${subpath}: only string targets are supported, got ${JSON.stringify(target)}`);
    else if (!fs.existsSync(path.join(ws, target))) missing.push(`${subpath}: ${target} was not built (no src/ module for it)`);
  }
  return missing.map((m) => `${path.relative(root, ws)}/package.json exports ${m}`);
}

let count = 0;
const problems = [];
for (const ws of workspaces()) {
  const src = path.join(ws, 'src');
  const out = path.join(ws, 'dist');
  fs.rmSync(out, { recursive: true, force: true });
  for (const file of tsFiles(src)) {
    const rel = path.relative(src, file);
    const dest = path.join(out, rel.replace(/\.ts$/, '.js'));
    const { code, map } = swc.transformFileSync(file, {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
      sourceMaps: true,
      sourceFileName: path.relative(path.dirname(dest), file),
    });
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, code + `\n//# sourceMappingURL=${path.basename(dest)}.map\n`);
    fs.writeFileSync(dest + '.map', map);
    // Entry points with a shebang (the k8ts CLI) are executables.
    if (code.startsWith('#!')) fs.chmodSync(dest, 0o755);
    count++;
  }
  problems.push(...missingExports(ws));
}
console.log(`build: transpiled ${count} files`);
if (problems.length > 0) {
  console.error(`build: ${problems.join('\n')}`);
  process.exit(1);
}
