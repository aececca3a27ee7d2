// Remapping rules as the data path sees them: resolved addresses, validated semantics
// (IRO §5.1-§5.2, OP-9, OP-14) and their merge into map entries — one entry per key holds at
// most one source and one destination rule.
import { canonicalIPv6, IN6ADDR_ANY, parseIPv6, parseIPv6Into } from '../common/ipv6.ts';
import { Dir, IPPROTO_AH, IPPROTO_ESP, RuleFlag, type RuleKey, type RuleValue } from './abi.ts';
import type { Field, RuleText } from './rule-syntax.ts';

export type IpsecProto = 'esp' | 'ah';

export type RemapValue = { address: string } | { ancillary: true; fallback?: string };

export interface RemapRule {
  dir: 'in' | 'out';
  proto: IpsecProto;
  spi: number;
  /** outgoing rules: the peer address the packet is sent to before remapping */
  peer?: string;
  field: Field;
  /** canonical address, or "::" (wildcard, incoming source rules only) */
  expected: string;
  remap: RemapValue;
  recordAncillary: boolean;
  /** incoming rules: the local address the SA belongs to, for SPI collision checks (OP-14) */
  localAddr?: string;
  dropOnMismatch?: boolean;
}

export class RuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleError';
  }
}

export function describeRule(r: RemapRule): string {
  const remap = 'address' in r.remap ? r.remap.address : r.remap.fallback ? `ancillary|${r.remap.fallback}` : 'ancillary';
  return `dir: ${r.dir}, SPI: ${r.spi}${r.proto === 'ah' ? ', proto: ah' : ''}${r.peer ? `, peer: ${r.peer}` : ''}, exp. ${r.field}: ${r.expected}, remap. ${r.field}: ${remap}${r.recordAncillary ? ' (ancillary)' : ''}`;
}

// (a plain function, not a closure per call: validateRule runs for every rule the engine derives)
function ruleFailure(r: RemapRule, why: string): never {
  throw new RuleError(`${why}: ${describeRule(r)}`);
}

/** Semantic checks that hold for a single rule. Throws RuleError naming the rule. */
export function validateRule(r: RemapRule): void {
  if (!Number.isInteger(r.spi) || r.spi < 0 || r.spi > 0xffffffff) ruleFailure(r, 'SPI must be a 32-bit number');
  if (r.spi > 0 && r.spi < 256) {
    // RFC 4303: SPIs 1-255 are reserved by IANA; the kernel never allocates them, but static
    // keying may use them (the draft's examples do), so they are allowed.
  }
  if (r.expected === '::' && !(r.dir === 'in' && r.field === 'src')) ruleFailure(r, 'the "::" wildcard is only allowed on incoming source rules (IRO §5.1.3.1)');
  if ('ancillary' in r.remap && r.dir !== 'out') ruleFailure(r, '"ancillary" as a remap value only exists for outgoing rules (IRO §3.2 rules 1 and 3)');
  if (r.recordAncillary && r.dir !== 'in') ruleFailure(r, '"(ancillary)" recording only applies to incoming rules (IRO §5.1.1)');
  if ('address' in r.remap && r.remap.address === '::') ruleFailure(r, 'the remap value cannot be "::"');
  if (r.dir === 'out' && !r.peer) ruleFailure(r, 'an outgoing rule needs its peer address (the key of OP-14)');
}

function resolveName(name: string, env: Record<string, string>, what: string): string {
  if (name === '::') return '::';
  const v = env[name] ?? name;
  try {
    return canonicalIPv6(v);
  } catch {
    throw new RuleError(`${what} "${name}" is neither an IPv6 address nor a defined name (${Object.keys(env).join(', ') || 'no names defined'})`);
  }
}

/**
 * Resolve parsed rules against names (e.g. {HoA: '2001:db8::1', A: ...}). Outgoing rules
 * without "peer:" take it from a sibling destination rule with the same SPI (the expected
 * destination is the pre-remap peer), else from opts.peer.
 */
export function resolveRules(texts: RuleText[], env: Record<string, string>, opts: { peer?: string } = {}): RemapRule[] {
  const dstPeer = new Map<string, string>();
  for (const t of texts) {
    if (t.dir === 'out' && t.field === 'dst') {
      const k = `${t.proto ?? 'esp'}/${t.spi}`;
      dstPeer.set(k, t.peer ?? t.expected);
    }
  }
  return texts.map((t) => {
    const proto = t.proto ?? 'esp';
    let peerName = t.peer;
    if (t.dir === 'out' && peerName === undefined) peerName = dstPeer.get(`${proto}/${t.spi}`) ?? opts.peer;
    const rule: RemapRule = {
      dir: t.dir,
      proto,
      spi: t.spi,
      field: t.field,
      expected: resolveName(t.expected, env, `exp. ${t.field}`),
      remap:
        t.remap.kind === 'address'
          ? { address: resolveName(t.remap.value, env, `remap. ${t.field}`) }
          : t.remap.fallback !== undefined
            ? { ancillary: true, fallback: resolveName(t.remap.fallback, env, 'ancillary fallback') }
            : { ancillary: true },
      recordAncillary: t.recordAncillary,
    };
    if (peerName !== undefined) rule.peer = resolveName(peerName, env, 'peer');
    validateRule(rule);
    return rule;
  });
}

