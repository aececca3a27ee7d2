// What every command needs: global options, output helpers, and errors that become one line
// on stderr with a non-zero exit status.
import { Datapath } from '../datapath/datapath.ts';
import { DEFAULT_PIN_DIR, DEFAULT_STATE_FILE } from '../datapath/layout.ts';

export interface GlobalOptions {
  pinDir: string;
  stateFile: string;
  json: boolean;
}

export class UsageError extends Error {
  readonly exitCode = 2;
}

export function globalDefaults(): GlobalOptions {
  return { pinDir: DEFAULT_PIN_DIR, stateFile: DEFAULT_STATE_FILE, json: false };
}

export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`${what} needs CAP_NET_ADMIN and CAP_BPF (run as root)`);
  }
}

export function openDatapath(g: GlobalOptions, opts: { ruleCapacity?: number; reload?: boolean } = {}): Datapath {
  requireRoot('the data path');
  return Datapath.open({ pinDir: g.pinDir, stateFile: g.stateFile, ...opts });
}

/** Print JSON (bigints as strings) or text. */
export function output(g: GlobalOptions, value: unknown, text: () => string): void {
  if (g.json) process.stdout.write(`${JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  else process.stdout.write(`${text()}\n`);
}

/** "HoA=2001:db8::1" pairs from repeated --define options. */
export function parseDefines(list: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const d of list ?? []) {
    const m = d.match(/^([A-Za-z][A-Za-z0-9_-]*)=(.+)$/);
    if (!m) throw new UsageError(`--define expects NAME=ADDRESS, got "${d}"`);
    env[m[1]!] = m[2]!;
  }
  return env;
}
