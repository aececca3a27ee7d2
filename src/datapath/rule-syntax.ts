// The remapping rule text syntax of IRO §5.2.2, e.g.
//   dir: out, SPI: 48, exp. src: HoA1, remap. src: ancillary
//   dir: in , SPI: 51, exp. src:   ::, remap. src: HoA2 (ancillary)
// Values are kept as written (names such as "HoA" or literal addresses) so printing gives the
// text back verbatim; resolution to addresses is a separate step (rules.ts).
// Extensions beyond the draft, all optional: "proto: ah" (default esp, OP-14), "peer: A" (the
// outgoing key address, OP-14), and "remap. src: ancillary|CoA" (ancillary, else CoA: E7).

export type Field = 'src' | 'dst';

export type RemapText =
  | { kind: 'address'; value: string }
  | { kind: 'ancillary'; fallback?: string };

export interface RuleText {
  dir: 'in' | 'out';
  spi: number;
  proto?: 'esp' | 'ah';
  peer?: string;
  field: Field;
  expected: string;
  remap: RemapText;
  /** "(ancillary)" after the remap value: record the on-wire address for userland */
  recordAncillary: boolean;
}

export class RuleSyntaxError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly text?: string,
  ) {
    super(line !== undefined ? `rule syntax error on line ${line}: ${message}${text !== undefined ? `\n  ${text.trim()}` : ''}` : message);
    this.name = 'RuleSyntaxError';
  }
}

const TOKEN = /^[A-Za-z0-9:._-]+$/;

function parseSpi(v: string): number {
  const n = /^0x[0-9a-f]{1,8}$/i.test(v) ? parseInt(v, 16) : /^\d{1,10}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`SPI must be a 32-bit number (decimal or 0x hex), got "${v}"`);
  return n;
}

function token(v: string, what: string): string {
  if (!v) throw new Error(`${what} is empty`);
  if (!TOKEN.test(v)) throw new Error(`${what} must be an address or a name, got "${v}"`);
  return v;
}

/** Parse one rule line. */
export function parseRule(line: string): RuleText {
  const parts = line.split(',').map((p) => p.trim());
  const seen = new Map<string, string>();
  for (const part of parts) {
    const m = part.match(/^(dir|SPI|spi|proto|peer|exp\.\s*(?:src|dst)|remap\.\s*(?:src|dst))\s*:\s*(.*)$/);
    if (!m) throw new Error(`expected "key: value" with key dir, SPI, proto, peer, exp. src|dst or remap. src|dst, got "${part}"`);
    const key = m[1]!.replace(/\s+/g, ' ').replace(/^spi$/, 'SPI');
    if (seen.has(key)) throw new Error(`"${key}" given twice`);
    seen.set(key, m[2]!.trim());
  }
  const dir = seen.get('dir');
  if (dir !== 'in' && dir !== 'out') throw new Error(`dir must be "in" or "out", got "${dir ?? ''}"`);
  const spiText = seen.get('SPI');
  if (spiText === undefined) throw new Error('SPI is missing');
  const spi = parseSpi(spiText);
  const protoText = seen.get('proto');
  if (protoText !== undefined && protoText !== 'esp' && protoText !== 'ah') throw new Error(`proto must be "esp" or "ah", got "${protoText}"`);
  const expKeys = [...seen.keys()].filter((k) => k.startsWith('exp.'));
  const remapKeys = [...seen.keys()].filter((k) => k.startsWith('remap.'));
  if (expKeys.length !== 1) throw new Error('exactly one "exp. src" or "exp. dst" is needed');
  if (remapKeys.length !== 1) throw new Error('exactly one "remap. src" or "remap. dst" is needed');
  const field = expKeys[0]!.slice(5) as Field;
  if (remapKeys[0]!.slice(7) !== field) throw new Error(`"${expKeys[0]}" and "${remapKeys[0]}" name different fields`);
  const expected = token(seen.get(expKeys[0]!)!, expKeys[0]!);

  let remapText = seen.get(remapKeys[0]!)!;
  let recordAncillary = false;
  const rec = remapText.match(/^(.*\S)\s+\(ancillary\)$/);
  if (rec) {
    recordAncillary = true;
    remapText = rec[1]!;
  }
  let remap: RemapText;
  const anc = remapText.match(/^ancillary(?:\|(.+))?$/);
  if (anc) remap = anc[1] !== undefined ? { kind: 'ancillary', fallback: token(anc[1], 'ancillary fallback') } : { kind: 'ancillary' };
  else remap = { kind: 'address', value: token(remapText, remapKeys[0]!) };

  const rule: RuleText = { dir, spi, field, expected, remap, recordAncillary };
  if (protoText) rule.proto = protoText;
  const peer = seen.get('peer');
  if (peer !== undefined) rule.peer = token(peer, 'peer');
  return rule;
}

/** Parse several rules, one per line; blank lines and "#" comments are ignored. */
export function parseRuleSet(text: string): RuleText[] {
  const out: RuleText[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    try {
      out.push(parseRule(line));
    } catch (e) {
      throw new RuleSyntaxError((e as Error).message, i + 1, raw);
    }
  });
  return out;
}

function remapToText(r: RuleText): string {
  const base = r.remap.kind === 'address' ? r.remap.value : r.remap.fallback !== undefined ? `ancillary|${r.remap.fallback}` : 'ancillary';
  return r.recordAncillary ? `${base} (ancillary)` : base;
}

/** Print one rule; expWidth right-aligns the expected value (the draft aligns "::"). */
export function printRule(r: RuleText, expWidth = 0): string {
  const parts = [`dir: ${r.dir.padEnd(3)}`, `SPI: ${r.spi}`];
  if (r.proto) parts.push(`proto: ${r.proto}`);
  if (r.peer !== undefined) parts.push(`peer: ${r.peer}`);
  parts.push(`exp. ${r.field}: ${r.expected.padStart(expWidth)}`, `remap. ${r.field}: ${remapToText(r)}`);
  return parts.join(', ');
}

/** Print a set with the expected values aligned as in IRO §5.2.2. */
export function printRuleSet(rules: RuleText[]): string {
  const w = Math.max(0, ...rules.map((r) => r.expected.length));
  return rules.map((r) => printRule(r, w)).join('\n');
}
