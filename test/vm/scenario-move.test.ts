// K02, K03, K05, K11, E06, E07, G01 with three real daemons: the MN-HA tunnel is ESP-protected
// and follows the CoA; non-IPsec HoA traffic stays in it; a TCP stream over ESP survives a move
// between the two foreign links; no capture on a foreign link ever shows the HoA in a header.
import test from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { iroTopology, packetsWithAddressInHeaders, type IroTopology } from '../lib/topology/index.ts';
import { Deployment, destroyAfterTests, mnEntry } from '../lib/scenario/deployment.ts';
import { startStreamServer, startStreamClient, streamEchoes } from '../lib/scenario/peers.ts';
import { canonicalIPv6 } from '../../src/common/ipv6.ts';

const skip = skipUnlessGuest();
let topo: IroTopology | undefined;
let dep: Deployment | undefined;
destroyAfterTests(() => [dep, topo]);

const TUNNEL_SPIS = new Set([0x1011, 0x1012]);

/** What each node's data path counted, and the HA's tunnels: for a stream that stopped. */
async function stallReport(t: IroTopology, d: Deployment): Promise<string> {
  const out: string[] = [];
  for (const n of ['mn', 'cn', 'ha'] as const) {
    const st = await d.status(n);
    const c = (st.datapath as { counters: Record<string, string> }).counters;
    out.push(`${n} data path: ${Object.entries(c).filter(([, v]) => v !== '0').map(([k, v]) => `${k}=${v}`).join(' ')}`);
    out.push(`${n} bindings: ${JSON.stringify(st.mn ?? st.cn ?? st.ha)}`.slice(0, 1500));
  }
  out.push(`ha links:\n${t.ha.ip('-s', 'link', 'show')}`);
  out.push(`ha xfrm:\n${t.ha.ip('-s', 'xfrm', 'state').split('\n').filter((l) => /^src|proto esp|lifetime current|bytes/.test(l.trim()) || l.startsWith('src')).join('\n')}`);
  return out.join('\n');
}
const MH_TO_CN = 0x2001;

