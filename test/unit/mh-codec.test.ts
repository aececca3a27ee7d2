// MH codec: the DIGEST Part 3 §A checks (A01, A03-A14) on our own encoder and hand-built bytes.
// Golden bytes from scapy are in mh-codec-scapy.test.ts, random malformed input in
// mh-codec-fuzz.test.ts, the checksum arithmetic in mh-codec-checksum.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseIPv6 } from '../../src/common/ipv6.ts';
import {
  aotsStatus,
  BA_STATUS_TEXT,
  baStatusText,
  beStatusText,
  decodeMh,
  DEFAULT_MH_CODEC_CONFIG,
  encodeMh,
  findOption,
  generateNonce,
  ianaMhTypeCollisions,
  isBindingAccepted,
  makeMhCodecConfig,
  MAX_LIFETIME_SECONDS,
  MH_DECODE_REASONS,
  secondsToLifetimeUnits,
  verifyMhChecksum,
  type DecodeMhResult,
  type MhMessage,
  type MhMessageInput,
} from '../../src/mip6/codec/index.ts';

const HOA = parseIPv6('2001:db8:1::100');
const CN = parseIPv6('2001:db8:2::1');
const COA = parseIPv6('2001:db8:3::100');
const NONCE = Buffer.from('0123456789abcdef', 'hex');

function ok(r: DecodeMhResult): MhMessage {
  assert.ok(r.ok, `decode refused: ${!r.ok && `${r.reason} (${r.detail})`}`);
  return r.msg;
}
function reason(r: DecodeMhResult): string {
  return r.ok ? `ok:${r.msg.kind}` : r.reason;
}
/** An MH with a correct header around `body` (the octets after the Checksum field). */
function rawMh(mhType: number, body: number[] | Buffer): Buffer {
  const b = Buffer.from(body);
  if ((6 + b.length) % 8) throw new Error(`test bug: MH of ${6 + b.length} octets`);
  const mh = Buffer.alloc(6 + b.length);
  mh[0] = 59;
  mh[1] = mh.length / 8 - 1;
  mh[2] = mhType;
  b.copy(mh, 6);
  return mh;
}

/** One message of every kind, with options of every type and odd-sized unknown ones. */
const SAMPLES: MhMessageInput[] = [
  { kind: 'brr' },
  { kind: 'brr', options: [{ kind: 'unknown', type: 200, data: Buffer.from([1, 2, 3]) }] },
  { kind: 'hoti', homeInitCookie: Buffer.alloc(8, 1) },
  { kind: 'coti', careOfInitCookie: Buffer.alloc(8, 2) },
  { kind: 'hot', homeNonceIndex: 5, homeInitCookie: Buffer.alloc(8, 3), homeKeygenToken: Buffer.alloc(8, 4) },
  { kind: 'cot', careOfNonceIndex: 6, careOfInitCookie: Buffer.alloc(8, 5), careOfKeygenToken: Buffer.alloc(8, 6) },
  { kind: 'bu', sequence: 1, ack: true, home: true, lifetime: 1800 },
  { kind: 'bu', sequence: 2, ack: true, lifetime: 60, options: [{ kind: 'alternateCoa', address: COA }] },
  {
    kind: 'bu',
    sequence: 3,
    lifetime: 420,
    options: [
      { kind: 'nonceIndices', homeNonceIndex: 1, careOfNonceIndex: 2 },
      { kind: 'bindingAuthorizationData', authenticator: Buffer.alloc(12, 9) },
    ],
  },
  {
    kind: 'bu',
    sequence: 4,
    lifetime: 4,
    options: [
      { kind: 'unknown', type: 77, data: Buffer.alloc(1) },
      { kind: 'alternateCoa', address: COA },
      { kind: 'unknown', type: 78, data: Buffer.alloc(0) },
      { kind: 'nonce', nonce: NONCE },
      { kind: 'bindingRefreshAdvice', refreshInterval: 8 },
    ],
  },
  { kind: 'ba', status: 0, keyManagement: true, sequence: 1, lifetime: 1800 },
  { kind: 'ba', status: 129, sequence: 9, lifetime: 0, options: [{ kind: 'bindingRefreshAdvice', refreshInterval: 600 }] },
  { kind: 'be', status: 1, homeAddress: HOA },
  { kind: 'aoto' },
  { kind: 'aotc', nonce: NONCE },
  { kind: 'aotr', nonce: NONCE, options: [{ kind: 'unknown', type: 250, data: Buffer.alloc(5, 7) }] },
  { kind: 'aots', code: 0 },
  { kind: 'aots', code: 1 },
  { kind: 'unknown', mhType: 11, data: Buffer.alloc(10) },
];

