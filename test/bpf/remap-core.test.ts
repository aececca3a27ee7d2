// C01-C09, C14, C15, C17: the remap programs run for real through BPF_PROG_TEST_RUN on packets
// built independently (test/lib/packets.ts).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { skipUnless } from '../lib/capabilities.ts';
import { frame, frameAddrs, sameAddr, ip6 } from '../lib/packets.ts';
import { openTestDatapath, destroyQuietly, installRuleText } from '../lib/datapath-fixture.ts';
import type { TestDatapath } from '../lib/datapath-fixture.ts';
import { EventKind } from '../../src/datapath/abi.ts';

const skip = skipUnless('bpf');
const PASS = -1; // TC_ACT_UNSPEC
const SHOT = 2;

const A = {
  HoA: '2001:db8:1::100',
  CoA: '2001:db8:a::100',
  CoA2: '2001:db8:b::100',
  CN: '2001:db8:c::1',
  Other: '2001:db8:99::1',
};

let dp: TestDatapath;
before(() => {
  if (!skip) dp = openTestDatapath('core');
});
after(() => {
  if (dp) destroyQuietly(dp);
});

function run(prog: 'iro_egress' | 'iro_ingress', pkt: Buffer) {
  return dp.programs[prog].testRun(pkt);
}

function reset(): void {
  dp.reconcileEntries(new Map());
  dp.setMembers('hoas', []);
  dp.setMembers('peers', []);
  dp.configure({ missPolicy: 'drop', missEventIntervalMs: 0 });
  dp.pollEvents(0);
}

test('C01 outgoing ESP on a tracked SPI with src=HoA leaves with src=CoA, rest unchanged', { skip }, () => {
  reset();
  installRuleText(dp, 'dir: out, SPI: 44, exp. src: HoA, remap. src: CoA', A, { peer: 'CN' });
  const pkt = frame({ src: A.HoA, dst: A.CN, payload: { esp: { spi: 44, seq: 9 } } });
  const r = run('iro_egress', pkt);
  assert.equal(r.retval, PASS);
  assert.ok(sameAddr(frameAddrs(r.data).src, A.CoA));
  assert.ok(sameAddr(frameAddrs(r.data).dst, A.CN));
  assert.deepEqual(r.data.subarray(54), pkt.subarray(54), 'every octet after the IPv6 header is unchanged');
  assert.deepEqual(r.data.subarray(0, 22), pkt.subarray(0, 22), 'MAC header and IPv6 fixed fields before the addresses unchanged');
  assert.equal(dp.stats().src_rewrite > 0n, true);
});