test('K02 K03 K05 K11 E06 E07 G01: tunnel protection, non-IPsec traffic in the tunnel, a TCP stream surviving a move, no HoA on any foreign link', { skip, timeout: 900_000 }, async () => {
  topo = await iroTopology({ prefix: 'kmove' });
  dep = new Deployment('kmove');
  const { addr } = topo;
  const hoa = canonicalIPv6(addr.mn.hoa);
  for (const n of ['ha', 'cn', 'mn'] as const) dep.configure(n);
  await dep.start('ha', topo.ha.ns);
  await dep.start('cn', topo.cn.ns);
  await dep.start('mn', topo.mn.ns);
  await dep.waitFor('mn', (st) => mnEntry(st, addr.ha)?.state === 'effective' && mnEntry(st, addr.cn)?.state === 'effective', 'home and correspondent registrations');

  const capA = await topo.capture('foreignA', { at: 'router' });
  const capHome = await topo.capture('home', { at: 'router' });
  // K03: plain (non-IPsec) traffic from the HoA to a non-IRO destination goes through the tunnel
  await topo.mn.ping(addr.router.cn, { count: 2, src: addr.mn.hoa });
  // K05: a TCP stream over ESP to the CN, running across the move
  const server = await startStreamServer(topo.cn, addr.cn, 7200);
  const client = startStreamClient(topo.mn, addr.mn.hoa, addr.cn, 7200, 30, 0.1);
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const beforeMove = streamEchoes(client).length;
    assert.ok(beforeMove > 5, `the stream runs before the move:\n${client.stdout}\n${client.stderr}`);
    const a = await capA.stop();
    const home = await capHome.stop();
    // K02 (first half) and K03 on foreign link A
    assert.deepEqual(packetsWithAddressInHeaders(a.packets, hoa).map((p) => p.summary), [], `no HoA in any header on foreign link A:\n${a.text}`);
    const tunnelled = a.packets.filter((p) => p.esp.some((e) => TUNNEL_SPIS.has(e.spi)));
    assert.ok(tunnelled.length >= 4, `the ping went through the ESP-protected tunnel:\n${a.text}`);
    for (const p of tunnelled) assert.deepEqual([p.src, p.dst].sort(), [canonicalIPv6(addr.mn.coaA), canonicalIPv6(addr.ha)].sort());
    const viaHome = home.packets.filter((p) => p.protocols.includes('ICMPv6') && [p.src, p.dst].includes(hoa) && [p.src, p.dst].includes(canonicalIPv6(addr.router.cn)));
    assert.ok(viaHome.length >= 2, `the HA forwards the tunnelled ping on the home link (K03):\n${home.text}`);

    // the move (K05, K11): to foreign link B
    const capB = await topo.capture('foreignB', { at: 'router' });
    const movedAt = Date.now();
    topo.moveMn('B');
    await dep.waitFor('mn', (st) => mnEntry(st, addr.cn)?.state === 'effective' && mnEntry(st, addr.cn)?.coa === canonicalIPv6(addr.mn.coaB), 'the correspondent registration from the new CoA', 90_000);
    await dep.waitFor('mn', (st) => mnEntry(st, addr.ha)?.coa === canonicalIPv6(addr.mn.coaB) && mnEntry(st, addr.ha)?.state === 'effective', 'the home registration from the new CoA', 90_000);
    // TCP resumes at its next retransmission (exponential back-off from the packets the move
    // lost), which may come after both registrations: wait for it, then it must keep flowing
    const count0 = streamEchoes(client).length;
    const resumeBy = Date.now() + 15_000;
    while (streamEchoes(client).length === count0 && Date.now() < resumeBy) await new Promise((r) => setTimeout(r, 100));
    const count1 = streamEchoes(client).length;
    await new Promise((r) => setTimeout(r, 3000));
    if (count1 === count0 || streamEchoes(client).length <= count1 + 5) {
      const b = await capB.stop();
      assert.fail(`the stream keeps flowing after the move:\n${client.stdout.slice(-600)}\n${client.stderr}\n${await stallReport(topo, dep)}\ncapture on foreign link B:\n${b.packets.map((p) => `${p.time} ${p.src} > ${p.dst} ${p.summary.slice(0, 80)}`).slice(-80).join('\n')}`);
    }
    await topo.mn.ping(addr.router.cn, { count: 2, src: addr.mn.hoa });
    const b = await capB.stop();
    assert.ok(client.running || client.stdout.includes('done'), `the TCP connection survived (no reset):\n${client.stderr}`);

    // G01: the first MH to the CN from the new CoA is an ESP-protected BU, no DstOpts/Routing header
    const mhOut = b.packets.filter((p) => p.esp.some((e) => e.spi === MH_TO_CN));
    assert.ok(mhOut.length >= 1, `a BU to the CN from the new CoA:\n${b.text}`);
    assert.equal(mhOut[0]!.src, canonicalIPv6(addr.mn.coaB));
    assert.equal(mhOut[0]!.dst, canonicalIPv6(addr.cn));
    assert.deepEqual(mhOut[0]!.headerChain, [50], 'ESP right after the IPv6 header: no HAO, no RH2');
    // E07/K11: the tunnel's outer source is the new CoA; E06: the HA sends to the new CoA
    const tunnelB = b.packets.filter((p) => p.esp.some((e) => TUNNEL_SPIS.has(e.spi)));
    assert.ok(tunnelB.some((p) => p.src === canonicalIPv6(addr.mn.coaB) && p.dst === canonicalIPv6(addr.ha)), `MN -> HA tunnel from the new CoA:\n${b.text}`);
    assert.ok(tunnelB.some((p) => p.src === canonicalIPv6(addr.ha) && p.dst === canonicalIPv6(addr.mn.coaB)), `HA -> MN tunnel to the new CoA:\n${b.text}`);
    // K02 (second half): no HoA on foreign link B either
    assert.deepEqual(packetsWithAddressInHeaders(b.packets, hoa).map((p) => p.summary), [], `no HoA in any header on foreign link B:\n${b.text}`);
    const gaps = streamEchoes(client).map(([, rtt]) => rtt);
    console.log(`K05 handover: stream echoes ${streamEchoes(client).length}, max echo time ${Math.max(...gaps).toFixed(3)} s, registration after ${(Date.now() - movedAt) / 1000} s`);
  } finally {
    await client.stop();
    await server.stop();
  }
});
