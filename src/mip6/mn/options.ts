// Mobile node configuration knobs, their defaults, and the checks that make a bad configuration
// fail at construction with a message naming the knob (G15 among them).
import { MAX_LIFETIME_SECONDS } from '../codec/index.ts';
import { canonicalAddress } from '../address.ts';
import {
  AOTO_MAX_TRIES,
  AOTR_MAX_TRIES,
  DEFAULT_CN_BINDING_LIFETIME_S,
  DEFAULT_REFRESH_FRACTION,
  INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS,
  INITIAL_BINDACK_TIMEOUT_MS,
  MAX_BINDACK_TIMEOUT_MS,
  MAX_UPDATE_RATE,
} from '../constants.ts';
import type { Address } from '../types.ts';

/**
 * How the MN treats a correspondent: 'iro' registers with it; 'tunnel-only' never does (its
 * traffic stays in the HA tunnel). 'classic-ro' (RFC 6275 return routability) is not supported in
 * v1 (OP-29) and IRO App. I forbids mixing it with IRO for one peer: it is refused.
 */
export type PeerMode = 'iro' | 'tunnel-only' | 'classic-ro';

export interface MnPeerConfig {
  address: string;
  mode?: PeerMode;
}

export interface MnOptions {
  hoa: string;
  /** Home agent address (the home registration's peer). */
  ha: string;
  /** Correspondents: an address means { address, mode: 'iro' }. For a peer MN, its HoA (OP-7). */
  peers?: ReadonlyArray<string | MnPeerConfig>;
  /** Lifetime asked of the HA, seconds (default 3600; the HA may grant less). */
  homeLifetime?: number;
  /** Lifetime asked of correspondents, seconds (OP-22, default 1800). */
  cnLifetime?: number;
  /** K flag on home BUs: the MN-HA IKE SA can follow the CoA ([HAIPSEC] §5.19). */
  keyManagement?: boolean;
  /** Refresh when this fraction of the granted lifetime has passed (OP-22, default 0.8). */
  refreshFraction?: number;
  /** ms, RFC 6275 INITIAL_BINDACK_TIMEOUT (1000). */
  initialBindackTimeout?: number;
  /** ms, RFC 6275 InitialBindackTimeoutFirstReg (1500), for a first home registration. */
  firstRegTimeout?: number;
  /** ms, RFC 6275 MAX_BINDACK_TIMEOUT (32000). */
  maxBindackTimeout?: number;
  /** OP-3: AOTR transmissions before starting over with a new BU (5). */
  aotrMaxTries?: number;
  /** OP-3: AOTO transmissions per early test (3). */
  aotoMaxTries?: number;
  /** RFC 6275 MAX_UPDATE_RATE: BUs per second to one peer (3). */
  maxUpdateRate?: number;
  /**
   * ms. A correspondent that has answered nothing (no AOTC, BA or BE) this long after a BU for a
   * new CoA is presumed unable to do IRO: its state goes back to 'none' so data stays in the HA
   * tunnel (K09) while BUs go on at the back-off rate. Default 3000 (two BU timeouts).
   */
  unansweredFallbackMs?: number;
  /** ms to wait for the BA of a deregistration before dropping the rules anyway (G13, 5000). */
  deregTimeoutMs?: number;
  /** ms before registering again after a rejecting BA or a BE; 0 = never (default 300000). */
  rejectRetryMs?: number;
  /** Offer the movement event's candidate CoAs to registered CNs (AOTO, IRO §4.5.2). Default off. */
  earlyTests?: boolean;
  /** Drop MH from peers that did not arrive over IPsec (default true). */
  requireIpsec?: boolean;
  /** Sequence number of the first BU to each peer (default: random). */
  initialSequence?: number;
  /** Send a home deregistration when the MN starts on the home link (default true). */
  deregisterAtStartHome?: boolean;
}

export interface MnConfig {
  hoa: Address;
  ha: Address;
  peers: Address[];
  homeLifetime: number;
  cnLifetime: number;
  keyManagement: boolean;
  refreshFraction: number;
  initialBindackTimeout: number;
  firstRegTimeout: number;
  maxBindackTimeout: number;
  aotrMaxTries: number;
  aotoMaxTries: number;
  maxUpdateRate: number;
  unansweredFallbackMs: number;
  deregTimeoutMs: number;
  rejectRetryMs: number;
  earlyTests: boolean;
  requireIpsec: boolean;
  initialSequence: number | undefined;
  deregisterAtStartHome: boolean;
}

function lifetime(name: string, v: number | undefined, dflt: number): number {
  const s = v ?? dflt;
  if (!Number.isFinite(s) || s < 4 || s > MAX_LIFETIME_SECONDS) {
    throw new RangeError(`MN option ${name}: lifetime must be 4-${MAX_LIFETIME_SECONDS} s, got ${String(v)}`);
  }
  // The wire carries 4-second units; keep the value the peer will actually see.
  return Math.floor(s / 4) * 4;
}