test('C02 outgoing ESP on a tracked SPI with the wrong source is unchanged and counted as a mismatch', { skip }, () => {
  reset();
  installRuleText(dp, 'dir: out, SPI: 44, exp. src: HoA, remap. src: CoA', A, { peer: 'CN' });
  const before = dp.stats().src_mismatch;
  const pkt = frame({ src: A.Other, dst: A.CN, payload: { esp: { spi: 44 } } });
  const r = run('iro_egress', pkt);
  assert.equal(r.retval, PASS);
  assert.deepEqual(r.data, pkt);
  assert.equal(dp.stats().src_mismatch, before + 1n);
  const c = dp.ruleCounters(`out/esp/44/${A.CN}`);
  assert.ok(c && c.srcMismatch === 1n && c.srcHits === 0n, `per-rule counters ${JSON.stringify(c, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
});

test('C03 outgoing ESP with an untracked SPI is unchanged', { skip }, () => {
  reset();
  installRuleText(dp, 'dir: out, SPI: 44, exp. src: HoA, remap. src: CoA', A, { peer: 'CN' });
  const before = dp.stats().untracked;
  const pkt = frame({ src: A.HoA, dst: A.CN, payload: { esp: { spi: 4444 } } });
  const r = run('iro_egress', pkt);
  assert.equal(r.retval, PASS);
  assert.deepEqual(r.data, pkt);
  assert.equal(dp.stats().untracked, before + 1n);
});

test('C04 incoming ESP to the CoA gets dst=HoA; one already addressed to the HoA (via the HA tunnel) is untouched', { skip }, () => {
  reset();
  installRuleText(dp, 'dir: in , SPI: 45, exp. dst: CoA, remap. dst: HoA', A);
  const r = run('iro_ingress', frame({ src: A.CN, dst: A.CoA, payload: { esp: { spi: 45 } } }));
  assert.ok(sameAddr(frameAddrs(r.data).dst, A.HoA));
  const mismatchBefore = dp.stats().dst_mismatch;
  const viaHa = frame({ src: A.CN, dst: A.HoA, payload: { esp: { spi: 45 } } });
  const r2 = run('iro_ingress', viaHa);
  assert.deepEqual(r2.data, viaHa);
  assert.equal(dp.stats().dst_mismatch, mismatchBefore, 'a packet that came through the tunnel is not a mismatch');
});

test('C05 incoming MH-SA packet with a "::" source rule gets src=HoA2 from any source; the on-wire source is recorded', { skip }, () => {
  reset();
  installRuleText(dp, 'dir: in , SPI: 51, exp. src: ::, remap. src: HoA (ancillary)', A);
  for (const onWire of [A.CoA, A.CoA2, A.Other]) {
    const r = run('iro_ingress', frame({ src: onWire, dst: A.CN, payload: { esp: { spi: 51, seq: 77 } } }));
    assert.ok(sameAddr(frameAddrs(r.data).src, A.HoA), `from ${onWire}`);
    const rec = dp.ancillaryInForSpi('esp', 51);
    assert.ok(rec);
    assert.ok(sameAddr(rec.origSrc, onWire));
    assert.equal(rec.origDst, '::', 'unchanged destination is recorded as ::');
    assert.equal(rec.seq, 77);
  }
});

test('C06 an incoming MH-SA packet already carrying the remap value records :: for that field', { skip }, () => {
  reset();
  installRuleText(dp, 'dir: in , SPI: 51, exp. src: ::, remap. src: HoA (ancillary)', A);
  const pkt = frame({ src: A.HoA, dst: A.CN, payload: { esp: { spi: 51, seq: 5 } } });
  const r = run('iro_ingress', pkt);
  assert.deepEqual(r.data, pkt);
  const rec = dp.ancillaryInForSpi('esp', 51)!;
  assert.equal(rec.origSrc, '::');
  assert.equal(rec.origDst, '::');
  assert.equal(rec.seq, 5);
});

test('C07 source and destination rules apply independently', { skip }, () => {
  reset();
  const env = { HoA1: A.HoA, CoA1: A.CoA, HoA2: '2001:db8:2::200', CoA2: '2001:db8:b::200' };
  installRuleText(dp, 'dir: out, SPI: 46, exp. src: HoA1, remap. src: CoA1\ndir: out, SPI: 46, exp. dst: HoA2, remap. dst: CoA2', env);
  const both = run('iro_egress', frame({ src: env.HoA1, dst: env.HoA2, payload: { esp: { spi: 46 } } }));
  assert.ok(sameAddr(frameAddrs(both.data).src, env.CoA1));
  assert.ok(sameAddr(frameAddrs(both.data).dst, env.CoA2));
  // only the destination expectation holds: only the destination changes
  const onlyDst = run('iro_egress', frame({ src: A.Other, dst: env.HoA2, payload: { esp: { spi: 46 } } }));
  assert.ok(sameAddr(frameAddrs(onlyDst.data).src, A.Other));
  assert.ok(sameAddr(frameAddrs(onlyDst.data).dst, env.CoA2));
  const c = dp.ruleCounters(`out/esp/46/${env.HoA2}`)!;
  assert.equal(c.srcMismatch, 1n);
  assert.equal(c.dstHits, 2n);
  // incoming: only the source expectation holds
  installRuleText(dp, 'dir: in , SPI: 47, exp. dst: CoA1, remap. dst: HoA1\ndir: in , SPI: 47, exp. src: CoA2, remap. src: HoA2', env);
  const onlySrc = run('iro_ingress', frame({ src: env.CoA2, dst: A.Other, payload: { esp: { spi: 47 } } }));
  assert.ok(sameAddr(frameAddrs(onlySrc.data).src, env.HoA2));
  assert.ok(sameAddr(frameAddrs(onlySrc.data).dst, A.Other));
});

test('C08 AH is looked up under protocol 51 and ESP under 50: the same SPI under the other protocol does not match', { skip }, () => {
  reset();
  installRuleText(dp, 'dir: out, SPI: 60, proto: ah, exp. src: HoA, remap. src: CoA', A, { peer: 'CN' });
  const ah = run('iro_egress', frame({ src: A.HoA, dst: A.CN, payload: { ah: { spi: 60 } } }));
  assert.ok(sameAddr(frameAddrs(ah.data).src, A.CoA), 'AH rule applies to AH');
  const espPkt = frame({ src: A.HoA, dst: A.CN, payload: { esp: { spi: 60 } } });
  assert.deepEqual(run('iro_egress', espPkt).data, espPkt, 'AH rule does not apply to ESP with the same SPI');
  installRuleText(dp, 'dir: out, SPI: 61, exp. src: HoA, remap. src: CoA', A, { peer: 'CN' });
  const ahPkt = frame({ src: A.HoA, dst: A.CN, payload: { ah: { spi: 61 } } });
  assert.deepEqual(run('iro_egress', ahPkt).data, ahPkt, 'ESP rule does not apply to AH with the same SPI');
});

test('C09 non-IPsec packets from the HoA pass unmodified', { skip }, () => {
  reset();
  installRuleText(dp, 'dir: out, SPI: 44, exp. src: HoA, remap. src: CoA', A, { peer: 'CN' });
  dp.setMembers('hoas', [A.HoA]);
  dp.setMembers('peers', [A.CN]);
  const pkts = [
    frame({ src: A.HoA, dst: A.CN, payload: { tcp: { sport: 1000, dport: 22 } } }),
    frame({ src: A.HoA, dst: A.CN, payload: { udp: { sport: 1000, dport: 53 } } }),
    frame({ src: A.HoA, dst: A.CN, payload: { icmp6: { type: 128, body: Buffer.from('00010001', 'hex') } } }),
  ];
  for (const p of pkts) {
    for (const prog of ['iro_egress', 'iro_ingress'] as const) {
      const r = run(prog, p);
      assert.equal(r.retval, PASS);
      assert.deepEqual(r.data, p);
    }
  }
  const ipv4 = Buffer.concat([Buffer.alloc(12, 1), Buffer.from([0x08, 0x00]), Buffer.alloc(40, 0x45)]);
  assert.deepEqual(run('iro_egress', ipv4).data, ipv4, 'IPv4 frames are not ours');
});

test('C14 UDP-encapsulated ESP (port 4500) is ignored and counted', { skip }, () => {
  reset();
  installRuleText(dp, 'dir: out, SPI: 44, exp. src: HoA, remap. src: CoA', A, { peer: 'CN' });
  const before = dp.stats().udp_encap;
  const natt = Buffer.concat([Buffer.from('0000002c', 'hex'), Buffer.alloc(12, 7)]); // SPI 44 inside UDP
  for (const ports of [{ sport: 4500, dport: 4500 }, { sport: 51000, dport: 4500 }]) {
    const p = frame({ src: A.HoA, dst: A.CN, payload: { udp: { ...ports, body: natt } } });
    const r = run('iro_egress', p);
    assert.equal(r.retval, PASS);
    assert.deepEqual(r.data, p);
  }
  assert.equal(dp.stats().udp_encap, before + 2n);
});

test('C15 unknown SPI from a local HoA to an IRO peer: miss event and drop (fail closed), or pass when configured', { skip }, () => {
  reset();
  dp.setMembers('hoas', [A.HoA]);
  dp.setMembers('peers', [A.CN]);
  const pkt = frame({ src: A.HoA, dst: A.CN, payload: { esp: { spi: 0x1234 } } });
  const r = run('iro_egress', pkt);
  assert.equal(r.retval, SHOT, 'dropped by default');
  const ev = dp.pollEvents(100);
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.kind, EventKind.Miss);
  assert.equal(ev[0]!.spi, 0x1234);
  assert.equal(ev[0]!.dropped, true);
  assert.ok(sameAddr(ev[0]!.src, A.HoA) && sameAddr(ev[0]!.dst, A.CN));

  dp.configure({ missPolicy: 'pass' });
  const r2 = run('iro_egress', pkt);
  assert.equal(r2.retval, PASS);
  assert.deepEqual(r2.data, pkt);
  const ev2 = dp.pollEvents(100);
  assert.equal(ev2.length, 1);
  assert.equal(ev2[0]!.dropped, false);

  // not from a HoA, or not to an IRO peer: plain untracked traffic, no event, not dropped
  for (const p of [
    frame({ src: A.CoA, dst: A.CN, payload: { esp: { spi: 0x1234 } } }),
    frame({ src: A.HoA, dst: A.Other, payload: { esp: { spi: 0x1234 } } }),
  ]) {
    dp.configure({ missPolicy: 'drop' });
    assert.equal(run('iro_egress', p).retval, PASS);
  }
  assert.equal(dp.pollEvents(50).length, 0);
});

test('C15 miss events are rate limited per (proto, SPI, peer)', { skip }, () => {
  reset();
  dp.setMembers('hoas', [A.HoA]);
  dp.setMembers('peers', [A.CN]);
  dp.configure({ missEventIntervalMs: 60_000 });
  const pkt = frame({ src: A.HoA, dst: A.CN, payload: { esp: { spi: 0x5555 } } });
  for (let i = 0; i < 50; i++) assert.equal(run('iro_egress', pkt).retval, SHOT);
  assert.equal(dp.pollEvents(100).length, 1, 'one event for 50 packets of the same flow');
  run('iro_egress', frame({ src: A.HoA, dst: A.CN, payload: { esp: { spi: 0x5556 } } }));
  assert.equal(dp.pollEvents(100).length, 1, 'a new SPI reports again');
});

test('C17 replacing CoA1 by CoA2 takes effect on the next packet, and a packet never sees a half-written rule', { skip }, async () => {
  reset();
  installRuleText(dp, 'dir: out, SPI: 44, exp. src: HoA, remap. src: CoA', A, { peer: 'CN' });
  const pkt = frame({ src: A.HoA, dst: A.CN, payload: { esp: { spi: 44 } } });
  assert.ok(sameAddr(frameAddrs(run('iro_egress', pkt).data).src, A.CoA));
  installRuleText(dp, 'dir: out, SPI: 44, exp. src: HoA, remap. src: CoA2', A, { peer: 'CN' });
  assert.ok(sameAddr(frameAddrs(run('iro_egress', pkt).data).src, A.CoA2), 'next packet uses the new CoA');

  // A second process flips the rule between two CoAs as fast as it can while we run packets.
  // Two CoAs that differ in every word: a torn value would show a mix.
  const coaX = '2001:db8:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa';
  const coaY = '2001:db8:5555:5555:5555:5555:5555:5555';
  const script = `
    import { Datapath } from './src/datapath/datapath.ts';
    import { resolveRules, buildEntries } from './src/datapath/rules.ts';
    import { parseRuleSet } from './src/datapath/rule-syntax.ts';
    const dp = Datapath.open(${JSON.stringify(dp.testPaths)});
    const env = ${JSON.stringify({ ...A, X: coaX, Y: coaY })};
    const mk = (c) => [...buildEntries(resolveRules(parseRuleSet('dir: out, SPI: 44, exp. src: HoA, remap. src: ' + c), env, { peer: 'CN' })).values()][0];
    const ex = mk('X'), ey = mk('Y');
    const end = Date.now() + 1500;
    let n = 0;
    while (Date.now() < end) { dp.putEntry(n++ % 2 ? ex : ey); }
    console.log(n);
    dp.close();
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  let updates = '';
  child.stdout.on('data', (d) => (updates += d));
  const seen = new Set<string>();
  const okX = ip6(coaX).toString('hex');
  const okY = ip6(coaY).toString('hex');
  const okOld = ip6(A.CoA2).toString('hex');
  const deadline = Date.now() + 1400;
  let runs = 0;
  await new Promise((r) => setTimeout(r, 100));
  while (Date.now() < deadline) {
    const out = run('iro_egress', pkt).data.subarray(22, 38).toString('hex');
    seen.add(out);
    runs++;
    if (runs % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => child.on('exit', r));
  for (const s of seen) assert.ok(s === okX || s === okY || s === okOld, `torn or unexpected source ${s}`);
  assert.ok(Number(updates) > 1000, `the writer made ${updates.trim()} updates`);
  assert.ok(seen.has(okX) && seen.has(okY), `both CoAs observed over ${runs} packets`);
});

test('HoA guard (IRO App. J): away from home nothing leaves an Ethernet device with a HoA as source, unless remapped', { skip }, () => {
  reset();
  dp.setMembers('hoas', [A.HoA]);
  installRuleText(dp, 'dir: out, SPI: 44, exp. src: HoA, remap. src: CoA', A, { peer: 'CN' });
  const icmpErr = frame({ src: A.HoA, dst: A.CoA, payload: { icmp6: { type: 1, code: 3, body: Buffer.alloc(60) } } });
  const udp = frame({ src: A.HoA, dst: A.CN, payload: { udp: { sport: 5353, dport: 53 } } });
  const espKnownNoRule = frame({ src: A.HoA, dst: A.CN, payload: { esp: { spi: 4545 } } });
  const remapped = frame({ src: A.HoA, dst: A.CN, payload: { esp: { spi: 44 } } });
  const fromCoa = frame({ src: A.CoA, dst: A.CN, payload: { udp: { sport: 5353, dport: 53 } } });
  dp.setHoaGuard(false);
  for (const p of [icmpErr, udp, espKnownNoRule]) assert.equal(run('iro_egress', p).retval, PASS, 'at home: the HoA is a normal address');
  dp.setHoaGuard(true);
  const before = dp.stats().hoa_guard_drop;
  for (const p of [icmpErr, udp, espKnownNoRule]) assert.equal(run('iro_egress', p).retval, SHOT);
  assert.equal(dp.stats().hoa_guard_drop, before + 3n);
  const r = run('iro_egress', remapped);
  assert.equal(r.retval, PASS, 'a remapped packet leaves with the CoA');
  assert.ok(sameAddr(frameAddrs(r.data).src, A.CoA));
  assert.equal(run('iro_egress', fromCoa).retval, PASS);
  assert.equal(run('iro_ingress', udp).retval, PASS, 'ingress is not guarded');
  dp.setHoaGuard(false);
});
