import test from 'node:test';
import assert from 'node:assert/strict';
import { parseRule, parseRuleSet, printRuleSet, RuleSyntaxError } from '../../src/datapath/rule-syntax.ts';
import { buildEntries, entryKey, entryValue, mirrorRules, resolveRules, RuleError, type RemapRule } from '../../src/datapath/rules.ts';
import { encodeRuleKey, encodeRuleValue, RuleFlag } from '../../src/datapath/abi.ts';
import { iroRuleExamples } from '../lib/spec.ts';

const ENV = {
  HoA: '2001:db8:1::100',
  CoA: '2001:db8:a::100',
  A: '2001:db8:c::1',
  HoA1: '2001:db8:1::100',
  CoA1: '2001:db8:a::100',
  HoA2: '2001:db8:2::200',
  CoA2: '2001:db8:b::200',
};

test('B01 the four IRO §5.2.2 example rule sets parse and print back verbatim', () => {
  const examples = iroRuleExamples();
  assert.equal(examples.length, 4, 'the draft has four example rule sets');
  for (const text of examples) {
    const rules = parseRuleSet(text);
    assert.ok(rules.length >= 2);
    assert.equal(printRuleSet(rules), text);
  }
});

test('B01 the example rule sets keep their meaning: ancillary remap and "(ancillary)" recording', () => {
  const ex4 = parseRuleSet(iroRuleExamples()[3]!);
  assert.deepEqual(ex4[0]!.remap, { kind: 'ancillary' });
  assert.equal(ex4[3]!.expected, '::');
  assert.equal(ex4[3]!.recordAncillary, true);
  assert.deepEqual(ex4[3]!.remap, { kind: 'address', value: 'HoA2' });
  // SPI 48 has no sibling destination rule, so its key address comes from the context
  assert.throws(() => resolveRules(ex4, ENV), /needs its peer address/);
  const resolved = resolveRules(ex4, ENV, { peer: 'HoA2' });
  assert.equal(resolved[2]!.peer, '2001:db8:2::200', 'the out dst rule is keyed by the peer HoA2');
  assert.equal(resolved[0]!.peer, '2001:db8:2::200');
});

test('B02 a second src (or dst) rule for the same key is rejected', () => {
  const rules = resolveRules(parseRuleSet('dir: in , SPI: 43, exp. dst: CoA, remap. dst: HoA\ndir: in , SPI: 43, exp. dst: CoA2, remap. dst: HoA'), ENV);
  assert.throws(() => buildEntries(rules), (e: Error) => e instanceof RuleError && /already exists/.test(e.message));
  const out = resolveRules(parseRuleSet('dir: out, SPI: 42, peer: A, exp. src: HoA, remap. src: CoA\ndir: out, SPI: 42, peer: A, exp. src: HoA2, remap. src: CoA'), ENV);
  assert.throws(() => buildEntries(out), /already exists/);
  // one src and one dst on the same key is fine (example 3)
  const ex3 = resolveRules(parseRuleSet(iroRuleExamples()[2]!), ENV);
  assert.equal(buildEntries(ex3).size, 2);
});

test('B03 "::" is accepted only as the expected source of incoming rules', () => {
  assert.doesNotThrow(() => resolveRules([parseRule('dir: in, SPI: 51, exp. src: ::, remap. src: HoA2 (ancillary)')], ENV));
  assert.throws(() => resolveRules([parseRule('dir: in, SPI: 51, exp. dst: ::, remap. dst: HoA2')], ENV), /wildcard/);
  assert.throws(() => resolveRules([parseRule('dir: out, SPI: 50, peer: A, exp. src: ::, remap. src: CoA')], ENV), /wildcard/);
});