describe('A01 MH framing', () => {
  test('A01 every encoded message: length multiple of 8, Header Len = len/8-1, Payload Proto 59, Reserved 0', () => {
    for (const m of SAMPLES) {
      const mh = encodeMh(m);
      assert.equal(mh.length % 8, 0, m.kind);
      assert.equal(mh[1], mh.length / 8 - 1, m.kind);
      assert.equal(mh[0], 59, m.kind);
      assert.equal(mh[3], 0, m.kind);
    }
  });
  test('A01 every sample round-trips through decode', () => {
    for (const m of SAMPLES) {
      const msg = ok(decodeMh(encodeMh(m)));
      assert.equal(msg.kind, m.kind);
      assert.deepStrictEqual(encodeMh(msg), encodeMh(m));
    }
  });
  test('A01 decode refuses bad framing with a precise reason', () => {
    const bu = encodeMh({ kind: 'bu', sequence: 1, lifetime: 4 });
    assert.equal(reason(decodeMh(Buffer.alloc(0))), 'too-short');
    assert.equal(reason(decodeMh(bu.subarray(0, 7))), 'too-short');
    assert.equal(reason(decodeMh(bu.subarray(0, 12))), 'truncated');
    assert.equal(reason(decodeMh(Buffer.concat([bu, Buffer.alloc(8)]))), 'trailing-data');
    const proto = Buffer.from(bu);
    proto[0] = 6;
    assert.equal(reason(decodeMh(proto)), 'bad-payload-proto');
    // BU needs 12 octets of fixed part, i.e. Header Len >= 1.
    assert.equal(reason(decodeMh(rawMh(5, [0, 0]))), 'too-short-for-type');
    assert.equal(reason(decodeMh(rawMh(7, Buffer.alloc(10)))), 'too-short-for-type');
  });
  test('A01 the header Reserved octet is ignored on reception', () => {
    const mh = encodeMh({ kind: 'ba', status: 0, sequence: 1, lifetime: 8 });
    mh[3] = 0xff;
    assert.deepStrictEqual(ok(decodeMh(mh)), ok(decodeMh(encodeMh({ kind: 'ba', status: 0, sequence: 1, lifetime: 8 }))));
  });
  test('A01 the checksum is left 0 for the kernel unless addresses are given, then it verifies', () => {
    const bare = encodeMh({ kind: 'aoto' });
    assert.equal(bare.readUInt16BE(4), 0);
    const filled = encodeMh({ kind: 'aoto' }, { checksum: { src: COA, dst: CN } });
    assert.notEqual(filled.readUInt16BE(4), 0);
    assert.ok(verifyMhChecksum(filled, { src: COA, dst: CN }));
    assert.ok(ok(decodeMh(filled, { verifyChecksum: { src: COA, dst: CN } })));
    assert.throws(() => decodeMh(filled, { verifyChecksum: { src: COA.subarray(0, 4), dst: CN } }), /16-byte/);
  });
  test('A01 a message too long for Header Len is refused by the encoder', () => {
    const options = Array.from({ length: 9 }, () => ({ kind: 'unknown' as const, type: 99, data: Buffer.alloc(255) }));
    assert.throws(() => encodeMh({ kind: 'brr', options }), /exceeds the maximum 2048/);
  });
  test('decoded values are copies: reusing the receive buffer does not change them', () => {
    const mh = encodeMh({ kind: 'aotc', nonce: NONCE });
    const msg = ok(decodeMh(mh));
    mh.fill(0xee);
    assert.deepStrictEqual(msg, { kind: 'aotc', nonce: NONCE, options: [] });
  });
});

