// Randomized PF_KEY codec tests: random well-formed messages round-trip exactly; thousands of
// mutated and random datagrams either decode or fail with a PfkeyDecodeError — never another
// exception, never a hang.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodePfkeyMessage, tryDecodePfkeyMessage } from '../../src/kernel/pfkey/decode.ts';
import { encodePfkeyMessage, type MessageInput } from '../../src/kernel/pfkey/encode.ts';
import { PfkeyDecodeError, PfkeyError } from '../../src/kernel/pfkey/errors.ts';
import { KeyMaterial } from '../../src/kernel/pfkey/key-material.ts';
import type { PfkeyExtensions, PfkeySockaddr, SadbAddress, SadbLifetime } from '../../src/kernel/pfkey/types.ts';
import * as F from '../lib/pfkey-fixtures.ts';

/** Deterministic test data (xorshift32). */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    u32: next,
    int: (n: number) => next() % n,
    bool: () => (next() & 1) === 1,
    u64: () => (BigInt(next()) << 32n) | BigInt(next()),
    bytes: (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
  };
}
type Rng = ReturnType<typeof prng>;

function randSockaddr(r: Rng, family?: 'inet' | 'inet6'): PfkeySockaddr {
  const fam = family ?? (r.bool() ? 'inet6' : 'inet');
  if (fam === 'inet') return { family: 'inet', address: [r.int(256), r.int(256), r.int(256), r.int(256)].join('.'), port: r.int(65536) };
  const words = Array.from({ length: 8 }, () => (r.int(4) === 0 ? 0 : r.int(65536)));
  // Canonical text, as the decoder prints it.
  const addr = decodePfkeyMessage(
    F.message({ type: 3, satype: 3, seq: 0, pid: 0 }, [F.address6Ext(5, Buffer.from(words.flatMap((w) => [w >> 8, w & 0xff])))]),
  ).ext.src!.addr.address;
  return { family: 'inet6', address: addr, port: r.int(65536), flowinfo: r.u32(), scopeId: r.u32() };
}

function randAddress(r: Rng, family?: 'inet' | 'inet6'): SadbAddress {
  const addr = randSockaddr(r, family);
  return { proto: r.int(256), prefixlen: r.int(addr.family === 'inet6' ? 129 : 33), reserved: r.int(65536), addr };
}

function randLifetime(r: Rng): SadbLifetime {
  return { allocations: r.u32(), bytes: r.u64(), addtime: r.u64(), usetime: r.u64() };
}

