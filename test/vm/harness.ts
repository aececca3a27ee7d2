// The vm tier: guest test files run in ONE boot of the test VM; the harness's own host-side
// self-tests (test/vm/host/**) run on the host. Anything that keeps the guest from reporting
// (deadline, no TAP, no exit status, a broken initramfs) is a failure, never a silent pass.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/kernel/native.ts';
import { addSummaries, parseTapSummary, type TapSummary } from '../lib/tap.ts';
import { bootGuest, type BootResult } from './boot.ts';

export interface GuestRunOptions {
  /** deadline for the whole boot; default vmDeadlineSeconds(files.length) */
  timeoutS?: number;
  /** echo the guest console to this process's stdout as it arrives */
  stream?: boolean;
  /** modules to load in the guest (default GUEST_MODULES) */
  modules?: string[];
}

export interface GuestRun {
  summary: TapSummary;
  exitCode: number;
  /** why the run failed beyond failing tests (deadline, missing results...) */
  problems: string[];
  boot: BootResult;
}

const BASE_DEADLINE_S = 180;
const PER_FILE_DEADLINE_S = 120;

/** IRO_VM_TIMEOUT_S (seconds, whole boot) or a default that grows with the number of files. */
export function vmDeadlineSeconds(files: number): number {
  const env = process.env.IRO_VM_TIMEOUT_S;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`IRO_VM_TIMEOUT_S must be a positive number of seconds, got "${env}"`);
    return n;
  }
  return BASE_DEADLINE_S + PER_FILE_DEADLINE_S * files;
}

const HOST_SIDE = /(^|\/)test\/vm\/host\//;
export const isHostSideFile = (file: string): boolean => HOST_SIDE.test(file);

const emptySummary = (): TapSummary => ({ tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0, skippedNames: [] });

/** One failed "test" standing for a harness-level failure, so the closing summary counts it. */
const harnessFailure = (): TapSummary => ({ ...emptySummary(), tests: 1, fail: 1 });

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Boot once and run these guest test files (paths relative to the project root) in it. */
export async function runGuestTests(files: string[], opts: GuestRunOptions = {}): Promise<GuestRun> {
  const timeoutS = opts.timeoutS ?? vmDeadlineSeconds(files.length);
  const stream = opts.stream ?? false;
  const boot = await bootGuest({
    job: { mode: 'tests', files },
    timeoutS,
    modules: opts.modules,
    color: stream && process.stdout.isTTY === true,
    onConsole: stream ? (t) => process.stdout.write(t) : undefined,
  });

  const problems: string[] = [];
  if (boot.timedOut) problems.push(`guest killed at the ${timeoutS} s deadline (IRO_VM_TIMEOUT_S to change it)`);
  if (boot.initError) problems.push(`guest init failed: ${boot.initError}`);
  if (boot.qemu.code !== 0 && !boot.timedOut) {
    problems.push(`qemu exited with ${boot.qemu.signal ?? boot.qemu.code}${boot.qemu.stderr ? `: ${boot.qemu.stderr.trim()}` : ''}`);
  }
  if (boot.exitCode === null && !boot.timedOut) problems.push('the guest reported no exit status for its test run');
  if (boot.tap === null) problems.push('the guest wrote no TAP results');

  let summary = parseTapSummary(boot.tap ?? '');
  if (boot.tap !== null && !boot.timedOut && !/^# tests \d+$/m.test(boot.tap)) problems.push('the guest TAP results have no closing counts (cut short)');
  if (problems.length) summary = addSummaries(summary, harnessFailure());
  const exitCode = problems.length ? (boot.timedOut ? 124 : 1) : (boot.exitCode ?? 1);
  return { summary, exitCode, problems, boot };
}

function report(run: GuestRun, files: number): void {
  const b = run.boot;
  const t = b.guestTimes;
  const phases =
    t.ready !== undefined && t.end !== undefined
      ? ` (guest uptime: init ${t.stage2?.toFixed(1)} s, modules ready ${t.ready.toFixed(1)} s, tests ${(t.end - t.ready).toFixed(1)} s)`
      : '';
  console.log(`vm: ${files} guest file(s) on ${b.kernel.version} (${b.accel}) in ${b.wallSeconds.toFixed(1)} s wall${phases}`);
  if (b.modulesFailed.length) console.log(`vm: modules that failed to load in the guest: ${b.modulesFailed.join(' ')}`);
  if (!run.problems.length) return;
  for (const p of run.problems) console.log(`vm: FAILURE: ${p}`);
  console.log(`vm: guest console tail:\n${tail(b.consoleTail, 40)}`);
  if (b.dmesgTail) console.log(`vm: guest dmesg tail:\n${tail(b.dmesgTail, 20)}`);
}

/** The harness's own host-side tests, with node's runner on this machine. */
function runHostSelfTests(files: string[]): Promise<{ summary: TapSummary; exitCode: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'iro-vmhost-'));
  const tapFile = join(dir, 'host.tap');
  const args = [
    '--import', 'tsx', '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...files,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      cwd: projectRoot(),
      env: { ...process.env, IRO_TEST_TIER: 'vm' },
    });
    child.on('close', (code, signal) => {
      let tap = '';
      try {
        tap = readFileSync(tapFile, 'utf8');
      } catch {
        /* no TAP at all: counted as a failure through the exit code */
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ summary: parseTapSummary(tap), exitCode: code ?? (signal ? 128 : 1) });
    });
  });
}

/** test/run.ts's entry for the vm tier: files relative to the project root. */
export async function runVmTier(files: string[]): Promise<{ summary: TapSummary; exitCode: number }> {
  const hostFiles = files.filter(isHostSideFile);
  const guestFiles = files.filter((f) => !isHostSideFile(f));
  let summary = emptySummary();
  let exitCode = 0;
  if (guestFiles.length) {
    console.log(`--- vm: booting the guest for ${guestFiles.length} file(s), deadline ${vmDeadlineSeconds(guestFiles.length)} s ---`);
    const run = await runGuestTests(guestFiles, { stream: true });
    report(run, guestFiles.length);
    summary = addSummaries(summary, run.summary);
    exitCode ||= run.exitCode;
  }
  if (hostFiles.length) {
    console.log(`--- vm: harness self-tests on the host (${hostFiles.length} file(s); they boot their own small guests) ---`);
    const r = await runHostSelfTests(hostFiles);
    summary = addSummaries(summary, r.summary);
    exitCode ||= r.exitCode;
  }
  return { summary, exitCode };
}
