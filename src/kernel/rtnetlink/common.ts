// Address helpers shared by the rtnetlink codecs (raw network-order bytes on the wire).
import { isIPv4 } from 'node:net';
import { formatIPv6, parseIPv6 } from '../../common/ipv6.ts';
import { AF_INET, AF_INET6 } from '../constants.ts';
import { attr } from '../netlink/attributes.ts';

export function addressFamily(text: string): number {
  return isIPv4(text) ? AF_INET : AF_INET6;
}

export function addressBytes(text: string, family: number, what: string): Buffer {
  if (family === AF_INET) {
    if (!isIPv4(text)) throw new Error(`${what}: "${text}" is not an IPv4 address`);
    return Buffer.from(text.split('.').map(Number));
  }
  try {
    return parseIPv6(text);
  } catch {
    throw new Error(`${what}: "${text}" is not an IPv6 address`);
  }
}

export function addressText(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length === 16) return formatIPv6(b);
  return b.toString('hex');
}

export function attrAddress(type: number, text: string, family: number, what: string): Buffer {
  return attr(type, addressBytes(text, family, what));
}

export function macText(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function macBytes(text: string): Buffer {
  const parts = text.split(':');
  if (!parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`"${text}" is not a link-layer address (aa:bb:...)`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}
