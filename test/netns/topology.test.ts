// The topology kit on the host kernel: the standard IRO topology is built, forwards, lets the
// MN move, is observable with tcpdump, and always disappears again (also after a failed
// creation, and when the process exits or is signalled without calling destroy()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnless } from '../lib/capabilities.ts';
import {
  between,
  create,
  describePackets,
  headersContain,
  iroTopology,
  isEsp,
  isLinkHousekeeping,
  netemUnavailable,
  packetsWithAddressAnywhere,
  packetsWithAddressInHeaders,
  removeStaleNamespaces,
  TopologyCreateError,
  type TopologySpec,
} from '../lib/topology/index.ts';
import { DatagramSocket } from '../../src/kernel/socket.ts';
import { sockaddrIn6 } from '../../src/kernel/sockaddr.ts';
import { AF_INET6, IPPROTO_ESP, IPPROTO_IPV6, SOCK_DGRAM, SOCK_RAW } from '../../src/kernel/constants.ts';
import { parseIPv6 } from '../../src/common/ipv6.ts';
import { projectRoot } from '../../src/kernel/native.ts';

const skip = skipUnless('netns');
/** RFC 3542 sticky/ancillary destination options (uapi linux/in6.h). */
const IPV6_DSTOPTS = 59;

function netnsList(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean)
    .sort();
}

/** `ip netns list`, restricted to this process's namespaces: other runs may work in parallel. */
function ownNamespaces(): string[] {
  return netnsList().filter((n) => n.includes(`-${process.pid}-`));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

test('standard IRO topology: created fast, addresses in place, no DAD, forwarding on routers', { skip }, async (t) => {
  const before = ownNamespaces();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const topo = await iroTopology();
    times.push(topo.creationMs);
    try {
      if (i > 0) continue;
      assert.deepEqual(ownNamespaces(), [...before, ...topo.namespaces()].sort(), 'every host is a namespace of its own');
      const a = topo.addr;
      assert.deepEqual(topo.mn.addresses(), [`${a.mn.coaA}/64`], 'the MN has only its CoA on foreignA (HoA is the daemon\'s)');
      assert.deepEqual(topo.ha.addresses(), [`${a.ha}/64`]);
      assert.deepEqual(topo.cn.addresses(), [`${a.cn}/64`]);
      assert.deepEqual(topo.router.addresses().sort(), [a.router.home, a.router.foreignA, a.router.foreignB, a.router.cn].map((x) => `${x}/64`).sort());
      for (const h of topo.hostNames()) assert.deepEqual(topo.host(h).notReadyAddresses(), [], `host ${h}: no tentative address`);
      assert.equal(topo.router.sysctl('net.ipv6.conf.all.forwarding'), '1');
      assert.equal(topo.ha.sysctl('net.ipv6.conf.all.forwarding'), '1', 'the HA is a router');
      assert.equal(topo.mn.sysctl('net.ipv6.conf.all.forwarding'), '0');
      assert.equal(topo.mn.sysctl('net.ipv6.conf.fa.accept_dad'), '0');
      assert.equal(topo.mn.sysctl('net.ipv6.conf.fa.accept_ra'), '0');
      const fb = topo.mn.interfaces().find((x) => x.ifname === topo.ifnames.foreignB)!;
      assert.equal(fb.up, false, 'foreignB interface of the MN starts down');
      assert.equal(topo.mn.ifnameOf(topo.mn.ifindex('fa')), 'fa');
      assert.match(topo.mn.ip('route', 'show', 'default'), new RegExp(`default via ${a.router.foreignA} dev fa`));
    } finally {
      await topo.destroy();
    }
  }
  t.diagnostic(`standard IRO topology (4 hosts, 4 links) creation: median ${median(times).toFixed(1)} ms, runs ${times.map((x) => x.toFixed(1)).join('/')} ms`);
  assert.deepEqual(ownNamespaces(), before);
});

