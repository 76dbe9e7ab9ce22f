// A reader that goes away (`k8ts status | head -3`) ends the command quietly with 141, as
// SIGPIPE ends Unix tools, instead of an EPIPE stack trace. Checked on a fake stream and on a
// real pipe closed under a child process that writes through processIO().
import { spawn } from 'child_process';
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { transformFileSync } from '@swc/core';
import { BROKEN_PIPE_EXIT, exitOnBrokenPipe } from '../src/io';

function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`write ${code}`), { code });
}

describe('exitOnBrokenPipe', () => {
  test('EPIPE exits with 141; other errors are thrown; one listener per stream', () => {
    const stream = new EventEmitter() as unknown as NodeJS.WritableStream;
    const exits: number[] = [];
    exitOnBrokenPipe(stream, (code) => exits.push(code));
    exitOnBrokenPipe(stream, (code) => exits.push(code));
    expect((stream as unknown as EventEmitter).listenerCount('error')).toBe(1);
    stream.emit('error', errnoError('EPIPE'));
    expect(exits).toEqual([BROKEN_PIPE_EXIT]);
    expect(() => stream.emit('error', errnoError('ENOSPC'))).toThrow('write ENOSPC');
    expect(exits).toEqual([141]);
  });
});

describe('a real pipe whose reader leaves', () => {
  let dir: string;
  beforeAll(() => {
    // processIO() compiled as the build would, so that the child runs the real module.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-cli-io-'));
    const out = transformFileSync(path.join(__dirname, '..', 'src', 'io.ts'), {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    });
    fs.writeFileSync(path.join(dir, 'io.js'), out.code);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the writer ends with 141 and writes nothing to stderr', async () => {
    // Writes lines forever, a few at a time, as a long table or a watch would.
    const script = `
      const io = require(${JSON.stringify(path.join(dir, 'io.js'))}).processIO();
      let n = 0;
      const more = () => { for (let i = 0; i < 50; i++) io.out('line ' + n++ + '\\n'); setImmediate(more); };
      more();`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    // Read the first lines, then close the pipe, as `head -3` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(BROKEN_PIPE_EXIT);
  }, 20_000);
});
