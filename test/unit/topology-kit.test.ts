// The pure parts of the test topology kit: spec validation (nothing is created for a bad
// spec), the iproute2/tc argument builders, key redaction in command errors, ping parsing,
// and the IRO topology's description.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSpec, type TopologySpec } from '../lib/topology/spec.ts';
import { addrArgs, batchText, netemArgs, routeArgs, ruleArgs, vethPair } from '../lib/topology/commands.ts';
import { CommandError, type ExecResult } from '../lib/topology/exec.ts';
import { describeArgv, redactArgv, REDACTED } from '../lib/topology/redact.ts';
import { parsePing, pingArgv } from '../lib/topology/ping.ts';
import { iroAddresses, iroTopologySpec } from '../lib/topology/iro.ts';
import { namespaceName, nextTopologyId, ownerPid } from '../lib/topology/names.ts';

const base = (): TopologySpec<'a' | 'b'> => ({
  hosts: { a: {}, b: {} },
  links: [{ name: 'ab', ends: [{ host: 'a', ifname: 'e0', addrs: ['2001:db8::1/64'] }, { host: 'b', ifname: 'e0' }] }],
});

test('spec validation names the offending host, link or field', () => {
  assert.doesNotThrow(() => validateSpec(base()));
  const cases: Array<[(s: TopologySpec<'a' | 'b'>) => void, RegExp]> = [
    [(s) => (s.links[0]!.ends[0]!.addrs = ['2001:db8::g/64']), /link ab, a\/e0 address: "2001:db8::g\/64" is not an IPv6 address/],
    [(s) => (s.links[0]!.ends[0]!.addrs = ['2001:db8::1/129']), /invalid prefix length/],
    [(s) => (s.links[0]!.ends[1]!.ifname = 'a-very-long-ifname'), /host b: interface name "a-very-long-ifname" is not a valid Linux interface name/],
    [(s) => (s.links[0]!.ends[1]!.host = 'c' as 'b'), /link ab: host "c" is not declared/],
    [(s) => s.links.push({ name: 'ab', ends: [{ host: 'a', ifname: 'e1' }, { host: 'b', ifname: 'e1' }] }), /link ab: defined twice/],
    [(s) => s.links.push({ name: 'x', ends: [{ host: 'a', ifname: 'e0' }, { host: 'b', ifname: 'e1' }] }), /host a already has an interface "e0"/],
    [(s) => (s.links[0]!.ends = [s.links[0]!.ends[0]!]), /needs at least two ends/],
    [(s) => (s.hosts.a.routes = [{ dst: 'default' }]), /host a, route 1 \(default\): a unicast route needs "via" or "dev"/],
    [(s) => (s.hosts.a.routes = [{ dst: 'default', dev: 'e9' }]), /device "e9" is not an interface of a/],
    [(s) => (s.hosts.a.routes = [{ dst: 'default', via: '10.0.0.1' }]), /via: "10.0.0.1" is not an IPv6 address/],
    [(s) => (s.hosts.a.rules = [{ from: 'nope', table: 100 }]), /host a, rule 1 from/],
    [(s) => (s.links[0]!.ends[0]!.netem = { lossPercent: 150 }), /netem lossPercent 150 is out of range/],
    [(s) => (s.links[0]!.ends[0]!.netem = { rate: 'fast' }), /netem rate "fast" is not a tc rate/],
    [(s) => (s.links[0]!.ends[0]!.netem = {}), /netem spec sets nothing/],
    [(s) => (s.links[0]!.ends[0]!.mtu = 1000), /mtu 1000 is outside \[1280, 65535\]/],
    [(s) => (s.hosts.a.sysctls = { 'rm -rf': 1 }), /"rm -rf" is not a sysctl name/],
  ];
  for (const [mutate, re] of cases) {
    const s = base();
    mutate(s);
    assert.throws(() => validateSpec(s), re);
  }
});