test('MN on foreignA pings the CN; the HA reaches the CN through the router', { skip }, async (t) => {
  const topo = await iroTopology();
  t.after(() => topo.destroy());
  const a = topo.addr;
  const cap = await topo.capture('cn');
  const mnToCn = await topo.mn.ping(a.cn, { count: 3 });
  assert.equal(mnToCn.received, 3);
  await topo.ha.ping(a.cn, { count: 2, src: a.ha });
  const { packets } = await cap.stop();
  const requests = packets.filter((p) => p.src === a.ha && p.dst === a.cn && / echo request/.test(p.summary));
  assert.equal(requests.length, 2, describePackets(packets));
  // Seen on the CN link, one hop after the HA: forwarded once by the router.
  for (const p of requests) assert.equal(p.hopLimit, 63, describePackets(requests));
  assert.equal(packets.filter((p) => p.src === a.mn.coaA && p.dst === a.cn && / echo request/.test(p.summary)).length, 3);
});

test('capture on the MN link: CoA<->CN ESP with its SPI, the HoA in no packet, header search finds what is there', { skip }, async (t) => {
  const topo = await iroTopology();
  t.after(() => topo.destroy());
  const a = topo.addr;
  const decoyInHeader = '2001:db8:1::dead'; // carried in a destination option: must be found
  const decoyInPayload = '2001:db8:1::beef'; // only inside an ESP payload: not a header

  const cap = await topo.capture('foreignA');
  assert.equal(cap.where, 'capture on router/fa', 'a point-to-point link is observed from the router end');
  await topo.mn.ping(a.cn, { count: 2 });
  topo.mn.inNetns(() => {
    // ESP-framed packets (SPI 0x1234, seq 1..3) from the CoA: the host kernel has no ESP,
    // so a raw protocol-50 socket stands in for an SA; the wire format is what matters here.
    const esp = DatagramSocket.open(AF_INET6, SOCK_RAW, IPPROTO_ESP, { label: 'mn esp' });
    try {
      esp.bind(sockaddrIn6(a.mn.coaA));
      for (let seq = 1; seq <= 3; seq++) {
        const body = Buffer.alloc(40, 0xa5);
        body.writeUInt32BE(0x1234, 0);
        body.writeUInt32BE(seq, 4);
        parseIPv6(decoyInPayload).copy(body, 16);
        esp.send(body, { addr: sockaddrIn6(a.cn) });
      }
    } finally {
      esp.close();
    }
    const udp = DatagramSocket.open(AF_INET6, SOCK_DGRAM, 17, { label: 'mn udp' });
    try {
      udp.bind(sockaddrIn6(a.mn.coaA));
      // Destination options: PadN(2) + experimental option 0x1e carrying 16 bytes + PadN(2).
      const opts = Buffer.concat([Buffer.from([0, 2, 0x1e, 16]), parseIPv6(decoyInHeader), Buffer.from([1, 2, 0, 0])]);
      udp.send(Buffer.from('decoy'), { addr: sockaddrIn6(a.cn, 9), cmsgs: [{ level: IPPROTO_IPV6, type: IPV6_DSTOPTS, data: opts }] });
    } finally {
      udp.close();
    }
  });
  const { packets, stats } = await cap.stop();
  const msg = describePackets(packets, 50);
  assert.equal(stats.captured, packets.length);

  const esp = packets.filter(isEsp);
  assert.equal(esp.length, 3, msg);
  for (const p of esp) {
    assert.deepEqual([p.src, p.dst], [a.mn.coaA, a.cn], msg);
    assert.deepEqual(p.esp.map((e) => e.spi), [0x1234], msg);
    assert.deepEqual(p.headerChain, [50]);
    assert.equal(p.headersLength, 48, 'IPv6 header + ESP SPI/sequence');
  }
  assert.deepEqual(esp.map((p) => p.esp[0]!.seq), [1, 2, 3]);
  // Everything on the link besides ND/MLD is MN<->CN traffic from the CoA.
  for (const p of packets.filter((x) => !isLinkHousekeeping(x))) assert.deepEqual(new Set([p.src, p.dst]), new Set([a.mn.coaA, a.cn]), msg);
  assert.equal(between(packets, a.mn.coaA, a.cn).filter((p) => / echo (request|reply)/.test(p.summary)).length, 4, msg);

  // The HoA and the unused CoA of foreignB appear in no packet at all.
  for (const unused of [a.mn.hoa, a.mn.coaB]) {
    assert.deepEqual(packetsWithAddressInHeaders(packets, unused), [], `${unused} in a header:\n${msg}`);
    assert.deepEqual(packetsWithAddressAnywhere(packets, unused), [], `${unused} anywhere:\n${msg}`);
  }
  // Positive controls: the search finds an address in an extension header, and tells header
  // bytes from payload bytes.
  const withDecoy = packetsWithAddressInHeaders(packets, decoyInHeader);
  assert.equal(withDecoy.length, 1, msg);
  assert.deepEqual(withDecoy[0]!.protocols, ['DSTOPT', 'UDP']);
  assert.equal(withDecoy[0]!.dstPort, 9);
  assert.deepEqual(packetsWithAddressInHeaders(packets, decoyInPayload), [], 'payload bytes are not header bytes');
  assert.ok(packetsWithAddressAnywhere(packets, decoyInPayload).length >= 3, 'but they are in the packets');
  assert.ok(!headersContain(esp[0]!, decoyInPayload));
});

