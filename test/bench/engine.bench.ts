// Issue 5 benchmark: the IRO engine on the host.
//  - SA event -> rule readable in the real BPF map: SadbMirror.apply -> IroEngine.onSaEvents ->
//    Datapath map update, timed from the injection of the back-end change to the map lookup that
//    finds the new entry (and, for the hard expiry of the old SPI, to the lookup that no longer
//    does), over a few thousand rekeys of an MN's realistic transport SAs (HoA <-> peer, MH, data
//    and, with the HA, MPD), at 9 peers and at 10k peers. Target host p99 < 1 ms.
//  - A CoA change at an MN with 10k CNs x 4 SAs: the new CoA and every binding moving to it in one
//    reconcile pass (G14); target < 50 ms, and the map operations (counted on the map) equal the
//    entries whose encoded value changed (counted from two pure derivations).
// Machine-dependent: the latency floor (one map update + lookup from TypeScript) is measured in
// the same run and the p50 is also given as a ratio to it.
// The VM figure of the issue (SA event -> rule with real SAs from `ip xfrm`) is not measured here.
import assert from 'node:assert/strict';
import { isRoot } from '../lib/capabilities.ts';
import { openTestDatapath, destroyQuietly } from '../lib/datapath-fixture.ts';
import { IroEngine, type RulePort } from '../../src/iro/engine.ts';
import type { PeerConfig } from '../../src/iro/classify.ts';
import { SadbMirror } from '../../src/ipsec/mirror.ts';
import type { SaInfo } from '../../src/ipsec/model.ts';
import type { Datapath } from '../../src/datapath/datapath.ts';
import { writeEntryKey, type RuleEntry } from '../../src/datapath/rules.ts';
import type { BenchFigure, BenchSuite } from './types.ts';
import {
  changedEntries,
  collectGarbage,
  cnAddr,
  coaAddr,
  countRuleMapOps,
  encodeRuleSet,
  HA_ADDR,
  ICMPV6,
  median,
  MH,
  MN_HOA,
  mnSasWithCn,
  nowMs,
  percentile,
  transportSa,
} from './iro-state.ts';

const COA_A = coaAddr(0);
const COA_B = coaAddr(1);
const OIF_A = 2;
const OIF_B = 3;

/** A rule port with no map behind it, counting what it is asked to write: the engine's own cost. */
class CountingPort implements RulePort {
  ops = 0;
  size = 0;
  reconcileEntries(desired: Map<string, RuleEntry>): { put: number; deleted: number; unchanged: number } {
    // only ever called on an empty port here (the first sync)
    this.ops += desired.size;
    this.size = desired.size;
    return { put: desired.size, deleted: 0, unchanged: 0 };
  }
  applyEntries(put: readonly RuleEntry[], remove: readonly RuleEntry[]): { put: number; deleted: number } {
    this.ops += put.length + remove.length;
    return { put: put.length, deleted: remove.length };
  }
  setMembers(): void {}
}

interface MnSetup {
  engine: IroEngine;
  mirror: SadbMirror;
  cns: string[];
  sas: SaInfo[];
}

/** An MN with `n` CNs (4 SAs each) and, with `withHa`, MH + MPD SAs with its HA; every binding effective at COA_A. */
function buildMn(port: RulePort, n: number, withHa: boolean): MnSetup {
  const cns = Array.from({ length: n }, (_, i) => cnAddr(i));
  const peers: PeerConfig[] = cns.map((address) => ({ address, kind: 'cn', mode: 'iro' }));
  const sas = cns.flatMap((cn, i) => mnSasWithCn(MN_HOA, cn, 0x10000 + i * 4));
  if (withHa) {
    peers.push({ address: HA_ADDR, kind: 'ha', mode: 'iro' });
    sas.push(
      transportSa(MN_HOA, HA_ADDR, 0x1000, MH, 'out', 1),
      transportSa(HA_ADDR, MN_HOA, 0x1001, MH, 'in', 1),
      transportSa(MN_HOA, HA_ADDR, 0x1002, ICMPV6, 'out', 2),
      transportSa(HA_ADDR, MN_HOA, 0x1003, ICMPV6, 'in', 2),
    );
  }
  const engine = new IroEngine({ role: 'mn', hoas: [MN_HOA], localAddrs: [], peers, datapath: port });
  const mirror = new SadbMirror();
  engine.batch(() => {
    engine.onSaEvents(mirror.replace({ sas }, 'xfrm'));
    engine.setCoa(COA_A, OIF_A);
    for (const cn of cns) engine.setMyBinding(cn, { coa: COA_A, state: 'effective' });
  });
  return { engine, mirror, cns, sas };
}

