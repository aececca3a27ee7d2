// One command for every test tier: runs what this machine supports, says what it skipped
// and why, and ends with one summary across tiers. With IRO_REQUIRE_ALL_TIERS=1 (CI) a
// skipped tier is a failure, so a skip can never hide a test that did not run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { projectRoot } from '../src/kernel/native.ts';
import { TIERS, tierUnavailable, type Tier } from './lib/capabilities.ts';
import { parseTapSummary, type TapSummary } from './lib/tap.ts';

interface TierResult {
  tier: Tier;
  files: number;
  summary?: TapSummary;
  skipped?: string;
  exitCode: number;
  seconds: number;
}

const root = projectRoot();

function findTests(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.test.ts')) out.push(p);
    }
  };
  try {
    walk(dir);
  } catch {
    return [];
  }
  return out.sort();
}

function parseArgs(argv: string[]): { tiers: Tier[]; files: string[] } {
  const tiers: Tier[] = [];
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--tier') {
      const t = argv[++i] as Tier;
      if (!TIERS.includes(t)) throw new Error(`unknown tier "${t}" (${TIERS.join('|')})`);
      tiers.push(t);
    } else if (a === '--files') {
      files.push(...argv.slice(i + 1));
      break;
    } else {
      files.push(a);
    }
  }
  return { tiers: tiers.length ? tiers : [...TIERS], files };
}

/** Run node's test runner on host files; spec output to the terminal, TAP to a file for the summary. */
function runHostTier(tier: Tier, files: string[]): Promise<{ summary: TapSummary; exitCode: number }> {
  const tapFile = join(mkdtempSync(join(tmpdir(), 'iro-tap-')), `${tier}.tap`);
  // Kernel-facing tiers share namespaces, interfaces and bpffs: one file at a time.
  const concurrency = tier === 'unit' ? Math.max(2, availableParallelism()) : 1;
  const args = [
    '--import', 'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...files,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, env: { ...process.env, IRO_TEST_TIER: tier } });
    child.on('exit', (code, signal) => {
      let tap = '';
      try {
        tap = readFileSync(tapFile, 'utf8');
      } catch {
        /* the runner died before writing: reported as a failure below */
      }
      const summary = parseTapSummary(tap);
      resolve({ summary, exitCode: code ?? (signal ? 128 : 1) });
    });
  });
}

async function runTier(tier: Tier, only: string[]): Promise<TierResult> {
  const started = Date.now();
  const all = findTests(join(root, 'test', tier));
  const files = only.length ? all.filter((f) => only.some((o) => f.endsWith(o) || f.includes(o))) : all;
  const base = { tier, files: files.length, seconds: 0 };
  if (!files.length) return { ...base, skipped: only.length ? 'no matching files' : 'no test files', exitCode: 0 };
  const why = tierUnavailable(tier);
  if (why) return { ...base, skipped: why, exitCode: 0 };
  console.log(`\n=== ${tier} tier: ${files.length} file(s) ===`);
  let r: { summary: TapSummary; exitCode: number };
  if (tier === 'vm') {
    const { runVmTier } = await import('./vm/harness.ts');
    r = await runVmTier(files.map((f) => relative(root, f)));
  } else {
    r = await runHostTier(tier, files);
  }
  return { ...base, summary: r.summary, exitCode: r.exitCode, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<number> {
  const { tiers, files } = parseArgs(process.argv.slice(2));
  const requireAll = process.env.IRO_REQUIRE_ALL_TIERS === '1';
  const results: TierResult[] = [];
  for (const t of tiers) results.push(await runTier(t, files));

  console.log('\n=== summary ===');
  let failed = false;
  for (const r of results) {
    if (r.skipped) {
      const fatal = requireAll && r.skipped !== 'no matching files';
      failed ||= fatal;
      console.log(`${r.tier.padEnd(6)} SKIPPED: ${r.skipped}${fatal ? '  (IRO_REQUIRE_ALL_TIERS=1: counts as a failure)' : ''}`);
      continue;
    }
    const s = r.summary!;
    const bad = r.exitCode !== 0 || s.fail > 0 || s.cancelled > 0 || s.tests === 0;
    failed ||= bad;
    console.log(
      `${r.tier.padEnd(6)} ${bad ? 'FAIL' : 'ok  '}  files ${r.files}  tests ${s.tests}  pass ${s.pass}  fail ${s.fail}` +
        `  cancelled ${s.cancelled}  skipped ${s.skipped}  todo ${s.todo}  (${r.seconds.toFixed(1)} s)` +
        (r.exitCode !== 0 && s.fail === 0 ? `  exit code ${r.exitCode}` : ''),
    );
    for (const name of s.skippedNames.slice(0, 20)) console.log(`         skipped: ${name}`);
  }
  console.log(failed ? '\nRESULT: FAIL' : '\nRESULT: PASS');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
