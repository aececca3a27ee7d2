// RFC 6275 §12 protocol constants and §13 configuration defaults the state machines use
// (DIGEST §1.4.5), in milliseconds, plus the IRO decisions of DIGEST OP-3/OP-4/OP-5/OP-22.

/** INITIAL_BINDACK_TIMEOUT. */
export const INITIAL_BINDACK_TIMEOUT_MS = 1000;
/** InitialBindackTimeoutFirstReg: first home registration (the HA may run DAD). */
export const INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS = 1500;
/** MAX_BINDACK_TIMEOUT: the back-off stops doubling here and goes on at this rate. */
export const MAX_BINDACK_TIMEOUT_MS = 32000;
/** MAX_UPDATE_RATE: at most this many BUs per second to one destination. */
export const MAX_UPDATE_RATE = 3;

/** OP-3: an AOTR is sent at most this many times before a new BU. */
export const AOTR_MAX_TRIES = 5;
/** OP-3: an AOTO is sent at most this many times. */
export const AOTO_MAX_TRIES = 3;

/** OP-22: default correspondent binding lifetime (s) and the MN's refresh point. */
export const DEFAULT_CN_BINDING_LIFETIME_S = 1800;
export const DEFAULT_REFRESH_FRACTION = 0.8;

/** OP-5: pending AOTC lifetime and how long a nonce is kept after the BA. */
export const DEFAULT_AOTC_TTL_MS = 60_000;
export const DEFAULT_NONCE_KEEP_AFTER_BA_MS = 60_000;

/** OP-4: proof bounds. */
export const DEFAULT_PROOFS_PER_MN = 16;
export const DEFAULT_PROOF_IDLE_TTL_MS = 30 * 24 * 3600 * 1000;
export const DEFAULT_PROOFS_TOTAL = 100_000;
