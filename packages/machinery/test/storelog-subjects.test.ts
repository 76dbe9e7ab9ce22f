import { MAX_SUBJECT_BYTES, decodeSegment, encodeSegment, genesisSubject, keySubject, subjectKey, subjectKind, txnSubject } from '@k8ts/machinery';

describe('store log subjects (log.proto, "Subjects")', () => {
  const b = (s: string) => Buffer.from(s);

  it('maps Kubernetes keys to readable subjects, as log.proto shows', () => {
    expect(keySubject('k8ts', b('/kubernetes.io/pods/default/web-1'))).toBe('k8ts.kv.kubernetes%2Eio.pods.default.web-1');
    expect(keySubject('k8ts', b('/kubernetes.io/nodes/n1'))).toBe('k8ts.kv.kubernetes%2Eio.nodes.n1');
    expect(txnSubject('k8ts')).toBe('k8ts.txn');
    expect(genesisSubject('k8ts')).toBe('k8ts.genesis');
  });

  it('escapes ".", "*", ">", "%", whitespace, control and non-ASCII bytes', () => {
    expect(encodeSegment(b('a.b*c>d%e f\tg'))).toBe('a%2Eb%2Ac%3Ed%25e%20f%09g');
    expect(encodeSegment(b('é'))).toBe('%C3%A9');
    expect(encodeSegment(Buffer.from([0, 0x7f, 0xff]))).toBe('%00%7F%FF');
    expect(encodeSegment(b('$:~!@#^&()[]{}|;,?=+_-'))).toBe('$:~!@#^&()[]{}|;,?=+_-');
  });

  it('encodes empty segments as a lone "%" and keys without a leading slash under kvb', () => {
    expect(keySubject('p', b('/a//b'))).toBe('p.kv.a.%.b');
    expect(keySubject('p', b('/'))).toBe('p.kv.%');
    expect(keySubject('p', b('//'))).toBe('p.kv.%.%');
    expect(keySubject('p', b('/a/'))).toBe('p.kv.a.%');
    expect(keySubject('p', b('foo bar'))).toBe('p.kvb.foo%20bar');
    expect(keySubject('p', b('a/b'))).toBe('p.kvb.a.b');
  });

  it('is reversible, for arbitrary bytes', () => {
    const samples: Buffer[] = [b('/'), b('//x'), b('x/'), b('%'), b('%%2E'), b('.'), b('*'), b('>'), Buffer.from([0x2f, 0, 0x2f, 0xff])];
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 500; i++) {
      const len = 1 + (rnd() % 40);
      const key = Buffer.alloc(len);
      for (let j = 0; j < len; j++) key[j] = rnd() % 4 === 0 ? 0x2f : rnd() % 256;
      samples.push(key);
    }
    for (const key of samples) {
      const subject = keySubject('k8ts.store', key);
      expect(subject).toMatch(/^[\x21-\x7e]+$/);
      expect(subject.split('.').every((t) => t.length > 0 && t !== '*' && t !== '>')).toBe(true);
      expect(subjectKey('k8ts.store', subject)).toEqual(key);
      expect(subjectKind('k8ts.store', subject)).toBe('key');
    }
  });

  it('falls back to a hashed subject for keys too long to encode', () => {
    const key = b(`/${'x'.repeat(MAX_SUBJECT_BYTES + 10)}`);
    const s = keySubject('k8ts', key);
    expect(s).toMatch(/^k8ts\.kvh\.[0-9a-f]{64}$/);
    expect(subjectKey('k8ts', s)).toBeUndefined();
    expect(subjectKind('k8ts', s)).toBe('key');
    expect(keySubject('k8ts', key)).toBe(s);
    expect(keySubject('k8ts', b(`/${'y'.repeat(MAX_SUBJECT_BYTES + 10)}`))).not.toBe(s);
  });

  it('rejects malformed tokens', () => {
    expect(decodeSegment('a%2')).toBeUndefined();
    expect(decodeSegment('a%zz')).toBeUndefined();
    expect(decodeSegment('a%2e')).toBeUndefined(); // hex digits are upper case
    expect(decodeSegment('a.b')).toBeUndefined();
    expect(decodeSegment('')).toBeUndefined();
    expect(subjectKey('k8ts', 'other.kv.a')).toBeUndefined();
    expect(subjectKey('k8ts', 'k8ts.txn')).toBeUndefined();
  });

  it('classifies the subjects of the stream', () => {
    expect(subjectKind('k8ts', 'k8ts.txn')).toBe('txn');
    expect(subjectKind('k8ts', 'k8ts.genesis')).toBe('genesis');
    expect(subjectKind('k8ts', 'k8ts.kv.a')).toBe('key');
    expect(subjectKind('k8ts', 'k8ts.kvb.a')).toBe('key');
    expect(subjectKind('k8ts', 'k8tsx.kv.a')).toBe('other');
    expect(subjectKind('k8ts', 'k8ts.unknown')).toBe('other');
    expect(subjectKind('k8ts', 'k8ts.kv')).toBe('other');
  });
});
