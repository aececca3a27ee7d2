// An observer on a link: tcpdump inside the namespace that owns the interface, writing a pcap
// file packet by packet (-U, --immediate-mode). Stopping sends SIGINT and waits, checks that
// the file holds every packet tcpdump reports as captured, then decodes it with
// `tcpdump -r FILE -nn -v -x` (tcpdump is the decoder, not our code).
import { statSync } from 'node:fs';
import { BackgroundProcess, execAsync } from './exec.ts';
import { pcapFraming } from './pcap-file.ts';
import { parseTcpdump, type CapturedPacket } from './tcpdump-text.ts';

export interface CaptureOptions {
  /** tcpdump filter expression words, e.g. ['ip6', 'and', 'not', 'icmp6'] */
  filter?: string[];
  /** bytes kept per packet; default: whole packets */
  snaplen?: number;
  /** how long to wait for tcpdump to start listening; default 10 s */
  startTimeoutMs?: number;
  /**
   * stop() first waits until the file has not grown for this long (packets still on their way
   * through softirq/the ring would otherwise be lost to the SIGINT); default 100 ms
   */
  quietMs?: number;
  /** upper bound of that wait; default 2 s */
  maxSettleMs?: number;
}

export interface CaptureStats {
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
  /**
   * Packets the filter passed but tcpdump had not written when SIGINT stopped it: with traffic
   * still flowing at stop() these arrived after the window the test looks at.
   */
  unwrittenAtStop: number;
}

export interface CaptureResult {
  file: string;
  /** host/interface the capture ran on */
  where: string;
  stats: CaptureStats;
  packets: CapturedPacket[];
  /** tcpdump's full decode, for failure messages */
  text: string;
}

export class Capture {
  readonly file: string;
  readonly where: string;
  private readonly proc: BackgroundProcess;
  private result: Promise<CaptureResult> | null = null;

  private readonly opts: CaptureOptions;

  private constructor(proc: BackgroundProcess, file: string, where: string, opts: CaptureOptions) {
    this.proc = proc;
    this.file = file;
    this.where = where;
    this.opts = opts;
  }

  /** Resolves once tcpdump listens, so traffic sent afterwards is captured. */
  static async start(ns: string, host: string, ifname: string, file: string, track: (p: BackgroundProcess) => void, opts: CaptureOptions = {}): Promise<Capture> {
    const where = `capture on ${host}/${ifname}`;
    const argv = ['tcpdump', '-i', ifname, '-w', file, '-U', '--immediate-mode', '-nn', '-Z', 'root', '-s', String(opts.snaplen ?? 262144), ...(opts.filter ?? [])];
    let notify: (() => void) | null = null;
    const listening = new Promise<void>((r) => (notify = r));
    // tcpdump looks interfaces up in /sys/class/net too: give it the namespace's own /sys.
    const proc = new BackgroundProcess(ns, argv, where, {
      sysfs: 'netns',
      onStderr: () => {
        if (/listening on /.test(proc.stderr)) notify?.();
      },
    });
    track(proc);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      listening.then(() => 'listening' as const),
      proc.wait().then(() => 'exited' as const),
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), opts.startTimeoutMs ?? 10_000))),
    ]);
    clearTimeout(timer);
    if (outcome !== 'listening') {
      await proc.stop('SIGKILL', 1000);
      throw new Error(`${proc.describe()} ${outcome === 'exited' ? 'exited' : 'did not start listening'}: ${proc.stderr.trim() || '(no output)'}`);
    }
    return new Capture(proc, file, where, opts);
  }

  get running(): boolean {
    return this.proc.running;
  }

  /** SIGINT, wait for tcpdump to flush and exit, verify the file, decode it. Idempotent. */
  stop(): Promise<CaptureResult> {
    this.result ??= this.finish();
    return this.result;
  }

  /** Resolves once the file has been quiet for quietMs (or maxSettleMs passed). */
  private async settle(): Promise<void> {
    const quiet = this.opts.quietMs ?? 100;
    const deadline = performance.now() + (this.opts.maxSettleMs ?? 2000);
    let size = fileSize(this.file);
    let since = performance.now();
    while (this.proc.running && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      const now = fileSize(this.file);
      if (now !== size) {
        size = now;
        since = performance.now();
      } else if (performance.now() - since >= quiet) {
        return;
      }
    }
  }

  private async finish(): Promise<CaptureResult> {
    await this.settle();
    const exit = await this.proc.stop('SIGINT', 5000);
    const err = this.proc.stderr;
    const num = (label: string): number => {
      const m = err.match(new RegExp(`(\\d+) packets? ${label}`));
      if (!m) throw new Error(`${this.proc.describe()}: no "${label}" count in tcpdump's exit report (exit ${exit.code ?? exit.signal}): ${err.trim()}`);
      return Number(m[1]);
    };
    if (exit.code !== 0) throw new Error(`${this.proc.describe()} ended with ${exit.code ?? exit.signal}: ${err.trim()}`);
    const captured = num('captured');
    const receivedByFilter = num('received by filter');
    const stats: CaptureStats = { captured, receivedByFilter, droppedByKernel: num('dropped by kernel'), unwrittenAtStop: Math.max(0, receivedByFilter - captured) };
    const framing = pcapFraming(this.file);
    if (framing.records !== stats.captured || framing.trailing !== 0)
      throw new Error(`${this.where}: ${this.file} holds ${framing.records} complete packets (+${framing.trailing} stray bytes) but tcpdump reported ${stats.captured} captured: the file was not flushed`);
    if (stats.droppedByKernel > 0) throw new Error(`${this.where}: the kernel dropped ${stats.droppedByKernel} packets: the capture is incomplete`);
    const decoded = await execAsync(null, ['tcpdump', '-r', this.file, '-nn', '-v', '-x', '-Z', 'root'], `decode ${this.where}`, { timeoutMs: 60_000 });
    const packets = parseTcpdump(decoded.stdout);
    if (packets.length !== stats.captured)
      throw new Error(`${this.where}: tcpdump -r printed ${packets.length} packets, the capture reported ${stats.captured}`);
    return { file: this.file, where: this.where, stats, packets, text: decoded.stdout };
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return -1;
  }
}
