// PfkeyClient against a double of af_key's delivery rules (test/lib/pfkey-fake-kernel.ts):
// request/reply matching by (seq, pid), errors naming the operation and the SA, timeouts,
// serialised dumps with the last seq 0, promiscuous echo/duplicate handling (D07), validation
// (D02), REGISTER and EXPIRE, the MIGRATE barrier, and the EAFNOSUPPORT degradation.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { projectRoot } from '../../src/kernel/native.ts';
import { PfkeyClient } from '../../src/kernel/pfkey/client.ts';
import * as C from '../../src/kernel/pfkey/constants.ts';
import { PfkeyError, PfkeyRequestError, isPfkeyUnavailable } from '../../src/kernel/pfkey/errors.ts';
import type { PfkeyEvent } from '../../src/kernel/pfkey/events.ts';
import { KeyMaterial } from '../../src/kernel/pfkey/key-material.ts';
import { RecentMessages } from '../../src/kernel/pfkey/dedupe.ts';
import { openPfkeySocket } from '../../src/kernel/pfkey/transport.ts';
import { FakePfkeyKernel } from '../lib/pfkey-fake-kernel.ts';
import * as F from '../lib/pfkey-fixtures.ts';

const HOA = '2001:db8:1::10';
const CN = '2001:db8:2::20';

const tick = () => new Promise((r) => setImmediate(r));
async function settle(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}

async function client(k: FakePfkeyKernel, opts: Parameters<typeof PfkeyClient.open>[0] = {}) {
  const sock = k.socket();
  const c = await PfkeyClient.open({ transport: sock, timeoutMs: 300, ...opts });
  const events: PfkeyEvent[] = [];
  const warnings: Error[] = [];
  c.onEvent((e) => events.push(e));
  c.onWarning((e) => warnings.push(e));
  return { c, sock, events, warnings };
}

const esp = (spi: number) => ({
  satype: C.SADB_SATYPE_ESP,
  spi,
  src: HOA,
  dst: CN,
  mode: 'transport' as const,
  auth: { alg: C.SADB_X_AALG_SHA2_256HMAC, key: new KeyMaterial(Buffer.alloc(32, 0x11)) },
  enc: { alg: C.SADB_X_EALG_AESCBC, key: new KeyMaterial(Buffer.alloc(16, 0x22)) },
});