test('B04 compiled key/value bytes for example 3 match the C struct layout (SPI in network order)', () => {
  const ex3 = resolveRules(parseRuleSet(iroRuleExamples()[2]!), ENV);
  const entries = [...buildEntries(ex3).values()];
  const out = entries.find((e) => e.dir === 'out')!;
  const key = encodeRuleKey(entryKey(out));
  // struct iro_rule_key { u8 dir; u8 proto; u16 pad; be32 spi; in6 peer } written by hand:
  const golden = Buffer.concat([Buffer.from([1, 50, 0, 0, 0, 0, 0, 46]), Buffer.from('20010db8000200000000000000000200', 'hex')]);
  assert.deepEqual(key, golden);
  const value = encodeRuleValue(entryValue(out, 7));
  const flags = RuleFlag.Src | RuleFlag.Dst;
  const goldenValue = Buffer.concat([
    Buffer.from([flags, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from('20010db8000100000000000000000100', 'hex'), // exp src HoA1
    Buffer.from('20010db8000a00000000000000000100', 'hex'), // new src CoA1
    Buffer.from('20010db8000200000000000000000200', 'hex'), // exp dst HoA2
    Buffer.from('20010db8000b00000000000000000200', 'hex'), // new dst CoA2
  ]);
  assert.deepEqual(value, goldenValue);
  const inn = entries.find((e) => e.dir === 'in')!;
  assert.deepEqual(encodeRuleKey(entryKey(inn)).subarray(0, 8), Buffer.from([0, 50, 0, 0, 0, 0, 0, 47]));
  assert.ok(encodeRuleKey(entryKey(inn)).subarray(8).equals(Buffer.alloc(16)), 'incoming keys carry no peer');
});

test('B05 mirror of MN example 1 gives the CN rule set', () => {
  const mn = resolveRules(parseRuleSet(iroRuleExamples()[0]!), ENV, { peer: 'A' });
  const cn = mirrorRules(mn, { peer: ENV.HoA });
  const want = resolveRules(parseRuleSet('dir: in , SPI: 42, exp. src: CoA, remap. src: HoA\ndir: out, SPI: 43, exp. dst: HoA, remap. dst: CoA'), ENV);
  assert.deepEqual(cn, want);
});

test('B05 mirror of MN example 2 (MH) gives the wildcard/ancillary CN set', () => {
  const mn = resolveRules(parseRuleSet(iroRuleExamples()[1]!), ENV, { peer: 'A' });
  const cn = mirrorRules(mn, { mh: true, peer: ENV.HoA });
  assert.equal(cn[0]!.expected, '::');
  assert.equal(cn[0]!.recordAncillary, true);
  assert.deepEqual(cn[1]!.remap, { ancillary: true });
  assert.equal(cn[1]!.peer, ENV.HoA);
});

test('B06 an outgoing rule keyed with peer A and one with peer B have different keys', () => {
  const [a] = resolveRules([parseRule('dir: out, SPI: 42, peer: A, exp. src: HoA, remap. src: CoA')], ENV);
  const [b] = resolveRules([parseRule('dir: out, SPI: 42, peer: HoA2, exp. src: HoA, remap. src: CoA')], ENV);
  const entries = buildEntries([a!, b!]);
  assert.equal(entries.size, 2, 'same SPI towards two peers: two independent entries');
  const keys = [...entries.values()].map((e) => encodeRuleKey(entryKey(e)).toString('hex'));
  assert.notEqual(keys[0], keys[1]);
});

test('B07 an incoming SPI already used by another local HoA is a collision', () => {
  const r1: RemapRule = { dir: 'in', proto: 'esp', spi: 43, field: 'dst', expected: ENV.CoA, remap: { address: ENV.HoA }, recordAncillary: false };
  const r2: RemapRule = { ...r1, field: 'src', expected: ENV.CoA2, remap: { address: ENV.HoA2 }, localAddr: '2001:db8:1::999' };
  assert.throws(() => buildEntries([r1, r2]), /collision/);
  // same SPI under AH is a different key: no collision
  assert.doesNotThrow(() => buildEntries([r1, { ...r2, proto: 'ah' }]));
});

test('B08 "ancillary|CoA" compiles to the ancillary flag with the static CoA as fallback', () => {
  const [r] = resolveRules([parseRule('dir: out, SPI: 48, peer: HoA2, exp. src: HoA1, remap. src: ancillary|CoA1')], ENV);
  const e = [...buildEntries([r!]).values()][0]!;
  const v = entryValue(e, 0);
  assert.equal(v.flags & RuleFlag.SrcAnc, RuleFlag.SrcAnc);
  assert.equal(v.newSrc.toString('hex'), '20010db8000a00000000000000000100');
});

test('invalid rule text gives a precise error with the line', () => {
  const cases: Array<[string, RegExp]> = [
    ['dir: sideways, SPI: 1, exp. src: HoA, remap. src: CoA', /dir must be "in" or "out"/],
    ['dir: in, SPI: 0x1ffffffff, exp. src: HoA, remap. src: CoA', /32-bit/],
    ['dir: in, SPI: 12, exp. src: HoA, remap. dst: CoA', /different fields/],
    ['dir: in, SPI: 12, exp. src: HoA', /exactly one "remap/],
    ['dir: in, SPI: 12, SPI: 13, exp. src: HoA, remap. src: CoA', /given twice/],
    ['dir: in, SPI: 12, exp. src: Ho A, remap. src: CoA', /address or a name/],
    ['dir: in; SPI: 12', /dir must be/], ['SPI 12', /key: value/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseRuleSet(`# comment\n${text}`),
      (e: Error) => e instanceof RuleSyntaxError && re.test(e.message) && /line 2/.test(e.message),
      text,
    );
  }
  assert.throws(() => resolveRules([parseRule('dir: in, SPI: 12, exp. src: Nowhere, remap. src: CoA')], ENV), /neither an IPv6 address nor a defined name/);
});
