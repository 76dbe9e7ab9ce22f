// Static bearer tokens from a file in Kubernetes' --token-auth-file format, for
// administrators and components (scheduler, controller-manager, proxy) and, if wanted, nodes:
//
//   token,user,uid,"group1,group2"
//
// One record a line; the uid and the groups may be empty; several groups go in one quoted
// column. k8ts also skips blank lines and lines starting with '#'. Tokens are kept only as
// SHA-256 hashes in memory and never appear in errors or logs.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { Authenticator, UserInfo } from './types';

/** A token file that cannot be used, with the line at fault. The message never contains a token. */
export class TokenFileError extends Error {
  constructor(
    readonly source: string,
    readonly line: number | undefined,
    reason: string,
  ) {
    super(line === undefined ? `${source}: ${reason}` : `${source}, line ${line}: ${reason}`);
    this.name = 'TokenFileError';
  }
}

/** Splits one CSV record (RFC 4180 quoting, one line). Throws an Error whose message is the reason on bad quoting. */
function splitRecord(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new Error(`column ${fields.length + 1} opens a quote that is not closed on this line`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (i < line.length && line[i] !== ',') throw new Error(`column ${fields.length + 1} has text after its closing quote`);
    } else {
      const end = line.indexOf(',', i);
      field = (end < 0 ? line.slice(i) : line.slice(i, end)).trim();
      if (field.includes('"')) throw new Error(`column ${fields.length + 1} has a quote inside an unquoted value`);
      i = end < 0 ? line.length : end;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('base64url');
}

const TOKEN_CHARS = /^[\x21-\x7e]+$/;

/** One parsed record, without its token. */
export interface TokenFileRecord {
  line: number;
  user: UserInfo;
}

/**
 * Parses token-file text. `source` names the file in errors. Returns the records and a map from
 * token hash to user. Throws TokenFileError naming the line for: fewer than 3 columns, more than
 * 4 (unquoted groups), an empty token or user name, a token with spaces or control characters,
 * a duplicate token, and bad quoting.
 */
export function parseTokenFile(text: string, source = 'token file'): { records: TokenFileRecord[]; byHash: Map<string, UserInfo> } {
  const records: TokenFileRecord[] = [];
  const byHash = new Map<string, UserInfo>();
  const lineOfHash = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    let fields: string[];
    try {
      fields = splitRecord(raw);
    } catch (e) {
      throw new TokenFileError(source, line, (e as Error).message);
    }
    if (fields.length < 3) {
      throw new TokenFileError(
        source,
        line,
        `expected at least 3 columns (token, user name, user uid), found ${fields.length}`,
      );
    }
    if (fields.length > 4) {
      throw new TokenFileError(
        source,
        line,
        `expected at most 4 columns (token, user name, user uid, groups), found ${fields.length}; ` +
          'put several groups in one quoted column: "group1,group2"',
      );
    }
    const [token, name, uid, groupColumn = ''] = fields;
    if (token === '') throw new TokenFileError(source, line, 'the token (column 1) is empty');
    if (!TOKEN_CHARS.test(token)) {
      throw new TokenFileError(source, line, 'the token (column 1) contains spaces or non-printable characters');
    }
    if (name === '') throw new TokenFileError(source, line, 'the user name (column 2) is empty');
    const hash = hashToken(token);
    const previous = lineOfHash.get(hash);
    if (previous !== undefined) {
      throw new TokenFileError(source, line, `duplicate token: line ${previous} has the same token`);
    }
    const groups = [
      ...new Set(
        groupColumn
          .split(',')
          .map((g) => g.trim())
          .filter((g) => g !== ''),
      ),
    ];
    const user: UserInfo = { name, groups };
    if (uid !== '') user.uid = uid;
    lineOfHash.set(hash, line);
    byHash.set(hash, user);
    records.push({ line, user });
  });
  return { records, byHash };
}

/** Authenticates the tokens of a token file. Unknown tokens are not its business (null). */
export class TokenFileAuthenticator implements Authenticator {
  private constructor(
    private readonly byHash: Map<string, UserInfo>,
    readonly records: readonly TokenFileRecord[],
  ) {}

  /** From token-file text; `source` names it in errors. */
  static parse(text: string, source = 'token file'): TokenFileAuthenticator {
    const { records, byHash } = parseTokenFile(text, source);
    return new TokenFileAuthenticator(byHash, records);
  }

  /** Reads a token file. Throws TokenFileError when it cannot be read or parsed. */
  static fromFile(path: string): TokenFileAuthenticator {
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf8');
    } catch (e) {
      throw new TokenFileError(path, undefined, `cannot read the token file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return TokenFileAuthenticator.parse(text, path);
  }

  /** How many tokens the file holds. */
  get size(): number {
    return this.byHash.size;
  }

  async authenticate(token: string | undefined): Promise<UserInfo | null> {
    if (!token) return null;
    const user = this.byHash.get(hashToken(token));
    return user ? { ...user, groups: [...user.groups] } : null;
  }
}

/** A new random token: 32 bytes, base64url (43 characters). */
export function generateToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/** Formats one token-file line, quoting the groups column. */
export function formatTokenFileLine(token: string, user: string, uid = '', groups: string[] = []): string {
  const quote = (v: string) => (/[",\s]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const cols = [token, quote(user), quote(uid)];
  if (groups.length > 0) cols.push(`"${groups.join(',').replace(/"/g, '""')}"`);
  return cols.join(',');
}