describe('PfkeyClient requests and replies', () => {
  test('open registers ESP and AH (so EXPIRE reaches us) and returns the supported algorithms', async () => {
    const k = new FakePfkeyKernel();
    const { c, sock } = await client(k);
    assert.deepEqual(c.registeredSatypes.sort(), [C.SADB_SATYPE_AH, C.SADB_SATYPE_ESP]);
    assert.deepEqual(sock.sent.map((b) => [b[1], b[3]]), [[7, 3], [7, 2]]);
    assert.equal(sock.sent[0]!.readUInt32LE(12), process.pid, 'sadb_msg_pid defaults to our pid');
    c.close();
  });

  test('ADD resolves with the kernel notification; it is also an sa-added event; keys are removed and wiped', async () => {
    const k = new FakePfkeyKernel();
    const a = await client(k);
    const b = await client(k, { register: [] });
    const reply = await a.c.add(esp(0x2001));
    assert.equal(reply.type, C.SADB_ADD);
    assert.equal(reply.ext.sa?.spi, 0x2001);
    assert.equal(reply.ext.keyAuth, undefined, 'received keys are dropped');
    assert.deepEqual(reply.removedKeys, { auth: 256, encrypt: 128 });
    assert.equal(a.sock.sent.at(-1)!.includes(Buffer.alloc(16, 0x22)), true, 'the kernel got the key');
    assert.ok(a.sock.sentRefs.at(-1)!.every((x) => x === 0), 'our send buffer is wiped after sendmsg');
    await settle();
    for (const x of [a, b]) {
      assert.deepEqual(x.events.map((e) => e.kind), ['sa-added'], 'every PF_KEY socket sees the ADD broadcast');
      const ev = x.events[0]!;
      assert.ok(ev.kind === 'sa-added' && ev.sa.spi === 0x2001 && ev.sa.dst === CN && ev.sa.proto === 50);
    }
    a.c.close();
    b.c.close();
  });

  test('a kernel errno becomes a PfkeyRequestError naming the operation, the SA and the errno', async () => {
    const k = new FakePfkeyKernel();
    const { c } = await client(k);
    await assert.rejects(c.delete({ satype: 3, spi: 0x9999, src: HOA, dst: CN }), (e: unknown) => {
      assert.ok(e instanceof PfkeyRequestError);
      assert.equal(e.errno, 3);
      assert.equal(e.errnoCode, 'ESRCH');
      assert.equal(e.operation, 'DELETE');
      assert.equal(e.message, 'PF_KEY DELETE esp spi 0x00009999 dst 2001:db8:2::20 failed: ESRCH (errno 3)');
      return true;
    });
    await c.add(esp(0x3001));
    await assert.rejects(c.add(esp(0x3001)), /PF_KEY ADD esp spi 0x00003001 dst 2001:db8:2::20 failed: EEXIST \(errno 17\)/);
    c.close();
  });

  test('a request without a reply times out with an error naming the operation and the SA', async () => {
    const k = new FakePfkeyKernel();
    const { c } = await client(k);
    k.mute.add(C.SADB_GET);
    await assert.rejects(
      c.get({ satype: 3, spi: 0x42, src: HOA, dst: CN }),
      (e: unknown) => e instanceof PfkeyError && e.code === 'PFKEY_TIMEOUT' && /PF_KEY GET esp spi 0x00000042 dst 2001:db8:2::20: no reply within 300 ms/.test(e.message),
    );
    c.close();
  });

  test('GETSPI returns the allocated SPI; GET returns the SA', async () => {
    const k = new FakePfkeyKernel();
    const { c, events } = await client(k);
    const { spi } = await c.getspi({ satype: 3, src: CN, dst: HOA, range: { min: 0x1000, max: 0x1fff } });
    assert.equal(spi, 0x1000);
    const got = await c.get({ satype: 3, spi, src: CN, dst: HOA });
    assert.equal(got.type, C.SADB_GET);
    assert.equal(got.ext.sa?.spi, spi);
    await settle();
    assert.deepEqual(events.map((e) => e.kind), ['sa-larval'], 'the GETSPI reply (with SA) is reported; GET is not an event');
    c.close();
  });

  test('D11 DUMP collects every SA up to the message with seq 0; an empty table (ENOENT) is []', async () => {
    const k = new FakePfkeyKernel();
    const { c, events } = await client(k);
    assert.deepEqual(await c.dumpSas(C.SADB_SATYPE_ESP), []);
    for (const spi of [0x10, 0x11, 0x12]) k.externalAdd(spi);
    await settle();
    events.length = 0;
    const all = await c.dumpSas(C.SADB_SATYPE_ESP);
    assert.deepEqual(all.map((m) => m.ext.sa!.spi), [0x10, 0x11, 0x12]);
    assert.deepEqual(all.map((m) => m.seq), [1, 2, 0]);
    assert.equal(events.length, 0, 'dump messages are not notifications');
    c.close();
  });

  test('dumps on one socket are serialised (af_key allows one at a time)', async () => {
    const k = new FakePfkeyKernel();
    const { c, sock } = await client(k);
    k.externalAdd(0x20);
    const before = sock.sent.length;
    const d1 = c.dumpSas();
    const d2 = c.spdDump().catch((e: Error) => e);
    for (let i = 0; i < 10; i++) await Promise.resolve(); // microtasks only: the fake kernel has not replied yet
    assert.equal(sock.sent.length - before, 1, 'the second dump waits for the first');
    await d1;
    await d2;
    assert.deepEqual(sock.sent.slice(before).map((b) => b[1]), [C.SADB_DUMP, C.SADB_X_SPDDUMP]);
    c.close();
  });

  test('FLUSH resolves once and yields one sa-flushed event although af_key answers twice', async () => {
    const k = new FakePfkeyKernel();
    const { c, events } = await client(k);
    k.externalAdd(0x30);
    await c.flush(C.SADB_SATYPE_ESP);
    await settle();
    assert.deepEqual(events.map((e) => e.kind), ['sa-added', 'sa-flushed']);
    assert.equal(c.stats.duplicates, 1);
    c.close();
  });

  test('MIGRATE: success is known from the X_PCHANGE barrier; a kernel error rejects it', async () => {
    const k = new FakePfkeyKernel();
    const { c, events, sock } = await client(k);
    const spec = {
      selector: { dir: 'out' as const, src: { address: HOA }, dst: { address: CN } },
      bundles: [{ proto: 50, mode: 'tunnel' as const, reqid: 1, old: { src: '2001:db8:9::1', dst: CN }, new: { src: '2001:db8:9::2', dst: CN } }],
    };
    await c.migrate(spec);
    assert.deepEqual(sock.sent.slice(-2).map((b) => b[1]), [C.SADB_X_MIGRATE, C.SADB_X_PCHANGE]);
    await settle();
    assert.deepEqual(events.map((e) => e.kind), ['migrate']);
    k.migrateErrno = 2;
    await assert.rejects(c.migrate(spec), /PF_KEY X_MIGRATE out policy failed: ENOENT \(errno 2\)/);
    k.migrateErrno = 0;
    k.mute.add(C.SADB_X_PCHANGE);
    await assert.rejects(c.migrate(spec), (e: unknown) => e instanceof PfkeyError && e.code === 'PFKEY_TIMEOUT' && /X_MIGRATE out policy: outcome unknown/.test(e.message));
    c.close();
  });

  test('D09 hard and soft EXPIRE reach REGISTERed sockets only, as sa-expired {hard}', async () => {
    const k = new FakePfkeyKernel();
    const reg = await client(k);
    const unreg = await client(k, { register: [] });
    k.expire(0x40, false);
    k.expire(0x40, true);
    await settle();
    assert.deepEqual(reg.events.map((e) => e.kind === 'sa-expired' && [e.sa.spi, e.hard]), [[0x40, false], [0x40, true]]);
    assert.equal(unreg.events.length, 0);
    reg.c.close();
    unreg.c.close();
  });

  test('close rejects what is in flight with PFKEY_CLOSED', async () => {
    const k = new FakePfkeyKernel();
    const { c } = await client(k);
    k.mute.add(C.SADB_GET);
    const p = c.get({ satype: 3, spi: 1, src: HOA, dst: CN });
    c.close();
    await assert.rejects(p, (e: unknown) => e instanceof PfkeyError && e.code === 'PFKEY_CLOSED');
    await assert.rejects(c.flush(), (e: unknown) => e instanceof PfkeyError && e.code === 'PFKEY_CLOSED');
  });
});

