// The XFRM codec's allocation-free paths against independent oracles: the IPv6 text parser of
// the encoder against node:net's isIPv6 and common/ipv6.ts, the decoder's address cache against
// formatIPv6 with colliding and repeated addresses, and the algorithm-name cache with more
// names than it keeps.
import test from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { randomBytes } from 'node:crypto';
import { writeXfrmAddress, readXfrmAddress } from '../../src/kernel/xfrm/address.ts';
import { formatIPv6, parseIPv6 } from '../../src/common/ipv6.ts';
import { encodeMessage } from '../../src/kernel/netlink/message.ts';
import { decodeXfrmMessage, encodeSaPayload } from '../../src/kernel/xfrm/codec.ts';
import * as C from '../../src/kernel/xfrm/constants.ts';
import { SecretKey } from '../../src/kernel/xfrm/secret-key.ts';

const AF_INET6 = 10;

function randomText(): string {
  const r = () => randomBytes(1)[0]!;
  if (r() % 3 === 0) return formatIPv6(randomBytes(16));
  let s = r() % 4 === 0 ? '::' : '';
  const groups = 1 + (r() % 10);
  for (let g = 0; g < groups; g++) {
    const digits = r() % 6;
    for (let d = 0; d < digits; d++) s += '0123456789abcdefABCDEFg'[r() % 23];
    if (g < groups - 1) s += r() % 8 === 0 ? '::' : ':';
  }
  if (r() % 6 === 0) s += '::';
  if (r() % 20 === 0) s += '%eth0';
  if (r() % 20 === 0) s = ` ${s}`;
  return s;
}

test('the encoder writes exactly the IPv6 texts node accepts (no zones), with the bytes common/ipv6 parses', () => {
  const fixed = ['::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8::', '1::2::3', ':::', ':1::2', '1::2:', '00001::', 'fFfF::A', 'fe80::1%eth0', ' ::1', '::ffff:192.0.2.1', '2001:db8::192.0.2.1'];
  let valid = 0;
  for (const t of [...fixed, ...Array.from({ length: 50_000 }, randomText)]) {
    const buf = Buffer.alloc(16);
    let ok = true;
    try {
      writeXfrmAddress(buf, 0, t, AF_INET6, 'test');
    } catch (e) {
      ok = false;
      assert.match((e as Error).message, /^test: ".*" is not an IPv6 address \(family AF_INET6\)$/);
    }
    const expected = t === '' || t === '::' ? true : isIPv6(t) && !t.includes('%');
    assert.equal(ok, expected, JSON.stringify(t));
    if (ok && t !== '') {
      assert.deepEqual(buf, parseIPv6(t), JSON.stringify(t));
      valid++;
    }
  }
  assert.ok(valid > 5000, `enough valid samples (${valid})`);
});

test('decoded addresses equal formatIPv6 through cache hits, misses and slot collisions', () => {
  const pool: Buffer[] = Array.from({ length: 2000 }, () => randomBytes(16));
  // a few with long zero runs, and the unspecified address
  pool.push(Buffer.alloc(16), parseIPv6('2001:db8::1'), parseIPv6('::1'), parseIPv6('fe80::'));
  for (let i = 0; i < 40_000; i++) {
    const b = pool[i % 7 === 0 ? i % 5 : randomBytes(2).readUInt16LE(0) % pool.length]!;
    const framed = Buffer.concat([Buffer.alloc(3), b, Buffer.alloc(1)]);
    assert.equal(readXfrmAddress(framed, 3, AF_INET6), formatIPv6(b));
  }
});

test('algorithm names decode right with more distinct names than the name cache keeps, including shared prefixes', () => {
  const names = [...Array.from({ length: 48 }, (_, i) => `alg-${i}`), 'hmac(sha256)', 'hmac(sha25)', 'hmac(sha2566)', 'cbc(aes)', 'x'.repeat(63)];
  for (let round = 0; round < 3; round++) {
    for (const name of names) {
      const key = SecretKey.from(randomBytes(16));
      const payload = encodeSaPayload({ id: { daddr: '2001:db8::2', spi: 0x100, proto: 50 }, saddr: '2001:db8::1', auth: { name, key, truncBits: 96 }, crypt: { name: `${name}-e`.slice(0, 63), key } });
      const bytes = encodeMessage({ type: C.XFRM_MSG_NEWSA, flags: 0, seq: 1, pid: 0 }, ...payload);
      const d = decodeXfrmMessage({ type: C.XFRM_MSG_NEWSA, flags: 0, seq: 1, pid: 0, payload: bytes.subarray(16) }, { withKeys: round === 1 });
      assert.ok(d.kind === 'newsa');
      assert.equal(d.sa.auth?.name, name);
      assert.equal(d.sa.auth?.truncBits, 96);
      assert.equal(d.sa.crypt?.name, `${name}-e`.slice(0, 63));
      assert.equal(d.sa.auth?.keyBits, 128);
      assert.equal(d.sa.auth?.key?.equals(key) ?? false, round === 1, 'keys only when asked');
    }
  }
});
