// Guest side of the K05 handover benchmark (issue 6): run in the test VM by handover.bench.ts.
//
//   node --import tsx test/bench/vm-handover/guest.ts RESULT.json [LOG_DIR]
//
// The standard IRO topology with netem on the CN link (both ends: each direction of MN<->CN
// gets the one-way delay, the MN-HA path none), the three example daemons, a UDP probe from
// the HoA to the CN every few ms, then moves A -> B (each time to a CoA on B the CN has never
// seen: an AOTC/AOTR is needed) and B -> A (the CoA on A is proven: BU -> BA only). Per move:
// the time from the move to the first echo that comes back over the direct path, i.e. on the
// new foreign interface (IPV6_PKTINFO), the probe RTT just before it, and the signalling steps
// from the daemons' debug logs.
//
// Environment: IRO_BENCH_HANDOVER_DELAY_MS (one-way, default 50), IRO_BENCH_HANDOVER_REPS
// (A->B->A cycles, default 5).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalIPv6 } from '../../../src/common/ipv6.ts';
import { Deployment, mnEntry } from '../../lib/scenario/deployment.ts';
import { iroTopology, type IroTopology } from '../../lib/topology/index.ts';
import { addrArgs, batchText, linkUpDown, routeArgs } from '../../lib/topology/commands.ts';
import { kindMismatch, median, movePhases, parseDaemonLog, type HandoverResult, type LogLine, type MoveKind, type MoveMeasurement } from './analysis.ts';
import { startProbeClient, startProbeServer, type ProbeFlow } from './probe.ts';

const PROBE_PORT = 7301;
const PROBE_INTERVAL_MS = 5;
/** steady state before each move: the RTT is the median over the last part of it */
const SETTLE_MS = 2500;
const RTT_WINDOW_MS = 1500;
const DIRECT_ECHO_TIMEOUT_MS = 30_000;
const START_ATTEMPTS = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowNs = () => process.hrtime.bigint();
const msBetween = (from: bigint, to: bigint) => Number(to - from) / 1e6;

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${v}"`);
  return n;
}

interface Setup {
  topo: IroTopology;
  dep: Deployment;
  ping: { min: number; avg: number };
}

async function setUp(delayMs: number, attempt: number): Promise<Setup> {
  const topo = await iroTopology({ prefix: `hob${attempt}`, netem: { cn: { delayMs } } });
  const dep = new Deployment('handover');
  try {
    const { addr } = topo;
    const p = await topo.mn.ping(addr.cn, { count: 5, intervalMs: 200 });
    if (!p.rtt) throw new Error(`no ping RTT MN -> CN: ${p.output}`);
    for (const n of ['ha', 'cn', 'mn'] as const) dep.configure(n);
    await dep.start('ha', topo.ha.ns);
    await dep.start('cn', topo.cn.ns);
    await dep.start('mn', topo.mn.ns);
    await dep.waitFor('mn', (st) => mnEntry(st, addr.ha)?.state === 'effective' && mnEntry(st, addr.cn)?.state === 'effective', 'home and correspondent registrations', 120_000);
    return { topo, dep, ping: { min: p.rtt.min, avg: p.rtt.avg } };
  } catch (e) {
    await dep.destroy().catch(() => undefined);
    await topo.destroy().catch(() => undefined);
    throw e;
  }
}

interface Attachment {
  ifname: string;
  coa: string;
  prefixlen: number;
  router: string;
}

/**
 * A move, break before make, as IroTopology.moveMn but to any CoA (a fresh one per A->B move).
 * The `ip -batch` process is started beforehand and gets its commands at go(): its start-up
 * (300-500 ms under TCG) is not part of the move, and the six changes still land within a few
 * ms of each other (the movement detector must not see a half-done move; rtnetlink requests
 * from this process were far enough apart under load that it did).
 */
class PreparedMove {
  private readonly child: ChildProcess;
  private readonly text: string;
  private readonly exited: Promise<{ code: number | null; stderr: string }>;

