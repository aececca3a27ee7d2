// The correspondent node role (DIGEST H01-H13, P-CN-1..6): binding cache, AltCoA vs on-wire
// source check, CoA proof cache, address ownership tests (AOTC/AOTR/AOTS), BA emission to the
// HoA with the CoA as on-wire destination, BRR before expiry, optional HoA tests.
// E1: no status-0 BA and no outgoing rule before the CoA is proven (unless sendBeforeProof).
// Pure: events in, actions out; timers on the shared scheduler.
import { timingSafeEqual } from 'node:crypto';
import {
  BaStatus,
  baStatusText,
  generateNonce,
  type AddressOwnershipTestResponse,
  type BindingAck,
  type BindingUpdate,
  type MhMessage,
} from '../codec/index.ts';
import { alternateCoa, canonicalAddress, onWire } from '../address.ts';
import { Output } from '../output.ts';
import { seqGreater } from '../sequence.ts';
import { TimerScheduler } from '../timers/scheduler.ts';
import type { Address, CnBindingChange, MhReceivedEvent, Mip6Action, Mip6Event, Mip6Role } from '../types.ts';
import { AddressTests, type AddressTest } from './address-tests.ts';
import { resolveCnOptions, type CnConfig, type CnOptions } from './options.ts';
import { ProofCache, type Eviction } from './proof-cache.ts';

interface CnEntry {
  hoa: Address;
  /** Our address the MN registers with (the BU's destination): source of what we send it. */
  local: Address;
  lastSeq: number;
  /** Incoming data rule (src CoA -> HoA), switched at once on an accepted BU (OP-6). */
  acceptedCoa: Address;
  /** Outgoing data rule (dst HoA -> CoA): only a proven CoA with a status-0 BA sent (E1). */
  provenCoa: Address | null;
  /** Seconds granted by the last accepted BU, and when the entry expires (ms). */
  lifetime: number;
  expiresAt: number;
  /** A BU waiting for its CoA to be proven. */
  pending: { coa: Address; seq: number; lifetime: number; ack: boolean } | null;
  /** The last status-0 BA, repeated for duplicate AOTRs / BUs (H07). */
  lastBa: { coa: Address; msg: BindingAck; ack: boolean } | null;
  hoaTestOutstanding: boolean;
  hoaTestMisses: number;
}

export interface CnStatus {
  bindings: Array<{
    hoa: Address;
    acceptedCoa: Address;
    provenCoa: Address | null;
    pendingCoa: Address | null;
    lastSequence: number;
    lifetime: number;
    remainingMs: number;
  }>;
  proofs: number;
  tests: number;
}

function bindingAck(status: number, sequence: number, lifetime: number): BindingAck {
  return { kind: 'ba', status, keyManagement: false, otherFlags: 0, sequence, lifetime, options: [] };
}

function nonceEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export class CorrespondentNode implements Mip6Role {
  readonly config: CnConfig;
  readonly scheduler: TimerScheduler;
  private readonly entries = new Map<Address, CnEntry>();
  private readonly proofs: ProofCache;
  private readonly tests = new AddressTests();
  private changed = new Map<Address, CnBindingChange>();
  private o = new Output();

  constructor(options: CnOptions = {}, scheduler: TimerScheduler = new TimerScheduler()) {
    this.config = resolveCnOptions(options);
    this.scheduler = scheduler;
    this.proofs = new ProofCache({ perMn: this.config.proofsPerMn, total: this.config.proofsTotal, idleTtl: this.config.proofIdleTtl });
  }

  handle(event: Mip6Event, now: number): Mip6Action[] {
    this.o = new Output();
    this.changed = new Map();
    try {
      if (event.type === 'mh-received') this.onMessage(event, now);
      else if (event.type === 'timer') this.onTimer(event.key, now);
      // movement / peer-mh-sa / shutdown are the MN's business; bindings stay until they expire.
    } catch (err) {
      this.o.log('error', 'correspondent node: event handling failed', { event: event.type, error: (err as Error).message });
    }
    if (this.changed.size > 0) this.o.push({ type: 'binding-changed', role: 'cn', bindings: [...this.changed.values()] });
    return this.o.actions;
  }

  /** The binding of one MN as the rule engine sees it; undefined when there is none. */
  binding(hoa: Address): CnBindingChange | undefined {
    const e = this.entries.get(canonicalAddress(hoa));
    return e && this.view(e);
  }

  /** CoAs proven for `hoa`, least recently used first (status, tests). */
  provenCoas(hoa: Address): Address[] {
    return this.proofs.list(canonicalAddress(hoa));
  }

  status(now: number): CnStatus {
    return {
      bindings: [...this.entries.values()].map((e) => ({
        hoa: e.hoa,
        acceptedCoa: e.acceptedCoa,
        provenCoa: e.provenCoa,
        pendingCoa: e.pending?.coa ?? null,
        lastSequence: e.lastSeq,
        lifetime: e.lifetime,
        remainingMs: Math.max(0, e.expiresAt - now),
      })),
      proofs: this.proofs.size,
      tests: this.tests.size,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Messages
  // -------------------------------------------------------------------------------------------

  private onMessage(ev: MhReceivedEvent, now: number): void {
    if (this.config.requireIpsec && ev.sa === undefined) {
      this.o.count('cn-unprotected');
      this.o.log('debug', 'MH without IPsec protection dropped', { src: ev.src, kind: ev.msg.kind });
      return;
    }
    const msg = ev.msg;
    switch (msg.kind) {
      case 'bu':
        return this.onBindingUpdate(ev, msg, now);
      case 'aotr':
        return this.onAotr(ev, msg, now);
      case 'aoto':
        return this.onAoto(ev, now);
      default:
        this.o.count('cn-unexpected-message');
        this.o.log('debug', 'MH type the correspondent role does not handle', { src: ev.src, kind: msg.kind });
    }
  }

  /** P-CN-1. */
  private onBindingUpdate(ev: MhReceivedEvent, bu: BindingUpdate, now: number): void {
    const hoa = canonicalAddress(ev.src, 'BU source');
    const local = canonicalAddress(ev.dst, 'BU destination');
    if (bu.home) {
      // RFC 6275 §9.5.1: H set at a node that is not a home agent.
      this.o.count('cn-bu-home-flag');
      this.send(bindingAck(BaStatus.HOME_REGISTRATION_NOT_SUPPORTED, bu.sequence, 0), local, hoa);
      return;
    }
    const wireSrc = onWire(ev.onWireSrc, hoa);
    const alt = alternateCoa(bu.options);
    if (alt !== undefined && alt !== wireSrc) {
      // OP-23 / H01: no BCE, no BA (no oracle), a counter and a debug line.
      this.o.count('cn-bu-altcoa-mismatch');
      this.o.log('debug', 'BU discarded: Alternate CoA differs from the on-wire source', { hoa, altCoa: alt, onWireSrc: wireSrc });
      return;
    }
    const coa = alt ?? wireSrc;
    if (!this.config.acceptPeer(hoa)) {
      this.o.count('cn-bu-refused');
      this.o.log('info', 'BU refused by local policy', { hoa });
      if (bu.ack) this.send(bindingAck(BaStatus.ADMINISTRATIVELY_PROHIBITED, bu.sequence, 0), local, hoa);
      return;
    }
    const e = this.entries.get(hoa);
    if (e !== undefined && !seqGreater(bu.sequence, e.lastSeq)) {
      if (bu.sequence === e.lastSeq && this.repeatLastAnswer(e, coa)) {
        this.o.count('cn-bu-duplicate');
        return;
      }
      this.o.count('cn-bu-seq-out-of-window');
      this.o.log('debug', 'BU sequence number out of window', { hoa, sequence: bu.sequence, lastAccepted: e.lastSeq });
      const toCoa = e.provenCoa === coa || this.proofs.has(hoa, coa, now);
      this.send(bindingAck(BaStatus.SEQUENCE_OUT_OF_WINDOW, e.lastSeq, 0), e.local, hoa, toCoa ? coa : undefined);
      return;
    }
    if (bu.lifetime === 0 || coa === hoa) {
      // OP-24 / H12: deregistration (from the home link: on-wire source unchanged). Proofs stay.
      const proven = coa !== hoa && (e?.provenCoa === coa || this.proofs.has(hoa, coa, now));
      if (e !== undefined) this.removeEntry(e);
      this.dropTests(hoa);
      this.o.log('info', 'binding deleted', { hoa, sequence: bu.sequence });
      if (bu.ack) this.send(bindingAck(BaStatus.ACCEPTED, bu.sequence, 0), local, hoa, proven ? coa : undefined);
      return;
    }
    const lifetime = Math.min(bu.lifetime, this.config.maxLifetime);
    const entry: CnEntry = e ?? {
      hoa,
      local,
      lastSeq: bu.sequence,
      acceptedCoa: coa,
      provenCoa: null,
      lifetime,
      expiresAt: now,
      pending: null,
      lastBa: null,
      hoaTestOutstanding: false,
      hoaTestMisses: 0,
    };
    this.entries.set(hoa, entry);
    entry.local = local;
    entry.lastSeq = bu.sequence;
    entry.lifetime = lifetime;
    entry.expiresAt = now + lifetime * 1000;
    entry.lastBa = null;
    entry.pending = null;
    // P-CN-1.6: accept traffic from the CoA at once, whatever comes next.
    entry.acceptedCoa = coa;
    this.scheduler.set(`cn:bce:${hoa}`, entry.expiresAt);
    this.markChanged(entry);

    const proven = entry.provenCoa === coa || this.proofs.use(hoa, coa, now);
    if (proven) {
      // H06: a proof is held, BU -> BA.
      if (!this.proofs.has(hoa, coa, now)) this.recordProof(hoa, coa, now);
      this.makeEffective(entry, coa, bu.sequence, lifetime, bu.ack, now);
      return;
    }
    if (this.config.sendBeforeProof) this.makeEffective(entry, coa, bu.sequence, lifetime, bu.ack, now);
    else entry.pending = { coa, seq: bu.sequence, lifetime, ack: bu.ack };
    // P-CN-1.8 / H02: challenge the CoA; the same nonce while the test is alive (OP-3).
    const t = this.challenge(hoa, coa, local, now);
    t.forBu = true;
  }

  /** P-CN-2. */
  private onAotr(ev: MhReceivedEvent, msg: AddressOwnershipTestResponse, now: number): void {
    const hoa = canonicalAddress(ev.src, 'AOTR source');
    const addr = onWire(ev.onWireSrc, hoa);
    const t = this.tests.get(hoa, addr);
    if (t === undefined) {
      this.o.count('cn-aotr-no-test');
      return;
    }
    if (!nonceEqual(t.nonce, msg.nonce)) {
      // OP-45 / H05: silent drop, no AOTS (no oracle).
      this.o.count('cn-aotr-bad-nonce');
      return;
    }
    const e = this.entries.get(hoa);
    if (t.state === 'answered') {
      // H07: the BA (or AOTS) went missing; say it again.
      this.o.count('cn-aotr-duplicate');
      if (t.forBu && e?.lastBa?.coa === addr && e.lastBa.ack) this.send(e.lastBa.msg, e.local, hoa, addr);
      if (t.forAoto) this.send({ kind: 'aots', code: 1 }, t.local, hoa, addr);
      return;
    }
    t.state = 'answered';
    this.scheduler.set(`cn:test:${hoa}|${addr}`, now + this.config.nonceKeepAfterBa);
    if (t.hoaTest) {
      if (e !== undefined) {
        e.hoaTestOutstanding = false;
        e.hoaTestMisses = 0;
      }
      this.o.log('debug', 'home address test passed', { hoa });
      return;
    }
    this.recordProof(hoa, addr, now);
    this.o.log('info', 'care-of address ownership proven', { hoa, coa: addr });
    if (t.forBu && e?.pending?.coa === addr) {
      const p = e.pending;
      // OP-6 / H11: the outgoing rule moves to the new CoA only now, in one change.
      this.makeEffective(e, addr, p.seq, p.lifetime, p.ack, now);
    }
    if (t.forAoto) this.send({ kind: 'aots', code: 1 }, t.local, hoa, addr);
  }

  /** P-CN-4 / H08 / H09. */
  private onAoto(ev: MhReceivedEvent, now: number): void {
    const hoa = canonicalAddress(ev.src, 'AOTO source');
    const local = canonicalAddress(ev.dst, 'AOTO destination');
    const addr = onWire(ev.onWireSrc, hoa);
    const e = this.entries.get(hoa);
    if (e === undefined || e.provenCoa === null) {
      this.o.count('cn-aoto-unregistered');
      return;
    }
    if (addr === hoa) {
      this.o.count('cn-aoto-from-hoa');
      return;
    }
    // The answer goes back to the AOTO's on-wire source (IRO §4.4.1).
    if (!this.config.allowAoto) this.send({ kind: 'aots', code: 0 }, local, hoa, addr);
    else if (this.proofs.use(hoa, addr, now)) this.send({ kind: 'aots', code: 1 }, local, hoa, addr);
    else this.challenge(hoa, addr, local, now).forAoto = true;
  }

  // -------------------------------------------------------------------------------------------
  // Timers
  // -------------------------------------------------------------------------------------------

  private onTimer(key: string, now: number): void {
    if (!key.startsWith('cn:')) return;
    const colon = key.indexOf(':', 3);
    const kind = colon < 0 ? key.slice(3) : key.slice(3, colon);
    const target = colon < 0 ? '' : key.slice(colon + 1);
    switch (kind) {
      case 'bce': {
        const e = this.entries.get(target);
        if (e === undefined) return;
        this.o.log('info', 'binding expired', { hoa: e.hoa });
        this.removeEntry(e);
        return;
      }
      case 'brr': {
        const e = this.entries.get(target);
        if (e === undefined || e.provenCoa === null || now >= e.expiresAt) return;
        // OP-22 / E9: only towards the proven CoA.
        this.send({ kind: 'brr', options: [] }, e.local, e.hoa, e.provenCoa);
        return;
      }
      case 'test':
        return this.onTestTimer(target);
      case 'hoatest':
        return this.onHoaTestTimer(target, now);
      case 'proof-gc': {
        this.countEvictions(this.proofs.sweep(now));
        if (this.proofs.size > 0) this.scheduleProofGc(now);
        return;
      }
    }
  }

  /** H10 / P-CN-6: an unanswered AOTC expires; a kept nonce is forgotten. */
  private onTestTimer(target: string): void {
    const bar = target.indexOf('|');
    if (bar < 0) return;
    const hoa = target.slice(0, bar);
    const addr = target.slice(bar + 1);
    const t = this.tests.get(hoa, addr);
    if (t === undefined) return;
    this.tests.delete(hoa, addr);
    if (t.state !== 'pending' || t.hoaTest) return;
    this.o.count('cn-aotc-expired');
    this.o.log('debug', 'address ownership test expired unanswered', { hoa, addr });
    const e = this.entries.get(hoa);
    if (!t.forBu || e?.pending?.coa !== addr) return;
    e.pending = null;
    if (!this.config.gcUnprovenRule || e.acceptedCoa !== addr) return;
    if (e.provenCoa !== null) {
      e.acceptedCoa = e.provenCoa;
      this.markChanged(e);
    } else {
      this.removeEntry(e);
    }
  }

  private onHoaTestTimer(hoa: Address, now: number): void {
    const e = this.entries.get(hoa);
    if (e === undefined || e.provenCoa === null) return;
    if (e.hoaTestOutstanding) {
      e.hoaTestMisses++;
      if (e.hoaTestMisses >= this.config.hoaTestMaxMisses) {
        this.o.count('cn-hoa-test-failed');
        this.o.log('warn', 'home address tests unanswered', { hoa, misses: e.hoaTestMisses, policy: this.config.onHoaTestFail });
        e.hoaTestMisses = 0;
        if (this.config.onHoaTestFail === 'dropBinding') {
          this.removeEntry(e);
          return;
        }
      }
    }
    // IRO §4.5.3: a fresh nonce to the HoA itself (no on-wire destination: via the MN's HA).
    this.tests.delete(hoa, hoa);
    const t = this.challenge(hoa, hoa, e.local, now);
    t.hoaTest = true;
    e.hoaTestOutstanding = true;
    this.scheduler.set(`cn:hoatest:${hoa}`, now + this.config.hoaTestInterval);
  }

  // -------------------------------------------------------------------------------------------
  // Helpers
  // -------------------------------------------------------------------------------------------

  /** P-CN-3: status-0 BA to the HoA, on the wire to the CoA; the outgoing rule goes with it. */
  private makeEffective(e: CnEntry, coa: Address, seq: number, lifetime: number, ack: boolean, now: number): void {
    e.provenCoa = coa;
    if (e.pending?.coa === coa) e.pending = null;
    const ba = bindingAck(BaStatus.ACCEPTED, seq, lifetime);
    e.lastBa = { coa, msg: ba, ack };
    if (ack) this.send(ba, e.local, e.hoa, coa);
    this.markChanged(e);
    // OP-22: a BRR when brrAt of the lifetime has gone by without a refresh (the MN refreshes at 0.8).
    const brrTime = e.expiresAt - lifetime * 1000 * (1 - this.config.brrAt);
    if (this.config.brrAt > 0 && brrTime > now) this.scheduler.set(`cn:brr:${e.hoa}`, brrTime);
    else this.scheduler.cancel(`cn:brr:${e.hoa}`);
    if (this.config.hoaTestInterval > 0 && !this.scheduler.has(`cn:hoatest:${e.hoa}`)) {
      this.scheduler.set(`cn:hoatest:${e.hoa}`, now + this.config.hoaTestInterval);
    }
    this.o.log('info', 'binding effective', { hoa: e.hoa, coa, lifetime, status: 0, statusText: baStatusText(0) });
  }

  /** Send (or send again) the AOTC for (hoa, addr); a live pending test keeps its nonce. */
  private challenge(hoa: Address, addr: Address, local: Address, now: number): AddressTest {
    let t = this.tests.get(hoa, addr);
    if (t === undefined || t.state !== 'pending') {
      t = { hoa, addr, nonce: generateNonce(), state: 'pending', local, forBu: false, forAoto: false, hoaTest: false };
      this.tests.set(t);
      this.scheduler.set(`cn:test:${hoa}|${addr}`, now + this.config.aotcTtl);
    }
    t.local = local;
    this.send({ kind: 'aotc', nonce: Buffer.from(t.nonce), options: [] }, local, hoa, addr === hoa ? undefined : addr);
    return t;
  }

  /** A BU with the last accepted sequence number again: answer as before (lost BA or AOTC). */
  private repeatLastAnswer(e: CnEntry, coa: Address): boolean {
    if (e.lastBa !== null && e.lastBa.coa === coa && e.lastBa.msg.sequence === e.lastSeq) {
      if (e.lastBa.ack) this.send(e.lastBa.msg, e.local, e.hoa, coa);
      return true;
    }
    const t = this.tests.get(e.hoa, coa);
    if (e.pending !== null && e.pending.coa === coa && e.pending.seq === e.lastSeq && t?.state === 'pending') {
      this.send({ kind: 'aotc', nonce: Buffer.from(t.nonce), options: [] }, t.local, e.hoa, coa);
      return true;
    }
    return false;
  }

  private recordProof(hoa: Address, coa: Address, now: number): void {
    this.countEvictions(this.proofs.record(hoa, coa, now));
    if (!this.scheduler.has('cn:proof-gc')) this.scheduleProofGc(now);
  }

  private scheduleProofGc(now: number): void {
    this.scheduler.set('cn:proof-gc', now + Math.min(this.config.proofIdleTtl, 3600_000));
  }

  private countEvictions(evicted: Eviction[]): void {
    for (const ev of evicted) {
      this.o.count('cn-proof-evicted');
      this.o.log('debug', 'CoA proof forgotten', { hoa: ev.hoa, coa: ev.coa, reason: ev.reason });
    }
  }

  private removeEntry(e: CnEntry): void {
    this.entries.delete(e.hoa);
    for (const k of ['bce', 'brr', 'hoatest']) this.scheduler.cancel(`cn:${k}:${e.hoa}`);
    this.changed.set(e.hoa, { hoa: e.hoa, removed: true });
  }

  private dropTests(hoa: Address): void {
    for (const t of this.tests.ofMn(hoa)) {
      this.tests.delete(hoa, t.addr);
      this.scheduler.cancel(`cn:test:${hoa}|${t.addr}`);
    }
  }

  private markChanged(e: CnEntry): void {
    this.changed.set(e.hoa, this.view(e));
  }

  private view(e: CnEntry): CnBindingChange {
    return { hoa: e.hoa, removed: false, acceptedCoa: e.acceptedCoa, provenCoa: e.provenCoa };
  }

  private send(msg: MhMessage, src: Address, dst: Address, onWireDst?: Address): void {
    this.o.send(msg, src, dst, { onWireDst });
  }
}
