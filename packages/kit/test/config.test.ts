import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ConfigError,
  formatDuration,
  formatHelp,
  parseConfig,
  parseDuration,
  redactConfig,
  serverFlags,
  serverOptionsFromConfig,
} from '../src';
import type { FlagSpec } from '../src';

const flags: FlagSpec[] = [
  { name: 'nats-url', type: 'string', default: 'nats://127.0.0.1:4222', description: 'NATS server URL.' },
  { name: 'replicas', type: 'int', default: 3, min: 1, description: 'Replica count.' },
  { name: 'offset', type: 'int', description: 'Any integer.' },
  { name: 'verbose', type: 'bool', description: 'Verbose output.' },
  { name: 'resync', type: 'duration', default: '30s', description: 'Resync period.' },
  { name: 'peers', type: 'list', description: 'Peer addresses.' },
  { name: 'bind', type: 'address', default: '127.0.0.1:0', description: 'Bind address.' },
  { name: 'ca-file', type: 'file', description: 'CA bundle.' },
  { name: 'custom-env', type: 'string', env: 'MY_CUSTOM', description: 'Has its own env var.' },
  {
    name: 'mode',
    type: 'string',
    default: 'fast',
    description: 'fast or safe.',
    validate: (v: string) => (v === 'fast' || v === 'safe' ? undefined : 'must be fast or safe'),
  },
];

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseConfig('testcomp', flags, argv, env);

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).name).toBe('ConfigError');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig types', () => {
  it('yields defaults with camelCased keys', () => {
    const c = parse([]);
    expect(c).toEqual({
      natsUrl: 'nats://127.0.0.1:4222',
      replicas: 3,
      offset: undefined,
      verbose: false,
      resync: 30000,
      peers: [],
      bind: '127.0.0.1:0',
      caFile: undefined,
      customEnv: undefined,
      mode: 'fast',
    });
  });

  it('parses every type from flags in both --name value and --name=value forms', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-config-'));
    const file = path.join(dir, 'ca.pem');
    fs.writeFileSync(file, 'pem');
    try {
      const c = parse([
        '--nats-url', 'nats://n:1',
        '--replicas=5',
        '--offset', '-7',
        '--verbose',
        '--resync=1h30m',
        '--peers', 'a:1, b:2,,c:3',
        '--bind=[::1]:8080',
        '--ca-file', file,
        '--mode=safe',
      ]);
      expect(c).toMatchObject({
        natsUrl: 'nats://n:1',
        replicas: 5,
        offset: -7,
        verbose: true,
        resync: 5_400_000,
        peers: ['a:1', 'b:2', 'c:3'],
        bind: '[::1]:8080',
        caFile: file,
        mode: 'safe',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses bool forms', () => {
    expect(parse(['--verbose=false']).verbose).toBe(false);
    expect(parse(['--verbose=yes']).verbose).toBe(true);
    expect(parse(['--no-verbose'], { K8TS_VERBOSE: 'true' }).verbose).toBe(false);
    expect(parse([], { K8TS_VERBOSE: 'off' }).verbose).toBe(false);
    expect(parse([], { K8TS_VERBOSE: '1' }).verbose).toBe(true);
  });

  it('parses durations to milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('0')).toBe(0);
    for (const bad of ['', '10', 's', '10x', '-5s', '1h 2m', 'ms10']) expect(parseDuration(bad)).toBeUndefined();
    expect(formatDuration(10_000)).toBe('10s');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(250)).toBe('250ms');
  });

  it('accumulates a repeated list flag and keeps the last value of other flags', () => {
    const c = parse(['--peers', 'a', '--peers=b,c', '--replicas', '2', '--replicas', '4']);
    expect(c.peers).toEqual(['a', 'b', 'c']);
    expect(c.replicas).toBe(4);
  });

  it('treats an empty address as unset', () => {
    expect(parse(['--bind=']).bind).toBe('');
  });
});

