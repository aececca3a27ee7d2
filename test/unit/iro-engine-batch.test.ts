// IroEngine.batch: a restarted engine gives the adopted rule map its whole first picture in one
// reconcile, so unchanged rules see no map operation at all (L05, engine level); without it each
// input reconciles a partial state (e.g. the CoA before any SA: every pinned rule deleted).
import test from 'node:test';
import assert from 'node:assert/strict';
import { IroEngine } from '../../src/iro/engine.ts';
import type { SaEvent, SaInfo } from '../../src/ipsec/model.ts';
import { MemoryDatapath } from '../lib/memory-datapath.ts';

const HOA = '2001:db8:1::100';
const COA = '2001:db8:a::100';
const CN = '2001:db8:c::10';

function sa(saddr: string, daddr: string, spi: number, proto = 0): SaInfo {
  return { key: { proto: 'esp', spi, daddr }, saddr, mode: 'transport', reqid: 1, selector: { src: saddr, dst: daddr, srcLen: 128, dstLen: 128, proto }, state: 'mature', sources: ['xfrm'] };
}

const collect: SaEvent[] = [sa(HOA, CN, 0x100), sa(CN, HOA, 0x101), sa(HOA, CN, 0x102, 135), sa(CN, HOA, 0x103, 135)].map((s) => ({ type: 'sa-added', sa: s }));

function engine(dp: MemoryDatapath) {
  return new IroEngine({ role: 'mn', hoas: [HOA], localAddrs: [], peers: [{ address: CN, kind: 'cn', mode: 'iro' }], datapath: dp });
}

function startup(e: IroEngine) {
  e.onSaEvents(collect);
  e.setCoa(COA, 4);
  e.setMyBinding(CN, { coa: COA, state: 'effective' });
}

/** The map a first engine left behind (what a restart adopts). */
function pinned(): MemoryDatapath {
  const dp = new MemoryDatapath();
  startup(engine(dp));
  dp.ops = 0;
  return dp;
}

test('L05 a restarted engine fed in one batch changes nothing in an adopted map that is still right', () => {
  const dp = pinned();
  const before = dp.snapshot();
  const e = engine(dp);
  const r = e.batch(() => startup(e));
  assert.deepEqual({ put: r.put, deleted: r.deleted, unchanged: r.unchanged }, { put: 0, deleted: 0, unchanged: 4 });
  assert.equal(dp.ops, 0);
  assert.deepEqual(dp.snapshot(), before);
});

test('L05 without a batch the same inputs touch the adopted map (why batch exists)', () => {
  const dp = pinned();
  const e = engine(dp);
  startup(e);
  assert.ok(dp.ops > 0, 'intermediate partial states were reconciled');
});

test('L05 a batch after a change while the engine was down: only the difference is written', () => {
  const dp = pinned();
  const e = engine(dp);
  const r = e.batch(() => {
    e.onSaEvents(collect.filter((x) => x.type === 'sa-added' && x.sa.key.spi !== 0x103)); // the MH in SA went away
    e.setCoa(COA, 4);
    e.setMyBinding(CN, { coa: COA, state: 'effective' });
  });
  assert.deepEqual({ put: r.put, deleted: r.deleted }, { put: 0, deleted: 1 });
  assert.equal(dp.ops, 1);
});

test('batch: inputs inside return without touching the map, nested batches reconcile once at the end, an input after it syncs at once', () => {
  const dp = new MemoryDatapath();
  const e = engine(dp);
  let inner: unknown;
  const r = e.batch(() => {
    inner = e.batch(() => e.onSaEvents(collect));
    assert.equal(dp.map.size, 0, 'nothing before the outer batch ends');
    assert.deepEqual(e.setCoa(COA, 4), { put: 0, deleted: 0, unchanged: 0, alerts: [] });
  });
  assert.deepEqual(inner, { put: 0, deleted: 0, unchanged: 0, alerts: [] });
  assert.equal(r.put, 4);
  assert.equal(e.setMyBinding(CN, { coa: COA, state: 'effective' }).put, 1, 'the data source rule, right away');
});
