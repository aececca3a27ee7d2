// Loading node configurations: the example deployment loads cleanly, and broken files are
// reported as one ConfigError listing every problem as FILE:LINE:COL: path: expected, found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, loadConfigText, toPeers } from '../../src/config/index.ts';
import { exampleFixture } from '../lib/config-fixture.ts';

const FIX = 'test/fixtures/config';

function problems(file: string): string[] {
  const text = readFileSync(`${FIX}/${file}`, 'utf8');
  try {
    loadConfigText(text, { file: `${FIX}/${file}` });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.path}: ${i.message}`);
  }
  assert.fail(`${file} loaded without errors`);
}

for (const name of ['mn', 'cn', 'ha'] as const) {
  test(`the example ${name}.yaml loads without errors or warnings (keys created at test time, mode 0600)`, () => {
    const f = exampleFixture(name);
    try {
      const { config, warnings } = loadConfig(f.path);
      assert.deepEqual(warnings, []);
      assert.equal(config.role, name);
      assert.ok(config.ipsec.sas.length >= 4);
      for (const sa of config.ipsec.sas) {
        assert.ok(sa.auth?.key && sa.enc, `${sa.name} has its keys`);
        assert.equal(sa.auth.source, 'file');
      }
    } finally {
      f.cleanup();
    }
  });
}

test('the three examples describe one deployment: addresses of test/lib/topology/iro.ts, shared SA identities', () => {
  const [mn, cn, ha] = (['mn', 'cn', 'ha'] as const).map((n) => {
    const f = exampleFixture(n);
    try {
      return loadConfig(f.path).config;
    } finally {
      f.cleanup();
    }
  });
  assert.deepEqual(mn!.mn!.homeAddresses, ['2001:db8:1::100']);
  assert.equal(mn!.mn!.homeAgent, '2001:db8:1::2');
  assert.deepEqual(mn!.mn!.interfaces, ['fa', 'fb']);
  assert.deepEqual(cn!.cn!.addresses, ['2001:db8:c::10']);
  assert.equal(ha!.ha!.address, '2001:db8:1::2');
  assert.equal(`${ha!.ha!.homePrefix.addr}/${ha!.ha!.homePrefix.len}`, '2001:db8:1::/64');
  // each SA of one node exists on its peer with the same identity, addresses and selector
  const ident = (s: { proto: string; spi: number; src: string; dst: string; selector: unknown }) => JSON.stringify([s.proto, s.spi, s.src, s.dst, s.selector]);
  const mnSas = new Set(mn!.ipsec.sas.map(ident));
  for (const sa of [...cn!.ipsec.sas, ...ha!.ipsec.sas]) assert.ok(mnSas.has(ident(sa)), `${sa.name} matches an SA of the MN`);
  assert.equal(mn!.ipsec.sas.length, cn!.ipsec.sas.length + ha!.ipsec.sas.length);
  assert.deepEqual(toPeers(mn!).map((p) => [p.address, p.kind, p.mode]), [
    ['2001:db8:c::10', 'cn', 'iro'],
    ['2001:db8:1::2', 'ha', 'iro'],
  ]);
  assert.deepEqual(toPeers(cn!).map((p) => [p.address, p.kind, p.mode]), [['2001:db8:1::100', 'mn', 'iro']]);
  assert.deepEqual(toPeers(ha!).map((p) => [p.address, p.kind, p.mode]), [['2001:db8:1::100', 'mn', 'iro']]);
});

test('L03 schema errors: every problem of the file, each as FILE:LINE:COL: path: expected, found', () => {
  assert.deepEqual(problems('schema-errors.yaml'), [
    `${FIX}/schema-errors.yaml:4:3: mn.homeAdress: unknown key homeAdress (did you mean homeAddress?)`,
    `${FIX}/schema-errors.yaml:5:14: mn.homeAgent: expected an IPv6 address, found "2001:db8:1::zz"`,
    `${FIX}/schema-errors.yaml:7:11: mn.haMode: expected one of iro | classic, found "clasic"`,
    `${FIX}/schema-errors.yaml:9:11: mn.lifetimes.home: expected a lifetime of 4-262140 seconds (RFC 6275 §6.1.7), found 300000`,
    `${FIX}/schema-errors.yaml:11:5: peers[0].mode: expected the peer's mode: iro or tunnel-only (IRO App. I: there is no default), found nothing (the key is missing)`,
    `${FIX}/schema-errors.yaml:15:13: iro.markMask: expected a number, found "0xff"`,
  ]);
});

test('G15 and semantic errors: every problem of the file with its position and document path', () => {
  assert.deepEqual(problems('semantic-errors.yaml'), [
    `${FIX}/semantic-errors.yaml:4:16: mn.homeAddress: expected a home address in the home prefix 2001:db8:1::/64 (mn.homeAgent with mn.homePrefixLength 64), found 2001:db8:2::100: the home agent is on the home link, so they share its prefix`,
    `${FIX}/semantic-errors.yaml:9:16: peers[1].address: peer 2001:db8:c::10 is listed more than once (peers[0], peers[1], modes iro, tunnel-only): one entry per peer (G15)`,
    `${FIX}/semantic-errors.yaml:19:12: ipsec.sas[1].spi: SPI 0x2001 (esp, destination 2001:db8:c::10) is already used by SA a at ipsec.sas[0]: the kernel identifies an SA by destination, protocol and SPI`,
    `${FIX}/semantic-errors.yaml:25:54: ipsec.policies[0].sa: no SA named nosuch (known: a, b)`,
  ]);
});

