// From the schema's output to the effective NodeConfig: role sections normalised (one list of
// home addresses, of CN addresses), names resolved, the [HAIPSEC] profile expanded into
// ordinary SAs and policies, keys loaded, mobile-node authorisations completed.
import { expandHaIpsecProfile, type ParsedProfile } from './ha-ipsec-profile.ts';
import type { DocPath, Problems } from './issues.ts';
import { loadAead, loadAuth, loadKey, type KeyContext } from './keys.ts';
import { buildNameTable, resolveAddress, resolvePrefix, type NameTable } from './names.ts';
import { classOfProto, type AeadBlock, type AuthBlock, type EncBlock, type SaDraft } from './sa-draft.ts';
import type { ParsedConfig } from './schema.ts';
import type { CnConfig, HaConfig, HaIpsecProfileSummary, MnConfig, MobileNodeConfig, NodeConfig, PeerEntry, PolicyConfig, SaConfig, TunnelSaConfig } from './types.ts';

/** Where each home address of the MN is written (for messages). */
export function hoaPath(parsed: ParsedConfig, i: number): DocPath {
  return parsed.mn?.homeAddresses ? ['mn', 'homeAddresses', i] : ['mn', 'homeAddress'];
}

export function cnAddressPath(parsed: ParsedConfig, i: number): DocPath {
  return parsed.cn?.addresses ? ['cn', 'addresses', i] : parsed.cn?.address ? ['cn', 'address'] : ['cn'];
}

function resolveMn(parsed: ParsedConfig, p: Problems): MnConfig | undefined {
  const m = parsed.mn;
  if (!m) return undefined;
  const { homeAddress, homeAddresses, ...rest } = m;
  if (homeAddress !== undefined && homeAddresses !== undefined) p.error(['mn', 'homeAddresses'], 'expected either homeAddress or homeAddresses (a list), not both');
  if (homeAddress === undefined && homeAddresses === undefined) p.error(['mn'], 'expected homeAddress (or homeAddresses, a list): a mobile node needs a home address');
  const hoas = homeAddresses ?? (homeAddress !== undefined ? [homeAddress] : []);
  return { ...rest, homeAddress: hoas[0] ?? '', homeAddresses: hoas };
}

function resolveCn(parsed: ParsedConfig, mn: MnConfig | undefined, p: Problems): CnConfig | undefined {
  const c = parsed.cn;
  if (!c) return undefined;
  const { address, addresses, ...rest } = c;
  if (address !== undefined && addresses !== undefined) p.error(['cn', 'addresses'], 'expected either address or addresses (a list), not both');
  let list = addresses ?? (address !== undefined ? [address] : []);
  // on an MN the correspondent role (MN-MN, OP-7) answers on the home addresses
  if (list.length === 0 && parsed.role === 'mn' && mn) list = [...mn.homeAddresses];
  if (list.length === 0) p.error(['cn'], 'expected address (or addresses, a list): the address(es) correspondents reach this node at');
  return { ...rest, address: list[0] ?? '', addresses: list };
}

function resolveHa(parsed: ParsedConfig): HaConfig | undefined {
  const h = parsed.ha;
  if (!h) return undefined;
  const { interfaces, mobileNodes: _mns, ...rest } = h;
  // authorisations are completed once the profiles are expanded
  return { ...rest, interfaces: interfaces ?? [h.homeLink], mobileNodes: [] };
}

