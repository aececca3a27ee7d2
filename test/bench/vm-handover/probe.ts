// The handover benchmark's probe flow: a UDP datagram from the MN's HoA to the CN every few
// milliseconds, echoed by the CN. The end points are python3 (not our code). The client stamps
// each datagram with its sequence number and CLOCK_MONOTONIC send time, and reports for every
// echo the interface it arrived on (IPV6_PKTINFO): the MN's foreign interface means the direct
// path (ESP from the CN to the CoA), the MN-HA tunnel device means it came through the HA.
import type { BackgroundProcess, Host } from '../../lib/topology/index.ts';

const SERVER = `
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind((addr, port))
print("ready", flush=True)
while True:
    data, peer = u.recvfrom(256)
    u.sendto(data, peer)
`;

// Lines: "e SEQ SENT_NS RECV_NS IFINDEX" per echo, "x SEQ NS ERRNO" per failed send.
// A sender that falls behind (a TCG stall) skips ahead instead of bursting to catch up.
const CLIENT = `
import socket, sys, time, struct, threading, signal
src, dst, port, interval = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) / 1000.0
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
s.bind((src, 0)); s.settimeout(0.2)
lock = threading.Lock()
def emit(line):
    with lock:
        sys.stdout.write(line + "\\n"); sys.stdout.flush()
def rx():
    while not stop.is_set():
        try:
            data, anc, flags, addr = s.recvmsg(256, socket.CMSG_SPACE(20))
        except socket.timeout:
            continue
        except OSError as e:
            emit("r %d %d" % (time.monotonic_ns(), e.errno)); continue
        now = time.monotonic_ns()
        ifindex = 0
        for level, kind, cd in anc:
            if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO and len(cd) >= 20:
                ifindex = struct.unpack("=I", cd[16:20])[0]
        if len(data) >= 12:
            n, sent = struct.unpack("!IQ", data[:12])
            emit("e %d %d %d %d" % (n, sent, now, ifindex))
threading.Thread(target=rx, daemon=True).start()
emit("ready")
start = time.monotonic(); n = 0
while not stop.is_set():
    n += 1
    try:
        s.sendto(struct.pack("!IQ", n, time.monotonic_ns()), (dst, port))
    except OSError as e:
        emit("x %d %d %d" % (n, time.monotonic_ns(), e.errno))
    delay = start + n * interval - time.monotonic()
    if delay < -interval:
        start = time.monotonic() - n * interval
    elif delay > 0:
        stop.wait(delay)
`;

/** One echo as the client saw it; times are CLOCK_MONOTONIC nanoseconds. */
export interface Echo {
  seq: number;
  sentNs: bigint;
  recvNs: bigint;
  ifindex: number;
}

/** Parses the client's output as it arrives (chunks may split lines). */
export class ProbeLog {
  readonly echoes: Echo[] = [];
  sendErrors = 0;
  private partial = '';

  feed(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const w = line.trim().split(' ');
      if (w[0] === 'e' && w.length === 5) {
        this.echoes.push({ seq: Number(w[1]), sentNs: BigInt(w[2]!), recvNs: BigInt(w[3]!), ifindex: Number(w[4]) });
      } else if (w[0] === 'x') {
        this.sendErrors++;
      }
    }
  }

  /** The first echo received at or after `afterNs` (on `ifindex` when given). Echoes arrive in order. */
  firstAfter(afterNs: bigint, ifindex?: number): Echo | undefined {
    let found: Echo | undefined;
    for (let i = this.echoes.length - 1; i >= 0; i--) {
      const e = this.echoes[i]!;
      if (e.recvNs < afterNs) break;
      if (ifindex === undefined || e.ifindex === ifindex) found = e;
    }
    return found;
  }

  /** The last echo received before `beforeNs`. */
  lastBefore(beforeNs: bigint): Echo | undefined {
    for (let i = this.echoes.length - 1; i >= 0; i--) if (this.echoes[i]!.recvNs < beforeNs) return this.echoes[i];
    return undefined;
  }

  /** Echoes received in [fromNs, toNs) on `ifindex`. */
  between(fromNs: bigint, toNs: bigint, ifindex: number): Echo[] {
    return this.echoes.filter((e) => e.recvNs >= fromNs && e.recvNs < toNs && e.ifindex === ifindex);
  }
}

export interface ProbeFlow {
  log: ProbeLog;
  proc: BackgroundProcess;
  stop(): Promise<void>;
}

async function waitReady(proc: BackgroundProcess, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!proc.stdout.includes('ready')) {
    if (Date.now() > deadline || !proc.running) throw new Error(`${what} did not start: ${proc.stderr.trim() || '(no output)'}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startProbeServer(host: Host, addr: string, port: number): Promise<BackgroundProcess> {
  const proc = host.spawn(['python3', '-u', '-c', SERVER, addr, String(port)]);
  await waitReady(proc, `probe echo server on ${host.name}`);
  return proc;
}

/** The probe client in `host`, bound to `src`, one datagram to dst:port every intervalMs. */
export async function startProbeClient(host: Host, src: string, dst: string, port: number, intervalMs: number): Promise<ProbeFlow> {
  const log = new ProbeLog();
  const proc = host.spawn(['python3', '-u', '-c', CLIENT, src, dst, String(port), String(intervalMs)], { onStdout: (s) => log.feed(s) });
  await waitReady(proc, `probe client on ${host.name}`);
  return {
    log,
    proc,
    stop: async () => {
      await proc.stop('SIGTERM', 5000);
    },
  };
}
