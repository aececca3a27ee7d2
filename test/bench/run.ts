// `npm run bench`: runs every test/bench/*.bench.ts (or those named on the command line),
// prints one table and writes build/bench/results.json.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../src/kernel/native.ts';
import type { BenchModule, BenchSuite } from './types.ts';

async function main(): Promise<number> {
  const root = projectRoot();
  const dir = join(root, 'test', 'bench');
  const only = process.argv.slice(2);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => !only.length || only.some((o) => f.includes(o)))
    .sort();
  const suites: BenchSuite[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default: BenchModule };
    const started = Date.now();
    try {
      const r = await mod.default();
      suites.push(...(Array.isArray(r) ? r : [r]));
    } catch (e) {
      suites.push({ suite: f, figures: [], skipped: `failed: ${(e as Error).stack ?? e}` });
    }
    console.error(`bench ${f}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const rows: string[][] = [['suite', 'figure', 'value', 'unit', 'target', 'met']];
  for (const s of suites) {
    if (s.skipped) rows.push([s.suite, `SKIPPED: ${s.skipped.split('\n')[0]}`, '', '', '', '']);
    for (const f of s.figures) {
      const v = Math.abs(f.value) >= 1000 ? f.value.toFixed(0) : f.value.toPrecision(4);
      rows.push([s.suite, f.name, v, f.unit, f.target ?? '', f.met === undefined ? '' : f.met ? 'yes' : 'NO']);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  const out = join(root, 'build', 'bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'results.json'), JSON.stringify({ date: new Date().toISOString(), suites }, null, 2));
  console.log(`\nJSON: ${join(out, 'results.json')}`);
  return suites.some((s) => s.skipped?.startsWith('failed')) ? 1 : 0;
}

main().then((c) => process.exit(c));
