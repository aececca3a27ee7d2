// The home agent role (DIGEST I02, I03, I05, I07 unit parts; P-HA-1; §2.3.2): home registration
// in IRO mode (the BU arrives from the CoA on the wire, checked against the AltCoA; the BA leaves
// to the HoA with the CoA as on-wire destination; no HAO, no RH2), per-HoA authorisation,
// RFC 6275 sequence checks, binding cache with lifetimes, deregistration. Never any AOT*: the MN
// is trusted for its CoA (IRO §7.2). Proxy ND and the tunnel endpoint are the shell's job, driven
// by the binding-changed output.
import { BaStatus, baStatusText, type BindingAck, type BindingUpdate } from '../codec/index.ts';
import { alternateCoa, canonicalAddress, onWire } from '../address.ts';
import { Output } from '../output.ts';
import { seqGreater } from '../sequence.ts';
import { TimerScheduler } from '../timers/scheduler.ts';
import type { Address, HaBindingChange, MhReceivedEvent, Mip6Action, Mip6Event, Mip6Role } from '../types.ts';
import { resolveHaOptions, type HaConfig, type HaOptions } from './options.ts';

interface HaEntry {
  hoa: Address;
  coa: Address;
  /** Seconds granted. */
  lifetime: number;
  expiresAt: number;
  /** The BA of the accepted BU, repeated if that BU shows up again. */
  lastBa: BindingAck;
  ackRequested: boolean;
}

export interface HaStatus {
  bindings: number;
  entries: Array<{ hoa: Address; coa: Address; lifetime: number; remainingMs: number; lastSequence: number }>;
}

const TIMER_PREFIX = 'ha:bce:';

export class HomeAgent implements Mip6Role {
  readonly config: HaConfig;
  readonly scheduler: TimerScheduler;
  private readonly cache = new Map<Address, HaEntry>();
  /** Last accepted sequence number per HoA; outlives the binding (OP-43). */
  private readonly lastSeq: Map<Address, number>;
  private changed = new Map<Address, HaBindingChange>();
  private o = new Output();

  constructor(options: HaOptions, scheduler: TimerScheduler = new TimerScheduler()) {
    this.config = resolveHaOptions(options);
    this.scheduler = scheduler;
    this.lastSeq = new Map(this.config.lastSequences);
  }

  handle(event: Mip6Event, now: number): Mip6Action[] {
    this.o = new Output();
    this.changed = new Map();
    try {
      if (event.type === 'mh-received') this.onMessage(event, now);
      else if (event.type === 'timer') this.onTimer(event.key);
    } catch (err) {
      this.o.log('error', 'home agent: event handling failed', { event: event.type, error: (err as Error).message });
    }
    if (this.changed.size > 0) this.o.push({ type: 'binding-changed', role: 'ha', bindings: [...this.changed.values()] });
    return this.o.actions;
  }

  binding(hoa: Address): HaBindingChange | undefined {
    const e = this.cache.get(canonicalAddress(hoa));
    return e && { hoa: e.hoa, removed: false, coa: e.coa, lifetime: e.lifetime };
  }

  /** OP-43: what the shell persists so a restart still refuses replayed BUs. */
  lastSequences(): Record<Address, number> {
    return Object.fromEntries(this.lastSeq);
  }

  status(now: number, limit = 1000): HaStatus {
    const entries: HaStatus['entries'] = [];
    for (const e of this.cache.values()) {
      if (entries.length >= limit) break;
      entries.push({
        hoa: e.hoa,
        coa: e.coa,
        lifetime: e.lifetime,
        remainingMs: Math.max(0, e.expiresAt - now),
        lastSequence: this.lastSeq.get(e.hoa) ?? 0,
      });
    }
    return { bindings: this.cache.size, entries };
  }

  private onMessage(ev: MhReceivedEvent, now: number): void {
    const msg = ev.msg;
    switch (msg.kind) {
      case 'bu':
        return this.onBindingUpdate(ev, msg, now);
      case 'aoto':
      case 'aotc':
      case 'aotr':
      case 'aots':
        // I03 / IRO §7.2: HA and MN never exchange AOT*.
        this.o.count('ha-aot-ignored');
        return;
      default:
        this.o.count('ha-unexpected-message');
        this.o.log('debug', 'MH type the home agent role does not handle', { src: ev.src, kind: msg.kind });
    }
  }

