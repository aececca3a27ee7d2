// K09 and K04: a correspondent without IRO. The CN has the same four transport SAs, installed
// with iproute2 (static keying, no iro-ctl there), but no IRO data path: the MN's BU arrives from
// the CoA, which no SA selector of the CN accepts, so it is discarded without an answer. The MN
// gives the attempt up (unansweredFallbackMs) and its HoA traffic to the CN goes through the
// protected HA tunnel, end to end, while no packet on the foreign link ever carries the HoA in
// a header, before the BU, while it is unanswered, or after (K04, App. J).
import test from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { iroTopology, packetsWithAddressInHeaders, type IroTopology } from '../lib/topology/index.ts';
import { Deployment, destroyAfterTests, mnEntry } from '../lib/scenario/deployment.ts';
import { echo, startEchoServer } from '../lib/scenario/peers.ts';
import { canonicalIPv6 } from '../../src/common/ipv6.ts';

const skip = skipUnlessGuest();
let topo: IroTopology | undefined;
let dep: Deployment | undefined;
destroyAfterTests(() => [dep, topo]);

const MH_TO_CN = 0x2001;
const MH_TO_MN = 0x2002;
const DATA_TO_CN = 0x2003;
const TUNNEL_SPIS = new Set([0x1011, 0x1012]);
const REQID = '77';

test('K09 K04: a CN without IRO discards the remapped BU, the MN falls back to the HA tunnel, and the HoA never shows on the foreign link', { skip, timeout: 900_000 }, async () => {
  topo = await iroTopology({ prefix: 'k09' });
  dep = new Deployment('k09');
  const { addr } = topo;
  const hoa = addr.mn.hoa;
  dep.configure('ha');
  dep.configure('mn');
  dep.configure('cn'); // written for its keys only: this CN runs no iro-ctl

  // the CN's IPsec, as a plain IPsec host would have it (the MN's SPIs and keys, HoA selectors)
  const sa = (spi: number, src: string, dst: string, name: string, upper: string[]) =>
    topo!.cn.ip('-6', 'xfrm', 'state', 'add', 'src', src, 'dst', dst, 'proto', 'esp', 'spi', `0x${spi.toString(16)}`, 'reqid', REQID, 'mode', 'transport',
      'auth-trunc', 'hmac(sha256)', `0x${dep!.key(`keys/${name}.auth`).toString('hex')}`, '128', 'enc', 'cbc(aes)', `0x${dep!.key(`keys/${name}.enc`).toString('hex')}`,
      'sel', 'src', `${src}/128`, 'dst', `${dst}/128`, ...upper);
  const pol = (src: string, dst: string, dir: 'in' | 'out', prio: number, upper: string[]) =>
    topo!.cn.ip('-6', 'xfrm', 'policy', 'add', 'src', `${src}/128`, 'dst', `${dst}/128`, ...upper, 'dir', dir, 'priority', String(prio),
      'tmpl', 'src', src, 'dst', dst, 'proto', 'esp', 'reqid', REQID, 'mode', 'transport');
  const mh = ['proto', '135'];
  sa(MH_TO_CN, hoa, addr.cn, 'mh-to-cn', mh);
  sa(MH_TO_MN, addr.cn, hoa, 'mh-to-mn', mh);
  sa(DATA_TO_CN, hoa, addr.cn, 'data-to-cn', []);
  sa(0x2004, addr.cn, hoa, 'data-to-mn', []);
  pol(hoa, addr.cn, 'in', 1000, mh);
  pol(addr.cn, hoa, 'out', 1000, mh);
  pol(hoa, addr.cn, 'in', 1100, []);
  pol(addr.cn, hoa, 'out', 1100, []);

  const capA = await topo.capture('foreignA', { at: 'router' });
  const capCn = await topo.capture('cn', { at: 'router' });
  await dep.start('ha', topo.ha.ns);
  await dep.up('mn', topo.mn.ns);
  await dep.waitFor('mn', (st) => mnEntry(st, addr.ha)?.state === 'effective', 'the home registration', 120_000);
  // the BU to the CN goes out (bu-sent, an attempt in progress), is never answered, and the MN
  // stops directing data at the CN while it keeps retrying (state none, attempt still running)
  const st = await dep.waitFor('mn', (s) => mnEntry(s, addr.cn)?.state === 'none' && mnEntry(s, addr.cn)?.phase === 'wait-ba', 'the fallback to the tunnel (no BA from the CN)', 90_000);
  assert.equal(mnEntry(st, addr.cn)?.coa ?? null, null, 'no binding with the CN');

  // K09 fallback: HoA <-> CN traffic works through the HA tunnel
  const server = await startEchoServer(topo.cn, addr.cn, 7400);
  try {
    const r = await echo(topo.mn, 'udp', hoa, addr.cn, 7400, 'k09-udp');
    const t = await echo(topo.mn, 'tcp', hoa, addr.cn, 7400, 'k09-tcp');
    assert.equal(r.reply, 'echo:k09-udp');
    assert.equal(t.reply, 'echo:k09-tcp');
    for (const s of server.seen()) assert.equal(canonicalIPv6(s.peer), canonicalIPv6(hoa), 'the CN talks to the HoA');
  } finally {
    await server.stop();
  }
  const a = await capA.stop();
  const cn = await capCn.stop();

  // the BU reached the CN from the CoA, and the CN never answered it (no MH SA packet back)
  const bus = cn.packets.filter((p) => p.esp.some((e) => e.spi === MH_TO_CN));
  assert.ok(bus.length >= 1, `the remapped BU reached the CN:\n${cn.text.slice(0, 4000)}`);
  for (const p of bus) assert.equal(p.src, canonicalIPv6(addr.mn.coaA), 'the BU came from the CoA');
  assert.equal(cn.packets.filter((p) => p.esp.some((e) => e.spi === MH_TO_MN)).length, 0, 'the CN sent no MH back (silent discard)');
  // after the fallback the data went through the tunnel: no direct data SPI from the CoA
  const direct = a.packets.filter((p) => p.esp.some((e) => e.spi === DATA_TO_CN));
  assert.equal(direct.length, 0, `no direct data on the foreign link after the fallback:\n${a.text.slice(0, 3000)}`);
  assert.ok(a.packets.filter((p) => p.esp.some((e) => TUNNEL_SPIS.has(e.spi))).length >= 4, 'the data went through the protected tunnel');
  // K04: never the HoA in a header on the foreign link
  assert.deepEqual(packetsWithAddressInHeaders(a.packets, canonicalIPv6(hoa)).map((p) => p.summary), [], 'no HoA on the foreign link');
});
