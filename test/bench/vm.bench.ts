// What one vm-tier boot costs (informational, no target): wall time of boot + an empty guest
// test file, and of boot + a trivial shell command, with the guest's own phase times.
// Under TCG these depend on the machine and its load; compare runs on the same machine only.
import { bootGuest } from '../vm/boot.ts';
import { runGuestTests } from '../vm/harness.ts';
import { tierUnavailable } from '../lib/capabilities.ts';
import type { BenchFigure, BenchModule } from './types.ts';

const suite = 'vm boot';

const bench: BenchModule = async () => {
  const why = tierUnavailable('vm');
  if (why) return { suite, figures: [], skipped: why };
  const figures: BenchFigure[] = [];

  const bare = await bootGuest({ job: { mode: 'command', command: 'true' }, timeoutS: 300 });
  if (bare.exitCode !== 0) throw new Error(`boot + "true" failed (exit ${bare.exitCode}, timed out ${bare.timedOut}):\n${bare.consoleTail}`);
  figures.push({ name: 'boot + shell command "true", wall', value: bare.wallSeconds, unit: 's', note: bare.accel });

  const run = await runGuestTests(['test/vm/fixtures/empty.fixture.ts'], { timeoutS: 300 });
  if (run.problems.length || run.exitCode !== 0 || run.summary.pass !== 1) {
    throw new Error(`boot + empty guest test failed: ${run.problems.join('; ') || `exit ${run.exitCode}`}\n${run.boot.consoleTail}`);
  }
  const b = run.boot;
  const t = b.guestTimes;
  figures.push({ name: 'boot + empty guest test, wall', value: b.wallSeconds, unit: 's', note: b.accel });
  if (t.stage2 !== undefined && t.ready !== undefined && t.end !== undefined) {
    figures.push({ name: '  guest: kernel + initramfs until root mounted', value: t.stage2, unit: 's' });
    figures.push({ name: '  guest: mounts + modprobe', value: t.ready - t.stage2, unit: 's' });
    figures.push({ name: '  guest: node --test (runner + 1 file, tsx)', value: t.end - t.ready, unit: 's' });
    figures.push({ name: '  host: qemu start + firmware + power-off', value: b.wallSeconds - t.end, unit: 's' });
  }
  return { suite, figures };
};

export default bench;
