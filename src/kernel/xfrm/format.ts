// Human-readable, key-free rendering of XFRM messages for debug logs. Decoding runs without
// keys, so the text can only ever say "key redacted, N bits".
import { formatHeader } from '../netlink/format.ts';
import type { NetlinkMessage } from '../netlink/message.ts';
import { decodeXfrmMessage } from './codec.ts';
import * as C from './constants.ts';
import type { XfrmAlgo, XfrmMessage, XfrmPolicy, XfrmSa, XfrmSelector, XfrmTemplate } from './model.ts';

const MODES = ['transport', 'tunnel', 'ro', 'in_trigger', 'beet'];
const DIRS = ['in', 'out', 'fwd'];

export function protoName(p: number): string {
  return p === C.IPPROTO_ESP ? 'esp' : p === C.IPPROTO_AH ? 'ah' : p === C.IPPROTO_COMP ? 'comp' : String(p);
}

function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

export function formatSelector(s: XfrmSelector): string {
  let t = `sel src ${s.saddr}/${s.prefixlenS} dst ${s.daddr}/${s.prefixlenD}`;
  if (s.proto) t += ` proto ${s.proto}`;
  if (s.sportMask) t += ` sport ${s.sport}/0x${s.sportMask.toString(16)}`;
  if (s.dportMask) t += ` dport ${s.dport}/0x${s.dportMask.toString(16)}`;
  if (s.ifindex) t += ` ifindex ${s.ifindex}`;
  return t;
}

function formatAlgo(kind: string, a: XfrmAlgo, extra?: string): string {
  const bits = a.keyBits ?? a.key?.bits ?? 0;
  return `${kind} ${a.name} [key redacted, ${bits} bits]${extra ?? ''}`;
}

export function formatSa(sa: XfrmSa): string {
  const parts = [
    `src ${sa.saddr} dst ${sa.id.daddr} proto ${protoName(sa.id.proto)} spi ${hex32(sa.id.spi)} reqid ${sa.reqid} mode ${MODES[sa.mode] ?? sa.mode}`,
    formatSelector(sa.selector),
  ];
  if (sa.replayWindow) parts.push(`replay-window ${sa.replayWindow}`);
  if (sa.flags) parts.push(`flags 0x${sa.flags.toString(16)}`);
  if (sa.auth) parts.push(formatAlgo(sa.auth.truncBits !== undefined ? 'auth-trunc' : 'auth', sa.auth, sa.auth.truncBits !== undefined ? ` trunc ${sa.auth.truncBits}` : ''));
  if (sa.crypt) parts.push(formatAlgo('enc', sa.crypt));
  if (sa.aead) parts.push(formatAlgo('aead', sa.aead, ` icv ${sa.aead.icvBits}`));
  if (sa.comp) parts.push(`comp ${sa.comp.name}`);
  if (sa.mark) parts.push(`mark 0x${sa.mark.value.toString(16)}/0x${sa.mark.mask.toString(16)}`);
  if (sa.setMark) parts.push(`output-mark 0x${sa.setMark.value.toString(16)}${sa.setMark.mask !== undefined ? `/0x${sa.setMark.mask.toString(16)}` : ''}`);
  if (sa.ifId !== undefined) parts.push(`if_id ${sa.ifId}`);
  if (sa.direction !== undefined) parts.push(`dir ${sa.direction === C.XFRM_SA_DIR_IN ? 'in' : sa.direction === C.XFRM_SA_DIR_OUT ? 'out' : sa.direction}`);
  if (sa.otherAttributes.length) parts.push(`other attributes ${sa.otherAttributes.join(',')}`);
  return parts.join(' ');
}

export function formatTemplate(t: XfrmTemplate): string {
  return `tmpl src ${t.saddr} dst ${t.id.daddr} proto ${protoName(t.id.proto)} spi ${hex32(t.id.spi)} reqid ${t.reqid} mode ${MODES[t.mode] ?? t.mode}${t.optional ? ' level use' : ''}`;
}

