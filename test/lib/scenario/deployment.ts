// A deployment of iro-ctl nodes for scenario tests: the example configurations of deploy/examples
// (which use the standard IRO topology's addresses and interface names), one shared key
// directory made at test time, per-node control sockets, state and pin directories, and the
// daemons started for real (`iro-ctl daemon --netns NS`).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { projectRoot } from '../../../src/kernel/native.ts';
import { controlAlive, controlRequest } from '../../../src/daemon/control.ts';
import { keyBitsFor } from '../../../src/config/algorithms.ts';

/**
 * A scenario file's teardown: after its tests, destroy what `parts()` returns by then (the
 * deployment before its topology), whatever the tests left behind.
 */
export function destroyAfterTests(parts: () => ReadonlyArray<{ destroy(): Promise<unknown> } | undefined>): void {
  after(async () => {
    for (const p of parts()) await p?.destroy();
  });
}

/** The kernel log's last lines (a crashed or OOM-killed daemon leaves its trace there). */
function kernelLogTail(): string {
  const r = spawnSync('dmesg', [], { encoding: 'utf8' });
  return r.status === 0 ? `\nkernel log tail:\n${r.stdout.split('\n').slice(-15).join('\n')}` : '';
}

/** A node and its example file deploy/examples/<name>.yaml (mn2: a second MN, the first one's MN peer). */
export type NodeName = 'mn' | 'ha' | 'cn' | 'mn2';

export interface DeployedNode {
  name: NodeName;
  config: string;
  socket: string;
  pinDir: string;
  log: string;
  /** when started by start() (a child of the test); null when started by `iro-ctl up` */
  proc: ChildProcess | null;
  /** the daemon's pid, however it was started */
  pid: number | null;
  ns: string | null;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function* keyFiles(v: unknown): Generator<{ alg: string; keyFile: string }> {
  if (Array.isArray(v)) for (const x of v) yield* keyFiles(x);
  else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.alg === 'string' && typeof o.keyFile === 'string') yield { alg: o.alg, keyFile: o.keyFile };
    for (const x of Object.values(o)) yield* keyFiles(x);
  }
}

export class Deployment {
  readonly dir: string;
  readonly nodes = new Map<NodeName, DeployedNode>();
  private readonly keys = new Map<string, Buffer>();

  constructor(tag: string) {
    this.dir = mkdtempSync(join(tmpdir(), `iro-deploy-${tag}-`));
  }

  /** The key bytes written for `keyFile` (as named in the configuration), for a node without iro-ctl. */
  key(keyFile: string): Buffer {
    const k = this.keys.get(keyFile);
    if (!k) throw new Error(`no key was written for ${keyFile}`);
    return k;
  }

  /** All key bytes written (to check that none leaks into logs or output). */
  allKeys(): Buffer[] {
    return [...this.keys.values()];
  }

  /** Write a node's configuration from the example, with `edit` applied to the parsed YAML. */
  configure(name: NodeName, edit: (doc: Record<string, unknown>) => void = () => {}): DeployedNode {
    const doc = parse(readFileSync(join(projectRoot(), 'deploy', 'examples', `${name}.yaml`), 'utf8')) as Record<string, unknown>;
    const run = join(this.dir, `run-${name}`);
    const pinDir = `/sys/fs/bpf/iro-deploy-${process.pid}-${name}`;
    doc.control = { socket: join(run, 'control.sock') };
    doc.state = { dir: run };
    doc.datapath = { ...(doc.datapath as object), pinDir, stateFile: join(run, 'datapath.json') };
    if (name === 'ha' && doc.ha) (doc.ha as Record<string, unknown>).persistSequence = join(run, 'ha-sequence.json');
    edit(doc);
    for (const { alg, keyFile } of keyFiles(doc)) {
      if (this.keys.has(keyFile)) continue;
      const kind = alg.startsWith('hmac(') ? 'auth' : alg.startsWith('rfc4106(') ? 'aead' : 'enc';
      const key = randomBytes(keyBitsFor(kind, alg).at(-1)! / 8);
      const full = join(this.dir, keyFile);
      mkdirSync(dirname(full), { recursive: true, mode: 0o700 });
      writeFileSync(full, `${key.toString('hex')}\n`, { mode: 0o600 });
      chmodSync(full, 0o600);
      this.keys.set(keyFile, key);
    }
    const config = join(this.dir, `${name}.yaml`);
    writeFileSync(config, stringify(doc), { mode: 0o600 });
    mkdirSync(run, { recursive: true });
    const node: DeployedNode = { name, config, socket: join(run, 'control.sock'), pinDir, log: join(run, 'daemon.log'), proc: null, pid: null, ns: null };
    this.nodes.set(name, node);
    return node;
  }

