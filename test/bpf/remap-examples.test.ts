// The four rule sets of IRO §5.2.2, installed from the draft's own text on one end and their
// mirror sets on the other end: every packet crosses "the wire" from one data path to the
// other and must arrive with the addresses it was sent with, while the wire carries CoAs.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '../lib/capabilities.ts';
import { frame, frameAddrs, sameAddr } from '../lib/packets.ts';
import { skbCtx } from '../lib/skb.ts';
import { iroRuleExamples } from '../lib/spec.ts';
import { openTestDatapath, destroyQuietly, installRuleText } from '../lib/datapath-fixture.ts';
import type { Datapath } from '../../src/datapath/datapath.ts';

const skip = skipUnless('bpf');
const ENV = {
  HoA: '2001:db8:1::100',
  CoA: '2001:db8:a::100',
  A: '2001:db8:c::1',
  HoA1: '2001:db8:1::100',
  CoA1: '2001:db8:a::100',
  HoA2: '2001:db8:2::200',
  CoA2: '2001:db8:b::200',
};

let left: Datapath; // the draft's node (MN / MN1)
let right: Datapath; // the other end (CN / MN2)
before(() => {
  if (skip) return;
  left = openTestDatapath('ex-left');
  right = openTestDatapath('ex-right');
});
after(() => {
  if (left) destroyQuietly(left);
  if (right) destroyQuietly(right);
});

function reset(): void {
  left.reconcileEntries(new Map());
  right.reconcileEntries(new Map());
}

/** Send from one end: egress there, then ingress on the other end. */
function cross(from: Datapath, to: Datapath, p: { src: string; dst: string; spi: number; mark?: number }) {
  const sent = from.programs.iro_egress.testRun(frame({ src: p.src, dst: p.dst, payload: { esp: { spi: p.spi } } }), { ctx: skbCtx({ mark: p.mark ?? 0 }) });
  const wire = frameAddrs(sent.data);
  const got = to.programs.iro_ingress.testRun(sent.data);
  return { wire, delivered: frameAddrs(got.data) };
}

function expectPath(r: ReturnType<typeof cross>, wire: [string, string], delivered: [string, string], what: string) {
  assert.ok(sameAddr(r.wire.src, wire[0]) && sameAddr(r.wire.dst, wire[1]), `${what}: on the wire ${r.wire.src} -> ${r.wire.dst}`);
  assert.ok(sameAddr(r.delivered.src, delivered[0]) && sameAddr(r.delivered.dst, delivered[1]), `${what}: delivered ${r.delivered.src} -> ${r.delivered.dst}`);
}

test('IRO §5.2.2 example 1 (MN data flow with a CN) and its CN mirror: B05, C01, C04', { skip }, () => {
  reset();
  installRuleText(left, iroRuleExamples()[0]!, ENV, { peer: 'A' });
  installRuleText(right, 'dir: in , SPI: 42, exp. src: CoA, remap. src: HoA\ndir: out, SPI: 43, exp. dst: HoA, remap. dst: CoA', ENV);
  expectPath(cross(left, right, { src: ENV.HoA, dst: ENV.A, spi: 42 }), [ENV.CoA, ENV.A], [ENV.HoA, ENV.A], 'MN -> CN');
  expectPath(cross(right, left, { src: ENV.A, dst: ENV.HoA, spi: 43 }), [ENV.A, ENV.CoA], [ENV.A, ENV.HoA], 'CN -> MN');
});

test('IRO §5.2.2 example 2 (MN MH flows with a CN) and the CN mirror with wildcard and ancillary: C05, C11', { skip }, () => {
  reset();
  installRuleText(left, iroRuleExamples()[1]!, ENV, { peer: 'A' });
  installRuleText(right, 'dir: in , SPI: 44, exp. src: ::, remap. src: HoA (ancillary)\ndir: out, SPI: 45, exp. dst: HoA, remap. dst: ancillary', ENV);
  expectPath(cross(left, right, { src: ENV.HoA, dst: ENV.A, spi: 44 }), [ENV.CoA, ENV.A], [ENV.HoA, ENV.A], 'BU MN -> CN');
  assert.ok(sameAddr(right.ancillaryInForSpi('esp', 44)!.origSrc, ENV.CoA), 'the CN learns the on-wire CoA');
  // the CN answers to the HoA with the CoA as ancillary data (rule 3)
  right.setAncillaryOut(1, { dst: ENV.CoA });
  expectPath(cross(right, left, { src: ENV.A, dst: ENV.HoA, spi: 45, mark: right.ancillaryMark(1) }), [ENV.A, ENV.CoA], [ENV.A, ENV.HoA], 'BA CN -> MN');
});

