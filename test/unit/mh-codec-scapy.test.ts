// The MH codec against packets built by scapy (test/fixtures/mh, see its README): our decoder
// must read scapy's bytes as scapy reads them, our encoder must produce scapy's bytes, and our
// checksum must equal scapy's. The expected messages come from scapy's own dissection.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseIPv6 } from '../../src/common/ipv6.ts';
import {
  type AddressOwnershipTestChallenge,
  type AddressOwnershipTestResponse,
  decodeMh,
  DEFAULT_MH_CODEC_CONFIG,
  encodeMh,
  makeMhCodecConfig,
  mhChecksum,
  type MhCodecConfig,
  type MhDecodeReason,
  type MhMessage,
  type MobilityOption,
} from '../../src/mip6/codec/index.ts';

interface ScapyLayer {
  class: string;
  [field: string]: unknown;
}
interface Fixture {
  name: string;
  checks: string[];
  description: string;
  src: string;
  dst: string;
  packet: string;
  mh: string;
  scapy: ScapyLayer;
}

function load(file: string): Fixture[] {
  const doc = JSON.parse(readFileSync(new URL(`../fixtures/mh/${file}`, import.meta.url), 'utf8')) as { cases: Fixture[] };
  return doc.cases;
}

const RFC6275 = load('rfc6275.json');
const IRO = load('iro.json');
const MALFORMED = load('malformed.json');

const A10_CONFIG = makeMhCodecConfig({ mhType: { aoto: 40, aotc: 41 }, nonceOptType: 99 });
const NONCE99_CONFIG = makeMhCodecConfig({ nonceOptType: 99 });

/** Fixtures made for a non-default configuration. */
const CONFIG_OF: Record<string, MhCodecConfig> = {
  'aotc-type41-opt99': A10_CONFIG,
  'aoto-type40': A10_CONFIG,
  'aotc-type31-opt88-under-99': NONCE99_CONFIG,
};

/** Why each malformed fixture must be refused (every fixture in malformed.json is listed). */
const EXPECTED_REASON: Record<string, MhDecodeReason> = {
  'bad-checksum': 'bad-checksum',
  'aotc-no-nonce': 'missing-nonce',
  'aotc-only-unknown': 'missing-nonce',
  'aotc-nonce-len6': 'bad-option-length',
  'aotr-nonce-len10': 'bad-option-length',
  'aotr-two-nonces': 'duplicate-nonce',
  'aotc-nonce-misaligned': 'misaligned-option',
  'bu-altcoa-len8': 'bad-option-length',
  'bu-nonce-indices-scapy-default': 'option-truncated',
  'bu-payload-proto-6': 'bad-payload-proto',
  'bu-header-len-too-big': 'truncated',
  'hot-too-short': 'too-short-for-type',
  'be-option-truncated': 'option-truncated',
  // A valid default-coded AOTC, read by a node configured for Nonce option 99.
  'aotc-type31-opt88-under-99': 'missing-nonce',
};

/** Valid fixtures whose bytes differ from our canonical encoding, and why. */
const NOT_CANONICAL: Record<string, string> = {
  'aoto-reserved-set': 'Reserved fields are non-zero; we send zeros',
  'aots-code9-reserved': 'the 12 reserved bits are set; we send zeros',
};

const hex = (h: string) => Buffer.from(h, 'hex');
const int = (v: unknown) => v as number;

/** scapy's option objects -> our option model (padding dropped, as our decoder does). */
function optionsFromScapy(list: unknown, config: MhCodecConfig): MobilityOption[] {
  const out: MobilityOption[] = [];
  for (const o of list as ScapyLayer[]) {
    switch (o.class) {
      case 'Pad1':
      case 'PadN':
        break;
      case 'MIP6OptAltCoA':
        out.push({ kind: 'alternateCoa', address: parseIPv6(o.acoa as string) });
        break;
      case 'MIP6OptBRAdvice':
        out.push({ kind: 'bindingRefreshAdvice', refreshInterval: int(o.rinter) * 4 });
        break;
      case 'MIP6OptNonceIndices':
        out.push({ kind: 'nonceIndices', homeNonceIndex: int(o.hni), careOfNonceIndex: int(o.coni) });
        break;
      case 'MIP6OptBindingAuthData':
        out.push({ kind: 'bindingAuthorizationData', authenticator: hex(BigInt(o.authenticator as string).toString(16).padStart(24, '0')) });
        break;
      case 'MIP6OptMobNetPrefix':
        out.push({ kind: 'unknown', type: int(o.otype), data: Buffer.concat([Buffer.from([int(o.reserved), int(o.plen)]), parseIPv6(o.prefix as string)]) });
        break;
      case 'MIP6OptUnknown':
        if (o.otype === config.nonceOptType) out.push({ kind: 'nonce', nonce: hex(o.odata as string) });
        else out.push({ kind: 'unknown', type: int(o.otype), data: hex(o.odata as string) });
        break;
      default:
        throw new Error(`test converter: scapy option class ${o.class} not mapped`);
    }
  }
  return out;
}