  constructor(ns: string, from: Attachment, to: Attachment) {
    this.child = spawn('ip', ['-6', '-n', ns, '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve({ code, stderr })));
    this.text = batchText([
      routeArgs('del', { dst: 'default', via: from.router, dev: from.ifname }),
      addrArgs('del', `${from.coa}/${from.prefixlen}`, from.ifname),
      linkUpDown(from.ifname, false),
      linkUpDown(to.ifname, true),
      addrArgs('add', `${to.coa}/${to.prefixlen}`, to.ifname),
      routeArgs('add', { dst: 'default', via: to.router, dev: to.ifname }),
    ]);
  }

  /** Hand the commands over; resolves when ip has run them all and exited. */
  async go(): Promise<void> {
    this.child.stdin!.end(this.text);
    const r = await this.exited;
    if (r.code !== 0) throw new Error(`the move failed (ip -batch exit ${r.code}): ${r.stderr.trim()}`);
  }

  cancel(): void {
    this.child.kill('SIGKILL');
  }
}

/** The moves, measured; the daemons are stopped (their logs complete) when it returns. */
async function measureMoves(s: Setup, delayMs: number, reps: number, logDir: string | undefined, startFailures: string[]): Promise<HandoverResult> {
  const { topo, dep } = s;
  const { addr } = topo;
  const cn = canonicalIPv6(addr.cn);
  const ha = canonicalIPv6(addr.ha);
  const prefixlen = (p: string) => Number(p.split('/')[1]);
  const link = {
    A: { ifname: 'fa', ifindex: topo.mn.ifindex('fa'), router: addr.router.foreignA, prefixlen: prefixlen(addr.prefixes.foreignA) },
    B: { ifname: 'fb', ifindex: topo.mn.ifindex('fb'), router: addr.router.foreignB, prefixlen: prefixlen(addr.prefixes.foreignB) },
  };

  const moves: MoveMeasurement[] = [];
  let probe: ProbeFlow | undefined;
  let server: Awaited<ReturnType<typeof startProbeServer>> | undefined;
  try {
    server = await startProbeServer(topo.cn, addr.cn, PROBE_PORT);
    probe = await startProbeClient(topo.mn, addr.mn.hoa, addr.cn, PROBE_PORT, PROBE_INTERVAL_MS);
    const log = probe.log;
    let at: { side: 'A' | 'B'; coa: string } = { side: 'A', coa: addr.mn.coaA };

    const measure = async (index: number, kind: MoveKind, side: 'A' | 'B', coa: string): Promise<void> => {
      const from = link[at.side];
      const to = link[side];
      const move = new PreparedMove(topo.mn.ns, { ...from, coa: at.coa }, { ...to, coa });
      await sleep(SETTLE_MS);
      const t = nowNs();
      const before = log.between(t - BigInt(RTT_WINDOW_MS) * 1_000_000n, t, from.ifindex);
      if (before.length < 10) {
        move.cancel();
        throw new Error(`move ${index}: only ${before.length} direct echoes on ${from.ifname} in the ${RTT_WINDOW_MS} ms before the move (the probe does not run over the direct path)`);
      }
      const rttMs = median(before.map((e) => msBetween(e.sentNs, e.recvNs)));

      const t0WallMs = Date.now();
      const t0 = nowNs();
      await move.go();
      const t1 = nowNs();
      at = { side, coa };

      // No status polling of the daemons until the direct path is back: it would compete with them for the CPU.
      const newIf = to.ifindex;
      const deadline = Date.now() + DIRECT_ECHO_TIMEOUT_MS;
      while (!log.firstAfter(t0, newIf) && Date.now() < deadline) await sleep(10);
      const direct = log.firstAfter(t0, newIf);
      const any = log.firstAfter(t0);
      const last = log.lastBefore(t0);
      const want = canonicalIPv6(coa);
      await dep.waitFor(
        'mn',
        (st) => mnEntry(st, addr.cn)?.coa === want && mnEntry(st, addr.cn)?.state === 'effective' && mnEntry(st, addr.ha)?.coa === want && mnEntry(st, addr.ha)?.state === 'effective',
        `move ${index}: both registrations from ${want}`,
        60_000,
      );
      const m: MoveMeasurement = {
        index,
        kind,
        fromIf: from.ifname,
        toIf: to.ifname,
        coa: want,
        rttMs,
        rttSamples: before.length,
        moveCmdMs: msBetween(t0, t1),
        interruptionMs: direct ? msBetween(t0, direct.recvNs) : null,
        firstDirectProbeSentMs: direct ? msBetween(t0, direct.sentNs) : null,
        firstEchoAnyPathMs: any ? msBetween(t0, any.recvNs) : null,
        lastEchoBeforeMs: last ? msBetween(t0, last.recvNs) : null,
        phases: movePhases([], 0, 0, { cn, ha }), // all null here: read from the logs once the daemons have stopped
        t0WallMs,
      };
      moves.push(m);
      console.log(`handover: move ${index} ${kind} ${from.ifname}->${to.ifname} ${want}: direct path after ${m.interruptionMs?.toFixed(1) ?? 'never'} ms, RTT ${rttMs.toFixed(1)} ms`);
    };

    let index = 0;
    for (let r = 0; r < reps; r++) {
      // a fresh address on B each time: never proven at the CN
      await measure(index++, 'unproven', 'B', addr.mn.coaB.replace(/::100$/, `::${(0x100 + r).toString(16)}`));
      await measure(index++, 'proven', 'A', addr.mn.coaA);
    }
    await sleep(500);
  } finally {
    await probe?.stop();
    await server?.stop();
    await dep.stopAll();
  }

  // The logs are complete once the daemons have exited.
  const lines: LogLine[] = [];
  for (const node of ['mn', 'cn', 'ha'] as const) {
    const file = dep.nodes.get(node)!.log;
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      console.error(`handover: no log for ${node}: ${(e as Error).message}`);
    }
    lines.push(...parseDaemonLog(node, text));
    if (logDir) {
      mkdirSync(logDir, { recursive: true });
      writeFileSync(join(logDir, `${node}.log`), text);
    }
  }
  for (const [i, m] of moves.entries()) {
    const end = moves[i + 1]?.t0WallMs ?? Number.POSITIVE_INFINITY;
    m.phases = movePhases(lines, m.t0WallMs, end, { cn, ha });
    const bad = kindMismatch(m);
    if (bad) console.error(`handover: move ${m.index}: ${bad}`);
  }
  return {
    delayMsOneWay: delayMs,
    nominalRttMs: 2 * delayMs,
    probeIntervalMs: PROBE_INTERVAL_MS,
    pingRttMs: s.ping,
    moves,
    startFailures,
    sendErrors: probe?.log.sendErrors ?? 0,
  };
}

async function main(): Promise<void> {
  const [resultPath, logDir] = process.argv.slice(2);
  if (!resultPath) throw new Error('usage: guest.ts RESULT.json [LOG_DIR]');
  const delayMs = envNumber('IRO_BENCH_HANDOVER_DELAY_MS', 50);
  const reps = Math.round(envNumber('IRO_BENCH_HANDOVER_REPS', 5));

  const startFailures: string[] = [];
  let s: Setup | undefined;
  for (let attempt = 1; attempt <= START_ATTEMPTS && !s; attempt++) {
    try {
      s = await setUp(delayMs, attempt);
    } catch (e) {
      const msg = (e as Error).message;
      startFailures.push(msg.split('\n')[0]!);
      console.error(`handover: start-up attempt ${attempt} failed: ${msg.slice(0, 3000)}`);
    }
  }
  if (!s) throw new Error(`the deployment did not start in ${START_ATTEMPTS} attempts: ${startFailures.join(' | ')}`);
  try {
    const result = await measureMoves(s, delayMs, reps, logDir, startFailures);
    writeFileSync(resultPath, JSON.stringify(result, null, 1));
  } finally {
    await s.dep.destroy();
    await s.topo.destroy();
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`handover benchmark failed: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
