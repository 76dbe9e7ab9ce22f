import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MIN_NATS_SERVER, natsServerVersion, natsVersionOk } from '../src/natsversion';

test('nats-server 2.10 and later are supported, 2.9 is not; what cannot be read passes', () => {
  expect(MIN_NATS_SERVER).toBe('2.10');
  expect(['2.10.0', '2.10.27', 'v2.15.1', '3.0.0'].map(natsVersionOk)).toEqual([true, true, true, true]);
  expect(['2.9.10', 'v2.9.25', '1.4.1'].map(natsVersionOk)).toEqual([false, false, false]);
  expect(natsVersionOk('')).toBe(true);
});

test('the version a binary reports, or undefined when it cannot say', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-natsversion-'));
  try {
    const bin = path.join(dir, 'nats-server');
    fs.writeFileSync(bin, '#!/bin/sh\necho "nats-server: v2.10.27"\n', { mode: 0o755 });
    expect(natsServerVersion(bin)).toBe('2.10.27');
    fs.writeFileSync(bin, '#!/bin/sh\necho "something else"\n', { mode: 0o755 });
    expect(natsServerVersion(bin)).toBeUndefined();
    expect(natsServerVersion(path.join(dir, 'missing'))).toBeUndefined();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
