// The [HAIPSEC] §4.2 profile: its expansion for the MN and for the HA matches the draft's SPD and
// SAD tables (DIGEST §1.3.4) entry by entry, and the HA's authorisation table binds each home
// address to its own SAs or IKE identity (P9; I02 at the configuration level).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ConfigError, authorisedSas, isIkeAuthorised, loadConfigText, toDesiredIpsec, type NodeConfig } from '../../src/config/index.ts';
import { FIXTURE_KEYS, HA as FIX_HA, HOA as FIX_HOA } from '../lib/xfrm-fixtures.ts';

const HOA = '2001:db8:1::100';
const HA = '2001:db8:1::2';
const hex = (n: number) => randomBytes(n).toString('hex');
const dirSa = (spi: number) => `{ spi: ${spi}, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: cbc(aes), key: "${hex(16)}" } }`;
const PROFILE = (extra = '') => `haIpsecProfile:
  name: p
  homeAddress: ${HOA}
  bu: { toHa: ${dirSa(0x10a)}, toMn: ${dirSa(0x10b)} }
  rr: { toHa: ${dirSa(0x10c)}, toMn: ${dirSa(0x10d)} }
  mpd: { toHa: ${dirSa(0x10e)}, toMn: ${dirSa(0x10f)} }
  payload: { toHa: ${dirSa(0x110)}, toMn: ${dirSa(0x111)} }
${extra}`;
const MN_TEXT = `role: mn\nmn: { homeAddress: ${HOA}, homeAgent: ${HA}, interfaces: [fa] }\n`;
const HA_TEXT = (mobileNodes = `[{ homeAddress: ${HOA} }]`) => `role: ha\nha: { address: ${HA}, homeLink: home, homePrefix: 2001:db8:1::/64, mobileNodes: ${mobileNodes} }\n`;

// The draft's SAD (§4.2.1-§4.2.4), in its own terms: SAn(dir on the MN, spi, destination, mode): selectors.
const home_address_1 = HOA;
const home_agent_1 = HA;
const any = '::/0';
const SAD = [
  { sa: 'SA1', mnDir: 'OUT', spi: 0x10a, dest: home_agent_1, mode: 'transport', src: home_address_1, dst: home_agent_1, proto: 'MH' },
  { sa: 'SA2', mnDir: 'IN', spi: 0x10b, dest: home_address_1, mode: 'transport', src: home_agent_1, dst: home_address_1, proto: 'MH' },
  { sa: 'SA3', mnDir: 'OUT', spi: 0x10c, dest: home_agent_1, mode: 'tunnel', src: home_address_1, dst: any, proto: 'MH' },
  { sa: 'SA4', mnDir: 'IN', spi: 0x10d, dest: home_address_1, mode: 'tunnel', src: any, dst: home_address_1, proto: 'MH' },
  { sa: 'SA5', mnDir: 'OUT', spi: 0x10e, dest: home_agent_1, mode: 'transport', src: home_address_1, dst: home_agent_1, proto: 'ICMPv6' },
  { sa: 'SA6', mnDir: 'IN', spi: 0x10f, dest: home_address_1, mode: 'transport', src: home_agent_1, dst: home_address_1, proto: 'ICMPv6' },
  { sa: 'SA7', mnDir: 'OUT', spi: 0x110, dest: home_agent_1, mode: 'tunnel', src: home_address_1, dst: any, proto: 'X' },
  { sa: 'SA8', mnDir: 'IN', spi: 0x111, dest: home_address_1, mode: 'tunnel', src: any, dst: home_address_1, proto: 'X' },
] as const;
const PROTO = { MH: 135, ICMPv6: 58, X: 0 } as const;
const withLen = (a: string) => (a.includes('/') ? a : `${a}/128`);

function load(text: string): NodeConfig {
  return loadConfigText(text, { file: 't.yaml' }).config;
}

function sel(s: { src: string; srcLen: number; dst: string; dstLen: number; proto: number }) {
  return `${s.src}/${s.srcLen} ${s.dst}/${s.dstLen} ${s.proto}`;
}