/** scapy's dissection -> the message our decoder must return. */
function messageFromScapy(s: ScapyLayer, config: MhCodecConfig): MhMessage {
  const options = () => optionsFromScapy(s.options, config);
  const t = int(s.mhtype);
  switch (s.class) {
    case 'MIP6MH_HoTI':
      return { kind: 'hoti', homeInitCookie: hex(s.cookie as string), options: options() };
    case 'MIP6MH_CoTI':
      return { kind: 'coti', careOfInitCookie: hex(s.cookie as string), options: options() };
    case 'MIP6MH_HoT':
      return { kind: 'hot', homeNonceIndex: int(s.index), homeInitCookie: hex(s.cookie as string), homeKeygenToken: hex(s.token as string), options: options() };
    case 'MIP6MH_CoT':
      return { kind: 'cot', careOfNonceIndex: int(s.index), careOfInitCookie: hex(s.cookie as string), careOfKeygenToken: hex(s.token as string), options: options() };
    case 'MIP6MH_BU': {
      // scapy: 7 flag bits, MSB first A H L K M R P (value bits 6..0), then 9 reserved bits.
      const f = int(s.flags);
      return {
        kind: 'bu',
        sequence: int(s.seq),
        ack: (f & 64) !== 0,
        home: (f & 32) !== 0,
        linkLocal: (f & 16) !== 0,
        keyManagement: (f & 8) !== 0,
        otherFlags: ((f & 7) << 9) | int(s.reserved),
        lifetime: int(s.mhtime) * 4,
        options: options(),
      };
    }
    case 'MIP6MH_BA': {
      // scapy: 3 flag bits K R P (value bits 2..0), then 5 reserved bits.
      const f = int(s.flags);
      return {
        kind: 'ba',
        status: int(s.status),
        keyManagement: (f & 4) !== 0,
        otherFlags: ((f & 3) << 5) | int(s.res2),
        sequence: int(s.seq),
        lifetime: int(s.mhtime) * 4,
        options: options(),
      };
    }
    case 'MIP6MH_BE':
      return { kind: 'be', status: int(s.status), homeAddress: parseIPv6(s.ha as string), options: options() };
    case 'MIP6MH_Generic':
      return { kind: 'unknown', mhType: t, data: Buffer.concat([hex(s.msg as string), hex((s.payload as string) ?? '')]) };
    case 'MIP6MH_BRR': {
      // IRO messages are dissected with the BRR layout (Reserved(16) + options at 8).
      if (t === 0) return { kind: 'brr', options: options() };
      if (t === config.mhType.aoto) return { kind: 'aoto' };
      if (t === config.mhType.aots) return { kind: 'aots', code: int(s.res2) >> 12 };
      const all = options();
      const at = all.findIndex((o) => o.kind === 'nonce');
      const nonce = all[at];
      if (!nonce || nonce.kind !== 'nonce') throw new Error('test converter: IRO fixture without nonce');
      const msg: AddressOwnershipTestChallenge | AddressOwnershipTestResponse = {
        kind: t === config.mhType.aotc ? 'aotc' : 'aotr',
        nonce: nonce.nonce,
        options: all.filter((o) => o.kind !== 'nonce'),
      };
      if (at > 0) msg.nonceAfter = at;
      return msg;
    }
    default:
      throw new Error(`test converter: scapy class ${s.class} not mapped`);
  }
}

const addresses = (c: Fixture) => ({ src: parseIPv6(c.src), dst: parseIPv6(c.dst) });
const label = (c: Fixture) => `${c.checks.join(' ')} ${c.name}: ${c.description}`;