describe('parseConfig env and precedence', () => {
  it('reads K8TS_<NAME> and custom env names', () => {
    const c = parse([], { K8TS_NATS_URL: 'nats://env:1', K8TS_REPLICAS: '7', K8TS_RESYNC: '2m', K8TS_PEERS: 'x,y', MY_CUSTOM: 'c' });
    expect(c).toMatchObject({ natsUrl: 'nats://env:1', replicas: 7, resync: 120_000, peers: ['x', 'y'], customEnv: 'c' });
  });

  it('ranks flag over env over default', () => {
    const env = { K8TS_REPLICAS: '7', K8TS_NATS_URL: 'nats://env:1' };
    expect(parse(['--replicas', '9'], env).replicas).toBe(9);
    expect(parse([], env).replicas).toBe(7);
    expect(parse([], {}).replicas).toBe(3);
    expect(parse(['--nats-url=nats://flag:1'], env).natsUrl).toBe('nats://flag:1');
  });

  it('ignores an empty env var', () => {
    expect(parse([], { K8TS_REPLICAS: '' }).replicas).toBe(3);
  });

  it('does not read the default env name when a custom one is set', () => {
    expect(parse([], { K8TS_CUSTOM_ENV: 'no' }).customEnv).toBeUndefined();
  });
});

describe('parseConfig errors', () => {
  it('names flag, env var, value and reason for a bad flag value', () => {
    const e = configError(() => parseConfig('x', serverFlags, ['--max-message-bytes', 'abc'], {}));
    expect(e.message).toBe('invalid value "abc" for --max-message-bytes (env K8TS_MAX_MESSAGE_BYTES): must be a positive integer');
    expect(e.flag).toBe('max-message-bytes');
    expect(e.value).toBe('abc');
  });

  it('says when the bad value came from the environment', () => {
    const e = configError(() => parse([], { K8TS_REPLICAS: 'many' }));
    expect(e.message).toBe('invalid value "many" in env K8TS_REPLICAS for --replicas: must be a positive integer');
  });

  it.each([
    [['--replicas', '0'], '--replicas', 'must be a positive integer'],
    [['--replicas', '1.5'], '--replicas', 'must be a positive integer'],
    [['--offset', 'x'], '--offset', 'must be an integer'],
    [['--verbose=maybe'], '--verbose', 'must be true or false'],
    [['--resync', '10'], '--resync', 'must be a duration'],
    [['--bind', 'localhost'], '--bind', 'must be host:port'],
    [['--bind', '127.0.0.1:70000'], '--bind', 'must be host:port'],
    [['--ca-file', '/nonexistent/ca.pem'], '--ca-file', 'no such file'],
    [['--ca-file', os.tmpdir()], '--ca-file', 'not a regular file'],
    [['--mode', 'slow'], '--mode', 'must be fast or safe'],
    [['--log-level', 'loud'], '--log-level', 'must be one of'],
  ])('rejects %j', (argv, flag, reason) => {
    const all = [...flags, ...serverFlags];
    const e = configError(() => parseConfig('x', all, argv, {}));
    expect(e.message).toContain(flag);
    expect(e.message).toContain(JSON.stringify(argv[argv.length - 1].replace(/^--[a-z-]+=/, '')));
    expect(e.message).toContain(reason);
  });

  it('rejects unknown flags', () => {
    expect(configError(() => parse(['--nope'])).message).toBe('unknown flag --nope (see testcomp --help)');
    expect(configError(() => parse(['--nope=1'])).message).toContain('unknown flag --nope');
    expect(configError(() => parse(['-v'])).message).toContain('unknown flag -v');
    expect(configError(() => parse(['--no-replicas'])).message).toContain('unknown flag --no-replicas');
  });

  it('rejects positional arguments and a missing value', () => {
    expect(configError(() => parse(['extra'])).message).toContain('unexpected argument "extra"');
    expect(configError(() => parse(['--', 'extra'])).message).toContain('unexpected argument "extra"');
    expect(configError(() => parse(['--replicas'])).message).toBe('flag --replicas needs a value of type int');
    expect(configError(() => parse(['--replicas', '--verbose'])).message).toContain('needs a value');
  });

  it('requires required flags', () => {
    const req: FlagSpec[] = [{ name: 'token-file', type: 'string', required: true, description: 'The token.' }];
    expect(configError(() => parseConfig('x', req, [], {})).message).toBe(
      'missing required flag --token-file (env K8TS_TOKEN_FILE): The token.',
    );
    expect(parseConfig('x', req, [], { K8TS_TOKEN_FILE: 't' })).toEqual({ tokenFile: 't' });
    expect(configError(() => parseConfig('x', serverFlags, ['--listen='], {})).message).toContain('missing required flag --listen');
  });

  it('rejects badly declared flags as programming errors', () => {
    expect(() => parseConfig('x', [{ name: 'Bad_Name', type: 'string', description: '' }], [], {})).toThrow(/kebab-case/);
    expect(() => parseConfig('x', [flags[0], flags[0]], [], {})).toThrow(/declared twice/);
    expect(() => parseConfig('x', [{ name: 'help', type: 'bool', description: '' }], [], {})).toThrow(/reserved/);
  });
});