for (const role of ['mn', 'ha'] as const) {
  test(`HAIPSEC §4.2 profile on the ${role.toUpperCase()}: SAs and policies match the draft's SAD and SPD tables (E01 at the config level)`, () => {
    const c = load(role === 'mn' ? MN_TEXT + PROFILE() : HA_TEXT() + PROFILE());
    assert.equal(c.ipsec.sas.length, 8);
    for (const row of SAD) {
      const sa = c.ipsec.sas.find((s) => s.name === `p.${row.sa}`);
      assert.ok(sa, row.sa);
      // SAD: SAn(dir, spi, destination, ESP, mode): selectors
      assert.equal(sa.spi, row.spi, `${row.sa} spi`);
      assert.equal(sa.proto, 'esp');
      assert.equal(sa.dst, row.dest, `${row.sa} destination`);
      assert.equal(sa.mode, row.mode, `${row.sa} mode`);
      assert.equal(sel(sa.selector), `${withLen(row.src)} ${withLen(row.dst)} ${PROTO[row.proto]}`, `${row.sa} selectors`);
      // SPD: IF <the SA's selectors> THEN USE SAn, in the direction the SA travels from this node
      const dir = role === 'mn' ? row.mnDir.toLowerCase() : row.mnDir === 'OUT' ? 'in' : 'out';
      const pols = c.ipsec.policies.filter((p) => p.sa === sa.name);
      const expectFwd = role === 'ha' && dir === 'in' && row.mode === 'tunnel';
      assert.deepEqual(pols.map((p) => p.dir).sort(), (expectFwd ? ['fwd', 'in'] : [dir]).sort(), `${row.sa} policy directions`);
      for (const p of pols) assert.equal(sel(p.selector), sel(sa.selector), `${row.sa} policy selector`);
    }
    // ordering: §4.2.1/§4.2.3 before §4.2.2 before §4.2.4 (lower XFRM priority first)
    const prio = (n: string) => c.ipsec.policies.find((p) => p.sa === `p.${n}`)!.priority;
    assert.ok(prio('SA1') < prio('SA3') && prio('SA5') < prio('SA3') && prio('SA3') < prio('SA7'));
  });
}

test('HAIPSEC §4.2 invariant: each SAn is the same SA on the MN and the HA, with mirrored policy directions', () => {
  const profile = PROFILE();
  const mn = load(MN_TEXT + profile);
  const ha = load(HA_TEXT() + profile);
  const dm = toDesiredIpsec(mn);
  const dh = toDesiredIpsec(ha);
  for (let i = 0; i < 8; i++) {
    const a = dm.sas.find((s) => s.spi === SAD[i]!.spi)!;
    const b = dh.sas.find((s) => s.spi === SAD[i]!.spi)!;
    assert.deepEqual({ ...a, auth: a.auth!.key.bits, crypt: a.crypt!.key.bits }, { ...b, auth: b.auth!.key.bits, crypt: b.crypt!.key.bits }, SAD[i]!.sa);
    assert.ok(a.auth!.key.equals(b.auth!.key) && a.crypt!.key.equals(b.crypt!.key), `${SAD[i]!.sa}: same keys`);
    const dirsM = dm.policies.filter((p) => p.templates[0]!.reqid === a.reqid).map((p) => p.dir);
    const dirsH = dh.policies.filter((p) => p.templates[0]!.reqid === b.reqid && p.dir !== 'fwd').map((p) => p.dir);
    assert.deepEqual(dirsH, dirsM.map((d) => (d === 'out' ? 'in' : 'out')), SAD[i]!.sa);
  }
  // tunnel templates name the tunnel's ends (HoA <-> HA until the CoA is known, OP-25)
  const sa7 = dm.sas.find((s) => s.spi === 0x110)!;
  assert.deepEqual(dm.policies.find((p) => p.templates[0]!.reqid === sa7.reqid)!.templates[0], { proto: 'esp', reqid: sa7.reqid, mode: 'tunnel', saddr: HOA, daddr: HA });
});

