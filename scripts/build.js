#!/usr/bin/env node
// Transpiles every workspace's src/**/*.ts to dist/**/*.js (CommonJS) with swc.
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

let count = 0;
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
}
console.log(`build: transpiled ${count} files`);
