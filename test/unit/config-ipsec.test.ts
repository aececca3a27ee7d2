// From the configuration to the pusher and the engine: toDesiredIpsec is deterministic (same
// reqids on every load, whatever the order of the file), every policy template carries its SA's
// reqid inside the owned range (OP-47), and toStaticClasses/toPeers give the engine what it needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { assignReqids, loadConfig, loadConfigText, ownershipOf, toDesiredIpsec, toEngineAddresses, toMhCodecInput, toPeers, toStaticClasses, tunnelFallbackOf, type NodeConfig } from '../../src/config/index.ts';
import { ownsReqid, type DesiredIpsec } from '../../src/ipsec/desired.ts';
import { configFixture, exampleFixture } from '../lib/config-fixture.ts';

function loadExampleText(text: string, name = 'mn'): { config: NodeConfig; cleanup: () => void } {
  const f = configFixture(text, { tag: name });
  return { config: loadConfig(f.path).config, cleanup: f.cleanup };
}

/** Reqid by SA identity, and every policy's (selector -> template) in comparable form. */
function shape(d: DesiredIpsec) {
  return {
    sas: Object.fromEntries(d.sas.map((s) => [`${s.proto}/${s.spi}/${s.daddr}`, s.reqid])),
    policies: d.policies.map((p) => JSON.stringify([p.dir, p.selector, p.priority, p.templates])).sort(),
  };
}

function checkConsistent(c: NodeConfig, d: DesiredIpsec): void {
  const own = ownershipOf(c);
  const byName = new Map(c.ipsec.sas.map((s, i) => [s.name, d.sas[i]!]));
  assert.equal(new Set(d.sas.map((s) => s.reqid)).size, d.sas.length, 'one reqid per SA');
  for (const s of d.sas) assert.ok(ownsReqid(own, s.reqid), `reqid ${s.reqid} in the owned range`);
  c.ipsec.policies.forEach((p, i) => {
    const sa = byName.get(p.sa)!;
    const t = d.policies[i]!.templates;
    assert.equal(t.length, 1);
    assert.equal(t[0]!.reqid, sa.reqid, `policy ${i} template reqid = SA ${p.sa} reqid`);
    assert.equal(t[0]!.proto, sa.proto);
    assert.equal(t[0]!.mode, sa.mode);
  });
}

test('OP-47 toDesiredIpsec: reqids in the owned range, one per SA, and each policy template carries its SA\'s reqid', () => {
  for (const name of ['mn', 'cn', 'ha'] as const) {
    const f = exampleFixture(name);
    try {
      const { config } = loadConfig(f.path);
      checkConsistent(config, toDesiredIpsec(config));
    } finally {
      f.cleanup();
    }
  }
});

test('OP-47 toDesiredIpsec is deterministic: loading again, or reordering the file, yields the same reqids', () => {
  const text = readFileSync('deploy/examples/mn.yaml', 'utf8');
  const a = loadExampleText(text);
  const b = loadExampleText(text);
  const doc = parse(text) as { ipsec: { sas: unknown[]; policies: unknown[] } };
  doc.ipsec.sas.reverse();
  doc.ipsec.policies.reverse();
  const r = loadExampleText(stringify(doc));
  try {
    const da = toDesiredIpsec(a.config);
    assert.deepEqual(shape(toDesiredIpsec(a.config)), shape(da), 'same config object twice');
    assert.deepEqual(shape(toDesiredIpsec(b.config)), shape(da), 'loaded again');
    assert.deepEqual(shape(toDesiredIpsec(r.config)), shape(da), 'SAs and policies in reverse order');
    checkConsistent(r.config, toDesiredIpsec(r.config));
  } finally {
    a.cleanup();
    b.cleanup();
    r.cleanup();
  }
});

test('the same SA gets the same reqid on both nodes of a pair (MN and CN examples)', () => {
  const load = (n: 'mn' | 'cn') => {
    const f = exampleFixture(n);
    try {
      return shape(toDesiredIpsec(loadConfig(f.path).config)).sas;
    } finally {
      f.cleanup();
    }
  };
  const mn = load('mn');
  for (const [id, reqid] of Object.entries(load('cn'))) assert.equal(mn[id], reqid, id);
});

