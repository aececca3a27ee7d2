// Running commands for the topology kit: synchronous, asynchronous and in the background,
// always with a timeout, always capturing output, with errors that name the host and the
// (redacted) command. `ns` null means the caller's own namespace (used for `ip -n`, `ip -batch`).
//
// Commands enter a namespace with `nsenter --net` by default: it is cheaper than `ip netns exec`
// (which matters under TCG) and keeps the host's /sys, so bpffs pins under /sys/fs/bpf stay
// visible to a daemon started in a host. `sysfs: 'netns'` uses `ip netns exec` instead, whose
// fresh /sys shows the namespace's own interfaces (/sys/class/net) and which applies
// /etc/netns/NAME.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { describeArgv, redactText } from './redact.ts';

/** Which /sys a command sees inside a namespace (see the file comment). */
export type SysfsView = 'host' | 'netns';

export interface ExecOptions {
  /** default 'host' (nsenter); 'netns' runs through `ip netns exec` */
  sysfs?: SysfsView;
  /** default 30 s; the process is killed (SIGKILL) when it runs longer */
  timeoutMs?: number;
  /** data written to stdin, then stdin is closed */
  input?: string | Buffer;
  /** throw on a non-zero exit, a signal or a timeout (default true) */
  check?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface ExecResult {
  argv: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

/** The argv that runs `argv` inside network namespace `ns` (or as is when ns is null). */
export function argvIn(ns: string | null, argv: readonly string[], sysfs: SysfsView = 'host'): string[] {
  if (!argv.length) throw new Error('empty command');
  if (ns === null) return [...argv];
  if (!/^[A-Za-z0-9_.-]+$/.test(ns)) throw new Error(`invalid network namespace name "${ns}"`);
  return sysfs === 'netns' ? ['ip', 'netns', 'exec', ns, ...argv] : ['nsenter', `--net=/run/netns/${ns}`, '--', ...argv];
}

export class CommandError extends Error {
  readonly result: ExecResult;
  constructor(where: string, result: ExecResult) {
    super(`${where}: \`${describeArgv(result.argv)}\` ${outcome(result)}${tail(result)}`);
    this.name = 'CommandError';
    this.result = result;
  }
}

function outcome(r: ExecResult): string {
  if (r.timedOut) return `timed out after ${Math.round(r.durationMs)} ms`;
  if (r.signal) return `was killed by ${r.signal}`;
  return `failed with exit code ${r.code}`;
}

function tail(r: ExecResult): string {
  const text = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-12).join('\n');
  return text ? `: ${redactText(text)}` : '';
}

export function failed(r: ExecResult): boolean {
  return r.timedOut || r.signal !== null || r.code !== 0;
}

export function execSync(ns: string | null, argv: readonly string[], where: string, opts: ExecOptions = {}): ExecResult {
  const full = argvIn(ns, argv, opts.sysfs);
  const t0 = performance.now();
  const r = spawnSync(full[0]!, full.slice(1), {
    input: opts.input,
    timeout: opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: opts.env ?? process.env,
  });
  const res: ExecResult = {
    argv: full,
    code: r.status,
    signal: r.signal,
    timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    durationMs: performance.now() - t0,
  };
  if (r.error && !res.timedOut) throw new Error(`${where}: cannot run \`${describeArgv(full)}\`: ${r.error.message}`);
  if (opts.check !== false && failed(res)) throw new CommandError(where, res);
  return res;
}

export function execAsync(ns: string | null, argv: readonly string[], where: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const full = argvIn(ns, argv, opts.sysfs);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      /* the command may exit without reading its input; its exit status tells */
    });
    child.stdin.end(opts.input ?? '');
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${where}: cannot run \`${describeArgv(full)}\`: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const res: ExecResult = {
        argv: full,
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: performance.now() - t0,
      };
      if (opts.check !== false && failed(res)) reject(new CommandError(where, res));
      else resolve(res);
    });
  });
}

export interface SpawnOptions {
  /** default 'host' (nsenter); 'netns' runs through `ip netns exec` */
  sysfs?: SysfsView;
  env?: NodeJS.ProcessEnv;
  /** called with each chunk of stdout / stderr as it arrives */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

/**
 * A long-running process (daemon, tcpdump, a listener). Output is kept so a test can show it
 * when something goes wrong; `stop()` signals and waits, escalating to SIGKILL.
 */
export class BackgroundProcess {
  readonly argv: string[];
  readonly where: string;
  readonly child: ChildProcess;
  private out: string[] = [];
  private err: string[] = [];
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(ns: string | null, argv: readonly string[], where: string, opts: SpawnOptions = {}) {
    this.argv = argvIn(ns, argv, opts.sysfs);
    this.where = where;
    this.child = spawn(this.argv[0]!, this.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.out.push(s);
      opts.onStdout?.(s);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.err.push(s);
      opts.onStderr?.(s);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.err.push(`cannot run: ${e.message}\n`);
        this.exitInfo = { code: null, signal: null };
        resolve(this.exitInfo);
      });
      this.child.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
  get running(): boolean {
    return this.exitInfo === null;
  }
  get stdout(): string {
    return this.out.join('');
  }
  get stderr(): string {
    return this.err.join('');
  }
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exitInfo;
  }

  /** Resolves when the process has exited (and its output pipes are closed). */
  wait(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  /** Send `signal`, wait up to graceMs, then SIGKILL. Resolves with how it ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 2000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.running) return this.exitInfo!;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
    const first = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (first === 'late') {
      this.child.kill('SIGKILL');
      return this.exited;
    }
    return first;
  }

  /** Last resort from synchronous cleanup (process exit): no waiting. */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  describe(): string {
    return `${this.where}: \`${describeArgv(this.argv)}\``;
  }
}
