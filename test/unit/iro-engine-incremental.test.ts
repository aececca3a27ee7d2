// The engine's incremental path: each input re-derives only the rule buckets it can affect and
// writes only the entries whose encoded value changed, against what it installed last (no map
// dump). Checked against the pure derivation: for random sequences over every role (SAs, rekeys,
// SPI collisions, policies, static announcements, bindings, CoA moves, batches), after every step
// the map equals deriveRules(current state), the writes equal the entries that changed between
// the derivation before and after (G14: a movement is one pass, and a minimal one), and status
// (rules with reasons, alerts, tracked SAs) equals the pure derivation's.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IroEngine, type RulePort, type SyncResult } from '../../src/iro/engine.ts';
import type { PeerConfig, Role } from '../../src/iro/classify.ts';
import { SadbMirror, type BackendChange } from '../../src/ipsec/mirror.ts';
import type { PolicyInfo, SaInfo } from '../../src/ipsec/model.ts';
import { sameEntryValue, writeEntryKey, writeEntryValue, type RuleEntry } from '../../src/datapath/rules.ts';
import { MemoryDatapath } from '../lib/memory-datapath.ts';

const HOA = '2001:db8:1::100';
const HOA2 = '2001:db8:1::101';
const LOCAL = '2001:db8:5::1';
const COAS = ['2001:db8:a::100', '2001:db8:b::100', '2001:db8:c::100'];
const PEERS: PeerConfig[] = [
  { address: '2001:db8:20::1', kind: 'cn', mode: 'iro' },
  { address: '2001:db8:20::2', kind: 'cn', mode: 'iro' },
  { address: '2001:db8:21::1', kind: 'mn', mode: 'iro' },
  { address: '2001:db8:22::1', kind: 'ha', mode: 'iro' },
  { address: '2001:db8:23::1', kind: 'cn', mode: 'tunnel-only' },
];

function encoded(entries: Iterable<RuleEntry>): Map<string, string> {
  const k = Buffer.alloc(24);
  const v = Buffer.alloc(80);
  const m = new Map<string, string>();
  for (const e of entries) {
    writeEntryKey(e, k, 0);
    writeEntryValue(e, 0, v, 0);
    m.set(k.toString('hex'), v.toString('hex'));
  }
  return m;
}

function changed(a: Map<string, string>, b: Map<string, string>): number {
  let n = 0;
  for (const [k, v] of b) if (a.get(k) !== v) n++;
  for (const k of a.keys()) if (!b.has(k)) n++;
  return n;
}

function sortedById<T extends { id: string }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function makeEngine(role: Role, dp: RulePort): IroEngine {
  return new IroEngine({ role, hoas: role === 'mn' ? [HOA, HOA2] : [], localAddrs: role === 'mn' ? [] : [LOCAL], peers: PEERS, datapath: dp });
}

