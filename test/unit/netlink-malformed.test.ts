// Randomised corruption of real messages (iproute2 requests, kernel dumps and events, and our
// own encodings): every outcome is either a decoded message or a NetlinkParseError. Nothing
// else may be thrown, nothing may hang. Seeded, so failures reproduce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/kernel/native.ts';
import { parseDatagram, NetlinkParseError, type NetlinkMessage } from '../../src/kernel/netlink/message.ts';
import { decodeErrorMessage, decodeDoneMessage } from '../../src/kernel/netlink/errors.ts';
import { formatControlMessage } from '../../src/kernel/netlink/format.ts';
import { decodeXfrmMessage } from '../../src/kernel/xfrm/codec.ts';
import { formatXfrmMessage } from '../../src/kernel/xfrm/format.ts';
import { decodeLink } from '../../src/kernel/rtnetlink/links.ts';
import { decodeRoute } from '../../src/kernel/rtnetlink/routes.ts';
import { decodeAddress } from '../../src/kernel/rtnetlink/addresses.ts';
import { decodeNeighbour } from '../../src/kernel/rtnetlink/neighbours.ts';
import { decodeRule } from '../../src/kernel/rtnetlink/rules.ts';
import { loadFixture } from '../lib/xfrm-fixtures.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const corpus: Buffer[] = readdirSync(join(projectRoot(), 'test', 'fixtures', 'xfrm'))
  .filter((f) => f.endsWith('.json'))
  .flatMap((f) => {
    const fx = loadFixture(f.replace(/\.json$/, ''));
    return [...fx.sent, ...fx.received].map((h) => Buffer.from(h, 'hex'));
  });

type Mutation = (b: Buffer, r: () => number) => Buffer;
const pick = (r: () => number, n: number) => Math.floor(r() * n);
const mutations: Record<string, Mutation> = {
  truncate: (b, r) => b.subarray(0, pick(r, b.length)),
  nlmsgLen: (b, r) => {
    const c = Buffer.from(b);
    if (c.length < 4) return c;
    c.writeUInt32LE([0, 1, 15, 16, 17, pick(r, 2 * b.length), 0xffffffff][pick(r, 7)]!, 0);
    return c;
  },
  attrLen: (b, r) => {
    // hit a 16-bit length field anywhere after the fixed headers
    const c = Buffer.from(b);
    if (c.length < 24) return c;
    const off = 16 + 4 * pick(r, Math.floor((c.length - 18) / 4));
    c.writeUInt16LE([0, 1, 3, 4, 5, 0xffff, pick(r, 0x10000)][pick(r, 7)]!, off);
    return c;
  },
  flipBytes: (b, r) => {
    const c = Buffer.from(b);
    for (let i = 0, n = 1 + pick(r, 8); i < n && c.length; i++) c[pick(r, c.length)] = pick(r, 256);
    return c;
  },
  truncateKeepLen: (b, r) => {
    // shorter buffer but nlmsg_len still claims the original size
    return b.subarray(0, 16 + pick(r, Math.max(1, b.length - 16)));
  },
  retype: (b, r) => {
    const c = Buffer.from(b);
    if (c.length >= 6) c.writeUInt16LE([2, 3, 0x10, 0x11, 0x13, 0x14, 0x16, 0x17, 0x18, 0x1b, 0x1c, 0x1d, 0x21][pick(r, 13)]!, 4);
    return c;
  },
};

const decoders: ((m: NetlinkMessage) => unknown)[] = [
  (m) => decodeXfrmMessage(m),
  (m) => decodeXfrmMessage(m, { withKeys: true }),
  (m) => (m.type === 2 ? decodeErrorMessage(m) : m.type === 3 ? decodeDoneMessage(m) : null),
  decodeLink,
  decodeRoute,
  decodeAddress,
  decodeNeighbour,
  decodeRule,
];

test('thousands of truncated / length-corrupted / retyped messages never throw anything but NetlinkParseError', () => {
  const r = rng(0x1d0c7);
  let cases = 0;
  let decoded = 0;
  let rejected = 0;
  for (let i = 0; i < 6000; i++) {
    const base = corpus[pick(r, corpus.length)]!;
    const names = Object.keys(mutations);
    let buf = base;
    for (let j = 0, n = 1 + pick(r, 2); j < n; j++) buf = mutations[names[pick(r, names.length)]!]!(buf, r);
    cases++;
    const d = parseDatagram(buf);
    if (d.error) {
      assert.ok(d.error instanceof NetlinkParseError);
      rejected++;
    }
    for (const m of d.messages) {
      for (const dec of decoders) {
        try {
          dec(m);
          decoded++;
        } catch (e) {
          if (!(e instanceof NetlinkParseError)) assert.fail(`case ${i}: ${(e as Error).stack}`);
          rejected++;
        }
      }
      // the formatters must never throw at all
      assert.equal(typeof formatControlMessage(m, formatXfrmMessage), 'string');
    }
  }
  assert.ok(cases >= 6000);
  assert.ok(decoded > 0 && rejected > 0, `both outcomes occur (decoded ${decoded}, rejected ${rejected})`);
});

test('random bytes of every length up to 600 are handled', () => {
  const r = rng(42);
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.alloc(pick(r, 600));
    for (let j = 0; j < b.length; j++) b[j] = pick(r, 256);
    if (b.length >= 4 && r() < 0.7) b.writeUInt32LE(Math.min(b.length, 16 + pick(r, b.length)), 0);
    const d = parseDatagram(b);
    for (const m of d.messages) {
      try {
        decodeXfrmMessage(m);
      } catch (e) {
        assert.ok(e instanceof NetlinkParseError, (e as Error).stack);
      }
    }
  }
});