describe('MH codec vs scapy: valid messages', () => {
  for (const c of [...RFC6275, ...IRO]) {
    if (EXPECTED_REASON[c.name]) continue;
    const config = CONFIG_OF[c.name] ?? DEFAULT_MH_CODEC_CONFIG;
    test(`decode ${label(c)}`, () => {
      const r = decodeMh(hex(c.mh), { config, verifyChecksum: addresses(c) });
      assert.ok(r.ok, `refused: ${!r.ok && `${r.reason} (${r.detail})`}`);
      assert.deepStrictEqual(r.msg, messageFromScapy(c.scapy, config));
    });
    test(`encode ${label(c)}`, () => {
      const expected = messageFromScapy(c.scapy, config);
      const ours = encodeMh(expected, { config, checksum: addresses(c) });
      if (NOT_CANONICAL[c.name]) {
        const again = decodeMh(ours, { config, verifyChecksum: addresses(c) });
        assert.ok(again.ok);
        assert.deepStrictEqual(again.msg, expected, NOT_CANONICAL[c.name]);
        assert.notEqual(ours.toString('hex'), c.mh, `expected a different layout: ${NOT_CANONICAL[c.name]}`);
      } else {
        assert.equal(ours.toString('hex'), c.mh);
      }
    });
  }
});

describe('MH codec vs scapy: checksum (A02)', () => {
  const all = [...RFC6275, ...IRO, ...MALFORMED].filter((c) => c.name !== 'bad-checksum');
  test(`A02 our checksum equals scapy's on ${all.length} packets`, () => {
    for (const c of all) {
      const mh = hex(c.mh);
      assert.equal(mhChecksum(mh, addresses(c)), mh.readUInt16BE(4), c.name);
      // The fixture's IPv6 header carries the same addresses and a payload length equal to the MH.
      const pkt = hex(c.packet);
      assert.equal(pkt.readUInt16BE(4), mh.length, `${c.name}: payload length`);
      assert.equal(pkt[6], 135, `${c.name}: next header`);
      assert.deepEqual(pkt.subarray(8, 24), parseIPv6(c.src));
      assert.deepEqual(pkt.subarray(24, 40), parseIPv6(c.dst));
    }
  });
  test('A02 a corrupted checksum (every single-bit flip) is rejected; skipping verification accepts it', () => {
    for (const c of [...RFC6275, ...IRO].filter((x) => !EXPECTED_REASON[x.name])) {
      const config = CONFIG_OF[c.name] ?? DEFAULT_MH_CODEC_CONFIG;
      for (let bit = 0; bit < 16; bit++) {
        const mh = hex(c.mh);
        mh[4 + (bit >> 3)]! ^= 1 << (bit & 7);
        const r = decodeMh(mh, { config, verifyChecksum: addresses(c) });
        assert.equal(r.ok ? 'ok' : r.reason, 'bad-checksum', `${c.name} bit ${bit}`);
        assert.ok(decodeMh(mh, { config }).ok, `${c.name} bit ${bit} without verification`);
      }
    }
  });
  test('A02 the same message checked against other addresses (e.g. the on-wire CoA instead of the HoA) is rejected', () => {
    const c = RFC6275.find((x) => x.name === 'bu-altcoa')!;
    const r = decodeMh(hex(c.mh), { verifyChecksum: { src: parseIPv6('2001:db8:3::100'), dst: parseIPv6(c.dst) } });
    assert.equal(r.ok ? 'ok' : r.reason, 'bad-checksum');
  });
});

describe('MH codec vs scapy: malformed messages', () => {
  test('every malformed fixture has an expected reason', () => {
    for (const c of MALFORMED) assert.ok(EXPECTED_REASON[c.name], `no expectation for ${c.name}`);
  });
  for (const c of [...MALFORMED, ...IRO.filter((x) => EXPECTED_REASON[x.name])]) {
    const config = CONFIG_OF[c.name] ?? DEFAULT_MH_CODEC_CONFIG;
    test(`${label(c)} -> ${EXPECTED_REASON[c.name]}`, () => {
      const r = decodeMh(hex(c.mh), { config, verifyChecksum: addresses(c) });
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.reason, EXPECTED_REASON[c.name], r.detail);
        assert.ok(r.detail.length > 0);
      }
    });
  }
});