test('iproute2 and tc arguments: devices always after dev/name, nodad on every address', () => {
  assert.deepEqual(vethPair('n1', 'a', 'n2', 'b', 10, 11), ['link', 'add', 'name', 'a', 'index', '10', 'netns', 'n1', 'type', 'veth', 'peer', 'name', 'b', 'index', '11', 'netns', 'n2']);
  assert.deepEqual(addrArgs('add', '2001:db8::1/64', 'a'), ['addr', 'add', '2001:db8::1/64', 'dev', 'a', 'nodad']);
  assert.deepEqual(addrArgs('del', '2001:db8::1/64', 'a'), ['addr', 'del', '2001:db8::1/64', 'dev', 'a']);
  assert.deepEqual(routeArgs('add', { dst: 'default', via: '2001:db8::1', dev: 'fa', table: 100, metric: 5 }), ['route', 'add', 'default', 'via', '2001:db8::1', 'dev', 'fa', 'table', '100', 'metric', '5']);
  assert.deepEqual(routeArgs('add', { dst: '2001:db8:1::/64', type: 'unreachable' }), ['route', 'add', 'unreachable', '2001:db8:1::/64']);
  assert.deepEqual(ruleArgs('add', { from: '2001:db8:1::100', table: 100, priority: 10 }), ['rule', 'add', 'priority', '10', 'from', '2001:db8:1::100', 'lookup', '100']);
  assert.deepEqual(netemArgs('add', 'fa', { delayMs: 20, jitterMs: 5, lossPercent: 1.5, rate: '10mbit' }), ['qdisc', 'add', 'dev', 'fa', 'root', 'netem', 'delay', '20ms', '5ms', 'loss', '1.5%', 'rate', '10mbit']);
  assert.equal(batchText([['link', 'set', 'dev', 'a', 'up'], ['addr', 'flush', 'dev', 'a']]), 'link set dev a up\naddr flush dev a\n');
  assert.throws(() => batchText([['addr', 'add', 'x y']]), /split on/);
});

test('command errors never carry key material', () => {
  const key = '0x' + '0123456789abcdef'.repeat(2);
  const auth = '0x' + 'fedcba9876543210'.repeat(4);
  const argv = ['ip', 'netns', 'exec', 'ns', 'ip', 'xfrm', 'state', 'add', 'src', '2001:db8::1', 'dst', '2001:db8::2', 'proto', 'esp', 'spi', '0x00001234',
    'enc', 'cbc(aes)', key, 'auth-trunc', 'hmac(sha256)', auth, '128'];
  const redacted = redactArgv(argv);
  assert.ok(!redacted.includes(key) && !redacted.includes(auth));
  assert.equal(redacted[redacted.indexOf('cbc(aes)') + 1], REDACTED);
  assert.ok(redacted.includes('0x00001234'), 'SPIs stay readable');
  assert.ok(redacted.includes('2001:db8::1'), 'addresses stay readable');
  // A bare key (no 0x) after aead, and a hex blob echoed on stderr.
  assert.equal(redactArgv(['aead', 'rfc4106(gcm(aes))', 'abcdef0123456789abcdef01', '128'])[2], REDACTED);
  const result: ExecResult = { argv, code: 2, signal: null, timedOut: false, stdout: '', stderr: `Error: bad key ${key}\n`, durationMs: 1 };
  const msg = new CommandError('host mn', result).message;
  assert.ok(!msg.includes(key.slice(2)) && !msg.includes(auth.slice(2)), msg);
  assert.match(msg, /^host mn: `ip netns exec ns ip xfrm state add .*enc 'cbc\(aes\)' <redacted> auth-trunc 'hmac\(sha256\)' <redacted> 128` failed with exit code 2: Error: bad key <redacted>$/);
  assert.equal(describeArgv(['echo', "it's"]), `echo 'it'\\''s'`);
});