test('the MN moves from foreignA to foreignB and pings from its new CoA', { skip }, async (t) => {
  const topo = await iroTopology();
  t.after(() => topo.destroy());
  const a = topo.addr;
  await topo.mn.ping(a.cn, { count: 1 });
  const capA = await topo.capture('foreignA');
  const capB = await topo.capture('foreignB');
  topo.moveMn('B');
  assert.equal(topo.mnAttachment(), 'B');
  assert.equal(topo.mnCoa(), a.mn.coaB);
  assert.deepEqual(topo.mn.addresses(), [`${a.mn.coaB}/64`], 'the old CoA is gone');
  const fa = topo.mn.interfaces().find((x) => x.ifname === 'fa')!;
  assert.equal(fa.up, false);
  await topo.mn.ping(a.cn, { count: 3, src: a.mn.coaB });
  await topo.cn.ping(a.mn.coaB, { count: 1 });
  const old = await topo.mn.ping(a.cn, { count: 1, src: a.mn.coaA, expect: 'none', deadlineS: 1 });
  assert.equal(old.received, 0);
  const onA = (await capA.stop()).packets;
  const onB = (await capB.stop()).packets;
  assert.equal(between(onB, a.mn.coaB, a.cn).filter((p) => / echo request/.test(p.summary)).length, 4 - 0, describePackets(onB));
  assert.deepEqual(packetsWithAddressAnywhere(onA, a.mn.coaB), [], 'nothing from the new CoA on the old link');
  assert.deepEqual(between(onA, a.mn.coaA, a.cn), [], 'and no more traffic from the old CoA');
  topo.moveMn('A');
  await topo.mn.ping(a.cn, { count: 1, src: a.mn.coaA });
});

test('optional hosts: CN on the home link (bridged), MN2 with its own HA or sharing the HA', { skip }, async (t) => {
  const own = await iroTopology({ cnOnHomeLink: true, mn2: { ha: 'own' } });
  t.after(() => own.destroy());
  const a = own.addr;
  assert.ok(own.link('home').bridge, 'three ends on the home link: a bridge joins them');
  assert.equal(own.namespaces().length, 8, 'router, ha, cn, mn, cnHome, mn2, ha2 + switch');
  await own.cnHome!.ping(a.ha, { count: 1 });
  await own.cnHome!.ping(a.mn.coaA, { count: 1 });
  await own.mn2!.ping(a.ha2!, { count: 1 });
  await own.mn2!.ping(a.mn.coaA, { count: 1 });
  assert.equal(a.mn2!.ha, a.ha2);
  assert.equal(a.mn2!.homePrefix, '2001:db8:2::/64');
  const cap = await own.capture('home');
  assert.equal(cap.where, 'capture on switch(home)/br0', 'a multi-access link is observed on its bridge');
  await own.cnHome!.ping(a.cn, { count: 2 });
  const { packets } = await cap.stop();
  assert.equal(between(packets, a.cnHome!, a.cn).filter((p) => / echo/.test(p.summary)).length, 4, describePackets(packets));

  const shared = await iroTopology({ mn2: { ha: 'shared' } });
  t.after(() => shared.destroy());
  assert.equal(shared.addr.mn2!.ha, shared.addr.ha);
  assert.equal(shared.addr.mn2!.homePrefix, shared.addr.mn.homePrefix);
  assert.notEqual(shared.addr.mn2!.hoa, shared.addr.mn.hoa);
  assert.equal(shared.ha2, undefined);
  await shared.mn2!.ping(shared.addr.ha, { count: 1 });
});

