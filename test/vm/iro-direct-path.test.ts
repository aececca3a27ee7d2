// Issue 4 step 4 — the core idea on a real kernel, with static keys and no signalling yet:
// ESP (then AH) transport SAs bound to the MN's HoA, pushed with `ip xfrm`; the remap rules of
// IRO §5.2.2 examples 1 and 2 on the MN and their mirrors on the CN. UDP and TCP flow HoA<->CN
// end to end, the CN's sockets see the HoA as peer, the wire between them carries only the
// CoA, and after a move traffic continues from the new CoA. Also the ancillary channel for MH:
// the on-wire source chosen per packet (SO_MARK) and read back per packet (SO_RCVMARK).
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { iroTopology, packetsWithAddressInHeaders, type IroTopology } from '../lib/topology/index.ts';
import { installSaPair, type IpsecProto } from '../lib/scenario/ipsec-static.ts';
import { startEchoServer, echo } from '../lib/scenario/peers.ts';
import { testDatapathPaths, destroyQuietly } from '../lib/datapath-fixture.ts';
import { Datapath } from '../../src/datapath/datapath.ts';
import { inNetns } from '../../src/kernel/netns.ts';
import { buildEntries, resolveRules } from '../../src/datapath/rules.ts';
import { parseRuleSet } from '../../src/datapath/rule-syntax.ts';
import { DatagramSocket } from '../../src/kernel/socket.ts';
import { AF_INET6, SOCK_RAW, IPPROTO_MH, SOL_SOCKET, SO_MARK, SO_RCVMARK, IPPROTO_IPV6, IPV6_RECVPKTINFO } from '../../src/kernel/constants.ts';
import { decodeSockaddrIn6, sockaddrIn6 } from '../../src/kernel/sockaddr.ts';
import { canonicalIPv6 } from '../../src/common/ipv6.ts';

const skip = skipUnlessGuest();
const PORT = 7000;

const topologies: IroTopology[] = [];
const datapaths: Datapath[] = [];
after(async () => {
  for (const d of datapaths) destroyQuietly(d);
  for (const t of topologies) await t.destroy();
});

// MN side of examples 1 (data, SPIs 42/43) and 2 (MH, SPIs 44/45); CN side: their mirrors.
const MN_RULES = `
dir: out, SPI: 42, exp. src: HoA, remap. src: CoA
dir: in , SPI: 43, exp. dst: CoA, remap. dst: HoA
dir: out, SPI: 44, exp. src: HoA, remap. src: ancillary|CoA
dir: in , SPI: 45, exp. dst: CoA, remap. dst: HoA`;
const CN_RULES = `
dir: in , SPI: 42, exp. src: CoA, remap. src: HoA
dir: out, SPI: 43, exp. dst: HoA, remap. dst: CoA
dir: in , SPI: 44, exp. src: ::, remap. src: HoA (ancillary)
dir: out, SPI: 45, exp. dst: HoA, remap. dst: ancillary|CoA`;

function withProto(text: string, proto: IpsecProto): string {
  return proto === 'ah' ? text.replace(/SPI: (\d+),/g, 'SPI: $1, proto: ah,') : text;
}

function applyRules(dp: Datapath, text: string, env: Record<string, string>, peer: string): void {
  dp.reconcileEntries(buildEntries(resolveRules(parseRuleSet(text), env, { peer })));
}

