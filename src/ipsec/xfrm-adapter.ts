// XFRM netlink messages -> the one SA/SP model. IPv6 only (IRO's addresses are IPv6); other
// families and protocols (IPComp) are not IRO's and are skipped.
import * as C from '../kernel/xfrm/constants.ts';
import type { XfrmMessage, XfrmPolicy, XfrmPolicyId, XfrmSa, XfrmSelector, XfrmTemplate } from '../kernel/xfrm/model.ts';
import type { BackendChange } from './mirror.ts';
import type { IpsecProto, PolicyInfo, PolicyTemplate, SaInfo, SaMode, SaSelector } from './model.ts';

const AF_INET6 = 10;
const MH = 135;
const ICMPV6 = 58;

export function protoName(n: number): IpsecProto | null {
  return n === 50 ? 'esp' : n === 51 ? 'ah' : null;
}

export function modeName(n: number): SaMode {
  return n === C.XFRM_MODE_TRANSPORT ? 'transport' : n === C.XFRM_MODE_TUNNEL ? 'tunnel' : n === C.XFRM_MODE_BEET ? 'beet' : 'other';
}

export function selectorFromXfrm(s: XfrmSelector): SaSelector {
  const sel: SaSelector = { src: s.saddr, dst: s.daddr, srcLen: s.prefixlenS, dstLen: s.prefixlenD, proto: s.proto };
  // Linux keeps the MH type / ICMPv6 type in sport (network order in the message, host order here)
  if ((s.proto === MH || s.proto === ICMPV6) && s.sportMask) sel.type = s.sport;
  return sel;
}

export function saFromXfrm(sa: XfrmSa): SaInfo | null {
  const proto = protoName(sa.id.proto);
  if (!proto || sa.family !== AF_INET6) return null;
  const info: SaInfo = {
    key: { proto, spi: sa.id.spi >>> 0, daddr: sa.id.daddr },
    saddr: sa.saddr,
    mode: modeName(sa.mode),
    reqid: sa.reqid,
    state: 'mature',
    sources: ['xfrm'],
  };
  if (sa.selector && sa.selector.family === AF_INET6) info.selector = selectorFromXfrm(sa.selector);
  if (sa.direction === C.XFRM_SA_DIR_IN) info.dir = 'in';
  if (sa.direction === C.XFRM_SA_DIR_OUT) info.dir = 'out';
  if (sa.mark) info.mark = { value: sa.mark.value, mask: sa.mark.mask };
  if (sa.ifId) info.ifId = sa.ifId;
  return info;
}

function templateFromXfrm(t: XfrmTemplate): PolicyTemplate | null {
  const proto = protoName(t.id.proto);
  if (!proto) return null;
  const out: PolicyTemplate = { proto, reqid: t.reqid, mode: modeName(t.mode) };
  if (t.saddr && t.saddr !== '::') out.saddr = t.saddr;
  if (t.id.daddr && t.id.daddr !== '::') out.daddr = t.id.daddr;
  return out;
}

function dirName(d: number): PolicyInfo['dir'] {
  return d === C.XFRM_POLICY_IN ? 'in' : d === C.XFRM_POLICY_OUT ? 'out' : 'fwd';
}

export function policyFromXfrm(p: XfrmPolicy): PolicyInfo | null {
  if (p.selector.family !== AF_INET6) return null;
  const info: PolicyInfo = {
    dir: dirName(p.dir),
    selector: selectorFromXfrm(p.selector),
    priority: p.priority,
    index: p.index,
    action: p.action === C.XFRM_POLICY_BLOCK ? 'block' : 'allow',
    templates: p.templates.map(templateFromXfrm).filter((t): t is PolicyTemplate => t !== null),
  };
  if (p.mark) info.mark = { value: p.mark.value, mask: p.mark.mask };
  if (p.ifId) info.ifId = p.ifId;
  return info;
}

function policyFromId(id: XfrmPolicyId): PolicyInfo | null {
  const s = id.selector;
  if (s.family !== AF_INET6) return null;
  const full: XfrmSelector = {
    family: s.family,
    daddr: s.daddr ?? '::',
    saddr: s.saddr ?? '::',
    prefixlenD: s.prefixlenD ?? 0,
    prefixlenS: s.prefixlenS ?? 0,
    proto: s.proto ?? 0,
    dport: s.dport ?? 0,
    dportMask: s.dportMask ?? 0,
    sport: s.sport ?? 0,
    sportMask: s.sportMask ?? 0,
    ifindex: s.ifindex ?? 0,
    user: s.user ?? 0,
  };
  return { dir: dirName(id.dir), selector: selectorFromXfrm(full), priority: 0, index: id.index ?? 0, action: 'allow', templates: [] };
}

export type AdapterOutput = BackendChange | { kind: 'resync'; reason: string };

/** One XFRM message -> zero or more changes for the mirror (or a resync request). */
export function changesFromXfrm(m: XfrmMessage): AdapterOutput[] {
  const source = 'xfrm' as const;
  switch (m.kind) {
    case 'newsa':
    case 'updsa': {
      const sa = saFromXfrm(m.sa);
      return sa ? [{ kind: 'sa-upsert', sa, source }] : [];
    }
    case 'delsa': {
      const proto = protoName(m.id.proto);
      if (!proto || m.id.family !== AF_INET6) return [];
      return [{ kind: 'sa-remove', key: { proto, spi: m.id.spi >>> 0, daddr: m.id.daddr }, source }];
    }
    case 'expire': {
      const sa = saFromXfrm(m.sa);
      return sa ? [{ kind: 'sa-expire', key: sa.key, hard: m.hard, source, sa }] : [];
    }
    case 'flushsa':
      return [{ kind: 'resync', reason: 'SAs flushed' }];
    case 'newpolicy':
    case 'updpolicy': {
      const p = policyFromXfrm(m.policy);
      return p ? [{ kind: 'policy-upsert', policy: p, source }] : [];
    }
    case 'delpolicy': {
      const p = m.policy ? policyFromXfrm(m.policy) : policyFromId(m.id);
      return p ? [{ kind: 'policy-remove', policy: p, source }] : [];
    }
    case 'polexpire': {
      if (!m.hard) return [];
      const p = policyFromXfrm(m.policy);
      return p ? [{ kind: 'policy-remove', policy: p, source }] : [];
    }
    case 'flushpolicy':
      return [{ kind: 'resync', reason: 'policies flushed' }];
    case 'acquire': {
      if (m.acquire.selector.family !== AF_INET6) return [];
      const templates = m.acquire.templates.map(templateFromXfrm).filter((t): t is PolicyTemplate => t !== null);
      return [{ kind: 'acquire', event: { type: 'acquire', selector: selectorFromXfrm(m.acquire.selector), templates } }];
    }
    case 'migrate': {
      const pol = policyFromId(m.migrate.policy);
      if (!pol) return [];
      return m.migrate.entries.map((e) => ({
        kind: 'migrate' as const,
        event: { type: 'migrate' as const, selector: pol.selector, from: { saddr: e.oldSaddr, daddr: e.oldDaddr }, to: { saddr: e.newSaddr, daddr: e.newDaddr } },
      }));
    }
    default:
      return [];
  }
}
