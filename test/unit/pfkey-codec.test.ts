// PF_KEY codec against fixtures built octet by octet (test/lib/pfkey-fixtures.ts) in the shapes
// Linux af_key sends: D01 (GETSPI/UPDATE/ADD/DELETE/EXPIRE/DUMP/REGISTER/X_SPDADD), round
// trips, request encodings as af_key parses them, unknown extensions, precise errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as C from '../../src/kernel/pfkey/constants.ts';
import { decodePfkeyMessage, tryDecodePfkeyMessage } from '../../src/kernel/pfkey/decode.ts';
import { encodePfkeyMessage } from '../../src/kernel/pfkey/encode.ts';
import { PfkeyDecodeError, PfkeyError } from '../../src/kernel/pfkey/errors.ts';
import { classifyMessage } from '../../src/kernel/pfkey/events.ts';
import { KeyMaterial } from '../../src/kernel/pfkey/key-material.ts';
import {
  addRequest,
  deleteRequest,
  getspiRequest,
  migrateRequest,
  promiscRequest,
  spdAddRequest,
  spdDeleteRequest,
} from '../../src/kernel/pfkey/requests.ts';
import { saInfo } from '../../src/kernel/pfkey/sa-info.ts';
import { formatIPv6At } from '../../src/kernel/pfkey/sockaddr.ts';
import { formatIPv6 } from '../../src/common/ipv6.ts';
import * as F from '../lib/pfkey-fixtures.ts';

const HOA = '2001:db8:1::10';
const CN = '2001:db8:2::20';

function expectDecodeError(buf: Buffer, pattern: RegExp, offset?: number): void {
  assert.throws(
    () => decodePfkeyMessage(buf),
    (e: unknown) => {
      assert.ok(e instanceof PfkeyDecodeError, `expected PfkeyDecodeError, got ${String(e)}`);
      assert.match(e.message, pattern);
      assert.equal(e.code, 'PFKEY_MALFORMED');
      if (offset !== undefined) assert.equal(e.offset, offset);
      return true;
    },
  );
}

