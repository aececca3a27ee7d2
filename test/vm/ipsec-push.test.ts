// iro-ctl's desired-state pusher (XfrmPusher) with real SAs on the guest kernel, judged by
// `ip xfrm` and tcpdump: the HA-IPsec §4.2.1 and §4.2.3 sets are exactly what the kernel holds
// (E02), ICMPv6 between HoA and HA is ESP on the wire (E03), a second push changes nothing (E09),
// removing ours leaves foreign state byte for byte (E08), a push the kernel refuses half way is
// rolled back, and two namespaces talk over ESP SAs (any protocol) pushed by iro-ctl.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { create, describePackets, between, isLinkHousekeeping, type Topology } from '../lib/topology/index.ts';
import { freshNetns } from '../lib/xfrm-netns.ts';
import { ipXfrm, ipXfrmBlocks, keyFingerprint, parseIpXfrmState, stateId } from '../lib/ip-xfrm-state.ts';
import { parseIpXfrmPolicy } from '../lib/xfrm-netns.ts';
import { haIpsecSa, haIpsecSet, randomSaKeys, reqidOf, type HaIpsecParams, type HaIpsecSa } from '../lib/scenario/ha-ipsec-sets.ts';
import { startEchoServer, echo } from '../lib/scenario/peers.ts';
import { XfrmClient } from '../../src/kernel/xfrm/client.ts';
import { XfrmMonitor } from '../../src/kernel/xfrm/monitor.ts';
import type { XfrmMessage } from '../../src/kernel/xfrm/model.ts';
import { SecretKey } from '../../src/kernel/xfrm/secret-key.ts';
import { XfrmPusher } from '../../src/ipsec/pusher-xfrm.ts';
import { DEFAULT_OWNERSHIP, type DesiredIpsec, type Ownership, type PushSa } from '../../src/ipsec/desired.ts';
import { DatagramSocket } from '../../src/kernel/socket.ts';
import { AF_INET6, SOCK_RAW } from '../../src/kernel/constants.ts';
import { sockaddrIn6 } from '../../src/kernel/sockaddr.ts';

const skip = skipUnlessGuest();

const HOA = '2001:db8:1::100';
const HA = '2001:db8:1::1';
// two more addresses for the any-protocol pair, away from the HA-IPsec selectors
const X_MN = '2001:db8:7::1';
const X_HA = '2001:db8:7::2';
const LINK_MN = '2001:db8:ff::1';
const LINK_HA = '2001:db8:ff::2';

const R = DEFAULT_OWNERSHIP.reqidMin;
/** two pushers side by side in one namespace, each owning its own reqid range */
const HA_IPSEC_RANGE: Ownership = { reqidMin: R, reqidMax: R + 0xff };
const ANY_RANGE: Ownership = { reqidMin: R + 0x100, reqidMax: R + 0x1ff };

const SPI: Record<HaIpsecSa, number> = { SA1: 0x1001, SA2: 0x1002, SA5: 0x1005, SA6: 0x1006 };
const params: HaIpsecParams = { hoa: HOA, ha: HA, spi: SPI, keys: randomSaKeys() };

// HoA and HA live on the loopbacks with host routes across the link, so neighbour discovery
// runs between link addresses and never meets the HoA<->HA ICMPv6 policies.
let topo: Topology<'mn' | 'ha'>;
const clients: XfrmClient[] = [];
before(async () => {
  if (skip) return;
  topo = await create({
    prefix: 'ipush',
    hosts: {
      mn: { loopback: [HOA, X_MN], routes: [{ dst: HA, via: LINK_HA }, { dst: X_HA, via: LINK_HA }] },
      ha: { loopback: [HA, X_HA], routes: [{ dst: HOA, via: LINK_MN }, { dst: X_MN, via: LINK_MN }] },
    },
    links: [{ name: 'wire', ends: [{ host: 'mn', ifname: 'm0', addrs: [`${LINK_MN}/64`] }, { host: 'ha', ifname: 'h0', addrs: [`${LINK_HA}/64`] }] }],
  });
});
after(async () => {
  for (const c of clients) c.close();
  await topo?.destroy();
});