/** A random message using every encodable extension with some probability. */
function randMessage(r: Rng): MessageInput {
  const ext: PfkeyExtensions = {};
  const p = () => r.int(3) === 0;
  if (p()) ext.sa = { spi: r.u32(), replay: r.int(256), state: r.int(4), auth: r.int(256), encrypt: r.int(256), flags: r.u32() };
  if (p()) ext.lifetimeCurrent = randLifetime(r);
  if (p()) ext.lifetimeHard = randLifetime(r);
  if (p()) ext.lifetimeSoft = randLifetime(r);
  if (p()) ext.src = randAddress(r);
  if (p()) ext.dst = randAddress(r);
  if (p()) ext.proxy = randAddress(r);
  for (const k of ['keyAuth', 'keyEncrypt'] as const) {
    if (p()) {
      const bits = r.int(600);
      ext[k] = { bits, reserved: r.int(65536), key: new KeyMaterial(r.bytes(Math.ceil(bits / 8)), bits) };
    }
  }
  for (const k of ['identitySrc', 'identityDst'] as const)
    if (p()) ext[k] = { identType: r.int(4), reserved: r.int(65536), id: r.u64(), data: r.bytes(8 * r.int(4)) };
  if (p())
    ext.proposal = {
      replay: r.int(256),
      reserved: r.int(1 << 24),
      combs: Array.from({ length: r.int(4) }, () => ({
        auth: r.int(256), encrypt: r.int(256), flags: r.int(65536), authMinbits: r.int(65536), authMaxbits: r.int(65536),
        encryptMinbits: r.int(65536), encryptMaxbits: r.int(65536), reserved: r.u32(), softAllocations: r.u32(),
        hardAllocations: r.u32(), softBytes: r.u64(), hardBytes: r.u64(), softAddtime: r.u64(), hardAddtime: r.u64(),
        softUsetime: r.u64(), hardUsetime: r.u64(),
      })),
    };
  for (const k of ['supportedAuth', 'supportedEncrypt'] as const)
    if (p())
      ext[k] = {
        reserved: r.u32(),
        algs: Array.from({ length: r.int(5) }, () => ({ id: r.int(256), ivlen: r.int(256), minbits: r.int(65536), maxbits: r.int(65536), reserved: r.int(65536) })),
      };
  if (p()) ext.spirange = { min: r.u32(), max: r.u32(), reserved: r.u32() };
  if (p())
    ext.policy = {
      type: r.int(5),
      dir: r.int(4),
      reserved: r.int(256),
      id: r.u32(),
      priority: r.u32(),
      requests: Array.from({ length: r.int(3) }, () => {
        const fam = r.bool() ? 'inet6' : 'inet';
        return {
          proto: r.int(65536), mode: r.int(4), level: r.int(4), reqid: r.u32(), reserved1: r.int(65536), reserved2: r.u32(), length: 0,
          ...(r.bool() ? { endpoints: { src: randSockaddr(r, fam), dst: randSockaddr(r, fam) } } : {}),
        };
      }),
    };
  if (p()) ext.sa2 = { mode: r.int(4), reserved1: r.int(256), reserved2: r.int(65536), sequence: r.u32(), reqid: r.u32() };
  if (p()) ext.natTType = { type: r.int(256), reserved: r.int(1 << 24) };
  if (p()) ext.natTSport = { port: r.int(65536), reserved: r.int(65536) };
  if (p()) ext.natTDport = { port: r.int(65536), reserved: r.int(65536) };
  if (p()) ext.natTOa = randAddress(r);
  if (p()) ext.secCtx = { alg: r.int(256), doi: r.int(256), ctx: r.bytes(r.int(40)) };
  if (p()) {
    const fam = r.bool() ? 'inet6' : 'inet';
    ext.kmaddress = { reserved: r.u32(), local: randSockaddr(r, fam), remote: randSockaddr(r, fam) };
  }
  if (p()) ext.filter = { saddr: r.bytes(16), daddr: r.bytes(16), family: r.int(65536), splen: r.int(256), dplen: r.int(256) };
  return { type: r.int(25), satype: r.int(10), errno: r.int(256), seq: r.u32(), pid: r.u32(), reserved: r.int(65536), ext };
}

/** Mutations that a broken or hostile sender could produce. */
function mutate(r: Rng, src: Buffer): Buffer {
  const b = Buffer.from(src);
  switch (r.int(8)) {
    case 0: // truncate, keep the header length (length mismatch)
      return b.subarray(0, r.int(b.length));
    case 1: {
      // truncate to a multiple of 8 and fix sadb_msg_len (an extension runs past the end)
      const n = Math.max(16, (r.int(b.length) >> 3) << 3);
      const t = Buffer.from(b.subarray(0, n));
      t.writeUInt16LE(n / 8, 4);
      return t;
    }
    case 2: // random extension length field
    case 3: {
      const exts = extOffsets(b);
      if (exts.length) b.writeUInt16LE(r.int(4) === 0 ? 0 : r.int(70), exts[r.int(exts.length)]!);
      return b;
    }
    case 4: {
      // random extension type
      const exts = extOffsets(b);
      if (exts.length) b.writeUInt16LE(r.int(40), exts[r.int(exts.length)]! + 2);
      return b;
    }
    case 5: // flip bytes anywhere after the header
      for (let i = 0; i < 1 + r.int(6); i++) if (b.length > 16) b[16 + r.int(b.length - 16)] = r.int(256);
      return b;
    case 6: // flip bytes anywhere
      for (let i = 0; i < 1 + r.int(4); i++) if (b.length) b[r.int(b.length)] = r.int(256);
      return b;
    default: {
      // append an extension header claiming more than is there
      const t = Buffer.concat([b, Buffer.from([r.int(4), 0, r.int(30), 0, 0, 0, 0, 0])]);
      t.writeUInt16LE(t.length / 8, 4);
      return t;
    }
  }
}

function extOffsets(b: Buffer): number[] {
  const out: number[] = [];
  let off = 16;
  while (off + 4 <= b.length) {
    out.push(off);
    const len = b.readUInt16LE(off) * 8;
    if (!len) break;
    off += len;
  }
  return out;
}