function ruleKeyOf(sa: SaInfo): Buffer {
  const k = Buffer.alloc(24);
  writeEntryKey({ dir: sa.dir!, proto: sa.key.proto, spi: sa.key.spi, ...(sa.dir === 'out' ? { peer: sa.key.daddr } : {}) }, k, 0);
  return k;
}

/** Rekey `events` SAs round robin: a new SPI appears (timed until its rule is readable), then the old one hard-expires (timed until its rule is gone). */
function rekeyLatencies(dp: Datapath, s: MnSetup, events: number, spiBase: number): { add: number[]; del: number[] } {
  const current = [...s.sas];
  const add: number[] = [];
  const del: number[] = [];
  const rules = dp.maps.iro_rules;
  for (let i = 0; i < events; i++) {
    const slot = (i * 7919) % current.length; // spread over peers and classes
    const old = current[slot]!;
    const sa: SaInfo = { ...old, key: { ...old.key, spi: spiBase + i } };
    const key = ruleKeyOf(sa);
    let t0 = nowMs();
    s.engine.onSaEvents(s.mirror.apply({ kind: 'sa-upsert', sa, source: 'xfrm' }));
    const found = rules.lookup(key);
    let t1 = nowMs();
    assert.ok(found, `rule of the new SA ${sa.key.spi} readable`);
    add.push(t1 - t0);
    const oldKey = ruleKeyOf(old);
    t0 = nowMs();
    s.engine.onSaEvents(s.mirror.apply({ kind: 'sa-expire', key: old.key, hard: true, source: 'xfrm' }));
    const gone = rules.lookup(oldKey) === null;
    t1 = nowMs();
    assert.ok(gone, `rule of the expired SA ${old.key.spi} removed`);
    del.push(t1 - t0);
    current[slot] = sa;
  }
  s.sas = current;
  return { add, del };
}

/** One map update + lookup from TypeScript: the floor of any "rule readable" latency. */
function mapFloor(dp: Datapath, n: number): number {
  const k = Buffer.alloc(24);
  const v = Buffer.alloc(80);
  k[0] = 1;
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    k.writeUInt32BE(0xfff00000 + i, 4);
    const t0 = nowMs();
    dp.maps.iro_rules.update(k, v);
    dp.maps.iro_rules.lookup(k);
    xs.push(nowMs() - t0);
    dp.maps.iro_rules.delete(k);
  }
  return median(xs);
}

function latencyFigures(label: string, r: { add: number[]; del: number[] }, floorMs?: number): BenchFigure[] {
  const a = [...r.add].sort((x, y) => x - y);
  const d = [...r.del].sort((x, y) => x - y);
  const p99 = percentile(a, 99);
  return [
    { name: `SA added -> rule readable, p50 (${label})`, value: percentile(a, 50) * 1000, unit: 'µs', note: `${a.length} rekeys${floorMs ? `; ${(percentile(a, 50) / floorMs).toFixed(1)}x one map update+lookup` : ''}` },
    { name: `SA added -> rule readable, p99 (${label})`, value: p99 * 1000, unit: 'µs', target: '< 1000 µs', met: p99 < 1 },
    { name: `SA added -> rule readable, max (${label})`, value: a[a.length - 1]! * 1000, unit: 'µs' },
    { name: `SA hard-expired -> rule gone, p50/p99 (${label})`, value: percentile(d, 50) * 1000, unit: 'µs', note: `p99 ${(percentile(d, 99) * 1000).toFixed(0)} µs, max ${(d[d.length - 1]! * 1000).toFixed(0)} µs` },
  ];
}

interface MoveStats {
  ms: number[];
  opsOk: boolean;
  changed: number;
  ops: number[];
}

/**
 * Move every binding between COA_A/oif A and COA_B/oif B in one pass, `rounds` times. What
 * changed is counted from pure derivations of the state before and after (the rules at A and at
 * B: the same two sets every other round), independently of the engine's own bookkeeping.
 */
