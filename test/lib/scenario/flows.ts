// Long-running UDP and TCP flows for scenarios that change things under traffic (rekey, engine
// restart, miss resolution). The end points are python3 (not our code): the client sends a
// numbered message every interval and records when each echo comes back; when stopped it
// reports what was lost and the longest silence, as seen by the application.
import type { BackgroundProcess, Host } from '../topology/index.ts';

const SERVER = `
import socket, sys, threading
addr, port = sys.argv[1], int(sys.argv[2])
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind((addr, port))
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((addr, port)); t.listen(8)
peers = set()
def udp():
    while True:
        data, peer = u.recvfrom(4096)
        if peer[0] not in peers:
            peers.add(peer[0]); print("peer udp", peer[0], flush=True)
        u.sendto(b"echo:" + data, peer)
def conn(c, peer):
    print("peer tcp", peer[0], flush=True)
    while True:
        data = c.recv(4096)
        if not data: break
        c.sendall(data)
    c.close()
def tcp():
    while True:
        c, peer = t.accept()
        threading.Thread(target=conn, args=(c, peer), daemon=True).start()
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
tcp()
`;

// UDP: one datagram "n" per interval, echoed as "echo:n". TCP: one line "n\\n" per interval on
// one connection, echoed back as is. Times are time.monotonic() in seconds.
const CLIENT = `
import socket, sys, time, threading, json, signal
kind, src, dst, port, interval = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]) / 1000.0
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
signal.signal(signal.SIGINT, lambda *a: stop.set())
sent, got, errors = {}, {}, []
if kind == "udp":
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind((src, 0)); s.settimeout(0.2)
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); s.bind((src, 0)); s.settimeout(20)
    s.connect((dst, port)); s.settimeout(0.2)
def rx():
    buf = b""
    while True:
        try:
            data = s.recv(4096) if kind == "tcp" else s.recvfrom(4096)[0]
        except socket.timeout:
            if stop.is_set() and time.monotonic() > stopped_at[0] + 1.0: return
            continue
        except OSError as e:
            errors.append("recv: " + str(e)); time.sleep(0.05); continue
        now = time.monotonic()
        if kind == "udp":
            items = [data.decode().split(":")[-1]]
        else:
            if not data: errors.append("tcp: connection closed"); return
            buf += data; *items, rest = buf.split(b"\\n"); buf = rest; items = [i.decode() for i in items]
        for i in items:
            try: got.setdefault(int(i), now)
            except ValueError: errors.append("bad echo " + i[:20])
stopped_at = [float("inf")]
th = threading.Thread(target=rx, daemon=True); th.start()
start = time.monotonic(); n = 0
print("started", flush=True)
while not stop.is_set():
    n += 1; sent[n] = time.monotonic()
    try:
        if kind == "udp": s.sendto(str(n).encode(), (dst, port))
        else: s.sendall(str(n).encode() + b"\\n")
    except OSError as e:
        errors.append("send %d: %s" % (n, e))
    delay = start + n * interval - time.monotonic()
    if delay > 0: stop.wait(delay)
stopped_at[0] = time.monotonic()
th.join()
lost = sorted(set(sent) - set(got))
times = sorted(got.values())
gaps = [b - a for a, b in zip(times, times[1:])]
run, longest = 0, 0
for i in range(1, n + 1):
    run = run + 1 if i not in got else 0
    longest = max(longest, run)
print(json.dumps({"sent": n, "received": len(got), "lost": lost[:200], "lostCount": len(lost),
    "longestLossRun": longest, "maxGapMs": round(max(gaps) * 1000 if gaps else 0), "errors": errors[:20],
    "firstReplyAfterMs": round((times[0] - start) * 1000) if times else None}), flush=True)
`;

export interface FlowServer {
  proc: BackgroundProcess;
  /** peer addresses the server's sockets saw, per kind */
  peers(): Array<{ kind: string; peer: string }>;
  stop(): Promise<void>;
}

export interface FlowReport {
  sent: number;
  received: number;
  /** sequence numbers never echoed (first 200) */
  lost: number[];
  lostCount: number;
  longestLossRun: number;
  /** the longest time between two consecutive echoes */
  maxGapMs: number;
  errors: string[];
  firstReplyAfterMs: number | null;
}

export interface Flow {
  proc: BackgroundProcess;
  /** SIGTERM, wait for the last echoes (1 s), return the client's report */
  stop(): Promise<FlowReport>;
}

async function waitFor(proc: BackgroundProcess, word: string, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!proc.stdout.includes(word)) {
    if (Date.now() > deadline || !proc.running) throw new Error(`${what} did not start: ${proc.stderr.trim() || '(no output)'}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startFlowServer(host: Host, addr: string, port: number): Promise<FlowServer> {
  const proc = host.spawn(['python3', '-u', '-c', SERVER, addr, String(port)]);
  await waitFor(proc, 'ready', `flow server on ${host.name}`);
  return {
    proc,
    peers: () =>
      proc.stdout
        .split('\n')
        .map((l) => l.split(' '))
        .filter((w) => w[0] === 'peer')
        .map((w) => ({ kind: w[1]!, peer: w[2]! })),
    stop: async () => {
      await proc.stop();
    },
  };
}

/** Start a flow from `src` (bound) to dst:port, one message per intervalMs. */
export async function startFlow(host: Host, kind: 'udp' | 'tcp', src: string, dst: string, port: number, intervalMs: number): Promise<Flow> {
  const proc = host.spawn(['python3', '-u', '-c', CLIENT, kind, src, dst, String(port), String(intervalMs)]);
  await waitFor(proc, 'started', `${kind} flow from ${host.name}`);
  return {
    proc,
    stop: async () => {
      await proc.stop('SIGTERM', 10_000);
      const line = proc.stdout.trim().split('\n').pop() ?? '';
      try {
        return JSON.parse(line) as FlowReport;
      } catch {
        throw new Error(`${kind} flow from ${host.name} gave no report (exit ${JSON.stringify(proc.exit)}): ${proc.stdout.slice(-500)} ${proc.stderr.slice(-1000)}`);
      }
    },
  };
}
