// The miss path end to end on a real kernel (issue 5 item 4, DESIGN decision 6, OP-18): the MN's
// engine has not heard of an outgoing SA yet (its NEWSA is held back, as if still in flight), so
// ESP from the HoA to the CN with that SPI meets no rule: the data path drops it (missPolicy
// drop, the HoA never reaches the foreign link) and reports it once per interval. resolveMiss
// looks the SA up in the kernel (GETSA through the watcher's XFRM client), feeds it to the
// engine, and the flow's next packets pass remapped.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { EngineNode, engineTopology, nodeSpecs, sleep, until } from '../lib/scenario/engine-node.ts';
import { addSa, expectedSaInfo, policy, saPair } from '../lib/scenario/static-sa.ts';
import { startFlow, startFlowServer } from '../lib/scenario/flows.ts';
import { packetsWithAddressInHeaders, type IroTopology } from '../lib/topology/index.ts';
import { resolveMiss } from '../../src/iro/miss.ts';
import { Dir, EventKind, type DatapathEvent } from '../../src/datapath/abi.ts';
import { canonicalIPv6 } from '../../src/common/ipv6.ts';

const skip = skipUnlessGuest();
const PORT = 7300;
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

test('C15/OP-18 an unknown outgoing SPI from the HoA: dropped and reported (miss event), resolved by GETSA into the engine, the next packets pass remapped', { skip, timeout: 600_000 }, async () => {
  const t: IroTopology = await engineTopology('engmiss');
  cleanups.push(() => t.destroy());
  const { hoa, coaA } = t.addr.mn;
  const cn = t.addr.cn;
  const specs = nodeSpecs(t, 'miss', { missPolicy: 'drop' });
  const mn = await EngineNode.start(specs.mn);
  cleanups.push(() => mn.destroy());
  const cnNode = await EngineNode.start(specs.cn);
  cleanups.push(() => cnNode.destroy());

  const data = saPair(hoa, cn, 0x2700, 0x2701, 27);
  const outId = `out/esp/${0x2700}/${cn}`;
  cnNode.engine.expectSas([expectedSaInfo(data.out), expectedSaInfo(data.in)]);
  for (const [host, o] of [[t.mn, data.out], [t.cn, data.in]] as const) {
    policy(host, 'add', o.src, o.dst, 'out', 27);
    policy(host, 'add', o.dst, o.src, 'in', 0);
  }
  addSa(t.cn, data.out);
  addSa(t.cn, data.in);
  addSa(t.mn, data.in);
  await until('the MN engine has the incoming SA', () => mn.ruleIds().includes(`in/esp/${0x2701}`), 10_000);
  // the outgoing SA's event has not reached the engine yet
  mn.holdBack = (e) => 'sa' in e && e.sa.key.spi === 0x2700;
  addSa(t.mn, data.out);
  await until('the watcher saw the outgoing SA', () => !!mn.watcher.mirror.get({ proto: 'esp', spi: 0x2700, daddr: cn }), 10_000);
  assert.ok(!mn.ruleIds().includes(outId), 'the engine does not know the outgoing SPI');
  assert.deepEqual(mn.dp.members('hoas'), [hoa]);
  assert.deepEqual(mn.dp.members('peers'), [cn]);
  assert.equal(mn.dp.config().missPolicy, 0, 'missPolicy drop');

  const server = await startFlowServer(t.cn, cn, PORT);
  cleanups.push(() => server.stop());
  await t.mn.ping(t.addr.router.foreignA, { count: 1 });
  const cap = await t.capture('foreignA', { at: 'router' });
  const ac = new AbortController();
  const events = mn.dp.events(ac.signal);
  cleanups.push(() => ac.abort());
  const firstEvent = events.next();
  const flow = await startFlow(t.mn, 'udp', hoa, cn, PORT, 100);
  cleanups.push(() => flow.proc.stop('SIGKILL'));

  let timer: NodeJS.Timeout | undefined;
  const got = await Promise.race([firstEvent, new Promise<null>((r) => (timer = setTimeout(() => r(null), 20_000)))]);
  clearTimeout(timer);
  assert.ok(got && !got.done, 'a miss event arrives');
  const ev: DatapathEvent = got.value;
  assert.deepEqual(
    { kind: ev.kind, dir: ev.dir, proto: ev.proto, spi: ev.spi, src: ev.src, dst: ev.dst, dropped: ev.dropped, ifindex: ev.ifindex },
    { kind: EventKind.Miss, dir: Dir.Out, proto: 50, spi: 0x2700, src: canonicalIPv6(hoa), dst: canonicalIPv6(cn), dropped: true, ifindex: t.mn.ifindex('fa') },
  );
  await sleep(1500); // more packets of the flow meet the missing rule: dropped, not all reported
  const before = mn.dp.stats();
  assert.ok(before.miss_hoa >= 5n && before.miss_drop === before.miss_hoa, `every packet counted and dropped: ${before.miss_hoa}/${before.miss_drop}`);

  const resolution = await resolveMiss(ev, { xfrm: mn.watcher.xfrm, mirror: mn.watcher.mirror, engine: mn.engine });
  const dropsAtResolve = mn.dp.stats().miss_drop;
  assert.equal(resolution.outcome, 'resolved', JSON.stringify(resolution));
  if (resolution.outcome === 'resolved') assert.equal(resolution.sync?.put, 1, 'one map write: the outgoing rule');
  const entry = mn.dp.listEntries().find((e) => e.id === outId);
  assert.ok(entry?.src, `the rule is in the kernel map: ${JSON.stringify(mn.ruleIds())}`);
  assert.deepEqual({ expected: entry.src.expected, remap: entry.src.remap }, { expected: canonicalIPv6(hoa), remap: { address: canonicalIPv6(coaA) } });

  await until('echoes come back', () => (cnNode.dp.ruleCounters(`in/esp/${0x2700}`)?.srcHits ?? 0n) >= 10n, 30_000);
  const report = await flow.stop();
  ac.abort();
  await events.return(undefined);
  const r = await cap.stop();
  const final = mn.dp.stats();

  assert.equal(final.miss_drop, dropsAtResolve, 'no drop after the resolution');
  assert.ok(report.lostCount >= 10 && report.received >= 10, JSON.stringify(report));
  assert.deepEqual(report.lost.slice(0, 200), Array.from({ length: Math.min(report.lostCount, 200) }, (_, i) => i + 1), 'only the datagrams before the resolution were lost; every one after it came back');
  assert.deepEqual(packetsWithAddressInHeaders(r.packets, hoa).map((p) => p.summary), [], 'fail-closed: the HoA never appeared on the foreign link');
  const out = r.packets.filter((p) => p.esp[0]?.spi === 0x2700);
  assert.ok(out.length >= 10, r.text.slice(0, 3000));
  for (const p of out) assert.equal(p.src, canonicalIPv6(coaA), `remapped: ${p.summary}`);
  assert.equal(BigInt(out.length), mn.dp.ruleCounters(outId)!.srcHits, 'every ESP packet with that SPI on the wire went through the resolved rule');
  assert.deepEqual(server.peers(), [{ kind: 'udp', peer: canonicalIPv6(hoa) }]);
  console.log(`# miss: flow ${JSON.stringify(report)}; misses counted ${final.miss_hoa}`);
});