test('E01 the profile\'s SA1 is the SA of the iproute2 golden fixture (ESP transport HoA->HA, selector HoA/128->HA/128 proto 135)', () => {
  const text = `role: mn
mn: { homeAddress: ${FIX_HOA}, homeAgent: ${FIX_HA}, interfaces: [fa] }
iro: { ownership: { reqidBase: 100, reqidCount: 100 } }
haIpsecProfile:
  bu:
    toHa: { spi: 0x1001, reqid: 101, auth: { alg: hmac(sha256), key: "${FIXTURE_KEYS.k1Sha256}" }, enc: { alg: cbc(aes), key: "${FIXTURE_KEYS.e1Aes128}" } }
    toMn: { spi: 0x1002, reqid: 102, auth: { alg: hmac(sha256), key: "${FIXTURE_KEYS.k2Sha256}" }, enc: { alg: cbc(aes), key: "${FIXTURE_KEYS.e2Aes128}" } }
`;
  const d = toDesiredIpsec(load(text));
  const sa1 = d.sas.find((s) => s.spi === 0x1001)!;
  // `ip xfrm state add src HoA dst HA proto esp spi 0x1001 mode transport reqid 101 sel src HoA/128 dst HA/128 proto 135 auth-trunc 'hmac(sha256)' K1 128 enc 'cbc(aes)' E1`
  assert.deepEqual(
    { proto: sa1.proto, spi: sa1.spi, saddr: sa1.saddr, daddr: sa1.daddr, mode: sa1.mode, reqid: sa1.reqid, selector: sa1.selector, auth: [sa1.auth!.name, sa1.auth!.truncBits], crypt: sa1.crypt!.name },
    { proto: 'esp', spi: 0x1001, saddr: FIX_HOA, daddr: FIX_HA, mode: 'transport', reqid: 101, selector: { src: FIX_HOA, srcLen: 128, dst: FIX_HA, dstLen: 128, proto: 135 }, auth: ['hmac(sha256)', 128], crypt: 'cbc(aes)' },
  );
  assert.equal(`0x${sa1.auth!.key.expose().toString('hex')}`, FIXTURE_KEYS.k1Sha256);
  assert.equal(`0x${sa1.crypt!.key.expose().toString('hex')}`, FIXTURE_KEYS.e1Aes128);
  // `ip xfrm policy add dir out src HoA/128 dst HA/128 proto 135 tmpl proto esp mode transport reqid 101`
  assert.deepEqual(d.policies.find((p) => p.dir === 'out' && p.selector.proto === 135), { dir: 'out', selector: { src: FIX_HOA, srcLen: 128, dst: FIX_HA, dstLen: 128, proto: 135 }, priority: 100, templates: [{ proto: 'esp', reqid: 101, mode: 'transport' }] });
});

// ---- P9: the authorisation table ----------------------------------------------------------

