// The contract between the mobility signalling core (MN, CN and HA state machines) and the rest of
// iro-ctl: the daemon shell feeds events in, carries actions out. Nothing here does I/O.
//
// Time is a number of milliseconds on any monotonic clock (the shell's and the fake clock's
// origin do not matter; only differences do). Lifetimes inside messages stay in seconds, as in
// the codec. Addresses are IPv6 text; the roles canonicalise (RFC 5952) whatever they are given
// and always emit canonical text, so the shell may compare them as strings.
import type { MhMessage } from './codec/index.ts';
import type { CounterName } from './counters.ts';

/** IPv6 address as text; canonical (RFC 5952) in everything the roles emit. */
export type Address = string;

/** The on-wire address field value meaning "unchanged on the wire" (IRO §5.1.1). */
export const UNCHANGED: Address = '::';

/** The IPsec SA that protected a received MH (from the SPI-keyed ancillary record). */
export interface IpsecSaRef {
  proto: 'esp' | 'ah';
  spi: number;
}

// ---------------------------------------------------------------------------------------------
// Input events
// ---------------------------------------------------------------------------------------------

/**
 * A Mobility Header message decoded by the socket loop (malformed ones never get here: the codec
 * drops and counts them). `src`/`dst` are the addresses the MH socket saw (HoA level, after the
 * datapath's remap); `onWireSrc`/`onWireDst` are the original on-wire addresses from the
 * ancillary channel, UNCHANGED ('::') when the datapath did not rewrite that field (IRO §5.1.1,
 * DIGEST OP-8/OP-11).
 */
export interface MhReceivedEvent {
  type: 'mh-received';
  msg: MhMessage;
  src: Address;
  dst: Address;
  onWireSrc: Address;
  onWireDst: Address;
  /**
   * The IPsec SA that protected the message. Absent = not known to be protected: every role drops
   * it (requireIpsec, default on). The ancillary record gives the SPI when the datapath rewrote
   * the packet; when it did not (e.g. an AOTC to the HoA through the HA tunnel, anything on the
   * home link), the shell fills in the inbound MH SA of the (src, dst) pair, since the kernel's
   * inbound policy check already required IPsec for MH with that peer.
   */
  sa?: IpsecSaRef;
  /**
   * The authenticated IKE phase-1 identity behind that SA, when the shell knows it (dynamic
   * keying). Only the HA uses it, for the per-HoA authorisation ([HAIPSEC] P9, DIGEST I02).
   */
  peerIdentity?: string;
}

/** A timer the role scheduled (on the shared TimerScheduler) is due. */
export interface TimerEvent {
  type: 'timer';
  key: string;
}

/**
 * Movement detection result (MN only). `coa` is the primary care-of address, null when there is
 * no usable one; `atHome` is true on the home link (then `coa` is null). `candidates` are other
 * addresses the MN owns and may switch to: they are offered to registered CNs for an early CoA
 * test when the MN's `earlyTests` option is on (IRO §4.5.2).
 */
export interface MovementEvent {
  type: 'movement';
  coa: Address | null;
  atHome: boolean;
  candidates?: Address[];
}

/**
 * The MH SA pair with `peer` exists (present) or is gone (MN only). A correspondent registration
 * is attempted only while it exists: the BU, AOTR and BA travel on it. The HA entry is assumed
 * present until told otherwise (MN-HA SAs are normally static, [HAIPSEC] §4.2).
 */
export interface PeerMhSaEvent {
  type: 'peer-mh-sa';
  peer: Address;
  present: boolean;
}

/** `iro-ctl down`: the MN deregisters everywhere (lifetime 0) and stops registering. */
export interface ShutdownEvent {
  type: 'shutdown';
}

export type Mip6Event = MhReceivedEvent | TimerEvent | MovementEvent | PeerMhSaEvent | ShutdownEvent;

// ---------------------------------------------------------------------------------------------
// Output actions
// ---------------------------------------------------------------------------------------------

