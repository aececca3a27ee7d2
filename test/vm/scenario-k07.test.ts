// K07 (and OP-7, K04, C07): MN-MN route optimisation with three real daemons. Two mobile nodes
// share one home agent (deploy/examples/mn2.yaml); each has the other as a peer of kind mn, so
// each registers with the other (BU to the peer's HoA -> AOTC -> AOTR -> BA) and answers the
// other's registration as its correspondent. Then UDP and TCP between HoA1 and HoA2 go directly
// CoA1 <-> CoA2 with both addresses remapped on both ends (IRO §5.2.2 example 3; the MH SAs:
// example 4), no home address in any header on either foreign link, and none of it through
// the home link.
import test from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { iroTopology, packetsWithAddressInHeaders, type IroTopology } from '../lib/topology/index.ts';
import { Deployment, destroyAfterTests, mnEntry } from '../lib/scenario/deployment.ts';
import { addMn2Peer, addMn2ToHa } from '../lib/scenario/mn-pair.ts';
import { echo, startEchoServer } from '../lib/scenario/peers.ts';
import { canonicalIPv6, parseIPv6 } from '../../src/common/ipv6.ts';
import { encodeMh } from '../../src/mip6/codec/index.ts';

const skip = skipUnlessGuest();
let topo: IroTopology | undefined;
let dep: Deployment | undefined;
destroyAfterTests(() => [dep, topo]);

// deploy/examples/mn2.yaml
const MH_1TO2 = 0x3001;
const MH_2TO1 = 0x3002;
const DATA_1TO2 = 0x3003;
const DATA_2TO1 = 0x3004;
const DATA_SPIS = new Set([DATA_1TO2, DATA_2TO1]);
// the MN-HA tunnels' protection: MN1 (ha.yaml / mn.yaml) and MN2 (mn2.yaml)
const TUNNEL_SPIS = new Set([0x1011, 0x1012, 0x1111, 0x1112]);

interface StatusRule {
  id: string;
  rules: Array<{ field: 'src' | 'dst'; expected: string; remap: { address?: string; ancillary?: boolean; fallback?: string }; recordAncillary: boolean }>;
  reasons: string[];
}

/** MN1 here talks to MN2 only: the example's CN peer and its SAs are left out. */
function withoutCn(doc: Record<string, unknown>): void {
  const names = new Set((doc.peers as Array<{ name?: string; kind: string }>).filter((p) => p.kind === 'cn').map((p) => p.name));
  doc.peers = (doc.peers as Array<{ kind: string }>).filter((p) => p.kind !== 'cn');
  const ipsec = doc.ipsec as { sas: Array<Record<string, unknown>>; policies: Array<Record<string, unknown>> };
  const touches = (x: Record<string, unknown>) => names.has(x.src as string) || names.has(x.dst as string);
  ipsec.sas = ipsec.sas.filter((s) => !touches(s));
  ipsec.policies = ipsec.policies.filter((p) => !touches(p));
}

function ruleOf(st: Record<string, unknown>, id: string): StatusRule {
  const r = (st.rules as StatusRule[]).find((x) => x.id === id);
  assert.ok(r, `rule entry ${id} in the status; entries: ${(st.rules as StatusRule[]).map((x) => x.id).join(', ')}`);
  return r;
}

function fieldRule(r: StatusRule, field: 'src' | 'dst') {
  const f = r.rules.find((x) => x.field === field);
  assert.ok(f, `${r.id} has a ${field} rule: ${JSON.stringify(r.rules)}`);
  return f;
}

function cnBinding(st: Record<string, unknown>, hoa: string): Record<string, unknown> | undefined {
  return (st.cn as { bindings: Array<Record<string, unknown>> } | null)?.bindings.find((b) => b.hoa === hoa);
}

