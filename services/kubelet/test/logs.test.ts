import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { followLog, LogWatcher, readLog, readLogLines, rotatedFiles } from '../src/runtime/logs';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-logs-'));
  file = path.join(dir, '0.log');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('container logs', () => {
  it('timestamps lines through the index the watcher writes', () => {
    const w = new LogWatcher(file, { maxBytes: 1 << 20, maxFiles: 2 });
    fs.writeFileSync(file, 'one\ntwo\n');
    w.tick(Date.UTC(2026, 0, 1, 0, 0, 1));
    fs.appendFileSync(file, 'three\n');
    w.tick(Date.UTC(2026, 0, 1, 0, 0, 2));
    w.tick(Date.UTC(2026, 0, 1, 0, 0, 3)); // no growth: no entry
    expect(fs.readFileSync(`${file}.idx`, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(readLog([file], { timestamps: true })).toEqual([
      '2026-01-01T00:00:01.000000000Z one\n',
      '2026-01-01T00:00:01.000000000Z two\n',
      '2026-01-01T00:00:02.000000000Z three\n',
    ]);
    expect(readLog([file], { tailLines: 2 })).toEqual(['two\n', 'three\n']);
    expect(readLog([file], { tailLines: 0 })).toEqual([]);
    expect(readLog([file], { sinceMs: Date.UTC(2026, 0, 1, 0, 0, 2) })).toEqual(['three\n']);
  });

  it('rotates by size, keeping maxFiles older files, and reads across them oldest first', () => {
    const w = new LogWatcher(file, { maxBytes: 10, maxFiles: 2 });
    for (const chunk of ['a1\na2\na3\na4\n', 'b1\nb2\nb3\nb4\n', 'c1\nc2\nc3\nc4\n', 'd1\n']) {
      fs.appendFileSync(file, chunk);
      w.tick();
    }
    expect(rotatedFiles(file).map((f) => path.basename(f))).toEqual(['0.log.2', '0.log.1', '0.log']);
    expect(fs.existsSync(`${file}.3`)).toBe(false);
    expect(readLogLines(rotatedFiles(file)).map((l) => l.text)).toEqual(['b1', 'b2', 'b3', 'b4', 'c1', 'c2', 'c3', 'c4', 'd1']);
    expect(fs.existsSync(`${file}.1.idx`)).toBe(true);
  });

  it('keeps a last line without newline', () => {
    fs.writeFileSync(file, 'done\npartial');
    expect(readLog([file])).toEqual(['done\n', 'partial\n']);
  });

  it('follows a growing file until the container is gone, joining partial lines', async () => {
    fs.writeFileSync(file, 'first\nsec');
    let running = true;
    const got: string[] = [];
    const follow = (async () => {
      for await (const l of followLog(file, () => running, { pollMs: 10 })) got.push(l);
    })();
    await new Promise((r) => setTimeout(r, 40));
    fs.appendFileSync(file, 'ond\nthird\n');
    await new Promise((r) => setTimeout(r, 40));
    fs.appendFileSync(file, 'last');
    running = false;
    await follow;
    expect(got).toEqual(['first\n', 'second\n', 'third\n', 'last\n']);
  });

  it('follows across a rotation', async () => {
    const w = new LogWatcher(file, { maxBytes: 8, maxFiles: 1 });
    fs.writeFileSync(file, 'x1\n');
    let running = true;
    const got: string[] = [];
    const follow = (async () => {
      for await (const l of followLog(file, () => running, { pollMs: 20 })) got.push(l);
    })();
    await new Promise((r) => setTimeout(r, 30));
    fs.appendFileSync(file, 'x2\nx3\n');
    w.tick(); // rotates: everything so far moves to 0.log.1
    fs.appendFileSync(file, 'y1\n');
    await new Promise((r) => setTimeout(r, 60));
    running = false;
    await follow;
    expect(got).toEqual(['x1\n', 'x2\n', 'x3\n', 'y1\n']);
  });

  it('ends a follow on abort', async () => {
    fs.writeFileSync(file, 'a\n');
    const ac = new AbortController();
    const got: string[] = [];
    const follow = (async () => {
      for await (const l of followLog(file, () => true, { pollMs: 10, signal: ac.signal, timestamps: true })) got.push(l);
    })();
    await new Promise((r) => setTimeout(r, 30));
    ac.abort();
    await follow;
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^\d{4}-.*Z a\n$/);
  });
});
