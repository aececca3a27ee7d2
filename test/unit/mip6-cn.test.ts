// Correspondent node state machine: DIGEST Part 3 §H unit checks (H01, H02, H04-H13), E1, OP-3,
// OP-4, OP-5, OP-6, OP-22, OP-23, OP-24, OP-26, OP-45.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AddressOwnershipTestChallenge, MhMessage } from '../../src/mip6/codec/index.ts';
import { CorrespondentNode } from '../../src/mip6/cn/correspondent-node.ts';
import type { CnOptions } from '../../src/mip6/cn/options.ts';
import { ProofCache } from '../../src/mip6/cn/proof-cache.ts';
import { Mip6Runner } from '../../src/mip6/timers/driver.ts';
import type { Mip6Action, Mip6Event, SendAction } from '../../src/mip6/types.ts';
import { bu, CAND, CN, cnChanges, COA1, COA2, COA3, counters, HOA, HOA2, rx, sends } from '../lib/mip6-fixtures.ts';

function setup(opts: CnOptions = {}) {
  const c = new CorrespondentNode(opts);
  const r = new Mip6Runner(c, c.scheduler);
  const ev = (e: Mip6Event, t: number): Mip6Action[] => r.dispatch(e, t);
  const to = (t: number): Mip6Action[] => r.advanceTo(t);
  /** A BU from HOA (or `hoa`) sent from on-wire `coa` with AltCoA `coa`. */
  const sendBu = (seq: number, coa: string, t: number, o: { hoa?: string; lifetime?: number; alt?: string | null; onWireSrc?: string } = {}) =>
    ev(rx(bu(seq, { coa: o.alt === undefined ? coa : o.alt, lifetime: o.lifetime }), { src: o.hoa ?? HOA, dst: CN, onWireSrc: o.onWireSrc ?? coa }), t);
  const aotr = (nonce: Buffer, from: string, t: number, hoa = HOA) =>
    ev(rx({ kind: 'aotr', nonce, options: [] }, { src: hoa, dst: CN, onWireSrc: from }), t);
  /** BU -> AOTC -> AOTR: returns the actions of the AOTR step. */
  const prove = (seq: number, coa: string, t: number, hoa = HOA) => {
    const ch = nonceOf(sendBu(seq, coa, t, { hoa }));
    return aotr(ch, coa, t + 10, hoa);
  };
  return { c, r, ev, to, sendBu, aotr, prove };
}

function nonceOf(actions: Mip6Action[]): Buffer {
  const a = sends(actions, 'aotc');
  assert.equal(a.length, 1, 'one AOTC');
  return (a[0]!.msg as AddressOwnershipTestChallenge).nonce;
}

function only(actions: Mip6Action[], kind: MhMessage['kind']): SendAction {
  const s = sends(actions, kind);
  assert.equal(s.length, 1, `one ${kind}`);
  return s[0]!;
}