test('IRO §5.2.2 example 3 (MN-MN data) and the MN2 mirror: both fields remapped on both ends (C07)', { skip }, () => {
  reset();
  installRuleText(left, iroRuleExamples()[2]!, ENV);
  installRuleText(
    right,
    [
      'dir: out, SPI: 47, exp. src: HoA2, remap. src: CoA2',
      'dir: in , SPI: 46, exp. dst: CoA2, remap. dst: HoA2',
      'dir: out, SPI: 47, exp. dst: HoA1, remap. dst: CoA1',
      'dir: in , SPI: 46, exp. src: CoA1, remap. src: HoA1',
    ].join('\n'),
    ENV,
  );
  expectPath(cross(left, right, { src: ENV.HoA1, dst: ENV.HoA2, spi: 46 }), [ENV.CoA1, ENV.CoA2], [ENV.HoA1, ENV.HoA2], 'MN1 -> MN2');
  expectPath(cross(right, left, { src: ENV.HoA2, dst: ENV.HoA1, spi: 47 }), [ENV.CoA2, ENV.CoA1], [ENV.HoA2, ENV.HoA1], 'MN2 -> MN1');
});

test('IRO §5.2.2 example 4 (MN-MN MH flows, role-split SAs) and the MN2 side', { skip }, () => {
  reset();
  installRuleText(left, iroRuleExamples()[3]!, ENV, { peer: 'HoA2' });
  installRuleText(
    right,
    [
      'dir: in , SPI: 48, exp. src: ::, remap. src: HoA1 (ancillary)',
      'dir: out, SPI: 49, exp. dst: HoA1, remap. dst: ancillary',
      'dir: in , SPI: 50, exp. dst: CoA2, remap. dst: HoA2',
      'dir: out, SPI: 51, exp. src: HoA2, remap. src: ancillary',
    ].join('\n'),
    ENV,
    { peer: 'HoA1' },
  );
  // MN1's BU to MN2 (not yet registered): on the wire to HoA2 (the App. J leak), source CoA1 via ancillary
  left.setAncillaryOut(2, { src: ENV.CoA1 });
  expectPath(cross(left, right, { src: ENV.HoA1, dst: ENV.HoA2, spi: 48, mark: left.ancillaryMark(2) }), [ENV.CoA1, ENV.HoA2], [ENV.HoA1, ENV.HoA2], 'BU MN1 -> MN2');
  assert.ok(sameAddr(right.ancillaryInForSpi('esp', 48)!.origSrc, ENV.CoA1));
  // MN2 answers (AOTC/BA) to HoA1 with the tested CoA1 as ancillary
  right.setAncillaryOut(3, { dst: ENV.CoA1 });
  expectPath(cross(right, left, { src: ENV.HoA2, dst: ENV.HoA1, spi: 49, mark: right.ancillaryMark(3) }), [ENV.HoA2, ENV.CoA1], [ENV.HoA2, ENV.HoA1], 'AOTC MN2 -> MN1');
  // MN1 as correspondent of MN2: to MN2's registered CoA2
  expectPath(cross(left, right, { src: ENV.HoA1, dst: ENV.HoA2, spi: 50 }), [ENV.HoA1, ENV.CoA2], [ENV.HoA1, ENV.HoA2], 'BA MN1 -> MN2');
  // MN2's BU to MN1 from CoA2: blind source remap at MN1, recorded for the MIPv6 check
  right.setAncillaryOut(4, { src: ENV.CoA2 });
  expectPath(cross(right, left, { src: ENV.HoA2, dst: ENV.HoA1, spi: 51, mark: right.ancillaryMark(4) }), [ENV.CoA2, ENV.HoA1], [ENV.HoA2, ENV.HoA1], 'BU MN2 -> MN1');
  assert.ok(sameAddr(left.ancillaryInForSpi('esp', 51)!.origSrc, ENV.CoA2));
});
