// RFC 6275 §11.8 retransmission: start at an initial timeout, double after every transmission,
// stop doubling at MAX_BINDACK_TIMEOUT and go on at that rate.
import { MAX_BINDACK_TIMEOUT_MS } from './constants.ts';

/** The timeout after the one just used. */
export function nextTimeout(current: number, max = MAX_BINDACK_TIMEOUT_MS): number {
  return Math.min(current * 2, max);
}

/**
 * The first `count` retransmission intervals from `initial` (e.g. 1000 -> 1000, 2000, 4000, 8000,
 * 16000, 32000, 32000 ...): what DIGEST G06 expects; used by tests and `status` output.
 */
export function backoffSchedule(initial: number, count: number, max = MAX_BINDACK_TIMEOUT_MS): number[] {
  const out: number[] = [];
  let t = Math.min(initial, max);
  for (let i = 0; i < count; i++) {
    out.push(t);
    t = nextTimeout(t, max);
  }
  return out;
}
