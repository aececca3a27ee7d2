// The IRO engine against real SAs (issue 5, vm tier): IpsecWatcher -> IroEngine -> a real
// Datapath attached in the MN's namespace of the standard IRO topology. SAs installed by
// `ip xfrm` and by PF_KEY while the engine runs get their rules in the kernel map, classed MH or
// DATA as F01 says (F01/F02/D03 on a real kernel); an SA deleted or hard-expired loses its rules
// within 1 s, a soft expiry changes nothing (D09, engine side).
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { EngineNode, engineTopology, nodeSpecs, sleep, until, warmUpPfkey } from '../lib/scenario/engine-node.ts';
import { addSa, deleteSa, hex, policy, saPair } from '../lib/scenario/static-sa.ts';
import type { IroTopology } from '../lib/topology/index.ts';
import type { RuleEntry, RemapRule } from '../../src/datapath/rules.ts';
import { PfkeyClient } from '../../src/kernel/pfkey/client.ts';
import { SADB_SATYPE_ESP, SADB_X_AALG_SHA2_256HMAC, SADB_X_EALG_AESCBC } from '../../src/kernel/pfkey/constants.ts';
import { KeyMaterial } from '../../src/kernel/pfkey/key-material.ts';
import type { PfkeyEvent } from '../../src/kernel/pfkey/events.ts';
import { XfrmClient } from '../../src/kernel/xfrm/client.ts';
import { AF_INET6, IPPROTO_ESP } from '../../src/kernel/constants.ts';

const skip = skipUnlessGuest();
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

async function setup(tag: string, pfkey: 'on' | 'off'): Promise<{ t: IroTopology; mn: EngineNode; names: (id: string) => string }> {
  if (pfkey === 'on') await warmUpPfkey();
  const t = await engineTopology(tag);
  cleanups.push(() => t.destroy());
  const mn = await EngineNode.start(nodeSpecs(t, tag, { pfkey }).mn);
  cleanups.push(() => mn.destroy());
  const { hoa, coaA } = t.addr.mn;
  // rule ids and addresses with names, so a failure reads like the rule syntax of IRO §5.2.2
  const names = (s: string) => s.split(hoa).join('HoA').split(coaA).join('CoA').split(t.addr.cn).join('CN');
  return { t, mn, names };
}

function describeRule(r: RemapRule): string {
  const to = 'address' in r.remap ? r.remap.address : `ancillary${r.remap.fallback ? `|${r.remap.fallback}` : ''}`;
  return `${r.field} ${r.expected}->${to}${r.recordAncillary ? ' (recorded)' : ''}`;
}

/** One map entry in a comparable text form: "id: src ...; dst ...; oif". */
function describeEntry(e: RuleEntry, names: (s: string) => string, coaOif: number): string {
  const parts = [e.src, e.dst].filter((r): r is RemapRule => !!r).map(describeRule);
  return names(`${e.id}: ${parts.join('; ') || 'tracked, no remap'}${e.oif ? (e.oif === coaOif ? ' oif=CoA-if' : ` oif=${e.oif}`) : ''}`);
}