describe('A03-A08 IRO messages', () => {
  test('A03 AOTO encodes to exactly 8 octets, MH Type 30, Header Len 0, Reserved 0x0000', () => {
    assert.deepStrictEqual(encodeMh({ kind: 'aoto' }), Buffer.from([59, 0, 30, 0, 0, 0, 0, 0]));
  });
  test('A04 an AOTO with a non-zero Reserved field is accepted and the field ignored', () => {
    for (const reserved of [0x0001, 0x8000, 0xbeef, 0xffff]) {
      const mh = rawMh(30, [reserved >> 8, reserved & 0xff]);
      assert.deepStrictEqual(ok(decodeMh(mh)), { kind: 'aoto' });
    }
  });
  test('A04 an AOTO carrying options (it should not) is accepted, options dropped', () => {
    const mh = rawMh(30, [0, 0, 1, 4, 0, 0, 0, 0, 88, 8, ...NONCE]);
    assert.deepStrictEqual(ok(decodeMh(mh)), { kind: 'aoto' });
  });
  test('A05 AOTC: 24 octets, Header Len 2, PadN at 8, Nonce type at 14 (= 6 mod 8), nonce at 16-23', () => {
    const mh = encodeMh({ kind: 'aotc', nonce: NONCE });
    assert.equal(mh.length, 24);
    assert.equal(mh[1], 2);
    assert.equal(mh[2], 31);
    assert.deepStrictEqual([...mh.subarray(6, 14)], [0, 0, 1, 4, 0, 0, 0, 0]);
    assert.equal(14 % 8, 6);
    assert.equal(mh[14], 88);
    assert.equal(mh[15], 8);
    assert.deepStrictEqual(mh.subarray(16, 24), NONCE);
  });
  test('A06 AOTR has the AOTC layout with MH Type 32; AOTC is 31, AOTS is 33', () => {
    const c = encodeMh({ kind: 'aotc', nonce: NONCE });
    const r = encodeMh({ kind: 'aotr', nonce: NONCE });
    assert.equal(r[2], 32);
    assert.deepStrictEqual(Buffer.concat([r.subarray(0, 2), r.subarray(3)]), Buffer.concat([c.subarray(0, 2), c.subarray(3)]));
    assert.equal(encodeMh({ kind: 'aots', code: 0 })[2], 33);
    assert.deepStrictEqual(ok(decodeMh(r)), { kind: 'aotr', nonce: NONCE, options: [] });
  });
  test('A07 AOTC/AOTR without a Nonce option are rejected as missing-nonce', () => {
    for (const t of [31, 32]) {
      assert.equal(reason(decodeMh(rawMh(t, [0, 0]))), 'missing-nonce');
      assert.equal(reason(decodeMh(rawMh(t, [0, 0, 1, 0, 7, 4, 1, 2, 3, 4, 1, 2, 0, 0, 0, 0, 0, 0]))), 'missing-nonce');
    }
  });
  test('A07 a Nonce option whose Length is not 8 is rejected (lengths 0-16)', () => {
    for (const t of [31, 32]) {
      for (let len = 0; len <= 16; len++) {
        if (len === 8) continue;
        // PadN(4) then the Nonce option at 14, then zero padding to a multiple of 8.
        const body = [0, 0, 1, 4, 0, 0, 0, 0, 88, len, ...Buffer.alloc(len, 0xab)];
        while ((body.length + 6) % 8) body.push(0);
        assert.equal(reason(decodeMh(rawMh(t, body))), 'bad-option-length', `type ${t} len ${len}`);
      }
    }
  });
  test('A05 nonceAfter places the Nonce after other options, still at 8n+6; out of range is refused', () => {
    const unknown = { kind: 'unknown' as const, type: 250, data: Buffer.alloc(2) };
    const mh = encodeMh({ kind: 'aotc', nonce: NONCE, options: [unknown], nonceAfter: 1 });
    // unknown option at 8 (4 octets), PadN(2) at 12, Nonce at 14.
    assert.deepStrictEqual([...mh.subarray(8, 16)], [250, 2, 0, 0, 1, 0, 88, 8]);
    assert.throws(() => encodeMh({ kind: 'aotc', nonce: NONCE, options: [unknown], nonceAfter: 2 }), /AOTC nonceAfter must be an integer 0-1/);
  });
  test('A07 the encoder refuses a nonce that is not 8 bytes, or a nonce passed as an option', () => {
    assert.throws(() => encodeMh({ kind: 'aotc', nonce: Buffer.alloc(7) }), /AOTC nonce must be 8 bytes, got 7 bytes/);
    assert.throws(() => encodeMh({ kind: 'aotr', nonce: NONCE, options: [{ kind: 'nonce', nonce: NONCE }] }), /"nonce" field/);
  });
  test('A08 AOTS puts Code in the high 4 bits of message octet 6; codes 0 and 1 round-trip', () => {
    for (const code of [0, 1]) {
      const mh = encodeMh({ kind: 'aots', code });
      assert.equal(mh.length, 8);
      assert.equal(mh[6], code << 4);
      assert.equal(mh[7], 0);
      assert.deepStrictEqual(ok(decodeMh(mh)), { kind: 'aots', code });
    }
    assert.equal(aotsStatus(0), 'aoto-not-allowed');
    assert.equal(aotsStatus(1), 'proof-valid');
  });
  test('A08 AOTS codes 2-15 decode as unknown without throwing; reserved bits ignored', () => {
    for (let code = 2; code <= 15; code++) {
      const msg = ok(decodeMh(rawMh(33, [(code << 4) | 0x0a, 0xbc])));
      assert.deepStrictEqual(msg, { kind: 'aots', code });
      assert.equal(aotsStatus(code), 'unknown');
    }
    assert.throws(() => encodeMh({ kind: 'aots', code: 16 }), /AOTS code must be an integer 0-15/);
  });
});

