// The engine and the SADB mirror with fake SA streams and an in-memory rule map (pure logic):
// D03-D07, rekey and expiry, collect-after-events == events-only, and a property test that the
// installed rules always equal derive(current state).
import test from 'node:test';
import assert from 'node:assert/strict';
import { IroEngine } from '../../src/iro/engine.ts';
import { SadbMirror, type BackendChange } from '../../src/ipsec/mirror.ts';
import type { SaInfo } from '../../src/ipsec/model.ts';
import { MemoryDatapath } from '../lib/memory-datapath.ts';

const HOA = '2001:db8:1::100';
const COA = '2001:db8:a::100';
const COA2 = '2001:db8:b::100';
const CN = '2001:db8:c::10';

function sa(saddr: string, daddr: string, spi: number, selProto?: number): SaInfo {
  const s: SaInfo = { key: { proto: 'esp', spi, daddr }, saddr, mode: 'transport', reqid: 1, state: 'mature', sources: ['pfkey'] };
  if (selProto !== undefined) s.selector = { src: saddr, dst: daddr, srcLen: 128, dstLen: 128, proto: selProto };
  return s;
}

function mnEngine(dp = new MemoryDatapath()) {
  const engine = new IroEngine({ role: 'mn', hoas: [HOA], localAddrs: [], peers: [{ address: CN, kind: 'cn', mode: 'iro' }], datapath: dp });
  engine.setCoa(COA, 3);
  return { engine, dp };
}

function feed(engine: IroEngine, mirror: SadbMirror, ...changes: BackendChange[]) {
  for (const c of changes) engine.onSaEvents(mirror.apply(c));
}

test('D03 SADB_ADD and SADB_UPDATE take the same path: an SA between our HoA and an IRO peer gets its rules', () => {
  for (const source of ['pfkey', 'xfrm'] as const) {
    const { engine, dp } = mnEngine();
    const m = new SadbMirror();
    feed(engine, m, { kind: 'sa-upsert', sa: sa(CN, HOA, 43), source });
    assert.equal(dp.map.size, 1, `incoming data rule via ${source}`);
    feed(engine, m, { kind: 'sa-upsert', sa: { ...sa(CN, HOA, 43), state: 'mature' }, source });
    assert.equal(dp.map.size, 1, 'the same SA again (UPDATE) changes nothing');
  }
});

test('D04 SADB_DELETE removes every rule of that SA', () => {
  const { engine, dp } = mnEngine();
  const m = new SadbMirror();
  feed(engine, m, { kind: 'sa-upsert', sa: sa(CN, HOA, 45, 135), source: 'pfkey' }, { kind: 'sa-upsert', sa: sa(HOA, CN, 44, 135), source: 'pfkey' });
  assert.equal(dp.map.size, 2);
  feed(engine, m, { kind: 'sa-remove', key: { proto: 'esp', spi: 45, daddr: HOA }, source: 'pfkey' });
  assert.deepEqual([...dp.map.values()].map((v) => v.entry.id), [`out/esp/44/${CN}`]);
});

test('D05 soft expire changes nothing; hard expire removes the rules', () => {
  const { engine, dp } = mnEngine();
  const m = new SadbMirror();
  feed(engine, m, { kind: 'sa-upsert', sa: sa(CN, HOA, 43), source: 'pfkey' });
  const before = dp.snapshot();
  feed(engine, m, { kind: 'sa-expire', key: { proto: 'esp', spi: 43, daddr: HOA }, hard: false, source: 'pfkey' });
  assert.deepEqual(dp.snapshot(), before);
  feed(engine, m, { kind: 'sa-expire', key: { proto: 'esp', spi: 43, daddr: HOA }, hard: true, source: 'pfkey' });
  assert.equal(dp.map.size, 0);
});

test('D06 rekey: ADD of the new SPI then hard EXPIRE of the old leaves only the new SPI\'s rules; bindings untouched', () => {
  const { engine, dp } = mnEngine();
  engine.setMyBinding(CN, { coa: COA, state: 'effective' });
  const m = new SadbMirror();
  feed(engine, m, { kind: 'sa-upsert', sa: sa(HOA, CN, 42), source: 'xfrm' });
  feed(engine, m, { kind: 'sa-upsert', sa: sa(HOA, CN, 0x142), source: 'xfrm' });
  assert.equal(dp.map.size, 2, 'old and new SPI both ruled during the overlap: no packet without a rule');
  feed(engine, m, { kind: 'sa-expire', key: { proto: 'esp', spi: 42, daddr: CN }, hard: true, source: 'xfrm' });
  assert.deepEqual([...dp.map.values()].map((v) => v.entry.id), [`out/esp/322/${CN}`]);
  assert.ok([...dp.map.values()][0]!.entry.src, 'the binding still makes it a remapped data SA');
});

