// K01 (and G01, G04, G11, H03, I06): the full IRO flow with three real daemons started from
// the example configurations (static keys): the MN registers with its HA in IRO mode and with
// the CN (BU -> AOTC -> AOTR -> BA), then IPsec data HoA<->CN flows directly, and the home link
// sees none of it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { iroTopology, type IroTopology } from '../lib/topology/index.ts';
import { Deployment, destroyAfterTests, mnEntry } from '../lib/scenario/deployment.ts';
import { startEchoServer, echo } from '../lib/scenario/peers.ts';
import { canonicalIPv6 } from '../../src/common/ipv6.ts';

const skip = skipUnlessGuest();
let topo: IroTopology | undefined;
let dep: Deployment | undefined;
destroyAfterTests(() => [dep, topo]);

test('K01 static keying, full IRO flow: home registration, BU -> AOTC -> AOTR -> BA with the CN, then direct ESP data', { skip, timeout: 600_000 }, async () => {
  topo = await iroTopology({ prefix: 'k01' });
  dep = new Deployment('k01');
  const { addr } = topo;
  for (const n of ['ha', 'cn', 'mn'] as const) dep.configure(n);
  await dep.start('ha', topo.ha.ns);
  await dep.start('cn', topo.cn.ns);
  // the signalling on the MN's foreign link, from before the MN starts
  const sigA = await topo.capture('foreignA', { at: 'router' });
  await dep.start('mn', topo.mn.ns);

  // I06/G11: home registration in IRO mode, then proxy ND for the HoA on the home link
  await dep.waitFor('mn', (st) => mnEntry(st, addr.ha)?.state === 'effective', 'the home registration');
  const neigh = topo.ha.ip('-6', 'neigh', 'show', 'proxy');
  assert.match(neigh, new RegExp(`${addr.mn.hoa.replace(/:/g, ':')} dev home`), `proxy ND entry on the HA:\n${neigh}`);

  // K01: correspondent registration, then the data flow
  const st = await dep.waitFor('mn', (s) => mnEntry(s, addr.cn)?.state === 'effective', 'the correspondent registration');
  assert.equal(mnEntry(st, addr.cn)!.coa, canonicalIPv6(addr.mn.coaA));
  const cnSt = await dep.status('cn');
  const b = (cnSt.cn as { bindings: Array<Record<string, unknown>> }).bindings.find((x) => x.hoa === canonicalIPv6(addr.mn.hoa));
  assert.equal(b?.provenCoa, canonicalIPv6(addr.mn.coaA), 'the CN proved the CoA (AOTC/AOTR) before accepting');

  // on the wire (the MH is encrypted, so by SPI): G11 the home BU (SA1) from the CoA straight to
  // the HA and the BA (SA2) back to the CoA, ESP right after the IPv6 header (no HAO, no RH2);
  // G04 the MN's MH to the CN (BU, AOTR) from the CoA; H03 the CN's MH (AOTC, BA) to the CoA
  const coa = canonicalIPv6(addr.mn.coaA);
  const sig = await sigA.stop();
  const bySpi = (spi: number) => sig.packets.filter((p) => p.esp.some((e) => e.spi === spi));
  const expectOnWire = (spi: number, min: number, src: string, dst: string, what: string) => {
    const ps = bySpi(spi);
    assert.ok(ps.length >= min, `${what}: at least ${min} packet(s) with SPI 0x${spi.toString(16)}:\n${sig.text.slice(0, 4000)}`);
    for (const p of ps) {
      assert.deepEqual([p.src, p.dst], [src, dst], `${what}: ${p.summary}`);
      assert.deepEqual(p.headerChain, [50], `${what}: no HAO, no RH2: ${p.summary}`);
    }
  };
  expectOnWire(0x1001, 1, coa, canonicalIPv6(addr.ha), 'G11 home BU');
  expectOnWire(0x1002, 1, canonicalIPv6(addr.ha), coa, 'G11 home BA');
  expectOnWire(0x2001, 2, coa, canonicalIPv6(addr.cn), 'G04 BU and AOTR to the CN');
  expectOnWire(0x2002, 2, canonicalIPv6(addr.cn), coa, 'H03 AOTC and BA to the CoA');

  // I06: a node on the home link resolving the HoA gets the HA's link-layer address
  const haMac = /link\/ether ([0-9a-f:]{17})/.exec(topo.ha.ip('link', 'show', 'home'))?.[1];
  assert.ok(haMac, "the HA's home interface has a MAC");
  // the echo may or may not come back (through the MN-HA tunnel); only the resolution matters
  topo.router.exec(['ping', '-6', '-c', '1', '-W', '2', addr.mn.hoa], { check: false });
  const resolved = topo.router.ip('-6', 'neigh', 'show', addr.mn.hoa);
  assert.match(resolved, new RegExp(`lladdr ${haMac}`), `I06: the router resolved the HoA to the HA (${haMac}): ${resolved}`);

  const server = await startEchoServer(topo.cn, addr.cn, 7100);
  try {
    const capHome = await topo.capture('home', { at: 'router' });
    const capA = await topo.capture('foreignA', { at: 'router' });
    const r = await echo(topo.mn, 'udp', addr.mn.hoa, addr.cn, 7100, 'k01-udp');
    const t = await echo(topo.mn, 'tcp', addr.mn.hoa, addr.cn, 7100, 'k01-tcp');
    const home = await capHome.stop();
    const fa = await capA.stop();
    assert.equal(r.reply, 'echo:k01-udp');
    assert.equal(t.reply, 'echo:k01-tcp');
    for (const s of server.seen()) assert.equal(canonicalIPv6(s.peer), canonicalIPv6(addr.mn.hoa), 'the CN socket sees the HoA');
    const dataSpis = new Set([0x2003, 0x2004]);
    const direct = fa.packets.filter((p) => p.esp.some((e) => dataSpis.has(e.spi)));
    assert.ok(direct.length >= 4, `direct ESP data on the MN's link:\n${fa.text}`);
    for (const p of direct) assert.deepEqual([p.src, p.dst].sort(), [canonicalIPv6(addr.mn.coaA), canonicalIPv6(addr.cn)].sort());
    assert.equal(home.packets.filter((p) => p.esp.some((e) => dataSpis.has(e.spi))).length, 0, `the home link carries none of it:\n${home.text}`);
  } finally {
    await server.stop();
  }
  const mnStatus = await dep.status('mn');
  const rules = mnStatus.rules as Array<{ id: string; reasons: string[] }>;
  assert.ok(rules.every((r) => r.reasons.length > 0), 'every rule carries its reason (status)');
});
