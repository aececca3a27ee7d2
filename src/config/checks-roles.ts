// Checks of the role sections: the section the role needs, no section of another role, home
// addresses that are unicast routable (RFC 6275 §4.6) and not ULA unless allowed (OP-44, L03),
// inside the home prefix, and the classic/IRO mode rule (OP-30, IRO App. I, L03).
import { isUla, notUnicastRoutable, parsePrefix, prefixContains, formatPrefix } from './addresses.ts';
import type { DocPath, Problems } from './issues.ts';
import { cnAddressPath, hoaPath } from './resolve.ts';
import type { ParsedConfig } from './schema.ts';
import type { NodeConfig } from './types.ts';

const RESERVED_TABLES: Record<number, string> = { 253: 'default', 254: 'main', 255: 'local' };

/** RFC 6275 §4.6 for any address this node uses or talks to. */
export function checkUnicast(addr: string, what: string, path: DocPath, p: Problems): boolean {
  const why = notUnicastRoutable(addr);
  if (why) p.error(path, `expected a unicast routable ${what} (RFC 6275 §4.6), found ${addr}: ${why}`);
  return !why;
}

/** L03, OP-44: home addresses must be globally routable; ULA only with iro.allowUla. */
export function checkHoaScope(addr: string, what: string, path: DocPath, allowUla: boolean, p: Problems): boolean {
  if (!checkUnicast(addr, what, path, p)) return false;
  if (!isUla(addr)) return true;
  if (allowUla) p.warn(path, `${addr} is a unique local address (fc00::/7): it is not globally routable, so this ${what} works only within its site (allowed by iro.allowUla)`);
  else p.error(path, `${addr} is a unique local address (fc00::/7): a ${what} must be globally routable (RFC 6275 §4.6, DIGEST OP-44); set iro.allowUla: true to allow it`);
  return true;
}

function duplicates(list: readonly string[], path: (i: number) => DocPath, what: string, p: Problems): void {
  list.forEach((x, i) => {
    const first = list.indexOf(x);
    if (first !== i) p.error(path(i), `${what} ${x} is listed twice (also at index ${first})`);
  });
}

function sections(parsed: ParsedConfig, p: Problems): void {
  const need = parsed.role;
  if (!parsed[need]) {
    const what = { mn: 'homeAddress, homeAgent, interfaces', cn: 'address, interfaces', ha: 'address, homeLink, homePrefix, mobileNodes' }[need];
    p.error(['role'], `role ${need} needs an ${need} section (${what})`);
  }
  for (const other of ['mn', 'cn', 'ha'] as const) {
    if (other === need || !parsed[other]) continue;
    if (other === 'cn' && need === 'mn') continue; // an MN is also a correspondent of other MNs (OP-7)
    p.error([other], `an ${other} section on a node whose role is ${need}: remove it, or change role`);
  }
}

function checkMn(parsed: ParsedConfig, c: NodeConfig, p: Problems): void {
  const mn = c.mn;
  if (!mn || mn.homeAddresses.length === 0) return;
  const allowUla = c.iro.allowUla;
  const usable = mn.homeAddresses.map((a, i) => checkHoaScope(a, 'home address', hoaPath(parsed, i), allowUla, p));
  duplicates(mn.homeAddresses, (i) => hoaPath(parsed, i), 'home address', p);
  if (!checkUnicast(mn.homeAgent, 'home agent address', ['mn', 'homeAgent'], p)) return;
  const home = parsePrefix(`${mn.homeAgent}/${mn.homePrefixLength}`);
  mn.homeAddresses.forEach((a, i) => {
    if (!usable[i]) return;
    if (a === mn.homeAgent) p.error(hoaPath(parsed, i), `the home address ${a} is the home agent's address`);
    else if (!prefixContains(home, a)) {
      p.error(hoaPath(parsed, i), `expected a home address in the home prefix ${formatPrefix(home)} (mn.homeAgent with mn.homePrefixLength ${mn.homePrefixLength}), found ${a}: the home agent is on the home link, so they share its prefix`);
    }
  });
  duplicates(mn.interfaces, (i) => ['mn', 'interfaces', i], 'interface', p);
  if (mn.interfaces.includes(mn.tunnel.name)) p.error(['mn', 'tunnel', 'name'], `the tunnel device ${mn.tunnel.name} is also listed in mn.interfaces: care-of interfaces are physical interfaces, the tunnel runs over them`);
  const reserved = RESERVED_TABLES[mn.tunnel.table];
  if (reserved) p.error(['mn', 'tunnel', 'table'], `expected a routing table of its own for the home-address rule, found ${mn.tunnel.table} (Linux's ${reserved} table)`);
  for (const k of ['home', 'correspondent'] as const) {
    const s = mn.lifetimes[k];
    if (s % 4) p.warn(['mn', 'lifetimes', k], `${s} s is sent in 4-second units: the peer sees ${s - (s % 4)} s`);
  }
  if (mn.haMode === 'classic') {
    const iro = c.peers.map((x, i) => ({ x, i })).filter((e) => e.x.mode === 'iro');
    if (iro.length > 0 && !c.iro.allowMixedModes) {
      p.error(['mn', 'haMode'], `haMode classic together with IRO peers (${iro.map((e) => `peers[${e.i}] ${e.x.address}`).join(', ')}) is refused: IRO needs IRO mode with the home agent too (DIGEST OP-30, IRO App. J), and mixing is strongly discouraged (IRO App. I); set iro.allowMixedModes: true to allow it`);
    } else {
      p.warn(['mn', 'haMode'], `classic mode with the home agent (HAO/RH2, [HAIPSEC] F1/F2) needs a kernel with MIP6 (CONFIG_IPV6_MIP6) and is not part of v1 (DIGEST OP-30)${iro.length ? '; IRO peers are mixed with it (iro.allowMixedModes)' : ''}`);
    }
  }
  if (c.cn && parsed.cn && (parsed.cn.address !== undefined || parsed.cn.addresses !== undefined)) {
    c.cn.addresses.forEach((a, i) => {
      if (!mn.homeAddresses.includes(a)) p.error(cnAddressPath(parsed, i), `expected one of this mobile node's home addresses (its correspondent role answers on them, DIGEST OP-7), found ${a}`);
    });
  }
}