describe('CN binding registration', () => {
  test('H01: a BU whose AltCoA differs from the on-wire source is discarded: no BCE, no BA, counter +1', () => {
    const s = setup();
    const out = s.sendBu(1, COA1, 0, { alt: COA2 });
    assert.deepEqual(
      out.map((a) => a.type),
      ['counter', 'log'],
    );
    assert.deepEqual(counters(out), ['cn-bu-altcoa-mismatch']);
    assert.equal(s.c.binding(HOA), undefined);
  });

  test('H02: a BU from an unproven CoA: AOTC to the HoA with on-wire dst = CoA and a fresh nonce; incoming rule now; no outgoing rule, no BA (E1)', () => {
    const s = setup();
    const out = s.sendBu(1, COA1, 0);
    const ch = only(out, 'aotc');
    assert.deepEqual([ch.src, ch.dst, ch.onWireDst, ch.onWireSrc], [CN, HOA, COA1, undefined]);
    assert.equal((ch.msg as AddressOwnershipTestChallenge).nonce.length, 8);
    assert.equal(sends(out, 'ba').length, 0);
    assert.deepEqual(cnChanges(out)[0]!.bindings, [{ hoa: HOA, removed: false, acceptedCoa: COA1, provenCoa: null }]);
    // Fresh nonces: another MN, another CoA -> other values.
    const other = nonceOf(s.sendBu(1, COA2, 5, { hoa: HOA2 }));
    assert.ok(!other.equals((ch.msg as AddressOwnershipTestChallenge).nonce));
  });

  test('H04: the matching AOTR from the tested address: proof recorded, BA status 0 to the HoA with on-wire dst = CoA, outgoing rule installed', () => {
    const s = setup();
    const n = nonceOf(s.sendBu(7, COA1, 0));
    const out = s.aotr(n, COA1, 50);
    const b = only(out, 'ba');
    assert.deepEqual([b.src, b.dst, b.onWireDst], [CN, HOA, COA1]);
    assert.ok(b.msg.kind === 'ba' && b.msg.status === 0 && b.msg.sequence === 7 && b.msg.lifetime === 1800);
    assert.deepEqual(cnChanges(out)[0]!.bindings, [{ hoa: HOA, removed: false, acceptedCoa: COA1, provenCoa: COA1 }]);
    assert.deepEqual(s.c.provenCoas(HOA), [COA1]);
  });

  test('H05: an AOTR with a wrong nonce, or from another on-wire source, is ignored: no proof, no BA, no AOTS', () => {
    const s = setup();
    const n = nonceOf(s.sendBu(1, COA1, 0));
    const wrong = Buffer.from(n);
    wrong[0]! ^= 1;
    const a = s.aotr(wrong, COA1, 10);
    assert.deepEqual(counters(a), ['cn-aotr-bad-nonce']);
    assert.equal(sends(a).length, 0);
    const b = s.aotr(n, COA2, 20);
    assert.deepEqual(counters(b), ['cn-aotr-no-test']);
    assert.equal(sends(b).length, 0);
    assert.deepEqual(s.c.provenCoas(HOA), []);
    assert.deepEqual(s.c.binding(HOA), { hoa: HOA, removed: false, acceptedCoa: COA1, provenCoa: null });
    // The right one still works afterwards.
    assert.equal(sends(s.aotr(n, COA1, 30), 'ba').length, 1);
  });

  test('H06: a later BU for an already proven CoA gets the BA directly, no AOTC', () => {
    const s = setup();
    s.prove(1, COA1, 0);
    const out = s.sendBu(2, COA1, 1000);
    assert.equal(sends(out, 'aotc').length, 0);
    const b = only(out, 'ba');
    assert.ok(b.msg.kind === 'ba' && b.msg.status === 0 && b.msg.sequence === 2);
    assert.equal(b.onWireDst, COA1);
  });

  test('H07: a duplicate AOTR after the BA re-sends the same BA; after nonceKeepAfterBa the nonce is gone', () => {
    const s = setup({ nonceKeepAfterBa: 60_000 });
    const n = nonceOf(s.sendBu(3, COA1, 0));
    const first = only(s.aotr(n, COA1, 10), 'ba');
    const again = s.aotr(n, COA1, 1000);
    assert.deepEqual(counters(again), ['cn-aotr-duplicate']);
    assert.deepEqual(only(again, 'ba'), first);
    s.to(60_010);
    assert.deepEqual(counters(s.aotr(n, COA1, 60_011)), ['cn-aotr-no-test']);
  });

  test('OP-3: a retransmitted BU (new sequence number, same CoA) re-sends the AOTC with the same pending nonce; the BA carries the newest number', () => {
    const s = setup();
    const n1 = nonceOf(s.sendBu(10, COA1, 0));
    const n2 = nonceOf(s.sendBu(11, COA1, 1000));
    assert.ok(n1.equals(n2));
    const b = only(s.aotr(n1, COA1, 1010), 'ba');
    assert.ok(b.msg.kind === 'ba' && b.msg.sequence === 11);
  });

  test('E1: with sendBeforeProof the BA and the outgoing rule come at once, and the CoA is still tested', () => {
    const s = setup({ sendBeforeProof: true });
    const out = s.sendBu(1, COA1, 0);
    assert.equal(sends(out, 'ba').length, 1);
    assert.equal(sends(out, 'aotc').length, 1);
    assert.deepEqual(cnChanges(out)[0]!.bindings, [{ hoa: HOA, removed: false, acceptedCoa: COA1, provenCoa: COA1 }]);
  });

  test('H11 / OP-6: while a new CoA is unproven, the outgoing rule stays on the old proven CoA; it switches in one change after the proof', () => {
    const s = setup();
    s.prove(1, COA1, 0);
    const out = s.sendBu(2, COA2, 1000);
    assert.deepEqual(cnChanges(out)[0]!.bindings, [{ hoa: HOA, removed: false, acceptedCoa: COA2, provenCoa: COA1 }]);
    const n = nonceOf(out);
    const done = s.aotr(n, COA2, 1010);
    const c = cnChanges(done);
    assert.equal(c.length, 1);
    assert.deepEqual(c[0]!.bindings, [{ hoa: HOA, removed: false, acceptedCoa: COA2, provenCoa: COA2 }]);
    assert.equal(only(done, 'ba').onWireDst, COA2);
  });

  test('H10: an AOTC unanswered for aotcTtl removes the pending test and the incoming rule (no previous binding: binding removed)', () => {
    const s = setup({ aotcTtl: 60_000 });
    const n = nonceOf(s.sendBu(1, COA1, 0));
    assert.equal(cnChanges(s.to(59_999)).length, 0);
    const out = s.to(60_000);
    assert.ok(counters(out).includes('cn-aotc-expired'));
    assert.deepEqual(cnChanges(out)[0]!.bindings, [{ hoa: HOA, removed: true }]);
    assert.deepEqual(counters(s.aotr(n, COA1, 60_001)), ['cn-aotr-no-test']);
  });

  test('H10: with an old proven CoA, the expired test puts the incoming rule back on it', () => {
    const s = setup({ aotcTtl: 60_000 });
    s.prove(1, COA1, 0);
    s.sendBu(2, COA2, 1000);
    const out = s.to(61_000);
    assert.deepEqual(cnChanges(out)[0]!.bindings, [{ hoa: HOA, removed: false, acceptedCoa: COA1, provenCoa: COA1 }]);
  });

  test('H10: gcUnprovenRule=false keeps the incoming rule after the test expired', () => {
    const s = setup({ aotcTtl: 60_000, gcUnprovenRule: false });
    s.sendBu(1, COA1, 0);
    const out = s.to(60_000);
    assert.equal(cnChanges(out).length, 0);
    assert.deepEqual(s.c.binding(HOA), { hoa: HOA, removed: false, acceptedCoa: COA1, provenCoa: null });
  });

  test('H12 / OP-24: a BU with on-wire source unchanged (::) and lifetime 0 deletes the binding and its rules; the proofs stay', () => {
    const s = setup();
    s.prove(1, COA1, 0);
    const out = s.ev(rx(bu(2, { coa: null, lifetime: 0 }), { src: HOA, dst: CN, onWireSrc: '::' }), 1000);
    assert.deepEqual(cnChanges(out)[0]!.bindings, [{ hoa: HOA, removed: true }]);
    const b = only(out, 'ba');
    assert.deepEqual([b.dst, b.onWireDst], [HOA, undefined]);
    assert.ok(b.msg.kind === 'ba' && b.msg.status === 0 && b.msg.lifetime === 0);
    assert.deepEqual(s.c.provenCoas(HOA), [COA1]);
    // Coming back to COA1: BU -> BA straight away.
    assert.equal(sends(s.sendBu(3, COA1, 2000), 'ba').length, 1);
  });

  test('OP-24: an AltCoA equal to the HoA also deregisters; a lifetime-0 BU from a proven CoA is answered there', () => {
    const s = setup();
    s.prove(1, COA1, 0);
    const out = s.sendBu(2, COA1, 1000, { lifetime: 0 });
    assert.deepEqual(cnChanges(out)[0]!.bindings, [{ hoa: HOA, removed: true }]);
    assert.equal(only(out, 'ba').onWireDst, COA1);
    s.prove(3, COA2, 2000);
    const home = s.ev(rx(bu(4, { coa: HOA }), { src: HOA, dst: CN, onWireSrc: '::' }), 3000);
    assert.deepEqual(cnChanges(home)[0]!.bindings, [{ hoa: HOA, removed: true }]);
  });

  test('RFC 6275 §9.5.1: an older sequence number gets BA 135 with the last accepted one; the same BU again gets the same answer', () => {
    const s = setup();
    s.prove(100, COA1, 0);
    const old = s.sendBu(90, COA1, 1000);
    const b = only(old, 'ba');
    assert.ok(b.msg.kind === 'ba' && b.msg.status === 135 && b.msg.sequence === 100);
    assert.deepEqual(counters(old), ['cn-bu-seq-out-of-window']);
    const dup = s.sendBu(100, COA1, 1100);
    assert.deepEqual(counters(dup), ['cn-bu-duplicate']);
    assert.ok(only(dup, 'ba').msg.kind === 'ba');
    // Wrap-around: 65535 -> 0 is newer.
    s.prove(65535, COA1, 2000, HOA2);
    assert.equal(sends(s.sendBu(0, COA1, 3000, { hoa: HOA2 }), 'ba').length, 1);
  });

  test('a BU with H set is refused with BA 131 (not a home agent); unprotected MH are dropped; policy can refuse with 129', () => {
    const s = setup({ acceptPeer: (hoa) => hoa !== HOA2 });
    const h = s.ev(rx(bu(1, { coa: COA1, home: true }), { src: HOA, dst: CN, onWireSrc: COA1 }), 0);
    assert.ok(only(h, 'ba').msg.kind === 'ba' && (only(h, 'ba').msg as { status: number }).status === 131);
    const u = s.ev(rx(bu(1, { coa: COA1 }), { src: HOA, dst: CN, onWireSrc: COA1, sa: null }), 0);
    assert.deepEqual(counters(u), ['cn-unprotected']);
    assert.equal(sends(u).length, 0);
    const p = s.sendBu(1, COA1, 0, { hoa: HOA2 });
    const refused = only(p, 'ba');
    assert.ok(refused.msg.kind === 'ba' && refused.msg.status === 129);
    assert.equal(refused.onWireDst, undefined, 'nothing to an unproven CoA (E1)');
  });

  test('granted lifetime is capped by maxLifetime; the binding expires with it', () => {
    const s = setup({ maxLifetime: 100 });
    const out = s.prove(1, COA1, 0, HOA);
    const b = only(out, 'ba');
    assert.ok(b.msg.kind === 'ba' && b.msg.lifetime === 100);
    const gone = s.to(100_000);
    assert.deepEqual(cnChanges(gone)[0]!.bindings, [{ hoa: HOA, removed: true }]);
  });

  test('OP-22 / E9: a BRR goes to the proven CoA when 90 % of the lifetime passed without a refresh; none for an unproven binding', () => {
    const s = setup({ maxLifetime: 100 });
    s.prove(1, COA1, 0);
    assert.equal(sends(s.to(89_999)).length, 0);
    const out = s.to(90_000);
    const r = only(out, 'brr');
    assert.deepEqual([r.src, r.dst, r.onWireDst], [CN, HOA, COA1]);
    s.sendBu(1, COA2, 0, { hoa: HOA2 });
    assert.equal(sends(s.to(99_000), 'brr').length, 0);
  });

  test('a refresh BU moves the BRR and the expiry forward', () => {
    const s = setup({ maxLifetime: 100 });
    s.prove(1, COA1, 0);
    s.sendBu(2, COA1, 50_000);
    assert.equal(sends(s.to(139_999), 'brr').length, 0, 'not at 90 s any more');
    assert.equal(sends(s.to(140_000), 'brr').length, 1);
    assert.equal(s.c.binding(HOA)?.removed, false);
    assert.equal(cnChanges(s.to(150_000))[0]?.bindings[0]?.removed, true);
  });
});

