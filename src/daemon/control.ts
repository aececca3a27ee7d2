// The control socket: a unix stream socket (mode 0600) speaking one JSON object per line, so
// `iro-ctl status` and `iro-ctl down` reach a running daemon. Requests: {"op": "status"},
// {"op": "down"}, {"op": "stop"}; answers: {"ok": true, "result": ...} or {"ok": false, "error"}.
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';

export type ControlOp = 'status' | 'down' | 'stop';

export type ControlHandler = (op: ControlOp) => Promise<unknown>;

const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));

export async function serveControl(path: string, handler: ControlHandler): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path)) {
    if (await controlAlive(path)) throw new Error(`another iro-ctl daemon answers on ${path}`);
    unlinkSync(path); // a stale socket from a killed daemon
  }
  const server = createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let op: ControlOp;
        try {
          op = (JSON.parse(line) as { op: ControlOp }).op;
          if (!['status', 'down', 'stop'].includes(op)) throw new Error(`unknown op "${String(op)}"`);
        } catch (e) {
          conn.write(`${json({ ok: false, error: `bad request: ${(e as Error).message}` })}\n`);
          continue;
        }
        handler(op).then(
          (result) => conn.writable && conn.write(`${json({ ok: true, result })}\n`),
          (e: Error) => conn.writable && conn.write(`${json({ ok: false, error: e.message })}\n`),
        );
      }
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return server;
}

/** One request to a running daemon; rejects with a clear message when none answers. */
export function controlRequest(path: string, op: ControlOp, timeoutMs = 30_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`the daemon on ${path} did not answer "${op}" within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(`${JSON.stringify({ op })}\n`));
    c.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      c.end();
      const r = JSON.parse(buf.slice(0, nl)) as { ok: boolean; result?: unknown; error?: string };
      if (r.ok) resolve(r.result);
      else reject(new Error(r.error ?? 'the daemon refused the request'));
    });
    c.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? new Error(`no iro-ctl daemon is running (no answer on ${path})`) : e);
    });
  });
}

export async function controlAlive(path: string): Promise<boolean> {
  try {
    await controlRequest(path, 'status', 3000);
    return true;
  } catch {
    return false;
  }
}
