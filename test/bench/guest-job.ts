// A benchmark's guest half: one boot runs `script` (a test/bench/... file) with node, which
// writes its result as JSON to /run/iro/<name>.json; the host reads it back. `keep` sees the
// results directory first (e.g. to copy logs the script left there).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bootGuest } from '../vm/boot.ts';

export interface GuestJob {
  script: string;
  /** the result file's name without .json; also passed to the script as its first argument */
  name: string;
  /** further arguments, e.g. a directory under /run/iro for logs */
  args?: string[];
  timeoutS: number;
  keep?: (resultsDir: string) => void;
}

export async function runGuestJob<T>(job: GuestJob): Promise<{ result: T; accel: string }> {
  const args = [`/run/iro/${job.name}.json`, ...(job.args ?? [])].join(' ');
  const boot = await bootGuest({
    job: { mode: 'command', command: `"$IRO_NODE" --import tsx ${job.script} ${args}` },
    timeoutS: job.timeoutS,
    keepResults: true,
    ...(process.env.IRO_BENCH_VERBOSE === '1' ? { onConsole: (t: string) => process.stderr.write(t) } : {}),
  });
  try {
    job.keep?.(boot.resultsDir);
    const file = join(boot.resultsDir, `${job.name}.json`);
    if (boot.exitCode !== 0 || !existsSync(file)) {
      const tail = (boot.guestLog || boot.consoleTail).trimEnd().split('\n').slice(-60).join('\n');
      throw new Error(`the guest run of ${job.script} failed (exit ${boot.exitCode}, timed out: ${boot.timedOut}):\n${tail}`);
    }
    return { result: JSON.parse(readFileSync(file, 'utf8')) as T, accel: boot.accel };
  } finally {
    rmSync(boot.resultsDir, { recursive: true, force: true });
  }
}