test('K07 OP-7 K04 C07: two MNs register with each other, then UDP and TCP HoA1 <-> HoA2 go directly CoA1 <-> CoA2 with example-3 rules on both ends', { skip, timeout: 1_200_000 }, async () => {
  topo = await iroTopology({ prefix: 'k07', mn2: { ha: 'shared' } });
  dep = new Deployment('k07');
  const { addr } = topo;
  const mn2Host = topo.mn2!;
  const hoa1 = canonicalIPv6(addr.mn.hoa);
  const coa1 = canonicalIPv6(addr.mn.coaA);
  const hoa2 = canonicalIPv6(addr.mn2!.hoa);
  const coa2 = canonicalIPv6(addr.mn2!.coa);
  dep.configure('ha', addMn2ToHa);
  dep.configure('mn', (doc) => {
    withoutCn(doc);
    addMn2Peer(doc);
  });
  dep.configure('mn2');

  // the signalling, seen by the router on each MN's foreign link, from before the MNs start
  const sigA = await topo.capture('foreignA', { at: 'router' });
  const sig2 = await topo.capture('foreign2', { at: 'router' });
  await dep.start('ha', topo.ha.ns);
  await dep.start('mn', topo.mn.ns);
  await dep.start('mn2', mn2Host.ns);

  await dep.waitFor('mn', (st) => mnEntry(st, addr.ha)?.state === 'effective', 'the home registration of MN1', 120_000);
  await dep.waitFor('mn2', (st) => mnEntry(st, addr.ha)?.state === 'effective', 'the home registration of MN2', 120_000);
  // each MN's registration with the other (its BUL entry) and the other's proof of its CoA (AOTC/AOTR)
  const both = (st: Record<string, unknown>, peerHoa: string, peerCoa: string) =>
    mnEntry(st, peerHoa)?.state === 'effective' && cnBinding(st, peerHoa)?.provenCoa === peerCoa;
  const st1 = await dep.waitFor('mn', (st) => both(st, hoa2, coa2), 'MN1 registered at MN2 and MN2 proven at MN1', 240_000);
  const st2 = await dep.waitFor('mn2', (st) => both(st, hoa1, coa1), 'MN2 registered at MN1 and MN1 proven at MN2', 240_000);
  assert.equal(mnEntry(st1, hoa2)!.coa, coa1, 'MN1 registered CoA1 at MN2');
  assert.equal(mnEntry(st2, hoa1)!.coa, coa2, 'MN2 registered CoA2 at MN1');
  assert.equal(cnBinding(st1, hoa2)!.acceptedCoa, coa2, 'MN1, as correspondent, accepted CoA2');
  assert.equal(cnBinding(st2, hoa1)!.acceptedCoa, coa1, 'MN2, as correspondent, accepted CoA1');
  // settle, so the data window below holds data only
  await new Promise((r) => setTimeout(r, 2000));
  const sa = await sigA.stop();
  const s2 = await sig2.stop();

  // the MH exchanges on the wire: MN1 -> MN2 (BU, AOTR; AOTC, BA as correspondent) always from
  // CoA1, MN2 -> MN1 always from CoA2; each side's AOTC/BA reach the other's CoA directly
  for (const [cap, where] of [[sa, 'foreign link A'], [s2, 'foreign link 2']] as const) {
    const from1 = cap.packets.filter((p) => p.esp.some((e) => e.spi === MH_1TO2));
    const from2 = cap.packets.filter((p) => p.esp.some((e) => e.spi === MH_2TO1));
    assert.ok(from1.length >= 1 && from2.length >= 1, `MH both ways on ${where}:\n${cap.text.slice(0, 4000)}`);
    for (const p of from1) assert.equal(p.src, coa1, `MH from MN1 on ${where} comes from CoA1: ${p.summary}`);
    for (const p of from2) assert.equal(p.src, coa2, `MH from MN2 on ${where} comes from CoA2: ${p.summary}`);
    assert.ok(from1.some((p) => p.dst === coa2), `MN1 sent MH directly to CoA2 (as correspondent, ancillary destination), seen on ${where}`);
    assert.ok(from2.some((p) => p.dst === coa1), `MN2 sent MH directly to CoA1 (as correspondent, ancillary destination), seen on ${where}`);
    // OP-7: a BU goes to the peer's HoA (through its HA) until the peer is proven; never from a HoA
    for (const hoa of [hoa1, hoa2]) {
      const fromHoa = cap.packets.filter((p) => p.src === hoa);
      assert.deepEqual(fromHoa.map((p) => p.summary), [], `no packet from ${hoa} on ${where}`);
    }
  }

  // example 3 (data) and example 4 (MH) on both ends, each rule with its reason
  const mn1St = await dep.status('mn');
  const mn2St = await dep.status('mn2');
  for (const [st, me, peer, outData, inData, outMh, inMh] of [
    [mn1St, { hoa: hoa1, coa: coa1 }, { hoa: hoa2, coa: coa2 }, DATA_1TO2, DATA_2TO1, MH_1TO2, MH_2TO1],
    [mn2St, { hoa: hoa2, coa: coa2 }, { hoa: hoa1, coa: coa1 }, DATA_2TO1, DATA_1TO2, MH_2TO1, MH_1TO2],
  ] as const) {
    const out = ruleOf(st, `out/esp/${outData}/${peer.hoa}`);
    assert.deepEqual([fieldRule(out, 'src').expected, fieldRule(out, 'src').remap.address], [me.hoa, me.coa], `ex. 3 out src HoA -> CoA (${out.id})`);
    assert.deepEqual([fieldRule(out, 'dst').expected, fieldRule(out, 'dst').remap.address], [peer.hoa, peer.coa], `ex. 3 out dst peer HoA -> peer CoA (${out.id})`);
    const inn = ruleOf(st, `in/esp/${inData}`);
    assert.deepEqual([fieldRule(inn, 'dst').expected, fieldRule(inn, 'dst').remap.address], [me.coa, me.hoa], `ex. 3 in dst CoA -> HoA (${inn.id})`);
    assert.deepEqual([fieldRule(inn, 'src').expected, fieldRule(inn, 'src').remap.address], [peer.coa, peer.hoa], `ex. 3 in src peer CoA -> peer HoA (${inn.id})`);
    const mhOut = ruleOf(st, `out/esp/${outMh}/${peer.hoa}`);
    assert.deepEqual(fieldRule(mhOut, 'src').remap, { ancillary: true, fallback: me.coa }, `ex. 4 out MH src: ancillary, else the CoA (${mhOut.id})`);
    assert.deepEqual(fieldRule(mhOut, 'dst').remap, { ancillary: true, fallback: peer.coa }, `ex. 4 out MH dst: ancillary, else the proven peer CoA (${mhOut.id})`);
    const mhIn = ruleOf(st, `in/esp/${inMh}`);
    assert.deepEqual([fieldRule(mhIn, 'src').expected, fieldRule(mhIn, 'src').remap.address, fieldRule(mhIn, 'src').recordAncillary], ['::', peer.hoa, true], `ex. 4 in MH src :: -> peer HoA (ancillary) (${mhIn.id})`);
    for (const r of [out, inn, mhOut, mhIn]) {
      // a reason per field rule (an outgoing entry also says why its SA is tracked)
      assert.ok(r.reasons.length >= r.rules.length, `${r.id}: a reason per rule: ${JSON.stringify(r.reasons)}`);
    }
    assert.ok(out.reasons.some((x) => /ex\. 3/.test(x)) && inn.reasons.some((x) => /ex\. 3/.test(x)), `the example-3 reasons: ${JSON.stringify([out.reasons, inn.reasons])}`);
    assert.ok((st.rules as StatusRule[]).every((r) => r.reasons.length > 0), 'every rule carries its reason');
  }

  // the data flow, both ways: UDP and TCP between the home addresses
  const server2 = await startEchoServer(mn2Host, addr.mn2!.hoa, 7700);
  const server1 = await startEchoServer(topo.mn, addr.mn.hoa, 7701);
  try {
    const capA = await topo.capture('foreignA', { at: 'router' });
    const cap2 = await topo.capture('foreign2', { at: 'router' });
    const capHome = await topo.capture('home', { at: 'router' });
    const u12 = await echo(topo.mn, 'udp', addr.mn.hoa, addr.mn2!.hoa, 7700, 'k07-udp-1to2');
    const t12 = await echo(topo.mn, 'tcp', addr.mn.hoa, addr.mn2!.hoa, 7700, 'k07-tcp-1to2');
    const u21 = await echo(mn2Host, 'udp', addr.mn2!.hoa, addr.mn.hoa, 7701, 'k07-udp-2to1');
    const t21 = await echo(mn2Host, 'tcp', addr.mn2!.hoa, addr.mn.hoa, 7701, 'k07-tcp-2to1');
    const a = await capA.stop();
    const f2 = await cap2.stop();
    const home = await capHome.stop();
    assert.deepEqual([u12.reply, t12.reply, u21.reply, t21.reply], ['echo:k07-udp-1to2', 'echo:k07-tcp-1to2', 'echo:k07-udp-2to1', 'echo:k07-tcp-2to1']);
    for (const s of server2.seen()) assert.equal(canonicalIPv6(s.peer), hoa1, 'MN2\'s socket sees HoA1');
    for (const s of server1.seen()) assert.equal(canonicalIPv6(s.peer), hoa2, 'MN1\'s socket sees HoA2');
    assert.equal(server2.seen().length, 2);
    assert.equal(server1.seen().length, 2);

    for (const [cap, where] of [[a, 'foreign link A'], [f2, 'foreign link 2']] as const) {
      const data = cap.packets.filter((p) => p.esp.some((e) => DATA_SPIS.has(e.spi)));
      // UDP: 1 + 1 per direction; TCP: handshake, data, FIN, at least 4 each way
      assert.ok(data.filter((p) => p.esp[0]!.spi === DATA_1TO2).length >= 5, `MN1 -> MN2 data on ${where}:\n${cap.text.slice(0, 4000)}`);
      assert.ok(data.filter((p) => p.esp[0]!.spi === DATA_2TO1).length >= 5, `MN2 -> MN1 data on ${where}:\n${cap.text.slice(0, 4000)}`);
      for (const p of data) {
        const want = p.esp[0]!.spi === DATA_1TO2 ? [coa1, coa2] : [coa2, coa1];
        assert.deepEqual([p.src, p.dst], want, `example 3 on the wire (${where}): ${p.summary}`);
        assert.deepEqual(p.headerChain, [50], `no HAO, no RH2 (${where}): ${p.summary}`);
      }
      assert.deepEqual(cap.packets.filter((p) => p.esp.some((e) => TUNNEL_SPIS.has(e.spi))).map((p) => p.summary), [], `nothing went through an MN-HA tunnel (${where})`);
      for (const hoa of [hoa1, hoa2]) {
        assert.deepEqual(packetsWithAddressInHeaders(cap.packets, hoa).map((p) => p.summary), [], `K04: no ${hoa} in any header on ${where}:\n${cap.text.slice(0, 4000)}`);
      }
    }
    const viaHome = home.packets.filter((p) => p.esp.some((e) => DATA_SPIS.has(e.spi) || TUNNEL_SPIS.has(e.spi)) || [hoa1, hoa2].some((h) => [p.src, p.dst].includes(h)));
    assert.deepEqual(viaHome.map((p) => p.summary), [], `the home link carries none of the MN-MN data:\n${home.text.slice(0, 4000)}`);
  } finally {
    await server1.stop();
    await server2.stop();
  }

  // the counters agree: the data rules of both ends were hit
  for (const [name, outData, peerHoa] of [['mn', DATA_1TO2, hoa2], ['mn2', DATA_2TO1, hoa1]] as const) {
    const st = await dep.status(name);
    const r = (st.rules as Array<{ id: string; counters: Record<string, number> | null }>).find((x) => x.id === `out/esp/${outData}/${peerHoa}`);
    assert.ok(r?.counters && (r.counters.srcHits ?? 0) >= 5 && (r.counters.dstHits ?? 0) >= 5, `${name}: the example-3 out rule was used: ${JSON.stringify(r?.counters)}`);
  }
});