describe('D01 decoding Linux-shaped fixtures', () => {
  test('D01 SADB_ADD notification: header, SA (spi network order), lifetimes, addresses, keys, X_SA2', () => {
    const buf = F.saNotify({ type: C.SADB_ADD, seq: 17, pid: 4321, spi: 0x0000c001, reqid: 0x1234 });
    const m = decodePfkeyMessage(buf);
    assert.equal(m.version, 2);
    assert.equal(m.type, C.SADB_ADD);
    assert.equal(m.satype, C.SADB_SATYPE_ESP);
    assert.equal(m.errno, 0);
    assert.equal(m.seq, 17);
    assert.equal(m.pid, 4321);
    assert.equal(m.length, buf.length);
    assert.equal(buf.readUInt16LE(4) * 8, buf.length);
    assert.deepEqual(m.ext.sa, { spi: 0xc001, replay: 32, state: C.SADB_SASTATE_MATURE, auth: 5, encrypt: 12, flags: 0 });
    assert.deepEqual(m.ext.lifetimeHard, { allocations: 0, bytes: 0n, addtime: 3600n, usetime: 0n });
    assert.deepEqual(m.ext.lifetimeSoft, { allocations: 0, bytes: 0n, addtime: 3000n, usetime: 0n });
    assert.deepEqual(m.ext.lifetimeCurrent, { allocations: 7, bytes: 1234n, addtime: 1700000000n, usetime: 1700000005n });
    assert.equal(m.ext.src?.addr.address, HOA);
    assert.equal(m.ext.src?.prefixlen, 128);
    assert.equal(m.ext.src?.proto, 0, 'Linux SA addresses carry no protocol (DIGEST 2.1.5 item 4)');
    assert.equal(m.ext.dst?.addr.address, CN);
    assert.equal(m.ext.keyAuth?.bits, 256);
    assert.deepEqual([...m.ext.keyAuth!.key.reveal()], [...F.AUTH_KEY]);
    assert.equal(m.ext.keyEncrypt?.bits, 128);
    assert.deepEqual([...m.ext.keyEncrypt!.key.reveal()], [...F.ENC_KEY]);
    assert.deepEqual(m.ext.sa2, { mode: C.IPSEC_MODE_TRANSPORT, reserved1: 0, reserved2: 0, sequence: 0, reqid: 0x1234 });
    assert.deepEqual(m.order, [1, 3, 4, 2, 5, 6, 8, 9, 19], 'wire order kept (Linux puts HARD/SOFT before CURRENT)');
    const c = classifyMessage(m);
    assert.ok('event' in c && c.event.kind === 'sa-added');
    const sa = saInfo(m)!;
    assert.equal(sa.proto, 50);
    assert.equal(sa.spi, 0xc001);
    assert.equal(sa.mode, 'transport');
    assert.equal(sa.reqid, 0x1234);
    assert.equal(sa.selector, undefined, 'no ADDRESS_PROXY: no selector');
  });

  test('D01 SADB_UPDATE and SADB_DELETE notifications decode to sa-updated / sa-deleted', () => {
    const up = decodePfkeyMessage(F.saNotify({ type: C.SADB_UPDATE, seq: 3, pid: 9, spi: 0x200 }));
    const del = decodePfkeyMessage(F.saNotify({ type: C.SADB_DELETE, seq: 4, pid: 9, spi: 0x200, state: 3 }));
    const cu = classifyMessage(up);
    const cd = classifyMessage(del);
    assert.ok('event' in cu && cu.event.kind === 'sa-updated');
    assert.ok('event' in cd && cd.event.kind === 'sa-deleted');
    assert.equal(del.ext.sa?.state, C.SADB_SASTATE_DEAD);
  });

  test('D01 SADB_GETSPI reply (larval SA, BROADCAST_ONE) decodes to sa-larval', () => {
    const m = decodePfkeyMessage(
      F.saNotify({ type: C.SADB_GETSPI, seq: 5, pid: 77, spi: 0x0abcdef0, state: C.SADB_SASTATE_LARVAL, keys: false, src: F.CN_ADDR, dst: F.MN_HOA }),
    );
    assert.equal(m.ext.sa?.spi, 0x0abcdef0);
    assert.equal(m.ext.keyAuth, undefined);
    const c = classifyMessage(m);
    assert.ok('event' in c && c.event.kind === 'sa-larval');
    assert.equal(c.event.kind === 'sa-larval' && c.event.sa.dst, HOA);
  });

  test('D01 SADB_EXPIRE hard (LIFETIME_HARD, seq 0, pid 0) and soft (LIFETIME_SOFT)', () => {
    const hard = decodePfkeyMessage(F.expireNotify(true, 0x1001));
    const soft = decodePfkeyMessage(F.expireNotify(false, 0x1002));
    assert.equal(hard.seq, 0);
    assert.equal(hard.pid, 0);
    assert.ok(hard.ext.lifetimeHard && !hard.ext.lifetimeSoft);
    assert.ok(soft.ext.lifetimeSoft && !soft.ext.lifetimeHard);
    assert.equal(hard.ext.keyAuth, undefined, 'EXPIRE carries no keys');
    const ch = classifyMessage(hard);
    const cs = classifyMessage(soft);
    assert.ok('event' in ch && ch.event.kind === 'sa-expired' && ch.event.hard === true && ch.event.sa.spi === 0x1001);
    assert.ok('event' in cs && cs.event.kind === 'sa-expired' && cs.event.hard === false && cs.event.sa.spi === 0x1002);
  });

  test('D01 SADB_DUMP sequence: seq count+1 then the last message with seq 0; not notifications', () => {
    const msgs = [2, 3, 0].map((seq, i) => decodePfkeyMessage(F.saNotify({ type: C.SADB_DUMP, seq, pid: 55, spi: 0x300 + i })));
    assert.deepEqual(msgs.map((m) => m.seq), [2, 3, 0]);
    assert.deepEqual(msgs.map((m) => m.ext.sa!.spi), [0x300, 0x301, 0x302]);
    for (const m of msgs) assert.deepEqual(classifyMessage(m), { ignored: 'not-a-notification' });
  });

  test('D01 SADB_REGISTER reply lists the supported algorithms', () => {
    const m = decodePfkeyMessage(F.registerReply(8, 99));
    assert.equal(m.type, C.SADB_REGISTER);
    assert.deepEqual(m.ext.supportedAuth?.algs.map((a) => [a.id, a.minbits, a.maxbits]), [[3, 160, 160], [5, 256, 256]]);
    assert.deepEqual(m.ext.supportedEncrypt?.algs, [{ id: 12, ivlen: 8, minbits: 128, maxbits: 256, reserved: 0 }]);
  });

  test('D01 SADB_X_SPDADD notification: selector with proto 135, policy + template, refcount in sadb_msg_reserved', () => {
    const m = decodePfkeyMessage(F.spdAddNotify(11, 22, 0x101, 2));
    assert.equal(m.reserved, 2);
    assert.equal(m.ext.src?.proto, 135);
    assert.deepEqual(m.ext.policy, {
      type: C.IPSEC_POLICY_IPSEC,
      dir: C.IPSEC_DIR_OUTBOUND,
      reserved: 0,
      id: 0x101,
      priority: 1000,
      requests: [{ proto: 50, mode: 1, level: 3, reqid: 7, reserved1: 0, reserved2: 0, length: 16 }],
    });
    const c = classifyMessage(m);
    assert.ok('event' in c && c.event.kind === 'policy-added');
    if ('event' in c && c.event.kind === 'policy-added') {
      assert.equal(c.event.policy.dir, 'out');
      assert.equal(c.event.policy.proto, 135);
      assert.deepEqual(c.event.policy.templates, [{ proto: 50, mode: 'transport', level: 3, reqid: 7 }]);
    }
  });

  test('D01 tunnel-mode ipsecrequest carries its sockaddr pair', () => {
    const buf = F.message({ type: C.SADB_X_SPDADD, satype: 0, seq: 1, pid: 1 }, [
      F.address6Ext(5, F.MN_HOA),
      F.address6Ext(6, F.CN_ADDR),
      F.lifetimeExt(2, { allocations: 0, bytes: 0n, addtime: 0n, usetime: 0n }),
      F.policyExt({ type: 2, dir: 1, id: 8, priority: 0, requests: [{ proto: 50, mode: 2, level: 2, reqid: 0, tunnel6: { src: F.CN_ADDR, dst: F.MN_HOA } }] }),
    ]);
    const rq = decodePfkeyMessage(buf).ext.policy!.requests[0]!;
    assert.equal(rq.length, 72);
    assert.equal(rq.endpoints?.src.address, CN);
    assert.equal(rq.endpoints?.dst.address, HOA);
  });

  test('D01 IPv4 addresses (sockaddr_in, 24-octet extension)', () => {
    const buf = F.message({ type: C.SADB_DELETE, satype: 3, seq: 1, pid: 2 }, [
      F.saExt({ spi: 0x1234, replay: 0, state: 0, auth: 0, encrypt: 0, flags: 0 }),
      F.address4Ext(5, F.hexBytes('c0000201')),
      F.address4Ext(6, F.hexBytes('c6336401'), { port: 500 }),
    ]);
    const m = decodePfkeyMessage(buf);
    assert.deepEqual(m.ext.src?.addr, { family: 'inet', address: '192.0.2.1', port: 0 });
    assert.deepEqual(m.ext.dst?.addr, { family: 'inet', address: '198.51.100.1', port: 500 });
  });
});