describe('CN early tests (AOTO)', () => {
  test('H08: an AOTO from an MN with no registration is dropped silently', () => {
    const s = setup();
    const out = s.ev(rx({ kind: 'aoto' }, { src: HOA, dst: CN, onWireSrc: CAND }), 0);
    assert.equal(sends(out).length, 0);
    assert.deepEqual(counters(out), ['cn-aoto-unregistered']);
    s.sendBu(1, COA1, 0); // registered but not effective yet: still dropped
    assert.deepEqual(counters(s.ev(rx({ kind: 'aoto' }, { src: HOA, dst: CN, onWireSrc: CAND }), 10)), ['cn-aoto-unregistered']);
  });

  test('H09: AOTO with the policy off -> AOTS code 0 to the AOTO source', () => {
    const s = setup({ allowAoto: false });
    s.prove(1, COA1, 0);
    const a = only(s.ev(rx({ kind: 'aoto' }, { src: HOA, dst: CN, onWireSrc: CAND }), 100), 'aots');
    assert.deepEqual([a.dst, a.onWireDst, a.msg], [HOA, CAND, { kind: 'aots', code: 0 }]);
  });

  test('H09: AOTO for an unproven address -> AOTC to the AOTO source; the matching AOTR -> AOTS code 1; a later AOTO -> AOTS code 1 at once', () => {
    const s = setup();
    s.prove(1, COA1, 0);
    const ch = only(s.ev(rx({ kind: 'aoto' }, { src: HOA, dst: CN, onWireSrc: CAND }), 100), 'aotc');
    assert.deepEqual([ch.dst, ch.onWireDst], [HOA, CAND]);
    const done = s.aotr((ch.msg as AddressOwnershipTestChallenge).nonce, CAND, 110);
    const st = only(done, 'aots');
    assert.deepEqual([st.onWireDst, st.msg], [CAND, { kind: 'aots', code: 1 }]);
    assert.equal(sends(done, 'ba').length, 0, 'an early test does not change the binding');
    assert.deepEqual(s.c.binding(HOA), { hoa: HOA, removed: false, acceptedCoa: COA1, provenCoa: COA1 });
    const again = only(s.ev(rx({ kind: 'aoto' }, { src: HOA, dst: CN, onWireSrc: CAND }), 200), 'aots');
    assert.deepEqual(again.msg, { kind: 'aots', code: 1 });
    // The early proof makes the move to CAND a plain BU -> BA.
    assert.equal(sends(s.sendBu(2, CAND, 300), 'ba').length, 1);
  });
});

