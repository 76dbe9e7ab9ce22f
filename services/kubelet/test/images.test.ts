import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { builtinScript, ImageTable, imageCandidates, parseImageTable } from '../src/images';

describe('image table', () => {
  it('resolves the built-in images to scripts run with this Node.js', () => {
    const t = new ImageTable();
    const echo = t.resolve('k8ts/echo')!;
    expect(echo.spec.command).toEqual([process.execPath, builtinScript('echo')]);
    expect(fs.existsSync(echo.spec.command[1])).toBe(true);
    expect(echo.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(t.resolve('k8ts/echo:latest')!.key).toBe('k8ts/echo');
    expect(t.resolve('k8ts/pause@sha256:abc')!.key).toBe('k8ts/pause');
    expect(t.resolve('docker.io/library/node:20')!.key).toBe('node');
    expect(t.resolve('k8ts/unknown')).toBeUndefined();
    expect(t.missingMessage('k8ts/unknown')).toMatch(/^image "k8ts\/unknown" is not in the image table of this node \(known: k8ts\/echo, k8ts\/pause, node\)$/);
  });

  it('lists the names an image may be known by', () => {
    expect(imageCandidates('docker.io/library/nginx:1.27')).toEqual(['docker.io/library/nginx:1.27', 'nginx:1.27', 'nginx']);
    expect(imageCandidates('localhost:5000/app')).toEqual(['localhost:5000/app']);
  });

  it('allows local/ images only when enabled', () => {
    expect(new ImageTable().resolve('local/tool')).toBeUndefined();
    expect(new ImageTable().missingMessage('local/tool')).toMatch(/local images are disabled on this node/);
    expect(new ImageTable({ allowLocal: true }).resolve('local/tool')).toMatchObject({ local: true, spec: { command: [] } });
  });

  it('reads a table file, re-reads it when it changes, and keeps the last good one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-images-'));
    try {
      const file = path.join(dir, 'images.json');
      fs.writeFileSync(file, JSON.stringify({ 'my/app': { command: ['/bin/true'], args: ['x'], env: { A: 'b' }, workingDir: '/tmp' } }));
      const t = new ImageTable({ file });
      expect(t.resolve('my/app:v1')!.spec).toEqual({ command: ['/bin/true'], args: ['x'], env: { A: 'b' }, workingDir: '/tmp' });
      fs.writeFileSync(file, JSON.stringify({ 'my/other': { command: ['/bin/false'] }, 'k8ts/echo': { command: ['/bin/echo'] } }));
      expect(t.resolve('my/app')).toBeUndefined();
      expect(t.resolve('my/other')).toBeDefined();
      expect(t.resolve('k8ts/echo')!.spec.command).toEqual(['/bin/echo']); // the file overrides built-ins
      fs.writeFileSync(file, '{broken');
      expect(t.resolve('my/other')).toBeDefined();
      expect(t.missingMessage('x')).toMatch(/the image table file is unusable: .*not JSON/);
      expect(() => new ImageTable({ file })).toThrow(/not JSON/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates table entries', () => {
    expect(() => parseImageTable('[]', 'f')).toThrow(/expected an object/);
    expect(() => parseImageTable('{"a": {}}', 'f')).toThrow('f: image "a": command is required');
    expect(() => parseImageTable('{"a": {"command": "sh"}}', 'f')).toThrow(/command must be an array of strings/);
    expect(() => parseImageTable('{"a": {"command": ["sh"], "env": {"A": 1}}}', 'f')).toThrow(/env must be an object of strings/);
  });
});