test('F01/F02/D03 SAs added with `ip xfrm` and through PF_KEY while the engine runs: MH and DATA rules of the MN appear in the kernel map', { skip, timeout: 420_000 }, async () => {
  const { t, mn, names } = await setup('engf01', 'on');
  const { hoa } = t.addr.mn;
  const cn = t.addr.cn;
  const faIndex = t.mn.ifindex('fa');
  assert.deepEqual(mn.ruleIds(), [], 'no SA yet, no rule');
  // policies: MH (proto 135) with reqid 2, everything else with reqid 1 (PF_KEY-learned SAs are classed through these)
  policy(t.mn, 'add', hoa, cn, 'out', 2, '135', 100);
  policy(t.mn, 'add', cn, hoa, 'in', 2, '135', 100);
  policy(t.mn, 'add', hoa, cn, 'out', 1);
  policy(t.mn, 'add', cn, hoa, 'in', 1);
  await until('the four policies reach the engine', () => mn.watcher.mirror.allPolicies().length === 4);

  const want = (spi: number, text: string) => [spi, text] as const;
  const byIp: Array<readonly [number, string]> = [];
  // ip xfrm: MH pair (selector proto 135), data pair (selector any), a data SA for UDP only (selector 17)
  const mh = saPair(hoa, cn, 0x1100, 0x1101, 2, '135');
  const data = saPair(hoa, cn, 0x1102, 0x1103, 1);
  const udp = { src: hoa, dst: cn, spi: 0x1104, reqid: 1, upper: '17' };
  const t0 = Date.now();
  for (const s of [mh.out, mh.in, data.out, data.in, udp]) addSa(t.mn, s);
  byIp.push(
    want(0x1100, `out/esp/${0x1100}/CN: src HoA->ancillary|CoA oif=CoA-if`),
    want(0x1101, `in/esp/${0x1101}: dst CoA->HoA (recorded)`),
    want(0x1102, `out/esp/${0x1102}/CN: src HoA->CoA oif=CoA-if`),
    want(0x1103, `in/esp/${0x1103}: dst CoA->HoA`),
    want(0x1104, `out/esp/${0x1104}/CN: src HoA->CoA oif=CoA-if`),
  );
  const ipDone = await until(() => `rules of the ip xfrm SAs (map: ${mn.ruleIds().join(', ')})`, () => mn.ruleIds().length === 5, 10_000);

  // PF_KEY (another key manager's socket): the same shapes, no selector protocol, classed by reqid
  const pk = await PfkeyClient.open({ netns: t.mn.ns, register: [] });
  const key = (hexKey: string) => KeyMaterial.fromHex(hexKey);
  const pfAdd = (src: string, dst: string, spi: number, reqid: number) =>
    pk.add({ satype: SADB_SATYPE_ESP, spi, src, dst, mode: 'transport', reqid, auth: { alg: SADB_X_AALG_SHA2_256HMAC, key: key('0x' + '3a'.repeat(32)) }, enc: { alg: SADB_X_EALG_AESCBC, key: key('0x' + 'c5'.repeat(16)) } });
  const t1 = Date.now();
  try {
    await pfAdd(hoa, cn, 0x1200, 2);
    await pfAdd(cn, hoa, 0x1201, 2);
    await pfAdd(hoa, cn, 0x1202, 1);
    await pfAdd(cn, hoa, 0x1203, 1);
  } finally {
    pk.close();
  }
  byIp.push(
    want(0x1200, `out/esp/${0x1200}/CN: src HoA->ancillary|CoA oif=CoA-if`),
    want(0x1201, `in/esp/${0x1201}: dst CoA->HoA (recorded)`),
    want(0x1202, `out/esp/${0x1202}/CN: src HoA->CoA oif=CoA-if`),
    want(0x1203, `in/esp/${0x1203}: dst CoA->HoA`),
  );
  const pfDone = await until(() => `rules of the PF_KEY SAs (map: ${mn.ruleIds().join(', ')})`, () => mn.ruleIds().length === 9, 10_000);
  console.log(`# rules in the map ${ipDone - t0} ms after the ip xfrm adds, ${pfDone - t1} ms after the PF_KEY adds`);

  const got = mn.dp
    .listEntries()
    .map((e) => describeEntry(e, names, faIndex))
    .sort();
  assert.deepEqual(got, byIp.map(([, s]) => s).sort(), 'the kernel map holds exactly the MN rules of these SAs');
  const classes = mn.engine
    .trackedSas()
    .map((x) => `${hex(x.sa.key.spi)} ${x.cls.cls} ${x.cls.dir}`)
    .sort();
  assert.deepEqual(classes, [
    '0x1100 mh out', '0x1101 mh in', '0x1102 data out', '0x1103 data in', '0x1104 data out',
    '0x1200 mh out', '0x1201 mh in', '0x1202 data out', '0x1203 data in',
  ], 'F01: selector proto 135 -> MH, 0 or 17 -> DATA; F02: PF_KEY SAs by the reqid of their policy');
  assert.deepEqual(mn.dp.members('hoas'), [hoa]);
  assert.deepEqual(mn.dp.members('peers'), [cn]);
  // every change was a single sync with puts only (no churn)
  const results = mn.log.map((l) => l.result).filter((r) => r !== null);
  assert.ok(results.every((r) => r!.deleted === 0), 'adding SAs never deleted a rule');
  assert.equal(results.reduce((n, r) => n + r!.put, 0), 9, 'one map write per new rule entry');
});