  /** Start the daemon of a configured node in namespace `ns`; resolves when it answers. */
  async start(name: NodeName, ns: string, timeoutMs = 300_000): Promise<DeployedNode> {
    const n = this.nodes.get(name)!;
    const out = [] as string[];
    const proc = spawn(process.execPath, [join(projectRoot(), 'bin', 'iro-ctl.js'), 'daemon', '--config', n.config, '--netns', ns, '--log-level', 'debug'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, IRO_LOG_PRETTY: '0' },
    });
    proc.stdout!.on('data', (d) => out.push(String(d)));
    proc.stderr!.on('data', (d) => out.push(String(d)));
    proc.on('exit', () => writeFileSync(n.log, out.join('')));
    n.proc = proc;
    n.pid = proc.pid ?? null;
    n.ns = ns;
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`${name} daemon exited (${proc.exitCode ?? proc.signalCode}) during start-up:\n${out.join('').slice(-4000)}${kernelLogTail()}`);
      }
      try {
        await controlRequest(n.socket, 'status', 2000);
        return n;
      } catch {
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    throw new Error(`${name} daemon did not come up in time:\n${out.join('').slice(-4000)}${kernelLogTail()}`);
  }

  /** Run `iro-ctl ARGS` (the real CLI, as a user would) against a configured node's config and namespace. */
  cli(name: NodeName, ns: string, args: string[], timeoutMs = 300_000): Promise<CliResult> {
    const n = this.nodes.get(name)!;
    const [cmd, ...rest] = args;
    const argv = [join(projectRoot(), 'bin', 'iro-ctl.js'), '--json', cmd!, ...rest, '--config', n.config, '--netns', ns];
    return new Promise((resolve) => {
      execFile(process.execPath, argv, { timeout: timeoutMs, env: { ...process.env, IRO_LOG_PRETTY: '0' } }, (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; signal?: string | null }) | null;
        const code = !e ? 0 : typeof e.code === 'number' ? e.code : 1;
        resolve({ code, stdout, stderr: e?.signal ? `${stderr}(killed by ${e.signal})${kernelLogTail()}` : stderr });
      });
    });
  }

  /** `iro-ctl up` (a detached daemon, as a user starts it); resolves with its status once it is up. */
  async up(name: NodeName, ns: string): Promise<Record<string, unknown>> {
    const r = await this.cli(name, ns, ['up', '--timeout', '300']);
    if (r.code !== 0) {
      const log = join(this.dir, `run-${name}`, 'daemon.log');
      const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-4000) : '(no daemon log)';
      throw new Error(`iro-ctl up (${name}) failed (${r.code}):\n${r.stdout}\n${r.stderr}\ndaemon log:\n${tail}`);
    }
    const st = JSON.parse(r.stdout) as Record<string, unknown>;
    const n = this.nodes.get(name)!;
    n.ns = ns;
    if (typeof st.pid === 'number') n.pid = st.pid;
    return st;
  }

  /** SIGKILL the node's daemon (no clean-up of any kind) and wait until it is gone. */
  async kill(name: NodeName): Promise<void> {
    const n = this.nodes.get(name)!;
    if (!n.pid) throw new Error(`${name}: no daemon pid known`);
    process.kill(n.pid, 'SIGKILL');
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      try {
        process.kill(n.pid, 0);
      } catch {
        n.pid = null;
        n.proc = null;
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${name}: daemon ${n.pid} survived SIGKILL`);
  }

  /** The daemon output so far (for failure messages). */
  output(name: NodeName): string {
    const p = this.nodes.get(name)?.proc;
    return p ? ((p as unknown as { _out?: string })._out ?? '') : '';
  }

  async status(name: NodeName): Promise<Record<string, unknown>> {
    return (await controlRequest(this.nodes.get(name)!.socket, 'status')) as Record<string, unknown>;
  }

  /** Poll a node's status until `pred` holds. */
  async waitFor(name: NodeName, pred: (st: Record<string, unknown>) => boolean, what: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const end = Date.now() + timeoutMs;
    let last: Record<string, unknown> = {};
    while (Date.now() < end) {
      try {
        last = await this.status(name);
        if (pred(last)) return last;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${name}: ${what} did not happen within ${timeoutMs / 1000} s; last status:\n${JSON.stringify(last, null, 1).slice(0, 6000)}`);
  }

  /** Stop every daemon that still runs (`down`: deregister and remove); their logs stay readable. */
  async stopAll(): Promise<void> {
    for (const n of this.nodes.values()) {
      const exited = n.proc && n.proc.exitCode === null ? new Promise<void>((r) => n.proc!.once('exit', () => r())) : Promise.resolve();
      if (await controlAlive(n.socket)) {
        try {
          await controlRequest(n.socket, 'down', 20_000);
        } catch {
          /* already gone */
        }
        const end = Date.now() + 15_000;
        while (Date.now() < end && (await controlAlive(n.socket))) await new Promise((r) => setTimeout(r, 100));
        if (n.pid && (await controlAlive(n.socket))) process.kill(n.pid, 'SIGKILL');
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    }
  }

  /** stopAll(), then remove the pins and the directory. */
  async destroy(): Promise<void> {
    await this.stopAll();
    for (const n of this.nodes.values()) rmSync(n.pinDir, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An MN binding entry from a status object. */
export function mnEntry(st: Record<string, unknown>, peer: string): Record<string, unknown> | undefined {
  const mn = st.mn as { entries?: Array<Record<string, unknown>> } | null;
  return mn?.entries?.find((e) => e.peer === peer);
}