describe('A09 mobility options', () => {
  test('A09 unknown options in AOTC/AOTR are skipped and the Nonce still found; Pad1 and PadN honoured', () => {
    // unknown(200, 3 octets) at 8, Pad1 at 13, Nonce at 14.
    const withPad1 = rawMh(31, [0, 0, 200, 3, 1, 2, 3, 0, 88, 8, ...NONCE]);
    const msg = ok(decodeMh(withPad1));
    assert.deepStrictEqual(msg, {
      kind: 'aotc',
      nonce: NONCE,
      options: [{ kind: 'unknown', type: 200, data: Buffer.from([1, 2, 3]) }],
      nonceAfter: 1,
    });
    // The received order is kept, so the message re-encodes to the same octets (Pad1 included).
    assert.deepStrictEqual(encodeMh(msg), withPad1);
    // Six Pad1 then the Nonce; PadN with non-zero content (ignored) at the end.
    const pad1s = rawMh(32, [0, 0, 0, 0, 0, 0, 0, 0, 88, 8, ...NONCE, 1, 6, 9, 9, 9, 9, 9, 9]);
    assert.deepStrictEqual(ok(decodeMh(pad1s)), { kind: 'aotr', nonce: NONCE, options: [] });
  });
  test('A09 unknown options in BU/BA are skipped and AltCoA / BRA still found', () => {
    const bu = ok(decodeMh(encodeMh({
      kind: 'bu',
      sequence: 1,
      lifetime: 40,
      options: [
        { kind: 'unknown', type: 6, data: Buffer.alloc(18) },
        { kind: 'alternateCoa', address: COA },
        { kind: 'unknown', type: 255, data: Buffer.alloc(3) },
      ],
    })));
    assert.equal(bu.kind, 'bu');
    if (bu.kind === 'bu') assert.deepStrictEqual(findOption(bu.options, 'alternateCoa')?.address, COA);
    const ba = ok(decodeMh(rawMh(6, [0, 0x80, 0, 1, 0, 10, 150, 3, 1, 2, 3, 0, 2, 2, 0, 7, 1, 0])));
    assert.equal(ba.kind, 'ba');
    if (ba.kind === 'ba') assert.deepStrictEqual(findOption(ba.options, 'bindingRefreshAdvice'), { kind: 'bindingRefreshAdvice', refreshInterval: 28 });
  });
  test('A09 encoder alignment: AltCoA 8n+6, Nonce Indices 2n, BAD 8n+2, BRA 2n, IRO Nonce 8n+6', () => {
    const offsets = (mh: Buffer, start: number) => {
      const seen: Record<number, number> = {};
      for (let off = start; off < mh.length; ) {
        if (mh[off] === 0) { off++; continue; }
        seen[mh[off]!] = off;
        off += 2 + mh[off + 1]!;
      }
      return seen;
    };
    for (const lead of [0, 1, 2, 3, 4, 5, 6, 7]) {
      const leadOpt = lead === 0 ? [] : [{ kind: 'unknown' as const, type: 100, data: Buffer.alloc(lead - 1) }];
      const mh = encodeMh({
        kind: 'bu',
        sequence: 1,
        lifetime: 4,
        options: [
          ...leadOpt,
          { kind: 'alternateCoa', address: COA },
          { kind: 'unknown', type: 101, data: Buffer.alloc(lead) },
          { kind: 'nonceIndices', homeNonceIndex: 1, careOfNonceIndex: 2 },
          { kind: 'unknown', type: 102, data: Buffer.alloc(1) },
          { kind: 'bindingAuthorizationData', authenticator: Buffer.alloc(12) },
          { kind: 'unknown', type: 103, data: Buffer.alloc(1) },
          { kind: 'bindingRefreshAdvice', refreshInterval: 4 },
          { kind: 'unknown', type: 104, data: Buffer.alloc(lead) },
          { kind: 'nonce', nonce: NONCE },
        ],
      });
      const at = offsets(mh, 12);
      assert.equal(at[3]! % 8, 6, `AltCoA lead ${lead}`);
      assert.equal(at[4]! % 2, 0, `Nonce Indices lead ${lead}`);
      assert.equal(at[5]! % 8, 2, `BAD lead ${lead}`);
      assert.equal(at[2]! % 2, 0, `BRA lead ${lead}`);
      assert.equal(at[88]! % 8, 6, `Nonce lead ${lead}`);
      assert.equal(mh.length % 8, 0);
      assert.equal(ok(decodeMh(mh)).kind, 'bu');
    }
  });
  test('A09 known options with a wrong length or alignment are rejected; overruns are caught', () => {
    // AltCoA with Length 16 at offset 12 (not 8n+6).
    const misaligned = rawMh(5, [0, 1, 0, 0, 0, 1, 3, 16, ...COA, 1, 0]);
    assert.equal(reason(decodeMh(misaligned)), 'misaligned-option');
    // BRA with Length 4.
    assert.equal(reason(decodeMh(rawMh(6, [0, 0, 0, 1, 0, 1, 2, 4, 0, 1, 0, 0, 1, 4, 0, 0, 0, 0]))), 'bad-option-length');
    // Nonce Indices with Length 2.
    assert.equal(reason(decodeMh(rawMh(5, [0, 1, 0, 0, 0, 1, 4, 2, 0, 1]))), 'bad-option-length');
    // BAD with Length 16 (RFC 6275 authenticator is 96 bits).
    assert.equal(reason(decodeMh(rawMh(5, [0, 1, 0, 0, 0, 1, 1, 4, 0, 0, 0, 0, 5, 16, ...Buffer.alloc(16), 1, 2, 0, 0]))), 'bad-option-length');
    // An option type octet as the very last octet, with no Length.
    assert.equal(reason(decodeMh(rawMh(0, [0, 0, 1, 5, 0, 0, 0, 0, 0, 7]))), 'option-truncated');
    // A PadN whose Length runs one octet past the end.
    assert.equal(reason(decodeMh(rawMh(0, [0, 0, 1, 7, 0, 0, 0, 0, 0, 0]))), 'option-truncated');
  });
  test('A09 the encoder refuses options it cannot encode unambiguously', () => {
    const bu = (o: unknown) => encodeMh({ kind: 'bu', sequence: 1, lifetime: 4, options: [o as never] });
    assert.throws(() => bu({ kind: 'alternateCoa', address: Buffer.alloc(4) }), /Alternate Care-of Address must be 16 bytes/);
    assert.throws(() => bu({ kind: 'unknown', type: 3, data: Buffer.alloc(16) }), /known option type/);
    assert.throws(() => bu({ kind: 'unknown', type: 88, data: Buffer.alloc(8) }), /known option type/);
    assert.throws(() => bu({ kind: 'unknown', type: 1, data: Buffer.alloc(0) }), /known option type/);
    assert.throws(() => bu({ kind: 'unknown', type: 9, data: Buffer.alloc(256) }), /at most 255/);
    assert.throws(() => bu({ kind: 'nonceIndices', homeNonceIndex: 65536, careOfNonceIndex: 0 }), /Home Nonce Index/);
    assert.throws(() => bu({ kind: 'bindingAuthorizationData', authenticator: Buffer.alloc(16) }), /12 bytes/);
    assert.throws(() => bu({ kind: 'bogus' }), /unknown kind "bogus"/);
  });
});

