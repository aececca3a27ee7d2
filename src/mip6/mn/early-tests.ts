// Early CoA tests (IRO §4.5.2, DIGEST P-MN-5, G08, G09): while registered with a CN, offer it the
// candidate CoAs (AOTO from the candidate), answer its AOTC from the candidate, wait for the AOTS.
// OP-3: AOTO at most aotoMaxTries times, AOTR at most aotrMaxTries, RFC 6275 back-off.
import { aotsStatus } from '../codec/index.ts';
import { nextTimeout } from '../backoff.ts';
import type { Output } from '../output.ts';
import type { TimerScheduler } from '../timers/scheduler.ts';
import type { Address } from '../types.ts';
import { mnTimerKey, type BulEntry, type EarlyTest } from './bul.ts';
import { aoto, aotr } from './messages.ts';
import type { MnConfig } from './options.ts';

export class EarlyTests {
  /** The other addresses the MN owns (from the last movement event). */
  candidates: Address[] = [];

  constructor(
    private readonly config: MnConfig,
    private readonly scheduler: TimerScheduler,
    private readonly out: () => Output,
    private readonly shuttingDown: () => boolean,
  ) {}

  /** Start tests for new candidates and stop those for vanished ones, when allowed at all. */
  sync(e: BulEntry, now: number): void {
    for (const [cand, t] of e.early) {
      if (!this.candidates.includes(cand)) {
        this.scheduler.cancel(mnTimerKey('early', e.peer, t.candidate));
        e.early.delete(cand);
      }
    }
    if (!this.config.earlyTests || e.home || e.aotoRefused || !e.saReady || this.shuttingDown()) return;
    if (!registered(e)) return;
    for (const cand of this.candidates) {
      if (e.early.has(cand)) continue;
      const t: EarlyTest = { candidate: cand, phase: 'aoto', tries: 0, timeout: this.config.initialBindackTimeout, nonce: null };
      e.early.set(cand, t);
      this.sendAoto(e, t, now);
    }
  }

  cancel(e: BulEntry): void {
    for (const t of e.early.values()) this.scheduler.cancel(mnTimerKey('early', e.peer, t.candidate));
    e.early.clear();
  }

  /** An AOTC to `tested`: answered here (true) if it belongs to a running early test. */
  onAotc(e: BulEntry, tested: Address, nonce: Buffer, now: number): boolean {
    const t = e.early.get(tested);
    if (t === undefined || (t.phase !== 'aoto' && t.phase !== 'aotr')) return false;
    this.out().send(aotr(nonce), this.config.hoa, e.peer, { onWireSrc: tested });
    t.phase = 'aotr';
    t.nonce = Buffer.from(nonce);
    t.tries = 1;
    t.timeout = nextTimeout(this.config.initialBindackTimeout, this.config.maxBindackTimeout);
    this.scheduler.set(mnTimerKey('early', e.peer, tested), now + this.config.initialBindackTimeout);
    return true;
  }

  /** An AOTS about `addr` (OP-45: the address the AOTS was sent to). */
  onAots(e: BulEntry, addr: Address, code: number): void {
    const o = this.out();
    const status = aotsStatus(code);
    if (status === 'aoto-not-allowed') {
      e.aotoRefused = true;
      this.cancel(e);
      o.log('info', 'correspondent does not allow early CoA tests', { peer: e.peer });
      return;
    }
    if (status === 'unknown') {
      o.count('mn-aots-unknown-code');
      o.log('info', 'AOTS with an unknown code ignored', { peer: e.peer, code });
      return;
    }
    const t = e.early.get(addr);
    if (t === undefined || t.phase === 'proved' || t.phase === 'failed') {
      o.count('mn-aots-unexpected');
      return;
    }
    t.phase = 'proved';
    this.scheduler.cancel(mnTimerKey('early', e.peer, addr));
    o.log('info', 'early CoA test: proof valid', { peer: e.peer, candidate: addr });
  }

  onTimer(e: BulEntry, candidate: Address, now: number): void {
    const t = e.early.get(candidate);
    if (t === undefined) return;
    if (!registered(e)) {
      this.cancel(e);
      return;
    }
    const o = this.out();
    if (t.phase === 'aoto') {
      if (t.tries >= this.config.aotoMaxTries) {
        t.phase = 'failed';
        o.log('debug', 'early CoA test: no answer to the AOTOs', { peer: e.peer, candidate });
        return;
      }
      this.sendAoto(e, t, now);
    } else if (t.phase === 'aotr') {
      if (t.tries >= this.config.aotrMaxTries || t.nonce === null) {
        t.phase = 'failed';
        o.log('debug', 'early CoA test: no AOTS after the AOTRs', { peer: e.peer, candidate });
        return;
      }
      o.send(aotr(t.nonce), this.config.hoa, e.peer, { onWireSrc: candidate });
      t.tries++;
      this.scheduler.set(mnTimerKey('early', e.peer, candidate), now + t.timeout);
      t.timeout = nextTimeout(t.timeout, this.config.maxBindackTimeout);
    }
  }

  private sendAoto(e: BulEntry, t: EarlyTest, now: number): void {
    // G08: never without an effective registration with this CN.
    if (!registered(e)) {
      this.cancel(e);
      return;
    }
    this.out().send(aoto(), this.config.hoa, e.peer, { onWireSrc: t.candidate });
    t.tries++;
    this.scheduler.set(mnTimerKey('early', e.peer, t.candidate), now + t.timeout);
    t.timeout = nextTimeout(t.timeout, this.config.maxBindackTimeout);
  }
}

/** IRO §4.4.1: "The MN MUST NOT send it unless already registered with the CN". */
function registered(e: BulEntry): boolean {
  return e.state === 'effective' && e.binding !== null;
}