function moves(s: MnSetup, rounds: number, countOps: () => number): MoveStats {
  const ms: number[] = [];
  const ops: number[] = [];
  let opsOk = true;
  const atA = encodeRuleSet(s.engine.desired().entries.values());
  let atB: Map<string, string> | undefined;
  let changed = 0;
  for (let r = 0; r < rounds; r++) {
    const toB = r % 2 === 0;
    const [coa, oif] = toB ? [COA_B, OIF_B] : [COA_A, OIF_A];
    collectGarbage();
    const ops0 = countOps();
    const t0 = nowMs();
    const res = s.engine.batch(() => {
      s.engine.setCoa(coa, oif);
      for (const cn of s.cns) s.engine.setMyBinding(cn, { coa, state: 'bu-sent' });
    });
    ms.push(nowMs() - t0);
    const n = countOps() - ops0;
    atB ??= encodeRuleSet(s.engine.desired().entries.values());
    changed = toB ? changedEntries(atA, atB) : changedEntries(atB, atA);
    ops.push(n);
    if (n !== changed || res.put + res.deleted !== changed) opsOk = false;
  }
  const now = encodeRuleSet(s.engine.desired().entries.values());
  if (changedEntries(now, rounds % 2 ? atB! : atA) !== 0) opsOk = false;
  return { ms, opsOk, changed, ops };
}

export default async function run(): Promise<BenchSuite[]> {
  if (!isRoot()) return [{ suite: 'engine', figures: [], skipped: 'needs root for bpf(2) (the real rule map)' }];
  const figures: BenchFigure[] = [];

  // ---- SA event -> rule in the map ---------------------------------------------------------
  {
    const dp = openTestDatapath('engine-lat');
    try {
      const small = buildMn(dp, 8, true);
      rekeyLatencies(dp, small, 200, 0x800000); // warm-up
      const floor = mapFloor(dp, 2000);
      figures.push({ name: 'floor: one rule map update + lookup from TS (median)', value: floor * 1000, unit: 'µs', note: 'baseline' });
      figures.push(...latencyFigures('MN, 8 CNs + HA, 36 SAs', rekeyLatencies(dp, small, 3000, 0x900000), floor));
    } finally {
      destroyQuietly(dp);
    }
  }

  // ---- 10k peers x 4 SAs: SA events at that size, then the CoA change -------------------------
  const N = 10_000;
  {
    const port = new CountingPort();
    let t0 = nowMs();
    const s = buildMn(port, N, false);
    const buildMs = nowMs() - t0;
    assert.equal(port.size, 4 * N);
    const m = moves(s, 6, () => port.ops);
    const med = median(m.ms);
    figures.push({ name: 'CoA change, 10k CNs x 4 SAs, one pass: engine only (no map), median', value: med, unit: 'ms', target: '< 50 ms', met: med < 50, note: `6 moves, min ${Math.min(...m.ms).toFixed(1)} ms; initial build ${buildMs.toFixed(0)} ms` });
    figures.push({ name: '  writes asked for = entries changed (engine only)', value: m.ops[m.ops.length - 1]!, unit: 'ops', target: `= changed (${m.changed})`, met: m.opsOk });
    const one: number[] = [];
    const ops0 = port.ops;
    for (let i = 0; i < 2000; i++) {
      const coa = i % 2 ? COA_A : COA_B;
      t0 = nowMs();
      s.engine.setMyBinding(s.cns[i]!, { coa, state: 'effective' });
      one.push(nowMs() - t0);
    }
    figures.push({ name: '  one binding change at that size (engine only), median', value: median(one) * 1000, unit: 'µs', note: `2000 changes, ${port.ops - ops0} writes (the data source rule of each)` });
  }
  {
    const dp = openTestDatapath('engine-coa');
    try {
      const counter = countRuleMapOps(dp);
      const s = buildMn(dp, N, false);
      assert.equal(dp.maps.iro_rules.entries().length, 4 * N);
      const lat = rekeyLatencies(dp, s, 2000, 0x900000);
      figures.push(...latencyFigures('MN, 10k CNs, 40k SAs', lat));
      const m = moves(s, 6, () => counter.ops);
      const med = median(m.ms);
      figures.push({ name: 'CoA change, 10k CNs x 4 SAs, one pass: real BPF map, median', value: med, unit: 'ms', target: '< 50 ms', met: med < 50, note: `6 moves, min ${Math.min(...m.ms).toFixed(1)} ms` });
      figures.push({ name: '  map operations = entries changed (real map, counted)', value: m.ops[m.ops.length - 1]!, unit: 'ops', target: `= changed (${m.changed})`, met: m.opsOk });
      const installed = encodeRuleSet(dp.listEntries());
      assert.equal(changedEntries(installed, encodeRuleSet(s.engine.desired().entries.values())), 0, 'the map holds exactly derive(current state)');
      counter.reset();
      const t0 = nowMs();
      const r = s.engine.resync();
      figures.push({ name: '  full compare with the map when nothing changed (resync)', value: nowMs() - t0, unit: 'ms', note: `${counter.ops} map ops, ${r.unchanged} unchanged; what every sync cost before the incremental path` });
    } finally {
      destroyQuietly(dp);
    }
  }
  return [{ suite: 'engine', figures }];
}