describe('A10 configurable codes', () => {
  const cfg = makeMhCodecConfig({ mhType: { aoto: 40 }, nonceOptType: 99 });
  test('A10 defaults are AOTO 30, AOTC 31, AOTR 32, AOTS 33, Nonce option 88', () => {
    assert.deepStrictEqual(DEFAULT_MH_CODEC_CONFIG, { mhType: { aoto: 30, aotc: 31, aotr: 32, aots: 33 }, nonceOptType: 88 });
    assert.deepStrictEqual(makeMhCodecConfig(), DEFAULT_MH_CODEC_CONFIG);
  });
  test('A10 with mhType.aoto=40 and nonceOptType=99 the encoder and decoder use the new codes', () => {
    const aoto = encodeMh({ kind: 'aoto' }, { config: cfg });
    assert.equal(aoto[2], 40);
    assert.deepStrictEqual(ok(decodeMh(aoto, { config: cfg })), { kind: 'aoto' });
    const aotc = encodeMh({ kind: 'aotc', nonce: NONCE }, { config: cfg });
    assert.equal(aotc[2], 31);
    assert.equal(aotc[14], 99);
    assert.deepStrictEqual(ok(decodeMh(aotc, { config: cfg })), { kind: 'aotc', nonce: NONCE, options: [] });
  });
  test('A10 the old codes mean nothing under the new configuration', () => {
    const oldAoto = encodeMh({ kind: 'aoto' });
    assert.deepStrictEqual(ok(decodeMh(oldAoto, { config: cfg })), { kind: 'unknown', mhType: 30, data: Buffer.alloc(2) });
    // An AOTC with option 88 under nonceOptType 99: 88 is an unknown option, so no Nonce.
    assert.equal(reason(decodeMh(encodeMh({ kind: 'aotc', nonce: NONCE }), { config: cfg })), 'missing-nonce');
    // And type 40 under the defaults is just an unknown MH type.
    assert.equal(ok(decodeMh(encodeMh({ kind: 'aoto' }, { config: cfg }))).kind, 'unknown');
  });
  test('A10 a configuration that would make a code ambiguous is refused with a clear message', () => {
    assert.throws(() => makeMhCodecConfig({ mhType: { aoto: 31 } }), /mhType.aotc and mhType.aoto are both 31|mhType.aoto and mhType.aotc/);
    assert.throws(() => makeMhCodecConfig({ mhType: { aots: 5 } }), /RFC 6275 type "Binding Update"/);
    assert.throws(() => makeMhCodecConfig({ nonceOptType: 3 }), /RFC 6275 mobility option type/);
    assert.throws(() => makeMhCodecConfig({ nonceOptType: 256 }), /nonceOptType must be an integer 0-255/);
    assert.throws(() => makeMhCodecConfig({ mhType: { aotr: 1.5 } }), /mhType.aotr must be an integer/);
  });
  test('A10 (OP-1) collisions with IANA-assigned MH types beyond RFC 6275 are reported as warnings', () => {
    assert.deepStrictEqual(ianaMhTypeCollisions(DEFAULT_MH_CODEC_CONFIG), []);
    const w = ianaMhTypeCollisions(makeMhCodecConfig({ mhType: { aoto: 11 } }));
    assert.equal(w.length, 1);
    assert.match(w[0]!, /mhType.aoto=11 .*Experimental Mobility Header/);
  });
  test('A10 the encoder refuses to send a known type as "unknown"', () => {
    assert.throws(() => encodeMh({ kind: 'unknown', mhType: 5, data: Buffer.alloc(2) }), /type this codec knows/);
    assert.throws(() => encodeMh({ kind: 'unknown', mhType: 40, data: Buffer.alloc(2) }, { config: cfg }), /type this codec knows/);
    assert.throws(() => encodeMh({ kind: 'unknown', mhType: 12, data: Buffer.alloc(3) }), /not a multiple of 8/);
  });
});