/** The map key of a rule as a string, for tables and diffs. */
export function ruleKeyId(r: Pick<RemapRule, 'dir' | 'proto' | 'spi' | 'peer'>): string {
  return r.dir === 'out' ? `out/${r.proto}/${r.spi >>> 0}/${r.peer}` : `in/${r.proto}/${r.spi >>> 0}`;
}

/** One map entry: the merged source and destination rules of a key. */
export interface RuleEntry {
  id: string;
  dir: 'in' | 'out';
  proto: IpsecProto;
  spi: number;
  peer?: string;
  src?: RemapRule;
  dst?: RemapRule;
  /** egress: redirect target after a rewrite (0 = route lookup) */
  oif: number;
  localAddr?: string;
}

export function entryRules(e: RuleEntry): RemapRule[] {
  return [e.src, e.dst].filter((r): r is RemapRule => r !== undefined);
}

/** Where addRule merges: a Map of entries by id, or anything that looks up and stores like one. */
export interface RuleEntryTable {
  get(id: string): RuleEntry | undefined;
  set(id: string, e: RuleEntry): unknown;
}

/**
 * Merge one rule into `entries`, enforcing "at most one source and one destination rule per
 * key" (B02) and incoming SPI uniqueness across local addresses (B07). Throws RuleError and
 * leaves `entries` unchanged when the rule does not fit. `knownId`: ruleKeyId(r), when the
 * caller has it already (the engine files rules by key).
 */
export function addRule(entries: RuleEntryTable, r: RemapRule, oif = 0, knownId?: string): RuleEntry {
  validateRule(r);
  const id = knownId ?? ruleKeyId(r);
  const cur = entries.get(id);
  const local = r.dir === 'in' ? (r.localAddr ?? (r.field === 'dst' && 'address' in r.remap ? r.remap.address : undefined)) : undefined;
  if (local && cur?.localAddr && cur.localAddr !== local) {
    throw new RuleError(`incoming SPI ${r.spi} (${r.proto}) already belongs to local address ${cur.localAddr}, not ${local} (SPI collision, OP-14): ${describeRule(r)}`);
  }
  if (cur?.[r.field]) throw new RuleError(`a ${r.field} rule already exists for this key (at most one per key, IRO §5.1.2.2): ${describeRule(r)}`);
  let e = cur;
  if (!e) {
    e = { id, dir: r.dir, proto: r.proto, spi: r.spi, oif: 0 };
    if (r.peer) e.peer = r.peer;
  }
  if (local) e.localAddr = local;
  e[r.field] = r;
  if (oif) e.oif = oif;
  if (!cur) entries.set(id, e);
  return e;
}

/** Merge rules into entries (see addRule). */
export function buildEntries(rules: RemapRule[], opts: { oif?: (r: RemapRule) => number } = {}): Map<string, RuleEntry> {
  const entries = new Map<string, RuleEntry>();
  for (const r of rules) addRule(entries, r, opts.oif?.(r) ?? 0);
  return entries;
}

export function protoNumber(p: IpsecProto): number {
  return p === 'ah' ? IPPROTO_AH : IPPROTO_ESP;
}

export function entryKey(e: RuleEntry): RuleKey {
  return {
    dir: e.dir === 'out' ? Dir.Out : Dir.In,
    proto: protoNumber(e.proto),
    spi: e.spi,
    peer: e.dir === 'out' && e.peer ? parseIPv6(e.peer) : Buffer.from(IN6ADDR_ANY),
  };
}

/** The flags word of an entry's C value (struct iro_rule.flags). */
export function entryFlags(e: RuleEntry): number {
  let flags = 0;
  const src = e.src;
  const dst = e.dst;
  if (src) {
    flags |= RuleFlag.Src;
    if (src.expected === '::') flags |= RuleFlag.SrcWildcard;
    if ((src.remap as { ancillary?: true }).ancillary) flags |= RuleFlag.SrcAnc;
    if (src.recordAncillary) flags |= RuleFlag.RecAnc;
    if (src.dropOnMismatch) flags |= RuleFlag.DropMismatch;
  }
  if (dst) {
    flags |= RuleFlag.Dst;
    if ((dst.remap as { ancillary?: true }).ancillary) flags |= RuleFlag.DstAnc;
    if (dst.recordAncillary) flags |= RuleFlag.RecAnc;
    if (dst.dropOnMismatch) flags |= RuleFlag.DropMismatch;
  }
  return flags;
}

/** The four address fields of the C value as text (null = all zero): exp_src, new_src, exp_dst, new_dst. */
function entryAddrTexts(e: RuleEntry): [string | null, string | null, string | null, string | null] {
  return [expectedText(e.src), targetText(e.src), expectedText(e.dst), targetText(e.dst)];
}

function expectedText(r?: RemapRule): string | null {
  return r && r.expected !== '::' ? r.expected : null;
}

