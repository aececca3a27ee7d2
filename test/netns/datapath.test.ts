// The data path on real interfaces (host kernel): tcx and clsact attachment, real packets on
// veth pairs observed with tcpdump, adoption after the owning process is killed, clean
// detach, and the L3 tunnel-device redirect of DESIGN decision 7.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { skipUnless } from '../lib/capabilities.ts';
import { create, packetsWithAddressInHeaders, type Topology } from '../lib/topology/index.ts';
import { testDatapathPaths, destroyQuietly } from '../lib/datapath-fixture.ts';
import { sendRawIpv6, espPayload, sendFrames } from '../lib/raw-send.ts';
import { Datapath } from '../../src/datapath/datapath.ts';
import { inNetns } from '../../src/kernel/netns.ts';
import { native } from '../../src/kernel/native.ts';
import { buildEntries, resolveRules } from '../../src/datapath/rules.ts';
import { parseRuleSet } from '../../src/datapath/rule-syntax.ts';
import { canonicalIPv6 } from '../../src/common/ipv6.ts';
import { ethernet, ipv6Packet } from '../lib/packets.ts';

const skip = skipUnless('netns');

const ADDR = {
  HoA: '2001:db8:1::100',
  CoA: '2001:db8:a::100',
  CoA2: '2001:db8:a::200',
  B: '2001:db8:a::1',
  C: '2001:db8:c::1',
};

const topologies: Topology<string>[] = [];
after(async () => {
  for (const t of topologies) await t.destroy();
});

/** a --(veth ab)-- b --(veth bc)-- c ; a holds HoA (loopback) and CoA; b routes to c. */
async function threeHosts(): Promise<Topology<'a' | 'b' | 'c'>> {
  const t = await create({
    hosts: {
      a: { loopback: [ADDR.HoA], routes: [{ dst: 'default', via: ADDR.B }] },
      b: { router: true, routes: [{ dst: '2001:db8:1::/64', via: '2001:db8:c::100' }] },
      c: { routes: [{ dst: 'default', via: '2001:db8:c::2' }], loopback: [] },
    },
    links: [
      { name: 'ab', ends: [{ host: 'a', ifname: 'a0', addrs: [`${ADDR.CoA}/64`, `${ADDR.CoA2}/64`] }, { host: 'b', ifname: 'b0', addrs: [`${ADDR.B}/64`] }] },
      { name: 'bc', ends: [{ host: 'b', ifname: 'b1', addrs: ['2001:db8:c::2/64'] }, { host: 'c', ifname: 'c0', addrs: [`${ADDR.C}/64`, '2001:db8:c::100/64'] }] },
    ],
  });
  topologies.push(t as Topology<string>);
  return t;
}

/** Packets may wait for neighbour discovery: give them time to reach the capture. */
const settle = () => new Promise((r) => setTimeout(r, 400));

function entriesFor(text: string, peer?: string) {
  return [...buildEntries(resolveRules(parseRuleSet(text), ADDR, peer ? { peer } : {})).values()];
}