describe('--help', () => {
  it('lists every flag with type, default, env var and description', () => {
    const text = formatHelp('sample', [...serverFlags, ...flags]);
    expect(text).toContain('Usage: sample [flags]');
    for (const f of [...serverFlags, ...flags]) {
      expect(text).toContain(`--${f.name}`);
      expect(text).toContain(f.description);
      expect(text).toContain(`type: ${f.type}`);
    }
    expect(text).toContain('env: K8TS_MAX_MESSAGE_BYTES');
    expect(text).toContain('env: MY_CUSTOM');
    expect(text).toContain('default: 4194304');
    expect(text).toContain('default: 10s');
    expect(text).toContain('default: 127.0.0.1:0');
    expect(text).toContain('--verbose[=<bool>]');
    expect(text).toContain('--help');
  });

  it('prints the help and returns with help: true when exitOnHelp is false', () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const c = parseConfig('sample', flags, ['--nope', '--help'], {}, { exitOnHelp: false });
      expect(c.help).toBe(true);
      expect(c.replicas).toBe(3);
      expect(write).toHaveBeenCalledWith(formatHelp('sample', flags));
    } finally {
      write.mockRestore();
    }
  });
});

describe('serverFlags and serverOptionsFromConfig', () => {
  it('has the documented defaults', () => {
    const c = parseConfig('x', serverFlags, [], {});
    expect(c).toEqual({
      listen: '127.0.0.1:0',
      metricsListen: '',
      tlsCert: undefined,
      tlsKey: undefined,
      tlsClientCa: undefined,
      maxMessageBytes: 4194304,
      logLevel: 'info',
      shutdownTimeout: 10_000,
    });
    expect(serverOptionsFromConfig(c)).toEqual({
      listen: '127.0.0.1:0',
      metricsListen: '',
      tls: undefined,
      maxMessageBytes: 4194304,
      shutdownTimeoutMs: 10_000,
    });
  });

  it('maps TLS flags and checks that they fit together', () => {
    expect(serverOptionsFromConfig({ listen: 'a:1', tlsCert: 'c', tlsKey: 'k', tlsClientCa: 'ca' }).tls).toEqual({
      cert: 'c',
      key: 'k',
      clientCa: 'ca',
    });
    expect(serverOptionsFromConfig({ listen: 'a:1', tlsCert: 'c', tlsKey: 'k' }).tls).toEqual({ cert: 'c', key: 'k' });
    expect(configError(() => serverOptionsFromConfig({ listen: 'a:1', tlsCert: 'c' })).message).toContain('--tls-key');
    expect(configError(() => serverOptionsFromConfig({ listen: 'a:1', tlsClientCa: 'ca' })).message).toContain(
      '--tls-client-ca requires --tls-cert',
    );
  });
});

describe('redactConfig', () => {
  it('renders values as text under kebab-case names and redacts secret-looking settings', () => {
    const out = redactConfig({
      listen: '127.0.0.1:0',
      maxMessageBytes: 1024,
      verbose: true,
      peers: ['a', 'b'],
      apiToken: 's3cr3t',
      tlsKey: '/etc/k8ts/key.pem',
      dbPassword: 'hunter2',
      clientSecret: 'x',
      emptyToken: '',
      unset: undefined,
      nested: { a: 1 },
    });
    expect(out).toEqual({
      listen: '127.0.0.1:0',
      'max-message-bytes': '1024',
      verbose: 'true',
      peers: 'a,b',
      'api-token': '<redacted>',
      'tls-key': '<redacted>',
      'db-password': '<redacted>',
      'client-secret': '<redacted>',
      'empty-token': '',
      unset: '',
      nested: '{"a":1}',
    });
  });
});