// I01 in IRO mode: a home BU has no HAO, its home address is the packet's source, and the
// HA's incoming rule for an SA writes that SA's HoA there (`::` -> HoA). So a BU "for HoA1"
// sent over MN2's SA (keyed with MN2's keys, from HoA1, by a node on the path) is
// authenticated as MN2's and can only ever concern HoA2: HoA1's binding stays as it was.
const MN2_BU_SA = 0x1101;

/** The packets an SA of `host` has processed (`ip -s xfrm state`). */
function saPackets(host: IroTopology['ha'], spi: number): number {
  const blocks = host.ip('-s', '-6', 'xfrm', 'state').split(/\n(?=src )/);
  const b = blocks.find((x) => new RegExp(`spi 0x0*${spi.toString(16)}\\(`).test(x) || new RegExp(`spi 0x0*${spi.toString(16)}\\b`).test(x));
  const m = b?.match(/lifetime current:\s*\n\s*\d+\(bytes\), (\d+)\(packets\)/);
  assert.ok(m, `SA 0x${spi.toString(16)} and its counters in \`ip -s xfrm state\``);
  return Number(m[1]);
}

const haEntry = (st: Record<string, unknown>, hoa: string) => (st.ha as { entries: Array<Record<string, unknown>> }).entries.find((e) => e.hoa === hoa);

