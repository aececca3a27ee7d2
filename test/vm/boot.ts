// Boots the test VM once for one job and brings back what the guest wrote. The guest's root is
// the host's own / (read-only virtio-9p + tmpfs overlay, see deploy/vm/init), so it runs the
// project, node and node_modules exactly as they are on the host. The job goes in, and the
// results come out, through a per-boot writable 9p share (a host temp dir, /run/iro in the guest).
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/kernel/native.ts';
import { ensureInitramfs, newestKernel, type GuestKernel } from './image.ts';

/** Loaded in the guest before the job runs; failures are tolerated and reported. */
export const GUEST_MODULES = [
  'esp6', 'ah6', 'af_key', 'xfrm_user', 'xfrm_interface', 'ip6_tunnel', 'tunnel6', 'xfrm6_tunnel',
  'sch_ingress', 'cls_bpf', 'act_bpf', 'sch_netem', 'veth', 'dummy', 'mip6',
  // The crypto an ESP/AH SA pulls in on first use. Loaded here in the one modprobe, the first
  // `ip xfrm state add` takes ~0.6 s instead of 4-8 s of usermode-helper modprobes under TCG.
  'authenc', 'echainiv', 'seqiv', 'gcm', 'ctr', 'ghash_generic', 'drbg', 'jitterentropy_rng', 'ansi_cprng',
  'sha512_generic', 'sha3_generic',
];

export type GuestJob =
  | { mode: 'tests'; files: string[] }
  | { mode: 'command'; command: string }
  | { mode: 'shell' };

export interface BootOptions {
  job: GuestJob;
  /** kill the guest after this many seconds (none when omitted) */
  timeoutS?: number;
  /** live guest console output (serial), carriage returns removed */
  onConsole?: (text: string) => void;
  /** serial console on this process's terminal (the debugging shell) */
  interactive?: boolean;
  /** ask the guest for colored test output (when the console goes to a terminal) */
  color?: boolean;
  modules?: string[];
  /** default: IRO_VM_KVM=1 and /dev/kvm usable; otherwise TCG */
  kvm?: boolean;
  memoryMiB?: number;
  cpus?: number;
  /** keep the results directory for inspection (its path is in the result) */
  keepResults?: boolean;
}

export interface BootResult {
  kernel: GuestKernel;
  accel: 'tcg' | 'kvm';
  /** exit status of the guest job; null when the guest never reported one */
  exitCode: number | null;
  timedOut: boolean;
  /** TAP written by the guest's test runner (tests mode), null when absent */
  tap: string | null;
  guestLog: string;
  consoleTail: string;
  dmesgTail: string;
  modulesFailed: string[];
  /** what the initramfs reported when it could not hand over to the guest */
  initError: string | null;
  /** guest uptime (s) at stage2 start, modules ready, job end */
  guestTimes: Record<string, number>;
  wallSeconds: number;
  qemu: { code: number | null; signal: NodeJS.Signals | null; stderr: string };
  resultsDir: string;
}

const CONSOLE_TAIL_BYTES = 16 * 1024;

/** Host IRO_* settings forwarded to the guest (the harness's own are not). */
function forwardedEnv(): Record<string, string> {
  const own = /^IRO_(VM_|IN_VM$|SKIP_VM$|REQUIRE_ALL_TIERS$|TEST_TIER$|MODE$|PROJECT$|NODE$|MODULES$|COMMAND$|COLOR$|TTY_|TSX_CACHE$)/;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && /^IRO_[A-Z0-9_]+$/.test(k) && !own.test(k)) out[k] = v;
  }
  return out;
}

const shellQuote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;
/** qemu option values escape commas by doubling them. */
const qemuValue = (v: string): string => v.replace(/,/g, ',,');

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', fsConstants.R_OK | fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function chooseAccel(asked: boolean | undefined): 'tcg' | 'kvm' {
  const want = asked ?? process.env.IRO_VM_KVM === '1';
  if (!want) return 'tcg';
  if (kvmUsable()) return 'kvm';
  console.error('vm: KVM was asked for but /dev/kvm is not usable; using TCG');
  return 'tcg';
}

/**
 * The tsx compile cache, kept on the host across boots so the guest does not recompile:
 * build/vm/tsx-cache, or IRO_VM_TSX_CACHE=DIR, or IRO_VM_TSX_CACHE=off (guest tmpfs, cold each boot).
 */