describe('CN proofs', () => {
  test('H13: at most proofsPerMn CoAs per MN, the least recently used evicted', () => {
    const s = setup({ proofsPerMn: 2 });
    s.prove(1, COA1, 0);
    s.prove(2, COA2, 100);
    s.sendBu(3, COA1, 200); // COA1 used again: now COA2 is the least recently used
    const out = s.prove(4, COA3, 300);
    assert.ok(counters(out).includes('cn-proof-evicted'));
    assert.deepEqual(s.c.provenCoas(HOA).sort(), [COA1, COA3].sort());
  });

  test('OP-4: proofs idle past proofIdleTtl are forgotten; the global bound evicts across MNs', () => {
    const cache = new ProofCache({ perMn: 16, total: 2, idleTtl: 1000 });
    cache.record(HOA, COA1, 0);
    cache.record(HOA2, COA2, 10);
    assert.deepEqual(cache.record(HOA, COA3, 20), [{ hoa: HOA, coa: COA1, reason: 'total' }]);
    assert.equal(cache.use(HOA2, COA2, 500), true);
    assert.equal(cache.use(HOA, COA3, 1021), false, 'idle past the TTL');
    assert.deepEqual(cache.sweep(1600), [{ hoa: HOA2, coa: COA2, reason: 'idle' }]);
    assert.equal(cache.size, 0);
  });
});

