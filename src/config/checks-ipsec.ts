// Checks of the static IPsec configuration: algorithm combinations (integrity always; IRO
// App. E), SA identities unique (destination, protocol, SPI), selectors consistent with the SA
// addresses, policies that name an existing SA whose selector admits what they select, no two
// policies the kernel could not tell apart, reqids inside the owned range (OP-47).
import { ownsReqid } from '../ipsec/desired.ts';
import type { SaSelector } from '../ipsec/model.ts';
import { notUnicastRoutable, prefixContains, prefixCovers, prefixesOverlap, type Prefix } from './addresses.ts';
import { NULL_ENC } from './algorithms.ts';
import { formatPath, type DocPath, type Problems } from './issues.ts';
import { localAddresses } from './local-addresses.ts';
import { ICMPV6, MH, type SaDraft } from './sa-draft.ts';
import { ownershipOf } from './reqids.ts';
import type { NodeConfig, PolicyConfig, SaConfig } from './types.ts';

const hex = (spi: number) => `0x${(spi >>> 0).toString(16)}`;
const src = (s: SaSelector): Prefix => ({ addr: s.src, len: s.srcLen });
const dst = (s: SaSelector): Prefix => ({ addr: s.dst, len: s.dstLen });
const sel = (s: SaSelector) => `${s.src}/${s.srcLen} -> ${s.dst}/${s.dstLen}${s.proto ? ` proto ${s.proto}` : ''}${s.type !== undefined ? ` type ${s.type}` : ''}`;

/** Which algorithms an SA combines; run on the drafts, before keys are loaded. */
export function checkSaAlgorithms(drafts: readonly SaDraft[], p: Problems): void {
  for (const d of drafts) {
    const at = d.origin;
    if (d.proto === 'ah') {
      if (d.enc) p.error([...at, 'enc'], 'AH authenticates only: remove enc (or use ESP)');
      if (d.aead) p.error([...at, 'aead'], 'AH authenticates only: remove aead (or use ESP)');
      if (!d.auth) p.error(at, 'expected auth: AH is an authentication algorithm and nothing else');
      continue;
    }
    if (d.aead) {
      if (d.auth) p.error([...at, 'auth'], 'aead already authenticates: remove auth (or use auth and enc instead of aead)');
      if (d.enc) p.error([...at, 'enc'], 'aead already encrypts: remove enc (or use auth and enc instead of aead)');
      continue;
    }
    if (!d.enc) p.error(at, `expected enc (cbc(aes), or ${NULL_ENC} for integrity only) with auth, or aead: ESP needs an encryption transform`);
    if (!d.auth) {
      if (d.enc?.alg === NULL_ENC) p.error(at, `${NULL_ENC} without authentication is forbidden: NULL encryption and NULL authentication must not be used together (IRO App. E, RFC 4303 §3.2); add auth`);
      else p.error(at, 'expected auth: every SA needs non-null authentication (RFC 6275 §5.1, [HAIPSEC] I1, and IRO relies on integrity)');
    }
    if (d.mode === 'tunnel' && d.enc?.alg === NULL_ENC) {
      const rr = d.name.endsWith('.SA3') || d.name.endsWith('.SA4');
      if (rr) p.error([...at, 'enc'], 'return routability tunnel SAs need non-null encryption ([HAIPSEC] I2)');
      else p.warn([...at, 'enc'], `a tunnel-mode SA with ${NULL_ENC}: the tunnelled packets travel in clear text`);
    }
  }
}

