// `ip -batch` / `tc -batch`: one process per namespace instead of one per command, which is
// what keeps topology creation fast. A failure is reported with the batch line that failed.
import { batchText, type Args } from './commands.ts';
import { execAsync, execSync, failed, type ExecResult } from './exec.ts';
import { describeArgv, redactText } from './redact.ts';

export type Tool = 'ip' | 'tc';

/** `ip -6 -n NS` / `tc -n NS` (or without -n for the caller's namespace). */
export function toolArgv(tool: Tool, ns: string | null): string[] {
  const a: string[] = [tool];
  if (tool === 'ip') a.push('-6');
  if (ns !== null) a.push('-n', ns);
  return a;
}

export class BatchError extends Error {
  readonly line: Args | null;
  readonly result: ExecResult;
  constructor(where: string, tool: Tool, line: Args | null, lineNo: number | null, result: ExecResult) {
    const cause = redactText(result.stderr.replace(/^Command failed -:\d+\s*$/m, '').trim() || `exit code ${result.code}`);
    const what = line ? `\`${tool} ${describeArgv(line)}\` (batch line ${lineNo})` : `\`${describeArgv(result.argv)}\``;
    super(`${where}: ${what} failed: ${result.timedOut ? 'timed out' : cause}`);
    this.name = 'BatchError';
    this.line = line;
    this.result = result;
  }
}

function check(where: string, tool: Tool, lines: Args[], r: ExecResult): ExecResult {
  if (!failed(r)) return r;
  const m = r.stderr.match(/Command failed -:(\d+)/);
  const n = m ? Number(m[1]) : null;
  throw new BatchError(where, tool, n !== null ? (lines[n - 1] ?? null) : null, n, r);
}

export async function batch(tool: Tool, ns: string | null, lines: Args[], where: string, timeoutMs = 20_000): Promise<ExecResult | null> {
  if (!lines.length) return null;
  const r = await execAsync(null, [...toolArgv(tool, ns), '-batch', '-'], where, { input: batchText(lines), check: false, timeoutMs });
  return check(where, tool, lines, r);
}

export function batchSync(tool: Tool, ns: string | null, lines: Args[], where: string, timeoutMs = 20_000): ExecResult | null {
  if (!lines.length) return null;
  const r = execSync(null, [...toolArgv(tool, ns), '-batch', '-'], where, { input: batchText(lines), check: false, timeoutMs });
  return check(where, tool, lines, r);
}
