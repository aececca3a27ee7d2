import test from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { canonicalIPv6, formatIPv6, parseIPv6 } from '../../src/common/ipv6.ts';

test('IPv6 parsing agrees with node:net on valid and invalid forms', () => {
  const valid = ['::', '::1', '1::', '2001:db8::1', '2001:DB8:0:0:0:0:0:1', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '::ffff:192.0.2.1', '64:ff9b::10.0.0.1', '1:2:3:4:5:6:1.2.3.4', '2001:db8:0:1::', '0:0:0:0:0:0:0:0'];
  const invalid = ['', ':', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7', '::1.2.3', '::256.1.1.1', '1:', ':1', '2001:db8::1 extra', '1.2.3.4', '::01.2.3.4', '1:2:3:4:5:6:7::8'];
  for (const v of valid) {
    assert.ok(isIPv6(v), v);
    const b = parseIPv6(v);
    assert.equal(b.length, 16);
    assert.equal(canonicalIPv6(formatIPv6(b)), formatIPv6(b), v);
  }
  for (const v of invalid) {
    assert.equal(isIPv6(v), false, `node:net agrees that ${v} is invalid`);
    assert.throws(() => parseIPv6(v), /not an IPv6 address/, v);
  }
  assert.equal(parseIPv6('::ffff:192.0.2.1').toString('hex'), '00000000000000000000ffffc0000201');
  assert.equal(parseIPv6('2001:db8::1').toString('hex'), '20010db8000000000000000000000001');
  assert.equal(formatIPv6(parseIPv6('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1', 'RFC 5952: first longest run');
  assert.equal(formatIPv6(parseIPv6('2001:0:0:1:0:0:0:1')), '2001:0:0:1::1');
});

test('IPv6 parsing: randomized round trip against node:net', () => {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.alloc(16);
    for (let k = 0; k < 16; k++) b[k] = rnd(4) === 0 ? rnd(256) : 0;
    const t = formatIPv6(b);
    assert.ok(isIPv6(t), t);
    assert.deepEqual(parseIPv6(t), b, t);
    assert.deepEqual(parseIPv6(t.toUpperCase()), b);
  }
});
