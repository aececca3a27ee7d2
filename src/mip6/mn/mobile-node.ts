// The mobile node role (DIGEST G01-G15, P-MN-1..5): one BUL entry for the HA and one per IRO
// correspondent; home registration in IRO mode, correspondent registration BU -> [AOTC -> AOTR]
// -> BA, RFC 6275 retransmission, refresh, BRR, early CoA tests, HoA tests, deregistration.
// Pure: events in, actions out; timers on the shared scheduler.
import { randomInt } from 'node:crypto';
import {
  BaStatus,
  baStatusText,
  BeStatus,
  beStatusText,
  findOption,
  isBindingAccepted,
  type AddressOwnershipTestChallenge,
  type AddressOwnershipTestStatus,
  type BindingAck,
  type BindingError,
} from '../codec/index.ts';
import { canonicalAddress, onWire } from '../address.ts';
import { nextTimeout } from '../backoff.ts';
import { Output } from '../output.ts';
import { seqNext } from '../sequence.ts';
import { TimerScheduler } from '../timers/scheduler.ts';
import type { Address, MhReceivedEvent, Mip6Action, Mip6Event, Mip6Role, MnBindingsChanged, MnBindingState, MovementEvent, PeerMhSaEvent } from '../types.ts';
import {
  bulView,
  mnTimerKey,
  newBulEntry,
  parseMnTimerKey,
  type BulEntry,
  type EarlyTest,
  type MnTimerKind,
} from './bul.ts';
import { EarlyTests } from './early-tests.ts';
import { aotr, bindingUpdate } from './messages.ts';
import { resolveMnOptions, type MnConfig, type MnOptions } from './options.ts';

/** Read-only snapshot for `iro-ctl status`. */
export interface MnStatus {
  hoa: Address;
  coa: Address | null;
  atHome: boolean;
  shuttingDown: boolean;
  entries: Array<{
    peer: Address;
    home: boolean;
    state: MnBindingState;
    coa: Address | null;
    deregistering: boolean;
    saReady: boolean;
    sequence: number;
    phase: 'idle' | 'wait-ba' | 'wait-ba-after-aotr' | 'deregistering' | 'rate-limited';
    /** Seconds granted by the last accepting BA, and ms left (null when no binding). */
    lifetime: number | null;
    remainingMs: number | null;
    earlyTests: Array<{ candidate: Address; phase: EarlyTest['phase'] }>;
  }>;
}

export class MobileNode implements Mip6Role {
  readonly config: MnConfig;
  readonly scheduler: TimerScheduler;
  private readonly entries = new Map<Address, BulEntry>();
  private coa: Address | null = null;
  private atHome = false;
  private located = false;
  private readonly early: EarlyTests;
  private shuttingDown = false;
  private dirty = false;
  private o = new Output();

  constructor(options: MnOptions, scheduler: TimerScheduler = new TimerScheduler()) {
    this.config = resolveMnOptions(options);
    this.scheduler = scheduler;
    this.early = new EarlyTests(this.config, scheduler, () => this.o, () => this.shuttingDown);
    const firstSeq = (): number => this.config.initialSequence ?? randomInt(0, 0x10000);
    const { ha, peers, maxUpdateRate } = this.config;
    // The HA entry first: on movement its BU leaves before the correspondents' (DIGEST §2.3.1 step 8).
    this.entries.set(ha, newBulEntry(ha, true, firstSeq(), maxUpdateRate));
    for (const p of peers) this.entries.set(p, newBulEntry(p, false, firstSeq(), maxUpdateRate));
  }

  get hoa(): Address {
    return this.config.hoa;
  }

  /** True while deregistrations are in flight (the shell waits for false before exiting on `down`). */
  get busy(): boolean {
    for (const e of this.entries.values()) if (e.attempt?.kind === 'deregister') return true;
    return false;
  }

