import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { configPath, emptyConfig, formatConfig, loadConfig, parseConfigText, resolveConnection, saveConfig, upsertContext } from '../src/config';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-cli-config-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const TEXT = `
apiVersion: k8ts.io/v1
kind: Config
current-context: dev
contexts:
  - name: dev
    server: 127.0.0.1:6443
    token: abc
    namespace: team-a
  - name: prod
    server: 10.0.0.1:6443
    token: xyz
    certificate-authority: /etc/k8ts/ca.pem
`;

describe('config file', () => {
  test('which file: --config, then $K8TS_CONFIG, then ~/.k8ts/config', () => {
    expect(configPath('x/c.yaml', { K8TS_CONFIG: '/e', HOME: '/h' })).toBe(path.resolve('x/c.yaml'));
    expect(configPath(undefined, { K8TS_CONFIG: '/e/c', HOME: '/h' })).toBe('/e/c');
    expect(configPath(undefined, { HOME: '/h' })).toBe('/h/.k8ts/config');
  });

  test('parse, format and parse again', () => {
    const cfg = parseConfigText(TEXT, 'c');
    expect(cfg['current-context']).toBe('dev');
    expect(cfg.contexts.map((c) => c.name)).toEqual(['dev', 'prod']);
    expect(parseConfigText(formatConfig(cfg), 'c')).toEqual(cfg);
    expect(parseConfigText('', 'c')).toEqual(emptyConfig());
  });

  test('errors name the file and the problem', () => {
    expect(() => parseConfigText('contexts: 3', 'f')).toThrow(/error loading config file "f": contexts must be a list/);
    expect(() => parseConfigText('contexts: [{server: x}]', 'f')).toThrow(/contexts\[0\].name is required/);
    expect(() => parseConfigText('contexts: [{name: a, sever: x}]', 'f')).toThrow(/unknown field "sever"/);
    expect(() => parseConfigText('contexts: [{name: a}, {name: a}]', 'f')).toThrow(/context "a" appears twice/);
    expect(() => parseConfigText('a: [', 'f')).toThrow(/error loading config file "f"/);
  });

  test('a missing file is empty; saving makes it private to its owner', () => {
    const file = path.join(dir, 'sub', 'config');
    expect(loadConfig(file)).toEqual(emptyConfig());
    saveConfig(file, upsertContext(emptyConfig(), { name: 'a', server: 's:1', token: 't' }, true));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadConfig(file)).toMatchObject({ 'current-context': 'a', contexts: [{ name: 'a', server: 's:1', token: 't' }] });
  });

  test('upsertContext replaces in place and may switch the current context', () => {
    const cfg = parseConfigText(TEXT, 'c');
    const next = upsertContext(cfg, { name: 'dev', server: 'new:1' }, false);
    expect(next.contexts.map((c) => c.name)).toEqual(['dev', 'prod']);
    expect(next.contexts[0].server).toBe('new:1');
    expect(next['current-context']).toBe('dev');
    expect(upsertContext(cfg, { name: 'k8ts-default', server: 'x' }, true)['current-context']).toBe('k8ts-default');
  });

  test('resolveConnection: the context, overridden by flags', () => {
    const file = path.join(dir, 'config');
    fs.writeFileSync(file, TEXT);
    const env = { K8TS_CONFIG: file };
    expect(resolveConnection({}, env)).toMatchObject({ server: '127.0.0.1:6443', token: 'abc', namespace: 'team-a', namespaceExplicit: false, tls: undefined });
    expect(resolveConnection({ server: 'o:1', token: 't2', namespace: 'x' }, env)).toMatchObject({ server: 'o:1', token: 't2', namespace: 'x', namespaceExplicit: true });
    expect(resolveConnection({ context: 'prod' }, env)).toMatchObject({ server: '10.0.0.1:6443', namespace: 'default', tls: { ca: '/etc/k8ts/ca.pem' } });
    expect(() => resolveConnection({ context: 'nope' }, env)).toThrow(/context "nope" does not exist/);
  });

  test('without a config file, --server is needed', () => {
    const env = { HOME: dir };
    expect(() => resolveConnection({}, env)).toThrow(/no server to talk to .*k8ts up/);
    expect(resolveConnection({ server: 'h:1' }, env)).toMatchObject({ server: 'h:1', namespace: 'default', token: undefined });
  });
});