describe('D02 validation: errno != 0 or version != 2 never changes state', () => {
  test('D02 such messages produce no event and are counted; a malformed one only a warning', async () => {
    const k = new FakePfkeyKernel();
    const { c, sock, events, warnings } = await client(k);
    const withErrno = F.saNotify({ type: C.SADB_ADD, seq: 1, pid: 1, spi: 0x50 });
    withErrno[2] = 22;
    const v3 = F.saNotify({ type: C.SADB_ADD, seq: 1, pid: 1, spi: 0x51 });
    v3[0] = 3;
    const delErrno = F.saNotify({ type: C.SADB_DELETE, seq: 0, pid: 0, spi: 0x52 });
    delErrno[2] = 1;
    const expireV1 = F.expireNotify(true, 0x53);
    expireV1[0] = 1;
    for (const b of [withErrno, v3, delErrno, expireV1]) k.inject(sock, b);
    k.inject(sock, Buffer.from([2, 3, 0, 3, 9, 0]));
    await settle();
    assert.equal(events.length, 0);
    assert.equal(c.stats.ignoredErrno, 2);
    assert.equal(c.stats.ignoredVersion, 2);
    assert.equal(c.stats.malformed, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /shorter than the 16-octet sadb_msg header/);
    // The same messages without the fault are events: the test can fail.
    k.inject(sock, F.saNotify({ type: C.SADB_ADD, seq: 1, pid: 1, spi: 0x50 }));
    await settle();
    assert.deepEqual(events.map((e) => e.kind), ['sa-added']);
    c.close();
  });
});

