// UDP and TCP end points for scenarios, run inside a host's namespace with python3 (a tool
// we did not write, so the peer address a socket sees is reported by the kernel's API).
import type { BackgroundProcess, Host } from '../topology/index.ts';

const SERVER = `
import socket, sys, threading
addr, port = sys.argv[1], int(sys.argv[2])
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind((addr, port))
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((addr, port)); t.listen(8)
def udp():
    while True:
        data, peer = u.recvfrom(4096)
        print("udp", peer[0], data.decode(), flush=True)
        u.sendto(b"echo:" + data, peer)
def tcp():
    while True:
        c, peer = t.accept()
        data = c.recv(4096)
        print("tcp", peer[0], data.decode(), flush=True)
        c.sendall(b"echo:" + data); c.close()
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
tcp()
`;

const CLIENT = `
import socket, sys
kind, src, dst, port, msg = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
if kind == "udp":
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind((src, 0)); s.settimeout(5)
    s.sendto(msg.encode(), (dst, port)); data, peer = s.recvfrom(4096)
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); s.bind((src, 0)); s.settimeout(10)
    s.connect((dst, port)); s.sendall(msg.encode()); data = s.recv(4096); peer = s.getpeername()
print(peer[0], data.decode())
`;

export interface EchoServer {
  proc: BackgroundProcess;
  /** lines "udp|tcp <peer> <message>" printed so far */
  seen(): Array<{ kind: string; peer: string; msg: string }>;
  stop(): Promise<void>;
}

/** Start a python server script and wait for its "ready" line. */
async function spawnReady(host: Host, what: string, script: string, args: string[]): Promise<BackgroundProcess> {
  const proc = host.spawn(['python3', '-u', '-c', script, ...args]);
  const deadline = Date.now() + 20_000;
  while (!proc.stdout.includes('ready')) {
    if (Date.now() > deadline || !proc.running) throw new Error(`${what} on ${host.name} did not start: ${proc.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return proc;
}

export async function startEchoServer(host: Host, addr: string, port: number): Promise<EchoServer> {
  const proc = await spawnReady(host, 'echo server', SERVER, [addr, String(port)]);
  return {
    proc,
    seen: () =>
      proc.stdout
        .split('\n')
        .map((l) => l.split(' '))
        .filter((w) => w[0] === 'udp' || w[0] === 'tcp')
        .map((w) => ({ kind: w[0]!, peer: w[1]!, msg: w.slice(2).join(' ') })),
    stop: async () => {
      await proc.stop();
    },
  };
}

/** One request/response from `src` (bound) to dst; returns the peer the client saw and the reply. */
export async function echo(host: Host, kind: 'udp' | 'tcp', src: string, dst: string, port: number, msg: string): Promise<{ peer: string; reply: string }> {
  const r = await host.run(['python3', '-c', CLIENT, kind, src, dst, String(port), msg], { timeoutMs: 30_000 });
  const [peer, reply] = r.stdout.trim().split(' ');
  return { peer: peer!, reply: reply! };
}

const STREAM_SERVER = `
import socket, sys, threading
addr, port = sys.argv[1], int(sys.argv[2])
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((addr, port)); t.listen(4)
print("ready", flush=True)
def serve(c, peer):
    f = c.makefile("rb")
    for line in f:
        print("line", peer[0], line.decode().strip(), flush=True)
        c.sendall(line)
    print("closed", peer[0], flush=True)
while True:
    c, peer = t.accept()
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()
`;

const STREAM_CLIENT = `
import socket, sys, time
src, dst, port, seconds, gap = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); s.bind((src, 0)); s.settimeout(30); s.connect((dst, port))
f = s.makefile("rb")
end = time.time() + seconds; n = 0
while time.time() < end:
    t0 = time.time()
    s.sendall(("%d %.3f\\n" % (n, t0)).encode())
    back = f.readline()
    if not back: print("eof", flush=True); sys.exit(3)
    print("echo", n, "%.3f" % (time.time() - t0), flush=True)
    n += 1
    time.sleep(gap)
print("done", n, flush=True)
`;

/** A TCP line-echo server (long-lived connections), for streams that must survive a move. */
export function startStreamServer(host: Host, addr: string, port: number): Promise<BackgroundProcess> {
  return spawnReady(host, 'stream server', STREAM_SERVER, [addr, String(port)]);
}

/** A TCP client sending one line every `gapS` and waiting for its echo, for `seconds`. */
export function startStreamClient(host: Host, src: string, dst: string, port: number, seconds: number, gapS = 0.1): BackgroundProcess {
  return host.spawn(['python3', '-u', '-c', STREAM_CLIENT, src, dst, String(port), String(seconds), String(gapS)]);
}

/** Echo round trips seen by a stream client so far: [sequence, seconds]. */
export function streamEchoes(p: BackgroundProcess): Array<[number, number]> {
  return p.stdout
    .split('\n')
    .filter((l) => l.startsWith('echo '))
    .map((l) => {
      const [, n, rtt] = l.split(' ');
      return [Number(n), Number(rtt)] as [number, number];
    });
}

const BULK_SERVER = `
import socket, sys, hashlib
addr, port = sys.argv[1], int(sys.argv[2])
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((addr, port)); t.listen(4)
print("ready", flush=True)
while True:
    c, peer = t.accept(); h = hashlib.sha256(); n = 0
    while True:
        d = c.recv(65536)
        if not d: break
        h.update(d); n += len(d)
    print("bulk", peer[0], n, h.hexdigest(), flush=True)
    c.sendall(("%d %s" % (n, h.hexdigest())).encode()); c.close()
`;

const BULK_CLIENT = `
import socket, sys, hashlib, os, time
src, dst, port, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = os.urandom(size)
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); s.bind((src, 0)); s.settimeout(60)
t0 = time.time(); s.connect((dst, port)); s.sendall(data); s.shutdown(socket.SHUT_WR)
reply = b""
while True:
    d = s.recv(4096)
    if not d: break
    reply += d
print(size, hashlib.sha256(data).hexdigest(), reply.decode(), "%.3f" % (time.time() - t0))
`;

/** A TCP sink: counts and hashes what each connection sends, answers "<bytes> <sha256>". */
export function startBulkServer(host: Host, addr: string, port: number): Promise<BackgroundProcess> {
  return spawnReady(host, 'bulk server', BULK_SERVER, [addr, String(port)]);
}

/** Send `size` random bytes from src over TCP; what was sent and what the server counted. */
export async function bulkSend(host: Host, src: string, dst: string, port: number, size: number): Promise<{ sent: { bytes: number; sha: string }; received: { bytes: number; sha: string }; seconds: number }> {
  const r = await host.run(['python3', '-c', BULK_CLIENT, src, dst, String(port), String(size)], { timeoutMs: 90_000 });
  const [bytes, sha, rbytes, rsha, secs] = r.stdout.trim().split(' ');
  return { sent: { bytes: Number(bytes), sha: sha! }, received: { bytes: Number(rbytes), sha: rsha ?? '' }, seconds: Number(secs) };
}