function positive(name: string, v: number | undefined, dflt: number, integer = false): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x))) {
    throw new RangeError(`MN option ${name}: expected a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  }
  return x;
}

function nonNegative(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`MN option ${name}: expected a number >= 0, got ${String(v)}`);
  return x;
}

/** Validate the peer table: one mode per peer, no classic RO (G15, IRO App. I, OP-29). */
export function resolvePeers(peers: MnOptions['peers'], hoa: Address, ha: Address): Address[] {
  const byAddress = new Map<Address, { index: number; mode: PeerMode }[]>();
  for (const [index, p] of (peers ?? []).entries()) {
    const cfg: MnPeerConfig = typeof p === 'string' ? { address: p } : p;
    const address = canonicalAddress(cfg.address, `MN option peers[${index}].address`);
    const mode = cfg.mode ?? 'iro';
    if (mode !== 'iro' && mode !== 'tunnel-only' && mode !== 'classic-ro') {
      throw new Error(`MN option peers[${index}] (${address}): unknown mode "${String(mode)}" (iro | tunnel-only)`);
    }
    const list = byAddress.get(address) ?? [];
    list.push({ index, mode });
    byAddress.set(address, list);
  }
  const iro: Address[] = [];
  for (const [address, list] of byAddress) {
    const where = `MN option peers[${list.map((e) => e.index).join(', ')}] (${address})`;
    const modes = new Set(list.map((e) => e.mode));
    if (modes.has('iro') && modes.has('classic-ro')) {
      throw new Error(`${where}: configured both as iro and classic-ro; IRO and classic route optimisation must not be used with the same peer (IRO App. I)`);
    }
    if (list.length > 1) throw new Error(`${where}: peer listed more than once`);
    const mode = list[0]!.mode;
    if (mode === 'classic-ro') {
      throw new Error(`${where}: mode classic-ro is not supported (return routability is out of scope, DIGEST OP-29)`);
    }
    if (address === hoa) throw new Error(`${where}: this is the MN's own home address`);
    if (address === ha) throw new Error(`${where}: this is the home agent, registered with through the home registration`);
    if (mode === 'iro') iro.push(address);
  }
  return iro;
}

export function resolveMnOptions(o: MnOptions): MnConfig {
  const hoa = canonicalAddress(o.hoa, 'MN option hoa');
  const ha = canonicalAddress(o.ha, 'MN option ha');
  if (hoa === ha) throw new Error(`MN options: hoa and ha are both ${hoa}`);
  const refreshFraction = o.refreshFraction ?? DEFAULT_REFRESH_FRACTION;
  if (!(refreshFraction > 0 && refreshFraction < 1)) {
    throw new RangeError(`MN option refreshFraction: expected 0 < x < 1, got ${String(o.refreshFraction)}`);
  }
  const initialSequence = o.initialSequence;
  if (initialSequence !== undefined && !(Number.isInteger(initialSequence) && initialSequence >= 0 && initialSequence <= 0xffff)) {
    throw new RangeError(`MN option initialSequence: expected an integer 0-65535, got ${String(initialSequence)}`);
  }
  const initialBindackTimeout = positive('initialBindackTimeout', o.initialBindackTimeout, INITIAL_BINDACK_TIMEOUT_MS);
  const maxBindackTimeout = positive('maxBindackTimeout', o.maxBindackTimeout, MAX_BINDACK_TIMEOUT_MS);
  if (maxBindackTimeout < initialBindackTimeout) {
    throw new RangeError(`MN options: maxBindackTimeout ${maxBindackTimeout} ms is below initialBindackTimeout ${initialBindackTimeout} ms`);
  }
  return {
    hoa,
    ha,
    peers: resolvePeers(o.peers, hoa, ha),
    homeLifetime: lifetime('homeLifetime', o.homeLifetime, 3600),
    cnLifetime: lifetime('cnLifetime', o.cnLifetime, DEFAULT_CN_BINDING_LIFETIME_S),
    keyManagement: o.keyManagement ?? false,
    refreshFraction,
    initialBindackTimeout,
    firstRegTimeout: positive('firstRegTimeout', o.firstRegTimeout, INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS),
    maxBindackTimeout,
    aotrMaxTries: positive('aotrMaxTries', o.aotrMaxTries, AOTR_MAX_TRIES, true),
    aotoMaxTries: positive('aotoMaxTries', o.aotoMaxTries, AOTO_MAX_TRIES, true),
    maxUpdateRate: positive('maxUpdateRate', o.maxUpdateRate, MAX_UPDATE_RATE, true),
    unansweredFallbackMs: nonNegative('unansweredFallbackMs', o.unansweredFallbackMs, 3000),
    deregTimeoutMs: positive('deregTimeoutMs', o.deregTimeoutMs, 5000),
    rejectRetryMs: nonNegative('rejectRetryMs', o.rejectRetryMs, 300_000),
    earlyTests: o.earlyTests ?? false,
    requireIpsec: o.requireIpsec ?? true,
    initialSequence,
    deregisterAtStartHome: o.deregisterAtStartHome ?? true,
  };
}
