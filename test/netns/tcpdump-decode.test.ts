// The capture helpers on packets built here, byte by byte, independently of any project code
// that emits packets: a pcap file is decoded by tcpdump (-r -nn -v -x) and the kit reads
// tcpdump's text. Checks the SPI and address extraction, the extension header walk (where the
// "headers" end) and the address search that scenario tests use for "the HoA appears in no
// header" assertions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIPv6 } from '../../src/common/ipv6.ts';
import {
  describePackets,
  headersContain,
  packetsWithAddressAnywhere,
  packetsWithAddressInHeaders,
  parseTcpdump,
  TcpdumpParseError,
  walkHeaders,
  type CapturedPacket,
} from '../lib/topology/index.ts';

function haveTcpdump(): boolean {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const skip = haveTcpdump() ? false : 'tcpdump is not installed (npm run bootstrap -- test)';

const COA = '2001:db8:a::100';
const CN = '2001:db8:c::10';
const HA = '2001:db8:1::2';
const HOA = '2001:db8:1::100';

function ipv6(src: string, dst: string, nextHeader: number, payload: Buffer, hopLimit = 64): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payload.length, 4);
  h[6] = nextHeader;
  h[7] = hopLimit;
  parseIPv6(src).copy(h, 8);
  parseIPv6(dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

function esp(spi: number, seq: number, body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(spi, 0);
  h.writeUInt32BE(seq, 4);
  return Buffer.concat([h, body]);
}

/** AH with a 12-byte ICV: length field (in 4-octet units, minus 2) = 4. */
function ah(next: number, spi: number, seq: number): Buffer {
  const h = Buffer.alloc(24);
  h[0] = next;
  h[1] = 4;
  h.writeUInt32BE(spi, 4);
  h.writeUInt32BE(seq, 8);
  return h;
}

/** Destination options with a Home Address option (type 201) at offset 8n+6. */
function dstoptsHao(next: number, home: string): Buffer {
  return Buffer.concat([Buffer.from([next, 2, 1, 2, 0, 0, 0xc9, 16]), parseIPv6(home)]);
}

/** Type 2 routing header carrying one address. */
function rh2(next: number, home: string): Buffer {
  return Buffer.concat([Buffer.from([next, 2, 2, 1, 0, 0, 0, 0]), parseIPv6(home)]);
}

function udp(sport: number, dport: number, body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + body.length, 4);
  return Buffer.concat([h, body]);
}

/** Mobility header, Binding Update with an Alternate Care-of Address option. */
function mhBuAltCoa(coa: string): Buffer {
  const h = Buffer.from([59, 3, 5, 0, 0, 0, 0x00, 0x07, 0x80, 0x00, 0x00, 0x10, 1, 0, 3, 16]);
  return Buffer.concat([h, parseIPv6(coa)]);
}

function pcap(frames: Buffer[]): Buffer {
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  g.writeUInt32LE(262144, 16);
  g.writeUInt32LE(1, 20); // Ethernet
  const recs = frames.map((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(i, 4);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    return Buffer.concat([r, f]);
  });
  return Buffer.concat([g, ...recs]);
}

function ether(type: number, payload: Buffer): Buffer {
  const h = Buffer.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, type >> 8, type & 0xff]);
  return Buffer.concat([h, payload]);
}