export function formatPolicy(p: XfrmPolicy): string {
  const parts = [
    `dir ${DIRS[p.dir] ?? p.dir} ${formatSelector(p.selector)} priority ${p.priority} index ${p.index} action ${p.action === C.XFRM_POLICY_BLOCK ? 'block' : 'allow'}`,
  ];
  if (p.type !== undefined) parts.push(`ptype ${p.type === C.XFRM_POLICY_TYPE_SUB ? 'sub' : 'main'}`);
  if (p.mark) parts.push(`mark 0x${p.mark.value.toString(16)}/0x${p.mark.mask.toString(16)}`);
  if (p.ifId !== undefined) parts.push(`if_id ${p.ifId}`);
  for (const t of p.templates) parts.push(formatTemplate(t));
  return parts.join(' ');
}

export function formatXfrm(d: XfrmMessage): string {
  switch (d.kind) {
    case 'newsa':
    case 'updsa':
      return formatSa(d.sa);
    case 'delsa':
    case 'getsa':
      return `${d.id.saddr ?? '?'} -> ${d.id.daddr} proto ${protoName(d.id.proto)} spi ${hex32(d.id.spi)}${'sa' in d && d.sa ? ` (${formatSa(d.sa)})` : ''}`;
    case 'allocspi':
      return `src ${d.request.saddr} dst ${d.request.id.daddr} proto ${protoName(d.request.id.proto)} range ${hex32(d.request.min)}-${hex32(d.request.max)} reqid ${d.request.reqid ?? 0}`;
    case 'expire':
      return `${d.hard ? 'hard' : 'soft'} ${formatSa(d.sa)}`;
    case 'acquire':
      return `proto ${protoName(d.acquire.id.proto)} ${formatSelector(d.acquire.selector)} policy (${formatPolicy(d.acquire.policy)}) seq ${d.acquire.seq}`;
    case 'flushsa':
      return `proto ${d.proto === C.IPSEC_PROTO_ANY ? 'any' : protoName(d.proto)}`;
    case 'newpolicy':
    case 'updpolicy':
      return formatPolicy(d.policy);
    case 'delpolicy':
    case 'getpolicy':
      return `dir ${DIRS[d.id.dir] ?? d.id.dir} ${formatSelector(d.id.selector as XfrmSelector)} index ${d.id.index ?? 0}`;
    case 'polexpire':
      return `${d.hard ? 'hard' : 'soft'} ${formatPolicy(d.policy)}`;
    case 'flushpolicy':
      return d.policyType !== undefined ? `ptype ${d.policyType}` : '';
    case 'migrate':
      return `dir ${DIRS[d.migrate.policy.dir] ?? d.migrate.policy.dir} ${formatSelector(d.migrate.policy.selector as XfrmSelector)} ${d.migrate.entries
        .map((e) => `[${e.oldSaddr}->${e.oldDaddr} => ${e.newSaddr}->${e.newDaddr} ${protoName(e.proto)} ${MODES[e.mode] ?? e.mode} reqid ${e.reqid}]`)
        .join(' ')}${d.migrate.kmaddress ? ` kmaddress ${d.migrate.kmaddress.local} -> ${d.migrate.kmaddress.remote}` : ''}`;
    case 'other':
      return `${d.length} bytes (not decoded)`;
  }
}

/** The netlink client's formatter for XFRM sockets: header + key-free summary. */
export function formatXfrmMessage(m: NetlinkMessage): string {
  const name = `XFRM_MSG_${C.XFRM_MSG_NAMES[m.type] ?? m.type}`;
  try {
    return `${formatHeader(m, name)}: ${formatXfrm(decodeXfrmMessage(m))}`;
  } catch (e) {
    return `${formatHeader(m, name)} (malformed: ${(e as Error).message})`;
  }
}