describe('CN home address tests (OP-26)', () => {
  test('off by default; when on, an AOTC to the HoA (no on-wire destination) every interval; 3 misses -> dropBinding', () => {
    const off = setup();
    off.prove(1, COA1, 0);
    assert.equal(sends(off.to(3_600_000), 'aotc').length, 0);

    const s = setup({ hoaTestInterval: 10_000, onHoaTestFail: 'dropBinding', maxLifetime: 1800 });
    s.prove(1, COA1, 0);
    const t1 = only(s.to(10_010), 'aotc');
    assert.deepEqual([t1.dst, t1.onWireDst], [HOA, undefined]);
    // Answered from the HoA: no miss.
    s.aotr((t1.msg as AddressOwnershipTestChallenge).nonce, '::', 10_020);
    // Tests at 20, 30 and 40 s (+10 ms) go unanswered; at 50 s the third miss is counted.
    assert.notEqual(s.c.binding(HOA), undefined);
    const out = s.to(50_009);
    assert.equal(cnChanges(out).length, 0);
    assert.equal(sends(out, 'aotc').length, 3);
    const gone = s.to(50_010);
    assert.deepEqual(counters(gone), ['cn-hoa-test-failed']);
    assert.deepEqual(cnChanges(gone)[0]!.bindings, [{ hoa: HOA, removed: true }]);
    assert.equal(s.c.binding(HOA), undefined);
  });
});