test('source-based rule: traffic from one address uses table 100 and leaves by the other link', { skip }, async (t) => {
  // a has two links to router r; its main default goes out l1; `from X lookup 100` sends
  // packets from X (on lo, like a HoA) out l2.
  const X = '2001:db8:99::1';
  const spec: TopologySpec<'a' | 'r' | 'b'> = {
    hosts: {
      a: {
        loopback: [X],
        routes: [
          { dst: 'default', via: '2001:db8:11::1', dev: 'l1' },
          { dst: 'default', via: '2001:db8:12::1', dev: 'l2', table: 100 },
        ],
        rules: [{ from: X, table: 100, priority: 100 }],
      },
      r: { router: true, routes: [{ dst: '2001:db8:99::/64', via: '2001:db8:12::2' }], sysctls: { 'net.ipv6.conf.all.proxy_ndp': 1 } },
      b: { routes: [{ dst: 'default', via: '2001:db8:13::1' }] },
    },
    links: [
      { name: 'one', ends: [{ host: 'a', ifname: 'l1', addrs: ['2001:db8:11::2/64'] }, { host: 'r', ifname: 'r1', addrs: ['2001:db8:11::1/64'] }] },
      { name: 'two', ends: [{ host: 'a', ifname: 'l2', addrs: ['2001:db8:12::2/64'] }, { host: 'r', ifname: 'r2', addrs: ['2001:db8:12::1/64'] }] },
      { name: 'three', ends: [{ host: 'b', ifname: 'eth0', addrs: ['2001:db8:13::2/64'] }, { host: 'r', ifname: 'r3', addrs: ['2001:db8:13::1/64'] }] },
    ],
  };
  const topo = await create(spec);
  t.after(() => topo.destroy());
  assert.equal(topo.host('r').sysctl('net.ipv6.conf.all.proxy_ndp'), '1');
  assert.match(topo.host('a').ip('rule', 'show'), /100:\s+from 2001:db8:99::1 lookup 100/);
  const c1 = await topo.capture('one');
  const c2 = await topo.capture('two');
  await topo.host('a').ping('2001:db8:13::2', { count: 2, src: X });
  await topo.host('a').ping('2001:db8:13::2', { count: 1 });
  const p1 = (await c1.stop()).packets;
  const p2 = (await c2.stop()).packets;
  assert.equal(between(p2, X, '2001:db8:13::2').filter((p) => p.src === X).length, 2, describePackets(p2));
  assert.deepEqual(packetsWithAddressAnywhere(p1, X), [], describePackets(p1));
  assert.equal(between(p1, '2001:db8:11::2', '2001:db8:13::2').length, 2, 'the unruled source uses the main table');

  // Changes at run time: remove the rule, and X's traffic follows the main table again.
  topo.host('a').removeRule({ from: X, table: 100, priority: 100 });
  const c1b = await topo.capture('one');
  await topo.host('a').ping('2001:db8:13::2', { count: 1, src: X });
  const p1b = (await c1b.stop()).packets;
  assert.equal(p1b.filter((p) => p.src === X).length, 1, `without the rule the packet from X leaves by l1:\n${describePackets(p1b)}`);
});

