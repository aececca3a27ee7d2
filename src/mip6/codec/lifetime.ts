// BU, BA and Binding Refresh Advice carry times in 16-bit units of 4 seconds (RFC 6275 §6.1.7,
// §6.1.8, §6.2.4). The API speaks seconds; conversion happens only at the wire.
import { LIFETIME_UNIT_SECONDS, MAX_LIFETIME_SECONDS } from './constants.ts';

/**
 * Seconds -> 4-second units, rounding down so a binding never outlives what was asked
 * (1800 s -> 450, 7 s -> 1). Above 262140 s there is no encoding: we reject rather than
 * clamp silently, so the caller decides (DIGEST A12).
 */
export function secondsToLifetimeUnits(seconds: number, what = 'lifetime'): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(`${what} must be a finite number of seconds >= 0, got ${String(seconds)}`);
  }
  if (seconds > MAX_LIFETIME_SECONDS) {
    throw new RangeError(
      `${what} ${seconds} s exceeds the maximum ${MAX_LIFETIME_SECONDS} s (0xffff units of ${LIFETIME_UNIT_SECONDS} s)`,
    );
  }
  return Math.floor(seconds / LIFETIME_UNIT_SECONDS);
}

export function lifetimeUnitsToSeconds(units: number): number {
  return units * LIFETIME_UNIT_SECONDS;
}
