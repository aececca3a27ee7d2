// The MN's Binding Update List entry (RFC 6275 §11.1, with the IRO additions of DIGEST §1.4.4)
// and the names of its timers on the shared scheduler.
import { RateWindow } from '../rate-window.ts';
import type { Address, MnBindingState, MnBindingView } from '../types.ts';

/** A registration (lifetime > 0) or deregistration (lifetime 0) in flight. */
export interface Attempt {
  kind: 'register' | 'deregister';
  /** The CoA being registered; for a deregistration the on-wire source (null on the home link). */
  coa: Address | null;
  /** Seconds asked. */
  lifetime: number;
  /**
   * Sequence numbers of the BUs of this attempt, oldest first. Every retransmission takes a new
   * number (RFC 6275 §11.8), so a BA answering any of them completes the attempt.
   */
  seqs: number[];
  /** ms until the next BU retransmission (doubles up to maxBindackTimeout). */
  buTimeout: number;
  startedAt: number;
  /** The peer sent an AOTC, BA or BE during this attempt: it is alive and speaks IRO. */
  answered: boolean;
  /** A BU waits for the MAX_UPDATE_RATE window. */
  deferred: boolean;
  /** AOTR phase (OP-3): the nonce to repeat, its back-off and how many were sent. */
  /** `onWireDst`: where the AOTC came from, when that is not the peer's own address (a mobile peer's CoA) */
  aotr: { nonce: Buffer; timeout: number; tries: number; onWireDst?: Address } | null;
}

/** An early CoA test of `candidate` with one peer (IRO §4.5.2). */
export interface EarlyTest {
  candidate: Address;
  phase: 'aoto' | 'aotr' | 'proved' | 'failed';
  tries: number;
  timeout: number;
  nonce: Buffer | null;
}

export interface BulEntry {
  peer: Address;
  home: boolean;
  /** The MH SA pair with the peer exists (assumed for the HA until told otherwise). */
  saReady: boolean;
  /** Sequence number of the last BU sent. */
  seq: number;
  attempt: Attempt | null;
  /** The binding as acknowledged: `until` is when it expires (ms). */
  binding: { coa: Address; lifetime: number; until: number } | null;
  /** A BU with lifetime > 0 was sent since the last completed deregistration. */
  mayHaveBinding: boolean;
  /** A status < 128 BA was received since the last deregistration (first-registration timeout). */
  acked: boolean;
  rate: RateWindow;
  early: Map<Address, EarlyTest>;
  /** The peer answered an AOTO with AOTS code 0 or a BE: no more early tests with it. */
  aotoRefused: boolean;
  // What the rule engine sees (MnBindingView).
  state: MnBindingState;
  viewCoa: Address | null;
  deregistering: boolean;
}

export function newBulEntry(peer: Address, home: boolean, firstSeq: number, maxUpdateRate: number): BulEntry {
  return {
    peer,
    home,
    saReady: home,
    seq: (firstSeq - 1) & 0xffff,
    attempt: null,
    binding: null,
    mayHaveBinding: false,
    acked: false,
    rate: new RateWindow(maxUpdateRate),
    early: new Map(),
    aotoRefused: false,
    state: 'none',
    viewCoa: null,
    deregistering: false,
  };
}

export function bulView(e: BulEntry): MnBindingView {
  return { peer: e.peer, home: e.home, coa: e.viewCoa, state: e.state, deregistering: e.deregistering };
}

/** Timer kinds of a BUL entry; the key is `mn:<kind>:<peer>` (early tests: `<peer>|<candidate>`). */
export type MnTimerKind = 'bu' | 'aotr' | 'fallback' | 'dereg' | 'refresh' | 'expire' | 'retry' | 'early';

export const MN_TIMER_PREFIX = 'mn:';

export function mnTimerKey(kind: MnTimerKind, peer: Address, candidate?: Address): string {
  return candidate === undefined ? `mn:${kind}:${peer}` : `mn:${kind}:${peer}|${candidate}`;
}

export function parseMnTimerKey(key: string): { kind: MnTimerKind; peer: Address; candidate?: Address } | undefined {
  if (!key.startsWith(MN_TIMER_PREFIX)) return undefined;
  const rest = key.slice(MN_TIMER_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon < 0) return undefined;
  const kind = rest.slice(0, colon) as MnTimerKind;
  const target = rest.slice(colon + 1);
  if (kind === 'early') {
    const bar = target.indexOf('|');
    if (bar < 0) return undefined;
    return { kind, peer: target.slice(0, bar), candidate: target.slice(bar + 1) };
  }
  return { kind, peer: target };
}
