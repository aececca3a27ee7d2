// Home agent state machine: DIGEST Part 3 §I unit checks (I02, I03, I05, the unit part of I07),
// home registration in IRO mode, RFC 6275 status codes and sequence numbers, OP-43.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MhMessage } from '../../src/mip6/codec/index.ts';
import { HaAuthorizationTable } from '../../src/mip6/ha/authorization.ts';
import { HomeAgent } from '../../src/mip6/ha/home-agent.ts';
import type { HaOptions } from '../../src/mip6/ha/options.ts';
import { Mip6Runner } from '../../src/mip6/timers/driver.ts';
import type { Mip6Action, Mip6Event, SendAction } from '../../src/mip6/types.ts';
import { bu, COA1, COA2, counters, HA, haChanges, HOA, HOA2, logs, rx, sends } from '../lib/mip6-fixtures.ts';

const SPI1 = 0x1001;
const HOA3 = '2001:db8:1::300';
const OUTSIDE = '2001:db8:9::100';

function setup(opts: Partial<HaOptions> = {}) {
  const h = new HomeAgent({
    address: HA,
    homePrefixes: ['2001:db8:1::/64'],
    authorization: [
      { hoa: HOA, spis: [SPI1] },
      { hoa: HOA2, identities: ['mn2@example.org'] },
    ],
    ...opts,
  });
  const r = new Mip6Runner(h, h.scheduler);
  const ev = (e: Mip6Event, t: number): Mip6Action[] => r.dispatch(e, t);
  const homeBu = (
    seq: number,
    t: number,
    o: { hoa?: string; coa?: string | null; onWireSrc?: string; lifetime?: number; spi?: number; identity?: string; k?: boolean } = {},
  ) =>
    ev(
      rx(bu(seq, { coa: o.coa === undefined ? COA1 : o.coa, home: true, lifetime: o.lifetime ?? 3600, keyManagement: o.k }), {
        src: o.hoa ?? HOA,
        dst: HA,
        onWireSrc: o.onWireSrc ?? (o.coa === undefined ? COA1 : (o.coa ?? '::')),
        sa: { proto: 'esp', spi: o.spi ?? SPI1 },
        ...(o.identity !== undefined ? { peerIdentity: o.identity } : {}),
      }),
      t,
    );
  return { h, r, ev, homeBu, to: (t: number) => r.advanceTo(t) };
}

function onlyBa(actions: Mip6Action[]): SendAction & { msg: { kind: 'ba'; status: number; sequence: number; lifetime: number; keyManagement: boolean } } {
  const s = sends(actions);
  assert.equal(s.length, 1, 'exactly one message out');
  assert.equal(s[0]!.msg.kind, 'ba');
  return s[0] as never;
}

