// Randomized malformed input for decodeMh (seeded, so a failure names a reproducible case):
// truncations, wrong Header Len, corrupted option lengths, byte flips, option soup and plain random
// bytes. Invariants: decode never throws and never reports 'internal-error'; a refusal has a known
// reason; an accepted message re-encodes without error, is no longer than its input, and decodes
// back to the same message (so the socket loop can never get a message it could not send back).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseIPv6 } from '../../src/common/ipv6.ts';
import {
  decodeMh,
  DEFAULT_MH_CODEC_CONFIG,
  encodeMh,
  makeMhCodecConfig,
  MH_DECODE_REASONS,
  writeMhChecksum,
  type MhCodecConfig,
} from '../../src/mip6/codec/index.ts';

/** Deterministic test data (xorshift32); not a nonce source. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const CONFIGS: MhCodecConfig[] = [
  DEFAULT_MH_CODEC_CONFIG,
  makeMhCodecConfig({ mhType: { aoto: 40, aotc: 41, aotr: 42, aots: 43 }, nonceOptType: 99 }),
];
const SRC = parseIPv6('2001:db8:1::100');
const DST = parseIPv6('2001:db8:2::1');
const KNOWN_REASONS = new Set<string>(MH_DECODE_REASONS);

/** Every MH from the scapy fixtures (valid and malformed) plus a few of our own. */
function corpus(): Buffer[] {
  const out: Buffer[] = [];
  for (const f of ['rfc6275.json', 'iro.json', 'malformed.json']) {
    const doc = JSON.parse(readFileSync(new URL(`../fixtures/mh/${f}`, import.meta.url), 'utf8')) as { cases: { mh: string }[] };
    for (const c of doc.cases) out.push(Buffer.from(c.mh, 'hex'));
  }
  const nonce = Buffer.from('0011223344556677', 'hex');
  for (const config of CONFIGS) {
    out.push(encodeMh({ kind: 'aotc', nonce, options: [{ kind: 'unknown', type: 7, data: Buffer.alloc(3) }] }, { config }));
    out.push(encodeMh({ kind: 'aotr', nonce }, { config }));
    out.push(encodeMh({ kind: 'aots', code: 1 }, { config }));
    out.push(encodeMh({
      kind: 'bu',
      sequence: 9,
      ack: true,
      lifetime: 400,
      options: [
        { kind: 'nonceIndices', homeNonceIndex: 1, careOfNonceIndex: 2 },
        { kind: 'alternateCoa', address: SRC },
        { kind: 'bindingAuthorizationData', authenticator: Buffer.alloc(12, 3) },
        { kind: 'nonce', nonce },
      ],
    }, { config }));
  }
  return out;
}

/** Where the options start, per decoded kind (RFC 6275 §6.1.2-§6.1.9, IRO §4.4). */
const OPTIONS_START: Record<string, number> = {
  brr: 8, hoti: 16, coti: 16, hot: 24, cot: 24, bu: 12, ba: 12, be: 24, aoto: 8, aotc: 8, aotr: 8, aots: 8,
};

/** Independent framing oracle: the TLVs from `start` end exactly at the end of the message. */
function optionsFitExactly(mh: Buffer, start: number): boolean {
  let off = start;
  while (off < mh.length) {
    if (mh[off] === 0) off += 1;
    else if (off + 1 >= mh.length) return false;
    else off += 2 + mh[off + 1]!;
  }
  return off === mh.length;
}

interface Stats {
  cases: number;
  accepted: number;
  reasons: Map<string, number>;
}

function check(input: Buffer, config: MhCodecConfig, stats: Stats, what: string, verify = false): void {
  stats.cases++;
  const copy = Buffer.from(input);
  let r;
  try {
    r = decodeMh(input, { config, verifyChecksum: verify ? { src: SRC, dst: DST } : undefined });
  } catch (err) {
    assert.fail(`${what}: decodeMh threw ${(err as Error).message} on ${input.toString('hex')}`);
  }
  assert.deepStrictEqual(input, copy, `${what}: decodeMh modified its input`);
  if (!r.ok) {
    assert.ok(KNOWN_REASONS.has(r.reason), `${what}: unknown reason ${r.reason}`);
    assert.notEqual(r.reason, 'internal-error', `${what}: ${r.detail} on ${input.toString('hex')}`);
    stats.reasons.set(r.reason, (stats.reasons.get(r.reason) ?? 0) + 1);
    return;
  }
  stats.accepted++;
  const start = OPTIONS_START[r.msg.kind];
  if (start !== undefined) {
    assert.ok(optionsFitExactly(input, start), `${what}: accepted a ${r.msg.kind} whose options overrun (${input.toString('hex')})`);
  }
  let again: Buffer;
  try {
    again = encodeMh(r.msg, { config });
  } catch (err) {
    assert.fail(`${what}: decoded ${JSON.stringify(r.msg)} does not re-encode: ${(err as Error).message} (input ${input.toString('hex')})`);
  }
  assert.ok(again.length <= input.length, `${what}: re-encoding grew ${input.length} -> ${again.length} (${input.toString('hex')})`);
  const back = decodeMh(again, { config });
  assert.ok(back.ok, `${what}: re-encoded message refused: ${!back.ok && back.reason} (input ${input.toString('hex')})`);
  assert.deepStrictEqual(back.msg, r.msg, `${what}: round trip changed the message (input ${input.toString('hex')})`);
}