describe('A11 BU layout', () => {
  test('A11 a BU with AltCoA is 32 octets, Header Len 3, PadN(2) at 12, AltCoA type 3 at 14, address at 16-31', () => {
    const mh = encodeMh({ kind: 'bu', sequence: 0x0102, ack: true, lifetime: 40, options: [{ kind: 'alternateCoa', address: COA }] });
    assert.equal(mh.length, 32);
    assert.equal(mh[1], 3);
    assert.equal(mh.readUInt16BE(6), 0x0102);
    assert.deepStrictEqual([...mh.subarray(12, 14)], [1, 0]);
    assert.equal(mh[14], 3);
    assert.equal(mh[15], 16);
    assert.deepStrictEqual(mh.subarray(16, 32), COA);
  });
  test('A11 flag bits A/H/L/K are the top bits of octet 8', () => {
    const flag = (f: Partial<Record<'ack' | 'home' | 'linkLocal' | 'keyManagement', boolean>>) =>
      encodeMh({ kind: 'bu', sequence: 0, lifetime: 0, ...f })[8];
    assert.equal(flag({ ack: true }), 0x80);
    assert.equal(flag({ home: true }), 0x40);
    assert.equal(flag({ linkLocal: true }), 0x20);
    assert.equal(flag({ keyManagement: true }), 0x10);
    assert.equal(flag({ ack: true, home: true, linkLocal: true, keyManagement: true }), 0xf0);
    const all = ok(decodeMh(rawMh(5, [0, 0, 0xff, 0xff, 0, 0, 1, 2, 0, 0])));
    assert.deepStrictEqual(all, {
      kind: 'bu', sequence: 0, ack: true, home: true, linkLocal: true, keyManagement: true, otherFlags: 0xfff, lifetime: 0, options: [],
    });
  });
});

