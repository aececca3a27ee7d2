// AncillaryChannel.incoming with a fake port: exact per-packet records through the mark, the
// per-SPI fallback, and "unchanged" for a packet without a record (OP-11, DESIGN decision 5).
import test from 'node:test';
import assert from 'node:assert/strict';
import { AncillaryChannel, type AncillaryPort } from '../../src/iro/ancillary.ts';
import type { AncInRecord } from '../../src/datapath/abi.ts';

const COA = '2001:db8:a::100';
const COA2 = '2001:db8:a::200';
const NOW = 10_000_000_000n;

function rec(origSrc: string, spi: number, tsNs = NOW - 1_000_000n): AncInRecord {
  return { origSrc, origDst: '::', spi, seq: 1, proto: 50, ifindex: 2, tsNs };
}

/** A data path with one ring slot (mark 0x00010000 -> slot 1) and per-SPI records. */
function port(o: { marked: boolean; ring?: AncInRecord; perSpi?: Map<number, AncInRecord> }): AncillaryPort {
  return {
    ancillarySlots: () => 255,
    ancillaryMark: (slot) => slot << 16,
    setAncillaryOut: () => undefined,
    ancillaryInFromMark: (mark) => ((mark & 0x00ff0000) >>> 16 === 1 ? (o.ring ?? null) : null),
    ancillaryInForSpi: (_p, spi) => o.perSpi?.get(spi) ?? null,
    ancillaryInMarked: () => o.marked,
  };
}

const MH_SA = [{ proto: 'esp' as const, spi: 44 }];

test('OP-11 a marked packet is matched to its own record (exact), not to the newer per-SPI record of another packet', () => {
  const ch = new AncillaryChannel(port({ marked: true, ring: rec(COA, 44), perSpi: new Map([[44, rec(COA2, 44, NOW)]]) }));
  assert.deepEqual(ch.incoming(0x00010000, MH_SA, NOW, true), { src: COA, dst: '::', spi: 44, proto: 'esp', exact: true });
});

test('OP-11 with marks delivered and written, a packet without a slot was not remapped: unchanged, even if the SPI has a fresh record', () => {
  const ch = new AncillaryChannel(port({ marked: true, perSpi: new Map([[44, rec(COA, 44)]]) }));
  assert.deepEqual(ch.incoming(0, MH_SA, NOW, true), { src: '::', dst: '::', exact: true });
});

test('OP-11 fallback: the data path writes no marks (ancillaryInMark off) but the socket delivers mark 0: the per-SPI record is used (exact=false)', () => {
  const ch = new AncillaryChannel(port({ marked: false, perSpi: new Map([[44, rec(COA, 44)]]) }));
  assert.deepEqual(ch.incoming(0, MH_SA, NOW, true), { src: COA, dst: '::', spi: 44, proto: 'esp', exact: false });
});

test('OP-11 fallback: no SO_RCVMARK at all (no mark): the per-SPI record within its age window, else unchanged', () => {
  const ch = new AncillaryChannel(port({ marked: true, perSpi: new Map([[44, rec(COA, 44)]]) }), { ttlMs: 2000, maxRecordAgeMs: 2000 });
  assert.equal(ch.incoming(undefined, MH_SA, NOW, false).src, COA);
  assert.deepEqual(ch.incoming(undefined, MH_SA, NOW + 3_000_000_000n, false), { src: '::', dst: '::', exact: true }, 'a record older than 2 s is not this packet');
  assert.deepEqual(ch.incoming(undefined, [{ proto: 'esp', spi: 46 }], NOW, false), { src: '::', dst: '::', exact: true }, 'no record for the candidate SAs');
});