function tsxCacheDir(): string | null {
  const env = process.env.IRO_VM_TSX_CACHE;
  if (env === 'off') return null;
  const dir = env || join(projectRoot(), 'build', 'vm', 'tsx-cache');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function writeJob(dir: string, opts: BootOptions, tsxCache: string | null): void {
  const env: Record<string, string> = {
    ...forwardedEnv(),
    IRO_MODE: opts.job.mode,
    IRO_PROJECT: projectRoot(),
    IRO_NODE: process.execPath,
    IRO_MODULES: (opts.modules ?? GUEST_MODULES).join(' '),
    IRO_COLOR: opts.color ? '1' : '0',
    IRO_TSX_CACHE: tsxCache ? '1' : '0',
  };
  if (opts.job.mode === 'command') env.IRO_COMMAND = opts.job.command;
  if (opts.job.mode === 'shell' && process.stdout.isTTY) {
    env.IRO_TTY_ROWS = String(process.stdout.rows);
    env.IRO_TTY_COLS = String(process.stdout.columns);
  }
  const lines = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  writeFileSync(join(dir, 'job.env'), lines.join('\n') + '\n');
  if (opts.job.mode === 'tests') {
    for (const f of opts.job.files) {
      if (f.includes('\n')) throw new Error(`test file name with a newline is not supported: ${JSON.stringify(f)}`);
    }
    writeFileSync(join(dir, 'files'), opts.job.files.join('\n') + '\n');
  }
}

function qemuArgs(
  kernel: GuestKernel,
  initrd: string,
  resultsDir: string,
  tsxCache: string | null,
  accel: 'tcg' | 'kvm',
  opts: BootOptions,
): string[] {
  const stage2 = join(projectRoot(), 'deploy', 'vm', 'guest-run.sh');
  if (/\s/.test(stage2)) throw new Error(`the project path must not contain white space (kernel command line): ${stage2}`);
  const cmdline = ['console=ttyS0', 'quiet', 'loglevel=4', 'panic=-1', `iro.stage2=${stage2}`].join(' ');
  const share = (id: string, path: string, extra: string) => [
    '-fsdev', `local,id=${id},path=${qemuValue(path)},security_model=none${extra}`,
    '-device', `virtio-9p-pci,fsdev=${id},mount_tag=${id}`,
  ];
  const console = opts.interactive
    ? ['-chardev', 'stdio,id=con0,mux=on,signal=off', '-serial', 'chardev:con0', '-mon', 'chardev=con0,mode=readline']
    : ['-serial', 'stdio', '-monitor', 'none'];
  return [
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg', '-cpu', 'max']),
    '-m', String(opts.memoryMiB ?? 2048),
    '-smp', String(opts.cpus ?? 2),
    // No default devices: in particular no network card; tests build their own netns/veth.
    '-nodefaults', '-no-reboot', '-display', 'none',
    ...console,
    '-kernel', kernel.vmlinuz,
    '-initrd', initrd,
    '-append', cmdline,
    ...share('hostroot', '/', ',readonly=on,multidevs=remap'),
    ...share('iroresults', resultsDir, ''),
    ...(tsxCache ? share('irotsxcache', tsxCache, '') : []),
  ];
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function parseTimes(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}

export async function bootGuest(opts: BootOptions): Promise<BootResult> {
  const kernel = newestKernel();
  const initrd = ensureInitramfs(kernel);
  const accel = chooseAccel(opts.kvm);
  const resultsDir = mkdtempSync(join(tmpdir(), 'iro-vm-'));
  const tsxCache = tsxCacheDir();
  writeJob(resultsDir, opts, tsxCache);
  const args = qemuArgs(kernel, initrd, resultsDir, tsxCache, accel, opts);

  const started = Date.now();
  const child = spawn('qemu-system-x86_64', args, {
    stdio: opts.interactive ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  });
  // A host runner that dies must not leave a guest running on its own.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let consoleTail = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    // The serial line ends lines with CRLF; a chunk may split the pair, so drop every CR.
    const text = chunk.replace(/\r/g, '');
    consoleTail = (consoleTail + text).slice(-CONSOLE_TAIL_BYTES);
    opts.onConsole?.(text);
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-CONSOLE_TAIL_BYTES);
  });

  let timedOut = false;
  const timer =
    opts.timeoutS !== undefined
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutS * 1000)
      : undefined;

  const qemu = await new Promise<BootResult['qemu']>((resolve) => {
    child.on('error', (e) => resolve({ code: null, signal: null, stderr: `cannot run qemu-system-x86_64: ${e.message}` }));
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  if (timer) clearTimeout(timer);
  process.removeListener('exit', killOnExit);
  const wallSeconds = (Date.now() - started) / 1000;

  const status = readOr(join(resultsDir, 'exit-status'), '').trim();
  const tap = readOr(join(resultsDir, 'guest.tap'), '');
  const result: BootResult = {
    kernel,
    accel,
    exitCode: /^\d+$/.test(status) ? Number(status) : null,
    timedOut,
    tap: tap || null,
    guestLog: readOr(join(resultsDir, 'guest.log'), ''),
    consoleTail,
    dmesgTail: readOr(join(resultsDir, 'dmesg.txt'), ''),
    modulesFailed: readOr(join(resultsDir, 'modules-failed'), '').split(/\s+/).filter(Boolean),
    initError: readOr(join(resultsDir, 'init-error'), '').trim() || null,
    guestTimes: parseTimes(readOr(join(resultsDir, 'timings'), '')),
    wallSeconds,
    qemu,
    resultsDir,
  };
  if (!opts.keepResults) rmSync(resultsDir, { recursive: true, force: true });
  return result;
}