describe('HA home registration (IRO mode)', () => {
  test('I07 (unit part): the BU from on-wire CoA is answered by a BA to the HoA with on-wire dst = CoA, and binding-changed carries the CoA for the out rule', () => {
    const s = setup();
    const out = s.homeBu(10, 0);
    const b = onlyBa(out);
    assert.deepEqual([b.src, b.dst, b.onWireDst, b.onWireSrc], [HA, HOA, COA1, undefined]);
    assert.deepEqual([b.msg.status, b.msg.sequence, b.msg.lifetime], [0, 10, 3600]);
    assert.deepEqual(haChanges(out)[0]!.bindings, [{ hoa: HOA, removed: false, coa: COA1, lifetime: 3600 }]);
  });

  test('I03: no proof is asked before a home-registration BA, and the HA never emits AOT* (ignores those it gets)', () => {
    const s = setup();
    const all: Mip6Action[] = [];
    all.push(...s.homeBu(1, 0));
    all.push(...s.homeBu(2, 10, { coa: COA2 }));
    const aot: MhMessage[] = [
      { kind: 'aoto' },
      { kind: 'aots', code: 1 },
      { kind: 'aotr', nonce: Buffer.alloc(8), options: [] },
      { kind: 'aotc', nonce: Buffer.alloc(8), options: [] },
    ];
    for (const msg of aot) {
      const out = s.ev(rx(msg, { src: HOA, dst: HA, onWireSrc: COA2 }), 20);
      assert.deepEqual(counters(out), ['ha-aot-ignored']);
      all.push(...out);
    }
    all.push(...s.to(10_000_000));
    const kinds = sends(all).map((a) => a.msg.kind);
    assert.deepEqual(kinds, ['ba', 'ba']);
  });

  test('the lifetime is capped by maxLifetime and the binding expires with it', () => {
    const s = setup({ maxLifetime: 600 });
    assert.equal(onlyBa(s.homeBu(1, 0, { lifetime: 3600 })).msg.lifetime, 600);
    assert.equal(haChanges(s.to(599_999)).length, 0);
    assert.deepEqual(haChanges(s.to(600_000))[0]!.bindings, [{ hoa: HOA, removed: true }]);
  });

  test('deregistration from the home link (on-wire source unchanged, lifetime 0): binding removed, BA to the HoA as addressed', () => {
    const s = setup();
    s.homeBu(1, 0);
    const out = s.homeBu(2, 100, { coa: null, lifetime: 0 });
    const b = onlyBa(out);
    assert.deepEqual([b.dst, b.onWireDst, b.msg.status, b.msg.lifetime], [HOA, undefined, 0, 0]);
    assert.deepEqual(haChanges(out)[0]!.bindings, [{ hoa: HOA, removed: true }]);
    assert.equal(s.h.binding(HOA), undefined);
  });

  test('K flag: answered only when both the BU asks and the HA supports it', () => {
    assert.equal(onlyBa(setup().homeBu(1, 0, { k: true })).msg.keyManagement, false);
    assert.equal(onlyBa(setup({ keyManagement: true }).homeBu(1, 0, { k: true })).msg.keyManagement, true);
    assert.equal(onlyBa(setup({ keyManagement: true }).homeBu(1, 0)).msg.keyManagement, false);
  });

  test('an AltCoA different from the on-wire source is discarded silently; unprotected and non-home BUs are dropped', () => {
    const s = setup();
    const out = s.homeBu(1, 0, { coa: COA1, onWireSrc: COA2 });
    assert.deepEqual(counters(out), ['ha-bu-altcoa-mismatch']);
    assert.equal(sends(out).length, 0);
    const u = s.ev(rx(bu(1, { coa: COA1, home: true }), { src: HOA, dst: HA, onWireSrc: COA1, sa: null }), 0);
    assert.deepEqual(counters(u), ['ha-unprotected']);
    const c = s.ev(rx(bu(1, { coa: COA1 }), { src: HOA, dst: HA, onWireSrc: COA1 }), 0);
    assert.deepEqual(counters(c), ['ha-bu-not-home']);
    assert.equal(sends([...u, ...c]).length, 0);
  });
});

describe('HA sequence numbers', () => {
  test('an old sequence number gets BA 135 with the last accepted number; the same BU again gets the same BA', () => {
    const s = setup();
    s.homeBu(100, 0);
    const old = onlyBa(s.homeBu(99, 10));
    assert.deepEqual([old.msg.status, old.msg.sequence, old.onWireDst], [135, 100, COA1]);
    const dup = s.homeBu(100, 20);
    assert.deepEqual(counters(dup), ['ha-bu-duplicate']);
    assert.deepEqual([onlyBa(dup).msg.status, onlyBa(dup).msg.sequence], [0, 100]);
    assert.equal(onlyBa(s.homeBu(101, 30, { coa: COA2 })).msg.status, 0);
  });

  test('OP-43: the last sequence number outlives the binding and a restart (lastSequences)', () => {
    const s = setup();
    s.homeBu(500, 0);
    s.homeBu(501, 10, { coa: null, lifetime: 0 });
    assert.equal(onlyBa(s.homeBu(400, 20)).msg.status, 135, 'replay after deregistration refused');
    const saved = s.h.lastSequences();
    assert.deepEqual(saved, { [HOA]: 501 });
    const restarted = setup({ lastSequences: saved });
    assert.equal(onlyBa(restarted.homeBu(450, 0)).msg.status, 135);
    assert.equal(onlyBa(restarted.homeBu(502, 0)).msg.status, 0);
  });
});