test('G14 property: random inputs for MN, CN and HA: map == derive(state), writes == entries changed, status == pure derivation', () => {
  let seed = 1234;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 0x1000000;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let steps = 0;
  let writes = 0;
  for (let run = 0; run < 45; run++) {
    const role: Role = (['mn', 'cn', 'ha'] as const)[run % 3]!;
    const dp = new MemoryDatapath();
    const engine = makeEngine(role, dp);
    const mirror = new SadbMirror();
    const locals = role === 'mn' ? [HOA, HOA2] : [LOCAL];
    const randomSa = (): SaInfo => {
      const out = rnd() < 0.5;
      const l = rnd() < 0.9 ? pick(locals) : '2001:db8:99::1';
      const r = pick(PEERS).address;
      const s: SaInfo = {
        key: { proto: rnd() < 0.9 ? 'esp' : 'ah', spi: 300 + Math.floor(rnd() * 8), daddr: out ? r : l },
        saddr: out ? l : r,
        mode: rnd() < 0.93 ? 'transport' : 'tunnel',
        reqid: 1 + Math.floor(rnd() * 3),
        state: 'mature',
        sources: ['xfrm'],
      };
      if (rnd() < 0.7) s.selector = { src: s.saddr, dst: s.key.daddr, srcLen: 128, dstLen: 128, proto: pick([0, 135, 58, 6]) };
      if (rnd() < 0.2) s.dir = out ? 'out' : 'in';
      return s;
    };
    const policy = (): PolicyInfo => ({
      dir: 'out',
      selector: { src: pick(locals), dst: pick(PEERS).address, srcLen: 128, dstLen: 128, proto: pick([135, 58]) },
      priority: 1,
      index: 0,
      action: 'allow',
      templates: [{ proto: 'esp', reqid: 1 + Math.floor(rnd() * 3), mode: 'transport' }],
    });
    let prev = encoded(engine.desired().entries.values());
    let alive = false; // until the first sync nothing was written
    /** One random input; what it synced itself (null: nothing, or it waits for a sync). */
    const input = (): SyncResult | null => {
      const r = rnd();
      const feed = (c: BackendChange) => engine.onSaEvents(mirror.apply(c));
      if (r < 0.3) return feed({ kind: 'sa-upsert', sa: randomSa(), source: pick(['xfrm', 'pfkey'] as const) });
      else if (r < 0.4) {
        const all = mirror.allSas();
        if (all.length) return feed({ kind: 'sa-remove', key: pick(all).key, source: 'xfrm' });
      } else if (r < 0.47) {
        const all = mirror.allSas();
        if (all.length) return feed({ kind: 'sa-expire', key: pick(all).key, hard: rnd() < 0.6, source: 'xfrm' });
      } else if (r < 0.5) {
        const s = randomSa();
        return feed({ kind: 'spi-allocated', key: s.key, saddr: s.saddr, source: 'pfkey' });
      } else if (r < 0.55) return feed({ kind: rnd() < 0.6 ? 'policy-upsert' : 'policy-remove', policy: policy(), source: 'xfrm' });
      else if (r < 0.6) return engine.expectSas([randomSa(), randomSa()]);
      else if (r < 0.63) return engine.forgetExpected([randomSa().key]);
      else if (r < 0.7) return engine.setCoa(rnd() < 0.15 ? null : pick(COAS), 1 + Math.floor(rnd() * 3));
      else if (r < 0.78) return engine.setMyBinding(pick(PEERS).address, rnd() < 0.25 ? null : { coa: pick(COAS), state: pick(['none', 'bu-sent', 'effective'] as const) });
      else if (r < 0.86) {
        const b = rnd() < 0.2 ? null : { ...(rnd() < 0.7 ? { acceptedCoa: pick(COAS) } : {}), ...(rnd() < 0.5 ? { provenCoa: pick(COAS) } : {}) };
        return engine.setPeerBinding(pick(PEERS).address, b);
      } else if (r < 0.93) return engine.setHaBinding(pick(PEERS).address, rnd() < 0.25 ? null : { coa: pick(COAS) });
      else if (r < 0.97) engine.setPolicies(rnd() < 0.5 ? [] : [policy()]);
      else return engine.sync();
      return null;
    };
    for (let step = 0; step < 60; step++) {
      const ops0 = dp.ops;
      let reported = 0;
      let result: SyncResult;
      if (rnd() < 0.15) {
        // a movement: the CoA and every binding in one pass
        result = engine.batch(() => {
          const coa = pick(COAS);
          engine.setCoa(coa, 2);
          for (const p of PEERS) engine.setMyBinding(p.address, { coa, state: 'bu-sent' });
          input();
        });
      } else {
        const first = input();
        reported = first ? first.put + first.deleted : 0;
        result = engine.sync();
      }
      reported += result.put + result.deleted;
      const d = engine.desired();
      const now = encoded(d.entries.values());
      const where = `${role} run ${run} step ${step}`;
      assert.deepEqual(new Map([...dp.map.values()].map((v) => [v.entry.id, v.value])), new Map([...d.entries.values()].map((e) => [e.id, encoded([e]).values().next().value])), `${where}: map == derive(state)`);
      const expected: number = alive ? changed(prev, now) : now.size;
      assert.equal(dp.ops - ops0, expected, `${where}: writes == entries changed`);
      assert.equal(reported, expected, `${where}: reported writes`);
      assert.equal(result.unchanged, d.entries.size - result.put, `${where}: unchanged`);
      assert.deepEqual(result.alerts, d.alerts, `${where}: alerts, in SA order`);
      assert.deepEqual(
        sortedById(engine.rules().map((r) => ({ id: r.entry.id, entry: r.entry, reasons: r.reasons }))),
        sortedById([...d.entries.values()].map((e) => ({ id: e.id, entry: e, reasons: d.reasons.get(e.id)! }))),
        `${where}: rules and reasons`,
      );
      assert.deepEqual(engine.trackedSas(), d.tracked, `${where}: tracked SAs`);
      prev = now;
      alive = true;
      steps++;
      writes += expected;
    }
  }
  assert.ok(steps === 45 * 60 && writes > 500, `the sequences exercised the writes (${writes})`);
});

