// The daemon: load the configuration, check what is needed, start the node, serve the control
// socket, and stop cleanly. SIGTERM/SIGINT stop with the kernel state kept (a restart adopts
// it, L05); `iro-ctl down` (the control socket) deregisters and removes what iro-ctl owns.
import type { Server } from 'node:net';
import { loadConfig } from '../config/index.ts';
import { enterNetns } from '../kernel/netns.ts';
import { createLogger } from '../obs/log.ts';
import { serveControl } from './control.ts';
import { requireCapabilities, kernelFeatures } from './preflight.ts';
import { NodeRuntime } from './runtime.ts';

export interface DaemonOptions {
  configPath: string;
  netns?: string;
  logLevel?: string;
  /** called once the node is up and the control socket listens */
  onReady?: () => void;
}

export async function runDaemon(o: DaemonOptions): Promise<number> {
  if (o.netns) enterNetns(o.netns);
  requireCapabilities('iro-ctl daemon');
  const { config, warnings } = loadConfig(o.configPath);
  const log = createLogger({ level: o.logLevel ?? config.log.level });
  for (const w of warnings) log.warn({ where: `${w.file}:${w.line}:${w.col}`, path: w.path }, w.message);
  const missing = kernelFeatures().filter((f) => !f.ok && f.detail.includes('REQUIRED'));
  if (missing.length) throw new Error(`this kernel lacks what iro-ctl needs:\n  ${missing.map((f) => `${f.feature}: ${f.detail}`).join('\n  ')}`);

  const runtime = await NodeRuntime.start({ config, log });
  let server: Server | null = null;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping = false;
  const stop = async (keepKernelState: boolean) => {
    if (stopping) return;
    stopping = true;
    await runtime.stop({ keepKernelState });
    server?.close();
    resolveDone(0);
  };
  server = await serveControl(config.control.socket, async (op) => {
    if (op === 'status') return runtime.status();
    setImmediate(() => void stop(op === 'stop'));
    return { stopping: true, removeKernelState: op === 'down' };
  });
  process.once('SIGTERM', () => void stop(true));
  process.once('SIGINT', () => void stop(true));
  log.info({ control: config.control.socket }, 'ready');
  o.onReady?.();
  return done;
}
