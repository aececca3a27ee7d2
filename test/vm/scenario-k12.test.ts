// K12 (OP-12, C13 end to end): a router on the MN's direct path to the CN has a smaller MTU.
// Its ICMPv6 Packet Too Big goes to the CoA and embeds the ESP packet as it was on the wire
// (source = CoA); the MN's ingress program restores the HoA in the embedded header, so the
// kernel lowers the path MTU of the HoA's flow to the CN (the route the HoA traffic takes) and
// a large TCP upload over ESP completes. Without the restore the error would be about a flow
// (CoA -> CN) no socket or SA of the MN uses, and the upload would stall (no MTU probing).
import test from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { iroTopology, type IroTopology } from '../lib/topology/index.ts';
import { Deployment, destroyAfterTests, mnEntry } from '../lib/scenario/deployment.ts';
import { bulkSend, startBulkServer } from '../lib/scenario/peers.ts';
import { canonicalIPv6, formatIPv6 } from '../../src/common/ipv6.ts';

const skip = skipUnlessGuest();
let topo: IroTopology | undefined;
let dep: Deployment | undefined;
destroyAfterTests(() => [dep, topo]);

const DATA_TO_CN = 0x2003;
const SMALL_MTU = 1280;
const UPLOAD = 400_000;

const counter = (st: Record<string, unknown>, name: string) => BigInt(((st.datapath as { counters: Record<string, string> }).counters[name]) ?? '0');
const ruleHits = (st: Record<string, unknown>, id: string) => {
  const r = (st.rules as Array<{ id: string; counters: Record<string, string> | null }>).find((x) => x.id === id);
  return BigInt(r?.counters?.srcHits ?? '0');
};

test('K12 OP-12 C13: a Packet Too Big from a router on the direct path lowers the PMTU of the HoA flow and a large TCP upload over ESP completes', { skip, timeout: 600_000 }, async () => {
  topo = await iroTopology({ prefix: 'k12' });
  dep = new Deployment('k12');
  const { addr } = topo;
  const hoa = canonicalIPv6(addr.mn.hoa);
  const coa = canonicalIPv6(addr.mn.coaA);
  const cn = canonicalIPv6(addr.cn);
  for (const n of ['ha', 'cn', 'mn'] as const) dep.configure(n);
  await dep.start('ha', topo.ha.ns);
  await dep.start('cn', topo.cn.ns);
  await dep.start('mn', topo.mn.ns);
  await dep.waitFor('mn', (st) => mnEntry(st, addr.cn)?.state === 'effective', 'the correspondent registration');

  const server = await startBulkServer(topo.cn, addr.cn, 7400);
  try {
    topo.router.ip('link', 'set', 'dev', 'cn', 'mtu', String(SMALL_MTU));
    const before = await dep.status('mn');
    const dataRule = `out/esp/${DATA_TO_CN}/${cn}`;
    // the Packet Too Big messages the router sends onto the MN's link (ICMPv6 type 2)
    const cap = await topo.capture('foreignA', { at: 'router', filter: ['icmp6', 'and', 'ip6[40]', '==', '2'] });
    const r = await bulkSend(topo.mn, addr.mn.hoa, addr.cn, 7400, UPLOAD);
    const ptbs = await cap.stop();
    assert.deepEqual(r.received, r.sent, `the CN received the whole upload (${r.seconds} s)`);
    assert.ok(server.stdout.includes(`bulk ${hoa} ${UPLOAD}`), `the CN's socket saw the HoA as peer:\n${server.stdout}`);

    // the router's error went to the CoA and embeds the on-wire ESP packet (source CoA)
    assert.ok(ptbs.packets.length >= 1, `a Packet Too Big on the MN's link:\n${ptbs.text}`);
    for (const p of ptbs.packets) {
      assert.equal(p.dst, coa, `the PTB goes to the CoA: ${p.summary}`);
      const embedded = p.raw.subarray(48);
      assert.equal(embedded[6], 50, `it embeds an ESP packet: ${p.summary}`);
      assert.deepEqual([formatIPv6(embedded.subarray(8, 24)), formatIPv6(embedded.subarray(24, 40)), embedded.readUInt32BE(40)], [coa, cn, DATA_TO_CN], `the embedded header is the on-wire one: ${p.summary}`);
    }

    // the MN restored the HoA in it (C13 counter) and the kernel lowered the HoA flow's PMTU
    const afterSt = await dep.status('mn');
    assert.ok(counter(afterSt, 'icmp_rewrite') > counter(before, 'icmp_rewrite'), `the MN rewrote the embedded header: ${JSON.stringify((afterSt.datapath as { counters: unknown }).counters)}`);
    const route = topo.mn.ip('-6', 'route', 'get', addr.cn, 'from', addr.mn.hoa);
    assert.match(route, new RegExp(`mtu ${SMALL_MTU}\\b`), `the HoA's route to the CN has the path MTU: ${route}`);
    // and the upload went the direct way, remapped
    assert.ok(ruleHits(afterSt, dataRule) - ruleHits(before, dataRule) >= BigInt(Math.floor(UPLOAD / SMALL_MTU)), `the data rule carried the upload: ${ruleHits(before, dataRule)} -> ${ruleHits(afterSt, dataRule)}`);
  } finally {
    topo.router.ip('link', 'set', 'dev', 'cn', 'mtu', '1500');
    await server.stop();
  }
});
