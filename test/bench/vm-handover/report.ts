// The handover benchmark's figures (pure): interruption / RTT per kind of move against the
// issue-6 targets, and the median time of each signalling step so a miss can be placed.
import type { BenchFigure } from '../types.ts';
import { kindMismatch, median, medianOf, type HandoverResult, type MoveKind, type MoveMeasurement, type MovePhases } from './analysis.ts';

const KINDS: Array<{ kind: MoveKind; label: string; target: number; what: string }> = [
  { kind: 'unproven', label: '(a)', target: 3, what: 'never-proven CoA (BU, AOTC, AOTR, BA)' },
  { kind: 'proven', label: '(b)', target: 2, what: 'CoA already proven at the CN (BU, BA)' },
];

/** The steps shown in the breakdown, in protocol order (AOTC/AOTR only where they happen). */
const STEPS: Array<{ key: keyof MovePhases; name: string }> = [
  { key: 'mnDetected', name: 'MN: movement detected (new CoA chosen)' },
  { key: 'mnTunnelFollowed', name: 'MN: MN-HA tunnel moved to the CoA' },
  { key: 'mnIpsecPushed', name: 'MN: tunnel SAs re-pushed' },
  { key: 'mnBuToHa', name: 'MN: BU to the HA sent' },
  { key: 'mnBuToCn', name: 'MN: BU to the CN sent' },
  { key: 'cnBuRx', name: 'CN: BU received' },
  { key: 'mnAotcRx', name: 'MN: AOTC received' },
  { key: 'mnAotrTx', name: 'MN: AOTR sent' },
  { key: 'cnAotrRx', name: 'CN: AOTR received' },
  { key: 'cnBaTx', name: 'CN: BA sent' },
  { key: 'cnRulesAfterBa', name: 'CN: rules written (outgoing to the CoA)' },
  { key: 'mnBaFromCn', name: 'MN: BA from the CN received' },
];

const fmt = (x: number) => x.toFixed(x >= 10 ? 0 : 2);

export function handoverFigures(r: HandoverResult, accel: string): BenchFigure[] {
  const figures: BenchFigure[] = [];
  const rtts = r.moves.map((m) => m.rttMs);
  const rtt = median(rtts);
  figures.push({ name: 'MN-CN RTT set with netem (one-way delay on both ends of the CN link)', value: r.nominalRttMs, unit: 'ms' });
  figures.push({
    name: 'MN-CN RTT measured: probe echo over the direct path, median before the moves',
    value: rtt,
    unit: 'ms',
    note: `${accel}; ICMP ping CoA->CN min ${fmt(r.pingRttMs.min)} ms; probe every ${r.probeIntervalMs} ms${r.startFailures.length ? `; daemon start-ups retried: ${r.startFailures.length} (${r.startFailures.join(' | ')})` : ''}`,
  });
  for (const k of KINDS) {
    const ms = r.moves.filter((m) => m.kind === k.kind);
    if (!ms.length) continue;
    const restored = ms.filter((m): m is MoveMeasurement & { interruptionMs: number } => m.interruptionMs !== null);
    const never = ms.length - restored.length;
    const ratios = restored.map((m) => m.interruptionMs / m.rttMs);
    const nominal = restored.map((m) => m.interruptionMs / r.nominalRttMs);
    const mismatches = ms.map((m) => kindMismatch(m)).filter((x): x is string => x !== null);
    const caveat = [never ? `${never} of ${ms.length} moves: no direct echo within 30 s` : '', ...new Set(mismatches)].filter(Boolean).join('; ');
    const medRatio = ratios.length ? median(ratios) : Number.POSITIVE_INFINITY;
    const maxRatio = never ? Number.POSITIVE_INFINITY : Math.max(...ratios);
    figures.push({
      name: `${k.label} ${k.what}: interruption / RTT, median`,
      value: medRatio,
      unit: 'RTT',
      target: `<= ${k.target}`,
      met: medRatio <= k.target && !mismatches.length,
      note: `n=${ms.length}; vs the netem RTT: ${nominal.length ? fmt(median(nominal)) : '-'}${caveat ? `; ${caveat}` : ''}`,
    });
    figures.push({
      name: `${k.label} ${k.what}: interruption / RTT, max`,
      value: maxRatio,
      unit: 'RTT',
      target: `<= ${k.target}`,
      met: maxRatio <= k.target && !mismatches.length,
      note: `vs the netem RTT: ${nominal.length ? fmt(Math.max(...nominal)) : '-'}`,
    });
    figures.push({
      name: `${k.label} interruption: move -> first echo over the direct path, median`,
      value: medianOf(ms.map((m) => m.interruptionMs)) ?? Number.NaN,
      unit: 'ms',
      note: `max ${restored.length ? fmt(Math.max(...restored.map((m) => m.interruptionMs))) : '-'} ms; first echo on any path (HA tunnel included) median ${fmt(medianOf(ms.map((m) => m.firstEchoAnyPathMs)) ?? Number.NaN)} ms; move command ${fmt(median(ms.map((m) => m.moveCmdMs)))} ms`,
    });
    for (const s of STEPS) {
      const v = medianOf(ms.map((m) => m.phases[s.key]));
      if (v === null) continue;
      figures.push({ name: `  ${k.label} ${s.name}`, value: v, unit: 'ms after move' });
    }
    const probeSent = medianOf(ms.map((m) => m.firstDirectProbeSentMs));
    if (probeSent !== null) figures.push({ name: `  ${k.label} MN: the probe that came back first over the direct path left`, value: probeSent, unit: 'ms after move' });
  }
  return figures;
}