test('I01 a BU for HoA1 sent over MN2\'s SA is authenticated as MN2\'s: HoA1\'s home binding does not change', { skip, timeout: 300_000 }, async () => {
  assert.ok(topo && dep, 'the K07 test set up the deployment');
  const { addr } = topo;
  const ha = canonicalIPv6(addr.ha);
  const hoa1 = canonicalIPv6(addr.mn.hoa);
  const hoa2 = canonicalIPv6(addr.mn2!.hoa);
  const before = await dep.status('ha');
  const hoa1Before = haEntry(before, hoa1);
  assert.ok(hoa1Before && hoa1Before.coa === canonicalIPv6(addr.mn.coaA), `HoA1 is registered: ${JSON.stringify(before.ha)}`);
  const seq2 = Number(haEntry(before, hoa2)?.lastSequence ?? 0);
  const packetsBefore = saPackets(topo.ha, MN2_BU_SA);

  // the forger: the router (on the path to the home link), with MN2's SA1 keys and HoA1 as source
  const r = topo.router;
  r.sysctl('net.ipv6.ip_nonlocal_bind', 1);
  // (its sequence numbers start far above MN2's, or the HA's replay window would drop it first)
  r.ip('-6', 'xfrm', 'state', 'add', 'src', hoa1, 'dst', ha, 'proto', 'esp', 'spi', `0x${MN2_BU_SA.toString(16)}`, 'reqid', '7001', 'mode', 'transport', 'replay-oseq', '100000',
    'auth-trunc', 'hmac(sha256)', `0x${dep.key('keys/home2-sa1.auth').toString('hex')}`, '128', 'enc', 'cbc(aes)', `0x${dep.key('keys/home2-sa1.enc').toString('hex')}`);
  r.ip('-6', 'xfrm', 'policy', 'add', 'src', `${hoa1}/128`, 'dst', `${ha}/128`, 'proto', '135', 'dir', 'out',
    'tmpl', 'src', hoa1, 'dst', ha, 'proto', 'esp', 'reqid', '7001', 'mode', 'transport');
  const forgedCoa = canonicalIPv6(addr.router.foreignA);
  const bu = encodeMh({ kind: 'bu', sequence: (seq2 + 10) & 0xffff, ack: true, home: true, linkLocal: false, keyManagement: false, otherFlags: 0, lifetime: 3600,
    options: [{ kind: 'alternateCoa', address: parseIPv6(forgedCoa) }] });
  try {
    r.exec(['python3', '-c', `
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 135)
s.setsockopt(socket.IPPROTO_IPV6, 7, 4)  # IPV6_CHECKSUM at offset 4: the kernel fills the MH checksum
s.bind((sys.argv[1], 0))
s.sendto(bytes.fromhex(sys.argv[3]), (sys.argv[2], 0))
`, hoa1, ha, bu.toString('hex')]);
    // the HA decrypted it with MN2's SA (its packet counter moved) ...
    const deadline = Date.now() + 10_000;
    while (saPackets(topo.ha, MN2_BU_SA) === packetsBefore && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    assert.ok(saPackets(topo.ha, MN2_BU_SA) > packetsBefore, "the forged BU reached the HA's SA of MN2 and passed ESP");
    await new Promise((res) => setTimeout(res, 1000));
    // ... and HoA1's binding is as it was
    const after = await dep.status('ha');
    assert.deepEqual(
      { coa: haEntry(after, hoa1)?.coa, lastSequence: haEntry(after, hoa1)?.lastSequence },
      { coa: hoa1Before.coa, lastSequence: hoa1Before.lastSequence },
      `HoA1's binding changed: ${JSON.stringify(after.ha)}`,
    );
    assert.match(topo.ha.ip('-6', 'neigh', 'show', 'proxy'), new RegExp(hoa1), 'the HA still defends HoA1');
  } finally {
    r.ip('-6', 'xfrm', 'policy', 'delete', 'src', `${hoa1}/128`, 'dst', `${ha}/128`, 'proto', '135', 'dir', 'out');
    r.ip('-6', 'xfrm', 'state', 'delete', 'src', hoa1, 'dst', ha, 'proto', 'esp', 'spi', `0x${MN2_BU_SA.toString(16)}`);
    r.sysctl('net.ipv6.ip_nonlocal_bind', 0);
  }
});
