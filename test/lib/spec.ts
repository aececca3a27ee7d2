// Access to the specification documents beside the project (../shared/spec), so tests can use
// the draft's own text verbatim instead of a copy that could drift.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/kernel/native.ts';

export function specPath(file: string): string {
  const p = join(projectRoot(), '..', 'shared', 'spec', file);
  if (!existsSync(p)) throw new Error(`specification file ${p} not found (the repository expects ../shared beside it)`);
  return p;
}

/** The four rule-set examples of IRO §5.2.2, exactly as in the draft (indentation removed). */
export function iroRuleExamples(): string[] {
  const xml = readFileSync(specPath('draft-ebalard-mext-ipsec-ro-00.xml'), 'utf8');
  const blocks = [...xml.matchAll(/<!\[CDATA\[\n([\s\S]*?)\]\]>/g)].map((m) => m[1]!).filter((b) => /^\s*dir: /m.test(b));
  return blocks.map((b) =>
    b
      .split('\n')
      .filter((l) => l.trim().startsWith('dir:'))
      .map((l) => l.replace(/^ {4}/, ''))
      .join('\n'),
  );
}