for (const mode of ['tcx', 'clsact'] as const) {
  test(`C01 egress on a veth (${mode}): raw ESP from the HoA is seen on the far side with src=CoA, no HoA in any header`, { skip }, async () => {
    const t = await threeHosts();
    const a = t.host('a');
    const dp = Datapath.open(testDatapathPaths(`egress-${mode}`));
    try {
      const att = inNetns(a.ns, () => dp.attach('a0', 'egress', { mode }));
      assert.equal(att.mode, mode);
      assert.equal(att.l3, false);
      for (const e of entriesFor('dir: out, SPI: 256, exp. src: HoA, remap. src: CoA', 'B')) dp.putEntry(e);
      await a.ping(ADDR.B, { count: 1 }); // resolve the neighbour first: unresolved sends are not what we test
      const cap = await t.capture('ab', { at: 'b', filter: ['ip6', 'proto', '50'] });
      sendRawIpv6(a.ns, { proto: 50, src: ADDR.HoA, dst: ADDR.B, payload: espPayload(256), count: 3 });
      sendRawIpv6(a.ns, { proto: 50, src: ADDR.HoA, dst: ADDR.B, payload: espPayload(999), count: 1 });
      await settle();
      const r = await cap.stop();
      const esp256 = r.packets.filter((p) => p.esp[0]?.spi === 256);
      assert.equal(esp256.length, 3, r.text);
      for (const p of esp256) assert.equal(p.src, canonicalIPv6(ADDR.CoA));
      assert.equal(packetsWithAddressInHeaders(esp256, ADDR.HoA).length, 0, 'the HoA appears in no header of remapped packets');
      const untracked = r.packets.filter((p) => p.esp[0]?.spi === 999);
      assert.equal(untracked.length, 1);
      assert.equal(untracked[0]!.src, canonicalIPv6(ADDR.HoA), 'untracked SPI is left alone');
      if (mode === 'tcx') {
        const ids = inNetns(a.ns, () => native().progQuery(native().ifNameToIndex('a0'), 47));
        assert.ok(ids.includes(dp.programs.iro_egress.info.id), 'tcx egress hook holds our program');
      } else {
        assert.match(a.tc('filter', 'show', 'dev', 'a0', 'egress'), /iro_egress/);
      }
    } finally {
      destroyQuietly(dp);
    }
  });
}

test('C04 ingress on a veth: ESP to the CoA is delivered with dst=HoA (seen after forwarding)', { skip }, async () => {
  const t = await threeHosts();
  const b = t.host('b');
  const dp = Datapath.open(testDatapathPaths('ingress'));
  try {
    inNetns(b.ns, () => dp.attach('b0', 'ingress'));
    // b treats 2001:db8:a::77 as "its CoA" and 2001:db8:1::77 as the HoA it maps to (routed on to c)
    const env = { ...ADDR, CoAb: '2001:db8:a::77', HoAb: '2001:db8:1::77' };
    for (const e of buildEntries(resolveRules(parseRuleSet('dir: in , SPI: 300, exp. dst: CoAb, remap. dst: HoAb'), env)).values()) dp.putEntry(e);
    b.ip('-6', 'neigh', 'add', 'proxy', env.CoAb, 'dev', 'b0');
    b.sysctl('net.ipv6.conf.b0.proxy_ndp', 1);
    await t.host('a').ping(env.CoAb, { count: 1, expect: 'none', deadlineS: 1 }).catch(() => undefined); // resolves CoAb via the proxy entry
    await b.ping('2001:db8:c::100', { count: 1 });
    const cap = await t.capture('bc', { at: 'c', filter: ['ip6', 'proto', '50'] });
    sendRawIpv6(t.host('a').ns, { proto: 50, src: ADDR.CoA, dst: env.CoAb, payload: espPayload(300), count: 2 });
    await settle();
    const r = await cap.stop();
    const got = r.packets.filter((p) => p.esp[0]?.spi === 300);
    assert.equal(got.length, 2, r.text);
    for (const p of got) assert.equal(p.dst, canonicalIPv6(env.HoAb));
  } finally {
    destroyQuietly(dp);
  }
});

