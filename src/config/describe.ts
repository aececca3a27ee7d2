// The effective configuration for people (`iro-ctl config show`): every default filled in,
// names resolved, the [HAIPSEC] profile expanded, reqids assigned, keys replaced by their
// length. Built field by field, so a key can only appear if someone adds it here on purpose.
import { stringify } from 'yaml';
import { formatPrefix, type Prefix } from './addresses.ts';
import { formatPath } from './issues.ts';
import { assignReqids, ownershipOf } from './reqids.ts';
import type { AeadMaterial, AuthMaterial, KeyMaterial, NodeConfig, PolicyConfig, SaConfig } from './types.ts';
import type { SaSelector } from '../ipsec/model.ts';

function keyInfo(m: KeyMaterial): Record<string, unknown> {
  const out: Record<string, unknown> = { alg: m.alg };
  if (m.key) out.key = `[redacted, ${m.key.bits} bits]`;
  if (m.source === 'file') out.keyFile = m.keyFile;
  if (m.source === 'inline') out.keySource = 'inline';
  if ('truncBits' in m) out.truncBits = (m as AuthMaterial).truncBits;
  if ('icvBits' in m) out.icvBits = (m as AeadMaterial).icvBits;
  return out;
}

function selector(s: SaSelector): Record<string, unknown> {
  const out: Record<string, unknown> = { src: `${s.src}/${s.srcLen}`, dst: `${s.dst}/${s.dstLen}`, proto: s.proto };
  if (s.type !== undefined) out.type = s.type;
  return out;
}

function sa(s: SaConfig, reqid: number | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { name: s.name, proto: s.proto, spi: `0x${(s.spi >>> 0).toString(16)}`, src: s.src, dst: s.dst, mode: s.mode, class: s.cls, reqid, selector: selector(s.selector) };
  if (s.auth) out.auth = keyInfo(s.auth);
  if (s.enc) out.enc = keyInfo(s.enc);
  if (s.aead) out.aead = keyInfo(s.aead);
  if (s.lifetime) out.lifetime = { ...s.lifetime };
  out.definedAt = formatPath(s.origin);
  return out;
}

function policy(p: PolicyConfig): Record<string, unknown> {
  return { dir: p.dir, ...selector(p.selector), sa: p.sa, priority: p.priority, definedAt: formatPath(p.origin) };
}

const isPrefix = (v: unknown): v is Prefix => typeof v === 'object' && v !== null && 'addr' in v && 'len' in v && Object.keys(v).length === 2;

/** Plain data, safe to print as JSON or YAML: no SecretKey, no key bytes. */
export function redactedConfig(c: NodeConfig): Record<string, unknown> {
  let reqids: Map<string, number> | undefined;
  try {
    reqids = assignReqids(c.ipsec.sas, ownershipOf(c));
  } catch {
    reqids = undefined;
  }
  const { ipsec, file: _file, haIpsecProfile, ...rest } = c;
  // everything but ipsec holds no key material; copy it deeply, printing prefixes as text
  const plain = JSON.parse(JSON.stringify(rest, (_k, v: unknown) => (isPrefix(v) ? formatPrefix(v) : v))) as Record<string, unknown>;
  const iro = plain.iro as { markMask: number; ownership: { reqidBase: number } };
  iro.markMask = `0x${(iro.markMask >>> 0).toString(16).padStart(8, '0')}` as unknown as number;
  iro.ownership.reqidBase = `0x${(iro.ownership.reqidBase >>> 0).toString(16)}` as unknown as number;
  const profiles = haIpsecProfile.map(({ origin, ...p }) => ({ ...p, definedAt: formatPath(origin) }));
  return { ...plain, ...(profiles.length ? { haIpsecProfile: profiles } : {}), ipsec: { sas: ipsec.sas.map((s) => sa(s, reqids?.get(s.name))), policies: ipsec.policies.map(policy) } };
}

/** YAML text of the effective configuration, keys redacted. */
export function describeConfig(c: NodeConfig): string {
  return `# effective configuration of ${c.file} (keys redacted)\n${stringify(redactedConfig(c), { lineWidth: 0 })}`;
}