describe('round trips', () => {
  const fixtures: [string, Buffer][] = [
    ['ADD', F.saNotify({ type: 3, seq: 1, pid: 2, spi: 0x1000 })],
    ['UPDATE', F.saNotify({ type: 2, seq: 1, pid: 2, spi: 0x1000 })],
    ['GETSPI', F.saNotify({ type: 1, seq: 1, pid: 2, spi: 0x1000, keys: false })],
    ['EXPIRE hard', F.expireNotify(true, 0x99)],
    ['EXPIRE soft', F.expireNotify(false, 0x99)],
    ['REGISTER', F.registerReply(1, 2)],
    ['SPDADD', F.spdAddNotify(1, 2)],
    ['GETSPI echo', F.getspiRequestEcho(1, 2)],
    ['error', F.errorReply(3, 3, 1, 2, 17)],
  ];
  for (const [name, buf] of fixtures) {
    test(`D01 encode(decode(${name})) reproduces the kernel bytes`, () => {
      assert.deepEqual(encodePfkeyMessage(decodePfkeyMessage(buf)), buf);
    });
  }

  test('D01 decode(encode(request)) gives back the request, for every builder', () => {
    const env = { seq: 42, pid: 4242 };
    const key = (n: number) => new KeyMaterial(Buffer.alloc(n, 0x5a));
    const requests = [
      getspiRequest(env, { satype: 3, src: CN, dst: HOA, range: { min: 0x1000, max: 0x1fff }, mode: 'transport', reqid: 9 }),
      addRequest(env, {
        satype: 3, spi: 0x1001, src: HOA, dst: CN, mode: 'transport', reqid: 5,
        auth: { alg: C.SADB_X_AALG_SHA2_256HMAC, key: key(32) }, enc: { alg: C.SADB_X_EALG_AESCBC, key: key(16) },
        hard: { addtime: 3600 }, soft: { addtime: 3000 },
      }),
      addRequest(env, { satype: 2, spi: 0x1002, src: HOA, dst: CN, auth: { alg: 3, key: key(20) } }, true),
      deleteRequest(env, { satype: 3, spi: 0x1001, src: HOA, dst: CN }),
      spdAddRequest(env, {
        dir: 'out', src: { address: HOA }, dst: { address: CN }, proto: 135, priority: 100,
        templates: [{ proto: 50, mode: 'transport', reqid: 5 }, { proto: 50, mode: 'tunnel', tunnel: { src: HOA, dst: CN } }],
      }),
      spdDeleteRequest(env, { dir: 'in', src: { address: CN }, dst: { address: HOA, prefixlen: 64 } }),
      migrateRequest(env, {
        selector: { dir: 'out', src: { address: HOA }, dst: { address: CN } },
        bundles: [{ proto: 50, mode: 'tunnel', reqid: 3, old: { src: '2001:db8:9::1', dst: CN }, new: { src: '2001:db8:9::2', dst: CN } }],
        kmaddress: { local: '2001:db8:9::2', remote: CN },
      }),
      promiscRequest(env, true),
    ];
    for (const r of requests) {
      const bytes = encodePfkeyMessage(r);
      const back = decodePfkeyMessage(bytes);
      assert.equal(back.type, r.type);
      assert.equal(back.seq, 42);
      assert.equal(back.pid, 4242);
      assert.deepEqual(encodePfkeyMessage(back), bytes, `type ${r.type}`);
    }
  });
});