function saDrafts(parsed: ParsedConfig, names: NameTable, p: Problems): SaDraft[] {
  const out: SaDraft[] = [];
  parsed.ipsec.sas.forEach((s, i) => {
    const at: DocPath = ['ipsec', 'sas', i];
    const src = resolveAddress(s.src, names, parsed.role, [...at, 'src'], p);
    const dst = resolveAddress(s.dst, names, parsed.role, [...at, 'dst'], p);
    if (src === undefined || dst === undefined) return;
    const selSrc = s.selector.src !== undefined ? resolvePrefix(s.selector.src, names, parsed.role, [...at, 'selector', 'src'], p) : { addr: src, len: 128 };
    const selDst = s.selector.dst !== undefined ? resolvePrefix(s.selector.dst, names, parsed.role, [...at, 'selector', 'dst'], p) : { addr: dst, len: 128 };
    if (!selSrc || !selDst) return;
    out.push({
      name: s.name,
      proto: s.proto,
      spi: s.spi,
      src,
      dst,
      mode: s.mode,
      cls: s.class ?? classOfProto(s.selector.proto),
      selector: { src: selSrc.addr, srcLen: selSrc.len, dst: selDst.addr, dstLen: selDst.len, proto: s.selector.proto, ...(s.selector.type !== undefined ? { type: s.selector.type } : {}) },
      auth: s.auth,
      enc: s.enc,
      aead: s.aead,
      lifetime: s.lifetime,
      reqid: s.reqid,
      origin: at,
    });
  });
  return out;
}

interface Profiles {
  drafts: SaDraft[];
  policies: PolicyConfig[];
  summaries: HaIpsecProfileSummary[];
  tunnelDrafts: Array<{ summary: HaIpsecProfileSummary; toHa: TunnelDraft; toMn: TunnelDraft }>;
}

type TunnelDraft = { name: string; at: DocPath; spi: number; auth?: AuthBlock | undefined; enc?: EncBlock | undefined; aead?: AeadBlock | undefined; lifetime?: { soft?: number | undefined; hard?: number | undefined } | undefined; reqid?: number | undefined };

function tunnelWithKeys(d: TunnelDraft, keys: KeyContext): TunnelSaConfig {
  const sa: TunnelSaConfig = { name: d.name, spi: d.spi };
  if (d.reqid !== undefined) sa.reqid = d.reqid;
  if (d.lifetime && (d.lifetime.soft !== undefined || d.lifetime.hard !== undefined)) {
    sa.lifetime = {};
    if (d.lifetime.soft !== undefined) sa.lifetime.soft = d.lifetime.soft;
    if (d.lifetime.hard !== undefined) sa.lifetime.hard = d.lifetime.hard;
  }
  if (d.auth) {
    const m = loadAuth(d.auth, [...d.at, 'auth'], keys);
    if (m) sa.auth = m;
  }
  if (d.enc) {
    const m = loadKey('enc', d.enc, [...d.at, 'enc'], keys);
    if (m) sa.enc = m;
  }
  if (d.aead) {
    const m = loadAead(d.aead, [...d.at, 'aead'], keys);
    if (m) sa.aead = m;
  }
  return sa;
}

