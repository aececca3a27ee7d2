// Correspondent node policy knobs (DIGEST §2.3.3, OP-4, OP-5, OP-22, OP-26, E1) and defaults.
import { MAX_LIFETIME_SECONDS } from '../codec/index.ts';
import {
  DEFAULT_AOTC_TTL_MS,
  DEFAULT_CN_BINDING_LIFETIME_S,
  DEFAULT_NONCE_KEEP_AFTER_BA_MS,
  DEFAULT_PROOF_IDLE_TTL_MS,
  DEFAULT_PROOFS_PER_MN,
  DEFAULT_PROOFS_TOTAL,
} from '../constants.ts';
import type { Address } from '../types.ts';

export interface CnOptions {
  /** Longest binding granted, seconds (OP-22, default 1800); a BU asking more gets this. */
  maxLifetime?: number;
  /** Answer AOTOs (early CoA tests); false -> AOTS code 0 (default true). */
  allowAoto?: boolean;
  /** OP-4: proofs kept per MN, least recently used evicted first (default 16). */
  proofsPerMn?: number;
  /** OP-4: a proof unused this long (ms) is forgotten (default 30 days). */
  proofIdleTtl?: number;
  /** OP-4: proofs kept in all (default 100000). */
  proofsTotal?: number;
  /** OP-5: how long (ms) an AOTC waits for its AOTR (default 60000). */
  aotcTtl?: number;
  /** OP-5: how long (ms) the nonce is kept after the BA, for retransmitted AOTRs (default 60000). */
  nonceKeepAfterBa?: number;
  /**
   * E1: false (default) = no status-0 BA and no outgoing rule before the AOTR proved the CoA (the
   * IRO body). true = IRO App. A: BA at once; the test still runs to build the proof.
   */
  sendBeforeProof?: boolean;
  /**
   * H10 / P-CN-6: when an AOTC expires unanswered, withdraw the incoming rule for that CoA (back
   * to the proven CoA, or no binding at all). Default true.
   */
  gcUnprovenRule?: boolean;
  /**
   * OP-22: send a BRR when this fraction of an effective binding's lifetime has passed without a
   * refresh (the MN refreshes at 0.8). 0 disables. Default 0.9.
   */
  brrAt?: number;
  /** OP-26: HoA tests every `hoaTestInterval` ms (0 = off, the default; IRO App. C). */
  hoaTestInterval?: number;
  /** OP-26: unanswered HoA tests in a row before `onHoaTestFail` applies (3). */
  hoaTestMaxMisses?: number;
  /** OP-26: 'keep' (default) only logs; 'dropBinding' removes the binding. */
  onHoaTestFail?: 'keep' | 'dropBinding';
  /** Drop MH that did not arrive over IPsec (default true). */
  requireIpsec?: boolean;
  /** Local policy on which HoAs may register (default: any HoA whose MH arrived over IPsec). */
  acceptPeer?: (hoa: Address) => boolean;
}

export interface CnConfig {
  maxLifetime: number;
  allowAoto: boolean;
  proofsPerMn: number;
  proofIdleTtl: number;
  proofsTotal: number;
  aotcTtl: number;
  nonceKeepAfterBa: number;
  sendBeforeProof: boolean;
  gcUnprovenRule: boolean;
  brrAt: number;
  hoaTestInterval: number;
  hoaTestMaxMisses: number;
  onHoaTestFail: 'keep' | 'dropBinding';
  requireIpsec: boolean;
  acceptPeer: (hoa: Address) => boolean;
}

function num(name: string, v: number | undefined, dflt: number, min: number, integer = false): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x < min || (integer && !Number.isInteger(x))) {
    throw new RangeError(`CN option ${name}: expected ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(v)}`);
  }
  return x;
}

export function resolveCnOptions(o: CnOptions = {}): CnConfig {
  const maxLifetime = num('maxLifetime', o.maxLifetime, DEFAULT_CN_BINDING_LIFETIME_S, 4);
  if (maxLifetime > MAX_LIFETIME_SECONDS) throw new RangeError(`CN option maxLifetime: at most ${MAX_LIFETIME_SECONDS} s, got ${maxLifetime}`);
  const brrAt = num('brrAt', o.brrAt, 0.9, 0);
  if (brrAt >= 1) throw new RangeError(`CN option brrAt: expected 0 (off) or 0 < x < 1, got ${brrAt}`);
  const onHoaTestFail = o.onHoaTestFail ?? 'keep';
  if (onHoaTestFail !== 'keep' && onHoaTestFail !== 'dropBinding') {
    throw new Error(`CN option onHoaTestFail: expected keep | dropBinding, got ${String(onHoaTestFail)}`);
  }
  return {
    maxLifetime: Math.floor(maxLifetime / 4) * 4,
    allowAoto: o.allowAoto ?? true,
    proofsPerMn: num('proofsPerMn', o.proofsPerMn, DEFAULT_PROOFS_PER_MN, 1, true),
    proofIdleTtl: num('proofIdleTtl', o.proofIdleTtl, DEFAULT_PROOF_IDLE_TTL_MS, 1),
    proofsTotal: num('proofsTotal', o.proofsTotal, DEFAULT_PROOFS_TOTAL, 1, true),
    aotcTtl: num('aotcTtl', o.aotcTtl, DEFAULT_AOTC_TTL_MS, 1),
    nonceKeepAfterBa: num('nonceKeepAfterBa', o.nonceKeepAfterBa, DEFAULT_NONCE_KEEP_AFTER_BA_MS, 0),
    sendBeforeProof: o.sendBeforeProof ?? false,
    gcUnprovenRule: o.gcUnprovenRule ?? true,
    brrAt,
    hoaTestInterval: num('hoaTestInterval', o.hoaTestInterval, 0, 0),
    hoaTestMaxMisses: num('hoaTestMaxMisses', o.hoaTestMaxMisses, 3, 1, true),
    onHoaTestFail,
    requireIpsec: o.requireIpsec ?? true,
    acceptPeer: o.acceptPeer ?? (() => true),
  };
}
