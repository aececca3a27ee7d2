// The Internet checksum (src/common/checksum.ts) that the MH checksum (A02) is built on, checked
// against RFC 1071's worked example and a naive reference written differently (BigInt over the
// whole concatenated pseudo-header + payload). scapy's checksums are checked in mh-codec-scapy.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  foldOnesComplement,
  internetChecksum,
  ipv6UpperLayerChecksum,
  ipv6UpperLayerChecksumOk,
  OnesComplementSum,
} from '../../src/common/checksum.ts';
import { parseIPv6 } from '../../src/common/ipv6.ts';
import { encodeMh, mhChecksum, verifyMhChecksum, writeMhChecksum } from '../../src/mip6/codec/index.ts';

/** Deterministic test data (xorshift32); not a nonce source. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** RFC 1071 by the book: sum every 16-bit word of the padded byte string, fold, complement. */
function referenceChecksum(bytes: Uint8Array): number {
  let sum = 0n;
  for (let i = 0; i < bytes.length; i += 2) sum += BigInt((bytes[i]! << 8) | (bytes[i + 1] ?? 0));
  while (sum >> 16n) sum = (sum & 0xffffn) + (sum >> 16n);
  return Number(~sum & 0xffffn);
}

function pseudoHeader(src: Uint8Array, dst: Uint8Array, length: number, nh: number): Buffer {
  const p = Buffer.alloc(40);
  Buffer.from(src).copy(p, 0);
  Buffer.from(dst).copy(p, 16);
  p.writeUInt32BE(length, 32);
  p[39] = nh;
  return p;
}

describe('Internet checksum (RFC 1071)', () => {
  test('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2', () => {
    const data = Buffer.from('0001f203f4f5f6f7', 'hex');
    assert.equal(new OnesComplementSum().add(data).folded(), 0xddf2);
    assert.equal(internetChecksum(data), 0x220d);
  });
  test('folding handles repeated carries', () => {
    assert.equal(foldOnesComplement(0x1fffe), 0xffff);
    assert.equal(foldOnesComplement(0x12345678), 0x68ac);
    // 0xffff is one's-complement zero: any number of them still sums to 0xffff.
    assert.equal(foldOnesComplement(0xffff * 70000), 0xffff);
  });
  test('chunked sums equal whole sums, whatever the (odd) split points', () => {
    const rnd = prng(7);
    for (let i = 0; i < 500; i++) {
      const data = Buffer.alloc(rnd() % 200);
      for (let j = 0; j < data.length; j++) data[j] = rnd() & 0xff;
      const cuts = [0, rnd() % (data.length + 1), rnd() % (data.length + 1), data.length].sort((a, b) => a - b);
      const chunks = cuts.slice(1).map((c, k) => data.subarray(cuts[k]!, c));
      assert.equal(internetChecksum(...chunks), referenceChecksum(data), `length ${data.length} cuts ${cuts}`);
    }
  });
  test('a large buffer (1 MiB of 0xff) does not lose precision', () => {
    const data = Buffer.alloc(1 << 20, 0xff);
    assert.equal(internetChecksum(data), referenceChecksum(data));
  });
  test('addWord at an odd offset is refused (it would misalign the sum)', () => {
    assert.throws(() => new OnesComplementSum().add(Buffer.from([1])).addWord(1), /odd byte offset/);
  });
});

describe('A02 IPv6 pseudo-header checksum', () => {
  test('A02 ipv6UpperLayerChecksum equals the by-the-book reference over pseudo-header + payload', () => {
    const rnd = prng(135);
    for (let i = 0; i < 300; i++) {
      const src = Buffer.alloc(16);
      const dst = Buffer.alloc(16);
      const payload = Buffer.alloc(8 * (1 + (rnd() % 20)));
      for (const b of [src, dst, payload]) for (let j = 0; j < b.length; j++) b[j] = rnd() & 0xff;
      payload.writeUInt16BE(0, 4);
      const expected = referenceChecksum(Buffer.concat([pseudoHeader(src, dst, payload.length, 135), payload]));
      assert.equal(ipv6UpperLayerChecksum(src, dst, 135, payload), expected);
      assert.equal(mhChecksum(payload, { src, dst }), expected);
      writeMhChecksum(payload, { src, dst });
      assert.ok(verifyMhChecksum(payload, { src, dst }));
      assert.ok(ipv6UpperLayerChecksumOk(src, dst, 135, payload));
      // Same bytes as ICMPv6 (58) must not verify as MH: the next header is in the sum.
      assert.equal(ipv6UpperLayerChecksumOk(src, dst, 58, payload), false);
    }
  });
  test('A02 mhChecksum ignores whatever the Checksum field holds', () => {
    const src = parseIPv6('2001:db8:1::100');
    const dst = parseIPv6('2001:db8:2::1');
    const mh = encodeMh({ kind: 'bu', sequence: 1, ack: true, lifetime: 60 });
    const c = mhChecksum(mh, { src, dst });
    mh.writeUInt16BE(0xabcd, 4);
    assert.equal(mhChecksum(mh, { src, dst }), c);
  });
  test('A02 a wrong address size is a clear error', () => {
    assert.throws(() => ipv6UpperLayerChecksum(Buffer.alloc(4), Buffer.alloc(16), 135, Buffer.alloc(8)), /source address must be 16 bytes, got 4/);
  });
});