function decode(frames: Buffer[]): CapturedPacket[] {
  const dir = mkdtempSync(join(tmpdir(), 'iro-tcpdump-'));
  try {
    const file = join(dir, 'x.pcap');
    writeFileSync(file, pcap(frames));
    return parseTcpdump(execFileSync('tcpdump', ['-r', file, '-nn', '-v', '-x', '-Z', 'root'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('tcpdump text: ESP, AH+ESP, HAO, RH2, IPv6-in-IPv6, MH, UDP and ARP packets are read as tcpdump decoded them', { skip }, () => {
  const secret = Buffer.concat([Buffer.alloc(8, 0x11), parseIPv6(HOA), Buffer.alloc(8, 0x22)]); // HoA bytes in a payload
  const frames = [
    ether(0x86dd, ipv6(COA, CN, 50, esp(0x1234, 7, secret))),
    ether(0x86dd, ipv6(COA, CN, 51, Buffer.concat([ah(50, 0x200, 2), esp(0x300, 3, Buffer.alloc(16, 0x33))]))),
    ether(0x86dd, ipv6(COA, CN, 60, Buffer.concat([dstoptsHao(50, HOA), esp(0x400, 4, Buffer.alloc(16))]))),
    ether(0x86dd, ipv6(CN, COA, 43, Buffer.concat([rh2(50, HOA), esp(0x500, 5, Buffer.alloc(16))]))),
    ether(0x86dd, ipv6(COA, HA, 41, ipv6(HOA, CN, 17, udp(4000, 5000, Buffer.from('inner'))))),
    ether(0x86dd, ipv6(COA, HA, 135, mhBuAltCoa(COA))),
    ether(0x86dd, ipv6(COA, CN, 17, udp(1234, 5678, secret))),
    ether(0x0806, Buffer.from('0001080006040001020000000002c0000202000000000000c0000201', 'hex')),
  ];
  const ps = decode(frames);
  const msg = describePackets(ps);
  assert.equal(ps.length, frames.length, msg);
  const [pEsp, pAh, pHao, pRh2, pTun, pMh, pUdp, pArp] = ps as [CapturedPacket, CapturedPacket, CapturedPacket, CapturedPacket, CapturedPacket, CapturedPacket, CapturedPacket, CapturedPacket];

  assert.deepEqual([pEsp.src, pEsp.dst, pEsp.hopLimit, pEsp.payloadLength], [COA, CN, 64, 8 + secret.length]);
  assert.deepEqual(pEsp.nextHeader, { name: 'ESP', number: 50 });
  assert.deepEqual(pEsp.esp, [{ spi: 0x1234, seq: 7 }]);
  assert.deepEqual(pEsp.headerChain, [50]);
  assert.equal(pEsp.headersLength, 48);

  assert.deepEqual(pAh.ah, [{ spi: 0x200, seq: 2 }], msg);
  assert.deepEqual(pAh.esp, [{ spi: 0x300, seq: 3 }], msg);
  assert.deepEqual(pAh.protocols, ['AH', 'ESP']);
  assert.equal(pAh.headersLength, 40 + 24 + 8);

  assert.deepEqual(pHao.protocols, ['DSTOPT', 'ESP']);
  assert.deepEqual(pHao.esp, [{ spi: 0x400, seq: 4 }]);
  assert.deepEqual(pRh2.protocols, ['Routing', 'ESP']);
  assert.deepEqual(pTun.protocols, ['IPv6', 'UDP']);
  assert.deepEqual([pTun.src, pTun.dst], [COA, HA], 'the outer header gives src/dst');
  assert.deepEqual(pMh.protocols, ['MH']);
  assert.equal(pMh.headersLength, 40 + 32);
  assert.deepEqual([pUdp.srcPort, pUdp.dstPort], [1234, 5678]);
  assert.equal(pArp.ip6, false);
  assert.match(pArp.summary, /^ARP/);

  // The HoA in a header: HAO, RH2 and the inner header of a tunnel; not in ESP/UDP payloads.
  assert.deepEqual(packetsWithAddressInHeaders(ps, HOA).map((p) => p.index), [3, 4, 5], msg);
  assert.deepEqual(packetsWithAddressAnywhere(ps, HOA).map((p) => p.index), [1, 3, 4, 5, 7], msg);
  // An MH option is a header too.
  assert.ok(headersContain(pMh, COA));
  assert.ok(!headersContain(pUdp, HOA));
});

test('tcpdump text: malformed input is reported with its line, not misread', { skip }, () => {
  assert.throws(() => parseTcpdump('\t0x0000:  6000 0000\n'), TcpdumpParseError);
  const good = '12:00:00.000001 IP6 (hlim 64, next-header ESP (50) payload length: 16) 2001:db8::1 > 2001:db8::2: ESP(spi=0x00000001,seq=0x1), length 16\n';
  const hex = '\t0x0000:  6000 0000 0010 3240 2001 0db8 0000 0000\n\t0x0010:  0000 0000 0000 0001 2001 0db8 0000 0000\n\t0x0020:  0000 0000 0000 0002 0000 0001 0000 0001\n';
  assert.equal(parseTcpdump(good + hex)[0]!.esp[0]!.spi, 1);
  // A hex line out of sequence.
  assert.throws(() => parseTcpdump(good + hex.replace('0x0010', '0x0020')), /line 3: hex offset 0x0020 where 0x0010 was expected/);
  // Text addresses that disagree with the bytes.
  assert.throws(() => parseTcpdump(good.replace('2001:db8::2:', '2001:db8::3:') + hex), /text says 2001:db8::1 > 2001:db8::3 but the hex dump has 2001:db8::1 > 2001:db8::2/);
});

test('header walk: truncated packets stop at the captured bytes', () => {
  const p = ipv6(COA, CN, 60, dstoptsHao(50, HOA));
  assert.deepEqual(walkHeaders(p.subarray(0, 50)), { chain: [60], headersLength: 50, truncated: true });
  assert.deepEqual(walkHeaders(p.subarray(0, 20)), { chain: [], headersLength: 0, truncated: true });
  const frag = ipv6(COA, CN, 44, Buffer.from([17, 0, 0x00, 0x08, 0, 0, 0, 1, 1, 2, 3, 4]));
  assert.deepEqual(walkHeaders(frag), { chain: [44], headersLength: 48, truncated: false }, 'a non-first fragment carries no further headers');
});