function client(ns: string): XfrmClient {
  const c = XfrmClient.open({ netns: ns });
  clients.push(c);
  return c;
}

const fp = (k: SecretKey) => keyFingerprint(k.expose());

/** What `ip xfrm state` must say about a pushed SA (keys by fingerprint). */
function expectedState(s: PushSa) {
  const selProto = s.selector?.proto === 135 ? 'mobility-header' : s.selector?.proto === 58 ? 'ipv6-icmp' : undefined;
  return {
    id: stateId({ proto: s.proto, spi: s.spi, src: s.saddr, dst: s.daddr }),
    reqid: s.reqid,
    mode: s.mode,
    replayWindow: 32,
    auth: { name: s.auth!.name, key: fp(s.auth!.key), truncBits: s.auth!.truncBits },
    enc: { name: s.crypt!.name, key: fp(s.crypt!.key) },
    sel: { src: `${s.selector!.src}/128`, dst: `${s.selector!.dst}/128`, ...(selProto ? { proto: selProto } : {}) },
  };
}

function kernelStates(ns: string) {
  return parseIpXfrmState(ipXfrm(ns, 'state'))
    .map((s) => ({ id: stateId(s), reqid: s.reqid, mode: s.mode, replayWindow: s.replayWindow, auth: s.auth, enc: s.enc, sel: s.sel }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

const byPolicy = (a: { dir: string; src: string; proto?: string }, b: { dir: string; src: string; proto?: string }) =>
  `${a.dir} ${a.src} ${a.proto}`.localeCompare(`${b.dir} ${b.src} ${b.proto}`);

function kernelPolicies(ns: string) {
  return parseIpXfrmPolicy(ipXfrm(ns, 'policy'))
    .map((p) => ({ dir: p.dir, src: p.src, dst: p.dst, ...(p.proto ? { proto: p.proto } : {}), priority: p.priority, tmpls: p.tmpls }))
    .sort(byPolicy);
}

function expectedPolicies(d: DesiredIpsec) {
  const protoName = (n: number) => (n === 135 ? 'mobility-header' : n === 58 ? 'ipv6-icmp' : undefined);
  return d.policies
    .map((p) => {
      const proto = protoName(p.selector.proto);
      return {
        dir: p.dir,
        src: `${p.selector.src}/${p.selector.srcLen}`,
        dst: `${p.selector.dst}/${p.selector.dstLen}`,
        ...(proto ? { proto } : {}),
        priority: p.priority,
        tmpls: p.templates.map((t) => ({ src: t.saddr!, dst: t.daddr!, proto: t.proto as string, reqid: t.reqid, mode: t.mode as string })),
      };
    })
    .sort(byPolicy);
}

test('E02 the MN §4.2.1 set pushed by XfrmPusher: `ip xfrm state` shows exactly SA1 (spi_a) and SA2 (spi_b), `ip xfrm policy` exactly out HoA->HA and in HA->HoA proto MH with ESP transport templates', { skip, timeout: 120_000 }, async () => {
  const want = haIpsecSet(params, 'mn', ['4.2.1']);
  const r = await new XfrmPusher(client(topo.hosts.mn.ns), HA_IPSEC_RANGE).apply(want);
  assert.equal(r.added.length, 4, 'two SAs and two policies added');
  const states = kernelStates(topo.hosts.mn.ns);
  assert.deepEqual(states, want.sas.map(expectedState).sort((a, b) => a.id.localeCompare(b.id)));
  assert.deepEqual(states.map((s) => s.id), [`esp/0x${SPI.SA1.toString(16)}/${HOA}->${HA}`, `esp/0x${SPI.SA2.toString(16)}/${HA}->${HOA}`].sort());
  const pols = kernelPolicies(topo.hosts.mn.ns);
  assert.deepEqual(pols, expectedPolicies(want));
  assert.deepEqual(pols.map((p) => `${p.dir} ${p.src} ${p.dst} ${p.proto} ${p.tmpls[0]!.proto} ${p.tmpls[0]!.mode}`).sort(), [
    `in ${HA}/128 ${HOA}/128 mobility-header esp transport`,
    `out ${HOA}/128 ${HA}/128 mobility-header esp transport`,
  ]);
});

test('E03 the §4.2.3 set (SA5/SA6, ICMPv6) on MN and HA: echo and a Mobile Prefix Solicitation HoA->HA are ESP on the wire, none in the clear', { skip, timeout: 180_000 }, async () => {
  const mnSet = haIpsecSet(params, 'mn', ['4.2.1', '4.2.3']);
  const haSet = haIpsecSet(params, 'ha', ['4.2.1', '4.2.3']);
  const mnResult = await new XfrmPusher(client(topo.hosts.mn.ns), HA_IPSEC_RANGE).apply(mnSet);
  assert.equal(mnResult.unchanged, 4, 'the §4.2.1 part from E02 is left alone');
  assert.equal(mnResult.added.length, 4, 'SA5, SA6 and their two policies are added');
  await new XfrmPusher(client(topo.hosts.ha.ns), HA_IPSEC_RANGE).apply(haSet);
  assert.deepEqual(kernelStates(topo.hosts.ha.ns), haSet.sas.map(expectedState).sort((a, b) => a.id.localeCompare(b.id)));
  assert.deepEqual(kernelPolicies(topo.hosts.ha.ns), expectedPolicies(haSet));
  assert.deepEqual(kernelPolicies(topo.hosts.mn.ns), expectedPolicies(mnSet));

  const cap = await topo.capture('wire', { at: 'ha' });
  const ping = await topo.hosts.mn.ping(HA, { count: 3, src: HOA });
  const r = await cap.stop();
  assert.equal(ping.received, 3, ping.output);
  const hoaHa = between(r.packets, HOA, HA);
  assert.equal(hoaHa.length, 6, `three requests and three replies:\n${describePackets(r.packets)}`);
  for (const p of hoaHa) {
    assert.deepEqual(p.protocols, ['ESP'], `ESP and nothing readable: ${p.summary}`);
    assert.equal(p.esp[0]!.spi, p.src === HOA ? SPI.SA5 : SPI.SA6, `HoA->HA uses SA5 (spi_e), HA->HoA SA6 (spi_f): ${p.summary}`);
  }
  const others = r.packets.filter((p) => !hoaHa.includes(p) && !isLinkHousekeeping(p));
  assert.deepEqual(others.map((p) => p.summary), [], 'nothing else on the wire');

  // A Mobile Prefix Solicitation (ICMPv6 type 146, RFC 6275 §6.7) from the HoA: ESP with spi_e.
  const cap2 = await topo.capture('wire', { at: 'ha' });
  const s = topo.hosts.mn.inNetns(() => DatagramSocket.open(AF_INET6, SOCK_RAW, 58, { label: 'MPS sender' }));
  try {
    s.bind(sockaddrIn6(HOA));
    s.send(Buffer.from([146, 0, 0, 0, 0x12, 0x34, 0, 0]), { addr: sockaddrIn6(HA) });
  } finally {
    s.close();
  }
  const r2 = await cap2.stop();
  const mps = between(r2.packets, HOA, HA);
  assert.equal(mps.length, 1, describePackets(r2.packets));
  assert.deepEqual(mps[0]!.protocols, ['ESP']);
  assert.equal(mps[0]!.esp[0]!.spi, SPI.SA5);
  assert.equal(mps[0]!.src, HOA);
});

async function untilEvent(events: XfrmMessage[], pred: (m: XfrmMessage) => boolean, ms = 20_000): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    const i = events.findIndex(pred);
    if (i >= 0) return i;
    if (Date.now() > end) throw new Error(`no matching xfrm event within ${ms} ms (saw ${events.map((e) => e.kind).join(', ') || 'none'})`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

test('E09 a second push of the same desired state makes no kernel change: no SA or policy event, `ip xfrm` text identical', { skip, timeout: 120_000 }, async () => {
  const ns = topo.hosts.mn.ns;
  const stateBefore = ipXfrm(ns, 'state');
  const policyBefore = ipXfrm(ns, 'policy');
  const mon = XfrmMonitor.open({ netns: ns });
  const events: XfrmMessage[] = [];
  mon.on('event', (m) => events.push(m));
  try {
    const r = await new XfrmPusher(client(ns), HA_IPSEC_RANGE).apply(haIpsecSet(params, 'mn', ['4.2.1', '4.2.3']));
    assert.deepEqual({ added: r.added, replaced: r.replaced, removed: r.removed, unchanged: r.unchanged }, { added: [], replaced: [], removed: [], unchanged: 8 });
    // barrier: a change of our own; every event the push caused would have arrived before it
    execFileSync('ip', ['-n', ns, 'xfrm', 'policy', 'add', 'src', '2001:db8:99::1/128', 'dst', '2001:db8:99::2/128', 'dir', 'out', 'action', 'block']);
    const at = await untilEvent(events, (m) => m.kind === 'newpolicy' && m.policy.selector.saddr === '2001:db8:99::1');
    assert.deepEqual(events.slice(0, at).map((e) => e.kind), [], 'the second push caused no kernel event');
    execFileSync('ip', ['-n', ns, 'xfrm', 'policy', 'del', 'src', '2001:db8:99::1/128', 'dst', '2001:db8:99::2/128', 'dir', 'out']);
  } finally {
    mon.close();
  }
  assert.equal(ipXfrm(ns, 'state'), stateBefore);
  assert.equal(ipXfrm(ns, 'policy'), policyBefore);
});

const KEY = (b: number, n: number) => '0x' + b.toString(16).padStart(2, '0').repeat(n);

function addForeignState(ns: string): void {
  const ip = (...a: string[]) => execFileSync('ip', ['-n', ns, 'xfrm', ...a], { stdio: ['ignore', 'ignore', 'pipe'] });
  ip('state', 'add', 'src', '2001:db8:9::1', 'dst', '2001:db8:9::2', 'proto', 'esp', 'spi', '0x9001', 'reqid', '7', 'mode', 'transport',
    'auth-trunc', 'hmac(sha256)', KEY(0x31, 32), '128', 'enc', 'cbc(aes)', KEY(0x32, 16), 'sel', 'src', '2001:db8:9::1/128', 'dst', '2001:db8:9::2/128', 'proto', 'udp');
  ip('state', 'add', 'src', '2001:db8:9::2', 'dst', '2001:db8:9::1', 'proto', 'esp', 'spi', '0x9002', 'reqid', '0', 'mode', 'tunnel',
    'auth-trunc', 'hmac(sha1)', KEY(0x33, 20), '96', 'enc', 'cbc(aes)', KEY(0x34, 32));
  // same SPI as our SA1, other destination: a different SA for the kernel, not ours
  ip('state', 'add', 'src', HA, 'dst', '2001:db8:9::3', 'proto', 'esp', 'spi', `0x${SPI.SA1.toString(16)}`, 'reqid', '8', 'mode', 'transport',
    'auth-trunc', 'hmac(sha256)', KEY(0x35, 32), '128', 'enc', 'cbc(aes)', KEY(0x36, 16));
  ip('policy', 'add', 'src', '2001:db8:9::1/128', 'dst', '2001:db8:9::2/128', 'proto', 'udp', 'dir', 'out', 'priority', '50',
    'tmpl', 'src', '2001:db8:9::1', 'dst', '2001:db8:9::2', 'proto', 'esp', 'reqid', '7', 'mode', 'transport');
  ip('policy', 'add', 'src', '2001:db8:9::/64', 'dst', '::/0', 'dir', 'in', 'action', 'block');
}

test('E08 removeOwned() removes exactly our states and policies; foreign SAs and policies survive byte for byte', { skip, timeout: 120_000 }, async (t) => {
  const ns = freshNetns(t, 'e08');
  addForeignState(ns);
  const stateBefore = ipXfrm(ns, 'state');
  const policyBefore = ipXfrm(ns, 'policy');
  assert.equal(ipXfrmBlocks(stateBefore).length, 3);
  const c = XfrmClient.open({ netns: ns });
  t.after(() => c.close());
  const pusher = new XfrmPusher(c, DEFAULT_OWNERSHIP);
  const want = haIpsecSet(params, 'mn', ['4.2.1', '4.2.3']);
  await pusher.apply(want);
  assert.equal(ipXfrmBlocks(ipXfrm(ns, 'state')).length, 3 + 4);
  assert.equal(parseIpXfrmPolicy(ipXfrm(ns, 'policy')).length, 2 + 4);
  const r = await pusher.removeOwned();
  assert.equal(r.removed.length, 8, `four SAs and four policies removed: ${r.removed.join('; ')}`);
  assert.deepEqual(r.removed.filter((x) => x.startsWith('sa ')).sort(), want.sas.map((s) => `sa 50/${s.spi}/${s.daddr}`).sort());
  assert.equal(ipXfrm(ns, 'state'), stateBefore, 'foreign SAs byte for byte (keys compared by SHA-256)');
  assert.equal(ipXfrm(ns, 'policy'), policyBefore, 'foreign policies byte for byte');
});

test('rollback with real SAs: a push whose second new SA the kernel rejects leaves `ip xfrm state` and `ip xfrm policy` exactly as before', { skip, timeout: 120_000 }, async (t) => {
  const ns = freshNetns(t, 'rollback');
  addForeignState(ns);
  const c = XfrmClient.open({ netns: ns });
  t.after(() => c.close());
  const pusher = new XfrmPusher(c, DEFAULT_OWNERSHIP);
  await pusher.apply(haIpsecSet(params, 'mn', ['4.2.1']));
  const stateBefore = ipXfrm(ns, 'state');
  const policyBefore = ipXfrm(ns, 'policy');

  // 1. SA1/SA2 stay, SA5 is added, SA6 has a 5-byte AES key: the kernel refuses it (EINVAL)
  const bad = haIpsecSet(params, 'mn', ['4.2.1', '4.2.3']);
  const sa6 = bad.sas.find((s) => s.spi === SPI.SA6)!;
  sa6.crypt = { name: 'cbc(aes)', key: SecretKey.from(randomBytes(5)) };
  assert.equal(bad.sas.indexOf(sa6), 3, 'SA6 comes after SA5');
  await assert.rejects(pusher.apply(bad), (e: Error & { errno?: number }) => {
    assert.equal(e.errno, 22, e.message);
    assert.match(e.message, /spi 0x00001006/);
    return true;
  });
  assert.equal(ipXfrm(ns, 'state'), stateBefore, 'SA5 was removed again');
  assert.equal(ipXfrm(ns, 'policy'), policyBefore);

  // 2. SA1/SA2 and their policies are not wanted any more (removed first), SA5 is added, SA6 is
  //    refused: the rollback also re-creates what the push had removed, with the same keys
  const bad2 = haIpsecSet(params, 'mn', ['4.2.3']);
  bad2.sas[1]!.crypt = { name: 'cbc(aes)', key: SecretKey.from(randomBytes(5)) };
  await assert.rejects(pusher.apply(bad2), (e: Error & { errno?: number }) => e.errno === 22);
  const stateAfter = ipXfrm(ns, 'state');
  // undone in reverse order, the re-created SAs and policies are listed where they were
  assert.equal(stateAfter, stateBefore, 'the same SAs in the same order, keys included');
  assert.equal(ipXfrm(ns, 'policy'), policyBefore, 'the same policies in the same order');
  for (const name of ['SA1', 'SA2'] as const) {
    const s = parseIpXfrmState(stateAfter).find((x) => x.spi === SPI[name])!;
    assert.equal(s.auth?.key, fp(params.keys[name].auth), `${name}: the original authentication key is back`);
    assert.equal(s.enc?.key, fp(params.keys[name].enc), `${name}: the original encryption key is back`);
    assert.equal(s.reqid, reqidOf(params, name));
  }
});

test('ESP ping (and UDP) between two namespaces over transport SAs for any protocol pushed by XfrmPusher; a second pusher with its own range leaves the HA-IPsec SAs alone', { skip, timeout: 180_000 }, async () => {
  const auth = [SecretKey.from(randomBytes(32)), SecretKey.from(randomBytes(32))];
  const enc = [SecretKey.from(randomBytes(16)), SecretKey.from(randomBytes(16))];
  const sa = (i: 0 | 1): PushSa => {
    const [saddr, daddr] = i === 0 ? [X_MN, X_HA] : [X_HA, X_MN];
    return {
      proto: 'esp', spi: 0x2001 + i, saddr, daddr, mode: 'transport', reqid: ANY_RANGE.reqidMin + 1 + i,
      selector: { src: saddr, dst: daddr, srcLen: 128, dstLen: 128, proto: 0 },
      auth: { name: 'hmac(sha256)', key: auth[i]!, truncBits: 128 },
      crypt: { name: 'cbc(aes)', key: enc[i]! },
    };
  };
  const set = (me: 0 | 1): DesiredIpsec => {
    const out = sa(me);
    const inn = sa(me === 0 ? 1 : 0);
    const tmpl = (s: PushSa) => [{ proto: 'esp' as const, reqid: s.reqid, mode: 'transport' as const, saddr: s.saddr, daddr: s.daddr }];
    return {
      sas: [sa(0), sa(1)],
      policies: [
        { dir: 'out', selector: out.selector!, priority: 2000, templates: tmpl(out) },
        { dir: 'in', selector: inn.selector!, priority: 2000, templates: tmpl(inn) },
      ],
    };
  };
  const haIpsecBefore = kernelStates(topo.hosts.mn.ns);
  await new XfrmPusher(client(topo.hosts.mn.ns), ANY_RANGE).apply(set(0));
  await new XfrmPusher(client(topo.hosts.ha.ns), ANY_RANGE).apply(set(1));
  const now = kernelStates(topo.hosts.mn.ns);
  assert.deepEqual(now.filter((s) => s.reqid <= HA_IPSEC_RANGE.reqidMax), haIpsecBefore, 'the other range is untouched');
  assert.deepEqual(now.filter((s) => s.reqid >= ANY_RANGE.reqidMin).map((s) => [s.id, s.sel]), [
    [`esp/0x2001/${X_MN}->${X_HA}`, { src: `${X_MN}/128`, dst: `${X_HA}/128` }],
    [`esp/0x2002/${X_HA}->${X_MN}`, { src: `${X_HA}/128`, dst: `${X_MN}/128` }],
  ]);

  const server = await startEchoServer(topo.hosts.ha, X_HA, 7001);
  try {
    const cap = await topo.capture('wire', { at: 'ha' });
    const ping = await topo.hosts.mn.ping(X_HA, { count: 3, src: X_MN });
    const u = await echo(topo.hosts.mn, 'udp', X_MN, X_HA, 7001, 'over-esp');
    const r = await cap.stop();
    assert.equal(ping.received, 3, ping.output);
    assert.equal(u.reply, 'echo:over-esp');
    const pkts = between(r.packets, X_MN, X_HA);
    assert.equal(pkts.length, 8, `3 echo requests + 3 replies + UDP both ways:\n${describePackets(r.packets)}`);
    for (const p of pkts) {
      assert.deepEqual(p.protocols, ['ESP'], p.summary);
      assert.equal(p.esp[0]!.spi, p.src === X_MN ? 0x2001 : 0x2002, p.summary);
    }
    assert.deepEqual(server.seen().map((s) => s.peer), [X_MN], 'the UDP server saw the plain datagram after decryption');
  } finally {
    await server.stop();
  }
});
