// Two projects: `unit` (fast, in-process, may use in-memory fakes behind named interfaces)
// and `integration` (real nats-server, real service processes, real clients).
// Workspaces import each other as @k8ts/<name>; tests map that to the sources so no build
// is needed for unit tests. Integration tests that spawn service processes need `make build`.
const fs = require('fs');
const path = require('path');

const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }];

/**
 * The subpath entry points of the packages' "exports" maps (e.g. "./fake": "./dist/fake.js" of
 * @k8ts/client), each mapped to its source (packages/client/src/fake): only what a package
 * exports resolves, as it does for node at run time.
 */
function subpathEntries() {
  const out = {};
  const packages = path.join(__dirname, 'packages');
  for (const dir of fs.readdirSync(packages)) {
    const file = path.join(packages, dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      if (subpath === '.') continue;
      const m = typeof target === 'string' ? /^\.\/dist\/(.+)\.js$/.exec(target) : null;
      if (!m) throw new Error(`${file}: exports["${subpath}"] must be a string "./dist/<module>.js", got ${JSON.stringify(target)}`);
      const specifier = `${pkg.name}${subpath.slice(1)}`.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      out[`^${specifier}$`] = `<rootDir>/packages/${dir}/src/${m[1]}`;
    }
  }
  return out;
}

const common = {
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { ...subpathEntries(), '^@k8ts/([a-z-]+)$': '<rootDir>/packages/$1/src' },
  testEnvironment: 'node',
  rootDir: __dirname,
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
};
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{packages,services,cli}/**/test/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$', '/node_modules/'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/integration/**/*.test.ts', '<rootDir>/{packages,services,cli}/**/*.int.test.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
      // Per-project testTimeout is not applied by jest 30; the setup file sets it.
      setupFilesAfterEnv: ['<rootDir>/scripts/jest/integration-setup.ts'],
    },
  ],
};
