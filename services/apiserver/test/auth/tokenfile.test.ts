import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatTokenFileLine, generateToken, TokenFileAuthenticator, TokenFileError } from '../../src/auth';

function parseError(text: string): TokenFileError {
  try {
    TokenFileAuthenticator.parse(text, 'tokens.csv');
  } catch (e) {
    if (e instanceof TokenFileError) return e;
    throw e;
  }
  throw new Error('expected a TokenFileError');
}

describe('token file', () => {
  const text = [
    '# administrators and components',
    'admin-secret-token,admin,1000,"system:masters"',
    '',
    'sched-token,system:kube-scheduler,,',
    'dev-token, jane ,u-jane,"devs, qa"',
    'node-token,system:node:n1,,system:nodes',
    'three-col-token,bob,u-bob',
  ].join('\n');

  test('parses users, uids and groups in the Kubernetes CSV format', async () => {
    const a = TokenFileAuthenticator.parse(text);
    expect(a.size).toBe(5);
    expect(await a.authenticate('admin-secret-token')).toEqual({ name: 'admin', uid: '1000', groups: ['system:masters'] });
    expect(await a.authenticate('sched-token')).toEqual({ name: 'system:kube-scheduler', groups: [] });
    expect(await a.authenticate('dev-token')).toEqual({ name: 'jane', uid: 'u-jane', groups: ['devs', 'qa'] });
    expect(await a.authenticate('node-token')).toEqual({ name: 'system:node:n1', groups: ['system:nodes'] });
    expect(await a.authenticate('three-col-token')).toEqual({ name: 'bob', uid: 'u-bob', groups: [] });
  });

  test('unknown or missing tokens are not its business (null)', async () => {
    const a = TokenFileAuthenticator.parse(text);
    expect(await a.authenticate('nope')).toBeNull();
    expect(await a.authenticate(undefined)).toBeNull();
    expect(await a.authenticate('')).toBeNull();
  });

  test('the returned user is a copy: callers cannot change the table', async () => {
    const a = TokenFileAuthenticator.parse(text);
    const u = await a.authenticate('admin-secret-token');
    u!.groups.push('evil');
    expect((await a.authenticate('admin-secret-token'))!.groups).toEqual(['system:masters']);
  });

  test('quoted fields with escaped quotes and CRLF line ends', async () => {
    const a = TokenFileAuthenticator.parse('"tok",  "we ""quote""",uid,"a,b"\r\nt2,u2,\r\n');
    expect(await a.authenticate('tok')).toEqual({ name: 'we "quote"', uid: 'uid', groups: ['a', 'b'] });
    expect(await a.authenticate('t2')).toEqual({ name: 'u2', groups: [] });
  });

  test.each([
    ['only-two-columns,user', 2, 'expected at least 3 columns (token, user name, user uid), found 2'],
    ['t,u,uid,g1,g2', 1, 'found 5; put several groups in one quoted column: "group1,group2"'],
    [',user,uid', 1, 'the token (column 1) is empty'],
    ['tok,,uid', 1, 'the user name (column 2) is empty'],
    ['"tok en",u,uid', 1, 'the token (column 1) contains spaces or non-printable characters'],
    ['tok,"unclosed,uid', 1, 'column 2 opens a quote that is not closed on this line'],
    ['tok,"u"x,uid', 1, 'column 2 has text after its closing quote'],
    ['tok,u"x,uid', 1, 'column 2 has a quote inside an unquoted value'],
  ])('rejects %j with its line number', (bad, _cols, reason) => {
    const e = parseError(`# comment\nok-token,ok,1\n${bad}\n`);
    expect(e.line).toBe(3);
    expect(e.message).toContain('tokens.csv, line 3: ');
    expect(e.message).toContain(reason);
  });

  test('a duplicate token names both lines and never the token', () => {
    const e = parseError('very-secret-token,a,1\nother,b,2\nvery-secret-token,c,3\n');
    expect(e.message).toBe('tokens.csv, line 3: duplicate token: line 1 has the same token');
    expect(e.message).not.toContain('very-secret-token');
  });

  test('errors never echo a token', () => {
    for (const bad of ['super-secret-1', 'super-secret-1,u', 'super-secret-1,u,1,a,b', '"super secret 1",u,1']) {
      expect(parseError(bad).message).not.toContain('super');
    }
  });

  test('reads a file; a missing file is a clear error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-tokens-'));
    const file = path.join(dir, 'tokens.csv');
    const token = generateToken();
    fs.writeFileSync(file, `${formatTokenFileLine(token, 'system:node:n1', '', ['system:nodes'])}\n`);
    expect(TokenFileAuthenticator.fromFile(file).size).toBe(1);
    expect(() => TokenFileAuthenticator.fromFile(path.join(dir, 'missing.csv'))).toThrow(/missing\.csv: cannot read the token file: ENOENT/);
    fs.rmSync(dir, { recursive: true });
  });

  test('generated tokens and formatted lines round-trip', async () => {
    const token = generateToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const line = formatTokenFileLine(token, 'jane doe', 'u1', ['devs', 'ops']);
    expect(line).toBe(`${token},"jane doe",u1,"devs,ops"`);
    expect(await TokenFileAuthenticator.parse(line).authenticate(token)).toEqual({ name: 'jane doe', uid: 'u1', groups: ['devs', 'ops'] });
  });
});
