// Two network namespaces joined by a veth pair, for the demo. Created with iproute2 and always
// removed again (also on Ctrl-C).
import { execFileSync } from 'node:child_process';

export interface Pair {
  left: string;
  right: string;
  run(ns: string, ...argv: string[]): string;
  destroy(): void;
}

export function createPair(prefix: string): Pair {
  const left = `${prefix}-mn`;
  const right = `${prefix}-cn`;
  const run = (ns: string, ...argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });
  const destroy = () => {
    for (const ns of [left, right]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  };
  destroy();
  try {
    execFileSync('ip', ['netns', 'add', left]);
    execFileSync('ip', ['netns', 'add', right]);
    execFileSync('ip', ['link', 'add', 'veth-mn', 'netns', left, 'type', 'veth', 'peer', 'name', 'veth-cn', 'netns', right]);
  } catch (e) {
    destroy();
    throw e;
  }
  return { left, right, run, destroy };
}