test('host commands: sync and async with output, timeouts, background processes, /sys view', { skip }, async (t) => {
  const topo = await iroTopology();
  t.after(() => topo.destroy());
  const r = topo.mn.exec(['sh', '-c', 'echo out; echo err >&2; exit 3'], { check: false });
  assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
  assert.throws(() => topo.mn.exec(['sh', '-c', 'exit 3']), /host mn \(netns iro-\d+-\d+-mn\): `nsenter --net=\/run\/netns\/iro-\d+-\d+-mn -- sh -c 'exit 3'` failed with exit code 3/);
  assert.throws(() => topo.mn.exec(['sleep', '5'], { timeoutMs: 200 }), /timed out after \d+ ms/);
  await assert.rejects(topo.cn.run(['sleep', '5'], { timeoutMs: 200 }), /timed out/);
  const a = await topo.cn.run(['cat'], { input: 'via stdin' });
  assert.equal(a.stdout, 'via stdin');
  // The command really runs in the namespace.
  assert.match(topo.mn.exec(['ip', '-6', 'addr', 'show', 'dev', 'fa']).stdout, /2001:db8:a::100\/64/);
  // /sys: the host's by default (bpffs pins stay visible), the namespace's own on request.
  const list = (out: string) => out.split(/\s+/).filter(Boolean).sort();
  const own = list(topo.mn.exec(['ls', '/sys/class/net'], { sysfs: 'netns' }).stdout);
  // (a kernel with ip6_tunnel loaded adds its fallback ip6tnl0 to every namespace)
  assert.deepEqual(own.filter((i) => i !== 'ip6tnl0'), ['fa', 'fb', 'lo']);
  assert.deepEqual(list(topo.mn.exec(['ls', '/sys/class/net']).stdout), readdirSync('/sys/class/net').sort());
  const bg = topo.cn.spawn(['sh', '-c', 'echo started; exec sleep 30']);
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(bg.running, true);
  const end = await bg.stop('SIGTERM');
  assert.equal(end.signal, 'SIGTERM');
  assert.equal(bg.stdout, 'started\n');
});

test('stale namespaces of dead runs are removed by name; live ones are not touched', { skip }, async () => {
  const dead = spawn('true');
  await new Promise((res) => dead.on('close', res));
  const staleName = `iro-${dead.pid}-1-mn`;
  const liveName = `iro-${process.pid}-999-mn`;
  execFileSync('ip', ['netns', 'add', staleName]);
  execFileSync('ip', ['netns', 'add', liveName]);
  try {
    const removed = removeStaleNamespaces();
    assert.ok(removed.includes(staleName), `removed: ${removed.join(', ')}`);
    assert.ok(!removed.includes(liveName));
    assert.ok(!netnsList().includes(staleName));
    assert.ok(netnsList().includes(liveName));
  } finally {
    for (const n of [staleName, liveName]) if (existsSync(`/run/netns/${n}`)) execFileSync('ip', ['netns', 'del', n]);
  }
});

test('destroy() leaves no namespace behind, and every process started in a host is stopped', { skip }, async () => {
  const before = ownNamespaces();
  const topo = await iroTopology({ cnOnHomeLink: true });
  const names = topo.namespaces();
  assert.ok(names.every((n) => netnsList().includes(n)));
  const sleeper = topo.cn.spawn(['sleep', '600']);
  const cap = await topo.capture('cn');
  await topo.destroy();
  assert.deepEqual(ownNamespaces(), before);
  assert.equal(sleeper.running, false);
  assert.equal(cap.running, false);
  await topo.destroy(); // idempotent
  assert.throws(() => topo.mn.ip('addr'), /was destroyed/);
});

