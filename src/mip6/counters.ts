// Why a role dropped or refused a message. The strings are stable counter labels (like the codec's
// MH_DECODE_REASONS): renaming one is a metrics change.
export const MIP6_COUNTERS = [
  // --- mobile node ---
  /** An MH from a peer or the HA arrived without IPsec protection. */
  'mn-unprotected',
  /** An MH from an address that is neither the HA nor a configured IRO peer. */
  'mn-unknown-peer',
  /** A message type the MN role never receives (BU, AOTO, AOTR). */
  'mn-unexpected-message',
  /** A BA whose sequence number matches no BU of the current attempt, or with no attempt. */
  'mn-ba-stale',
  /** A BA with status >= 128 (other than 135). */
  'mn-ba-rejected',
  /** A BA with status 135: the MN resynchronises its sequence number and sends a new BU. */
  'mn-ba-seq-out-of-window',
  /** An accepting BA that grants a zero lifetime. */
  'mn-ba-zero-lifetime',
  /** An AOT* message from the HA (IRO §7.2: they never exchange any). */
  'mn-aot-from-ha',
  /** An AOTC whose tested (on-wire destination) address is not one the MN owns. */
  'mn-aotc-not-our-address',
  /** An AOTS for no early test in progress. */
  'mn-aots-unexpected',
  /** An AOTS with a code IRO does not define (OP-45: logged and ignored). */
  'mn-aots-unknown-code',
  /** A BRR that cannot be answered now (no CoA, no MH SA, shutting down, refused recently). */
  'mn-brr-ignored',
  /** A Binding Error from a peer. */
  'mn-be-received',
  /** A BU held back by MAX_UPDATE_RATE (RFC 6275 §11.8). */
  'mn-bu-rate-limited',
  // --- correspondent node ---
  'cn-unprotected',
  /** A BU with H set: this node is not a home agent (BA 131). */
  'cn-bu-home-flag',
  /** AltCoA differs from the on-wire source (OP-23): discarded silently. */
  'cn-bu-altcoa-mismatch',
  /** The acceptPeer policy refused the HoA (BA 129). */
  'cn-bu-refused',
  'cn-bu-seq-out-of-window',
  /** The same BU again (same sequence number): answered as before. */
  'cn-bu-duplicate',
  /** An AOTR with no pending test for (HoA, on-wire source). */
  'cn-aotr-no-test',
  /** An AOTR whose nonce does not match (OP-45: silent drop). */
  'cn-aotr-bad-nonce',
  /** An AOTR for a test already answered: the BA / AOTS is sent again (H07). */
  'cn-aotr-duplicate',
  /** An AOTO from an MN without an effective binding (H08). */
  'cn-aoto-unregistered',
  /** An AOTO whose on-wire source is the HoA itself. */
  'cn-aoto-from-hoa',
  /** An AOTC left unanswered for aotcTtl (H10). */
  'cn-aotc-expired',
  /** A HoA test left unanswered maxMisses times (OP-26). */
  'cn-hoa-test-failed',
  /** A CoA proof evicted by the per-MN or global bound (OP-4). */
  'cn-proof-evicted',
  'cn-unexpected-message',
  // --- home agent ---
  'ha-unprotected',
  /** A BU without H at a node that only runs the HA role. */
  'ha-bu-not-home',
  'ha-bu-altcoa-mismatch',
  /** A BU without AltCoA refused by `missingAltCoa: 'reject'` (I05). */
  'ha-bu-no-altcoa',
  /** BA 129: the SA / identity is not authorised for the HoA (I02). */
  'ha-bu-unauthorized',
  /** BA 133: the HoA is not served by this HA. */
  'ha-bu-not-home-agent',
  /** BA 132: the HoA is outside the home prefixes. */
  'ha-bu-not-home-subnet',
  'ha-bu-seq-out-of-window',
  'ha-bu-duplicate',
  /** An AOT* message at the HA (IRO §7.2): ignored. */
  'ha-aot-ignored',
  'ha-unexpected-message',
  // --- node (dispatch) ---
  /** HoTI/CoTI/HoT/CoT: return routability is not supported (OP-29). */
  'node-rr-unsupported',
  /** An MH type the codec does not know (a BE status 2 may be sent). */
  'node-unknown-mh-type',
  /** A BE status 2 not sent because of the rate limit. */
  'node-be-rate-limited',
  /** A message for a role this node does not run. */
  'node-no-role',
] as const;

export type CounterName = (typeof MIP6_COUNTERS)[number];