  handle(event: Mip6Event, now: number): Mip6Action[] {
    this.o = new Output();
    try {
      switch (event.type) {
        case 'mh-received':
          this.onMessage(event, now);
          break;
        case 'timer':
          this.onTimer(event.key, now);
          break;
        case 'movement':
          this.onMovement(event, now);
          break;
        case 'peer-mh-sa':
          this.onPeerSa(event, now);
          break;
        case 'shutdown':
          this.onShutdown(now);
          break;
      }
    } catch (err) {
      this.o.log('error', 'mobile node: event handling failed', { event: event.type, error: (err as Error).message });
    }
    if (this.dirty) {
      this.dirty = false;
      this.o.push(this.bindingsAction());
    }
    return this.o.actions;
  }

  /** The current BUL as the rule engine sees it (the same shape as the binding-changed action). */
  bindingsAction(): MnBindingsChanged {
    return {
      type: 'binding-changed',
      role: 'mn',
      hoa: this.config.hoa,
      coa: this.coa,
      atHome: this.atHome,
      bindings: [...this.entries.values()].map(bulView),
    };
  }

  status(now: number): MnStatus {
    return {
      hoa: this.config.hoa,
      coa: this.coa,
      atHome: this.atHome,
      shuttingDown: this.shuttingDown,
      entries: [...this.entries.values()].map((e) => ({
        peer: e.peer,
        home: e.home,
        state: e.state,
        coa: e.viewCoa,
        deregistering: e.deregistering,
        saReady: e.saReady,
        sequence: e.seq,
        phase:
          e.attempt === null
            ? 'idle'
            : e.attempt.kind === 'deregister'
              ? 'deregistering'
              : e.attempt.deferred
                ? 'rate-limited'
                : e.attempt.aotr
                  ? 'wait-ba-after-aotr'
                  : 'wait-ba',
        lifetime: e.binding?.lifetime ?? null,
        remainingMs: e.binding ? Math.max(0, e.binding.until - now) : null,
        earlyTests: [...e.early.values()].map((t) => ({ candidate: t.candidate, phase: t.phase })),
      })),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Events
  // -------------------------------------------------------------------------------------------

  private onMovement(ev: MovementEvent, now: number): void {
    const hoa = this.config.hoa;
    let coa = ev.coa === null ? null : canonicalAddress(ev.coa, 'movement coa');
    let atHome = ev.atHome;
    if (coa === hoa) {
      // The HoA as CoA is the home link.
      coa = null;
      atHome = true;
    }
    if (atHome && coa !== null) {
      this.o.log('warn', 'movement: at home with a care-of address; the address is ignored', { coa });
      coa = null;
    }
    this.early.candidates = [...new Set((ev.candidates ?? []).map((c) => canonicalAddress(c, 'movement candidate')))].filter(
      (c) => c !== coa && c !== hoa,
    );
    if (this.shuttingDown) return;
    const first = !this.located;
    this.located = true;

    if (atHome) {
      const wasHome = this.atHome;
      this.setLocation(null, true);
      if (wasHome) return;
      this.o.log('info', 'returned home: deregistering', { hoa });
      for (const e of this.entries.values()) {
        this.early.cancel(e);
        const stale = first && e.home && this.config.deregisterAtStartHome;
        if (e.mayHaveBinding || e.attempt !== null || e.binding !== null || stale) this.startDeregister(e, now);
        else this.reset(e);
      }
      return;
    }
    if (coa === null) {
      this.setLocation(null, false);
      this.o.log('info', 'no usable care-of address: registrations paused', {});
      for (const e of this.entries.values()) this.reset(e);
      return;
    }
    if (coa === this.coa && !this.atHome) {
      for (const e of this.entries.values()) this.early.sync(e, now);
      return;
    }
    this.setLocation(coa, false);
    this.o.log('info', 'new care-of address: registering', { coa });
    for (const e of this.entries.values()) {
      this.early.cancel(e);
      if (e.saReady) this.startRegister(e, now, false);
      else this.reset(e);
    }
  }

  private onPeerSa(ev: PeerMhSaEvent, now: number): void {
    const peer = canonicalAddress(ev.peer, 'peer-mh-sa peer');
    const e = this.entries.get(peer);
    if (e === undefined) {
      this.o.log('debug', 'MH SA event for an address that is not an IRO peer', { peer });
      return;
    }
    if (e.saReady === ev.present) return;
    e.saReady = ev.present;
    if (ev.present) {
      if (e.attempt === null && e.binding === null && this.canRegister(e)) this.startRegister(e, now, false);
      return;
    }
    // Without the SA nothing can be signalled: a deregistration is over, a registration waits.
    if (e.attempt?.kind === 'deregister') this.finishDeregister(e);
    else if (e.attempt !== null) {
      this.clearAttempt(e);
      if (e.state === 'bu-sent') this.setView(e, 'none', null, false);
    }
    this.early.cancel(e);
  }

  private onShutdown(now: number): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const canSignal = this.coa !== null || this.atHome;
    this.o.log('info', 'shutdown: deregistering', { peers: this.entries.size });
    for (const e of this.entries.values()) {
      this.early.cancel(e);
      this.scheduler.cancel(mnTimerKey('retry', e.peer));
      if (canSignal && (e.mayHaveBinding || e.binding !== null || e.attempt !== null)) this.startDeregister(e, now);
      else this.reset(e);
    }
  }

  private onMessage(ev: MhReceivedEvent, now: number): void {
    const peer = canonicalAddress(ev.src, 'MH source');
    const e = this.entries.get(peer);
    if (e === undefined) {
      this.o.count('mn-unknown-peer');
      this.o.log('debug', 'MH from an address that is neither the HA nor an IRO peer', { src: peer, kind: ev.msg.kind });
      return;
    }
    if (canonicalAddress(ev.dst, 'MH destination') !== this.config.hoa) {
      this.o.count('mn-unexpected-message');
      return;
    }
    if (this.config.requireIpsec && ev.sa === undefined) {
      this.o.count('mn-unprotected');
      this.o.log('debug', 'MH without IPsec protection dropped', { src: peer, kind: ev.msg.kind });
      return;
    }
    const msg = ev.msg;
    switch (msg.kind) {
      case 'ba':
        return this.onBindingAck(e, msg, now);
      case 'aotc':
        return this.onAotc(e, ev, msg, now);
      case 'aots':
        return this.onAots(e, ev, msg);
      case 'brr':
        return this.onBrr(e, now);
      case 'be':
        return this.onBindingError(e, msg, now);
      default:
        this.o.count('mn-unexpected-message');
        this.o.log('debug', 'MH type the mobile node role does not handle', { src: peer, kind: msg.kind });
    }
  }

  private onBindingAck(e: BulEntry, ba: BindingAck, now: number): void {
    const a = e.attempt;
    if (ba.status === BaStatus.SEQUENCE_OUT_OF_WINDOW) {
      if (a === null) {
        this.o.count('mn-ba-stale');
        return;
      }
      // RFC 6275 §11.7.3: the BA carries the peer's last accepted number; go on above it.
      this.o.count('mn-ba-seq-out-of-window');
      this.o.log('info', 'sequence number out of window: resynchronising', { peer: e.peer, sent: e.seq, lastAccepted: ba.sequence });
      e.seq = ba.sequence;
      a.answered = true;
      a.aotr = null;
      this.scheduler.cancel(mnTimerKey('aotr', e.peer));
      this.scheduler.cancel(mnTimerKey('fallback', e.peer));
      this.sendBu(e, now);
      return;
    }
    if (a === null || !a.seqs.includes(ba.sequence)) {
      this.o.count('mn-ba-stale');
      this.o.log('debug', 'BA matching no outstanding BU ignored', { peer: e.peer, sequence: ba.sequence, status: ba.status });
      return;
    }
    if (a.kind === 'deregister') {
      const fields = { peer: e.peer, status: ba.status, statusText: baStatusText(ba.status) };
      if (isBindingAccepted(ba.status)) this.o.log('info', 'deregistered', fields);
      else this.o.log('warn', 'deregistration refused; the binding is dropped locally', fields);
      this.finishDeregister(e);
      return;
    }
    if (!isBindingAccepted(ba.status)) {
      // G05: non-effective, logged with the status text.
      this.o.count('mn-ba-rejected');
      this.o.log('warn', `binding refused by ${e.home ? 'home agent' : 'correspondent'}: ${baStatusText(ba.status)}`, {
        peer: e.peer,
        status: ba.status,
        statusText: baStatusText(ba.status),
        sequence: ba.sequence,
      });
      this.reject(e, now);
      return;
    }
    const granted = Math.min(ba.lifetime, a.lifetime);
    if (granted <= 0) {
      this.o.count('mn-ba-zero-lifetime');
      this.o.log('warn', 'binding accepted with a zero lifetime: treated as refused', { peer: e.peer, status: ba.status });
      this.reject(e, now);
      return;
    }
    const coa = a.coa!;
    this.clearAttempt(e);
    e.acked = true;
    e.binding = { coa, lifetime: granted, until: now + granted * 1000 };
    this.setView(e, 'effective', coa, false);
    let refreshS = granted * this.config.refreshFraction;
    const advice = findOption(ba.options, 'bindingRefreshAdvice')?.refreshInterval;
    if (advice !== undefined && advice > 0 && advice < refreshS) refreshS = advice;
    this.scheduler.set(mnTimerKey('refresh', e.peer), now + refreshS * 1000);
    this.scheduler.set(mnTimerKey('expire', e.peer), e.binding.until);
    const fields = { peer: e.peer, coa, lifetime: granted, status: ba.status };
    if (ba.status === BaStatus.ACCEPTED_PREFIX_DISCOVERY) this.o.log('info', 'binding effective; the HA asks for prefix discovery', fields);
    else this.o.log('info', 'binding effective', fields);
    this.early.sync(e, now);
  }

  private onAotc(e: BulEntry, ev: MhReceivedEvent, msg: AddressOwnershipTestChallenge, now: number): void {
    if (e.home) {
      this.o.count('mn-aot-from-ha');
      return;
    }
    const hoa = this.config.hoa;
    const tested = onWire(ev.onWireDst, hoa);
    if (tested === hoa) {
      // HoA test (IRO §4.5.3): "MUST reply", from the HoA, through the HA tunnel (G10).
      this.o.send(aotr(msg.nonce), hoa, e.peer);
      this.o.log('debug', 'answered a home address test', { peer: e.peer });
      return;
    }
    // The AOTR goes back where the AOTC came from: a mobile peer (MN-MN) tests us from its
    // current CoA, which may not be the one we proved for it last (both moved, K08).
    const replyTo = onWire(ev.onWireSrc, e.peer);
    const back = replyTo === e.peer ? {} : { onWireDst: replyTo };
    const a = e.attempt;
    if (a?.kind === 'register' && a.coa === tested) {
      // P-MN-3 / G03: answer from the tested address, then repeat the AOTR until the BA (OP-3).
      a.answered = true;
      this.scheduler.cancel(mnTimerKey('fallback', e.peer));
      if (e.state === 'none') this.setView(e, 'bu-sent', tested, false);
      this.o.send(aotr(msg.nonce), hoa, e.peer, { onWireSrc: tested, ...back });
      a.aotr = { nonce: Buffer.from(msg.nonce), timeout: nextTimeout(this.config.initialBindackTimeout, this.config.maxBindackTimeout), tries: 1, ...back };
      this.scheduler.cancel(mnTimerKey('bu', e.peer));
      a.deferred = false;
      this.scheduler.set(mnTimerKey('aotr', e.peer), now + this.config.initialBindackTimeout);
      return;
    }
    if (this.early.onAotc(e, tested, msg.nonce, now)) return;
    if (tested === this.coa) {
      // A test of the registered CoA outside a registration (e.g. after a lost BA): still ours.
      this.o.send(aotr(msg.nonce), hoa, e.peer, { onWireSrc: tested, ...back });
      return;
    }
    this.o.count('mn-aotc-not-our-address');
    this.o.log('debug', 'AOTC for an address this node does not own', { peer: e.peer, tested });
  }

  private onAots(e: BulEntry, ev: MhReceivedEvent, msg: AddressOwnershipTestStatus): void {
    if (e.home) {
      this.o.count('mn-aot-from-ha');
      return;
    }
    // OP-45: the status is about the address the AOTS was sent to.
    this.early.onAots(e, onWire(ev.onWireDst, this.config.hoa), msg.code);
  }

  private onBrr(e: BulEntry, now: number): void {
    if (e.attempt !== null) return; // a BU is on its way already
    // RFC 6275 §11.7.4: answer with a BU if we want the binding, which an away MN always does.
    if (!this.canRegister(e)) {
      this.o.count('mn-brr-ignored');
      return;
    }
    this.startRegister(e, now, e.binding?.coa === this.coa);
  }

  private onBindingError(e: BulEntry, be: BindingError, now: number): void {
    this.o.count('mn-be-received');
    const fields = { peer: e.peer, status: be.status, statusText: beStatusText(be.status) };
    if (be.status !== BeStatus.UNRECOGNIZED_MH_TYPE) {
      this.o.log('info', 'Binding Error received', fields);
      return;
    }
    this.o.log('warn', 'peer does not recognise a mobility message we sent: it does not run IRO/MIPv6', fields);
    if (e.attempt?.kind === 'register') this.reject(e, now);
    else if (e.early.size > 0) {
      e.aotoRefused = true;
      this.early.cancel(e);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Timers
  // -------------------------------------------------------------------------------------------

  private onTimer(key: string, now: number): void {
    const k = parseMnTimerKey(key);
    if (k === undefined) return;
    const e = this.entries.get(k.peer);
    if (e === undefined) return;
    const handlers: Record<MnTimerKind, () => void> = {
      bu: () => this.onBuTimer(e, now),
      aotr: () => this.onAotrTimer(e, now),
      fallback: () => this.onFallbackTimer(e),
      dereg: () => {
        if (e.attempt?.kind !== 'deregister') return;
        this.o.log('info', 'no BA for the deregistration: binding dropped locally', { peer: e.peer });
        this.finishDeregister(e);
      },
      refresh: () => {
        if (e.attempt !== null || e.binding === null || this.shuttingDown) return;
        if (this.coa === null || this.atHome || e.binding.coa !== this.coa || !e.saReady) return;
        this.startRegister(e, now, true);
      },
      expire: () => this.onExpire(e, now),
      retry: () => {
        if (e.attempt === null && this.canRegister(e)) this.startRegister(e, now, false);
      },
      early: () => this.early.onTimer(e, k.candidate!, now),
    };
    handlers[k.kind]?.();
  }

  private onBuTimer(e: BulEntry, now: number): void {
    const a = e.attempt;
    if (a === null || a.aotr !== null) return;
    if (a.kind === 'register' && (a.coa !== this.coa || this.atHome || !e.saReady)) return;
    // RFC 6275 §11.8: retransmit with a new sequence number, the timeout doubled (G06).
    this.sendBu(e, now);
  }

  private onAotrTimer(e: BulEntry, now: number): void {
    const a = e.attempt;
    if (a === null || a.aotr === null || a.coa !== this.coa) return;
    if (a.aotr.tries >= this.config.aotrMaxTries) {
      // OP-3 / G07: the AOTRs went unanswered; start over with a new BU.
      this.o.log('debug', 'AOTR unanswered: sending a new BU', { peer: e.peer, tries: a.aotr.tries });
      a.aotr = null;
      this.sendBu(e, now);
      return;
    }
    this.o.send(aotr(a.aotr.nonce), this.config.hoa, e.peer, { onWireSrc: a.coa!, ...(a.aotr.onWireDst ? { onWireDst: a.aotr.onWireDst } : {}) });
    a.aotr.tries++;
    this.scheduler.set(mnTimerKey('aotr', e.peer), now + a.aotr.timeout);
    a.aotr.timeout = nextTimeout(a.aotr.timeout, this.config.maxBindackTimeout);
  }

  private onFallbackTimer(e: BulEntry): void {
    const a = e.attempt;
    if (a?.kind !== 'register' || a.answered || e.state !== 'bu-sent') return;
    this.o.log('info', 'correspondent has not answered: data stays in the HA tunnel meanwhile', { peer: e.peer });
    this.setView(e, 'none', null, false);
  }

  private onExpire(e: BulEntry, now: number): void {
    if (e.binding === null) return;
    this.o.log('info', 'binding expired without a refresh', { peer: e.peer, coa: e.binding.coa });
    this.dropBinding(e);
    this.early.cancel(e);
    if (e.state === 'effective') this.setView(e, 'none', null, false);
    // The refresh may never have left (no SA at the time): register again now if we can.
    if (e.attempt === null && this.canRegister(e)) this.startRegister(e, now, false);
  }

  /** Away with a CoA, the MH SA present, not shutting down, not waiting after a refusal. */
  private canRegister(e: BulEntry): boolean {
    return (
      !this.shuttingDown &&
      this.coa !== null &&
      !this.atHome &&
      e.saReady &&
      !this.scheduler.has(mnTimerKey('retry', e.peer))
    );
  }

  // -------------------------------------------------------------------------------------------
  // Registration machinery
  // -------------------------------------------------------------------------------------------

  /** A BU for the current CoA; `refresh` keeps the effective state (same CoA, OP-22). */
  private startRegister(e: BulEntry, now: number, refresh: boolean): void {
    const coa = this.coa!;
    this.clearAttempt(e);
    const first = e.home && !e.acked;
    e.attempt = {
      kind: 'register',
      coa,
      lifetime: e.home ? this.config.homeLifetime : this.config.cnLifetime,
      seqs: [],
      buTimeout: first ? this.config.firstRegTimeout : this.config.initialBindackTimeout,
      startedAt: now,
      answered: false,
      deferred: false,
      aotr: null,
    };
    e.mayHaveBinding = true;
    if (!refresh) {
      this.dropBinding(e);
      if (!e.home && this.config.unansweredFallbackMs > 0) {
        this.scheduler.set(mnTimerKey('fallback', e.peer), now + this.config.unansweredFallbackMs);
      }
    }
    this.sendBu(e, now);
    // G02: direct the data to the new CoA right after the BU, before any BA.
    if (!refresh) this.setView(e, 'bu-sent', coa, false);
  }

  /** A lifetime-0 BU from where we are (the HoA on the home link); rules stay until the BA (G13). */
  private startDeregister(e: BulEntry, now: number): void {
    if (!e.saReady) {
      this.finishDeregister(e);
      return;
    }
    this.clearAttempt(e);
    this.dropBinding(e);
    const from = this.atHome ? null : this.coa;
    e.attempt = {
      kind: 'deregister',
      coa: from,
      lifetime: 0,
      seqs: [],
      buTimeout: this.config.initialBindackTimeout,
      startedAt: now,
      answered: false,
      deferred: false,
      aotr: null,
    };
    this.scheduler.set(mnTimerKey('dereg', e.peer), now + this.config.deregTimeoutMs);
    this.sendBu(e, now);
    if (from === null) this.setView(e, 'none', null, true);
    else this.setView(e, e.state, e.viewCoa, true);
  }

  private finishDeregister(e: BulEntry): void {
    this.clearAttempt(e);
    this.dropBinding(e);
    this.early.cancel(e);
    e.mayHaveBinding = false;
    e.acked = false;
    this.setView(e, 'none', null, false);
  }

  /** After a refusing BA or a BE: no direct path; try again after rejectRetryMs. */
  private reject(e: BulEntry, now: number): void {
    this.clearAttempt(e);
    this.dropBinding(e);
    this.early.cancel(e);
    this.setView(e, 'none', null, false);
    if (this.config.rejectRetryMs > 0 && !this.shuttingDown) {
      this.scheduler.set(mnTimerKey('retry', e.peer), now + this.config.rejectRetryMs);
    }
  }

  /** Nothing can or needs to be signalled: forget attempt and binding, state 'none'. */
  private reset(e: BulEntry): void {
    this.clearAttempt(e);
    this.dropBinding(e);
    this.early.cancel(e);
    this.scheduler.cancel(mnTimerKey('retry', e.peer));
    this.setView(e, 'none', null, false);
  }

  private sendBu(e: BulEntry, now: number): void {
    const a = e.attempt!;
    const wait = e.rate.delay(now);
    if (wait > 0) {
      a.deferred = true;
      this.o.count('mn-bu-rate-limited');
      this.scheduler.set(mnTimerKey('bu', e.peer), now + wait);
      return;
    }
    a.deferred = false;
    // OP-7 / K08: the first BU of an attempt takes the rule's way (to a mobile peer: its last
    // proven CoA); a retransmission goes to the peer's home address, through its HA, since the
    // peer may have moved too and would otherwise never hear from us.
    const viaHome = !e.home && a.seqs.length > 0;
    e.seq = seqNext(e.seq);
    a.seqs.push(e.seq);
    if (a.seqs.length > 64) a.seqs.shift();
    e.rate.record(now);
    const msg = bindingUpdate({
      sequence: e.seq,
      home: e.home,
      keyManagement: this.config.keyManagement,
      lifetime: a.lifetime,
      coa: a.coa,
    });
    // IRO §3.3 / §7: from the HoA, the CoA as ancillary on-wire source; no HAO.
    this.o.send(msg, this.config.hoa, e.peer, { ...(a.coa === null ? {} : { onWireSrc: a.coa }), ...(viaHome ? { onWireDst: e.peer } : {}) });
    this.scheduler.set(mnTimerKey('bu', e.peer), now + a.buTimeout);
    a.buTimeout = nextTimeout(a.buTimeout, this.config.maxBindackTimeout);
  }

  private clearAttempt(e: BulEntry): void {
    e.attempt = null;
    for (const kind of ['bu', 'aotr', 'fallback', 'dereg', 'retry'] as const) this.scheduler.cancel(mnTimerKey(kind, e.peer));
  }

  private dropBinding(e: BulEntry): void {
    e.binding = null;
    this.scheduler.cancel(mnTimerKey('refresh', e.peer));
    this.scheduler.cancel(mnTimerKey('expire', e.peer));
  }

  // -------------------------------------------------------------------------------------------
  // View bookkeeping
  // -------------------------------------------------------------------------------------------

  private setView(e: BulEntry, state: MnBindingState, coa: Address | null, deregistering: boolean): void {
    if (e.state === state && e.viewCoa === coa && e.deregistering === deregistering) return;
    e.state = state;
    e.viewCoa = coa;
    e.deregistering = deregistering;
    this.dirty = true;
  }

  private setLocation(coa: Address | null, atHome: boolean): void {
    if (this.coa === coa && this.atHome === atHome) return;
    this.coa = coa;
    this.atHome = atHome;
    this.dirty = true;
  }
}