/**
 * Send `msg` from `src` to `dst` (HoA-level addresses: the MH socket binds/sends with them, the
 * checksum covers them). `onWireSrc`/`onWireDst` are the ancillary addresses the IRO data path
 * must put on the wire instead (DIGEST OP-10): the MN sends a BU/AOTR/AOTO from src=HoA with
 * onWireSrc=CoA; the CN sends AOTC/AOTS/BA/BRR to dst=HoA with onWireDst=CoA. Absent = no
 * ancillary address: the packet leaves as addressed (e.g. via the HA tunnel for a HoA).
 */
export interface SendAction {
  type: 'send';
  msg: MhMessage;
  src: Address;
  dst: Address;
  onWireSrc?: Address;
  onWireDst?: Address;
}

/** MN binding state towards one peer, as the rule engine needs it (DIGEST G02, G14). */
export type MnBindingState = 'none' | 'bu-sent' | 'effective';

export interface MnBindingView {
  /** The address BUs go to: the HA, a CN, or a peer MN's HoA (OP-7). */
  peer: Address;
  /** True for the home registration (the HA entry). */
  home: boolean;
  /**
   * The CoA this binding (or registration attempt) is for; null when none (state 'none', or a
   * deregistration sent from the home link).
   */
  coa: Address | null;
  /**
   * 'bu-sent': a BU for `coa` was emitted and no BA yet: direct the outgoing data (src HoA->CoA)
   * now (IRO §4.5.1, G02). 'effective': a status < 128 BA was received. 'none': no direct path.
   */
  state: MnBindingState;
  /**
   * A lifetime-0 BU is in flight: keep the MH rules (the BA must come back on them) but no new
   * data traffic should start on the direct path. Cleared, with state 'none', after the BA or the
   * deregistration timeout (G13).
   */
  deregistering: boolean;
}

/**
 * MN: every BUL entry, sent as one batch whenever anything in it changed, so that one movement
 * becomes one reconciliation pass over the rules (G14). `coa` is the current primary CoA (the
 * static fallback of the MH SA rules, E7; the expected dst of the incoming MH rule, P-MN-1).
 */
export interface MnBindingsChanged {
  type: 'binding-changed';
  role: 'mn';
  hoa: Address;
  coa: Address | null;
  atHome: boolean;
  bindings: MnBindingView[];
}

/**
 * CN: one entry per MN whose binding changed in this step (a delta: the cache may be large).
 * `acceptedCoa` drives the incoming data rule (src CoA->HoA), installed as soon as a BU is
 * accepted (P-CN-1.6). `provenCoa` drives the outgoing rule (dst HoA->CoA): set only once the
 * CoA is proven and the status-0 BA sent (E1, P-CN-3), and kept on the old proven CoA while a
 * new one is being tested (OP-6); null when no outgoing rule may exist.
 */
export type CnBindingChange =
  | { hoa: Address; removed: false; acceptedCoa: Address; provenCoa: Address | null }
  | { hoa: Address; removed: true };

export interface CnBindingsChanged {
  type: 'binding-changed';
  role: 'cn';
  bindings: CnBindingChange[];
}

/** HA: one entry per MN whose home binding changed in this step; `lifetime` in seconds. */
export type HaBindingChange =
  | { hoa: Address; removed: false; coa: Address; lifetime: number }
  | { hoa: Address; removed: true };

export interface HaBindingsChanged {
  type: 'binding-changed';
  role: 'ha';
  bindings: HaBindingChange[];
}

export type BindingChangedAction = MnBindingsChanged | CnBindingsChanged | HaBindingsChanged;

/** A drop or noteworthy event, by stable label (see counters.ts). */
export interface CounterAction {
  type: 'counter';
  name: CounterName;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A log line for pino. Fields never contain key material or nonces. */
export interface LogAction {
  type: 'log';
  level: LogLevel;
  msg: string;
  fields: Record<string, string | number | boolean | null>;
}

export type Mip6Action = SendAction | BindingChangedAction | CounterAction | LogAction;

/** What every role (and the composite node) is: a reducer over events. */
export interface Mip6Role {
  handle(event: Mip6Event, now: number): Mip6Action[];
}