function mnWithCn(dp: RulePort) {
  const cn = PEERS[0]!.address;
  const engine = makeEngine('mn', dp);
  const mirror = new SadbMirror();
  const sa = (saddr: string, daddr: string, spi: number): SaInfo => ({
    key: { proto: 'esp', spi, daddr },
    saddr,
    mode: 'transport',
    reqid: 1,
    selector: { src: saddr, dst: daddr, srcLen: 128, dstLen: 128, proto: 0 },
    state: 'mature',
    sources: ['xfrm'],
  });
  return { engine, mirror, cn, sas: [sa(HOA, cn, 0x200), sa(cn, HOA, 0x201)] };
}

test('L05 the first sync compares with the map itself (adopted pins); later syncs write only what changed, without reading it', () => {
  const dp = new MemoryDatapath();
  const stale: RuleEntry = { id: 'out/esp/999/2001:db8:20::1', dir: 'out', proto: 'esp', spi: 999, peer: '2001:db8:20::1', oif: 0 };
  dp.reconcileEntries(new Map([[stale.id, stale]]));
  dp.ops = 0;
  const { engine, mirror, cn, sas } = mnWithCn(dp);
  engine.batch(() => {
    engine.onSaEvents(mirror.replace({ sas }, 'xfrm'));
    engine.setCoa(COAS[0]!, 2);
  });
  assert.equal(dp.ops, 3, 'two entries written, the stale one deleted');
  assert.ok(![...dp.map.values()].some((v) => v.entry.id === stale.id));

  // something else deletes an entry behind the engine's back: an incremental sync does not see it
  const inKey = [...dp.map].find(([, v]) => v.entry.dir === 'in')![0];
  dp.map.delete(inKey);
  const r = engine.setMyBinding(cn, { coa: COAS[0]!, state: 'effective' });
  assert.equal(r.put, 1, 'only the data source rule');
  assert.equal(dp.map.size, 1);
  // resync() compares with the map and restores it
  const rs = engine.resync();
  assert.equal(rs.put, 1);
  assert.deepEqual(dp.snapshot(), (() => {
    const fresh = new MemoryDatapath();
    fresh.reconcileEntries(engine.desired().entries);
    return fresh.snapshot();
  })());
});