describe('requests are shaped as af_key parses them', () => {
  const env = { seq: 7, pid: 8 };

  test('GETSPI: src/dst of one family, SPIRANGE host order, X_SA2 only when mode/reqid given', () => {
    const m = decodePfkeyMessage(encodePfkeyMessage(getspiRequest(env, { satype: 3, src: CN, dst: HOA, range: { min: 0x100, max: 0x200 } })));
    assert.equal(m.type, C.SADB_GETSPI);
    assert.equal(m.ext.sa, undefined, 'a GETSPI request has no SA (which is how echoes are told apart, D07)');
    assert.deepEqual(m.ext.spirange, { min: 0x100, max: 0x200, reserved: 0 });
    assert.equal(m.ext.sa2, undefined);
    assert.throws(() => getspiRequest(env, { satype: 3, src: CN, dst: '192.0.2.1' }), /different families/);
    assert.throws(() => getspiRequest(env, { satype: 3, src: CN, dst: HOA, range: { min: 5, max: 4 } }), /min 0x5 > max 0x4/);
  });

  test('ADD: SA state MATURE, both lifetimes or none, ESP always has KEY_ENCRYPT (0 bits for NULL)', () => {
    const nul = decodePfkeyMessage(encodePfkeyMessage(addRequest(env, { satype: 3, spi: 0x300, src: HOA, dst: CN, auth: { alg: 3, key: new KeyMaterial(Buffer.alloc(20, 1)) } })));
    assert.equal(nul.ext.sa?.state, C.SADB_SASTATE_MATURE);
    assert.equal(nul.ext.sa?.encrypt, C.SADB_EALG_NULL);
    assert.equal(nul.ext.keyEncrypt?.bits, 0);
    assert.equal(nul.ext.lifetimeHard, undefined);
    const withHard = decodePfkeyMessage(encodePfkeyMessage(addRequest(env, { satype: 3, spi: 0x300, src: HOA, dst: CN, hard: { addtime: 3 } })));
    assert.ok(withHard.ext.lifetimeHard && withHard.ext.lifetimeSoft, 'af_key rejects HARD without SOFT');
    assert.equal(withHard.ext.lifetimeHard.addtime, 3n);
    assert.throws(() => addRequest(env, { satype: 3, spi: 1, src: HOA, dst: CN, enc: { alg: 12 } }), /needs an encryption key/);
    assert.throws(() => addRequest(env, { satype: 2, spi: 1, src: HOA, dst: CN }), /AH SA needs an authentication key/);
    assert.throws(() => addRequest(env, { satype: 1, spi: 1, src: HOA, dst: CN }), /not an SA type/);
  });

  test('SPDADD: reqid only with level unique and <= 0x3fff, tunnel endpoints only in tunnel mode', () => {
    const base = { dir: 'out' as const, src: { address: HOA }, dst: { address: CN } };
    assert.throws(() => spdAddRequest(env, { ...base, templates: [{ proto: 50, mode: 'transport', reqid: 0x4000 }] }), /IPSEC_MANUAL_REQID_MAX/);
    assert.throws(() => spdAddRequest(env, { ...base, templates: [{ proto: 50, mode: 'transport', level: 'require', reqid: 3 }] }), /level "unique"/);
    assert.throws(() => spdAddRequest(env, { ...base, templates: [{ proto: 50, mode: 'tunnel' }] }), /tunnel endpoints/);
    assert.throws(() => spdAddRequest(env, { ...base, action: 'ipsec' }), /at least one template/);
    const m = decodePfkeyMessage(encodePfkeyMessage(spdAddRequest(env, { ...base, templates: [{ proto: 50, mode: 'transport', reqid: 5 }] })));
    assert.equal(m.ext.src?.proto, C.IPSEC_ULPROTO_ANY);
    assert.equal(m.ext.policy?.requests[0]?.level, C.IPSEC_LEVEL_UNIQUE);
  });
});