function expandProfiles(parsed: ParsedConfig, raw: unknown, names: NameTable, mn: MnConfig | undefined, ha: HaConfig | undefined, p: Problems): Profiles {
  const out: Profiles = { drafts: [], policies: [], summaries: [], tunnelDrafts: [] };
  const list: ParsedProfile[] = parsed.haIpsecProfile ?? [];
  const rawIsList = Array.isArray((raw as { haIpsecProfile?: unknown } | null)?.haIpsecProfile);
  list.forEach((prof, j) => {
    const at: DocPath = rawIsList ? ['haIpsecProfile', j] : ['haIpsecProfile'];
    if (parsed.role === 'cn') {
      p.error(at, 'haIpsecProfile protects the MN-HA signalling: it belongs in the configuration of a mobile node or a home agent (this node\'s role is cn)');
      return;
    }
    let hoa: string | undefined;
    let agent: string | undefined;
    if (parsed.role === 'mn') {
      if (!mn || mn.homeAddresses.length === 0) return;
      hoa = prof.homeAddress !== undefined ? resolveAddress(prof.homeAddress, names, 'mn', [...at, 'homeAddress'], p) : mn.homeAddress;
      if (hoa !== undefined && !mn.homeAddresses.includes(hoa)) {
        p.error([...at, 'homeAddress'], `expected one of this mobile node's home addresses (${mn.homeAddresses.join(', ')}), found ${hoa}`);
        return;
      }
      agent = prof.homeAgent !== undefined ? resolveAddress(prof.homeAgent, names, 'mn', [...at, 'homeAgent'], p) : mn.homeAgent;
      if (agent !== undefined && agent !== mn.homeAgent) {
        p.error([...at, 'homeAgent'], `expected the home agent of mn.homeAgent (${mn.homeAgent}), found ${agent}`);
        return;
      }
    } else {
      if (!ha) return;
      if (prof.homeAddress === undefined) {
        p.error(at, 'expected homeAddress: on a home agent each profile names the mobile node it protects');
        return;
      }
      hoa = resolveAddress(prof.homeAddress, names, 'ha', [...at, 'homeAddress'], p);
      const known = (parsed.ha?.mobileNodes ?? []).map((m) => m.homeAddress);
      if (hoa !== undefined && !known.includes(hoa)) {
        p.error([...at, 'homeAddress'], `expected the home address of one of ha.mobileNodes, found ${hoa}`);
        return;
      }
      agent = prof.homeAgent !== undefined ? resolveAddress(prof.homeAgent, names, 'ha', [...at, 'homeAgent'], p) : ha.address;
      if (agent !== undefined && agent !== ha.address) {
        p.error([...at, 'homeAgent'], `expected this home agent's address (ha.address ${ha.address}), found ${agent}`);
        return;
      }
    }
    if (hoa === undefined || agent === undefined) return;
    const x = expandHaIpsecProfile(prof, { role: parsed.role, homeAddress: hoa, homeAgent: agent }, at);
    out.drafts.push(...x.sas);
    out.policies.push(...x.policies);
    const summary: HaIpsecProfileSummary = { name: prof.name, homeAddress: hoa, homeAgent: agent, pairs: x.pairs, saNames: x.saNames, origin: at };
    if (prof.tunnel) out.tunnelDrafts.push({ summary, toHa: { ...prof.tunnel.toHa, name: `${prof.name}.T1`, at: [...at, 'tunnel', 'toHa'] }, toMn: { ...prof.tunnel.toMn, name: `${prof.name}.T2`, at: [...at, 'tunnel', 'toMn'] } });
    out.summaries.push(summary);
  });
  return out;
}

function policies(parsed: ParsedConfig, names: NameTable, p: Problems): PolicyConfig[] {
  const out: PolicyConfig[] = [];
  parsed.ipsec.policies.forEach((pol, i) => {
    const at: DocPath = ['ipsec', 'policies', i];
    const src = resolvePrefix(pol.src, names, parsed.role, [...at, 'src'], p);
    const dst = resolvePrefix(pol.dst, names, parsed.role, [...at, 'dst'], p);
    if (!src || !dst) return;
    out.push({
      dir: pol.dir,
      selector: { src: src.addr, srcLen: src.len, dst: dst.addr, dstLen: dst.len, proto: pol.proto, ...(pol.type !== undefined ? { type: pol.type } : {}) },
      sa: pol.sa,
      priority: pol.priority,
      origin: at,
    });
  });
  return out;
}

function withKeys(d: SaDraft, keys: KeyContext): SaConfig {
  const { auth, enc, aead, ...rest } = d;
  const sa: SaConfig = { ...rest } as SaConfig;
  if (!sa.lifetime) delete sa.lifetime;
  if (sa.reqid === undefined) delete sa.reqid;
  if (auth) {
    const m = loadAuth(auth, [...d.origin, 'auth'], keys);
    if (m) sa.auth = m;
  }
  if (enc) {
    const m = loadKey('enc', enc, [...d.origin, 'enc'], keys);
    if (m) sa.enc = m;
  }
  if (aead) {
    const m = loadAead(aead, [...d.origin, 'aead'], keys);
    if (m) sa.aead = m;
  }
  return sa;
}