test('adding an SA leaves the other reqids alone; explicit reqids are kept and avoided', () => {
  const own = { reqidMin: 1000, reqidMax: 1999 };
  const sas = [0x2001, 0x2002, 0x2003].map((spi, i) => ({ name: `s${i}`, proto: 'esp' as const, spi, dst: '2001:db8::1' }));
  const before = assignReqids(sas, own);
  const after = assignReqids([...sas, { name: 'new', proto: 'esp', spi: 0x2004, dst: '2001:db8::1' }], own);
  for (const s of sas) assert.equal(after.get(s.name), before.get(s.name));
  const taken = before.get('s1')!;
  const withExplicit = assignReqids([...sas.filter((s) => s.name !== 's1'), { name: 'x', proto: 'esp', spi: 9999, dst: '2001:db8::9', reqid: taken }], own);
  assert.equal(withExplicit.get('x'), taken);
  assert.equal(new Set(withExplicit.values()).size, 3);
  // a full range: every SA still gets a distinct reqid
  const tiny = { reqidMin: 50, reqidMax: 52 };
  assert.deepEqual([...assignReqids(sas, tiny).values()].sort(), [50, 51, 52]);
  assert.throws(() => assignReqids([...sas, { name: 'z', proto: 'ah', spi: 1, dst: '::1' }], tiny), /4 SAs need reqids but the owned range holds 3/);
  assert.throws(() => assignReqids([{ name: 'e', proto: 'esp', spi: 300, dst: '::1', reqid: 7 }], tiny), /SA e: reqid 7 is outside the owned range 50-52/);
});

test('toDesiredIpsec with another ownership range assigns inside it', () => {
  const f = exampleFixture('mn');
  try {
    const { config } = loadConfig(f.path);
    const d = toDesiredIpsec(config, { reqidMin: 0x500000, reqidMax: 0x5000ff });
    for (const s of d.sas) assert.ok(s.reqid >= 0x500000 && s.reqid <= 0x5000ff);
    for (const p of d.policies) assert.ok(d.sas.some((s) => s.reqid === p.templates[0]!.reqid));
  } finally {
    f.cleanup();
  }
});

const hex = (n: number) => randomBytes(n).toString('hex');
const MN = 'role: mn\nmn: { homeAddress: 2001:db8:1::100, homeAgent: 2001:db8:1::2, interfaces: [fa] }\npeers: [{ name: peer, address: 2001:db8:c::10, kind: cn, mode: iro }]\n';

test('PushSa fields: algorithms, truncation, AEAD, cipher_null, lifetimes; tunnel templates name their ends', () => {
  const text = `${MN}ipsec:
  sas:
    - { name: t, spi: 0x3001, src: HoA, dst: peer, mode: tunnel, selector: { src: HoA/128, dst: any }, auth: { alg: hmac(sha1), key: "${hex(20)}" }, enc: { alg: cbc(aes), key: "${hex(32)}" }, lifetime: { soft: 50m, hard: 1h } }
    - { name: g, spi: 0x3002, src: peer, dst: HoA, aead: { alg: rfc4106(gcm(aes)), key: "${hex(36)}", icvBits: 96 } }
    - { name: n, spi: 0x3003, src: HoA, dst: peer, selector: { proto: udp }, auth: { alg: hmac(sha512), key: "${hex(64)}" }, enc: { alg: ecb(cipher_null) } }
  policies:
    - { dir: out, src: HoA, dst: any, sa: t }
    - { dir: in, src: peer, dst: HoA, sa: g }
    - { dir: out, src: HoA, dst: peer, proto: udp, sa: n, priority: 900 }
`;
  const { config } = loadConfigText(text, { file: 't.yaml' });
  const d = toDesiredIpsec(config);
  const [t, g, n] = d.sas;
  assert.deepEqual({ ...t, auth: undefined, crypt: undefined }, { proto: 'esp', spi: 0x3001, saddr: '2001:db8:1::100', daddr: '2001:db8:c::10', mode: 'tunnel', reqid: t!.reqid, selector: { src: '2001:db8:1::100', srcLen: 128, dst: '::', dstLen: 0, proto: 0 }, lifetime: { softSeconds: 3000, hardSeconds: 3600 }, auth: undefined, crypt: undefined });
  assert.equal(t!.auth!.name, 'hmac(sha1)');
  assert.equal(t!.auth!.truncBits, 96);
  assert.equal(t!.crypt!.key.bits, 256);
  assert.deepEqual({ name: g!.aead!.name, icv: g!.aead!.icvBits, bits: g!.aead!.key.bits }, { name: 'rfc4106(gcm(aes))', icv: 96, bits: 288 });
  assert.equal(g!.auth, undefined);
  assert.equal(n!.crypt!.name, 'ecb(cipher_null)');
  assert.equal(n!.crypt!.key.bits, 0);
  assert.equal(n!.auth!.truncBits, 256);
  assert.deepEqual(d.policies[0]!.templates, [{ proto: 'esp', reqid: t!.reqid, mode: 'tunnel', saddr: '2001:db8:1::100', daddr: '2001:db8:c::10' }]);
  assert.deepEqual(d.policies[1]!.templates, [{ proto: 'esp', reqid: g!.reqid, mode: 'transport' }]);
  assert.deepEqual(d.policies[2], { dir: 'out', selector: { src: '2001:db8:1::100', srcLen: 128, dst: '2001:db8:c::10', dstLen: 128, proto: 17 }, priority: 900, templates: [{ proto: 'esp', reqid: n!.reqid, mode: 'transport' }] });
});

