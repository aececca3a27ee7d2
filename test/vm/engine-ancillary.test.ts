// The ancillary channel end to end on real MH packets (issue 5 item 5, DESIGN decision 5,
// OP-10/OP-11): MhSocket + AncillaryChannel on the MN and the CN, an MH SA pair (selector proto
// 135) whose rules come from the engines. The MN sends from its HoA with a chosen on-wire source;
// the CN's socket reports that on-wire source, exactly per packet through SO_RCVMARK, and through
// the per-SPI record when the data path writes no marks; an unremapped packet reports "::". The
// other way, the CN chooses the on-wire destination and the MN learns it.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { EngineNode, engineTopology, nodeSpecs, until } from '../lib/scenario/engine-node.ts';
import { addSa, expectedSaInfo, policy, saPair } from '../lib/scenario/static-sa.ts';
import type { IroTopology } from '../lib/topology/index.ts';
import { AncillaryChannel } from '../../src/iro/ancillary.ts';
import { MhSocket, type MhReceived } from '../../src/mip6/socket.ts';
import { canonicalIPv6 } from '../../src/common/ipv6.ts';

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

function inboundMh(node: EngineNode) {
  return (src: string, dst: string) =>
    node.engine
      .trackedSas()
      .filter((x) => x.cls.cls === 'mh' && x.cls.dir === 'in' && x.sa.saddr === src && x.sa.key.daddr === dst)
      .map((x) => ({ proto: x.sa.key.proto, spi: x.sa.key.spi }));
}

function receiver(sock: MhSocket): () => Promise<MhReceived> {
  const q: MhReceived[] = [];
  sock.start((m) => q.push(m));
  return async () => {
    await until(() => `an MH message (drops: ${JSON.stringify([...sock.drops])})`, () => q.length > 0, 10_000);
    return q.shift()!;
  };
}

test('OP-10/OP-11 C05 C06 C11 MH from the HoA with a chosen on-wire source: the CN reports it exactly (SO_RCVMARK), by the per-SPI record with marks off, "::" when unremapped; the CN chooses the on-wire destination back', { skip, timeout: 420_000 }, async () => {
  const t: IroTopology = await engineTopology('enganc');
  cleanups.push(() => t.destroy());
  const { hoa, coaA } = t.addr.mn;
  const cn = t.addr.cn;
  const coaA2 = '2001:db8:a::200'; // a second address on the MN's foreign link, not the engine's CoA
  t.mn.ip('addr', 'add', `${coaA2}/64`, 'dev', 'fa', 'nodad');
  const specs = nodeSpecs(t, 'anc');
  const mn = await EngineNode.start(specs.mn);
  cleanups.push(() => mn.destroy());
  const cnNode = await EngineNode.start(specs.cn);
  cleanups.push(() => cnNode.destroy());

  const mh = saPair(hoa, cn, 0x2800, 0x2801, 28, '135');
  cnNode.engine.expectSas([expectedSaInfo(mh.out), expectedSaInfo(mh.in)]);
  for (const [host, o] of [[t.mn, mh.out], [t.cn, mh.in]] as const) {
    addSa(host, mh.out);
    addSa(host, mh.in);
    policy(host, 'add', o.src, o.dst, 'out', 28, '135', 100);
    policy(host, 'add', o.dst, o.src, 'in', 0, '135', 100);
  }
  await until('MH rules on both ends', () => mn.ruleIds().length === 2 && cnNode.watcher.mirror.size === 2, 10_000);
  assert.deepEqual(cnNode.engine.trackedSas().map((x) => x.cls.cls), ['mh', 'mh']);

  const mnSock = MhSocket.open({ netns: t.mn.ns, channel: new AncillaryChannel(mn.dp), candidateSas: inboundMh(mn) });
  cleanups.push(() => mnSock.close());
  const cnSock = MhSocket.open({ netns: t.cn.ns, channel: new AncillaryChannel(cnNode.dp), candidateSas: inboundMh(cnNode) });
  cleanups.push(() => cnSock.close());
  assert.equal(cnSock.exactCorrelation, true, 'SO_RCVMARK is available on this kernel');
  const atCn = receiver(cnSock);
  const atMn = receiver(mnSock);
  const brr = { kind: 'brr' as const, options: [] };
  const cap = await t.capture('foreignA', { at: 'router' });

  // 1. on-wire source = the CoA, exact per packet
  mnSock.send({ msg: brr, src: hoa, dst: cn, onWireSrc: coaA });
  let m = await atCn();
  assert.equal(m.msg.kind, 'brr');
  assert.deepEqual({ src: m.src, dst: m.dst }, { src: canonicalIPv6(hoa), dst: canonicalIPv6(cn) }, 'the socket itself sees the HoA');
  assert.deepEqual(m.onWire, { src: canonicalIPv6(coaA), dst: '::', spi: 0x2800, proto: 'esp', exact: true });

  // 2. another on-wire source chosen for this one packet (the rule's static fallback is the CoA)
  mnSock.send({ msg: brr, src: hoa, dst: cn, onWireSrc: coaA2 });
  m = await atCn();
  assert.deepEqual(m.onWire, { src: coaA2, dst: '::', spi: 0x2800, proto: 'esp', exact: true }, 'the per-packet choice, not the rule\'s CoA');

  // 3. the other way: the CN picks the on-wire destination, the MN learns it
  cnSock.send({ msg: brr, src: cn, dst: hoa, onWireDst: coaA });
  m = await atMn();
  assert.deepEqual({ src: m.src, dst: m.dst }, { src: canonicalIPv6(cn), dst: canonicalIPv6(hoa) });
  assert.deepEqual(m.onWire, { src: '::', dst: canonicalIPv6(coaA), spi: 0x2801, proto: 'esp', exact: true });

  // 4. the data path writes no marks: the per-SPI record, same address, not exact
  cnNode.dp.configure({ ancillaryInMark: false });
  mnSock.send({ msg: brr, src: hoa, dst: cn, onWireSrc: coaA });
  m = await atCn();
  assert.deepEqual(m.onWire, { src: canonicalIPv6(coaA), dst: '::', spi: 0x2800, proto: 'esp', exact: false });

  // 5. unremapped (the MN without a CoA: no source rule): "::", from the per-SPI record, then exactly with marks on
  mn.engine.setCoa(null, 0);
  mnSock.send({ msg: brr, src: hoa, dst: cn });
  m = await atCn();
  assert.deepEqual({ src: m.onWire.src, dst: m.onWire.dst, exact: m.onWire.exact }, { src: '::', dst: '::', exact: false });
  cnNode.dp.configure({ ancillaryInMark: true });
  mnSock.send({ msg: brr, src: hoa, dst: cn });
  m = await atCn();
  assert.deepEqual({ src: m.onWire.src, dst: m.onWire.dst, exact: m.onWire.exact }, { src: '::', dst: '::', exact: true });

  // the wire, decoded by tcpdump: the MN's ESP packets carried exactly the chosen sources
  const r = await cap.stop();
  const fromMn = r.packets.filter((p) => p.esp[0]?.spi === 0x2800).map((p) => p.src);
  assert.deepEqual(fromMn, [coaA, coaA2, coaA, hoa, hoa].map(canonicalIPv6), r.text.slice(0, 3000));
  const toMn = r.packets.filter((p) => p.esp[0]?.spi === 0x2801).map((p) => p.dst);
  assert.deepEqual(toMn, [canonicalIPv6(coaA)]);
  assert.equal(cnSock.drops.size + mnSock.drops.size, 0, 'nothing dropped by the sockets');
});
