// Routes: rtmsg {u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags} + RTA_*.
import { attrU32, AttributeSet, readU32 } from '../netlink/attributes.ts';
import { NetlinkParseError, type NetlinkMessage } from '../netlink/message.ts';
import { addressFamily, addressText, attrAddress } from './common.ts';
import * as R from './constants.ts';

export const RTMSG_SIZE = 12;

export interface RouteSpec {
  /** destination prefix ("::" with dstLen 0 for default) */
  dst: string;
  dstLen: number;
  gateway?: string;
  oif?: number;
  /** routing table id (main = 254) */
  table?: number;
  prefsrc?: string;
  metric?: number;
  protocol?: number;
  scope?: number;
  type?: number;
}

export interface Route {
  family: number;
  dst?: string;
  dstLen: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
  gateway?: string;
  oif?: number;
  prefsrc?: string;
  metric?: number;
}

export function rtmsg(family: number, dstLen = 0, table = 0, protocol = 0, scope = 0, type = 0, flags = 0, srcLen = 0): Buffer {
  const b = Buffer.alloc(RTMSG_SIZE);
  b.writeUInt8(family, 0);
  b.writeUInt8(dstLen, 1);
  b.writeUInt8(srcLen, 2);
  b.writeUInt8(table < 256 ? table : R.RT_TABLE_UNSPEC, 4);
  b.writeUInt8(protocol, 5);
  b.writeUInt8(scope, 6);
  b.writeUInt8(type, 7);
  b.writeUInt32LE(flags >>> 0, 8);
  return b;
}

export function routePayload(r: RouteSpec, forDelete = false): Buffer[] {
  const family = addressFamily(r.dst);
  const table = r.table ?? R.RT_TABLE_MAIN;
  const what = `route ${r.dst}/${r.dstLen}`;
  const scope = r.scope ?? (r.gateway || family === 10 ? R.RT_SCOPE_UNIVERSE : R.RT_SCOPE_LINK);
  const parts = [rtmsg(family, r.dstLen, table, forDelete ? 0 : (r.protocol ?? R.RTPROT_STATIC), forDelete ? 0 : scope, r.type ?? R.RTN_UNICAST)];
  if (r.dstLen > 0) parts.push(attrAddress(R.RTA_DST, r.dst, family, what));
  parts.push(attrU32(R.RTA_TABLE, table));
  if (r.gateway) parts.push(attrAddress(R.RTA_GATEWAY, r.gateway, family, `${what} gateway`));
  if (r.oif !== undefined) parts.push(attrU32(R.RTA_OIF, r.oif));
  if (r.prefsrc) parts.push(attrAddress(R.RTA_PREFSRC, r.prefsrc, family, `${what} prefsrc`));
  if (r.metric !== undefined) parts.push(attrU32(R.RTA_PRIORITY, r.metric));
  return parts;
}

export interface RouteQuery {
  dst: string;
  src?: string;
  oif?: number;
  mark?: number;
}

/** RTM_GETROUTE for one destination: the kernel answers with the route it would use. */
export function routeQueryPayload(q: RouteQuery): Buffer[] {
  const family = addressFamily(q.dst);
  const full = family === 2 ? 32 : 128;
  const parts = [rtmsg(family, full, 0, 0, 0, 0, 0, q.src ? full : 0), attrAddress(R.RTA_DST, q.dst, family, `route lookup ${q.dst}`)];
  if (q.src) parts.push(attrAddress(R.RTA_SRC, q.src, family, `route lookup ${q.dst} src`));
  if (q.oif !== undefined) parts.push(attrU32(R.RTA_OIF, q.oif));
  if (q.mark !== undefined) parts.push(attrU32(R.RTA_MARK, q.mark));
  return parts;
}

export function decodeRoute(m: NetlinkMessage): Route {
  if (m.payload.length < RTMSG_SIZE) throw new NetlinkParseError(`rtnetlink route: payload is ${m.payload.length} bytes, expected ${RTMSG_SIZE}`, 16, m);
  const p = m.payload;
  const attrs = AttributeSet.parse(p, 'rtnetlink route attributes', RTMSG_SIZE);
  const tableAttr = attrs.first(R.RTA_TABLE);
  const r: Route = {
    family: p[0]!,
    dstLen: p[1]!,
    table: tableAttr ? readU32(tableAttr, 'RTA_TABLE') : p[4]!,
    protocol: p[5]!,
    scope: p[6]!,
    type: p[7]!,
  };
  const dst = attrs.first(R.RTA_DST);
  if (dst) r.dst = addressText(dst.data);
  const gw = attrs.first(R.RTA_GATEWAY);
  if (gw) r.gateway = addressText(gw.data);
  const oif = attrs.first(R.RTA_OIF);
  if (oif) r.oif = readU32(oif, 'RTA_OIF');
  const ps = attrs.first(R.RTA_PREFSRC);
  if (ps) r.prefsrc = addressText(ps.data);
  const metric = attrs.first(R.RTA_PRIORITY);
  if (metric) r.metric = readU32(metric, 'RTA_PRIORITY');
  return r;
}