/** Set Header Len to match the buffer when it is a multiple of 8 (so decoding goes deeper). */
function fixLength(mh: Buffer): Buffer {
  if (mh.length >= 8 && mh.length % 8 === 0 && mh.length <= 2048) mh[1] = mh.length / 8 - 1;
  return mh;
}

/** Octets that matter to the option parser show up far more often than chance would give them. */
function interestingByte(rnd: (n: number) => number): number {
  const pick = rnd(10);
  if (pick < 6) return [0, 1, 2, 3, 4, 5, 88, 99, 8, 16, 12, 255][rnd(12)]!;
  return rnd(256);
}

describe('MH decoder under random malformed input', () => {
  const base = corpus();
  const stats: Stats = { cases: 0, accepted: 0, reasons: new Map() };

  test('every truncation of every corpus message, raw and with Header Len fixed up', () => {
    for (const [i, mh] of base.entries()) {
      for (const config of CONFIGS) {
        for (let len = 0; len < mh.length; len++) {
          check(mh.subarray(0, len), config, stats, `corpus ${i} cut at ${len}`);
          check(fixLength(Buffer.from(mh.subarray(0, len))), config, stats, `corpus ${i} cut at ${len}, fixed`);
        }
      }
    }
  });

  test('every Header Len value on every corpus message', () => {
    for (const [i, mh] of base.entries()) {
      for (let h = 0; h < 256; h++) {
        const m = Buffer.from(mh);
        m[1] = h;
        check(m, CONFIGS[h % 2]!, stats, `corpus ${i} Header Len ${h}`);
      }
    }
  });

  test('every option-area octet of every corpus message set to interesting values', () => {
    const values = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 88, 99, 0x80, 0xff];
    for (const [i, mh] of base.entries()) {
      for (let off = 6; off < mh.length; off++) {
        for (const v of values) {
          const m = Buffer.from(mh);
          m[off] = v;
          check(m, CONFIGS[(off + v) % 2]!, stats, `corpus ${i} [${off}]=${v}`);
        }
      }
    }
  });

  test('random byte flips on corpus messages (with and without a recomputed, verified checksum)', () => {
    const rnd = prng(0x5eed1);
    for (let n = 0; n < 20_000; n++) {
      const m = Buffer.from(base[rnd(base.length)]!);
      for (let k = 1 + rnd(4); k > 0; k--) m[rnd(m.length)] = rnd(256);
      const config = CONFIGS[rnd(2)]!;
      if (rnd(4) === 0 && m.length >= 8) {
        writeMhChecksum(m, { src: SRC, dst: DST });
        // Half of them are damaged after the checksum was computed, as on a noisy path.
        if (rnd(2) === 0) {
          const at = rnd(m.length);
          m[at] = m[at]! ^ (1 << rnd(8));
        }
        check(m, config, stats, `flip #${n} verified`, true);
      } else {
        check(m, config, stats, `flip #${n}`);
      }
    }
  });

  test('option soup: valid header of a known type, random fixed part, option-like random bytes', () => {
    const rnd = prng(0xc0ffee);
    const types = [0, 1, 2, 3, 4, 5, 6, 7, 11, 30, 31, 32, 33, 40, 41, 42, 43, 200];
    for (let n = 0; n < 20_000; n++) {
      const len = 8 * (1 + rnd(8));
      const m = Buffer.alloc(len);
      for (let j = 6; j < len; j++) m[j] = interestingByte(rnd);
      m[0] = 59;
      m[1] = len / 8 - 1;
      m[2] = types[rnd(types.length)]!;
      check(m, CONFIGS[rnd(2)]!, stats, `soup #${n}`);
    }
  });

  test('plain random bytes of random length', () => {
    const rnd = prng(0xbadf00d);
    for (let n = 0; n < 10_000; n++) {
      const m = Buffer.alloc(rnd(72));
      for (let j = 0; j < m.length; j++) m[j] = rnd(256);
      if (rnd(2) === 0 && m.length > 0) m[0] = 59;
      check(m, CONFIGS[rnd(2)]!, stats, `random #${n}`);
    }
  });

  test('a decoder-sized input: 2048 octets of option soup', () => {
    const rnd = prng(42);
    for (let n = 0; n < 200; n++) {
      const m = Buffer.alloc(2048);
      for (let j = 6; j < m.length; j++) m[j] = interestingByte(rnd);
      m[0] = 59;
      m[1] = 255;
      m[2] = [0, 5, 6, 31, 32][rnd(5)]!;
      check(m, CONFIGS[rnd(2)]!, stats, `max #${n}`);
    }
  });

  test('the runs above covered thousands of cases and reached every interesting outcome', () => {
    assert.ok(stats.cases > 50_000, `${stats.cases} cases`);
    console.log(`# fuzz: ${stats.cases} cases, ${stats.accepted} accepted, refused: ${JSON.stringify(Object.fromEntries(stats.reasons))}`);
    assert.ok(stats.accepted > 1_000, `${stats.accepted} accepted`);
    for (const r of MH_DECODE_REASONS) {
      if (r === 'internal-error') continue;
      assert.ok((stats.reasons.get(r) ?? 0) > 0, `no case ended in ${r}`);
    }
  });
});
