// Key ranges and JetStream reply subjects. The key <-> subject encoding of the log is tested
// with its codec (packages/machinery/test/storelog-subjects.test.ts).
import { parseAckSubject } from '../src/jetstream';
import { prefixEnd } from '../src/keys';

describe('key ranges', () => {
  const b = (s: string) => Buffer.from(s);

  it('computes prefix range ends as etcd does', () => {
    expect(prefixEnd(b('/a/'))).toEqual(b('/a0'));
    expect(prefixEnd(Buffer.from([0x61, 0xff]))).toEqual(b('b'));
    expect(prefixEnd(Buffer.from([0xff, 0xff]))).toEqual(Buffer.from([0]));
  });
});

describe('JetStream delivery reply subjects', () => {
  it('reads stream and consumer sequences from v1 and v2 ack subjects', () => {
    expect(parseAckSubject('$JS.ACK.K8TS.c1.1.42.7.1700000000000000000.0')).toEqual({ streamSeq: 42, consumerSeq: 7 });
    expect(parseAckSubject('$JS.ACK.dom.ACCHASH.K8TS.c1.1.42.7.1700000000000000000.0.xyz')).toEqual({ streamSeq: 42, consumerSeq: 7 });
    expect(parseAckSubject('_INBOX.x')).toBeUndefined();
    expect(parseAckSubject(undefined)).toBeUndefined();
  });
});
