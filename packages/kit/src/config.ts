// Configuration of a k8ts component: typed flags that can also be set through environment
// variables. Precedence: a flag on the command line > its environment variable > its default.
//
// The kit parses argv itself instead of going through commander: a FlagSpec list is already
// the whole declarative description, and owning the parser keeps the exact rules this kit
// promises (typed values, env parsing for every type including bool, every error a
// ConfigError that names flag, value and reason, unknown flags rejected).
import * as fs from 'fs';
import { ConfigError } from './errors';
import type { ServerOptions } from './server';

export type FlagType = 'string' | 'int' | 'bool' | 'duration' | 'list' | 'address' | 'file';

export interface FlagSpec {
  /** kebab-case flag name without dashes, e.g. 'nats-url'. */
  name: string;
  /**
   * string: any text. int: a decimal integer. bool: true/false (also 1/0, yes/no, on/off);
   * on the command line `--name` alone means true and `--no-name` false. duration: '500ms',
   * '10s', '5m', '1h', '1h30m' (or '0'), yielding milliseconds. list: comma separated,
   * yielding string[] (a repeated list flag accumulates). address: 'host:port', port 0 =
   * any free port ('' = unset). file: a path that must exist and be readable ('' = unset).
   */
  type: FlagType;
  /** One line shown by --help. */
  description: string;
  /** Default value: either the typed value or its string form (a duration as '10s' or ms). */
  default?: string | number | boolean | string[];
  /** When true, an unset or empty value is an error. */
  required?: boolean;
  /** Environment variable; default K8TS_<NAME_UPPER_SNAKE>, e.g. K8TS_NATS_URL. */
  env?: string;
  /** Extra validation of the typed value; returns the reason when invalid. */
  validate?: (value: any) => string | undefined;
  /** For int and duration (in ms): inclusive lower bound. */
  min?: number;
  /** For int and duration (in ms): inclusive upper bound. */
  max?: number;
}

/** 'nats-url' -> 'natsUrl'. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** 'natsUrl' -> 'nats-url' (the inverse of camelCase for flag names). */
export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The environment variable of a flag: its `env`, or K8TS_<NAME_UPPER_SNAKE>. */
export function envName(flag: FlagSpec): string {
  return flag.env ?? `K8TS_${flag.name.toUpperCase().replace(/-/g, '_')}`;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses '500ms', '10s', '1.5m', '1h30m' or '0' to milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  while (re.lastIndex < text.length) {
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]];
  }
  return Math.round(total);
}

/** Renders milliseconds in the largest unit that divides them: 10000 -> '10s'. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Splits 'host:port' (IPv6 hosts in brackets: '[::1]:80'); undefined when malformed. */
export function parseAddress(text: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.%a-zA-Z]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1], port };
}

const BOOL_VALUES: Record<string, boolean> = {
  true: true, false: false, '1': true, '0': false, yes: true, no: false, on: true, off: false,
};

function intReason(spec: FlagSpec): string {
  const { min, max } = spec;
  if (min !== undefined && max !== undefined) return `must be an integer between ${min} and ${max}`;
  if (min === 1) return 'must be a positive integer';
  if (min === 0) return 'must be a non-negative integer';
  if (min !== undefined) return `must be an integer >= ${min}`;
  if (max !== undefined) return `must be an integer <= ${max}`;
  return 'must be an integer';
}

type Converted = { value: unknown } | { reason: string };