test('a creation that fails half-way removes every namespace it made and names the failing command', { skip }, async () => {
  const before = ownNamespaces();
  // Passes validation; the kernel rejects the route (the gateway is on no link of host a).
  const spec: TopologySpec<'a' | 'b'> = {
    hosts: { a: { routes: [{ dst: 'default', via: '2001:db8:77::1' }] }, b: {} },
    links: [{ name: 'ab', ends: [{ host: 'a', ifname: 'e0', addrs: ['2001:db8:5::1/64'] }, { host: 'b', ifname: 'e0', addrs: ['2001:db8:5::2/64'] }] }],
  };
  await assert.rejects(create(spec), (e: unknown) => {
    assert.ok(e instanceof TopologyCreateError);
    assert.match(e.message, /configuring hosts failed/);
    assert.match(e.message, /host a .*`ip route add default via 2001:db8:77::1` \(batch line \d+\) failed: .*No route to host/);
    return true;
  });
  assert.deepEqual(ownNamespaces(), before);

  // Rejected before anything is created: an invalid address names the link end.
  const bad: TopologySpec<'a' | 'b'> = {
    hosts: { a: {}, b: {} },
    links: [{ name: 'ab', ends: [{ host: 'a', ifname: 'e0', addrs: ['2001:db8:5::zz/64'] }, { host: 'b', ifname: 'e0' }] }],
  };
  await assert.rejects(create(bad), /link ab, a\/e0 address: "2001:db8:5::zz\/64" is not an IPv6 address/);
  // The kernel rejects an address the parser accepts (a multicast address on an interface).
  const kernelBad: TopologySpec<'a' | 'b'> = {
    hosts: { a: {}, b: {} },
    links: [{ name: 'ab', ends: [{ host: 'a', ifname: 'e0', addrs: ['ff02::1234/64'] }, { host: 'b', ifname: 'e0' }] }],
  };
  await assert.rejects(create(kernelBad), TopologyCreateError);
  assert.deepEqual(ownNamespaces(), before);
});

test('netem on a kernel without sch_netem fails with a clear error and cleans up', { skip }, async (t) => {
  const why = await netemUnavailable();
  if (why === null) {
    t.skip('this kernel has netem (covered by test/vm/topology-netem.test.ts)');
    return;
  }
  assert.match(why, /^netem not available on this kernel: /);
  const before = ownNamespaces();
  await assert.rejects(iroTopology({ netem: { foreignA: { delayMs: 20 } } }), (e: unknown) => {
    assert.ok(e instanceof TopologyCreateError);
    assert.match(e.message, /netem not available on this kernel: .*qdisc add dev fa root netem delay 20ms/);
    return true;
  });
  assert.deepEqual(ownNamespaces(), before);
});

test('the process exit handler and SIGTERM remove namespaces a test never destroyed', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iro-topo-exit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kit = join(projectRoot(), 'test', 'lib', 'topology', 'index.ts');
  const script = join(dir, 'child.mts');
  writeFileSync(
    script,
    `import { iroTopology } from ${JSON.stringify(kit)};
const topo = await iroTopology();
topo.cn.spawn(['sleep', '600']);
console.log(JSON.stringify(topo.namespaces()));
// "exit" on stdin: leave through process.exit() without destroy(); otherwise wait for a signal.
process.stdin.on('data', (b) => { if (String(b).trim() === 'exit') process.exit(0); });
setInterval(() => {}, 1000);
`,
  );
  const runChild = (mode: 'exit' | 'sigterm') =>
    new Promise<{ names: string[]; code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: projectRoot(), stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      let names: string[] = [];
      child.stderr.on('data', (b) => (err += b));
      child.stdout.on('data', (b) => {
        out += b;
        const line = out.split('\n').find((l) => l.startsWith('['));
        if (line && !names.length) {
          names = JSON.parse(line) as string[];
          assert.ok(names.every((n) => netnsList().includes(n)), 'the child created its namespaces');
          if (mode === 'sigterm') child.kill('SIGTERM');
          else child.stdin.write('exit\n');
        }
      });
      child.on('error', reject);
      child.stdin.on('error', () => undefined);
      child.on('close', (code, signal) => (names.length ? resolve({ names, code, signal }) : reject(new Error(`child printed no namespaces: ${err}`))));
    });
  for (const mode of ['exit', 'sigterm'] as const) {
    const r = await runChild(mode);
    assert.equal(r.names.length, 4);
    if (mode === 'sigterm') assert.equal(r.signal, 'SIGTERM', 'the default action still applies after cleanup');
    const left = netnsList().filter((n) => r.names.includes(n));
    assert.deepEqual(left, [], `${mode}: namespaces left behind`);
  }
});