test('toStaticClasses: transport SAs only, class from the selector or the hint (OP-16)', () => {
  const text = `${MN}ipsec:
  sas:
    - { name: mh, spi: 0x2001, src: HoA, dst: peer, selector: { proto: mh }, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: ecb(cipher_null) } }
    - { name: hinted, spi: 0x2002, src: peer, dst: HoA, class: mh, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: ecb(cipher_null) } }
    - { name: data, spi: 0x2003, src: HoA, dst: peer, selector: { proto: tcp }, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: ecb(cipher_null) } }
    - { name: tun, spi: 0x2004, src: HoA, dst: HA, mode: tunnel, selector: { dst: any }, auth: { alg: hmac(sha256), key: "${hex(32)}" }, enc: { alg: cbc(aes), key: "${hex(16)}" } }
`;
  const { config } = loadConfigText(text, { file: 't.yaml' });
  assert.deepEqual(toStaticClasses(config), [
    { spi: 0x2001, proto: 'esp', daddr: '2001:db8:c::10', cls: 'mh' },
    { spi: 0x2002, proto: 'esp', daddr: '2001:db8:1::100', cls: 'mh' },
    { spi: 0x2003, proto: 'esp', daddr: '2001:db8:c::10', cls: 'data' },
  ]);
});

test('toPeers adds the implicit peers (the HA on an MN, the mobile nodes on an HA); engine addresses; codec input; tunnelFallback', () => {
  const m = loadConfigText(
    `role: mn
mn: { homeAddress: 2001:db8:1::100, homeAgent: 2001:db8:1::2, interfaces: [fa], haMode: classic, tunnelFallback: deny }
peers:
  - { address: 2001:db8:c::10, kind: cn, mode: tunnel-only, tunnelFallback: allow }
  - { address: 2001:db8:c::11, kind: mn, mode: tunnel-only }
iro: { mhTypes: { aoto: 40 }, nonceOptionType: 99 }
`,
    { file: 'm.yaml' },
  ).config;
  assert.deepEqual(toPeers(m), [
    { address: '2001:db8:c::10', kind: 'cn', mode: 'tunnel-only' },
    { address: '2001:db8:c::11', kind: 'mn', mode: 'tunnel-only' },
    { address: '2001:db8:1::2', kind: 'ha', mode: 'tunnel-only' },
  ]);
  assert.deepEqual(toEngineAddresses(m), { hoas: ['2001:db8:1::100'], localAddrs: [] });
  assert.deepEqual(toMhCodecInput(m), { mhType: { aoto: 40, aotc: 31, aotr: 32, aots: 33 }, nonceOptType: 99 });
  assert.equal(tunnelFallbackOf(m, '2001:db8:c::10'), 'allow');
  assert.equal(tunnelFallbackOf(m, '2001:db8:c::11'), 'deny');
  const h = loadConfigText('role: ha\nha: { address: 2001:db8:1::2, homeLink: home, homePrefix: 2001:db8:1::/64, mobileNodes: [{ homeAddress: 2001:db8:1::100, authorisation: { ikeIdentity: a } }, { homeAddress: 2001:db8:1::101, mode: classic, authorisation: { ikeIdentity: b } }] }\niro: { allowMixedModes: true }\n', { file: 'h.yaml' }).config;
  assert.deepEqual(toPeers(h), [
    { address: '2001:db8:1::100', kind: 'mn', mode: 'iro' },
    { address: '2001:db8:1::101', kind: 'mn', mode: 'tunnel-only' },
  ]);
  assert.deepEqual(toEngineAddresses(h), { hoas: [], localAddrs: ['2001:db8:1::2'] });
  const c = loadConfigText('role: cn\ncn: { addresses: [2001:db8:c::10, 2001:db8:c::11], interfaces: [cn] }\n', { file: 'c.yaml' }).config;
  assert.deepEqual(toEngineAddresses(c), { hoas: [], localAddrs: ['2001:db8:c::10', '2001:db8:c::11'] });
});