function mobileNodes(parsed: ParsedConfig, summaries: HaIpsecProfileSummary[], p: Problems): MobileNodeConfig[] {
  return (parsed.ha?.mobileNodes ?? []).map((m, i) => {
    const at: DocPath = ['ha', 'mobileNodes', i];
    const a = m.authorisation;
    if (a) {
      if (a.sas !== undefined && a.ikeIdentity !== undefined) {
        p.error([...at, 'authorisation'], 'expected either sas (manual keying) or ikeIdentity (IKE), not both ([HAIPSEC] P9: one unequivocal mapping per home address)');
        return { homeAddress: m.homeAddress, mode: m.mode, authorisation: { kind: 'sas', sas: [], derivedFromProfile: false } };
      }
      if (a.sas !== undefined) return { homeAddress: m.homeAddress, mode: m.mode, authorisation: { kind: 'sas', sas: a.sas, derivedFromProfile: false } };
      if (a.ikeIdentity !== undefined) return { homeAddress: m.homeAddress, mode: m.mode, authorisation: { kind: 'ike', identity: a.ikeIdentity } };
      p.error([...at, 'authorisation'], 'expected sas (the SAs that may carry this home address\'s BUs) or ikeIdentity (the IKE identity allowed to create them)');
    } else {
      const prof = summaries.find((s) => s.homeAddress === m.homeAddress);
      if (prof) {
        const sas = ['SA1', 'SA3', 'SA5', 'SA7'].map((n) => prof.saNames[n]).filter((n): n is string => n !== undefined);
        return { homeAddress: m.homeAddress, mode: m.mode, authorisation: { kind: 'sas', sas, derivedFromProfile: true } };
      }
      p.error(at, `expected authorisation for mobile node ${m.homeAddress}: sas (manual keying) or ikeIdentity (IKE), or a haIpsecProfile for this home address; the home agent must know who may register it ([HAIPSEC] P9)`);
    }
    return { homeAddress: m.homeAddress, mode: m.mode, authorisation: { kind: 'sas', sas: [], derivedFromProfile: false } };
  });
}

export interface Resolved {
  config: NodeConfig;
  /** every SA before its keys were loaded (for the algorithm checks) */
  drafts: SaDraft[];
}

export function resolveConfig(parsed: ParsedConfig, raw: unknown, file: string, p: Problems, keys: KeyContext): Resolved {
  // a section of another role is reported by the role checks and left out here
  const mn = parsed.role === 'mn' ? resolveMn(parsed, p) : undefined;
  const cn = parsed.role !== 'ha' ? resolveCn(parsed, mn, p) : undefined;
  const ha = parsed.role === 'ha' ? resolveHa(parsed) : undefined;
  const names = buildNameTable({
    role: parsed.role,
    hoas: parsed.role === 'mn' ? (mn?.homeAddresses ?? []) : [],
    homeAgent: parsed.role === 'mn' ? mn?.homeAgent : parsed.role === 'ha' ? ha?.address : undefined,
    cnAddresses: parsed.role === 'ha' ? [] : (cn?.addresses ?? []),
    peers: parsed.peers,
  });
  const own = saDrafts(parsed, names, p);
  const prof = expandProfiles(parsed, raw, names, mn, ha, p);
  const drafts = [...own, ...prof.drafts];
  const sas = drafts.map((d) => withKeys(d, keys));
  for (const t of prof.tunnelDrafts) t.summary.tunnel = { toHa: tunnelWithKeys(t.toHa, keys), toMn: tunnelWithKeys(t.toMn, keys) };
  if (ha) ha.mobileNodes = mobileNodes(parsed, prof.summaries, p);
  const peers: PeerEntry[] = parsed.peers.filter((x): x is PeerEntry => x.mode !== 'classic-ro');
  const { mn: _m, cn: _c, ha: _h, peers: _p, ipsec: _i, haIpsecProfile: _hp, ...common } = parsed;
  const config: NodeConfig = { ...common, file, peers, ipsec: { sas, policies: [...policies(parsed, names, p), ...prof.policies] }, haIpsecProfile: prof.summaries };
  if (mn) config.mn = mn;
  if (cn) config.cn = cn;
  if (ha) config.ha = ha;
  return { config, drafts };
}