async function scenario(proto: IpsecProto): Promise<void> {
  const t = await iroTopology({ prefix: `iro4${proto}` });
  topologies.push(t);
  const { mn, cn, addr } = t;
  const hoa = addr.mn.hoa;
  mn.ip('addr', 'add', `${hoa}/128`, 'dev', 'lo');
  // the HoA is reachable through the router (it routes the home prefix to the home link)
  for (const [s, side] of [[mn, 'local'], [cn, 'remote']] as const) {
    installSaPair(s, side, { local: hoa, remote: addr.cn, proto, spiOut: 44, spiIn: 45, reqid: 2, upper: '135', priority: 100 });
    installSaPair(s, side, { local: hoa, remote: addr.cn, proto, spiOut: 42, spiIn: 43, reqid: 1, priority: 200 });
  }

  const mnDp = Datapath.open(testDatapathPaths(`mn-${proto}`));
  const cnDp = Datapath.open(testDatapathPaths(`cn-${proto}`));
  datapaths.push(mnDp, cnDp);
  inNetns(mn.ns, () => {
    for (const dev of ['fa', 'fb']) for (const dir of ['ingress', 'egress'] as const) mnDp.attach(dev, dir);
  });
  inNetns(cn.ns, () => {
    cnDp.attach('cn', 'ingress');
    cnDp.attach('cn', 'egress');
  });
  const env = (coa: string) => ({ HoA: hoa, CoA: coa });
  applyRules(mnDp, withProto(MN_RULES, proto), env(addr.mn.coaA), addr.cn);
  applyRules(cnDp, withProto(CN_RULES, proto), env(addr.mn.coaA), hoa);

  const server = await startEchoServer(cn, addr.cn, PORT);
  try {
    await mn.ping(addr.router.foreignA, { count: 1 });
    const cap = await t.capture('foreignA', { at: 'router' });
    const u = await echo(mn, 'udp', hoa, addr.cn, PORT, `udp-${proto}-1`);
    const c = await echo(mn, 'tcp', hoa, addr.cn, PORT, `tcp-${proto}-1`);
    const r = await cap.stop();
    assert.equal(u.reply, `echo:udp-${proto}-1`);
    assert.equal(u.peer, canonicalIPv6(addr.cn), 'the MN talks to the CN address');
    assert.equal(c.reply, `echo:tcp-${proto}-1`);
    const seenByCn = server.seen();
    assert.ok(seenByCn.length >= 2);
    for (const s of seenByCn) assert.equal(canonicalIPv6(s.peer), canonicalIPv6(hoa), `the CN socket sees the HoA as peer (${s.kind})`);

    const ipsecPkts = r.packets.filter((p) => (proto === 'esp' ? p.esp.length : p.ah.length) > 0);
    assert.ok(ipsecPkts.length >= 4, `IPsec packets on the MN's link:\n${r.text}`);
    for (const p of ipsecPkts) {
      const ends = [p.src, p.dst].sort();
      assert.deepEqual(ends, [canonicalIPv6(addr.mn.coaA), canonicalIPv6(addr.cn)].sort(), `CoA<->CN only: ${p.summary}`);
    }
    const plain = r.packets.filter((p) => p.ip6 && !p.protocols.includes('ICMPv6') && p.esp.length === 0 && p.ah.length === 0);
    assert.deepEqual(plain.map((p) => p.summary), [], 'nothing but IPsec (and neighbour discovery) between MN and CN');
    assert.deepEqual(packetsWithAddressInHeaders(r.packets, hoa).map((p) => p.summary), [], 'the HoA appears in no header on the MN link');

    // The ancillary channel (MH SA, SPI 44/45): the CN learns each packet's on-wire source.
    const mnSlot = 5;
    mnDp.setAncillaryOut(mnSlot, { src: addr.mn.coaA });
    const rx = inNetns(cn.ns, () => DatagramSocket.open(AF_INET6, SOCK_RAW, IPPROTO_MH, { label: 'CN MH socket' }));
    const tx = inNetns(mn.ns, () => DatagramSocket.open(AF_INET6, SOCK_RAW, IPPROTO_MH, { label: 'MN MH socket' }));
    try {
      rx.setOption(SOL_SOCKET, SO_RCVMARK, 1);
      rx.setOption(IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
      tx.bind(sockaddrIn6(hoa));
      tx.setOption(SOL_SOCKET, SO_MARK, mnDp.ancillaryMark(mnSlot));
      // a Binding Refresh Request-shaped MH message (8 octets; the kernel fills the checksum)
      tx.send(Buffer.from([59, 0, 0, 0, 0, 0, 0, 0]), { addr: sockaddrIn6(addr.cn) });
      assert.ok(rx.waitReadable(5000), 'the CN receives the MH packet');
      const m = rx.receiveNow()!;
      const markMsg = m.cmsgs.find((c) => c.level === SOL_SOCKET && c.type === SO_MARK);
      assert.ok(markMsg, 'SO_RCVMARK delivers the mark set at tc ingress');
      const rec = cnDp.ancillaryInFromMark(markMsg.data.readUInt32LE(0));
      assert.ok(rec, 'the mark maps to a record');
      assert.equal(rec.origSrc, canonicalIPv6(addr.mn.coaA), 'the on-wire source of that very packet');
      assert.equal(rec.spi, 44);
      assert.equal(decodeSockaddrIn6(m.addr).address, canonicalIPv6(hoa), 'the socket itself sees the HoA');
    } finally {
      rx.close();
      tx.close();
    }

    // Move: the MN goes to foreign link B; only the rules change (SAs and policies stay).
    t.moveMn('B');
    applyRules(mnDp, withProto(MN_RULES, proto), env(addr.mn.coaB), addr.cn);
    applyRules(cnDp, withProto(CN_RULES, proto), env(addr.mn.coaB), hoa);
    await mn.ping(addr.router.foreignB, { count: 1 });
    const cap2 = await t.capture('foreignB', { at: 'router' });
    const u2 = await echo(mn, 'udp', hoa, addr.cn, PORT, `udp-${proto}-2`);
    const c2 = await echo(mn, 'tcp', hoa, addr.cn, PORT, `tcp-${proto}-2`);
    const r2 = await cap2.stop();
    assert.equal(u2.reply, `echo:udp-${proto}-2`);
    assert.equal(c2.reply, `echo:tcp-${proto}-2`);
    const moved = r2.packets.filter((p) => (proto === 'esp' ? p.esp.length : p.ah.length) > 0);
    assert.ok(moved.length >= 4, r2.text);
    for (const p of moved) assert.ok([p.src, p.dst].includes(canonicalIPv6(addr.mn.coaB)), `from the new CoA: ${p.summary}`);
    assert.deepEqual(packetsWithAddressInHeaders(r2.packets, hoa).map((p) => p.summary), []);
    for (const s of server.seen()) assert.equal(canonicalIPv6(s.peer), canonicalIPv6(hoa));
  } finally {
    await server.stop();
  }
}

test('issue 4 step 4 with ESP: UDP/TCP HoA<->CN over remapped ESP, CoA-only wire, HoA seen by the CN, move to a new CoA, MH ancillary per packet (C05, C11, C16, B01)', { skip, timeout: 600_000 }, async () => {
  await scenario('esp');
});

test('issue 4 step 4 with AH: the same with AH (addresses restored before ICV verification)', { skip, timeout: 600_000 }, async () => {
  await scenario('ah');
});