  private onBindingUpdate(ev: MhReceivedEvent, bu: BindingUpdate, now: number): void {
    const hoa = canonicalAddress(ev.src, 'BU source');
    if (this.config.requireIpsec && ev.sa === undefined) {
      // RFC 6275 §10.3.1: home registrations travel over the MN-HA SA only.
      this.o.count('ha-unprotected');
      this.o.log('debug', 'home registration without IPsec dropped', { hoa });
      return;
    }
    if (!bu.home) {
      this.o.count('ha-bu-not-home');
      return;
    }
    const wireSrc = onWire(ev.onWireSrc, hoa);
    const alt = alternateCoa(bu.options);
    if (alt !== undefined && alt !== wireSrc) {
      this.o.count('ha-bu-altcoa-mismatch');
      this.o.log('debug', 'BU discarded: Alternate CoA differs from the on-wire source', { hoa, altCoa: alt, onWireSrc: wireSrc });
      return;
    }
    if (alt === undefined && wireSrc !== hoa) {
      if (this.config.missingAltCoa === 'reject') {
        this.o.count('ha-bu-no-altcoa');
        this.o.log('info', 'BU without Alternate CoA refused ([HAIPSEC] I5: it SHOULD carry one)', { hoa, onWireSrc: wireSrc });
        return;
      }
      this.o.log('info', 'BU without Alternate CoA: the on-wire source is used as the CoA ([HAIPSEC] I5: it SHOULD carry one)', {
        hoa,
        coa: wireSrc,
      });
    }
    const coa = alt ?? wireSrc;
    // Answers go where the BU came from on the wire (no RH2: the datapath puts the CoA there).
    const replyTo = wireSrc === hoa ? undefined : wireSrc;
    const local = canonicalAddress(ev.dst, 'BU destination');

    const auth = this.config.authorization.check(hoa, { spi: ev.sa?.spi, identity: ev.peerIdentity });
    if (!auth.ok) {
      this.o.count(
        auth.status === BaStatus.NOT_HOME_AGENT
          ? 'ha-bu-not-home-agent'
          : auth.status === BaStatus.NOT_HOME_SUBNET
            ? 'ha-bu-not-home-subnet'
            : 'ha-bu-unauthorized',
      );
      this.o.log('warn', `home registration refused: ${baStatusText(auth.status)}`, {
        hoa,
        status: auth.status,
        reason: auth.reason,
        spi: ev.sa?.spi ?? null,
        identity: ev.peerIdentity ?? null,
      });
      this.o.send(this.ba(auth.status, bu.sequence, 0, false), local, hoa, { onWireDst: replyTo });
      return;
    }

    const last = this.lastSeq.get(hoa);
    const e = this.cache.get(hoa);
    if (last !== undefined && !seqGreater(bu.sequence, last)) {
      if (e !== undefined && bu.sequence === last && e.lastBa.sequence === last && e.coa === coa && bu.lifetime > 0) {
        // The same BU again (its BA was lost or the packet duplicated): same answer.
        this.o.count('ha-bu-duplicate');
        if (e.ackRequested) this.o.send(e.lastBa, local, hoa, { onWireDst: replyTo });
        return;
      }
      this.o.count('ha-bu-seq-out-of-window');
      this.o.log('info', 'BU sequence number out of window', { hoa, sequence: bu.sequence, lastAccepted: last });
      this.o.send(this.ba(BaStatus.SEQUENCE_OUT_OF_WINDOW, last, 0, false), local, hoa, { onWireDst: replyTo });
      return;
    }
    this.lastSeq.set(hoa, bu.sequence);

    if (bu.lifetime === 0 || coa === hoa) {
      if (e !== undefined) this.remove(e);
      this.o.log('info', 'home binding deleted', { hoa, sequence: bu.sequence });
      if (bu.ack) this.o.send(this.ba(BaStatus.ACCEPTED, bu.sequence, 0, bu.keyManagement), local, hoa, { onWireDst: replyTo });
      return;
    }

    const lifetime = Math.min(bu.lifetime, this.config.maxLifetime);
    const ba = this.ba(BaStatus.ACCEPTED, bu.sequence, lifetime, bu.keyManagement);
    const moved = e === undefined || e.coa !== coa;
    const entry: HaEntry = { hoa, coa, lifetime, expiresAt: now + lifetime * 1000, lastBa: ba, ackRequested: bu.ack };
    this.cache.set(hoa, entry);
    this.scheduler.set(TIMER_PREFIX + hoa, entry.expiresAt);
    this.changed.set(hoa, { hoa, removed: false, coa, lifetime });
    if (moved) this.o.log('info', 'home binding', { hoa, coa, lifetime });
    // I03: straight to the BA, no proof asked. RFC 6275 §10.3.1: BA when A is set.
    if (bu.ack) this.o.send(ba, local, hoa, { onWireDst: replyTo });
  }

  private onTimer(key: string): void {
    if (!key.startsWith(TIMER_PREFIX)) return;
    const e = this.cache.get(key.slice(TIMER_PREFIX.length));
    if (e === undefined) return;
    this.o.log('info', 'home binding expired', { hoa: e.hoa, coa: e.coa });
    this.remove(e);
  }

  private remove(e: HaEntry): void {
    this.cache.delete(e.hoa);
    this.scheduler.cancel(TIMER_PREFIX + e.hoa);
    this.changed.set(e.hoa, { hoa: e.hoa, removed: true });
  }

  private ba(status: number, sequence: number, lifetime: number, buK: boolean): BindingAck {
    return {
      kind: 'ba',
      status,
      keyManagement: buK && this.config.keyManagement,
      otherFlags: 0,
      sequence,
      lifetime,
      options: [],
    };
  }
}