describe('HA authorisation ([HAIPSEC] P9)', () => {
  test('I02: a BU for HoA_x over an SA not authorised for it is refused with 129 (administratively prohibited) and logged', () => {
    const s = setup();
    const out = s.homeBu(1, 0, { spi: 0x2002 });
    const b = onlyBa(out);
    assert.equal(b.msg.status, 129);
    assert.deepEqual(counters(out), ['ha-bu-unauthorized']);
    assert.match(logs(out, 'warn')[0]!.msg, /Administratively prohibited/);
    assert.equal(haChanges(out).length, 0);
    assert.equal(s.h.binding(HOA), undefined);
  });

  test('I02: with dynamic keying, a BU for HoA_x from phase-1 identity user_y is refused (129); the right identity registers', () => {
    const s = setup();
    assert.equal(onlyBa(s.homeBu(1, 0, { hoa: HOA2, identity: 'mn1@example.org' })).msg.status, 129);
    assert.equal(onlyBa(s.homeBu(2, 0, { hoa: HOA2 })).msg.status, 129, 'no identity known');
    assert.equal(onlyBa(s.homeBu(3, 0, { hoa: HOA2, identity: 'mn2@example.org' })).msg.status, 0);
  });

  test('I02: the table answers the IKE phase-2 question (may identity user_y negotiate SAs for HoA_x?)', () => {
    const t = new HaAuthorizationTable([
      { hoa: HOA, identities: ['user_x'] },
      { hoa: HOA2, identities: ['user_y'], spis: [0x3000] },
    ]);
    assert.equal(t.mayNegotiate('user_x', HOA), true);
    assert.equal(t.mayNegotiate('user_y', HOA), false);
    assert.equal(t.mayNegotiate('user_y', '2001:DB8:1::200'), true);
    assert.deepEqual(t.check(HOA2, { identity: 'user_y' }), { ok: false, status: 129, reason: 'SA not authorised for this home address' });
    assert.deepEqual(t.check(HOA2, { identity: 'user_y', spi: 0x3000 }), { ok: true });
  });

  test('a HoA this HA does not serve gets 133; one outside the home prefixes gets 132', () => {
    const s = setup();
    const a = s.homeBu(1, 0, { hoa: HOA3 });
    assert.equal(onlyBa(a).msg.status, 133);
    assert.deepEqual(counters(a), ['ha-bu-not-home-agent']);
    const b = s.homeBu(1, 0, { hoa: OUTSIDE });
    assert.equal(onlyBa(b).msg.status, 132);
    assert.deepEqual(counters(b), ['ha-bu-not-home-subnet']);
  });

  test('the table refuses an ambiguous configuration', () => {
    assert.throws(() => new HaAuthorizationTable([{ hoa: HOA }]), /SPIs .* or the IKE identities/);
    assert.throws(() => new HaAuthorizationTable([{ hoa: HOA, spis: [0x1000] }, { hoa: HOA2, spis: [0x1000] }]), /one SA must identify one home address/);
    assert.throws(() => new HaAuthorizationTable([{ hoa: HOA, spis: [1] }], []), /not a valid SPI/);
    assert.throws(() => new HaAuthorizationTable([{ hoa: HOA, spis: [0x1000] }, { hoa: HOA, spis: [0x1001] }]), /listed twice/);
    assert.throws(() => new HaAuthorizationTable([{ hoa: OUTSIDE, spis: [0x1000] }], ['2001:db8:1::/64']), /outside the home prefixes/);
    assert.throws(() => new HaAuthorizationTable([], ['2001:db8:1::/129']), /expected <IPv6 address>\/<0-128>/);
  });
});

describe('HA without AltCoA ([HAIPSEC] I5)', () => {
  test('I05: accept (default) takes the on-wire source as the CoA and logs the SHOULD rule', () => {
    const s = setup();
    const out = s.ev(rx(bu(1, { home: true, lifetime: 3600 }), { src: HOA, dst: HA, onWireSrc: COA2, sa: { proto: 'esp', spi: SPI1 } }), 0);
    assert.equal(onlyBa(out).msg.status, 0);
    assert.equal(onlyBa(out).onWireDst, COA2);
    assert.deepEqual(haChanges(out)[0]!.bindings, [{ hoa: HOA, removed: false, coa: COA2, lifetime: 3600 }]);
    assert.match(logs(out, 'info').map((l) => l.msg).join('\n'), /SHOULD carry one/);
  });

  test('I05: reject discards it with a counter and a log line', () => {
    const s = setup({ missingAltCoa: 'reject' });
    const out = s.ev(rx(bu(1, { home: true }), { src: HOA, dst: HA, onWireSrc: COA2, sa: { proto: 'esp', spi: SPI1 } }), 0);
    assert.deepEqual(counters(out), ['ha-bu-no-altcoa']);
    assert.equal(sends(out).length, 0);
    assert.match(logs(out)[0]!.msg, /SHOULD carry one/);
  });
});