test('ping: argv and summary parsing', () => {
  assert.deepEqual(pingArgv('2001:db8::1', { count: 2, src: '2001:db8::2', intervalMs: 50 }), ['ping', '-6', '-n', '-c', '2', '-i', '0.05', '-w', '4', '-I', '2001:db8::2', '2001:db8::1']);
  const out = `PING 2001:db8::1(2001:db8::1) 56 data bytes
64 bytes from 2001:db8::1: icmp_seq=1 ttl=64 time=0.150 ms

--- 2001:db8::1 ping statistics ---
3 packets transmitted, 2 received, 33.3333% packet loss, time 2003ms
rtt min/avg/max/mdev = 0.150/0.200/0.250/0.050 ms
`;
  assert.deepEqual(parsePing(out), { transmitted: 3, received: 2, rtt: { min: 0.15, avg: 0.2, max: 0.25, mdev: 0.05 } });
  assert.deepEqual(parsePing('1 packets transmitted, 0 received, 100% packet loss, time 0ms\n'), { transmitted: 1, received: 0, rtt: null });
  assert.throws(() => parsePing('ping: connect: Network is unreachable'), /no summary/);
});

test('names: unique per process and counter, traceable to the owning pid', () => {
  const a = nextTopologyId();
  const b = nextTopologyId();
  assert.notEqual(a, b);
  assert.match(a, new RegExp(`^iro-${process.pid}-\\d+$`));
  assert.equal(ownerPid(namespaceName(a, 'mn')), process.pid);
  assert.equal(ownerPid('other-123-mn'), null);
  assert.throws(() => nextTopologyId('Bad-Prefix'), /topology prefix/);
});

test('IRO topology description: documentation prefixes, one router on every link, MN2 variants', () => {
  const spec = iroTopologySpec();
  validateSpec(spec);
  assert.deepEqual(Object.keys(spec.hosts).sort(), ['cn', 'ha', 'mn', 'router']);
  assert.deepEqual(spec.links.map((l) => l.name), ['home', 'foreignA', 'foreignB', 'cn']);
  for (const l of spec.links) assert.ok(l.ends.some((e) => e.host === 'router'), `${l.name} touches the router`);
  const a = iroAddresses();
  assert.deepEqual(a.mn, { hoa: '2001:db8:1::100', coaA: '2001:db8:a::100', coaB: '2001:db8:b::100', homePrefix: '2001:db8:1::/64' });
  assert.equal(a.ha, '2001:db8:1::2');
  assert.equal(a.cn, '2001:db8:c::10');
  const mnFb = spec.links.find((l) => l.name === 'foreignB')!.ends.find((e) => e.host === 'mn')!;
  assert.equal(mnFb.up, false);
  assert.deepEqual(mnFb.addrs, []);
  const all = [...Object.values(a.prefixes), ...Object.values(a.router), a.ha, a.cn, a.mn.hoa, a.mn.coaA, a.mn.coaB];
  assert.ok(all.every((x) => x.startsWith('2001:db8:')), 'documentation range only');

  const b = iroTopologySpec({ mnOn: 'B', cnOnHomeLink: true, mn2: { ha: 'own' }, netem: { cn: { delayMs: 5 } }, hosts: { mn: { rules: [{ from: '2001:db8:1::100', table: 100 }] } } });
  validateSpec(b);
  assert.equal(b.links.find((l) => l.name === 'home')!.ends.length, 3);
  assert.ok(b.links.find((l) => l.name === 'cn')!.ends.every((e) => e.netem?.delayMs === 5));
  assert.deepEqual(b.hosts.mn.routes, [{ dst: 'default', via: '2001:db8:b::1', dev: 'fb' }]);
  assert.equal(b.hosts.mn.rules!.length, 1);
  assert.deepEqual(iroAddresses({ mn2: { ha: 'shared' } }).mn2, { hoa: '2001:db8:1::101', coa: '2001:db8:d::100', ha: '2001:db8:1::2', homePrefix: '2001:db8:1::/64' });
  assert.throws(() => iroTopologySpec({ hosts: { mn2: {} } }), /host mn2 is not in this topology/);
});
