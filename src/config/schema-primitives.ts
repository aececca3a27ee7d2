// The value types the configuration is made of: addresses, prefixes, interface names,
// durations, protocol names. Each says what it expects in the words an operator would use.
import { z } from 'zod';
import { canonicalIPv6 } from '../common/ipv6.ts';
import { isIPv6, parsePrefix } from './addresses.ts';

/** A literal IPv6 address, kept in RFC 5952 canonical form. */
export const address = z
  .string({ error: 'expected an IPv6 address' })
  .refine(isIPv6, { error: 'expected an IPv6 address' })
  .transform((s) => canonicalIPv6(s));

/** The built-in names of this node's own addresses (see names.ts). */
export const ADDRESS_NAME = /^(HoA|CN)([1-9][0-9]?)?$|^HA$/;

/** A name: a built-in one or a peer's name. An IPv6 literal always has a colon, so never looks like one. */
export const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

const ADDRESS_REF = 'expected an IPv6 address, a name of this node\'s addresses (HoA, HoA<n>, HA, CN, CN<n>) or a peer\'s name';

/** An address or a name; names are resolved after parsing. */
export const addressRef = z.string({ error: ADDRESS_REF }).refine((s) => (IDENTIFIER.test(s) && s !== 'any') || isIPv6(s), { error: ADDRESS_REF });

function isPrefixRef(s: string): boolean {
  if (s === 'any') return true;
  const slash = s.indexOf('/');
  const head = slash < 0 ? s : s.slice(0, slash);
  if (IDENTIFIER.test(head)) return slash < 0 || (/^\d{1,3}$/.test(s.slice(slash + 1)) && Number(s.slice(slash + 1)) <= 128);
  try {
    parsePrefix(s);
    return true;
  } catch {
    return false;
  }
}

const PREFIX_REF = 'expected a prefix like 2001:db8::/64, an address, a name (HoA, HA, CN, a peer\'s name) with an optional /length, or "any"';

/** A prefix ("2001:db8::/64"), an address (/128), a name with an optional length ("HoA/128"), or "any" (::/0). */
export const prefixRef = z.string({ error: PREFIX_REF }).refine(isPrefixRef, { error: PREFIX_REF });

/** A literal prefix, canonical. */
export const prefix = z
  .string({ error: 'expected an IPv6 prefix like 2001:db8:1::/64' })
  .refine(
    (s) => {
      try {
        parsePrefix(s);
        return s.includes('/');
      } catch {
        return false;
      }
    },
    { error: 'expected an IPv6 prefix like 2001:db8:1::/64' },
  )
  .transform((s) => parsePrefix(s));

/** Linux dev_valid_name(): 1-15 bytes, not "." or "..", no "/", ":" or white space. */
export const ifname = z
  .string({ error: 'expected an interface name' })
  .refine((s) => /^[^\s/:]{1,15}$/.test(s) && s !== '.' && s !== '..', {
    error: 'expected an interface name (1-15 characters, no "/", ":" or spaces)',
  });

export const absPath = z
  .string({ error: 'expected an absolute path' })
  .refine((s) => s.startsWith('/') && !s.includes('\0'), { error: 'expected an absolute path' });

const DURATION = 'expected a duration: whole seconds, or a number with a unit s, m, h or d (e.g. "30d")';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds, as a number or a string like "90s", "30m", "12h", "30d". */
export const duration = z
  .union([z.number({ error: DURATION }).int({ error: DURATION }).nonnegative({ error: DURATION }), z.string({ error: DURATION }).regex(/^\d+[smhd]$/, { error: DURATION })], {
    error: DURATION,
  })
  .transform((v) => (typeof v === 'number' ? v : Number(v.slice(0, -1)) * UNIT_SECONDS[v.slice(-1)]!));

export const octet = z.number().int().min(0).max(255);
export const uint32 = z.number().int().min(0).max(0xffffffff);

export const PROTO_NAMES: Readonly<Record<string, number>> = { any: 0, tcp: 6, udp: 17, icmpv6: 58, mh: 135 };

/** An upper-layer protocol: mh, icmpv6, udp, tcp, any, or a number 0-255; parsed to its number. */
export const protoSpec = z
  .union([z.enum(['mh', 'icmpv6', 'udp', 'tcp', 'any']), octet], { error: 'expected a protocol: mh, icmpv6, udp, tcp, any or a number 0-255' })
  .transform((v) => (typeof v === 'number' ? v : PROTO_NAMES[v]!));

/** A name for an SA (referenced by policies and authorisations). */
export const saName = z
  .string({ error: 'expected a name' })
  .regex(/^[A-Za-z][A-Za-z0-9_.@:-]{0,63}$/, { error: 'expected a name: a letter, then letters, digits or _ . @ : - (at most 64)' });

/** A lifetime of a binding: 4-262140 s (RFC 6275 §6.1.7: 16 bits of 4-second units). */
export const bindingLifetime = duration.refine((s) => s >= 4 && s <= 262140, { error: 'expected a lifetime of 4-262140 seconds (RFC 6275 §6.1.7)' });
