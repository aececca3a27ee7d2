// `iro-ctl daemon | up | down | status | config | preflight`: running a node from its YAML file.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, describeConfig, formatIssue, loadConfig, ownershipOf, redactedConfig, type NodeConfig } from '../../config/index.ts';
import { runDaemon } from '../../daemon/main.ts';
import { controlAlive, controlRequest } from '../../daemon/control.ts';
import { MN_BINDINGS_FILE } from '../../daemon/persisted.ts';
import { kernelFeatures, missingCapabilities, effectiveCaps } from '../../daemon/preflight.ts';
import { Datapath } from '../../datapath/datapath.ts';
import { XfrmClient } from '../../kernel/xfrm/client.ts';
import { XfrmPusher } from '../../ipsec/pusher-xfrm.ts';
import { RtnetlinkClient } from '../../kernel/rtnetlink/client.ts';
import { MnHomeTunnel } from '../../mip6/kernel/mn-tunnel.ts';
import { HaHome } from '../../mip6/kernel/ha-home.ts';
import { enterNetns } from '../../kernel/netns.ts';
import { projectRoot } from '../../kernel/native.ts';
import { output, UsageError, type GlobalOptions } from '../context.ts';
import { formatStatus } from '../status-text.ts';

export const DEFAULT_CONFIG = '/etc/iro-ctl/iro-ctl.yaml';

function load(path: string): NodeConfig {
  try {
    return loadConfig(path).config;
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`invalid configuration:\n${e.issues.map(formatIssue).join('\n')}`);
    throw e;
  }
}

/** `down` without a daemon: remove exactly what iro-ctl owns, from what the config names. */
async function offlineDown(c: NodeConfig): Promise<string[]> {
  const done: string[] = [];
  const xfrm = XfrmClient.open();
  try {
    const r = await new XfrmPusher(xfrm, ownershipOf(c)).removeOwned();
    if (r.removed.length) done.push(`removed ${r.removed.length} owned SA(s)/policies`);
  } finally {
    xfrm.close();
  }
  const rt = RtnetlinkClient.open();
  try {
    if (c.role === 'mn' && c.mn) {
      const t = new MnHomeTunnel(rt, { name: c.mn.tunnel.name, table: c.mn.tunnel.table, rulePriority: 1000, hoas: c.mn.homeAddresses, homeAgent: c.mn.homeAgent });
      if (await t.ifindex()) done.push(`removed tunnel ${c.mn.tunnel.name}`);
      await t.remove();
    }
    if (c.role === 'ha' && c.ha) {
      const h = new HaHome(rt, { homeLink: c.ha.homeLink, address: c.ha.address });
      await h.prepare().catch(() => undefined);
      for (const m of c.ha.mobileNodes) await h.setBinding(m.homeAddress, null).catch(() => undefined);
    }
  } finally {
    rt.close();
  }
  const bindings = join(c.state.dir, MN_BINDINGS_FILE);
  if (existsSync(bindings)) {
    rmSync(bindings);
    done.push(`removed ${bindings}`);
  }
  if (existsSync(c.datapath.pinDir)) {
    Datapath.open({ pinDir: c.datapath.pinDir, stateFile: c.datapath.stateFile }).destroy();
    done.push(`removed the data path at ${c.datapath.pinDir}`);
  }
  return done;
}

