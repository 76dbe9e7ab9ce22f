// The client configuration file, k8ts' kubeconfig: YAML with named contexts, each holding a
// server address, credentials and a default namespace, and the name of the current one.
//
//   apiVersion: k8ts.io/v1
//   kind: Config
//   current-context: default
//   contexts:
//     - name: default
//       server: 127.0.0.1:6443
//       token: 2vQ...
//       namespace: default
//       certificate-authority: /path/ca.pem     # optional: TLS
//       client-certificate: /path/cert.pem      # optional: mutual TLS
//       client-key: /path/key.pem
//       data-dir: /home/me/.k8ts/clusters/default   # set by `k8ts up`
//
// Which file: --config, else $K8TS_CONFIG, else ~/.k8ts/config. --server, --token,
// --namespace and --context override what the file says.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { CliError } from './errors';
import { k8tsCommand } from './self';

export interface Context {
  name: string;
  server?: string;
  token?: string;
  namespace?: string;
  'certificate-authority'?: string;
  'client-certificate'?: string;
  'client-key'?: string;
  'tls-server-name'?: string;
  /** The data directory of the local cluster this context was written for (`k8ts up`). */
  'data-dir'?: string;
}

export interface ConfigFile {
  apiVersion: string;
  kind: string;
  'current-context'?: string;
  contexts: Context[];
}

export const CONFIG_API_VERSION = 'k8ts.io/v1';

export function emptyConfig(): ConfigFile {
  return { apiVersion: CONFIG_API_VERSION, kind: 'Config', contexts: [] };
}

/** ~/.k8ts, honouring $HOME from the given environment. */
export function k8tsHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.HOME || os.homedir(), '.k8ts');
}

/** The config file a command uses: --config, $K8TS_CONFIG, ~/.k8ts/config. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag);
  if (env.K8TS_CONFIG) return path.resolve(env.K8TS_CONFIG);
  return path.join(k8tsHome(env), 'config');
}

const CONTEXT_KEYS: (keyof Context)[] = [
  'name',
  'server',
  'token',
  'namespace',
  'certificate-authority',
  'client-certificate',
  'client-key',
  'tls-server-name',
  'data-dir',
];

/** Parses a config file's text; `where` names the file in errors. */
export function parseConfigText(text: string, where: string): ConfigFile {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new CliError(`error loading config file "${where}": ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return emptyConfig();
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new CliError(`error loading config file "${where}": expected a mapping`);
  const raw = doc as Record<string, unknown>;
  const cfg = emptyConfig();
  if (typeof raw.apiVersion === 'string') cfg.apiVersion = raw.apiVersion;
  if (raw['current-context'] !== undefined) {
    if (typeof raw['current-context'] !== 'string') throw new CliError(`error loading config file "${where}": current-context must be a string`);
    cfg['current-context'] = raw['current-context'];
  }
  const contexts = raw.contexts ?? [];
  if (!Array.isArray(contexts)) throw new CliError(`error loading config file "${where}": contexts must be a list`);
  contexts.forEach((c, i) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) {
      throw new CliError(`error loading config file "${where}": contexts[${i}] must be a mapping`);
    }
    const ctx: Record<string, string> = {};
    for (const [k, v] of Object.entries(c as Record<string, unknown>)) {
      if (!CONTEXT_KEYS.includes(k as keyof Context)) {
        throw new CliError(`error loading config file "${where}": contexts[${i}]: unknown field "${k}"`);
      }
      if (v === null || v === undefined) continue;
      if (typeof v !== 'string' && typeof v !== 'number') {
        throw new CliError(`error loading config file "${where}": contexts[${i}].${k} must be a string`);
      }
      ctx[k] = String(v);
    }
    if (!ctx.name) throw new CliError(`error loading config file "${where}": contexts[${i}].name is required`);
    if (cfg.contexts.some((x) => x.name === ctx.name)) {
      throw new CliError(`error loading config file "${where}": context "${ctx.name}" appears twice`);
    }
    cfg.contexts.push(ctx as unknown as Context);
  });
  return cfg;
}

/** Reads a config file; a missing file is an empty configuration. */
export function loadConfig(file: string): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyConfig();
    throw new CliError(`error loading config file "${file}": ${(e as Error).message}`);
  }
  return parseConfigText(text, file);
}

export function formatConfig(cfg: ConfigFile): string {
  const out: Record<string, unknown> = { apiVersion: cfg.apiVersion || CONFIG_API_VERSION, kind: 'Config' };
  if (cfg['current-context']) out['current-context'] = cfg['current-context'];
  out.contexts = cfg.contexts.map((c) => {
    const o: Record<string, string> = {};
    for (const k of CONTEXT_KEYS) if (c[k] !== undefined && c[k] !== '') o[k] = c[k] as string;
    return o;
  });
  return YAML.stringify(out);
}

/** Writes a config file atomically, readable by its owner only (it holds tokens). */
export function saveConfig(file: string, cfg: ConfigFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, formatConfig(cfg), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Adds or replaces a context (by name); `makeCurrent` also selects it. */
export function upsertContext(cfg: ConfigFile, ctx: Context, makeCurrent: boolean): ConfigFile {
  const contexts = cfg.contexts.filter((c) => c.name !== ctx.name);
  const at = cfg.contexts.findIndex((c) => c.name === ctx.name);
  if (at >= 0) contexts.splice(at, 0, ctx);
  else contexts.push(ctx);
  return { ...cfg, contexts, 'current-context': makeCurrent ? ctx.name : cfg['current-context'] };
}

/** What the global flags may override. */
export interface ConnectionFlags {
  config?: string;
  context?: string;
  server?: string;
  token?: string;
  namespace?: string;
}

/** Everything a client command needs to reach the apiserver. */
export interface Connection {
  server: string;
  token?: string;
  tls?: { ca?: string; cert?: string; key?: string; serverName?: string };
  /** The namespace of namespaced commands: -n, else the context's, else "default". */
  namespace: string;
  /** True when -n was given (apply checks manifests against it). */
  namespaceExplicit: boolean;
  contextName?: string;
  configPath: string;
}

/** Resolves the connection from the config file and the flags. */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const file = configPath(flags.config, env);
  const cfg = loadConfig(file);
  const name = flags.context ?? cfg['current-context'];
  let ctx: Context | undefined;
  if (name) {
    ctx = cfg.contexts.find((c) => c.name === name);
    if (!ctx && flags.context) throw new CliError(`error: context "${flags.context}" does not exist in ${file}`);
  }
  const server = flags.server ?? ctx?.server;
  if (!server) {
    const why = fs.existsSync(file) ? `${file} has no current context with a server` : `no config file at ${file}`;
    throw new CliError(`error: no server to talk to (${why}): start a local cluster with "${k8tsCommand(env)} up", or pass --server and --token`);
  }
  const ca = ctx?.['certificate-authority'];
  const cert = ctx?.['client-certificate'];
  const key = ctx?.['client-key'];
  const serverName = ctx?.['tls-server-name'];
  const tls = ca || cert || key ? { ca, cert, key, serverName } : undefined;
  return {
    server,
    token: flags.token ?? ctx?.token,
    tls,
    namespace: flags.namespace || ctx?.namespace || 'default',
    namespaceExplicit: Boolean(flags.namespace),
    contextName: ctx?.name,
    configPath: file,
  };
}
