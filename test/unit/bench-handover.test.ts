// The handover benchmark's pure parts (test/bench/vm-handover): probe output parsing, the
// per-move breakdown from daemon logs, and the figures against the issue-6 targets.
import test from 'node:test';
import assert from 'node:assert/strict';
import { kindMismatch, movePhases, parseDaemonLog, type HandoverResult, type MoveMeasurement, type MovePhases } from '../bench/vm-handover/analysis.ts';
import { ProbeLog } from '../bench/vm-handover/probe.ts';
import { handoverFigures } from '../bench/vm-handover/report.ts';

const CN = '2001:db8:c::10';
const HA = '2001:db8:1::2';
const HOA = '2001:db8:1::100';

test('probe output split across chunks is parsed; first echo after a time, on an interface', () => {
  const log = new ProbeLog();
  log.feed('ready\ne 1 100 200 3\ne 2 150 2');
  log.feed('60 3\nx 3 300 101\ne 3 400 500 5\ne 4 450 520 3\ne 5 460 530 5\n');
  assert.equal(log.echoes.length, 5);
  assert.deepEqual(log.echoes[1], { seq: 2, sentNs: 150n, recvNs: 260n, ifindex: 3 });
  assert.equal(log.sendErrors, 1);
  assert.equal(log.firstAfter(300n, 5)?.seq, 3);
  assert.equal(log.firstAfter(300n, 3)?.seq, 4);
  assert.equal(log.firstAfter(300n)?.seq, 3);
  assert.equal(log.firstAfter(600n), undefined);
  assert.equal(log.lastBefore(500n)?.seq, 2);
  assert.deepEqual(log.between(200n, 600n, 3).map((e) => e.seq), [1, 2, 4]);
});

const line = (time: number, msg: string, fields: Record<string, unknown> = {}) => JSON.stringify({ level: 30, time, msg, ...fields });

function logs() {
  const mn = [
    line(990, 'mobility header sent', { kind: 'bu', dst: CN }), // before the move: outside the window
    line(1050, 'movement', { coa: '2001:db8:b::100' }),
    line(1060, 'MN-HA tunnel follows the CoA'),
    line(1100, 'mobility header sent', { kind: 'bu', src: HOA, dst: HA }),
    line(1110, 'mobility header sent', { kind: 'bu', src: HOA, dst: CN }),
    'not json',
    line(1230, 'mobility header received', { kind: 'aotc', src: CN, dst: HOA }),
    line(1240, 'mobility header sent', { kind: 'aotr', src: HOA, dst: CN }),
    line(1400, 'mobility header received', { kind: 'ba', src: CN, dst: HOA }),
    line(1500, 'ipsec state pushed'),
  ].join('\n');
  const cn = [
    line(1170, 'mobility header received', { kind: 'bu' }),
    line(1175, 'mobility header sent', { kind: 'aotc' }),
    line(1180, 'rules reconciled', { put: 1 }),
    line(1300, 'mobility header received', { kind: 'aotr' }),
    line(1320, 'mobility header sent', { kind: 'ba' }),
    line(1330, 'rules reconciled', { put: 2 }),
  ].join('\n');
  return [...parseDaemonLog('mn', mn), ...parseDaemonLog('cn', cn)];
}

test('the breakdown of a move: first occurrence of each step in the window, ms after the move', () => {
  const p = movePhases(logs(), 1000, 5000, { cn: CN, ha: HA });
  assert.equal(p.mnDetected, 50);
  assert.equal(p.mnBuToHa, 100);
  assert.equal(p.mnBuToCn, 110);
  assert.equal(p.cnBuRx, 170);
  assert.equal(p.cnAotcTx, 175);
  assert.equal(p.mnAotcRx, 230);
  assert.equal(p.mnAotrTx, 240);
  assert.equal(p.cnAotrRx, 300);
  assert.equal(p.cnBaTx, 320);
  assert.equal(p.cnRulesAfterBa, 330, 'the rules written after the BA, not those after the BU');
  assert.equal(p.mnBaFromCn, 400);
  assert.equal(p.mnIpsecPushed, 500);
  assert.equal(p.haBuRx, null);
  assert.equal(kindMismatch({ kind: 'unproven', phases: p }), null);
  assert.match(kindMismatch({ kind: 'proven', phases: p }) ?? '', /already proven/);
  // a window that ends before the BA
  assert.equal(movePhases(logs(), 1000, 1310, { cn: CN, ha: HA }).cnBaTx, null);
});

function move(kind: MoveMeasurement['kind'], interruptionMs: number | null, rttMs: number, aotc: boolean): MoveMeasurement {
  const phases = Object.fromEntries(Object.keys(movePhases([], 0, 0, { cn: CN, ha: HA })).map((k) => [k, null])) as unknown as MovePhases;
  phases.cnAotcTx = aotc ? 10 : null;
  phases.cnBaTx = 100;
  return {
    index: 0, kind, fromIf: 'fa', toIf: 'fb', coa: '2001:db8:b::100', rttMs, rttSamples: 100, moveCmdMs: 5,
    interruptionMs, firstDirectProbeSentMs: null, firstEchoAnyPathMs: 10, lastEchoBeforeMs: -3, phases, t0WallMs: 0,
  };
}

function result(moves: MoveMeasurement[]): HandoverResult {
  return { delayMsOneWay: 50, nominalRttMs: 100, probeIntervalMs: 5, pingRttMs: { min: 101, avg: 102 }, moves, startFailures: [], sendErrors: 0 };
}

const fig = (figs: ReturnType<typeof handoverFigures>, prefix: string) => figs.find((f) => f.name.startsWith(prefix))!;

test('figures: interruption / RTT against 3 RTT (unproven) and 2 RTT (proven), median and max', () => {
  const f = handoverFigures(result([move('unproven', 250, 100, true), move('unproven', 350, 100, true), move('proven', 180, 100, false), move('proven', 150, 120, false)]), 'tcg');
  const aMed = fig(f, '(a) never-proven CoA (BU, AOTC, AOTR, BA): interruption / RTT, median');
  const aMax = fig(f, '(a) never-proven CoA (BU, AOTC, AOTR, BA): interruption / RTT, max');
  assert.equal(aMed.value, 3);
  assert.equal(aMed.met, true);
  assert.equal(aMax.value, 3.5);
  assert.equal(aMax.met, false);
  const bMax = fig(f, '(b) CoA already proven at the CN (BU, BA): interruption / RTT, max');
  assert.equal(bMax.value, 1.8);
  assert.equal(bMax.met, true);
  assert.equal(fig(f, '  (b) CN: BA sent').value, 100);
});

test('figures: a move without a direct echo, or with the wrong signalling, never meets the target', () => {
  const f = handoverFigures(result([move('unproven', 200, 100, true), move('unproven', null, 100, true), move('proven', 100, 100, true)]), 'tcg');
  const aMax = fig(f, '(a) never-proven CoA (BU, AOTC, AOTR, BA): interruption / RTT, max');
  assert.equal(aMax.value, Number.POSITIVE_INFINITY);
  assert.equal(aMax.met, false);
  assert.match(fig(f, '(a) never-proven CoA (BU, AOTC, AOTR, BA): interruption / RTT, median').note ?? '', /1 of 2 moves: no direct echo/);
  const bMed = fig(f, '(b) CoA already proven at the CN (BU, BA): interruption / RTT, median');
  assert.equal(bMed.value, 1);
  assert.equal(bMed.met, false, 'the CN challenged a CoA it had proven: not the case being measured');
});