function decodeMustBeSafe(buf: Buffer, label: string): void {
  try {
    const m = decodePfkeyMessage(buf);
    assert.equal(m.length, buf.length);
  } catch (e) {
    if (!(e instanceof PfkeyDecodeError)) {
      assert.fail(`${label}: decoder threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    }
    assert.ok(e.offset >= 0 && e.offset <= buf.length, `${label}: offset ${e.offset} outside the message`);
    assert.ok(e.message.length > 10);
  }
  const r = tryDecodePfkeyMessage(buf);
  assert.equal(typeof r.ok, 'boolean');
}

describe('PF_KEY codec fuzzing', () => {
  test('D01 2000 random well-formed messages: decode(encode(m)) re-encodes to identical bytes', () => {
    const r = prng(0x5eed1);
    for (let i = 0; i < 2000; i++) {
      const input = randMessage(r);
      let bytes: Buffer;
      try {
        bytes = encodePfkeyMessage(input);
      } catch (e) {
        assert.fail(`case ${i}: encoder threw ${(e as Error).message}`);
      }
      const m = decodePfkeyMessage(bytes);
      assert.equal(m.type, input.type);
      assert.equal(m.seq, input.seq);
      assert.equal(m.reserved, input.reserved);
      for (const [k, v] of Object.entries(input.ext!)) {
        if (k === 'keyAuth' || k === 'keyEncrypt') {
          const got = m.ext[k]!;
          const want = v as { bits: number; key: KeyMaterial };
          assert.equal(got.bits, want.bits, `case ${i} ${k}`);
          assert.ok(got.key.equals(want.key), `case ${i} ${k} bytes`);
        } else if (k === 'policy') {
          const pol = v as NonNullable<PfkeyExtensions['policy']>;
          assert.deepEqual(
            m.ext.policy!.requests.map((q) => ({ ...q, length: 0 })),
            pol.requests,
            `case ${i} policy requests`,
          );
          assert.deepEqual({ ...m.ext.policy!, requests: [] }, { ...pol, requests: [] }, `case ${i} policy`);
        } else {
          assert.deepEqual(m.ext[k as keyof PfkeyExtensions], v, `case ${i} ${k}`);
        }
      }
      assert.deepEqual(encodePfkeyMessage(m), bytes, `case ${i}: re-encoding differs`);
    }
  });

  test('D01 6000 mutated messages (truncations, bad/zero lengths, bad types, flipped bytes) never crash the decoder', () => {
    const r = prng(0xbad5eed);
    const seeds: Buffer[] = [
      F.saNotify({ type: 3, seq: 1, pid: 2, spi: 0x1234 }),
      F.expireNotify(true, 7),
      F.registerReply(1, 2),
      F.spdAddNotify(1, 2),
      F.getspiRequestEcho(3, 4),
    ];
    for (let i = 0; i < 40; i++) {
      try {
        seeds.push(encodePfkeyMessage(randMessage(r)));
      } catch {
        /* unencodable random input: skip */
      }
    }
    let decodedOk = 0;
    let rejected = 0;
    for (let i = 0; i < 6000; i++) {
      const m = mutate(r, seeds[r.int(seeds.length)]!);
      decodeMustBeSafe(m, `mutation ${i}`);
      if (tryDecodePfkeyMessage(m).ok) decodedOk++;
      else rejected++;
    }
    // Both outcomes must actually occur, or the mutations test nothing.
    assert.ok(rejected > 1000, `only ${rejected} mutations were rejected`);
    assert.ok(decodedOk > 100, `only ${decodedOk} mutations decoded`);
  });

  test('D01 3000 random datagrams with a consistent sadb_msg_len never crash the decoder', () => {
    const r = prng(0x12345);
    for (let i = 0; i < 3000; i++) {
      const n = 16 + 8 * r.int(24);
      const b = r.bytes(n);
      b.writeUInt16LE(n / 8, 4);
      decodeMustBeSafe(b, `random ${i}`);
    }
    for (let n = 0; n < 64; n++) decodeMustBeSafe(r.bytes(n), `raw length ${n}`);
  });

  test('encoder errors are PfkeyError naming the field', () => {
    assert.throws(() => encodePfkeyMessage({ type: 300 }), (e: unknown) => e instanceof PfkeyError && /sadb_msg_type 300 is not a u8/.test(e.message));
    assert.throws(
      () => encodePfkeyMessage({ type: 3, ext: { src: { proto: 0, prefixlen: 0, reserved: 0, addr: { family: 'inet6', address: 'nope', port: 0 } } } }),
      (e: unknown) => e instanceof PfkeyError && /not an IPv6 address: "nope"/.test(e.message),
    );
  });
});