/** Converts one raw text value of a flag to its typed value. */
function convert(spec: FlagSpec, raw: string, checkFiles: boolean): Converted {
  switch (spec.type) {
    case 'string':
      return { value: raw };
    case 'int': {
      const n = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
      if (!Number.isSafeInteger(n)) return { reason: intReason(spec) };
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        return { reason: intReason(spec) };
      }
      return { value: n };
    }
    case 'bool': {
      const b = BOOL_VALUES[raw.trim().toLowerCase()];
      if (b === undefined) return { reason: 'must be true or false' };
      return { value: b };
    }
    case 'duration': {
      const ms = parseDuration(raw.trim());
      if (ms === undefined) return { reason: 'must be a duration such as 500ms, 10s, 5m, 1h or 1h30m' };
      if (spec.min !== undefined && ms < spec.min) return { reason: `must be at least ${formatDuration(spec.min)}` };
      if (spec.max !== undefined && ms > spec.max) return { reason: `must be at most ${formatDuration(spec.max)}` };
      return { value: ms };
    }
    case 'list':
      return { value: raw.split(',').map((s) => s.trim()).filter((s) => s !== '') };
    case 'address': {
      if (raw === '') return { value: '' };
      if (!parseAddress(raw)) return { reason: 'must be host:port with a port from 0 to 65535 (0 = any free port)' };
      return { value: raw };
    }
    case 'file': {
      if (raw === '' || !checkFiles) return { value: raw };
      let st: fs.Stats;
      try {
        st = fs.statSync(raw);
      } catch {
        return { reason: 'no such file' };
      }
      if (!st.isFile()) return { reason: 'not a regular file' };
      try {
        fs.accessSync(raw, fs.constants.R_OK);
      } catch {
        return { reason: 'file is not readable' };
      }
      return { value: raw };
    }
  }
}

/** The typed default of a flag (bool defaults to false, list to []). */
function defaultValue(spec: FlagSpec): unknown {
  const d = spec.default;
  if (d === undefined) {
    if (spec.type === 'bool') return false;
    if (spec.type === 'list') return [];
    return undefined;
  }
  if (typeof d === 'string' && spec.type !== 'string') {
    const c = convert(spec, d, false);
    if ('reason' in c) throw new Error(`kit: bad default ${JSON.stringify(d)} for --${spec.name}: ${c.reason}`);
    return c.value;
  }
  return Array.isArray(d) ? [...d] : d;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

function renderDefault(spec: FlagSpec): string | undefined {
  const d = spec.default;
  if (d === undefined) return undefined;
  if (spec.type === 'duration' && typeof d === 'number') return formatDuration(d);
  if (Array.isArray(d)) return d.join(',');
  if (typeof d === 'string') return d === '' ? '""' : d;
  return String(d);
}

/** The help text of a component: usage and every flag with type, default, env var, description. */
export function formatHelp(component: string, flags: FlagSpec[]): string {
  const lines = [
    `Usage: ${component} [flags]`,
    '',
    'Every flag can also be set through the environment variable shown with it. A flag given',
    'on the command line wins over its environment variable, which wins over the default.',
    '',
    'Flags:',
  ];
  for (const f of flags) {
    const head = f.type === 'bool' ? `  --${f.name}[=<bool>]` : `  --${f.name} <${f.type}>`;
    lines.push(head);
    lines.push(`      ${f.description}`);
    const facts: string[] = [`type: ${f.type}`];
    if (f.required) facts.push('required');
    const d = renderDefault(f);
    if (d !== undefined) facts.push(`default: ${d}`);
    facts.push(`env: ${envName(f)}`);
    lines.push(`      (${facts.join(', ')})`);
  }
  lines.push('  --help');
  lines.push('      Print this help and exit.');
  return `${lines.join('\n')}\n`;
}

function checkSpecs(flags: FlagSpec[]): void {
  const seen = new Set<string>();
  for (const f of flags) {
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(f.name)) throw new Error(`kit: flag name "${f.name}" is not kebab-case`);
    if (f.name === 'help') throw new Error('kit: flag name "help" is reserved');
    if (seen.has(f.name)) throw new Error(`kit: flag --${f.name} is declared twice`);
    seen.add(f.name);
  }
}