test('a write that fails leaves the next sync comparing with the whole map, which converges', () => {
  const dp = new MemoryDatapath();
  let failNext = false;
  const port: RulePort = {
    reconcileEntries: (d) => dp.reconcileEntries(d),
    applyEntries: (put, remove) => {
      if (failNext) {
        failNext = false;
        // half done, as a batch that stopped in the middle would be
        if (put[0]) dp.applyEntries([put[0]], []);
        throw new Error('map full (simulated)');
      }
      return dp.applyEntries(put, remove);
    },
    setMembers: (w, a) => dp.setMembers(w, a),
  };
  const { engine, mirror, cn, sas } = mnWithCn(port);
  engine.onSaEvents(mirror.replace({ sas }, 'xfrm'));
  engine.setMyBinding(cn, { coa: COAS[0]!, state: 'effective' });
  failNext = true;
  assert.throws(() => engine.setCoa(COAS[1]!, 3), /simulated/);
  const r = engine.setMyBinding(cn, { coa: COAS[1]!, state: 'bu-sent' });
  assert.ok(r.unchanged >= 0);
  const fresh = new MemoryDatapath();
  fresh.reconcileEntries(engine.desired().entries);
  assert.deepEqual(dp.snapshot(), fresh.snapshot());
});

test('a binding change re-derives only that peer\'s SAs: one write at an MN with 500 CNs', () => {
  const dp = new MemoryDatapath();
  const cns = Array.from({ length: 500 }, (_, i) => `2001:db8:40:${i.toString(16)}::1`);
  const engine = new IroEngine({ role: 'mn', hoas: [HOA], localAddrs: [], peers: cns.map((address) => ({ address, kind: 'cn', mode: 'iro' })), datapath: dp });
  const sas: SaInfo[] = cns.flatMap((cn, i) => [
    { key: { proto: 'esp', spi: 0x1000 + 2 * i, daddr: cn }, saddr: HOA, mode: 'transport', reqid: 1, state: 'mature', sources: ['xfrm'] },
    { key: { proto: 'esp', spi: 0x1001 + 2 * i, daddr: HOA }, saddr: cn, mode: 'transport', reqid: 1, state: 'mature', sources: ['xfrm'] },
  ]);
  engine.batch(() => {
    engine.onSaEvents(new SadbMirror().replace({ sas }, 'xfrm'));
    engine.setCoa(COAS[0]!, 2);
  });
  const ops = dp.ops;
  const r = engine.setMyBinding(cns[123]!, { coa: COAS[0]!, state: 'bu-sent' });
  assert.deepEqual({ put: r.put, deleted: r.deleted, unchanged: r.unchanged }, { put: 1, deleted: 0, unchanged: 999 });
  assert.equal(dp.ops, ops + 1);
  assert.equal(engine.setMyBinding(cns[123]!, { coa: COAS[0]!, state: 'effective' }).put, 0, 'same encoded value: no write');
  assert.equal(engine.trackedWith(cns[7]!).length, 2, 'the per-peer index');
});

test('entries are compared by their encoded value: a CoA spelled differently is no change, another oif or address is', () => {
  const base: RuleEntry = { id: 'out/esp/66/2001:db8:20::1', dir: 'out', proto: 'esp', spi: 66, peer: '2001:db8:20::1', oif: 2, src: { dir: 'out', proto: 'esp', spi: 66, peer: '2001:db8:20::1', field: 'src', expected: HOA, remap: { ancillary: true, fallback: '2001:db8:a::100' }, recordAncillary: false } };
  const spelled: RuleEntry = { ...base, src: { ...base.src!, remap: { ancillary: true, fallback: '2001:0DB8:A:0::0100' } } };
  assert.equal(sameEntryValue(base, spelled), true);
  assert.equal(sameEntryValue(base, { ...base, oif: 3 }), false);
  assert.equal(sameEntryValue(base, { ...base, src: { ...base.src!, remap: { ancillary: true, fallback: '2001:db8:a::101' } } }), false);
  assert.equal(sameEntryValue(base, { ...base, src: { ...base.src!, remap: { ancillary: true } } }), false, 'no fallback encodes as zeros');

  const dp = new MemoryDatapath();
  const { engine, mirror, sas } = mnWithCn(dp);
  engine.onSaEvents(mirror.replace({ sas }, 'xfrm'));
  engine.setCoa('2001:db8:a::100', 2);
  const ops = dp.ops;
  assert.equal(engine.setCoa('2001:DB8:A:0:0:0:0:100', 2).put, 0, 'same address, other spelling: no write');
  assert.equal(dp.ops, ops);
});
