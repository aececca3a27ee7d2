// The handover benchmark's pure part: what the guest measures per move, and the breakdown of a
// move's time into signalling steps read from the daemons' debug logs (pino JSON lines, `time`
// in ms since the epoch; the guest's daemons share one clock).

export type MoveKind = 'unproven' | 'proven';

/** Times in ms after the move command started (null: not seen in the move's window). */
export interface MovePhases {
  /** MN: the movement detector reported the new CoA */
  mnDetected: number | null;
  /** MN: the MN-HA tunnel device has the new CoA as its local address */
  mnTunnelFollowed: number | null;
  /** MN: the tunnel's SAs were re-pushed for the new CoA */
  mnIpsecPushed: number | null;
  mnBuToHa: number | null;
  mnBuToCn: number | null;
  cnBuRx: number | null;
  cnAotcTx: number | null;
  mnAotcRx: number | null;
  mnAotrTx: number | null;
  cnAotrRx: number | null;
  cnBaTx: number | null;
  /** CN: the rule map written after the BA (the outgoing rule to the new CoA) */
  cnRulesAfterBa: number | null;
  mnBaFromCn: number | null;
  haBuRx: number | null;
  haBaTx: number | null;
  mnBaFromHa: number | null;
}

export interface MoveMeasurement {
  index: number;
  kind: MoveKind;
  fromIf: string;
  toIf: string;
  coa: string;
  /** median probe RTT on the direct path just before the move */
  rttMs: number;
  /** echoes behind that median */
  rttSamples: number;
  /** the move itself: from handing the prepared `ip -batch` its six commands to its exit */
  moveCmdMs: number;
  /** move -> first echo received on the new foreign interface (the direct path); null: none */
  interruptionMs: number | null;
  /** when the probe answered by that echo left the MN (ms after the move) */
  firstDirectProbeSentMs: number | null;
  /** move -> first echo on any path (the HA tunnel included) */
  firstEchoAnyPathMs: number | null;
  /** the last echo before the move (negative ms) */
  lastEchoBeforeMs: number | null;
  phases: MovePhases;
  /** wall clock (ms since the epoch) when the move started: the breakdown's origin */
  t0WallMs: number;
}

export interface HandoverResult {
  delayMsOneWay: number;
  nominalRttMs: number;
  probeIntervalMs: number;
  /** ICMP ping CoA -> CN before the daemons started (network + netem only) */
  pingRttMs: { min: number; avg: number };
  moves: MoveMeasurement[];
  /** daemon start-ups that failed and were retried (e.g. a crash at start-up) */
  startFailures: string[];
  sendErrors: number;
}

export interface LogLine {
  node: 'mn' | 'cn' | 'ha';
  time: number;
  msg: string;
  fields: Record<string, unknown>;
}

/** JSON log lines of one daemon; anything that is not a JSON object with time and msg is skipped. */
export function parseDaemonLog(node: LogLine['node'], text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof o.time !== 'number' || typeof o.msg !== 'string') continue;
    out.push({ node, time: o.time, msg: o.msg, fields: o });
  }
  return out;
}

/**
 * The signalling steps of one move, from the logs of the three daemons, within [t0, end) (wall
 * ms). Each step is its first occurrence in the window, as ms after t0.
 */
export function movePhases(lines: readonly LogLine[], t0: number, end: number, addr: { cn: string; ha: string }): MovePhases {
  const win = lines.filter((l) => l.time >= t0 && l.time < end).sort((a, b) => a.time - b.time);
  const first = (pred: (l: LogLine) => boolean, after = t0): number | null => {
    const l = win.find((x) => x.time >= after && pred(x));
    return l === undefined ? null : l.time - t0;
  };
  const mh = (node: LogLine['node'], dir: 'sent' | 'received', kind: string, peer?: { field: 'src' | 'dst'; addr: string }) => (l: LogLine) =>
    l.node === node && l.msg === `mobility header ${dir}` && l.fields.kind === kind && (peer === undefined || l.fields[peer.field] === peer.addr);
  const cnBaTx = first(mh('cn', 'sent', 'ba'));
  return {
    mnDetected: first((l) => l.node === 'mn' && l.msg === 'movement'),
    mnTunnelFollowed: first((l) => l.node === 'mn' && l.msg === 'MN-HA tunnel follows the CoA'),
    mnIpsecPushed: first((l) => l.node === 'mn' && l.msg === 'ipsec state pushed'),
    mnBuToHa: first(mh('mn', 'sent', 'bu', { field: 'dst', addr: addr.ha })),
    mnBuToCn: first(mh('mn', 'sent', 'bu', { field: 'dst', addr: addr.cn })),
    cnBuRx: first(mh('cn', 'received', 'bu')),
    cnAotcTx: first(mh('cn', 'sent', 'aotc')),
    mnAotcRx: first(mh('mn', 'received', 'aotc', { field: 'src', addr: addr.cn })),
    mnAotrTx: first(mh('mn', 'sent', 'aotr', { field: 'dst', addr: addr.cn })),
    cnAotrRx: first(mh('cn', 'received', 'aotr')),
    cnBaTx,
    cnRulesAfterBa: cnBaTx === null ? null : first((l) => l.node === 'cn' && l.msg === 'rules reconciled', t0 + cnBaTx),
    mnBaFromCn: first(mh('mn', 'received', 'ba', { field: 'src', addr: addr.cn })),
    haBuRx: first(mh('ha', 'received', 'bu')),
    haBaTx: first(mh('ha', 'sent', 'ba')),
    mnBaFromHa: first(mh('mn', 'received', 'ba', { field: 'src', addr: addr.ha })),
  };
}

/** Whether the move's signalling matches its kind: an AOTC/AOTR exchange exactly when the CoA was unproven. */
export function kindMismatch(m: Pick<MoveMeasurement, 'kind' | 'phases'>): string | null {
  const tested = m.phases.cnAotcTx !== null;
  if (m.kind === 'unproven' && !tested) return 'the CN sent no AOTC for a never-proven CoA';
  if (m.kind === 'proven' && tested) return 'the CN challenged a CoA it had already proven';
  return null;
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median of the non-null values (null when there are none). */
export function medianOf(xs: ReadonlyArray<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? median(v) : null;
}
