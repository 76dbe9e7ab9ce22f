// How a component connects to the apiserver, kept once: the flags every component declares
// (--apiserver, --token-file, --apiserver-ca, --apiserver-server-name), the bearer token read
// from --token-file, and connectFromConfig, which turns the parsed flags into a clientset.
//
// The token file is re-read when it changes, as client-go's file token source does for
// projected service-account tokens: the kubelet or an operator may rotate the token in place,
// and a long-running component must pick the new one up without a restart. A file that
// cannot be read at start is an error naming the file; once a token was read, a failed
// re-read (the file briefly missing or empty while it is rewritten) keeps the last token.
import * as fs from 'fs';
import type { FlagSpec } from '@k8ts/kit';
import { connect } from './client';
import type { ConnectOptions, GrpcClientset } from './client';
import { realClock } from './clock';
import type { Clock } from './clock';
import type { Logger } from './logger';

export interface ApiserverFlagOptions {
  /**
   * The default of --apiserver. Absent: the flag is required. '' : optional without a default
   * (a component that can also run without an apiserver checks for it itself).
   */
  defaultAddress?: string;
}

/** The connection flags; `defaultAddress` chooses whether --apiserver is required. */
export function apiserverFlagsWith(opts: ApiserverFlagOptions = {}): FlagSpec[] {
  const address: FlagSpec = {
    name: 'apiserver',
    type: 'string',
    description: "The apiserver's gRPC address: host:port, dns:///host:port or unix:///path.",
  };
  if (opts.defaultAddress === undefined) address.required = true;
  else address.default = opts.defaultAddress;
  return [
    address,
    {
      name: 'token-file',
      type: 'file',
      description: 'A file holding the bearer token sent to the apiserver; re-read when it changes, so the token may rotate.',
    },
    { name: 'apiserver-ca', type: 'file', description: "PEM CA bundle of the apiserver's certificate; when set, the connection uses TLS." },
    {
      name: 'apiserver-server-name',
      type: 'string',
      default: '',
      description: "With --apiserver-ca: the name expected in the apiserver's certificate (default: the host of --apiserver).",
    },
  ];
}

/** The connection flags with --apiserver required. */
export const apiserverFlags: FlagSpec[] = apiserverFlagsWith();

/** The connection settings as parseConfig returns them (camelCased flags). */
export interface ApiserverConfig {
  apiserver?: string;
  tokenFile?: string;
  apiserverCa?: string;
  apiserverServerName?: string;
}

/** A token file that cannot be read, or holds no token. The message names the file. */
export class TokenFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`token file ${JSON.stringify(file)} (--token-file): ${reason}`, options);
    this.name = 'TokenFileError';
  }
}

/** Returns the current bearer token. */
export type TokenSource = () => string;

export interface TokenFileSourceOptions {
  /** The file is looked at again (one stat) at most this often. Default 1000 ms. */
  recheckMs?: number;
  clock?: Clock;
  /** Told about a failed re-read; the last token stays in use. Called once per state of the file. */
  onError?: (err: TokenFileError) => void;
}

/** What identifies one state of the file: a rewrite in place changes mtime or size, a rename the inode. */
function fileVersion(st: fs.Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** The file's token (trimmed) and its version. Throws TokenFileError when missing, unreadable or empty. */
function readTokenFile(file: string): { token: string; version: string } {
  let st: fs.Stats;
  let text: string;
  try {
    st = fs.statSync(file);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new TokenFileError(file, reason, { cause: err });
  }
  const token = text.trim();
  if (token === '') throw new TokenFileError(file, 'the file is empty');
  return { token, version: fileVersion(st) };
}

/**
 * The token of `file`, read now (throwing TokenFileError when the file is missing, unreadable
 * or empty) and read again whenever the file has changed, checked at most once a second.
 */
export function tokenFileSource(file: string, opts: TokenFileSourceOptions = {}): TokenSource {
  const clock = opts.clock ?? realClock;
  const recheckMs = opts.recheckMs ?? 1000;
  let { token, version } = readTokenFile(file);
  let checkedAt = clock.now();
  let failedVersion = '';
  return () => {
    if (clock.now() - checkedAt < recheckMs) return token;
    checkedAt = clock.now();
    let current: string;
    try {
      current = fileVersion(fs.statSync(file));
    } catch {
      current = 'missing';
    }
    if (current === version || current === failedVersion) return token;
    try {
      ({ token, version } = readTokenFile(file));
      failedVersion = '';
    } catch (err) {
      failedVersion = current;
      opts.onError?.(err as TokenFileError);
    }
    return token;
  };
}

export interface ConnectFromConfigOptions extends Omit<ConnectOptions, 'address' | 'token' | 'tls'> {
  /** Who the component is ("kube-scheduler/v0.1.0"); the apiserver names its field manager after it. */
  userAgent: string;
  /** Where failed re-reads of the token file are reported. */
  logger?: Logger;
}

/**
 * Connects to the apiserver the connection flags name: --apiserver, the token of
 * --token-file (none without it), TLS with --apiserver-ca (and --apiserver-server-name).
 * Throws TokenFileError when the token file cannot be read, Error when --apiserver is empty.
 */
export function connectFromConfig(config: ApiserverConfig, opts: ConnectFromConfigOptions): GrpcClientset {
  const { logger, ...connectOptions } = opts;
  if (!config.apiserver) throw new Error('missing --apiserver: the address of the apiserver is required');
  const token = config.tokenFile
    ? tokenFileSource(config.tokenFile, {
        onError: (err) => logger?.warn({ file: err.file, err: err.message }, 'cannot re-read the token file; keeping the last token'),
      })
    : undefined;
  const tls = config.apiserverCa ? { ca: config.apiserverCa, serverName: config.apiserverServerName || undefined } : undefined;
  return connect({ ...connectOptions, address: config.apiserver, token, tls });
}