describe('D07/D12 promiscuous mode', () => {
  test('D12 a GETSPI by another socket is seen by a promiscuous socket (once) and not by a non-promiscuous one', async () => {
    const k = new FakePfkeyKernel();
    const ike = await client(k, { register: [] });
    const promisc = await client(k, { promiscuous: true });
    const plain = await client(k);
    assert.equal(promisc.c.promiscuous, true);
    const { spi } = await ike.c.getspi({ satype: 3, src: CN, dst: HOA });
    await settle();
    const larval = promisc.events.filter((e) => e.kind === 'sa-larval');
    assert.equal(larval.length, 1);
    assert.ok(larval[0]!.kind === 'sa-larval' && larval[0]!.sa.spi === spi && larval[0]!.sa.dst === HOA);
    assert.equal(promisc.c.stats.requestEchoes >= 1, true, 'the echoed GETSPI request (no SA) was ignored');
    assert.equal(plain.events.filter((e) => e.kind === 'sa-larval').length, 0);
    for (const x of [ike, promisc, plain]) x.c.close();
  });

  test('D07 duplicates are dropped and echoed requests without SA ignored; own requests still resolve', async () => {
    const k = new FakePfkeyKernel();
    const p = await client(k, { promiscuous: true });
    // Another socket's request echoes: GETSPI without SA must not become an event.
    k.inject(p.sock, F.getspiRequestEcho(7, 4444));
    // A notification delivered twice (promiscuous copy + regular copy).
    const add = F.saNotify({ type: C.SADB_ADD, seq: 9, pid: 4444, spi: 0x60 });
    k.inject(p.sock, add);
    k.inject(p.sock, add);
    await settle();
    assert.deepEqual(p.events.map((e) => e.kind), ['sa-added']);
    assert.equal(p.c.stats.requestEchoes, 1);
    assert.ok(p.c.stats.duplicates >= 1);
    // Our own requests come back as echoes first, then doubled replies.
    await p.c.add(esp(0x61));
    await p.c.getspi({ satype: 3, src: CN, dst: HOA });
    k.externalAdd(0x62);
    const dump = await p.c.dumpSas();
    assert.deepEqual(dump.map((m) => m.ext.sa!.spi).sort((a, b) => a - b), [0x61, 0x62, 0x1000]);
    await p.c.flush();
    await settle();
    assert.ok(p.c.stats.ownEchoes >= 4, `own echoes ${p.c.stats.ownEchoes}`);
    const kinds = p.events.map((e) => e.kind);
    assert.deepEqual(kinds, ['sa-added', 'sa-added', 'sa-larval', 'sa-added', 'sa-flushed'], 'each notification exactly once');
    p.c.close();
  });

  test('D07 an ADD request echoed from another socket (no LIFETIME_CURRENT) is not an SA event', async () => {
    const k = new FakePfkeyKernel();
    const p = await client(k, { promiscuous: true });
    const echoedAdd = F.message({ type: C.SADB_ADD, satype: 3, seq: 1, pid: 4444 }, [
      F.saExt({ spi: 0x70, replay: 32, state: 1, auth: 5, encrypt: 12, flags: 0 }),
      F.address6Ext(5, F.MN_HOA),
      F.address6Ext(6, F.CN_ADDR),
      F.keyExt(8, 256, F.AUTH_KEY),
      F.keyExt(9, 128, F.ENC_KEY),
    ]);
    k.inject(p.sock, echoedAdd);
    await settle();
    assert.equal(p.events.length, 0);
    assert.equal(p.c.stats.requestEchoes, 1);
    p.c.close();
  });
});

describe('D07 duplicate window', () => {
  test('D07 an exact copy right after the original is a duplicate; after 4 other messages or 1 s it is not', () => {
    const r = new RecentMessages();
    const a = F.saNotify({ type: 3, seq: 1, pid: 1, spi: 1 });
    assert.equal(r.seen(a, 0), false);
    assert.equal(r.seen(Buffer.from(a), 10), true);
    for (let i = 2; i <= 5; i++) assert.equal(r.seen(F.saNotify({ type: 3, seq: i, pid: 1, spi: i }), 20), false);
    assert.equal(r.seen(Buffer.from(a), 30), false, 'pushed out of the window by 4 other messages');
    assert.equal(r.seen(Buffer.from(a), 1031), false, 'older than 1 s');
    const b = Buffer.from(a);
    b[b.length - 1] = b[b.length - 1]! ^ 1;
    assert.equal(r.seen(b, 1040), false, 'one differing octet is not a copy');
  });
});

describe('degradation without af_key', () => {
  const addonBuilt = existsSync(join(projectRoot(), 'native', 'build', 'Release', 'iro_native.node'));
  const afKeyLoaded = existsSync('/proc/net/pfkey');
  test(
    'socket(PF_KEY) failing with EAFNOSUPPORT is a PfkeyUnavailableError with a clear message',
    { skip: !addonBuilt ? 'native addon not built (npm run bootstrap)' : afKeyLoaded ? 'af_key is loaded on this kernel (see test/vm/pfkey-kernel.test.ts)' : false },
    async () => {
      assert.throws(
        () => openPfkeySocket(),
        (e: unknown) => {
          assert.ok(isPfkeyUnavailable(e));
          assert.equal(e.code, 'PFKEY_UNAVAILABLE');
          assert.equal(e.errno, 97);
          assert.match(e.message, /^PF_KEY not available \(af_key module not loaded\?\): socket\(AF_KEY=15, SOCK_RAW, PF_KEY_V2\) failed with EAFNOSUPPORT/);
          return true;
        },
      );
      await assert.rejects(PfkeyClient.open(), (e: unknown) => isPfkeyUnavailable(e));
    },
  );
});