function checkSa(sa: SaConfig, c: NodeConfig, local: ReadonlySet<string>, p: Problems): void {
  const at = sa.origin;
  for (const [k, a] of [['src', sa.src], ['dst', sa.dst]] as const) {
    const why = notUnicastRoutable(a);
    if (why) p.error([...at, k], `expected a unicast address as the SA's ${k === 'src' ? 'source' : 'destination'}, found ${a}: ${why}`);
  }
  if (sa.src === sa.dst) p.error([...at, 'dst'], `the SA goes from ${sa.src} to itself`);
  const s = sa.selector;
  if (s.type !== undefined && s.proto !== MH && s.proto !== ICMPV6) p.error([...at, 'selector', 'type'], `a type narrows MH (proto mh) or ICMPv6 selectors only; this selector's proto is ${s.proto === 0 ? 'any' : s.proto}`);
  const implied = s.proto === MH ? 'mh' : s.proto === ICMPV6 ? 'mpd' : s.proto === 0 ? null : 'data';
  if (implied && implied !== sa.cls) p.error([...at, 'class'], `expected class ${implied} for a selector with proto ${s.proto}, found ${sa.cls}`);
  if (sa.mode === 'transport') {
    if (!prefixContains(src(s), sa.src)) p.error([...at, 'selector', 'src'], `a transport-mode SA carries packets from its own source: expected a selector source that contains ${sa.src}, found ${s.src}/${s.srcLen}`);
    if (!prefixContains(dst(s), sa.dst)) p.error([...at, 'selector', 'dst'], `a transport-mode SA carries packets to its own destination: expected a selector destination that contains ${sa.dst}, found ${s.dst}/${s.dstLen}`);
  }
  if (sa.lifetime?.soft !== undefined && sa.lifetime.hard !== undefined && sa.lifetime.soft >= sa.lifetime.hard) {
    p.error([...at, 'lifetime', 'soft'], `expected a soft lifetime shorter than the hard one (${sa.lifetime.hard} s), found ${sa.lifetime.soft} s`);
  }
  const own = ownershipOf(c);
  if (sa.reqid !== undefined && !ownsReqid(own, sa.reqid)) {
    p.error([...at, 'reqid'], `expected a reqid inside iro.ownership (${own.reqidMin}-${own.reqidMax}): iro-ctl manages only the SAs in its range (DIGEST OP-47), found ${sa.reqid}`);
  }
  if (local.size > 0 && !local.has(sa.src) && !local.has(sa.dst)) {
    p.warn(at, `neither end of SA ${sa.name} (${sa.src} -> ${sa.dst}) is an address of this node (${[...local].join(', ')}): it would never be used here`);
  }
}

function policyMatchesTuple(pol: PolicyConfig, s: string, d: string, proto: number, type: number): boolean {
  const x = pol.selector;
  return prefixContains(src(x), s) && prefixContains(dst(x), d) && (x.proto === 0 || x.proto === proto) && (x.type === undefined || x.type === type);
}

function overlap(a: SaSelector, b: SaSelector): boolean {
  return prefixesOverlap(src(a), src(b)) && prefixesOverlap(dst(a), dst(b)) && (a.proto === 0 || b.proto === 0 || a.proto === b.proto) && (a.type === undefined || b.type === undefined || a.type === b.type);
}

function sameSelector(a: SaSelector, b: SaSelector): boolean {
  return a.src === b.src && a.srcLen === b.srcLen && a.dst === b.dst && a.dstLen === b.dstLen && a.proto === b.proto && a.type === b.type;
}

function checkPolicy(pol: PolicyConfig, i: number, c: NodeConfig, byName: ReadonlyMap<string, SaConfig>, local: ReadonlySet<string>, p: Problems): void {
  const at = pol.origin;
  const fromFile = at[0] === 'ipsec';
  const sa = byName.get(pol.sa);
  if (!sa) {
    const known = [...byName.keys()];
    p.error([...at, 'sa'], `no SA named ${pol.sa}${known.length ? ` (known: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''})` : ' (no SA is configured)'}`);
    return;
  }
  const x = pol.selector;
  const s = sa.selector;
  if (x.type !== undefined && x.proto !== MH && x.proto !== ICMPV6) p.error([...at, 'type'], `a type narrows MH (proto mh) or ICMPv6 selectors only; this policy's proto is ${x.proto === 0 ? 'any' : x.proto}`);
  // the SA's selector must admit every packet the policy sends to it, or the kernel drops them
  const problems: string[] = [];
  if (!prefixCovers(src(s), src(x))) problems.push(`source ${x.src}/${x.srcLen} is not inside the SA's ${s.src}/${s.srcLen}`);
  if (!prefixCovers(dst(s), dst(x))) problems.push(`destination ${x.dst}/${x.dstLen} is not inside the SA's ${s.dst}/${s.dstLen}`);
  if (s.proto !== 0 && x.proto !== s.proto) problems.push(`proto ${x.proto === 0 ? 'any' : x.proto} is wider than the SA's proto ${s.proto}`);
  if (s.type !== undefined && x.type !== s.type) problems.push(`type ${x.type ?? 'any'} is wider than the SA's type ${s.type}`);
  if (problems.length) p.error(fromFile ? [...at, 'sa'] : at, `SA ${sa.name} (selector ${sel(s)}) would refuse packets this policy (${sel(x)}) gives it: ${problems.join('; ')}`);
  if (local.size > 0) {
    if (pol.dir === 'out' && !local.has(sa.src)) p.warn(fromFile ? [...at, 'dir'] : at, `an out policy whose SA ${sa.name} starts at ${sa.src}, which is not an address of this node`);
    if (pol.dir !== 'out' && !local.has(sa.dst) && sa.mode === 'transport') p.warn(fromFile ? [...at, 'dir'] : at, `an ${pol.dir} policy whose SA ${sa.name} ends at ${sa.dst}, which is not an address of this node`);
  }
  c.ipsec.policies.slice(0, i).forEach((q) => {
    if (q.dir !== pol.dir) return;
    const where = formatPath(q.origin);
    if (sameSelector(q.selector, x)) p.error(at, `the same direction and selector (${sel(x)}) as ${where}: the kernel holds one policy per selector and direction`);
    else if (q.priority === pol.priority && q.sa !== pol.sa && overlap(q.selector, x)) {
      p.error(fromFile ? [...at, 'priority'] : at, `overlaps ${where} (direction ${pol.dir}, priority ${pol.priority}) with a different SA: which one the kernel uses would depend on insertion order; give them different priorities`);
    }
  });
}