function errors(text: string): string[] {
  try {
    loadConfigText(text, { file: 't.yaml' });
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

const HOA2 = '2001:db8:1::101';
const two = (spiBase: number, hoa: string, name: string) => `  - name: ${name}\n    homeAddress: ${hoa}\n    bu: { toHa: ${dirSa(spiBase)}, toMn: ${dirSa(spiBase + 1)} }\n`;

test('P9 without an explicit authorisation, a profile authorises its toHa SAs; each HoA\'s BUs are bound to its own SA', () => {
  const c = load(`${HA_TEXT(`[{ homeAddress: ${HOA} }, { homeAddress: ${HOA2} }]`)}haIpsecProfile:\n${two(0x100, HOA, 'a')}${two(0x200, HOA2, 'b')}`);
  assert.deepEqual(authorisedSas(c, HOA), ['a.SA1']);
  assert.deepEqual(authorisedSas(c, '2001:db8:1:0::101'), ['b.SA1']);
  const inBu = c.ipsec.policies.filter((p) => p.dir === 'in' && p.selector.proto === 135);
  assert.deepEqual(inBu.map((p) => [p.selector.src, p.sa]), [
    [HOA, 'a.SA1'],
    [HOA2, 'b.SA1'],
  ]);
});

test('P9 two mobile nodes cannot share an SPI at the HA (one SA identifies one home address)', () => {
  const e = errors(`${HA_TEXT(`[{ homeAddress: ${HOA} }, { homeAddress: ${HOA2} }]`)}haIpsecProfile:\n${two(0x100, HOA, 'a')}${two(0x100, HOA2, 'b')}`);
  assert.ok(e.some((x) => /^haIpsecProfile\[1\]\.bu\.toHa\.spi: SPI 0x100 \(esp, destination 2001:db8:1::2\) is already used by SA a\.SA1/.test(x)), e.join('\n'));
});

const STATIC_SAS = `ipsec:
  sas:
    - { name: sa1, spi: 0x100, src: ${HOA}, dst: HA, selector: { proto: mh }, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: cbc(aes), key: "${hex(16)}" } }
    - { name: sa1b, spi: 0x200, src: ${HOA2}, dst: HA, selector: { proto: mh }, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: cbc(aes), key: "${hex(16)}" } }
    - { name: sa2, spi: 0x101, src: HA, dst: ${HOA}, selector: { proto: mh }, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: cbc(aes), key: "${hex(16)}" } }
`;

test('P9 manual authorisation: the SAs exist, arrive at this HA from that HoA, belong to one HoA, and guard its BUs', () => {
  const mns = (a: string, b: string) => `[{ homeAddress: ${HOA}, authorisation: { sas: [${a}] } }, { homeAddress: ${HOA2}, authorisation: { sas: [${b}] } }]`;
  const policies = `  policies:\n    - { dir: in, src: ${HOA}, dst: HA, proto: mh, sa: sa1 }\n    - { dir: in, src: ${HOA2}, dst: HA, proto: mh, sa: sa1b }\n`;
  assert.deepEqual(errors(HA_TEXT(mns('sa1', 'sa1b')) + STATIC_SAS + policies), []);
  assert.deepEqual(errors(HA_TEXT(mns('nosa', 'sa1b')) + STATIC_SAS + policies), [
    'ha.mobileNodes[0].authorisation.sas: BUs from 2001:db8:1::100 are checked against ipsec.policies[0], whose SA sa1 is not authorised for this home address: another mobile node\'s SA could register it ([HAIPSEC] P9)',
    'ha.mobileNodes[0].authorisation.sas[0]: no SA named nosa',
  ]);
  assert.deepEqual(errors(HA_TEXT(mns('sa2', 'sa1b')) + STATIC_SAS + policies).slice(-1), [`ha.mobileNodes[0].authorisation.sas[0]: SA sa2 goes to ${HOA}, not to this home agent (${HA}): only SAs arriving here can carry this mobile node's BUs`]);
  assert.ok(errors(HA_TEXT(mns('sa1b', 'sa1b')) + STATIC_SAS + policies).includes(`ha.mobileNodes[1].authorisation.sas[0]: SA sa1b is already authorised for ${HOA}: one SA must identify one home address ([HAIPSEC] P9)`));
  assert.deepEqual(errors(HA_TEXT(mns('sa1', 'sa1b')) + STATIC_SAS + `  policies:\n    - { dir: in, src: ${HOA2}, dst: HA, proto: mh, sa: sa1b }\n`), [
    `ha.mobileNodes[0].authorisation.sas: no inbound policy protects BUs from ${HOA}: add one (dir in, src ${HOA}/128, dst ${HA}/128, proto mh) using sa1, or a haIpsecProfile for this home address ([HAIPSEC] P9, §4.2.1)`,
  ]);
  // a wider inbound policy consulted first lets another MN's SA carry this HoA's BUs
  const wide = `  policies:\n    - { dir: in, src: "2001:db8:1::/64", dst: HA, proto: mh, sa: sa1b, priority: 10 }\n    - { dir: in, src: ${HOA}, dst: HA, proto: mh, sa: sa1 }\n    - { dir: in, src: ${HOA2}, dst: HA, proto: mh, sa: sa1b }\n`;
  assert.ok(errors(HA_TEXT(mns('sa1', 'sa1b')) + STATIC_SAS.replace(`src: ${HOA2}, dst: HA, selector: { proto: mh }`, `src: ${HOA2}, dst: HA, selector: { src: "2001:db8:1::/64", proto: mh }`) + wide).some((x) => x.startsWith(`ha.mobileNodes[0].authorisation.sas: BUs from ${HOA} are checked against ipsec.policies[0], whose SA sa1b is not authorised`)));
});

test('I02 dynamic keying: the IKE identity table refuses a phase-1 identity for another MN\'s home address', () => {
  const c = load(HA_TEXT(`[{ homeAddress: ${HOA}, authorisation: { ikeIdentity: user_1 } }, { homeAddress: ${HOA2}, authorisation: { ikeIdentity: user_2 } }]`));
  assert.equal(isIkeAuthorised(c, HOA, 'user_1'), true);
  assert.equal(isIkeAuthorised(c, HOA, 'user_2'), false);
  assert.equal(isIkeAuthorised(c, HOA2, 'user_2'), true);
  assert.equal(isIkeAuthorised(c, '2001:db8:1::102', 'user_1'), false);
  assert.equal(isIkeAuthorised(c, 'not an address', 'user_1'), false);
  assert.deepEqual(authorisedSas(c, HOA), []);
});