test('L05/pins: kill -9 the owning process, traffic stays rewritten; a restart adopts the pinned data path and changes only what differs', { skip }, async () => {
  const t = await threeHosts();
  const a = t.host('a');
  const paths = testDatapathPaths('restart');
  const script = `
    import { Datapath } from './src/datapath/datapath.ts';
    import { inNetns } from './src/kernel/netns.ts';
    import { buildEntries, resolveRules } from './src/datapath/rules.ts';
    import { parseRuleSet } from './src/datapath/rule-syntax.ts';
    const dp = Datapath.open(${JSON.stringify(paths)});
    inNetns(${JSON.stringify(a.ns)}, () => dp.attach('a0', 'egress'));
    for (const e of buildEntries(resolveRules(parseRuleSet('dir: out, SPI: 400, exp. src: HoA, remap. src: CoA'), ${JSON.stringify(ADDR)}, { peer: 'B' })).values()) dp.putEntry(e);
    console.log('ready');
    setInterval(() => {}, 1000);
  `;
  const child = spawnSync('sh', ['-c', `node --import tsx --input-type=module -e "$SCRIPT" & pid=$!; sleep 0; while ! kill -0 $pid 2>/dev/null; do sleep 0.1; done; for i in $(seq 1 100); do [ -e ${paths.pinDir}/maps/iro_rules ] && [ -e ${paths.stateFile} ] && break; sleep 0.1; done; sleep 0.5; kill -9 $pid; wait $pid; echo killed $?`], {
    env: { ...process.env, SCRIPT: script },
    cwd: process.cwd(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.match(child.stdout, /killed 137/, child.stderr);
  try {
    await a.ping(ADDR.B, { count: 1 });
    const cap = await t.capture('ab', { at: 'b', filter: ['ip6', 'proto', '50'] });
    sendRawIpv6(a.ns, { proto: 50, src: ADDR.HoA, dst: ADDR.B, payload: espPayload(400) });
    await settle();
    const r1 = await cap.stop();
    assert.equal(r1.packets.filter((p) => p.esp[0]?.spi === 400 && p.src === canonicalIPv6(ADDR.CoA)).length, 1, `rewritten with nobody running:\n${r1.text}`);

    const dp = Datapath.open(paths);
    assert.equal(dp.adopted, true, 'the restarted process adopts the pinned programs and maps');
    const before = dp.listEntries();
    assert.equal(before.length, 1);
    const desired = new Map(entriesFor('dir: out, SPI: 400, exp. src: HoA, remap. src: CoA2\ndir: in , SPI: 401, exp. dst: CoA, remap. dst: HoA', 'B').map((e) => [e.id, e]));
    const ops = dp.reconcileEntries(desired);
    assert.deepEqual(ops, { put: 2, deleted: 0, unchanged: 0 });
    assert.deepEqual(dp.reconcileEntries(desired), { put: 0, deleted: 0, unchanged: 2 }, 'a second pass changes nothing');
    const cap2 = await t.capture('ab', { at: 'b', filter: ['ip6', 'proto', '50'] });
    sendRawIpv6(a.ns, { proto: 50, src: ADDR.HoA, dst: ADDR.B, payload: espPayload(400) });
    await settle();
    const r2 = await cap2.stop();
    assert.equal(r2.packets.filter((p) => p.esp[0]?.spi === 400 && p.src === canonicalIPv6(ADDR.CoA2)).length, 1, r2.text);
    assert.equal(dp.verifyAttachments()[0]!.attachedProgId, dp.programs.iro_egress.info.id);
    destroyQuietly(dp);
  } finally {
    if (existsSync(paths.pinDir)) spawnSync('rm', ['-rf', paths.pinDir]);
  }
});

for (const mode of ['tcx', 'clsact'] as const) {
  test(`detach (${mode}) leaves no program, filter, qdisc or pin behind`, { skip }, async () => {
    const t = await threeHosts();
    const a = t.host('a');
    const paths = testDatapathPaths(`detach-${mode}`);
    const dp = Datapath.open(paths);
    inNetns(a.ns, () => {
      dp.attach('a0', 'egress', { mode });
      dp.attach('a0', 'ingress', { mode });
    });
    const ifindex = a.ifindex('a0');
    assert.ok(existsSync(`${paths.pinDir}/maps/iro_rules`));
    inNetns(a.ns, () => dp.destroy());
    assert.equal(existsSync(paths.pinDir), false, 'pin directory removed');
    assert.equal(existsSync(paths.stateFile), false, 'state file removed');
    assert.doesNotMatch(a.tc('qdisc', 'show', 'dev', 'a0'), /clsact/, 'no clsact qdisc left');
    const left = inNetns(a.ns, () => [...native().progQuery(ifindex, 46), ...native().progQuery(ifindex, 47)]);
    assert.deepEqual(left, [], 'no tcx program left');
    // the kernel frees programs after an RCU grace period: allow it a moment
    const progId = dp.programs.iro_egress.info.id;
    let loaded = true;
    for (let i = 0; i < 40 && loaded; i++) {
      loaded = new RegExp(`^${progId}: `, 'm').test(spawnSync('bpftool', ['prog', 'show'], { encoding: 'utf8' }).stdout ?? '');
      if (loaded) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(loaded, false, `program ${progId} is unloaded`);
  });
}

test('DESIGN 7: on an L3 tunnel device, a tracked SPI is rewritten and redirected out of the CoA interface; others stay in the tunnel', { skip }, async () => {
  const t = await threeHosts();
  const a = t.host('a');
  // an L3 device standing in for the MN-HA tunnel (the host kernel has no ip6tnl)
  a.ip('tuntap', 'add', 'dev', 'tun0', 'mode', 'tun');
  a.ip('link', 'set', 'tun0', 'up');
  // design A: HoA-sourced traffic is routed into the tunnel by a source rule (PLATFORM.md)
  a.ip('-6', 'rule', 'add', 'from', ADDR.HoA, 'lookup', '100');
  a.ip('-6', 'route', 'add', 'default', 'dev', 'tun0', 'table', '100');
  const dp = Datapath.open(testDatapathPaths('l3'));
  try {
    const att = inNetns(a.ns, () => dp.attach('tun0', 'egress'));
    assert.equal(att.l3, true);
    assert.equal(att.program, 'iro_egress_l3');
    const oif = a.ifindex('a0');
    for (const e of buildEntries(resolveRules(parseRuleSet('dir: out, SPI: 500, exp. src: HoA, remap. src: CoA'), ADDR, { peer: 'C' }), { oif: () => oif }).values()) dp.putEntry(e);
    await a.ping(ADDR.B, { count: 1 });
    const cap = await t.capture('ab', { at: 'b', filter: ['ip6', 'proto', '50'] });
    sendRawIpv6(a.ns, { proto: 50, src: ADDR.HoA, dst: ADDR.C, payload: espPayload(500), count: 2 });
    sendRawIpv6(a.ns, { proto: 50, src: ADDR.HoA, dst: ADDR.C, payload: espPayload(501), count: 1 });
    await settle();
    const r = await cap.stop();
    const direct = r.packets.filter((p) => p.esp[0]?.spi === 500);
    assert.equal(direct.length, 2, `${r.text}\n${JSON.stringify(dp.stats(), (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
    for (const p of direct) {
      assert.equal(p.src, canonicalIPv6(ADDR.CoA));
      assert.equal(p.dst, canonicalIPv6(ADDR.C));
    }
    assert.equal(r.packets.filter((p) => p.esp[0]?.spi === 501).length, 0, 'an untracked SPI stays in the tunnel');
    assert.ok(dp.stats().redirect >= 2n, JSON.stringify(dp.stats(), (_, v) => (typeof v === "bigint" ? String(v) : v)));
  } finally {
    destroyQuietly(dp);
  }
});

test('truncated and garbage frames on a real veth never upset the ingress program', { skip }, async () => {
  const t = await threeHosts();
  const dp = Datapath.open(testDatapathPaths('garbage'));
  try {
    inNetns(t.host('b').ns, () => dp.attach('b0', 'ingress'));
    for (const e of entriesFor('dir: in , SPI: 45, exp. dst: CoA, remap. dst: HoA')) dp.putEntry(e);
    const mac = Buffer.from(t.host('b').ip('-j', 'link', 'show', 'b0').match(/"address":"([0-9a-f:]+)"/)![1]!.replace(/:/g, ''), 'hex');
    const good = ethernet(ipv6Packet({ src: ADDR.B, dst: ADDR.CoA, ext: [{ type: 'hop' }], payload: { esp: { spi: 45 } } }), mac);
    const frames: Buffer[] = [];
    for (let n = 15; n < good.length; n++) frames.push(good.subarray(0, n));
    const before = dp.stats().parse_error;
    sendFrames(t.host('a').ns, 'a0', frames);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(dp.stats().parse_error > before, 'truncated IPv6 headers are counted as parse errors');
    const ping = await t.host('a').ping(ADDR.B, { count: 1 });
    assert.ok(ping.received >= 1, 'the host still forwards traffic');
  } finally {
    destroyQuietly(dp);
  }
});
