// K06 on a real kernel: rekey under traffic with static keys. A UDP flow runs HoA<->CN over
// remapped ESP (CoA on the wire) while both ends, each with IpsecWatcher -> IroEngine -> a real
// Datapath, move to a new SA pair twice: rules first (engine.expectSas), then the SAs, then the
// outgoing policies' templates switch to the new reqid; the old SAs are then deleted (first
// rekey) or hard-expire (second rekey). No miss event, no packet with an SPI that had no rule,
// no loss, and only the newest SPIs keep rules.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { EngineNode, engineTopology, nodeSpecs, sleep, until } from '../lib/scenario/engine-node.ts';
import { addSa, deleteSa, expectedSaInfo, hex, policy, saPair, updateSa, type StaticSa } from '../lib/scenario/static-sa.ts';
import { startFlow, startFlowServer } from '../lib/scenario/flows.ts';
import { packetsWithAddressInHeaders, type IroTopology } from '../lib/topology/index.ts';
import { canonicalIPv6 } from '../../src/common/ipv6.ts';

const skip = skipUnlessGuest();
const PORT = 7100;
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      /* keep cleaning */
    }
  }
});

type Pair = { out: StaticSa; in: StaticSa };

test('K06 rekey under a UDP flow with static keys (twice: old SAs deleted, then hard-expired): zero miss events, every ESP packet on the wire carried a ruled SPI, no loss, old rules gone', { skip, timeout: 600_000 }, async () => {
  const t: IroTopology = await engineTopology('engk06');
  cleanups.push(() => t.destroy());
  const { hoa, coaA } = t.addr.mn;
  const cn = t.addr.cn;
  const specs = nodeSpecs(t, 'k06');
  const mn = await EngineNode.start(specs.mn);
  cleanups.push(() => mn.destroy());
  const cnNode = await EngineNode.start(specs.cn);
  cleanups.push(() => cnNode.destroy());
  const nodes = [
    { node: mn, host: t.mn, outOf: (p: Pair) => p.out, inOf: (p: Pair) => p.in },
    { node: cnNode, host: t.cn, outOf: (p: Pair) => p.in, inOf: (p: Pair) => p.out },
  ];
  const ruleIdsOf = (p: Pair) => ({
    mn: [`in/esp/${p.in.spi}`, `out/esp/${p.out.spi}/${cn}`].sort(),
    cn: [`in/esp/${p.out.spi}`, `out/esp/${p.in.spi}/${hoa}`].sort(),
  });

  // Generation 1, static keying as iro-ctl does it: rules first, then SAs and policies.
  const gens: Pair[] = [saPair(hoa, cn, 0x2100, 0x2101, 21), saPair(hoa, cn, 0x2200, 0x2201, 22), saPair(hoa, cn, 0x2300, 0x2301, 23)];
  for (const { node, host, outOf } of nodes) {
    node.engine.expectSas([expectedSaInfo(gens[0]!.out), expectedSaInfo(gens[0]!.in)]);
    addSa(host, gens[0]!.out);
    addSa(host, gens[0]!.in);
    const o = outOf(gens[0]!);
    policy(host, 'add', o.src, o.dst, 'out', 21);
    policy(host, 'add', o.dst, o.src, 'in', 0); // any SA between the two: old and new during a rekey
  }
  await until(() => `generation 1 rules (MN: ${mn.ruleIds().join(', ')}; CN: ${cnNode.ruleIds().join(', ')})`, () => mn.watcher.mirror.size === 2 && cnNode.watcher.mirror.size === 2, 10_000);
  assert.deepEqual(mn.ruleIds(), ruleIdsOf(gens[0]!).mn);
  assert.deepEqual(cnNode.ruleIds(), ruleIdsOf(gens[0]!).cn);

  const server = await startFlowServer(t.cn, cn, PORT);
  cleanups.push(() => server.stop());
  await t.mn.ping(t.addr.router.foreignA, { count: 1 });
  const cap = await t.capture('foreignA', { at: 'router' });
  const flow = await startFlow(t.mn, 'udp', hoa, cn, PORT, 20);
  cleanups.push(() => flow.proc.stop('SIGKILL'));
  await until('the flow gets echoes', () => mn.dp.ruleCounters(`in/esp/${gens[0]!.in.spi}`)!.dstHits > 10n, 30_000);

  // hit counters of each rule, read once its SA carries no more traffic (before it is removed)
  const hits = new Map<string, bigint>();
  const readHits = (p: Pair) => {
    hits.set(`mn out ${hex(p.out.spi)}`, mn.dp.ruleCounters(`out/esp/${p.out.spi}/${cn}`)!.srcHits);
    hits.set(`mn in ${hex(p.in.spi)}`, mn.dp.ruleCounters(`in/esp/${p.in.spi}`)!.dstHits);
    hits.set(`cn out ${hex(p.in.spi)}`, cnNode.dp.ruleCounters(`out/esp/${p.in.spi}/${hoa}`)!.dstHits);
    hits.set(`cn in ${hex(p.out.spi)}`, cnNode.dp.ruleCounters(`in/esp/${p.out.spi}`)!.srcHits);
  };

  const rekey = async (from: Pair, to: Pair, retire: 'delete' | 'hard-expire') => {
    const expected = nodes.map(({ node }) => node.engine.expectSas([expectedSaInfo(to.out), expectedSaInfo(to.in)]));
    for (const r of expected) assert.equal(r.put, 2, 'both rules of the new pair go in before its SAs exist');
    for (const { host } of nodes) {
      addSa(host, to.out);
      addSa(host, to.in);
    }
    for (const { host, outOf } of nodes) {
      const o = outOf(to);
      policy(host, 'update', o.src, o.dst, 'out', to.out.reqid);
    }
    await sleep(1500);
    readHits(from);
    const old = ruleIdsOf(from);
    for (const { host } of nodes) {
      if (retire === 'delete') {
        deleteSa(host, from.out);
        deleteSa(host, from.in);
      } else {
        updateSa(host, from.out, ['limit', 'time-hard', '1']);
        updateSa(host, from.in, ['limit', 'time-hard', '1']);
      }
    }
    await until(() => `the old rules leave (MN: ${mn.ruleIds().join(', ')}; CN: ${cnNode.ruleIds().join(', ')})`, () => !old.mn.some((id) => mn.ruleIds().includes(id)) && !old.cn.some((id) => cnNode.ruleIds().includes(id)), 15_000);
    assert.deepEqual(mn.ruleIds(), ruleIdsOf(to).mn, `MN after the ${retire} of ${hex(from.out.spi)}/${hex(from.in.spi)}`);
    assert.deepEqual(cnNode.ruleIds(), ruleIdsOf(to).cn);
    await sleep(1500);
  };

  await rekey(gens[0]!, gens[1]!, 'delete');
  await rekey(gens[1]!, gens[2]!, 'hard-expire');
  const report = await flow.stop();
  readHits(gens[2]!);
  const r = await cap.stop();
  await server.stop();

  // the application saw nothing
  assert.deepEqual(report.errors, []);
  assert.ok(report.sent >= 200, `the flow ran (${JSON.stringify(report)})`);
  assert.equal(report.lostCount, 0, `no datagram lost across both rekeys: ${JSON.stringify(report)}`);
  assert.deepEqual(server.peers(), [{ kind: 'udp', peer: canonicalIPv6(hoa) }], 'the CN socket sees the HoA');

  // no miss: no packet from the HoA ever met an SPI without a rule
  const stats = mn.dp.stats();
  assert.equal(stats.miss_hoa, 0n, 'miss_hoa');
  assert.equal(stats.miss_drop, 0n, 'miss_drop');
  assert.deepEqual(mn.dp.pollEvents(0), [], 'no miss event in the ring buffer');

  // the wire: ESP between the CoA and the CN only, never the HoA, and every SPI accounted for by its rule
  const esp = r.packets.filter((p) => p.esp.length > 0);
  assert.deepEqual(packetsWithAddressInHeaders(r.packets, hoa).map((p) => p.summary), [], 'the HoA appears in no header on the MN link');
  const count = new Map<string, bigint>();
  for (const p of esp) {
    const fromCoa = p.src === canonicalIPv6(coaA) && p.dst === canonicalIPv6(cn);
    const toCoa = p.src === canonicalIPv6(cn) && p.dst === canonicalIPv6(coaA);
    assert.ok(fromCoa || toCoa, `CoA<->CN only: ${p.summary}`);
    const k = `${fromCoa ? 'out' : 'in'} ${hex(p.esp[0]!.spi)}`;
    count.set(k, (count.get(k) ?? 0n) + 1n);
  }
  for (const g of gens) {
    const out = count.get(`out ${hex(g.out.spi)}`) ?? 0n;
    const inn = count.get(`in ${hex(g.in.spi)}`) ?? 0n;
    assert.ok(out > 0n && inn > 0n, `generation ${hex(g.out.spi)} carried traffic both ways (${out}/${inn})`);
    assert.equal(hits.get(`mn out ${hex(g.out.spi)}`), out, `every ESP packet from the CoA with SPI ${hex(g.out.spi)} went through the MN's rule for it`);
    assert.equal(hits.get(`cn in ${hex(g.out.spi)}`), out, `... and through the CN's incoming rule`);
    assert.equal(hits.get(`cn out ${hex(g.in.spi)}`), inn, `every ESP packet to the CoA with SPI ${hex(g.in.spi)} went through the CN's rule for it`);
    assert.equal(hits.get(`mn in ${hex(g.in.spi)}`), inn, `... and through the MN's incoming rule`);
  }
  const known = new Set(gens.flatMap((g) => [`out ${hex(g.out.spi)}`, `in ${hex(g.in.spi)}`]));
  assert.deepEqual([...count.keys()].filter((k) => !known.has(k)), [], 'no other SPI on the wire');

  // the engines: the new SAs' events found their rules in place; rules left only with their SAs
  for (const { node } of nodes) {
    const added = node.log.filter((l) => l.events.some((e) => e.type === 'sa-added' && [0x2200, 0x2201, 0x2300, 0x2301].includes(e.sa.key.spi)));
    assert.equal(added.length, 4, 'one sa-added per new SA');
    for (const l of added) assert.equal(l.result?.put, 0, 'an announced SA arrives to rules already installed');
    const expired = node.log.flatMap((l) => l.events).filter((e) => e.type === 'sa-expired' && e.hard).map((e) => ('sa' in e ? hex(e.sa.key.spi) : ''));
    assert.deepEqual(expired.sort(), ['0x2200', '0x2201'], 'the second generation hard-expired');
    const deletes = node.log.reduce((n, l) => n + (l.result?.deleted ?? 0), 0);
    assert.equal(deletes, 4, 'four rules deleted in all: those of the two retired pairs');
  }
  console.log(`# K06 flow: ${JSON.stringify(report)}; ESP on the wire: ${JSON.stringify(Object.fromEntries([...count].map(([k, v]) => [k, Number(v)])))}`);
});
