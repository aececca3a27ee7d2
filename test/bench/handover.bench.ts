// Issue 6, VM benchmark: the K05 handover interruption as a ratio to the MN-CN round-trip time
// set with netem. Targets: direct path back within 3 RTTs when an AOTC/AOTR is needed (a CoA
// the CN has never proven), within 2 RTTs when the CoA is already proven. One guest boot runs
// test/bench/vm-handover/guest.ts (three real daemons, a probe flow, A->B->A moves); the daemon
// logs of the run are kept in build/bench/handover-logs/ for the breakdown.
// IRO_BENCH_HANDOVER_DELAY_MS (one-way, default 50) and IRO_BENCH_HANDOVER_REPS (default 5)
// reach the guest with the other IRO_* variables; IRO_BENCH_VERBOSE=1 echoes its console.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/kernel/native.ts';
import { tierUnavailable } from '../lib/capabilities.ts';
import { runGuestJob } from './guest-job.ts';
import type { HandoverResult } from './vm-handover/analysis.ts';
import { handoverFigures } from './vm-handover/report.ts';
import type { BenchModule } from './types.ts';

const suite = 'K05 handover (vm)';

const bench: BenchModule = async () => {
  const why = tierUnavailable('vm');
  if (why) return { suite, figures: [], skipped: why };
  const { result, accel } = await runGuestJob<HandoverResult>({
    script: 'test/bench/vm-handover/guest.ts',
    name: 'handover',
    args: ['/run/iro/handover-logs'],
    timeoutS: 1800,
    keep: (resultsDir) => {
      const logs = join(resultsDir, 'handover-logs');
      if (!existsSync(logs)) return;
      const keep = join(projectRoot(), 'build', 'bench', 'handover-logs');
      rmSync(keep, { recursive: true, force: true });
      mkdirSync(keep, { recursive: true });
      cpSync(logs, keep, { recursive: true });
    },
  });
  return { suite, figures: handoverFigures(result, accel) };
};

export default bench;