function targetText(r?: RemapRule): string | null {
  return !r ? null : 'address' in r.remap ? r.remap.address : (r.remap.fallback ?? null);
}

const cmpA = Buffer.alloc(16);
const cmpB = Buffer.alloc(16);

/** Two address fields of the C value are equal (null = all zero); text first, bytes when the texts differ. */
function sameAddrField(a: string | null, b: string | null): boolean {
  if (a === b) return true;
  parseIPv6Into(a ?? '::', cmpA, 0);
  parseIPv6Into(b ?? '::', cmpB, 0);
  return cmpA.equals(cmpB);
}

/**
 * Whether two entries of the same key encode to the same C value (the per-rule slot aside):
 * exactly when writing one over the other would change nothing in the map.
 */
export function sameEntryValue(a: RuleEntry, b: RuleEntry): boolean {
  if (a.oif !== b.oif || entryFlags(a) !== entryFlags(b)) return false;
  return (
    sameAddrField(expectedText(a.src), expectedText(b.src)) &&
    sameAddrField(targetText(a.src), targetText(b.src)) &&
    sameAddrField(expectedText(a.dst), expectedText(b.dst)) &&
    sameAddrField(targetText(a.dst), targetText(b.dst))
  );
}

/** Encode an entry's rules into the C value (slot assigned by the caller). */
export function entryValue(e: RuleEntry, slot: number): RuleValue {
  const [es, ns, ed, nd] = entryAddrTexts(e).map((t) => (t ? parseIPv6(t) : Buffer.from(IN6ADDR_ANY)));
  return { flags: entryFlags(e), slot, oif: e.oif, expSrc: es!, newSrc: ns!, expDst: ed!, newDst: nd! };
}

/** Write the C key (struct iro_rule_key) straight into `out` (the hot path: no allocation). */
export function writeEntryKey(e: Pick<RuleEntry, 'dir' | 'proto' | 'spi' | 'peer'>, out: Buffer, off: number): void {
  out[off] = e.dir === 'out' ? Dir.Out : Dir.In;
  out[off + 1] = protoNumber(e.proto);
  out[off + 2] = 0;
  out[off + 3] = 0;
  out.writeUInt32BE(e.spi >>> 0, off + 4);
  if (e.dir === 'out' && e.peer) parseIPv6Into(e.peer, out, off + 8);
  else out.fill(0, off + 8, off + 24);
}

/** Write the C value (struct iro_rule) straight into `out`. */
export function writeEntryValue(e: RuleEntry, slot: number, out: Buffer, off: number): void {
  out.writeUInt32LE(entryFlags(e) >>> 0, off);
  out.writeUInt32LE(slot >>> 0, off + 4);
  out.writeUInt32LE(e.oif >>> 0, off + 8);
  out.writeUInt32LE(0, off + 12);
  writeRuleAddrs(e.src, out, off + 16);
  writeRuleAddrs(e.dst, out, off + 48);
}

/** expected then new address of one rule (zeros for "::", absent rules and bare "ancillary"). */
function writeRuleAddrs(r: RemapRule | undefined, out: Buffer, off: number): void {
  if (!r) {
    out.fill(0, off, off + 32);
    return;
  }
  if (r.expected === '::') out.fill(0, off, off + 16);
  else parseIPv6Into(r.expected, out, off);
  const remap = r.remap as { address?: string; fallback?: string };
  const target = remap.address ?? remap.fallback;
  if (target) parseIPv6Into(target, out, off + 16);
  else out.fill(0, off + 16, off + 32);
}

/**
 * The other end's rules for the same SAs (derived in DIGEST §1.2.7): direction flips,
 * expected and remap values swap. For MH SAs (mh: true) incoming source rules become the
 * "::" wildcard with recording and outgoing destination rules take the ancillary address.
 */
export function mirrorRules(rules: RemapRule[], opts: { mh?: boolean; peer?: string } = {}): RemapRule[] {
  const mirrored = rules.map((r) => {
    if (!('address' in r.remap)) throw new RuleError(`cannot mirror an ancillary rule: ${describeRule(r)}`);
    const dir: 'in' | 'out' = r.dir === 'out' ? 'in' : 'out';
    const m: RemapRule = {
      dir,
      proto: r.proto,
      spi: r.spi,
      field: r.field,
      expected: r.remap.address,
      remap: { address: r.expected },
      recordAncillary: false,
    };
    // an outgoing destination rule is keyed by the address it expects (the pre-remap peer)
    if (dir === 'out' && r.field === 'dst') m.peer = m.expected;
    if (opts.mh && dir === 'in' && r.field === 'src') {
      m.expected = '::';
      m.recordAncillary = true;
    }
    if (opts.mh && dir === 'out' && r.field === 'dst') m.remap = { ancillary: true };
    return m;
  });
  for (const m of mirrored) {
    if (m.dir !== 'out' || m.peer) continue;
    const sibling = mirrored.find((x) => x.dir === 'out' && x.field === 'dst' && x.proto === m.proto && x.spi === m.spi);
    const peer = sibling?.peer ?? opts.peer;
    if (peer) m.peer = peer;
  }
  mirrored.forEach(validateRule);
  return mirrored;
}