test('YAML syntax errors carry the line and column and no source text', () => {
  const p = problems('yaml-syntax.yaml');
  assert.ok(p.length >= 1);
  for (const line of p) assert.match(line, new RegExp(`^${FIX}/yaml-syntax\\.yaml:4:\\d+: \\(yaml syntax\\): `));
});

test('a duplicate key is a YAML error at its line', () => {
  assert.throws(
    () => loadConfigText('role: mn\nrole: cn\n', { file: 'dup.yaml' }),
    (e: unknown) => e instanceof ConfigError && e.issues.length === 1 && e.issues[0]!.line === 2 && /unique/.test(e.issues[0]!.message),
  );
});

test('an empty file, a list, a missing role and a missing file are each one precise problem', () => {
  const one = (text: string) => {
    try {
      loadConfigText(text, { file: 'x.yaml' });
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.issues.map((i) => `${i.line}:${i.col}: ${i.path}: ${i.message}`);
    }
    return [];
  };
  assert.deepEqual(one(''), ['1:1: (document): expected a mapping with at least "role: mn | cn | ha", found an empty document']);
  assert.deepEqual(one('- a\n- b\n'), ['1:1: (document): expected a mapping with at least "role: mn | cn | ha", found a list']);
  assert.deepEqual(one('log: { level: info }\n'), ["1:1: role: expected the node's role: mn, cn or ha, found nothing (the key is missing)"]);
  assert.deepEqual(one('role: router\n'), ["1:7: role: expected the node's role: mn, cn or ha, found \"router\""]);
  assert.throws(() => loadConfig('/nonexistent/iro-ctl.yaml'), /\/nonexistent\/iro-ctl\.yaml:1:1: \(document\): cannot read the configuration: ENOENT/);
});

test('unknown keys name the accepted ones when no key is close', () => {
  assert.throws(
    () => loadConfigText('role: cn\ncn:\n  address: 2001:db8:c::10\n  interfaces: [cn]\n  zzz: 1\n', { file: 'x.yaml' }),
    (e: unknown) => e instanceof ConfigError && /^x\.yaml:5:3: cn\.zzz: unknown key zzz \(expected one of: address, addresses, interfaces, allowAoto,/.test(e.message.split('\n')[1]!.trim()),
  );
});

test('defaults are filled in (DIGEST OP-1, OP-2, OP-4, OP-5, OP-10, OP-18, OP-22, OP-26, OP-44, OP-47)', () => {
  const { config: c } = loadConfigText('role: cn\ncn: { address: 2001:db8:c::10, interfaces: [cn] }\n', { file: 'x.yaml' });
  assert.deepEqual(c.iro.mhTypes, { aoto: 30, aotc: 31, aotr: 32, aots: 33 });
  assert.equal(c.iro.nonceOptionType, 88);
  assert.equal(c.iro.markMask, 0x00ff0000);
  assert.equal(c.iro.missPolicy, 'drop');
  assert.deepEqual(c.iro.ownership, { reqidBase: 0x1ac00000, reqidCount: 65536 });
  assert.equal(c.iro.allowUla, false);
  assert.equal(c.iro.allowMixedModes, false);
  assert.deepEqual(c.datapath, { pinDir: '/sys/fs/bpf/iro-ctl', stateFile: '/run/iro-ctl/datapath.json', ruleCapacity: 65536, attachMode: 'auto' });
  assert.deepEqual(c.kernel, { pfkey: 'auto', pfkeyPromiscuous: false, push: 'xfrm' });
  assert.equal(c.control.socket, '/run/iro-ctl/control.sock');
  assert.equal(c.state.dir, '/run/iro-ctl');
  assert.equal(c.log.level, 'info');
  const cn = c.cn!;
  assert.equal(cn.allowAoto, true);
  assert.equal(cn.proofsPerMn, 16);
  assert.equal(cn.proofIdleTtl, 30 * 86400);
  assert.equal(cn.maxProofs, 100000);
  assert.equal(cn.aotcTtl, 60);
  assert.equal(cn.nonceKeepAfterBa, 60);
  assert.equal(cn.sendBeforeProof, false);
  assert.equal(cn.maxLifetime, 1800);
  assert.deepEqual(cn.hoaTest, { enabled: false, interval: 3600, maxMisses: 3, onFail: 'keep' });
  const { config: m } = loadConfigText('role: mn\nmn: { homeAddress: 2001:db8:1::100, homeAgent: 2001:db8:1::2, interfaces: [fa] }\n', { file: 'x.yaml' });
  assert.deepEqual(m.mn!.tunnel, { name: 'iro-ha0', table: 100 });
  assert.deepEqual(m.mn!.lifetimes, { home: 3600, correspondent: 1800 });
  assert.equal(m.mn!.refreshAt, 0.8);
  assert.equal(m.mn!.haMode, 'iro');
  assert.equal(m.mn!.tunnelFallback, 'allow');
  assert.equal(m.mn!.earlyCoaTest, false);
  assert.equal(m.mn!.homePrefixLength, 64);
});

test('addresses are canonical (RFC 5952) and durations accept units', () => {
  const { config: c } = loadConfigText('role: cn\ncn: { address: "2001:DB8:C:0:0:0:0:10", interfaces: [cn], proofIdleTtl: 2d, aotcTtl: 90s, hoaTest: { interval: 30m } }\n', { file: 'x.yaml' });
  assert.equal(c.cn!.address, '2001:db8:c::10');
  assert.equal(c.cn!.proofIdleTtl, 172800);
  assert.equal(c.cn!.aotcTtl, 90);
  assert.equal(c.cn!.hoaTest.interval, 1800);
});
