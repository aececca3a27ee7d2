// resolveMiss (issue 5 item 4, OP-18) with a fake GETSA, the real SADB mirror and the real engine
// on the in-memory rule map: a miss event for an SA the engine has not heard of ends with its
// rule installed; races, vanished SAs, untracked SAs and other events are told apart.
import test from 'node:test';
import assert from 'node:assert/strict';
import { resolveMiss } from '../../src/iro/miss.ts';
import { IroEngine } from '../../src/iro/engine.ts';
import { SadbMirror } from '../../src/ipsec/mirror.ts';
import { Dir, EventKind, type DatapathEvent } from '../../src/datapath/abi.ts';
import type { XfrmSa, XfrmSaId } from '../../src/kernel/xfrm/model.ts';
import { MemoryDatapath } from '../lib/memory-datapath.ts';

const HOA = '2001:db8:1::100';
const COA = '2001:db8:a::100';
const CN = '2001:db8:c::10';
const OTHER = '2001:db8:e::1';

function kernelSa(saddr: string, daddr: string, spi: number): XfrmSa {
  // only the fields the XFRM adapter reads
  return {
    id: { daddr, spi, proto: 50, family: 10 },
    saddr,
    family: 10,
    mode: 0,
    reqid: 7,
    selector: { family: 10, saddr, daddr, prefixlenS: 128, prefixlenD: 128, proto: 0, sport: 0, sportMask: 0, dport: 0, dportMask: 0, ifindex: 0, user: 0 },
  } as unknown as XfrmSa;
}

function fakeXfrm(sas: XfrmSa[]) {
  const asked: XfrmSaId[] = [];
  return {
    asked,
    getSa: async (id: XfrmSaId) => {
      asked.push(id);
      return sas.find((s) => s.id.daddr === id.daddr && s.id.spi === id.spi && s.id.proto === id.proto) ?? null;
    },
  };
}

function miss(spi: number, dst = CN, over: Partial<DatapathEvent> = {}): DatapathEvent {
  return { kind: EventKind.Miss, ifindex: 2, dir: Dir.Out, proto: 50, dropped: true, spi, src: HOA, dst, tsNs: 1n, ...over };
}

function mn() {
  const dp = new MemoryDatapath();
  const engine = new IroEngine({ role: 'mn', hoas: [HOA], localAddrs: [], peers: [{ address: CN, kind: 'cn', mode: 'iro' }], datapath: dp });
  engine.setCoa(COA, 3);
  engine.setMyBinding(CN, { coa: COA, state: 'effective' });
  return { dp, engine, mirror: new SadbMirror() };
}

test('OP-18 a miss for an SA the engine does not know: GETSA (daddr, SPI, proto), mirror + engine learn it, the rule is in the map', async () => {
  const { dp, engine, mirror } = mn();
  const xfrm = fakeXfrm([kernelSa(HOA, CN, 0x5000)]);
  const r = await resolveMiss(miss(0x5000), { xfrm, mirror, engine });
  assert.equal(r.outcome, 'resolved');
  assert.deepEqual(xfrm.asked, [{ daddr: CN, spi: 0x5000, proto: 50, family: 10 }]);
  assert.ok(mirror.get({ proto: 'esp', spi: 0x5000, daddr: CN }), 'the mirror has it');
  const entry = [...dp.map.values()].find((v) => v.entry.id === `out/esp/${0x5000}/${CN}`);
  assert.ok(entry, 'the rule is installed');
  assert.deepEqual(entry.entry.src?.remap, { address: COA }, 'data source HoA -> CoA');
  if (r.outcome === 'resolved') assert.equal(r.sync?.put, 1);
});

test('OP-18 the mirror already has the SA but the engine has not seen its event yet: the engine is told anyway', async () => {
  const { dp, engine, mirror } = mn();
  const xfrm = fakeXfrm([kernelSa(HOA, CN, 0x5001)]);
  mirror.apply({ kind: 'sa-upsert', sa: { key: { proto: 'esp', spi: 0x5001, daddr: CN }, saddr: HOA, mode: 'transport', reqid: 7, selector: { src: HOA, dst: CN, srcLen: 128, dstLen: 128, proto: 0 }, state: 'mature', sources: ['xfrm'] }, source: 'xfrm' });
  const r = await resolveMiss(miss(0x5001), { xfrm, mirror, engine });
  assert.equal(r.outcome, 'resolved');
  assert.equal(dp.map.size, 1);
});

test('OP-18 a miss that raced the SA event (engine already has rule): known, no GETSA', async () => {
  const { engine, mirror } = mn();
  const xfrm = fakeXfrm([kernelSa(HOA, CN, 0x5002)]);
  assert.equal((await resolveMiss(miss(0x5002), { xfrm, mirror, engine })).outcome, 'resolved');
  xfrm.asked.length = 0;
  assert.equal((await resolveMiss(miss(0x5002), { xfrm, mirror, engine })).outcome, 'known');
  assert.deepEqual(xfrm.asked, []);
});

test('OP-18 the SA is gone from the kernel: no-sa, nothing installed; an SA IRO does not track: untracked', async () => {
  const { dp, engine, mirror } = mn();
  const xfrm = fakeXfrm([kernelSa(HOA, OTHER, 0x5003)]);
  assert.deepEqual(await resolveMiss(miss(0x5009), { xfrm, mirror, engine }), { outcome: 'no-sa', key: { proto: 'esp', spi: 0x5009, daddr: CN } });
  assert.equal(dp.map.size, 0);
  const r = await resolveMiss(miss(0x5003, OTHER), { xfrm, mirror, engine });
  assert.equal(r.outcome, 'untracked', 'a peer that is not configured gets no rule');
  assert.equal(dp.map.size, 0);
});

test('OP-18 events that are not outgoing misses are ignored without a kernel lookup', async () => {
  const { engine, mirror } = mn();
  const xfrm = fakeXfrm([]);
  for (const e of [miss(1, CN, { kind: EventKind.Mismatch }), miss(1, CN, { dir: Dir.In }), miss(1, CN, { proto: 17 })]) {
    assert.equal((await resolveMiss(e, { xfrm, mirror, engine })).outcome, 'ignored');
  }
  assert.deepEqual(xfrm.asked, []);
});
