// Records the logs the storelog unit tests replay (storelog-recorded.json, storelog-compacted.json):
// a real store (services/store/dist) on a real nats-server (the testkit's), ordinary writes
// through etcdctl, and entries published straight to the stream as racing writers would get
// them in (nats-server 2.9, nats-io/nats-server#4320), then every message of the stream, the
// store's own verdicts (its "log entry has no effect" log lines) and its final state (etcdctl).
// Then a physical compaction and a stale write whose guard rests on a witness below it.
// The committed recordings were made by the store before the apply rule moved to
// @k8ts/machinery. Needs `node scripts/build.js`. Run from the repository root:
//   node packages/machinery/test/storelog-fixtures/record.js packages/machinery/test/storelog-fixtures
const path = require('path');
const fs = require('fs');
const { execFileSync } = require('child_process');
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const { startNats, spawnService } = require(ROOT + '/packages/testkit/dist');
const { connect } = require(ROOT + '/node_modules/nats');
const { storev1 } = require(ROOT + '/packages/api/dist');

const PREFIX = 'k8ts';
const W = 100;
const keySubject = (key) => require(ROOT + '/packages/machinery/dist').keySubject(PREFIX, Buffer.from(key));
const B = (s) => Buffer.from(s);

async function main() {
  const out = process.argv[2];
  const nats = await startNats();
  const store = await spawnService({ cmd: process.execPath, args: [ROOT + '/services/store/dist/main.js', '--listen', '127.0.0.1:0', '--nats-url', nats.url, '--compaction-window', '0', '--guard-window', String(W), '--name', 'recorder'], readyPattern: /"address":"(127\.0\.0\.1:\d+)"[^\n]*"msg":"store started"/, timeoutMs: 60000 });
  const ep = store.match[1];
  const ctl = (args, input) => execFileSync('etcdctl', [`--endpoints=${ep}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, input, encoding: 'utf8' });
  const rev = () => Number(JSON.parse(ctl(['get', 'x', '-w', 'json'])).header.revision);
  const kv = (k) => JSON.parse(ctl(['get', k, '-w', 'json'])).kvs?.[0];
  const nc = await connect({ servers: nats.url });
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const pub = async (subject, data) => (await js.publish(subject, data)).seq;
  const entry = (basis, change) => storev1.Entry.encode({ guard: basis === undefined ? undefined : { basisRevision: basis }, changes: [change], writer: 'crafted', requestId: 1 }).finish();
  const put = (k, v, create = 0, version = 0) => ({ type: storev1.ChangeType.CHANGE_TYPE_PUT, key: B(k), value: B(v), lease: 0, createRevision: create, version });
  const del = (k) => ({ type: storev1.ChangeType.CHANGE_TYPE_DELETE, key: B(k) });
  const waitRev = async (s) => { while (rev() < s) await new Promise((r) => setTimeout(r, 50)); };

  // Ordinary writes through the public API (single-key and multi-key entries).
  ctl(['put', '/a/1', 'one']);
  ctl(['put', '/a/2', 'two']);
  ctl(['put', '/b/1', 'bee']);
  ctl(['txn'], 'mod("/a/1") > "0"\n\nput /a/1 one-txn\nput /a/3 three\n\n\n');
  // Two writers race on /a/2 from one basis: the second is void (voided by a single-key entry).
  let b = rev();
  let k = kv('/a/2');
  const r1 = await pub(keySubject('/a/2'), entry(b, put('/a/2', 'race-first', Number(k.create_revision), Number(k.version) + 1)));
  const r2 = await pub(keySubject('/a/2'), entry(b, put('/a/2', 'race-second', Number(k.create_revision), Number(k.version) + 1)));
  await waitRev(r2);
  // A later writer whose basis is between the two: the void one does not count against it.
  const r3 = await pub(keySubject('/a/2'), entry(r1, put('/a/2', 'after-void', Number(k.create_revision), Number(k.version) + 2)));
  await waitRev(r3);
  // A multi-key entry changes /b/1; a lagging replica's single-key write of /b/1 from before it is void.
  b = rev();
  ctl(['txn'], 'mod("/b/1") > "0"\n\ndel /b/1\nput /c/1 sea\n\n\n');
  const r4 = await pub(keySubject('/b/1'), entry(b, put('/b/1', 'lagging', 0, 0)));
  await waitRev(r4);
  // A racing delete: the second delete of /a/3 from the same basis is void.
  b = rev();
  const r5 = await pub(keySubject('/a/3'), entry(b, del('/a/3')));
  const r6 = await pub(keySubject('/a/3'), entry(b, del('/a/3')));
  await waitRev(r6);
  // Basis too old (more than W revisions): void.
  for (let i = 0; i < W + 2; i++) ctl(['put', `/d/${i}`, `d${i}`]);
  // s - b = W + 1: void.
  const r7 = await pub(keySubject('/c/1'), entry(rev() - W, put('/c/1', 'too-old', 0, 0)));
  await waitRev(r7);
  // s - b = W exactly, and the key has not changed since: takes effect.
  ctl(['put', '/e/1', 'e']);
  const kc = kv('/c/1');
  const r8 = await pub(keySubject('/c/1'), entry(rev() + 1 - W, put('/c/1', 'within-window', Number(kc.create_revision), Number(kc.version) + 1)));
  await waitRev(r8);
  // Malformed messages: garbage payload, two changes on a key subject, no guard.
  const r9 = await pub(keySubject('/f/1'), Buffer.from([0xff, 0xff, 0xff]));
  const r10 = await pub(keySubject('/f/1'), storev1.Entry.encode({ guard: { basisRevision: r9 }, changes: [put('/f/1', 'x'), put('/f/2', 'y')] }).finish());
  await waitRev(r10);
  // Range delete (multi-key) and a delete-and-recreate.
  ctl(['del', '--prefix', '/d/']);
  ctl(['put', '/d/0', 'again']);
  ctl(['put', '/a/1', 'last']);
  const head = rev();

  const dump = async () => {
    const info = await jsm.streams.info('K8TS');
    const messages = [];
    for (let s = info.state.first_seq; s <= info.state.last_seq; s++) {
      try {
        const m = await jsm.streams.getMessage('K8TS', { seq: s });
        messages.push({ seq: m.seq, subject: m.subject, data: Buffer.from(m.data).toString('base64') });
      } catch { /* removed */ }
    }
    return messages;
  };
  const state = () => (JSON.parse(ctl(['get', '', '--from-key', '-w', 'json'])).kvs ?? []).map((x) => ({ key: Buffer.from(x.key, 'base64').toString('latin1'), value: Buffer.from(x.value, 'base64').toString('base64'), createRevision: Number(x.create_revision), modRevision: Number(x.mod_revision), version: Number(x.version) }));
  const voidsFromLogs = () => {
    const v = {};
    for (const line of store.logs().split('\n')) {
      if (!line.includes('log entry has no effect')) continue;
      const j = JSON.parse(line);
      v[j.seq] = j.reason;
    }
    return v;
  };
  const full = { recordedWith: 'services/store, nats-server ' + execFileSync(require(ROOT + '/packages/testkit/dist').natsServerBinary(), ['--version'], { encoding: 'utf8' }).trim(), guardWindow: W, head, messages: await dump(), storeIneffective: voidsFromLogs(), state: state() };
  fs.writeFileSync(path.join(out, 'storelog-recorded.json'), JSON.stringify(full, null, 1));

  // Compaction: keep from C, purge the stream, then a write whose guard rests on a witness below C.
  const kb = kv('/a/1');
  ctl(['put', '/g/1', 'g']);
  const C = rev(); // /a/1 last changed at head, below C: its witness must survive the purge
  const basisBelowC = head - 2;
  ctl(['compact', String(C), '--physical']);
  await new Promise((r) => setTimeout(r, 1500));
  const r11 = await pub(keySubject('/a/1'), entry(basisBelowC, put('/a/1', 'stale-after-compaction', Number(kb.create_revision), Number(kb.version) + 1)));
  await waitRev(r11);
  ctl(['put', '/a/1', 'final']);
  const compacted = { recordedWith: full.recordedWith, guardWindow: W, compactRevision: C, head: rev(), messages: await dump(), storeIneffective: voidsFromLogs(), state: state() };
  fs.writeFileSync(path.join(out, 'storelog-compacted.json'), JSON.stringify(compacted, null, 1));
  console.log(JSON.stringify({ head, C, r: [r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11], ineffective: compacted.storeIneffective, msgs: full.messages.length, compactedMsgs: compacted.messages.length }));
  await nc.close();
  await store.stop('SIGTERM');
  await nats.stop();
}
main().catch((e) => { console.error(e); process.exit(1); });
