// What one vm-tier boot costs (informational, no target): wall time of boot + an empty guest
// test file, of boot + a trivial shell command, with the guest's own phase times, and of the
// issue-4 step-4 scenario (the direct-path proof).
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

  // the issue-4 step-4 proof (ESP and AH transport HoA<->CN with the fast path on both ends, then a move)
  const step4 = 'test/vm/iro-direct-path.test.ts';
  const proof = await runGuestTests([step4], { timeoutS: 900 });
  if (proof.problems.length || proof.exitCode !== 0 || proof.summary.fail !== 0 || proof.summary.pass < 1) {
    throw new Error(`boot + ${step4} failed: ${proof.problems.join('; ') || `exit ${proof.exitCode}, ${proof.summary.fail} failed`}\n${proof.boot.consoleTail}`);
  }
  figures.push({ name: `boot + ${step4} (${proof.summary.pass} tests), wall`, value: proof.boot.wallSeconds, unit: 's', note: proof.boot.accel });
  const pt = proof.boot.guestTimes;
  if (pt.ready !== undefined && pt.end !== undefined) figures.push({ name: '  guest: the scenario itself', value: pt.end - pt.ready, unit: 's' });
  return { suite, figures };
};

export default bench;
