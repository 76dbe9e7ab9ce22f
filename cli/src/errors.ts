// How failures read: like kubectl's. Errors from the server carry their reason
// (`Error from server (NotFound): pods "x" not found`), local problems start with
// `error: `, and every failure makes the command exit non-zero.
import * as grpc from '@grpc/grpc-js';
import { ApiError } from '@k8ts/client';
import { DecodeError, ManifestError } from '@k8ts/api';

/** A failure of the command itself (bad arguments, unknown kinds, timeouts). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Several failures of one command (apply -f over many objects): each was already printed. */
export class AlreadyReported extends Error {
  constructor(readonly exitCode = 1) {
    super('failures were reported');
    this.name = 'AlreadyReported';
  }
}

/** The server address an error refers to, for connection failures. */
export interface ErrorContext {
  server?: string;
}

/** The message for an error from the API, without the trailing newline. */
export function formatApiError(err: ApiError, ctx: ErrorContext = {}): string {
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
      if (/ECONNREFUSED|No connection established|connect|Connection dropped|Name resolution failed/i.test(err.message) && err.reason !== 'Timeout') {
        return `The connection to the server ${ctx.server ?? 'localhost'} was refused - did you specify the right host or port?`;
      }
      return `Error from server (${err.reason}): ${err.message}`;
    case grpc.status.UNAUTHENTICATED:
      return 'error: You must be logged in to the server (Unauthorized)';
    case grpc.status.DEADLINE_EXCEEDED:
      return `Unable to connect to the server ${ctx.server ?? ''}: ${err.message || 'deadline exceeded'}`.replace('server : ', 'server: ');
    case grpc.status.INVALID_ARGUMENT:
      if (err.reason === 'Invalid' && / is invalid: /.test(err.message)) return `The ${err.message}`;
      return `Error from server (${err.reason}): ${err.message}`;
    case grpc.status.UNIMPLEMENTED:
      return `Error from server (${err.reason === 'MethodNotAllowed' ? 'MethodNotAllowed' : err.reason}): ${err.message}`;
    default:
      return `Error from server (${err.reason}): ${err.message}`;
  }
}

/** The text to print for anything a command failed with (ends with a newline). */
export function formatError(err: unknown, ctx: ErrorContext = {}): string {
  if (err instanceof ApiError) return `${formatApiError(err, ctx)}\n`;
  if (err instanceof CliError) return `${err.message.startsWith('error: ') ? err.message : `error: ${err.message}`}\n`;
  if (err instanceof ManifestError || err instanceof DecodeError) return `error: ${err.message}\n`;
  if (err && typeof err === 'object' && (err as { code?: string }).code === 'ENOENT') {
    const path = (err as { path?: string }).path;
    return `error: the path "${path}" does not exist\n`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return `error: ${message}\n`;
}

/** The exit code for an error. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError || err instanceof AlreadyReported) return err.exitCode;
  return 1;
}
