// `ip xfrm state` / `ip xfrm policy` as the independent oracle for SAs on a real kernel
// (iproute2 6.1 has no JSON for xfrm). Key bytes never leave this file: they are replaced by a
// SHA-256 fingerprint in the text and in parsed SAs, so a failing assertion cannot print a key
// and a changed key still changes the text.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';

export function keyFingerprint(hex: string | Buffer): string {
  const bytes = typeof hex === 'string' ? Buffer.from(hex.replace(/^0x/, ''), 'hex') : hex;
  return `sha256:${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`;
}

// auth/auth-trunc/enc/aead/comp NAME 0xKEY ...: the key is the third word
const KEY_LINE = /^(\s*(?:auth-trunc|auth|enc|aead|comp) \S+ )(0x[0-9a-fA-F]*)/gm;

/** The text with every key replaced by its fingerprint. */
export function redactKeys(text: string): string {
  return text.replace(KEY_LINE, (_m, head: string, key: string) => `${head}[key ${keyFingerprint(key)}]`);
}

/** `ip -n NS xfrm ARGS` with keys fingerprinted (the whole text otherwise byte for byte). */
export function ipXfrm(ns: string, ...args: string[]): string {
  try {
    return redactKeys(execFileSync('ip', ['-n', ns, 'xfrm', ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (e) {
    // the arguments may hold keys: name the command by its first words only
    throw new Error(`ip -n ${ns} xfrm ${args.slice(0, 2).join(' ')} failed: ${(e as { stderr?: string }).stderr?.trim() ?? (e as Error).message.split('\n')[0]}`);
  }
}

export interface IpXfrmState {
  src: string;
  dst: string;
  proto: string;
  spi: number;
  reqid: number;
  mode: string;
  replayWindow?: number;
  auth?: { name: string; key: string; truncBits?: number };
  enc?: { name: string; key: string };
  sel?: { src: string; dst: string; proto?: string; type?: number };
  /** the SA's block (keys fingerprinted) */
  text: string;
}

/** Split `ip xfrm state` (or policy) text into one block per object. */
export function ipXfrmBlocks(text: string): string[] {
  return text.split(/\n(?=src )/).map((b) => b.trimEnd()).filter((b) => b.startsWith('src '));
}

/** Parse (redacted) `ip xfrm state` text. */
export function parseIpXfrmState(text: string): IpXfrmState[] {
  const out: IpXfrmState[] = [];
  for (const block of ipXfrmBlocks(redactKeys(text))) {
    const head = /^src (\S+) dst (\S+)/.exec(block);
    const id = /\n\s+proto (\S+) spi 0x([0-9a-f]+) reqid (\d+) mode (\S+)/.exec(block);
    if (!head || !id) throw new Error(`unexpected ip xfrm state block:\n${block}`);
    const sa: IpXfrmState = { src: head[1]!, dst: head[2]!, proto: id[1]!, spi: parseInt(id[2]!, 16), reqid: Number(id[3]), mode: id[4]!, text: block };
    const rw = /replay-window (\d+)/.exec(block);
    if (rw) sa.replayWindow = Number(rw[1]);
    const at = /\n\s+auth-trunc (\S+) \[key (\S+)\] (\d+)/.exec(block);
    const a = /\n\s+auth (\S+) \[key (\S+)\]/.exec(block);
    if (at) sa.auth = { name: at[1]!, key: at[2]!, truncBits: Number(at[3]) };
    else if (a) sa.auth = { name: a[1]!, key: a[2]! };
    const enc = /\n\s+enc (\S+) \[key (\S+)\]/.exec(block);
    if (enc) sa.enc = { name: enc[1]!, key: enc[2]! };
    const sel = /\n\s+sel src (\S+) dst (\S+)(?: proto (\S+))?(?: type (\d+))?/.exec(block);
    if (sel) {
      sa.sel = { src: sel[1]!, dst: sel[2]! };
      if (sel[3]) sa.sel.proto = sel[3];
      if (sel[4]) sa.sel.type = Number(sel[4]);
    }
    out.push(sa);
  }
  return out;
}

/** "esp/0x1001/src->dst" for set comparisons. */
export function stateId(s: Pick<IpXfrmState, 'proto' | 'spi' | 'src' | 'dst'>): string {
  return `${s.proto}/0x${s.spi.toString(16)}/${s.src}->${s.dst}`;
}