async function waitGone(socket: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!(await controlAlive(socket))) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export function registerNode(program: Command, g: () => GlobalOptions): void {
  const withConfig = (cmd: Command) => cmd.option('-c, --config <file>', 'node configuration (YAML)', DEFAULT_CONFIG).option('--netns <name>', 'run in this network namespace (ip netns name)');

  withConfig(program.command('daemon').description('run the node in the foreground (what the systemd unit starts)'))
    .option('--log-level <level>', 'debug, info, warn or error')
    .action(async (o: { config: string; netns?: string; logLevel?: string }) => {
      const code = await runDaemon({ configPath: o.config, ...(o.netns ? { netns: o.netns } : {}), ...(o.logLevel ? { logLevel: o.logLevel } : {}) });
      if (code) process.exitCode = code;
    });

  withConfig(program.command('up').description('start the node in the background and wait until it is up'))
    .option('--timeout <s>', 'how long to wait for the daemon', (v) => Number(v), 60)
    .action(async (o: { config: string; netns?: string; timeout: number }) => {
      const c = load(o.config);
      if (o.netns) enterNetns(o.netns);
      if (await controlAlive(c.control.socket)) {
        output(g(), { alreadyUp: true }, () => `iro-ctl is already up (control socket ${c.control.socket})`);
        return;
      }
      const missing = missingCapabilities(effectiveCaps());
      if (missing.length) throw new Error(`iro-ctl up needs ${missing.join(', ')}: run it as root`);
      mkdirSync(c.state.dir, { recursive: true });
      const logFile = join(c.state.dir, 'daemon.log');
      const fd = openSync(logFile, 'a', 0o600);
      const args = [join(projectRoot(), 'bin', 'iro-ctl.js'), 'daemon', '--config', resolve(o.config), ...(o.netns ? ['--netns', o.netns] : [])];
      const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, IRO_LOG_PRETTY: '0' } });
      closeSync(fd);
      let exited: number | null = null;
      child.on('exit', (code) => (exited = code ?? 1));
      child.unref();
      const end = Date.now() + o.timeout * 1000;
      while (Date.now() < end) {
        if (exited !== null) throw new Error(`the daemon exited (${exited}) during start-up; see ${logFile}`);
        if (await controlAlive(c.control.socket)) {
          const st = (await controlRequest(c.control.socket, 'status')) as Record<string, unknown>;
          output(g(), st, () => `iro-ctl is up (pid ${child.pid}, log ${logFile})\n${formatStatus(st)}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`the daemon did not come up within ${o.timeout} s; see ${logFile}`);
    });

  withConfig(program.command('down').description('deregister, then remove every SA, policy, rule, program, pin and tunnel iro-ctl created'))
    .action(async (o: { config: string; netns?: string }) => {
      const c = load(o.config);
      if (o.netns) enterNetns(o.netns);
      if (await controlAlive(c.control.socket)) {
        await controlRequest(c.control.socket, 'down');
        if (!(await waitGone(c.control.socket, 30_000))) throw new Error('the daemon did not stop within 30 s');
        output(g(), { stopped: true }, () => 'iro-ctl is down: deregistered, and everything it owned is removed');
        return;
      }
      const done = await offlineDown(c);
      output(g(), { stopped: false, removed: done }, () => (done.length ? `no daemon was running; ${done.join('; ')}` : 'no daemon was running and nothing of iro-ctl was left'));
    });

  withConfig(program.command('status').description('bindings, CoA, tracked SAs, rules with their reasons and counters (keys are never shown)'))
    .action(async (o: { config: string; netns?: string }) => {
      const c = load(o.config);
      if (o.netns) enterNetns(o.netns);
      const st = (await controlRequest(c.control.socket, 'status')) as Record<string, unknown>;
      output(g(), st, () => formatStatus(st));
    });

  const cfg = program.command('config').description('check or show a node configuration');
  cfg.command('check [file]').description('validate a configuration file').action((file?: string) => {
    const c = load(file ?? DEFAULT_CONFIG);
    output(g(), { ok: true, role: c.role }, () => `${c.file}: valid (${c.role})`);
  });
  cfg.command('show [file]').description('the effective configuration with every default (keys redacted)').action((file?: string) => {
    const c = load(file ?? DEFAULT_CONFIG);
    output(g(), redactedConfig(c), () => describeConfig(c));
  });

  program
    .command('preflight')
    .description('capabilities and kernel features iro-ctl needs, each on its own line')
    .action(() => {
      const missing = missingCapabilities(effectiveCaps());
      const features = kernelFeatures();
      output(g(), { missingCapabilities: missing, features }, () =>
        [
          missing.length ? `capabilities: MISSING ${missing.join(', ')}` : 'capabilities: ok',
          ...features.map((f) => `${f.ok ? 'ok     ' : 'MISSING'} ${f.feature}: ${f.detail}`),
        ].join('\n'),
      );
      if (missing.length || features.some((f) => !f.ok && f.detail.includes('REQUIRED'))) process.exitCode = 1;
    });

}
