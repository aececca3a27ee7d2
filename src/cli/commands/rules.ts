// `iro-ctl rule ...`: remapping rules in the IRO §5.2.2 text syntax, straight into the data
// path (the IRO engine normally owns them; these are for operators and static setups).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseRule, parseRuleSet, printRule } from '../../datapath/rule-syntax.ts';
import { buildEntries, entryRules, resolveRules, type RemapRule, type RuleEntry } from '../../datapath/rules.ts';
import { native } from '../../kernel/native.ts';
import { inNetns } from '../../kernel/netns.ts';
import { withLock, DEFAULT_LOCK } from '../lock.ts';
import { openDatapath, output, parseDefines, UsageError, type GlobalOptions } from '../context.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function ruleText(r: RemapRule): string {
  return printRule({
    dir: r.dir,
    spi: r.spi,
    ...(r.proto === 'ah' ? { proto: 'ah' as const } : {}),
    ...(r.dir === 'out' && r.peer ? { peer: r.peer } : {}),
    field: r.field,
    expected: r.expected,
    remap: 'address' in r.remap ? { kind: 'address', value: r.remap.address } : r.remap.fallback ? { kind: 'ancillary', fallback: r.remap.fallback } : { kind: 'ancillary' },
    recordAncillary: r.recordAncillary,
  });
}

function oifResolver(name: string | undefined, netns: string | undefined): () => number {
  if (!name) return () => 0;
  const idx = netns ? inNetns(netns, () => native().ifNameToIndex(name)) : native().ifNameToIndex(name);
  if (!idx) throw new UsageError(`--oif: no interface "${name}"${netns ? ` in namespace ${netns}` : ''}`);
  return () => idx;
}

export function registerRules(program: Command, g: () => GlobalOptions): void {
  const rule = program.command('rule').description('remapping rules (IRO §5.2.2 syntax) in the data path');

  rule
    .command('add <text>')
    .description('add a rule, e.g. "dir: out, SPI: 42, peer: 2001:db8::c, exp. src: HoA, remap. src: CoA" (merged with the other field of the same key)')
    .option('-D, --define <NAME=ADDR>', 'define a name used in the rule (repeatable)', collect)
    .option('--oif <ifname>', 'egress: redirect to this interface after a rewrite')
    .option('--netns <name>', 'namespace of --oif')
    .option('--drop-on-mismatch', 'drop packets whose expected address does not match')
    .action(async (text: string, o: { define?: string[]; oif?: string; netns?: string; dropOnMismatch?: boolean }) => {
      const env = parseDefines(o.define);
      let rules: RemapRule[];
      try {
        rules = resolveRules([parseRule(text)], env);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      if (o.dropOnMismatch) rules = rules.map((r) => ({ ...r, dropOnMismatch: true }));
      const oif = oifResolver(o.oif, o.netns)();
      await withLock(DEFAULT_LOCK, () => {
        const d = openDatapath(g());
        try {
          const existing = d.listEntries().find((e) => e.id === buildEntries(rules).keys().next().value);
          const merged = buildEntries([...(existing ? entryRules(existing) : []), ...rules], { oif: () => oif || existing?.oif || 0 });
          for (const e of merged.values()) d.putEntry(e);
          output(g(), [...merged.values()], () => [...merged.values()].map((e) => `${e.id}: ${entryRules(e).map(ruleText).join(' ; ')}`).join('\n'));
        } finally {
          d.close();
        }
      });
    });

  rule
    .command('del <id-or-text>')
    .description('delete a rule entry by id ("out/esp/42/2001:db8::c", "in/esp/43") or by a rule of it')
    .option('-D, --define <NAME=ADDR>', 'define a name used in the rule text (repeatable)', collect)
    .action(async (what: string, o: { define?: string[] }) => {
      let id = what;
      if (what.includes(':') && what.includes(',')) {
        try {
          id = buildEntries(resolveRules([parseRule(what)], parseDefines(o.define))).keys().next().value!;
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
      }
      await withLock(DEFAULT_LOCK, () => {
        const d = openDatapath(g());
        try {
          const removed = d.deleteEntry(id);
          if (!removed) throw new Error(`no rule entry ${id}`);
          output(g(), { removed: id }, () => `removed ${id}`);
        } finally {
          d.close();
        }
      });
    });

  rule
    .command('list')
    .description('every rule entry with its counters')
    .action(() => {
      const d = openDatapath(g());
      try {
        const rows = d.listEntries().map((e: RuleEntry) => ({ ...e, rules: entryRules(e).map(ruleText), counters: d.ruleCounters(e.id) }));
        output(g(), rows, () =>
          rows.length
            ? rows
                .map((r) => {
                  const c = r.counters;
                  const cnt = c ? `hits src ${c.srcHits} dst ${c.dstHits}, mismatches src ${c.srcMismatch} dst ${c.dstMismatch}` : '';
                  return `${r.rules.join('\n')}\n    ${r.id}${r.oif ? ` oif ${r.oif}` : ''}: ${cnt}`;
                })
                .join('\n')
            : 'no rules',
        );
      } finally {
        d.close();
      }
    });

  rule
    .command('apply <file>')
    .description('make the rule map equal the rules in FILE (one rule per line, # comments), with minimal changes')
    .option('-D, --define <NAME=ADDR>', 'define a name used in the rules (repeatable)', collect)
    .option('--peer <addr>', 'key address for outgoing rules that name no peer')
    .action(async (file: string, o: { define?: string[]; peer?: string }) => {
      let entries: Map<string, RuleEntry>;
      try {
        const rules = resolveRules(parseRuleSet(readFileSync(file, 'utf8')), parseDefines(o.define), o.peer ? { peer: o.peer } : {});
        entries = buildEntries(rules);
      } catch (e) {
        throw new UsageError(`${file}: ${(e as Error).message}`);
      }
      await withLock(DEFAULT_LOCK, () => {
        const d = openDatapath(g());
        try {
          const r = d.reconcileEntries(entries);
          output(g(), r, () => `${file}: ${r.put} entr${r.put === 1 ? 'y' : 'ies'} written, ${r.deleted} deleted, ${r.unchanged} unchanged`);
        } finally {
          d.close();
        }
      });
    });

  program
    .command('events')
    .description('print data path events (unknown SPIs from a HoA, optional mismatches); while a node daemon runs it consumes them too (each event reaches one reader), so read its log instead')
    .option('--count <n>', 'stop after N events', (v) => Number(v))
    .option('--timeout <s>', 'stop after S seconds', (v) => Number(v))
    .action(async (o: { count?: number; timeout?: number }) => {
      const d = openDatapath(g());
      const ac = new AbortController();
      const timer = o.timeout ? setTimeout(() => ac.abort(), o.timeout * 1000) : null;
      process.once('SIGINT', () => ac.abort());
      let n = 0;
      try {
        for await (const e of d.events(ac.signal)) {
          output(g(), e, () => `${e.kind === 1 ? 'miss' : 'mismatch'} ${e.dir ? 'out' : 'in'} ${e.proto === 51 ? 'ah' : 'esp'} spi 0x${e.spi.toString(16)} ${e.src} -> ${e.dst} ifindex ${e.ifindex}${e.dropped ? ' (dropped)' : ''}`);
          if (o.count && ++n >= o.count) break;
        }
      } finally {
        if (timer) clearTimeout(timer);
        d.close();
      }
    });

}
