// The semantic checks of a node configuration, one by one: each broken input yields a problem
// at the right document path with a message that says what is expected (L03, G15, OP-29,
// OP-30, OP-44, OP-47, RFC 6275 §4.6, IRO App. E, [HAIPSEC] I2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfigText, type ConfigIssue } from '../../src/config/index.ts';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** An SA in flow style with fresh inline keys. */
const sa = (fields: string, keys = `auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: cbc(aes), key: "${hex(16)}" }`) => `    - { ${fields}, ${keys} }\n`;

const MN = `role: mn
mn:
  homeAddress: 2001:db8:1::100
  homeAgent: 2001:db8:1::2
  interfaces: [fa, fb]
`;
const PEER_CN = `peers:\n  - { name: server, address: 2001:db8:c::10, kind: cn, mode: iro }\n`;
const CN = `role: cn
cn:
  address: 2001:db8:c::10
  interfaces: [cn]
`;
const HA = `role: ha
ha:
  address: 2001:db8:1::2
  homeLink: home
  homePrefix: 2001:db8:1::/64
`;

interface Outcome {
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

function run(text: string): Outcome {
  try {
    const r = loadConfigText(text, { file: 't.yaml' });
    return { errors: [], warnings: r.warnings };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { errors: [...e.issues], warnings: [] };
  }
}

function show(list: ConfigIssue[]): string {
  return list.map((i) => `${i.path}: ${i.message}`).join('\n');
}

/** Exactly one error, at `path`, matching `re`. */
function oneError(text: string, path: string, re: RegExp): void {
  const { errors } = run(text);
  assert.equal(errors.length, 1, `expected one error, got:\n${show(errors)}`);
  assert.equal(errors[0]!.path, path, show(errors));
  assert.match(errors[0]!.message, re);
}

function hasError(text: string, path: string, re: RegExp): void {
  const { errors } = run(text);
  assert.ok(errors.some((e) => e.path === path && re.test(e.message)), `no error at ${path} matching ${re}; got:\n${show(errors)}`);
}

function oneWarning(text: string, path: string, re: RegExp): void {
  const { errors, warnings } = run(text);
  assert.deepEqual(errors, [], show(errors));
  assert.equal(warnings.length, 1, `expected one warning, got:\n${show(warnings)}`);
  assert.equal(warnings[0]!.path, path);
  assert.match(warnings[0]!.message, re);
}

function clean(text: string): void {
  const { errors, warnings } = run(text);
  assert.deepEqual([...errors, ...warnings], [], show([...errors, ...warnings]));
}

test('the base configurations used below are clean', () => {
  clean(MN + PEER_CN);
  clean(CN);
  clean(`${HA}  mobileNodes:\n    - { homeAddress: 2001:db8:1::100, authorisation: { ikeIdentity: mn123.ha.net } }\n`);
});

// ---- L03 -------------------------------------------------------------------------------

test('L03 a ULA home address is refused unless iro.allowUla, and then only warned about (OP-44)', () => {
  const ula = MN.replace('2001:db8:1::100', 'fd00:1::100').replace('2001:db8:1::2', 'fd00:1::2');
  oneError(ula, 'mn.homeAddress', /fd00:1::100 is a unique local address \(fc00::\/7\): a home address must be globally routable \(RFC 6275 §4\.6, DIGEST OP-44\); set iro\.allowUla: true to allow it/);
  oneWarning(`${ula}iro: { allowUla: true }\n`, 'mn.homeAddress', /unique local address .*\(allowed by iro\.allowUla\)/);
  oneError(`${CN}peers:\n  - { address: "fd00::5", kind: mn, mode: iro }\n`, 'peers[0].address', /a peer home address must be globally routable/);
  oneError(`${HA.replace(/2001:db8:1::/g, 'fd01::').replace('fd01::/64', 'fd01::/64')}  mobileNodes:\n    - { homeAddress: "fd01::100", authorisation: { ikeIdentity: u1 } }\n`, 'ha.mobileNodes[0].homeAddress', /unique local address/);
});

test('L03 a peer without a mode is refused: IRO App. I has no default', () => {
  oneError(`${MN}peers:\n  - { address: 2001:db8:c::10, kind: cn }\n`, 'peers[0].mode', /^expected the peer's mode: iro or tunnel-only \(IRO App\. I: there is no default\), found nothing/);
});

test('L03 haMode classic with IRO peers is refused unless allowMixedModes (OP-30); classic alone is a warning', () => {
  const classic = MN.replace('interfaces: [fa, fb]', 'interfaces: [fa, fb]\n  haMode: classic');
  oneError(classic + PEER_CN, 'mn.haMode', /haMode classic together with IRO peers \(peers\[0\] 2001:db8:c::10\) is refused.*OP-30.*IRO App\. I.*iro\.allowMixedModes: true/);
  oneWarning(`${classic}${PEER_CN}iro: { allowMixedModes: true }\n`, 'mn.haMode', /CONFIG_IPV6_MIP6.*IRO peers are mixed with it/);
  oneWarning(`${classic}peers:\n  - { address: 2001:db8:c::10, kind: cn, mode: tunnel-only }\n`, 'mn.haMode', /not part of v1 \(DIGEST OP-30\)$/);
});

// ---- G15 and the peer table ------------------------------------------------------------

test('G15 one peer configured as both iro and classic-ro is a config error', () => {
  oneError(`${MN}peers:\n  - { address: 2001:db8:c::10, kind: cn, mode: iro }\n  - { address: 2001:db8:c::10, kind: cn, mode: classic-ro }\n`, 'peers[1].mode', /peer 2001:db8:c::10 is configured both as iro \(peers\[0\]\) and as classic-ro \(peers\[1\]\): IRO and classic route optimisation must not be used with the same peer \(IRO App\. I, G15\)/);
});

test('G15 a peer listed twice (also in two spellings of one address) is an error', () => {
  oneError(`${MN}peers:\n  - { address: 2001:db8:c::10, kind: cn, mode: iro }\n  - { address: "2001:db8:c:0::10", kind: cn, mode: iro }\n`, 'peers[1].address', /listed more than once.*\(G15\)/);
});

test('OP-29 classic-ro alone is refused (return routability is out of scope)', () => {
  oneError(`${MN}peers:\n  - { address: 2001:db8:c::10, kind: cn, mode: classic-ro }\n`, 'peers[0].mode', /classic-ro .* is not supported \(DIGEST OP-29\)/);
});

test('peers: own address, the home agent, wrong kinds per role, duplicate names, tunnelFallback off the MN', () => {
  oneError(`${MN}peers:\n  - { address: 2001:db8:1::100, kind: mn, mode: iro }\n`, 'peers[0].address', /this node's own address/);
  oneError(`${MN}peers:\n  - { address: 2001:db8:1::2, kind: ha, mode: iro }\n`, 'peers[0].address', /configured by mn\.homeAgent/);
  oneError(`${CN}peers:\n  - { address: 2001:db8:1::100, kind: cn, mode: iro }\n`, 'peers[0].kind', /expected kind mn/);
  oneError(`${HA}  mobileNodes: [{ homeAddress: 2001:db8:1::100, authorisation: { ikeIdentity: u } }]\npeers:\n  - { address: 2001:db8:c::10, kind: mn, mode: iro }\n`, 'peers[0]', /ha\.mobileNodes/);
  oneError(`${MN}peers:\n  - { name: a, address: 2001:db8:c::10, kind: cn, mode: iro }\n  - { name: a, address: 2001:db8:c::11, kind: cn, mode: iro }\n`, 'peers[1].name', /already used by peers\[0\]/);
  oneWarning(`${CN}peers:\n  - { address: 2001:db8:1::100, kind: mn, mode: iro, tunnelFallback: deny }\n`, 'peers[0].tunnelFallback', /only a mobile node/);
  oneError(`${MN}peers:\n  - { name: HoA, address: 2001:db8:c::10, kind: cn, mode: iro }\n`, 'peers[0].name', /other than HoA/);
});

// ---- role sections -----------------------------------------------------------------------

test('the role needs its section; other roles\' sections are refused (an MN may have cn)', () => {
  oneError('role: mn\n', 'role', /role mn needs an mn section/);
  oneError(`${CN}ha: { address: 2001:db8:1::2, homeLink: home, homePrefix: 2001:db8:1::/64 }\n`, 'ha', /an ha section on a node whose role is cn/);
  clean(`${MN}cn: { allowAoto: false }\n`);
  oneError(`${MN}cn: { address: 2001:db8:c::10 }\n`, 'cn.address', /expected one of this mobile node's home addresses/);
});

test('RFC 6275 §4.6: home, agent and peer addresses must be unicast routable', () => {
  oneError(MN.replace('2001:db8:1::100', 'fe80::100'), 'mn.homeAddress', /unicast routable home address .* a link-local address/);
  hasError(MN.replace('2001:db8:1::100', 'ff02::1'), 'mn.homeAddress', /a multicast address/);
  hasError(MN.replace('2001:db8:1::2', '::1'), 'mn.homeAgent', /the loopback address/);
  oneError(`${CN}peers:\n  - { address: "::ffff:192.0.2.1", kind: mn, mode: iro }\n`, 'peers[0].address', /IPv4-mapped/);
  hasError(CN.replace('2001:db8:c::10', '"::"'), 'cn.address', /the unspecified address/);
});

test('MN: home addresses inside the home prefix, one form only, distinct, not the agent; tunnel and lifetimes', () => {
  oneError(MN.replace('homePrefixLength', 'x').replace('2001:db8:1::100', '2001:db8:1:1::100'), 'mn.homeAddress', /home prefix 2001:db8:1::\/64/);
  clean(MN.replace('2001:db8:1::100', '2001:db8:1:1::100').replace('interfaces', 'homePrefixLength: 48\n  interfaces'));
  oneError(MN.replace('homeAddress: 2001:db8:1::100', 'homeAddress: 2001:db8:1::100\n  homeAddresses: [2001:db8:1::101]'), 'mn.homeAddresses', /either homeAddress or homeAddresses/);
  oneError(MN.replace('homeAddress: 2001:db8:1::100', 'homeAddresses: [2001:db8:1::100, 2001:db8:1::100]'), 'mn.homeAddresses[1]', /listed twice/);
  oneError(MN.replace('  homeAddress: 2001:db8:1::100\n', ''), 'mn', /expected homeAddress/);
  oneError(MN.replace('2001:db8:1::100', '2001:db8:1::2'), 'mn.homeAddress', /is the home agent's address/);
  oneError(`${MN}  tunnel: { name: fa }\n`, 'mn.tunnel.name', /also listed in mn\.interfaces/);
  oneError(`${MN}  tunnel: { table: 254 }\n`, 'mn.tunnel.table', /found 254 \(Linux's main table\)/);
  oneWarning(`${MN}  lifetimes: { correspondent: 1801 }\n`, 'mn.lifetimes.correspondent', /the peer sees 1800 s/);
  oneError(MN.replace('interfaces: [fa, fb]', 'interfaces: [fa, fa]'), 'mn.interfaces[1]', /listed twice/);
});

test('CN: interfaces, positive timers, proof caps, HoA tests, BRR timing', () => {
  oneError(CN.replace('  interfaces: [cn]\n', ''), 'cn.interfaces', /at least one interface/);
  oneError(`${CN}  aotcTtl: 0\n`, 'cn.aotcTtl', /positive duration/);
  oneError(`${CN}  proofsPerMn: 20\n  maxProofs: 10\n`, 'cn.maxProofs', /at least proofsPerMn \(20\), found 10/);
  oneError(`${CN}  hoaTest: { enabled: true, interval: 0 }\n`, 'cn.hoaTest.interval', /positive interval/);
  oneWarning(`${CN}  brrBeforeExpiry: 1h\n`, 'cn.brrBeforeExpiry', /not shorter than cn\.maxLifetime/);
  oneError(`${CN}  hoaTest: { onFail: drop }\n`, 'cn.hoaTest.onFail', /expected one of keep \| dropBinding, found "drop"/);
});

test('HA: its address and mobile nodes in the home prefix, one entry per HoA, mode mixing, authorisation, OP-43', () => {
  const mn = (extra = '') => `  mobileNodes:\n    - { homeAddress: 2001:db8:1::100, authorisation: { ikeIdentity: u1 }${extra} }\n`;
  oneError(`${HA.replace('address: 2001:db8:1::2', 'address: 2001:db8:9::2')}${mn()}`, 'ha.address', /expected an address in ha\.homePrefix 2001:db8:1::\/64/);
  oneError(`${HA}  mobileNodes:\n    - { homeAddress: 2001:db8:5::100, authorisation: { ikeIdentity: u1 } }\n`, 'ha.mobileNodes[0].homeAddress', /in ha\.homePrefix/);
  oneError(`${HA}${mn()}    - { homeAddress: 2001:db8:1::100, authorisation: { ikeIdentity: u2 } }\n`, 'ha.mobileNodes[1].homeAddress', /listed twice/);
  oneError(`${HA}${mn()}    - { homeAddress: 2001:db8:1::101, mode: classic, authorisation: { ikeIdentity: u2 } }\n`, 'ha.mobileNodes[1].mode', /classic mode next to IRO mobile nodes is refused/);
  oneWarning(`${HA}${mn(', mode: classic')}`, 'ha.mobileNodes[0].mode', /CONFIG_IPV6_MIP6/);
  oneError(`${HA}  mobileNodes:\n    - { homeAddress: 2001:db8:1::100 }\n`, 'ha.mobileNodes[0]', /expected authorisation for mobile node 2001:db8:1::100.*\[HAIPSEC\] P9/);
  oneError(`${HA}  mobileNodes:\n    - { homeAddress: 2001:db8:1::100, authorisation: { sas: [x], ikeIdentity: u } }\n`, 'ha.mobileNodes[0].authorisation', /either sas .* or ikeIdentity/);
  oneError(`${HA}  mobileNodes:\n    - { homeAddress: 2001:db8:1::100, authorisation: {} }\n`, 'ha.mobileNodes[0].authorisation', /expected sas .* or ikeIdentity/);
});

// ---- iro and kernel sections -------------------------------------------------------------

test('OP-10 the mark mask is one non-empty contiguous run of bits', () => {
  oneError(`${CN}iro: { markMask: 0x00f0f000 }\n`, 'iro.markMask', /one contiguous run of bits .* found 0x00f0f000/);
  oneError(`${CN}iro: { markMask: 0 }\n`, 'iro.markMask', /found 0x00000000/);
  clean(`${CN}iro: { markMask: 0x0000ff00 }\n`);
});

test('OP-1/OP-2 MH type codes: RFC 6275 types and duplicates refused, IANA collisions warned', () => {
  oneError(`${CN}iro: { mhTypes: { aoto: 5 } }\n`, 'iro.mhTypes.aoto', /RFC 6275 type "Binding Update"/);
  oneError(`${CN}iro: { mhTypes: { aotc: 30 } }\n`, 'iro.mhTypes.aotc', /aotc and mhType\.aoto are both 30/);
  oneError(`${CN}iro: { nonceOptionType: 3 }\n`, 'iro.nonceOptionType', /RFC 6275 mobility option type/);
  oneWarning(`${CN}iro: { mhTypes: { aoto: 16 } }\n`, 'iro.mhTypes.aoto', /aoto=16 is assigned by IANA to "Binding Revocation"/);
});

test('OP-47 the owned reqid range: non-zero base, inside 32 bits, large enough for the SAs', () => {
  oneError(`${CN}iro: { ownership: { reqidBase: 0 } }\n`, 'iro.ownership.reqidBase', /non-zero base/);
  oneError(`${CN}iro: { ownership: { reqidBase: 0xffffff00, reqidCount: 512 } }\n`, 'iro.ownership.reqidCount', /goes past 0xffffffff/);
  const two = `${MN}${PEER_CN}ipsec:\n  sas:\n${sa('name: a, spi: 0x2001, src: HoA, dst: server')}${sa('name: b, spi: 0x2002, src: server, dst: HoA')}`;
  oneError(`${two}iro: { ownership: { reqidCount: 1 } }\n`, 'iro.ownership.reqidCount', /2 SAs are configured but the owned range holds 1 reqids/);
  oneError(two.replace('src: HoA, dst: server', 'src: HoA, dst: server, reqid: 7'), 'ipsec.sas[0].reqid', /expected a reqid inside iro\.ownership \(448790528-448856063\).*found 7/);
});

test('kernel: pushing is through XFRM only (D11); promiscuous PF_KEY needs PF_KEY', () => {
  oneError(`${CN}kernel: { push: pfkey }\n`, 'kernel.push', /XFRM only.*128-bit hmac\(sha256\) ICV/);
  oneError(`${CN}kernel: { pfkey: off, pfkeyPromiscuous: true }\n`, 'kernel.pfkeyPromiscuous', /needs PF_KEY/);
});

// ---- static SAs ---------------------------------------------------------------------------

const IPSEC = `${MN}${PEER_CN}ipsec:\n  sas:\n`;

test('IRO App. E: NULL encryption without authentication is refused; integrity is always required', () => {
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', 'enc: { alg: ecb(cipher_null) }'), 'ipsec.sas[0]', /ecb\(cipher_null\) without authentication is forbidden: NULL encryption and NULL authentication must not be used together \(IRO App\. E/);
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', `enc: { alg: cbc(aes), key: "${hex(16)}" }`), 'ipsec.sas[0]', /expected auth: every SA needs non-null authentication \(RFC 6275 §5\.1/);
  clean(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', `auth: { alg: hmac(sha1), key: "${hex(20)}" }, enc: { alg: ecb(cipher_null) }`));
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', `auth: { alg: hmac(sha1), key: "${hex(20)}" }, enc: { alg: ecb(cipher_null), key: "00" }`), 'ipsec.sas[0].enc.key', /takes no key/);
});

test('algorithm combinations: AH, ESP without enc, aead alone, allowed names only', () => {
  oneError(IPSEC + sa('name: a, proto: ah, spi: 0x2001, src: HoA, dst: server'), 'ipsec.sas[0].enc', /AH authenticates only: remove enc/);
  clean(IPSEC + sa('name: a, proto: ah, spi: 0x2001, src: HoA, dst: server', `auth: { alg: hmac(sha512), key: "${hex(64)}" }`));
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', `auth: { alg: hmac(sha256), key: "${hex(32)}" }`), 'ipsec.sas[0]', /expected enc \(cbc\(aes\), or ecb\(cipher_null\) for integrity only\)/);
  clean(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', `aead: { alg: rfc4106(gcm(aes)), key: "${hex(20)}" }`));
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', `aead: { alg: rfc4106(gcm(aes)), key: "${hex(20)}" }, auth: { alg: hmac(sha256), key: "${hex(32)}" }`), 'ipsec.sas[0].auth', /aead already authenticates/);
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', `auth: { alg: hmac(md5), key: "${hex(16)}" }, enc: { alg: cbc(aes), key: "${hex(16)}" }`), 'ipsec.sas[0].auth.alg', /expected one of hmac\(sha1\) \| hmac\(sha256\) \| hmac\(sha512\), found "hmac\(md5\)"/);
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', `auth: { alg: hmac(sha256), key: "${hex(32)}", truncBits: 64 }, enc: { alg: cbc(aes), key: "${hex(16)}" }`), 'ipsec.sas[0].auth.truncBits', /multiple of 8 from 96 to 256 bits \(default 128\), found 64/);
  oneWarning(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server, mode: tunnel', `auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: ecb(cipher_null) }`), 'ipsec.sas[0].enc', /clear text/);
});

test('key lengths are checked per algorithm, and the message shows bits, never the key', () => {
  const k = hex(24);
  const { errors } = run(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', `auth: { alg: hmac(sha256), key: "${k}" }, enc: { alg: cbc(aes), key: "${hex(17)}" }`));
  assert.deepEqual(errors.map((e) => `${e.path}: ${e.message}`), [
    'ipsec.sas[0].auth.key: hmac(sha256) needs a 256-bit key; the inline key holds 192 bits',
    'ipsec.sas[0].enc.key: cbc(aes) needs a key of 128, 192, 256 bits; the inline key holds 136 bits',
  ]);
  assert.ok(!JSON.stringify(errors).includes(k));
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', 'auth: { alg: hmac(sha256), key: "abc" }, enc: { alg: cbc(aes) }'), 'ipsec.sas[0].auth.key', /even number of hex digits.*not shown\), found a value that is not shown/);
  hasError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', `auth: { alg: hmac(sha256), key: "${hex(32)}", keyFile: k }, enc: { alg: cbc(aes), key: "${hex(16)}" }`), 'ipsec.sas[0].auth.key', /either key \(inline hex\) or keyFile, not both/);
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server', `auth: { alg: hmac(sha256) }, enc: { alg: cbc(aes), key: "${hex(16)}" }`), 'ipsec.sas[0].auth', /hmac\(sha256\) needs a key: give keyFile \(recommended\) or key/);
});

test('SA identities: SPI range, unique names, unique (destination, protocol, SPI); other protocols may share', () => {
  oneError(IPSEC + sa('name: a, spi: 255, src: HoA, dst: server'), 'ipsec.sas[0].spi', /SPI of 256-4294967295.*found 255/);
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server') + sa('name: a, spi: 0x2002, src: HoA, dst: server'), 'ipsec.sas[1].name', /SA name a is already used at ipsec\.sas\[0\]/);
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server') + sa('name: b, spi: 0x2001, src: HoA, dst: server'), 'ipsec.sas[1].spi', /SPI 0x2001 \(esp, destination 2001:db8:c::10\) is already used by SA a/);
  clean(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server') + sa('name: b, spi: 0x2001, src: server, dst: HoA'));
  clean(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server') + sa('name: b, proto: ah, spi: 0x2001, src: HoA, dst: server', `auth: { alg: hmac(sha256), key: "${hex(32)}" }`));
});

test('SA selectors: type only with MH/ICMPv6, class consistent, transport selectors contain the endpoints', () => {
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server, selector: { proto: udp, type: 5 }'), 'ipsec.sas[0].selector.type', /narrows MH \(proto mh\) or ICMPv6 selectors only/);
  clean(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server, selector: { proto: mh, type: 5 }'));
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server, class: data, selector: { proto: mh }'), 'ipsec.sas[0].class', /expected class mh for a selector with proto 135, found data/);
  clean(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server, class: mh'));
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server, selector: { src: "2001:db8:9::/64" }'), 'ipsec.sas[0].selector.src', /contains 2001:db8:1::100, found 2001:db8:9::\/64/);
  clean(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server, mode: tunnel, selector: { src: HoA/128, dst: any }'));
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: server, lifetime: { soft: 1h, hard: 30m }'), 'ipsec.sas[0].lifetime.soft', /shorter than the hard one \(1800 s\), found 3600 s/);
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: "ff02::1"'), 'ipsec.sas[0].dst', /expected a unicast address as the SA's destination, found ff02::1: a multicast address/);
  oneWarning(IPSEC + sa('name: a, spi: 0x2001, src: "2001:db8:c::11", dst: server'), 'ipsec.sas[0]', /neither end of SA a .* is an address of this node \(2001:db8:1::100\)/);
});

test('names: HoA, HA and peer names resolve; undefined names are errors that say what exists', () => {
  const { config } = loadConfigText(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: HA, selector: { proto: mh }'), { file: 't.yaml' });
  assert.equal(config.ipsec.sas[0]!.src, '2001:db8:1::100');
  assert.equal(config.ipsec.sas[0]!.dst, '2001:db8:1::2');
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: nosuch'), 'ipsec.sas[0].dst', /no address is named nosuch \(names here: HoA, HoA1, HA, server\)/);
  oneError(`${CN}ipsec:\n  sas:\n${sa('name: a, spi: 0x2001, src: CN, dst: HoA')}`, 'ipsec.sas[0].dst', /the name HoA is not defined: HoA names the mobile node's home addresses .* this node's role is cn/);
  oneError(IPSEC + sa('name: a, spi: 0x2001, src: HoA, dst: CN'), 'ipsec.sas[0].dst', /the name CN is not defined/);
});

// ---- policies -----------------------------------------------------------------------------

const TWO_SAS = IPSEC + sa('name: mh, spi: 0x2001, src: HoA, dst: server, selector: { proto: mh }') + sa('name: data, spi: 0x2003, src: HoA, dst: server');

test('policies: the SA exists, admits what the policy selects, and no two policies are indistinguishable', () => {
  clean(`${TWO_SAS}  policies:\n    - { dir: out, src: HoA, dst: server, proto: mh, sa: mh }\n    - { dir: out, src: HoA, dst: server, sa: data, priority: 1100 }\n`);
  oneError(`${TWO_SAS}  policies:\n    - { dir: out, src: HoA, dst: server, sa: mh }\n`, 'ipsec.policies[0].sa', /SA mh \(selector .* proto 135\) would refuse packets this policy .* gives it: proto any is wider than the SA's proto 135/);
  oneError(`${TWO_SAS}  policies:\n    - { dir: out, src: any, dst: server, sa: data }\n`, 'ipsec.policies[0].sa', /source ::\/0 is not inside the SA's 2001:db8:1::100\/128/);
  oneError(`${TWO_SAS}  policies:\n    - { dir: out, src: HoA, dst: server, proto: mh, sa: mh }\n    - { dir: out, src: HoA/128, dst: 2001:db8:c::10/128, proto: mh, sa: data }\n`, 'ipsec.policies[1]', /same direction and selector .* as ipsec\.policies\[0\]/);
  oneError(`${TWO_SAS}  policies:\n    - { dir: out, src: HoA, dst: server, proto: mh, sa: mh }\n    - { dir: out, src: HoA, dst: server, sa: data }\n`, 'ipsec.policies[1].priority', /overlaps ipsec\.policies\[0\] \(direction out, priority 1000\) with a different SA/);
  oneError(`${TWO_SAS}  policies:\n    - { dir: out, src: HoA, dst: server, proto: udp, type: 3, sa: data }\n`, 'ipsec.policies[0].type', /narrows MH/);
  oneWarning(`${TWO_SAS}  policies:\n    - { dir: in, src: HoA, dst: server, proto: mh, sa: mh }\n`, 'ipsec.policies[0].dir', /an in policy whose SA mh ends at 2001:db8:c::10, which is not an address of this node/);
  oneError(`${TWO_SAS}  policies:\n    - { dir: sideways, src: HoA, dst: server, sa: mh }\n`, 'ipsec.policies[0].dir', /expected one of in \| out \| fwd, found "sideways"/);
});

// ---- the [HAIPSEC] profile's placement --------------------------------------------------

const PAIR = () => `{ toHa: { spi: 0x1001, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: cbc(aes), key: "${hex(16)}" } }, toMn: { spi: 0x1002, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: cbc(aes), key: "${hex(16)}" } } }`;

test('haIpsecProfile: MN or HA only, for one of the node\'s home addresses / mobile nodes, with this HA', () => {
  clean(`${MN}haIpsecProfile: { bu: ${PAIR()} }\n`);
  oneError(`${CN}haIpsecProfile: { bu: ${PAIR()} }\n`, 'haIpsecProfile', /belongs in the configuration of a mobile node or a home agent/);
  oneError(`${MN}haIpsecProfile: { homeAddress: 2001:db8:1::101, bu: ${PAIR()} }\n`, 'haIpsecProfile.homeAddress', /expected one of this mobile node's home addresses \(2001:db8:1::100\), found 2001:db8:1::101/);
  oneError(`${MN}haIpsecProfile: { homeAgent: 2001:db8:1::3, bu: ${PAIR()} }\n`, 'haIpsecProfile.homeAgent', /expected the home agent of mn\.homeAgent/);
  hasError(`${HA}  mobileNodes: [{ homeAddress: 2001:db8:1::100 }]\nhaIpsecProfile: [{ bu: ${PAIR()} }]\n`, 'haIpsecProfile[0]', /expected homeAddress: on a home agent/);
  hasError(`${HA}  mobileNodes: [{ homeAddress: 2001:db8:1::100 }]\nhaIpsecProfile: [{ homeAddress: 2001:db8:1::101, bu: ${PAIR()} }]\n`, 'haIpsecProfile[0].homeAddress', /one of ha\.mobileNodes, found 2001:db8:1::101/);
  oneError(`${MN}haIpsecProfile: { bu: ${PAIR()}, rr: { toHa: { spi: 0x1003, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: ecb(cipher_null) } }, toMn: { spi: 0x1004, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: cbc(aes), key: "${hex(16)}" } } } }\n`, 'haIpsecProfile.rr.toHa.enc', /non-null encryption \(\[HAIPSEC\] I2\)/);
  oneError(`${MN}haIpsecProfile: { bu: ${PAIR()}, bogus: 1 }\n`, 'haIpsecProfile.bogus', /unknown key bogus/);
});
