// A private data path for one test: its own bpffs pin directory and state file, destroyed
// afterwards, so tests never touch /sys/fs/bpf/iro-ctl or each other.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Datapath, type DatapathOptions } from '../../src/datapath/datapath.ts';
import { resolveRules, buildEntries, type RemapRule } from '../../src/datapath/rules.ts';
import { parseRuleSet } from '../../src/datapath/rule-syntax.ts';

let counter = 0;

export function ensureBpffsMounted(): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === '/sys/fs/bpf' && l.split(' ')[2] === 'bpf')) return;
  mkdirSync('/sys/fs/bpf', { recursive: true });
  execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
}

export interface TestDatapathPaths {
  pinDir: string;
  stateFile: string;
}

export function testDatapathPaths(tag = 't'): TestDatapathPaths {
  ensureBpffsMounted();
  const id = `${process.pid}-${tag}-${counter++}`;
  return {
    pinDir: `/sys/fs/bpf/iro-test-${id}`,
    stateFile: join(mkdtempSync(join(tmpdir(), 'iro-dp-')), 'datapath.json'),
  };
}

export type TestDatapath = Datapath & { testPaths: TestDatapathPaths };

export function openTestDatapath(tag = 't', opts: DatapathOptions = {}): TestDatapath {
  const paths = testDatapathPaths(tag);
  const dp = Datapath.open({ ...paths, ...opts }) as TestDatapath;
  Object.defineProperty(dp, 'testPaths', { value: paths });
  return dp;
}

export function destroyQuietly(dp: Datapath): void {
  const paths = (dp as Partial<TestDatapath>).testPaths;
  try {
    dp.destroy();
  } finally {
    if (paths && existsSync(paths.pinDir)) execFileSync('rm', ['-rf', paths.pinDir]);
  }
}

/** Install rules given in the IRO §5.2.2 text syntax with names resolved from env. */
export function installRuleText(dp: Datapath, text: string, env: Record<string, string>, opts: { peer?: string; oif?: (r: RemapRule) => number } = {}): void {
  const rules = resolveRules(parseRuleSet(text), env, opts.peer ? { peer: opts.peer } : {});
  const entries = buildEntries(rules, opts.oif ? { oif: opts.oif } : {});
  for (const e of entries.values()) dp.putEntry(e);
}