describe('A12 lifetimes', () => {
  test('A12 BU and BA lifetimes encode in 4-second units (1800 s -> 450)', () => {
    assert.equal(encodeMh({ kind: 'bu', sequence: 0, lifetime: 1800 }).readUInt16BE(10), 450);
    assert.equal(encodeMh({ kind: 'ba', status: 0, sequence: 0, lifetime: 1800 }).readUInt16BE(10), 450);
    assert.equal(encodeMh({ kind: 'bu', sequence: 0, lifetime: MAX_LIFETIME_SECONDS }).readUInt16BE(10), 0xffff);
    const back = ok(decodeMh(encodeMh({ kind: 'bu', sequence: 0, lifetime: 1800 })));
    assert.equal(back.kind === 'bu' && back.lifetime, 1800);
  });
  test('A12 seconds that are not a multiple of 4 round down (the binding never outlives the request)', () => {
    assert.equal(secondsToLifetimeUnits(1801), 450);
    assert.equal(secondsToLifetimeUnits(1803.9), 450);
    assert.equal(secondsToLifetimeUnits(3), 0);
  });
  test('A12 lifetimes above 262140 s are rejected with a clear error', () => {
    assert.equal(MAX_LIFETIME_SECONDS, 262140);
    assert.throws(() => encodeMh({ kind: 'bu', sequence: 0, lifetime: 262141 }), /BU lifetime 262141 s exceeds the maximum 262140 s/);
    assert.throws(() => encodeMh({ kind: 'ba', status: 0, sequence: 0, lifetime: 1e9 }), /BA lifetime .* exceeds the maximum 262140 s/);
    assert.throws(
      () => encodeMh({ kind: 'ba', status: 0, sequence: 0, lifetime: 4, options: [{ kind: 'bindingRefreshAdvice', refreshInterval: 300000 }] }),
      /Binding Refresh Advice interval 300000 s exceeds/,
    );
    for (const bad of [-4, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => encodeMh({ kind: 'bu', sequence: 0, lifetime: bad }), /BU lifetime must be a finite number of seconds/);
    }
  });
  test('A12 sequence numbers are 16-bit', () => {
    assert.throws(() => encodeMh({ kind: 'bu', sequence: 65536, lifetime: 0 }), /BU sequence must be an integer 0-65535/);
    assert.throws(() => encodeMh({ kind: 'ba', status: 0, sequence: -1, lifetime: 0 }), /BA sequence/);
  });
});