export function checkIpsec(c: NodeConfig, p: Problems): void {
  const local = new Set(localAddresses(c));
  const byName = new Map<string, SaConfig>();
  const byId = new Map<string, SaConfig>();
  for (const sa of c.ipsec.sas) {
    const prev = byName.get(sa.name);
    if (prev) p.error(sa.origin[0] === 'ipsec' ? [...sa.origin, 'name'] : sa.origin, `SA name ${sa.name} is already used at ${formatPath(prev.origin)}`);
    else byName.set(sa.name, sa);
    const id = `${sa.proto}/${sa.spi >>> 0}/${sa.dst}`;
    const other = byId.get(id);
    if (other) p.error([...sa.origin, 'spi'], `SPI ${hex(sa.spi)} (${sa.proto}, destination ${sa.dst}) is already used by SA ${other.name} at ${formatPath(other.origin)}: the kernel identifies an SA by destination, protocol and SPI`);
    else byId.set(id, sa);
    checkSa(sa, c, local, p);
  }
  const { reqidCount } = c.iro.ownership;
  if (c.ipsec.sas.length > reqidCount) p.error(['iro', 'ownership', 'reqidCount'], `${c.ipsec.sas.length} SAs are configured but the owned range holds ${reqidCount} reqids`);
  c.ipsec.policies.forEach((pol, i) => checkPolicy(pol, i, c, byName, local, p));
}

/** [HAIPSEC] P9 on the HA: the SPD must map each home address to its own SA(s) unequivocally. */
export function checkAuthorisations(c: NodeConfig, p: Problems): void {
  const ha = c.ha;
  if (!ha) return;
  const byName = new Map(c.ipsec.sas.map((s) => [s.name, s]));
  const owner = new Map<string, string>();
  ha.mobileNodes.forEach((m, i) => {
    const a = m.authorisation;
    if (a.kind !== 'sas' || a.sas.length === 0) return;
    const at: DocPath = a.derivedFromProfile ? ['ha', 'mobileNodes', i] : ['ha', 'mobileNodes', i, 'authorisation', 'sas'];
    a.sas.forEach((name, k) => {
      const where: DocPath = a.derivedFromProfile ? at : [...at, k];
      const sa = byName.get(name);
      if (!sa) {
        p.error(where, `no SA named ${name}`);
        return;
      }
      if (sa.dst !== ha.address) p.error(where, `SA ${name} goes to ${sa.dst}, not to this home agent (${ha.address}): only SAs arriving here can carry this mobile node's BUs`);
      else if (sa.src !== m.homeAddress) p.error(where, `SA ${name} comes from ${sa.src}, not from the home address ${m.homeAddress}`);
      const prev = owner.get(name);
      if (prev && prev !== m.homeAddress) p.error(where, `SA ${name} is already authorised for ${prev}: one SA must identify one home address ([HAIPSEC] P9)`);
      owner.set(name, m.homeAddress);
    });
    // the policy the kernel consults first for a BU from this HoA must use one of these SAs
    const BU = 5;
    const first = c.ipsec.policies
      .filter((pol) => pol.dir === 'in' && policyMatchesTuple(pol, m.homeAddress, ha.address, MH, BU))
      .sort((x, y) => x.priority - y.priority)[0];
    if (!first) {
      p.error(at, `no inbound policy protects BUs from ${m.homeAddress}: add one (dir in, src ${m.homeAddress}/128, dst ${ha.address}/128, proto mh) using ${a.sas[0]}, or a haIpsecProfile for this home address ([HAIPSEC] P9, §4.2.1)`);
    } else if (!a.sas.includes(first.sa)) {
      p.error(at, `BUs from ${m.homeAddress} are checked against ${formatPath(first.origin)}, whose SA ${first.sa} is not authorised for this home address: another mobile node's SA could register it ([HAIPSEC] P9)`);
    }
  });
}
