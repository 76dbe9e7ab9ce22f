// Continue tokens of paginated Lists: opaque to clients, they carry the revision the first
// page was read at and the last key returned, so that every page of one List shows the
// store at the same revision.
import { badRequest } from '../errors';

export interface ContinueToken {
  /** The revision every page of the list is read at. */
  rv: number;
  /** The last key returned; the next page starts after it. */
  start: string;
}

const VERSION = 'k8ts.io/v1';

export function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: VERSION, rv: t.rv, start: t.start })).toString('base64url');
}

/** Decodes a token, checking that it belongs to a list under `prefix`. Throws BadRequest (INVALID_ARGUMENT). */
export function decodeContinue(token: string, prefix: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('continue key is not valid: not an opaque continue token from a previous List');
  }
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (p === null || typeof p !== 'object' || p.v !== VERSION) throw badRequest('continue key is not valid: unknown token version');
  if (typeof p.rv !== 'number' || !Number.isSafeInteger(p.rv) || p.rv <= 0) throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version k8ts.io/v1)');
  if (typeof p.start !== 'string' || !p.start.startsWith(prefix)) throw badRequest('continue key is not valid: the token is from a different list');
  if (p.start.includes('/../') || p.start.endsWith('/..')) throw badRequest('continue key is not valid: invalid path');
  return { rv: p.rv, start: p.start };
}