/**
 * Parses argv (without node and script) and env into an object keyed by camelCased flag
 * names ('nats-url' -> natsUrl). Precedence: flag > env > default. Unknown flags, bad
 * values, failed validations and missing required flags throw ConfigError. An empty
 * environment variable counts as unset.
 *
 * '--help' (or '-h') prints the help to stdout and exits 0; with exitOnHelp false it prints
 * the help and returns the defaults-and-env configuration with `help: true` added.
 */
export function parseConfig<T = Record<string, any>>(
  component: string,
  flags: FlagSpec[],
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  opts: { exitOnHelp?: boolean } = {},
): T {
  checkSpecs(flags);
  const byName = new Map(flags.map((f) => [f.name, f]));
  const endOfFlags = argv.indexOf('--');
  const flagArgs = endOfFlags >= 0 ? argv.slice(0, endOfFlags) : argv;
  const help = flagArgs.includes('--help') || flagArgs.includes('-h');
  if (help) {
    process.stdout.write(formatHelp(component, flags));
    if (opts.exitOnHelp ?? true) process.exit(0);
  }

  // Collect the raw values given on the command line, in order.
  const given = new Map<string, string[]>();
  if (!help) {
    for (let i = 0; i < flagArgs.length; i++) {
      const arg = flagArgs[i];
      if (!arg.startsWith('-')) {
        throw new ConfigError(`unexpected argument "${arg}": ${component} takes only flags (--name=value or --name value)`);
      }
      if (!arg.startsWith('--')) throw new ConfigError(`unknown flag ${arg} (see ${component} --help)`, { flag: arg });
      let name = arg.slice(2);
      let raw: string | undefined;
      const eq = name.indexOf('=');
      if (eq >= 0) {
        raw = name.slice(eq + 1);
        name = name.slice(0, eq);
      }
      let spec = byName.get(name);
      if (!spec && raw === undefined && name.startsWith('no-')) {
        const negated = byName.get(name.slice(3));
        if (negated?.type === 'bool') {
          spec = negated;
          raw = 'false';
        }
      }
      if (!spec) throw new ConfigError(`unknown flag --${name} (see ${component} --help)`, { flag: name });
      if (raw === undefined) {
        if (spec.type === 'bool') raw = 'true';
        else {
          const next = flagArgs[i + 1];
          if (next === undefined || next.startsWith('--')) {
            throw new ConfigError(`flag --${spec.name} needs a value of type ${spec.type}`, { flag: spec.name });
          }
          raw = next;
          i++;
        }
      }
      const list = given.get(spec.name) ?? [];
      list.push(raw);
      given.set(spec.name, list);
    }
    if (endOfFlags >= 0 && endOfFlags < argv.length - 1) {
      throw new ConfigError(`unexpected argument "${argv[endOfFlags + 1]}": ${component} takes only flags`);
    }
  }

  const out: Record<string, unknown> = {};
  for (const spec of flags) {
    const envVar = envName(spec);
    const fail = (raw: string, reason: string, fromEnv: boolean): never => {
      const where = fromEnv ? `in env ${envVar} for --${spec.name}` : `for --${spec.name} (env ${envVar})`;
      throw new ConfigError(`invalid value ${JSON.stringify(raw)} ${where}: ${reason}`, { flag: spec.name, value: raw });
    };
    const typed = (raw: string, fromEnv: boolean): unknown => {
      const c = convert(spec, raw, true);
      if ('reason' in c) return fail(raw, c.reason, fromEnv);
      if (spec.validate && !isEmpty(c.value)) {
        const reason = spec.validate(c.value);
        if (reason) return fail(raw, reason, fromEnv);
      }
      return c.value;
    };

    let value: unknown;
    const raws = given.get(spec.name);
    const envRaw = env[envVar];
    if (raws) {
      if (spec.type === 'list') value = raws.flatMap((r) => typed(r, false) as string[]);
      else value = typed(raws[raws.length - 1], false);
    } else if (envRaw !== undefined && envRaw !== '') {
      value = typed(envRaw, true);
    } else {
      value = defaultValue(spec);
    }
    if (spec.required && isEmpty(value) && !help) {
      throw new ConfigError(`missing required flag --${spec.name} (env ${envVar}): ${spec.description}`, { flag: spec.name });
    }
    out[camelCase(spec.name)] = value;
  }
  if (help) out.help = true;
  return out as T;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * The flags every k8ts server has. A service's own flag list is
 * `[...serverFlags, ...myFlags]`.
 */
export const serverFlags: FlagSpec[] = [
  {
    name: 'listen',
    type: 'address',
    default: '127.0.0.1:0',
    required: true,
    description: 'Address the gRPC server listens on, host:port (port 0 picks a free port).',
  },
  {
    name: 'metrics-listen',
    type: 'address',
    default: '',
    description: 'Address of the HTTP endpoint serving /metrics and /healthz, host:port; empty = no endpoint.',
  },
  {
    name: 'tls-cert',
    type: 'file',
    description: 'PEM certificate (chain) of the server; with --tls-key enables TLS.',
  },
  {
    name: 'tls-key',
    type: 'file',
    description: 'PEM private key of --tls-cert.',
  },
  {
    name: 'tls-client-ca',
    type: 'file',
    description: 'PEM CA bundle for client certificates; when set, clients must present a certificate it signed (mutual TLS).',
  },
  {
    name: 'max-message-bytes',
    type: 'int',
    default: 4194304,
    min: 1,
    description: 'Largest gRPC message accepted or sent, in bytes; larger requests fail with RESOURCE_EXHAUSTED.',
  },
  {
    name: 'log-level',
    type: 'string',
    default: 'info',
    description: `Log level: one of ${LOG_LEVELS.join(', ')}.`,
    validate: (v: string) => (LOG_LEVELS.includes(v) ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`),
  },
  {
    name: 'shutdown-timeout',
    type: 'duration',
    default: '10s',
    description: 'On SIGTERM/SIGINT, how long in-flight calls may take to finish before they are cancelled.',
  },
];

/**
 * Converts the parsed common flags (serverFlags) to the matching ServerOptions fields.
 * Throws ConfigError when the TLS flags do not fit together.
 */
export function serverOptionsFromConfig(
  config: Record<string, any>,
): Pick<ServerOptions, 'listen' | 'metricsListen' | 'tls' | 'maxMessageBytes' | 'shutdownTimeoutMs'> {
  const cert: string = config.tlsCert ?? '';
  const key: string = config.tlsKey ?? '';
  const clientCa: string = config.tlsClientCa ?? '';
  if ((cert === '') !== (key === '')) {
    throw new ConfigError('--tls-cert and --tls-key must be given together (env K8TS_TLS_CERT, K8TS_TLS_KEY)', {
      flag: cert === '' ? 'tls-cert' : 'tls-key',
    });
  }
  if (clientCa !== '' && cert === '') {
    throw new ConfigError('--tls-client-ca requires --tls-cert and --tls-key: mutual TLS is TLS with client certificates', {
      flag: 'tls-client-ca',
    });
  }
  return {
    listen: config.listen,
    metricsListen: config.metricsListen ?? '',
    tls: cert ? { cert, key, ...(clientCa ? { clientCa } : {}) } : undefined,
    maxMessageBytes: config.maxMessageBytes,
    shutdownTimeoutMs: config.shutdownTimeout,
  };
}

/** Setting names whose values are never reported. */
export const SECRET_NAME = /token|key|password|secret/i;

/** The text form of a configuration value as InfoService reports it. */
function renderValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => renderValue(x)).join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * The configuration as InfoService reports it: keys in kebab-case (the flag names), values
 * as text, and the value of every setting whose name contains token, key, password or
 * secret replaced by '<redacted>' (empty values stay empty).
 */
export function redactConfig(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    if (typeof v === 'function') continue;
    const name = kebabCase(k);
    const text = renderValue(v);
    out[name] = SECRET_NAME.test(name) && text !== '' ? '<redacted>' : text;
  }
  return out;
}