describe('unknown extensions and malformed messages', () => {
  test('D01 an unknown extension type is skipped and recorded with its offset and length', () => {
    const buf = F.message({ type: C.SADB_ADD, satype: 3, seq: 1, pid: 1 }, [
      F.saExt({ spi: 0x42, replay: 0, state: 1, auth: 0, encrypt: 0, flags: 0 }),
      F.rawExt(40, 24),
      F.address6Ext(5, F.MN_HOA),
    ]);
    const m = decodePfkeyMessage(buf);
    assert.deepEqual(m.unknown, [{ type: 40, offset: 32, length: 24 }]);
    assert.equal(m.ext.sa?.spi, 0x42);
    assert.equal(m.ext.src?.addr.address, HOA);
  });

  test('short header, length mismatch, truncated/zero-length/overlong extensions, duplicates: precise errors', () => {
    const good = F.saNotify({ type: 3, seq: 1, pid: 1, spi: 5 });
    expectDecodeError(good.subarray(0, 10), /10 octets is shorter than the 16-octet sadb_msg header/, 0);
    expectDecodeError(good.subarray(0, 24), /sadb_msg_len is \d+ \(\d+ octets\) but the message has 24 octets/, 4);

    const zero = Buffer.from(good);
    zero.writeUInt16LE(0, 16);
    expectDecodeError(zero, /zero-length extension \(type 1\) at offset 16/, 16);

    const over = Buffer.from(good);
    over.writeUInt16LE(200, 16);
    expectDecodeError(over, /extension SA \(type 1\) at offset 16 claims 1600 octets, only \d+ left/, 16);

    const trunc = F.message({ type: 3, satype: 3, seq: 1, pid: 1 }, [new Uint8Array(8)]);
    trunc.writeUInt16LE(1, 16); // 8-octet ext of type 0
    expectDecodeError(trunc, /extension type 0 \(SADB_EXT_RESERVED\) at offset 16/);

    const small = F.message({ type: 3, satype: 3, seq: 1, pid: 1 }, [F.rawExt(1, 8)]);
    expectDecodeError(small, /extension SA at offset 16 is 8 octets, needs at least 16/);

    const dup = F.message({ type: 3, satype: 3, seq: 1, pid: 1 }, [F.sa2Ext(1, 1), F.sa2Ext(1, 2)]);
    expectDecodeError(dup, /duplicate extension X_SA2 at offset 32/, 32);

    const badFam = F.address6Ext(5, F.MN_HOA);
    badFam[8] = 7;
    expectDecodeError(F.message({ type: 3, satype: 3, seq: 1, pid: 1 }, [badFam]), /ADDRESS_SRC at offset 16.*unsupported sockaddr family 7/);

    const badPrefix = F.address6Ext(5, F.MN_HOA, { prefixlen: 129 });
    expectDecodeError(F.message({ type: 3, satype: 3, seq: 1, pid: 1 }, [badPrefix]), /prefix length 129 exceeds 128/);

    const shortKey = F.keyExt(8, 64, new Uint8Array(8));
    shortKey.set([0x00, 0x02], 4); // 512 bits in an 16-octet extension
    expectDecodeError(F.message({ type: 3, satype: 3, seq: 1, pid: 1 }, [shortKey]), /KEY_AUTH at offset 16: 512 key bits need 72 octets, extension has 16/);

    const badRq = F.policyExt({ type: 2, dir: 2, id: 1, priority: 0, requests: [{ proto: 50, mode: 1, level: 2, reqid: 0 }] });
    badRq.set([0x08, 0x00], 16); // ipsecrequest_len 8 < 16
    expectDecodeError(F.message({ type: 14, satype: 0, seq: 1, pid: 1 }, [badRq]), /ipsecrequest at offset 32 has length 8, must be 16\.\.16/);

    const badProp = F.rawExt(13, 16);
    expectDecodeError(F.message({ type: 6, satype: 3, seq: 1, pid: 1 }, [badProp]), /PROPOSAL at offset 16: 8 octets after the header are not a whole number of 72-octet sadb_comb/);
  });

  test('tryDecode returns the error instead of throwing', () => {
    const r = tryDecodePfkeyMessage(Buffer.alloc(3));
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.error instanceof PfkeyDecodeError);
  });

  test('decode-only extensions (SENSITIVITY, X_KMPRIVATE) decode to their size and refuse to encode', () => {
    const m = decodePfkeyMessage(F.message({ type: 6, satype: 3, seq: 1, pid: 1 }, [F.rawExt(12, 24), F.rawExt(17, 16)]));
    assert.deepEqual(m.ext.sensitivity, { length: 24 });
    assert.equal(m.ext.kmprivate?.length, 16);
    assert.throws(() => encodePfkeyMessage(m), (e: unknown) => e instanceof PfkeyError && /SENSITIVITY is decoded as its size only/.test(e.message));
  });
});

describe('address text', () => {
  test('formatIPv6At gives the same RFC 5952 text as common/ipv6 formatIPv6 (20000 addresses, zero runs favoured)', () => {
    let x = 0x9e3779b9;
    const next = () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    };
    const b = Buffer.alloc(20);
    for (let i = 0; i < 20000; i++) {
      for (let w = 0; w < 8; w++) b.writeUInt16BE(next() % 3 === 0 ? next() & 0xffff : 0, 2 + 2 * w);
      assert.equal(formatIPv6At(b, 2), formatIPv6(b.subarray(2, 18)), b.subarray(2, 18).toString('hex'));
    }
    for (const hex of ['00000000000000000000000000000000', '00000000000000000000000000000001', '20010db8000000010000000000000000', 'fe800000000000000000000000000001']) {
      const a = Buffer.from(hex, 'hex');
      assert.equal(formatIPv6At(a, 0), formatIPv6(a));
    }
  });
});