function checkCn(parsed: ParsedConfig, c: NodeConfig, p: Problems): void {
  const cn = c.cn;
  if (!cn) return;
  if (c.role === 'cn') {
    cn.addresses.forEach((a, i) => checkUnicast(a, 'correspondent address', cnAddressPath(parsed, i), p));
    duplicates(cn.addresses, (i) => cnAddressPath(parsed, i), 'address', p);
    if (cn.interfaces.length === 0) p.error(['cn', 'interfaces'], 'expected at least one interface for the data path (where traffic from mobile nodes arrives)');
  }
  duplicates(cn.interfaces, (i) => ['cn', 'interfaces', i], 'interface', p);
  if (cn.aotcTtl === 0) p.error(['cn', 'aotcTtl'], 'expected a positive duration: an AOTC must wait some time for its AOTR (DIGEST OP-5)');
  if (cn.proofIdleTtl === 0) p.error(['cn', 'proofIdleTtl'], 'expected a positive duration (DIGEST OP-4)');
  if (cn.maxProofs < cn.proofsPerMn) p.error(['cn', 'maxProofs'], `expected at least proofsPerMn (${cn.proofsPerMn}), found ${cn.maxProofs}`);
  if (cn.hoaTest.enabled && cn.hoaTest.interval === 0) p.error(['cn', 'hoaTest', 'interval'], 'expected a positive interval when hoaTest.enabled is true');
  if (cn.brrBeforeExpiry >= cn.maxLifetime) p.warn(['cn', 'brrBeforeExpiry'], `${cn.brrBeforeExpiry} s is not shorter than cn.maxLifetime (${cn.maxLifetime} s): every binding would get a Binding Refresh Request at once`);
}

function checkHa(c: NodeConfig, p: Problems): void {
  const ha = c.ha;
  if (!ha) return;
  checkUnicast(ha.address, 'home agent address', ['ha', 'address'], p);
  if (ha.homePrefix.len === 128) p.error(['ha', 'homePrefix'], 'expected the home link\'s prefix (shorter than /128)');
  if (!prefixContains(ha.homePrefix, ha.address)) p.error(['ha', 'address'], `expected an address in ha.homePrefix ${formatPrefix(ha.homePrefix)} (the home agent is on the home link), found ${ha.address}`);
  duplicates(ha.interfaces, (i) => ['ha', 'interfaces', i], 'interface', p);
  const hoas = ha.mobileNodes.map((m) => m.homeAddress);
  ha.mobileNodes.forEach((m, i) => {
    const at: DocPath = ['ha', 'mobileNodes', i, 'homeAddress'];
    if (!checkHoaScope(m.homeAddress, 'home address', at, c.iro.allowUla, p)) return;
    if (m.homeAddress === ha.address) p.error(at, `the home address ${m.homeAddress} is this home agent's address`);
    else if (!prefixContains(ha.homePrefix, m.homeAddress)) p.error(at, `expected a home address in ha.homePrefix ${formatPrefix(ha.homePrefix)}, found ${m.homeAddress}`);
  });
  duplicates(hoas, (i) => ['ha', 'mobileNodes', i, 'homeAddress'], 'mobile node', p);
  const classic = ha.mobileNodes.map((m, i) => ({ m, i })).filter((e) => e.m.mode === 'classic');
  if (classic.length > 0) {
    const mixed = classic.length < ha.mobileNodes.length;
    if (mixed && !c.iro.allowMixedModes) {
      for (const e of classic) p.error(['ha', 'mobileNodes', e.i, 'mode'], 'classic mode next to IRO mobile nodes is refused (DIGEST OP-30, IRO App. I); set iro.allowMixedModes: true to allow it');
    } else {
      for (const e of classic) p.warn(['ha', 'mobileNodes', e.i, 'mode'], 'classic mode (HAO/RH2) needs a kernel with MIP6 (CONFIG_IPV6_MIP6) and is not part of v1 (DIGEST OP-30)');
    }
  }
  if (ha.persistSequence === false && ha.mobileNodes.some((m) => m.authorisation.kind === 'sas')) {
    p.warn(['ha', 'persistSequence'], 'manually keyed SAs give no replay protection ([HAIPSEC] K1): without a persisted sequence number per home address an old BU can be replayed after a restart (DIGEST OP-43)');
  }
}

export function checkRoles(parsed: ParsedConfig, c: NodeConfig, p: Problems): void {
  sections(parsed, p);
  checkMn(parsed, c, p);
  checkCn(parsed, c, p);
  checkHa(c, p);
}
