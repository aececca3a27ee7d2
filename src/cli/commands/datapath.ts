// `iro-ctl datapath ...`: load, attach, detach, inspect and remove the tc data path.
import type { Command } from 'commander';
import { inNetns } from '../../kernel/netns.ts';
import type { Direction } from '../../datapath/attach.ts';
import { MissPolicy } from '../../datapath/abi.ts';
import { withLock, DEFAULT_LOCK } from '../lock.ts';
import { openDatapath, output, UsageError, type GlobalOptions } from '../context.ts';

function directions(d: string): Direction[] {
  if (d === 'both') return ['ingress', 'egress'];
  if (d === 'ingress' || d === 'egress') return [d];
  throw new UsageError(`--direction must be ingress, egress or both, got "${d}"`);
}

function inNs<T>(ns: string | undefined, fn: () => T): T {
  return ns ? inNetns(ns, fn) : fn();
}

export function registerDatapath(program: Command, g: () => GlobalOptions): void {
  const dp = program.command('datapath').description('the tc eBPF remap programs: load, attach, status, remove');

  dp.command('load')
    .description('load the programs and maps and pin them (adopts an already pinned data path)')
    .option('--rule-capacity <n>', 'maximum number of rule entries (fresh load only)', (v) => Number(v), 65536)
    .option('--reload', 'load the object again even if programs are pinned (upgrade; rules are kept)')
    .action(async (o: { ruleCapacity: number; reload?: boolean }) => {
      if (!Number.isInteger(o.ruleCapacity) || o.ruleCapacity < 1) throw new UsageError('--rule-capacity must be a positive integer');
      await withLock(DEFAULT_LOCK, () => {
        const d = openDatapath(g(), { ruleCapacity: o.ruleCapacity, reload: Boolean(o.reload) });
        output(g(), { adopted: d.adopted, programs: Object.fromEntries(Object.entries(d.programs).map(([k, p]) => [k, p.info.id])) }, () =>
          `${d.adopted ? 'adopted the pinned data path' : 'loaded and pinned the data path'} at ${g().pinDir}`,
        );
        d.close();
      });
    });

  dp.command('attach <ifname>')
    .description('attach the remap programs to an interface (L2 or L3 is detected)')
    .option('--direction <dir>', 'ingress, egress or both', 'both')
    .option('--mode <mode>', 'auto (tcx if the kernel has it, else clsact), tcx or clsact', 'auto')
    .option('--netns <name>', 'the interface is in this network namespace (ip netns name)')
    .action(async (ifname: string, o: { direction: string; mode: string; netns?: string }) => {
      if (!['auto', 'tcx', 'clsact'].includes(o.mode)) throw new UsageError(`--mode must be auto, tcx or clsact, got "${o.mode}"`);
      await withLock(DEFAULT_LOCK, () => {
        const d = openDatapath(g());
        try {
          const atts = inNs(o.netns, () => directions(o.direction).map((dir) => d.attach(ifname, dir, { mode: o.mode as 'auto' })));
          output(g(), atts, () => atts.map((a) => `${a.ifname} ${a.direction}: ${a.program} via ${a.mode}`).join('\n'));
        } finally {
          d.close();
        }
      });
    });

  dp.command('detach <ifname>')
    .description('detach from an interface (removes a clsact qdisc we created)')
    .option('--direction <dir>', 'ingress, egress or both', 'both')
    .option('--netns <name>', 'the interface is in this network namespace')
    .action(async (ifname: string, o: { direction: string; netns?: string }) => {
      await withLock(DEFAULT_LOCK, () => {
        const d = openDatapath(g());
        try {
          const removed = inNs(o.netns, () => directions(o.direction).map((dir) => [dir, d.detach(ifname, dir)] as const));
          output(g(), Object.fromEntries(removed), () => removed.map(([dir, r]) => `${ifname} ${dir}: ${r ? 'detached' : 'was not attached'}`).join('\n'));
        } finally {
          d.close();
        }
      });
    });

  dp.command('status')
    .description('attachments, configuration, rule count and counters')
    .action(() => {
      const d = openDatapath(g());
      try {
        const cfg = d.config();
        const status = {
          pinDir: g().pinDir,
          attachments: d.verifyAttachments(),
          config: { missPolicy: cfg.missPolicy === MissPolicy.Pass ? 'pass' : 'drop', markMask: `0x${cfg.markMask.toString(16)}`, flags: cfg.flags },
          rules: d.listEntries().length,
          hoas: d.members('hoas'),
          peers: d.members('peers').length,
          counters: d.stats(),
        };
        output(g(), status, () => {
          const lines = [`data path pinned at ${status.pinDir}`, `miss policy ${status.config.missPolicy}, ancillary mark mask ${status.config.markMask}`];
          for (const a of status.attachments) {
            const ok = a.attachedProgId !== null;
            lines.push(`  ${a.ifname} ${a.direction}: ${a.program} via ${a.mode}${ok ? '' : '  (NOT ATTACHED: the hook is gone)'}`);
          }
          lines.push(`rules: ${status.rules}, local HoAs: ${status.hoas.join(', ') || 'none'}, IRO peers: ${status.peers}`);
          const nz = Object.entries(status.counters).filter(([, v]) => v > 0n);
          lines.push(`counters: ${nz.length ? nz.map(([k, v]) => `${k}=${v}`).join(' ') : 'all zero'}`);
          return lines.join('\n');
        });
      } finally {
        d.close();
      }
    });

  dp.command('config')
    .description('change the runtime configuration')
    .option('--miss-policy <policy>', 'drop (fail closed, default) or pass')
    .option('--mark-mask <mask>', 'skb->mark bits reserved for ancillary slots, e.g. 0x00ff0000')
    .option('--mismatch-events <on|off>', 'emit ring buffer events on expectation mismatches')
    .action(async (o: { missPolicy?: string; markMask?: string; mismatchEvents?: string }) => {
      if (o.missPolicy && o.missPolicy !== 'drop' && o.missPolicy !== 'pass') throw new UsageError('--miss-policy must be drop or pass');
      const mask = o.markMask === undefined ? undefined : Number(o.markMask);
      if (mask !== undefined && !(Number.isInteger(mask) && mask >= 0 && mask <= 0xffffffff)) throw new UsageError('--mark-mask must be a 32-bit number');
      if (o.mismatchEvents && !['on', 'off'].includes(o.mismatchEvents)) throw new UsageError('--mismatch-events must be on or off');
      await withLock(DEFAULT_LOCK, () => {
        const d = openDatapath(g());
        try {
          const c = d.configure({
            ...(o.missPolicy ? { missPolicy: o.missPolicy as 'drop' | 'pass' } : {}),
            ...(mask !== undefined ? { markMask: mask } : {}),
            ...(o.mismatchEvents ? { eventOnMismatch: o.mismatchEvents === 'on' } : {}),
          });
          output(g(), c, () => `miss policy ${c.missPolicy === MissPolicy.Pass ? 'pass' : 'drop'}, mark mask 0x${c.markMask.toString(16)}`);
        } finally {
          d.close();
        }
      });
    });

  dp.command('destroy')
    .description('detach everywhere and remove every pin and the state file')
    .action(async () => {
      await withLock(DEFAULT_LOCK, () => {
        const d = openDatapath(g());
        const atts = d.attachments();
        d.destroy();
        output(g(), { detached: atts.length }, () => `data path removed (${atts.length} hook(s) detached)`);
      });
    });
}
