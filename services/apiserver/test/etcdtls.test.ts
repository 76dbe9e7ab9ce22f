// The apiserver's credentials to the store (--etcd-cafile, --etcd-certfile, --etcd-keyfile):
// plaintext only when none is given, a client certificate only with its key, unreadable files
// named. (The connection itself, to a store that requires these certificates, is exercised
// by integration/cli: `k8ts up` starts the apiserver with them.)
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createCA, issueCertificate } from '@k8ts/kit';
import { etcdCredentials } from '../src/storage/etcd';

let dir: string;
const pem: Record<string, string> = {};
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-apiserver-etcdtls-'));
  const ca = await createCA({ commonName: 'k8ts-ca', days: 1 });
  const client = await issueCertificate({ ca, commonName: 'kube-apiserver-etcd-client', usages: ['client'], days: 1 });
  Object.assign(pem, { 'ca.crt': ca.certPem, 'c.crt': client.certPem, 'c.key': client.keyPem });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = (name: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, pem[name]);
  return f;
};

test('no files: undefined (plaintext)', () => {
  expect(etcdCredentials({})).toBeUndefined();
});

test('a CA alone, or a CA with a client certificate and key: TLS credentials', () => {
  expect(etcdCredentials({ caFile: file('ca.crt') })?._isSecure()).toBe(true);
  expect(etcdCredentials({ caFile: file('ca.crt'), certFile: file('c.crt'), keyFile: file('c.key') })?._isSecure()).toBe(true);
});

test('a client certificate without its key (or the reverse) is refused, naming the missing flag', () => {
  expect(() => etcdCredentials({ caFile: file('ca.crt'), certFile: file('c.crt') })).toThrow(/^--etcd-certfile and --etcd-keyfile must be given together/);
  try {
    etcdCredentials({ keyFile: file('c.key') });
    throw new Error('not refused');
  } catch (err) {
    expect((err as { flag?: string }).flag).toBe('etcd-certfile');
  }
});

test('an unreadable file is named', () => {
  expect(() => etcdCredentials({ caFile: path.join(dir, 'missing.crt') })).toThrow(/^cannot read --etcd-cafile ".*missing\.crt": ENOENT/);
});
