// Two projects: `unit` (fast, in-process, may use in-memory fakes behind named interfaces)
// and `integration` (real nats-server, real service processes, real clients).
// Workspaces import each other as @k8ts/<name>; tests map that to the sources so no build
// is needed for unit tests. Integration tests that spawn service processes need `make build`.
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }];
const common = {
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^@k8ts/([a-z-]+)$': '<rootDir>/packages/$1/src' },
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
