// Issue 6, VM benchmark: the K05 handover interruption as a ratio to the MN-CN round-trip time
// set with netem. Targets: direct path back within 3 RTTs when an AOTC/AOTR is needed (a CoA
// the CN has never proven), within 2 RTTs when the CoA is already proven. One guest boot runs
// test/bench/vm-handover/guest.ts (three real daemons, a probe flow, A->B->A moves); the daemon
// logs of the run are kept in build/bench/handover-logs/ for the breakdown.
// IRO_BENCH_HANDOVER_DELAY_MS (one-way, default 50) and IRO_BENCH_HANDOVER_REPS (default 5)
// reach the guest with the other IRO_* variables; IRO_BENCH_VERBOSE=1 echoes its console.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/kernel/native.ts';
import { tierUnavailable } from '../lib/capabilities.ts';
import { bootGuest } from '../vm/boot.ts';
import type { HandoverResult } from './vm-handover/analysis.ts';
import { handoverFigures } from './vm-handover/report.ts';
import type { BenchModule } from './types.ts';

const suite = 'K05 handover (vm)';

const tail = (text: string, lines = 60) => text.trimEnd().split('\n').slice(-lines).join('\n');

const bench: BenchModule = async () => {
  const why = tierUnavailable('vm');
  if (why) return { suite, figures: [], skipped: why };
  const boot = await bootGuest({
    job: { mode: 'command', command: '"$IRO_NODE" --import tsx test/bench/vm-handover/guest.ts /run/iro/handover.json /run/iro/handover-logs' },
    timeoutS: 1800,
    keepResults: true,
    ...(process.env.IRO_BENCH_VERBOSE === '1' ? { onConsole: (t: string) => process.stderr.write(t) } : {}),
  });
  try {
    const logs = join(boot.resultsDir, 'handover-logs');
    if (existsSync(logs)) {
      const keep = join(projectRoot(), 'build', 'bench', 'handover-logs');
      rmSync(keep, { recursive: true, force: true });
      mkdirSync(keep, { recursive: true });
      cpSync(logs, keep, { recursive: true });
    }
    const file = join(boot.resultsDir, 'handover.json');
    if (boot.exitCode !== 0 || !existsSync(file)) {
      throw new Error(`the guest run failed (exit ${boot.exitCode}, timed out: ${boot.timedOut}):\n${tail(boot.guestLog || boot.consoleTail)}`);
    }
    const r = JSON.parse(readFileSync(file, 'utf8')) as HandoverResult;
    return { suite, figures: handoverFigures(r, boot.accel) };
  } finally {
    rmSync(boot.resultsDir, { recursive: true, force: true });
  }
};

export default bench;