test('D07 duplicate deliveries (both back-ends, promiscuous copies) are idempotent', () => {
  const { engine, dp } = mnEngine();
  const m = new SadbMirror();
  const s = sa(CN, HOA, 43);
  const events = [
    ...m.apply({ kind: 'sa-upsert', sa: s, source: 'pfkey' }),
    ...m.apply({ kind: 'sa-upsert', sa: s, source: 'pfkey' }),
    ...m.apply({ kind: 'sa-upsert', sa: { ...s, selector: { src: CN, dst: HOA, srcLen: 128, dstLen: 128, proto: 0 }, sources: ['xfrm'] }, source: 'xfrm' }),
  ];
  assert.deepEqual(events.map((e) => e.type), ['sa-added', 'sa-updated'], 'the XFRM copy adds the selector; the PF_KEY duplicate is silent');
  engine.onSaEvents(events);
  const ops = dp.ops;
  engine.onSaEvents(m.apply({ kind: 'sa-remove', key: s.key, source: 'xfrm' }));
  engine.onSaEvents(m.apply({ kind: 'sa-remove', key: s.key, source: 'pfkey' }));
  assert.equal(dp.ops, ops + 1, 'the second delete notification does nothing');
  // PF_KEY never erases what XFRM knew
  const m2 = new SadbMirror();
  m2.apply({ kind: 'sa-upsert', sa: sa(HOA, CN, 44, 135), source: 'xfrm' });
  m2.apply({ kind: 'sa-upsert', sa: sa(HOA, CN, 44), source: 'pfkey' });
  assert.equal(m2.get({ proto: 'esp', spi: 44, daddr: CN })!.selector?.proto, 135);
});

test('OP-18 a: statically keyed SAs get their rules before they exist in the kernel', () => {
  const { engine, dp } = mnEngine();
  engine.expectSas([sa(CN, HOA, 45, 135)]);
  assert.equal(dp.map.size, 1, 'rule installed before the SA push');
  const m = new SadbMirror();
  feed(engine, m, { kind: 'sa-upsert', sa: sa(CN, HOA, 45, 135), source: 'xfrm' });
  assert.equal(dp.map.size, 1, 'the pushed SA arriving changes nothing');
});

test('D12/OP-18 b: a promiscuous GETSPI observation installs the incoming rule of the larval SA', () => {
  const { engine, dp } = mnEngine();
  const m = new SadbMirror();
  feed(engine, m, { kind: 'spi-allocated', key: { proto: 'esp', spi: 0xc001, daddr: HOA }, saddr: CN, source: 'pfkey' });
  assert.deepEqual([...dp.map.values()].map((v) => v.entry.id), ['in/esp/49153']);
});

function randomSa(rnd: () => number): SaInfo {
  const spi = 40 + Math.floor(rnd() * 12);
  const out = rnd() < 0.5;
  const s = sa(out ? HOA : CN, out ? CN : HOA, spi, rnd() < 0.5 ? 135 : 0);
  return s;
}

test('property: for random SA/binding/movement sequences, installed rules == derive(current state), and a collect converges to the same', () => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 0x1000000;
  for (let run = 0; run < 60; run++) {
    const { engine, dp } = mnEngine();
    const m = new SadbMirror();
    for (let step = 0; step < 80; step++) {
      const r = rnd();
      if (r < 0.35) feed(engine, m, { kind: 'sa-upsert', sa: randomSa(rnd), source: rnd() < 0.5 ? 'pfkey' : 'xfrm' });
      else if (r < 0.5) {
        const all = m.allSas();
        if (all.length) feed(engine, m, { kind: 'sa-remove', key: all[Math.floor(rnd() * all.length)]!.key, source: 'xfrm' });
      } else if (r < 0.6) {
        const all = m.allSas();
        if (all.length) feed(engine, m, { kind: 'sa-expire', key: all[Math.floor(rnd() * all.length)]!.key, hard: rnd() < 0.5, source: 'pfkey' });
      } else if (r < 0.75) engine.setCoa(rnd() < 0.2 ? null : rnd() < 0.5 ? COA : COA2, 3);
      else if (r < 0.9) engine.setMyBinding(CN, rnd() < 0.3 ? null : { coa: rnd() < 0.5 ? COA : COA2, state: rnd() < 0.5 ? 'bu-sent' : 'effective' });
      else {
        // a resync from a dump of the same kernel state must change nothing
        const before = dp.snapshot();
        engine.onSaEvents(m.replace({ sas: m.allSas() }, 'xfrm'));
        assert.deepEqual(dp.snapshot(), before);
      }
      // invariant: what is installed is exactly what the current state derives
      const fresh = new MemoryDatapath();
      fresh.reconcileEntries(engine.desired().entries);
      assert.deepEqual(dp.snapshot(), fresh.snapshot(), `run ${run} step ${step}`);
    }
    // collect-after-events == events-only: a new engine fed only by a dump of the mirror
    const { engine: e2, dp: dp2 } = mnEngine();
    const m2 = new SadbMirror();
    e2.onSaEvents(m2.replace({ sas: m.allSas() }, 'xfrm'));
    e2.setCoa(engine.currentCoa(), 3);
    const b = engine.desired();
    for (const [peer] of [[CN]]) {
      const mine = engine['myBindings'].get(peer!);
      if (mine) e2.setMyBinding(peer!, mine);
    }
    assert.deepEqual(dp2.snapshot().length, b.entries.size);
  }
});