test('D09 engine side: an SA deleted loses its rules within 1 s; `limit time-hard 3` SAs lose theirs within 1 s of the kernel\'s expiry (SADB_EXPIRE hard seen on PF_KEY); a soft expiry changes nothing', { skip, timeout: 420_000 }, async () => {
  const { t, mn } = await setup('engd09', 'on');
  const { hoa } = t.addr.mn;
  const cn = t.addr.cn;
  // a registered PF_KEY socket of our own: the kernel's SADB_EXPIRE messages, as D09 states them
  const pk = await PfkeyClient.open({ netns: t.mn.ns, register: [SADB_SATYPE_ESP] });
  cleanups.push(() => pk.close());
  const pfExpires: Array<{ at: number; spi: number; hard: boolean }> = [];
  pk.onEvent((e: PfkeyEvent) => {
    if (e.kind === 'sa-expired') pfExpires.push({ at: Date.now(), spi: e.sa.spi, hard: e.hard });
  });
  const probe = XfrmClient.open({ netns: t.mn.ns });
  cleanups.push(() => probe.close());
  const inKernel = async (dst: string, spi: number) => (await probe.getSa({ daddr: dst, spi, proto: IPPROTO_ESP, family: AF_INET6 })) !== null;

  // 1. delete: rules gone within 1 s of the kernel's delete
  const keep = saPair(hoa, cn, 0x1300, 0x1301, 1);
  addSa(t.mn, keep.out);
  addSa(t.mn, keep.in);
  await until('rules of the pair', () => mn.ruleIds().length === 2, 10_000);
  deleteSa(t.mn, keep.in);
  const deleted = Date.now();
  const goneAfterDelete = (await until(() => `rule in/esp/${0x1301} still there: ${mn.ruleIds().join(', ')}`, () => !mn.ruleIds().includes(`in/esp/${0x1301}`), 5000)) - deleted;
  assert.ok(goneAfterDelete <= 1000, `rules gone ${goneAfterDelete} ms after the delete`);
  assert.deepEqual(mn.ruleIds(), [`out/esp/${0x1300}/${cn}`], 'the other SA keeps its rule');

  // 2. hard expiry (and a soft one first on the incoming SA)
  const exp = saPair(hoa, cn, 0x1310, 0x1311, 1);
  const added = Date.now();
  addSa(t.mn, exp.out, ['limit', 'time-hard', '3']);
  addSa(t.mn, exp.in, ['limit', 'time-soft', '1', 'limit', 'time-hard', '3']);
  const ids = [`out/esp/${0x1310}/${cn}`, `in/esp/${0x1311}`];
  await until('rules of the expiring pair', () => ids.every((id) => mn.ruleIds().includes(id)), 10_000);
  const withBoth = mn.ruleIds();
  // poll the kernel (GETSA on a separate socket) and the map together
  const kernelGone = new Map<number, number>();
  const rulesGone = new Map<string, number>();
  const deadline = Date.now() + 20_000;
  while ((kernelGone.size < 2 || rulesGone.size < 2) && Date.now() < deadline) {
    const now = Date.now();
    for (const s of [exp.out, exp.in]) if (!kernelGone.has(s.spi) && !(await inKernel(s.dst, s.spi))) kernelGone.set(s.spi, now);
    const present = mn.ruleIds();
    for (const id of ids) if (!rulesGone.has(id) && !present.includes(id)) rulesGone.set(id, now);
    await sleep(20);
  }
  assert.equal(kernelGone.size, 2, 'the kernel expired both SAs');
  assert.equal(rulesGone.size, 2, 'both SAs\' rules left the map');
  for (const [s, id] of [[exp.out, ids[0]!], [exp.in, ids[1]!]] as const) {
    const k = kernelGone.get(s.spi)!;
    const r = rulesGone.get(id)!;
    assert.ok(k - added >= 2500, `${hex(s.spi)} expired ${k - added} ms after its add (time-hard 3)`);
    assert.ok(r - k <= 1000, `${id}: rules gone ${r - k} ms after the kernel's expiry`);
  }
  assert.deepEqual(mn.ruleIds(), [`out/esp/${0x1300}/${cn}`], 'only the SA without limits keeps its rule');

  // the soft expiry reached the engine, changed nothing; the hard ones came as events too
  const soft = mn.log.find((l) => l.events.some((e) => e.type === 'sa-expired' && !e.hard && e.sa.key.spi === 0x1311));
  assert.ok(soft, `a soft expire event for 0x1311 (events: ${mn.log.flatMap((l) => l.events.map((e) => e.type)).join(', ')})`);
  assert.equal(soft.result, null, 'a soft expiry makes no sync at all (IRO §6.2.6)');
  assert.ok(soft.at - added >= 800 && soft.at < Math.min(...kernelGone.values()), `soft expiry ${soft.at - added} ms after the add, before the hard one`);
  assert.deepEqual(withBoth.filter((id) => ids.includes(id)).sort(), [...ids].sort());
  const hardEvents = mn.log.flatMap((l) => l.events).filter((e) => e.type === 'sa-expired' && e.hard).map((e) => ('sa' in e ? hex(e.sa.key.spi) : ''));
  assert.deepEqual(hardEvents.sort(), ['0x1310', '0x1311'], 'one hard expire event per SA (XFRM and PF_KEY reports merged)');
  await until(() => `PF_KEY hard SADB_EXPIRE for both (got ${JSON.stringify(pfExpires)})`, () => pfExpires.filter((e) => e.hard).length === 2, 5000);
  assert.deepEqual(pfExpires.filter((e) => !e.hard).map((e) => hex(e.spi)), ['0x1311'], 'PF_KEY soft SADB_EXPIRE for the SA with a soft limit');
});
