// `npm run vm:shell`: the test VM with an interactive shell on its serial console, in the
// project directory, with the same modules, mounts and environment as a test run.
// `npm run vm:shell -- COMMAND...` runs one shell command in the guest instead and exits with
// its status. Exit the shell (or Ctrl-D) to power off; Ctrl-A x kills qemu.
import { tierUnavailable } from '../lib/capabilities.ts';
import { bootGuest } from './boot.ts';
import { vmDeadlineSeconds } from './harness.ts';

async function main(): Promise<number> {
  const why = tierUnavailable('vm');
  if (why) {
    console.error(`vm:shell: cannot boot the test VM here: ${why}`);
    return 2;
  }
  const command = process.argv.slice(2).join(' ').trim();
  if (command) {
    const r = await bootGuest({
      job: { mode: 'command', command },
      timeoutS: vmDeadlineSeconds(1),
      color: process.stdout.isTTY === true,
      onConsole: (t) => process.stdout.write(t),
    });
    if (r.timedOut) console.error(`vm:shell: guest killed at the deadline (IRO_VM_TIMEOUT_S)`);
    if (r.initError) console.error(`vm:shell: guest init failed: ${r.initError}`);
    if (r.modulesFailed.length) console.error(`vm:shell: modules that failed to load: ${r.modulesFailed.join(' ')}`);
    return r.exitCode ?? 1;
  }
  console.error('vm:shell: booting (TCG: ~15 s). Exit the shell or press Ctrl-D to power off; Ctrl-A x kills qemu.');
  const r = await bootGuest({ job: { mode: 'shell' }, interactive: true });
  if (r.initError) console.error(`vm:shell: guest init failed: ${r.initError}`);
  return r.exitCode ?? (r.qemu.code === 0 ? 0 : 1);
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