describe('A13 Binding Acknowledgement', () => {
  test('A13 the BA decoder exposes status, K, sequence and lifetime', () => {
    const mh = rawMh(6, [133, 0x80 | 0x40, 0xab, 0xcd, 0x01, 0x00, 1, 2, 0, 0]);
    assert.deepStrictEqual(ok(decodeMh(mh)), {
      kind: 'ba', status: 133, keyManagement: true, otherFlags: 0x40, sequence: 0xabcd, lifetime: 1024, options: [],
    });
  });
  test('A13 status < 128 is accepted, >= 128 rejected', () => {
    for (let s = 0; s < 256; s++) assert.equal(isBindingAccepted(s), s < 128, `status ${s}`);
  });
  test('A13 status texts: RFC 6275 §6.1.8 codes 0, 1, 128-139, 174', () => {
    for (const s of [0, 1, ...Array.from({ length: 12 }, (_, i) => 128 + i), 174]) assert.ok(BA_STATUS_TEXT.has(s), `status ${s}`);
    assert.equal(baStatusText(135), 'Sequence number out of window');
    assert.equal(baStatusText(174), 'Invalid Care-of Address');
    assert.equal(baStatusText(5), 'accepted (status 5)');
    assert.equal(baStatusText(200), 'rejected (status 200)');
    assert.equal(beStatusText(2), 'Unrecognized MH Type value');
  });
  test('A13 any BA status octet encodes (the HA/CN sends rejections too)', () => {
    for (const status of [0, 127, 128, 174, 255]) {
      const msg = ok(decodeMh(encodeMh({ kind: 'ba', status, sequence: 1, lifetime: 0 })));
      assert.equal(msg.kind === 'ba' && msg.status, status);
    }
    assert.throws(() => encodeMh({ kind: 'ba', status: 256, sequence: 1, lifetime: 0 }), /BA status must be an integer 0-255/);
  });
});

describe('A14 nonces', () => {
  test('A14 100k generated nonces are 8 bytes and contain no duplicates', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const n = generateNonce();
      assert.equal(n.length, 8);
      seen.add(n.toString('hex'));
    }
    assert.equal(seen.size, 100_000);
  });
  test('A14 nonces do not come from Math.random', () => {
    const original = Math.random;
    Math.random = () => {
      throw new Error('Math.random used for a nonce');
    };
    try {
      const a = generateNonce();
      const b = generateNonce();
      assert.notDeepEqual(a, b);
    } finally {
      Math.random = original;
    }
    const src = readFileSync(new URL('../../src/mip6/codec/nonce.ts', import.meta.url), 'utf8');
    assert.match(src, /from 'node:crypto'/);
    assert.doesNotMatch(src, /Math\.random\(/);
  });
  test('A14 nonce bits are balanced (monobit over 6.4M bits, within 6 sigma)', () => {
    let ones = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) for (const byte of generateNonce()) for (let b = byte; b; b &= b - 1) ones++;
    const bits = N * 64;
    assert.ok(Math.abs(ones - bits / 2) < 6 * Math.sqrt(bits / 4), `${ones} ones in ${bits} bits`);
  });
});

describe('decode reasons', () => {
  test('reasons are a fixed list of counter-friendly labels', () => {
    for (const r of MH_DECODE_REASONS) assert.match(r, /^[a-z][a-z-]*$/);
    assert.equal(new Set(MH_DECODE_REASONS).size, MH_DECODE_REASONS.length);
  });
  test('RFC 6275 messages keep their fields', () => {
    const be = ok(decodeMh(encodeMh({ kind: 'be', status: 2, homeAddress: HOA })));
    assert.deepStrictEqual(be, { kind: 'be', status: 2, homeAddress: HOA, options: [] });
    const hot = ok(decodeMh(encodeMh({ kind: 'hot', homeNonceIndex: 0xbeef, homeInitCookie: NONCE, homeKeygenToken: Buffer.alloc(8, 1) })));
    assert.deepStrictEqual(hot, { kind: 'hot', homeNonceIndex: 0xbeef, homeInitCookie: NONCE, homeKeygenToken: Buffer.alloc(8, 1), options: [] });
    assert.throws(() => encodeMh({ kind: 'hoti', homeInitCookie: Buffer.alloc(4) }), /HOTI init cookie must be 8 bytes/);
  });
});
