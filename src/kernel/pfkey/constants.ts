// PF_KEY v2 constants (RFC 2367 + the Linux/KAME extensions in <linux/pfkeyv2.h> and
// <linux/ipsec.h>). These are ABI; test/unit/pfkey-layout.test.ts checks every value and
// struct size against the installed headers with a compiled C probe.

export const PF_KEY_V2 = 2;
export const PFKEYV2_REVISION = 199806;

/** sadb_msg and every extension are measured in 8-octet units on the wire. */
export const PFKEY_UNIT = 8;

// Message types (sadb_msg_type).
export const SADB_RESERVED = 0;
export const SADB_GETSPI = 1;
export const SADB_UPDATE = 2;
export const SADB_ADD = 3;
export const SADB_DELETE = 4;
export const SADB_GET = 5;
export const SADB_ACQUIRE = 6;
export const SADB_REGISTER = 7;
export const SADB_EXPIRE = 8;
export const SADB_FLUSH = 9;
export const SADB_DUMP = 10;
export const SADB_X_PROMISC = 11;
export const SADB_X_PCHANGE = 12;
export const SADB_X_SPDUPDATE = 13;
export const SADB_X_SPDADD = 14;
export const SADB_X_SPDDELETE = 15;
export const SADB_X_SPDGET = 16;
export const SADB_X_SPDACQUIRE = 17;
export const SADB_X_SPDDUMP = 18;
export const SADB_X_SPDFLUSH = 19;
export const SADB_X_SPDSETIDX = 20;
export const SADB_X_SPDEXPIRE = 21;
export const SADB_X_SPDDELETE2 = 22;
export const SADB_X_NAT_T_NEW_MAPPING = 23;
export const SADB_X_MIGRATE = 24;
export const SADB_MAX = 24;

export const MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = {
  [SADB_RESERVED]: 'SADB_RESERVED',
  [SADB_GETSPI]: 'SADB_GETSPI',
  [SADB_UPDATE]: 'SADB_UPDATE',
  [SADB_ADD]: 'SADB_ADD',
  [SADB_DELETE]: 'SADB_DELETE',
  [SADB_GET]: 'SADB_GET',
  [SADB_ACQUIRE]: 'SADB_ACQUIRE',
  [SADB_REGISTER]: 'SADB_REGISTER',
  [SADB_EXPIRE]: 'SADB_EXPIRE',
  [SADB_FLUSH]: 'SADB_FLUSH',
  [SADB_DUMP]: 'SADB_DUMP',
  [SADB_X_PROMISC]: 'SADB_X_PROMISC',
  [SADB_X_PCHANGE]: 'SADB_X_PCHANGE',
  [SADB_X_SPDUPDATE]: 'SADB_X_SPDUPDATE',
  [SADB_X_SPDADD]: 'SADB_X_SPDADD',
  [SADB_X_SPDDELETE]: 'SADB_X_SPDDELETE',
  [SADB_X_SPDGET]: 'SADB_X_SPDGET',
  [SADB_X_SPDACQUIRE]: 'SADB_X_SPDACQUIRE',
  [SADB_X_SPDDUMP]: 'SADB_X_SPDDUMP',
  [SADB_X_SPDFLUSH]: 'SADB_X_SPDFLUSH',
  [SADB_X_SPDSETIDX]: 'SADB_X_SPDSETIDX',
  [SADB_X_SPDEXPIRE]: 'SADB_X_SPDEXPIRE',
  [SADB_X_SPDDELETE2]: 'SADB_X_SPDDELETE2',
  [SADB_X_NAT_T_NEW_MAPPING]: 'SADB_X_NAT_T_NEW_MAPPING',
  [SADB_X_MIGRATE]: 'SADB_X_MIGRATE',
};

export function messageTypeName(type: number): string {
  return MESSAGE_TYPE_NAMES[type] ?? `SADB_type_${type}`;
}

// SA flags.
export const SADB_SAFLAGS_PFS = 1;
export const SADB_SAFLAGS_NOPMTUDISC = 0x20000000;
export const SADB_SAFLAGS_DECAP_DSCP = 0x40000000;
export const SADB_SAFLAGS_NOECN = 0x80000000;

// SA states.
export const SADB_SASTATE_LARVAL = 0;
export const SADB_SASTATE_MATURE = 1;
export const SADB_SASTATE_DYING = 2;
export const SADB_SASTATE_DEAD = 3;
export const SA_STATE_NAMES: Readonly<Record<number, string>> = { 0: 'larval', 1: 'mature', 2: 'dying', 3: 'dead' };

// SA types (sadb_msg_satype).
export const SADB_SATYPE_UNSPEC = 0;
export const SADB_SATYPE_AH = 2;
export const SADB_SATYPE_ESP = 3;
export const SADB_SATYPE_RSVP = 5;
export const SADB_SATYPE_OSPFV2 = 6;
export const SADB_SATYPE_RIPV2 = 7;
export const SADB_SATYPE_MIP = 8;
export const SADB_X_SATYPE_IPCOMP = 9;
export const SADB_SATYPE_MAX = 9;
export const SATYPE_NAMES: Readonly<Record<number, string>> = { 0: 'unspec', 2: 'ah', 3: 'esp', 5: 'rsvp', 6: 'ospfv2', 7: 'ripv2', 8: 'mip', 9: 'ipcomp' };

export function satypeName(satype: number): string {
  return SATYPE_NAMES[satype] ?? `satype_${satype}`;
}

/** satype -> IP protocol, as af_key's pfkey_satype2proto (0 = not an SA type). */
export function satypeToProto(satype: number): number {
  switch (satype) {
    case SADB_SATYPE_AH:
      return 51;
    case SADB_SATYPE_ESP:
      return 50;
    case SADB_X_SATYPE_IPCOMP:
      return 108;
    default:
      return 0;
  }
}

export function protoToSatype(proto: number): number {
  switch (proto) {
    case 51:
      return SADB_SATYPE_AH;
    case 50:
      return SADB_SATYPE_ESP;
    case 108:
      return SADB_X_SATYPE_IPCOMP;
    default:
      return 0;
  }
}

// Authentication algorithms.
export const SADB_AALG_NONE = 0;
export const SADB_AALG_MD5HMAC = 2;
export const SADB_AALG_SHA1HMAC = 3;
export const SADB_X_AALG_SHA2_256HMAC = 5;
export const SADB_X_AALG_SHA2_384HMAC = 6;
export const SADB_X_AALG_SHA2_512HMAC = 7;
export const SADB_X_AALG_RIPEMD160HMAC = 8;
export const SADB_X_AALG_AES_XCBC_MAC = 9;
export const SADB_X_AALG_SM3_256HMAC = 10;
export const SADB_X_AALG_NULL = 251;
export const SADB_AALG_MAX = 251;
export const AUTH_ALG_NAMES: Readonly<Record<number, string>> = {
  0: 'none', 2: 'hmac(md5)', 3: 'hmac(sha1)', 5: 'hmac(sha256)', 6: 'hmac(sha384)', 7: 'hmac(sha512)',
  8: 'hmac(rmd160)', 9: 'xcbc(aes)', 10: 'hmac(sm3)', 251: 'digest_null',
};

// Encryption algorithms.
export const SADB_EALG_NONE = 0;
export const SADB_EALG_DESCBC = 2;
export const SADB_EALG_3DESCBC = 3;
export const SADB_X_EALG_CASTCBC = 6;
export const SADB_X_EALG_BLOWFISHCBC = 7;
export const SADB_EALG_NULL = 11;
export const SADB_X_EALG_AESCBC = 12;
export const SADB_X_EALG_AESCTR = 13;
export const SADB_X_EALG_AES_CCM_ICV8 = 14;
export const SADB_X_EALG_AES_CCM_ICV12 = 15;
export const SADB_X_EALG_AES_CCM_ICV16 = 16;
export const SADB_X_EALG_AES_GCM_ICV8 = 18;
export const SADB_X_EALG_AES_GCM_ICV12 = 19;
export const SADB_X_EALG_AES_GCM_ICV16 = 20;
export const SADB_X_EALG_CAMELLIACBC = 22;
export const SADB_X_EALG_NULL_AES_GMAC = 23;
export const SADB_X_EALG_SM4CBC = 24;
export const SADB_EALG_MAX = 253;
export const SADB_X_EALG_SERPENTCBC = 252;
export const SADB_X_EALG_TWOFISHCBC = 253;
export const ENC_ALG_NAMES: Readonly<Record<number, string>> = {
  0: 'none', 2: 'cbc(des)', 3: 'cbc(des3_ede)', 6: 'cbc(cast5)', 7: 'cbc(blowfish)', 11: 'ecb(cipher_null)',
  12: 'cbc(aes)', 13: 'rfc3686(ctr(aes))', 14: 'rfc4309(ccm(aes))/64', 15: 'rfc4309(ccm(aes))/96',
  16: 'rfc4309(ccm(aes))/128', 18: 'rfc4106(gcm(aes))/64', 19: 'rfc4106(gcm(aes))/96', 20: 'rfc4106(gcm(aes))/128',
  22: 'cbc(camellia)', 23: 'rfc4543(gcm(aes))', 24: 'cbc(sm4)', 252: 'cbc(serpent)', 253: 'cbc(twofish)',
};

// Compression algorithms (sadb_sa_encrypt is overloaded for IPCOMP SAs).
export const SADB_X_CALG_NONE = 0;
export const SADB_X_CALG_OUI = 1;
export const SADB_X_CALG_DEFLATE = 2;
export const SADB_X_CALG_LZS = 3;
export const SADB_X_CALG_LZJH = 4;
export const SADB_X_CALG_MAX = 4;

// Extension types.
export const SADB_EXT_RESERVED = 0;
export const SADB_EXT_SA = 1;
export const SADB_EXT_LIFETIME_CURRENT = 2;
export const SADB_EXT_LIFETIME_HARD = 3;
export const SADB_EXT_LIFETIME_SOFT = 4;
export const SADB_EXT_ADDRESS_SRC = 5;
export const SADB_EXT_ADDRESS_DST = 6;
export const SADB_EXT_ADDRESS_PROXY = 7;
export const SADB_EXT_KEY_AUTH = 8;
export const SADB_EXT_KEY_ENCRYPT = 9;
export const SADB_EXT_IDENTITY_SRC = 10;
export const SADB_EXT_IDENTITY_DST = 11;
export const SADB_EXT_SENSITIVITY = 12;
export const SADB_EXT_PROPOSAL = 13;
export const SADB_EXT_SUPPORTED_AUTH = 14;
export const SADB_EXT_SUPPORTED_ENCRYPT = 15;
export const SADB_EXT_SPIRANGE = 16;
export const SADB_X_EXT_KMPRIVATE = 17;
export const SADB_X_EXT_POLICY = 18;
export const SADB_X_EXT_SA2 = 19;
export const SADB_X_EXT_NAT_T_TYPE = 20;
export const SADB_X_EXT_NAT_T_SPORT = 21;
export const SADB_X_EXT_NAT_T_DPORT = 22;
export const SADB_X_EXT_NAT_T_OA = 23;
export const SADB_X_EXT_SEC_CTX = 24;
export const SADB_X_EXT_KMADDRESS = 25;
export const SADB_X_EXT_FILTER = 26;
export const SADB_EXT_MAX = 26;

export const EXT_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'SA', 2: 'LIFETIME_CURRENT', 3: 'LIFETIME_HARD', 4: 'LIFETIME_SOFT', 5: 'ADDRESS_SRC', 6: 'ADDRESS_DST',
  7: 'ADDRESS_PROXY', 8: 'KEY_AUTH', 9: 'KEY_ENCRYPT', 10: 'IDENTITY_SRC', 11: 'IDENTITY_DST', 12: 'SENSITIVITY',
  13: 'PROPOSAL', 14: 'SUPPORTED_AUTH', 15: 'SUPPORTED_ENCRYPT', 16: 'SPIRANGE', 17: 'X_KMPRIVATE', 18: 'X_POLICY',
  19: 'X_SA2', 20: 'X_NAT_T_TYPE', 21: 'X_NAT_T_SPORT', 22: 'X_NAT_T_DPORT', 23: 'X_NAT_T_OA', 24: 'X_SEC_CTX',
  25: 'X_KMADDRESS', 26: 'X_FILTER',
};

export function extTypeName(type: number): string {
  return EXT_TYPE_NAMES[type] ?? `ext_${type}`;
}

// Identity types.
export const SADB_IDENTTYPE_RESERVED = 0;
export const SADB_IDENTTYPE_PREFIX = 1;
export const SADB_IDENTTYPE_FQDN = 2;
export const SADB_IDENTTYPE_USERFQDN = 3;

// <linux/ipsec.h>
export const IPSEC_PORT_ANY = 0;
export const IPSEC_ULPROTO_ANY = 255;
export const IPSEC_PROTO_ANY = 255;

export const IPSEC_MODE_ANY = 0;
export const IPSEC_MODE_TRANSPORT = 1;
export const IPSEC_MODE_TUNNEL = 2;
export const IPSEC_MODE_BEET = 3;
export const IPSEC_MODE_NAMES: Readonly<Record<number, string>> = { 0: 'any', 1: 'transport', 2: 'tunnel', 3: 'beet' };

export const IPSEC_DIR_ANY = 0;
export const IPSEC_DIR_INBOUND = 1;
export const IPSEC_DIR_OUTBOUND = 2;
export const IPSEC_DIR_FWD = 3;
export const IPSEC_DIR_MAX = 4;
export const IPSEC_DIR_INVALID = 5;
export const IPSEC_DIR_NAMES: Readonly<Record<number, string>> = { 0: 'any', 1: 'in', 2: 'out', 3: 'fwd' };

export const IPSEC_POLICY_DISCARD = 0;
export const IPSEC_POLICY_NONE = 1;
export const IPSEC_POLICY_IPSEC = 2;
export const IPSEC_POLICY_ENTRUST = 3;
export const IPSEC_POLICY_BYPASS = 4;
export const IPSEC_POLICY_NAMES: Readonly<Record<number, string>> = { 0: 'discard', 1: 'none', 2: 'ipsec', 3: 'entrust', 4: 'bypass' };

export const IPSEC_LEVEL_DEFAULT = 0;
export const IPSEC_LEVEL_USE = 1;
export const IPSEC_LEVEL_REQUIRE = 2;
export const IPSEC_LEVEL_UNIQUE = 3;

export const IPSEC_MANUAL_REQID_MAX = 0x3fff;
export const IPSEC_REPLAYWSIZE = 32;

// Wire sizes of the fixed parts (octets), as the uapi header comments state.
export const SIZEOF = {
  sadb_msg: 16,
  sadb_ext: 4,
  sadb_sa: 16,
  sadb_lifetime: 32,
  sadb_address: 8,
  sadb_key: 8,
  sadb_ident: 16,
  sadb_sens: 16,
  sadb_prop: 8,
  sadb_comb: 72,
  sadb_supported: 8,
  sadb_alg: 8,
  sadb_spirange: 16,
  sadb_x_kmprivate: 8,
  sadb_x_sa2: 16,
  sadb_x_policy: 16,
  sadb_x_ipsecrequest: 16,
  sadb_x_nat_t_type: 8,
  sadb_x_nat_t_port: 8,
  sadb_x_sec_ctx: 8,
  sadb_x_kmaddress: 8,
  sadb_x_filter: 40,
  sockaddr_in: 16,
  sockaddr_in6: 28,
} as const;

/** Smallest legal length of each extension (af_key.c sadb_ext_min_len). */
export const EXT_MIN_LEN: Readonly<Record<number, number>> = {
  [SADB_EXT_SA]: SIZEOF.sadb_sa,
  [SADB_EXT_LIFETIME_CURRENT]: SIZEOF.sadb_lifetime,
  [SADB_EXT_LIFETIME_HARD]: SIZEOF.sadb_lifetime,
  [SADB_EXT_LIFETIME_SOFT]: SIZEOF.sadb_lifetime,
  [SADB_EXT_ADDRESS_SRC]: SIZEOF.sadb_address,
  [SADB_EXT_ADDRESS_DST]: SIZEOF.sadb_address,
  [SADB_EXT_ADDRESS_PROXY]: SIZEOF.sadb_address,
  [SADB_EXT_KEY_AUTH]: SIZEOF.sadb_key,
  [SADB_EXT_KEY_ENCRYPT]: SIZEOF.sadb_key,
  [SADB_EXT_IDENTITY_SRC]: SIZEOF.sadb_ident,
  [SADB_EXT_IDENTITY_DST]: SIZEOF.sadb_ident,
  [SADB_EXT_SENSITIVITY]: SIZEOF.sadb_sens,
  [SADB_EXT_PROPOSAL]: SIZEOF.sadb_prop,
  [SADB_EXT_SUPPORTED_AUTH]: SIZEOF.sadb_supported,
  [SADB_EXT_SUPPORTED_ENCRYPT]: SIZEOF.sadb_supported,
  [SADB_EXT_SPIRANGE]: SIZEOF.sadb_spirange,
  [SADB_X_EXT_KMPRIVATE]: SIZEOF.sadb_x_kmprivate,
  [SADB_X_EXT_POLICY]: SIZEOF.sadb_x_policy,
  [SADB_X_EXT_SA2]: SIZEOF.sadb_x_sa2,
  [SADB_X_EXT_NAT_T_TYPE]: SIZEOF.sadb_x_nat_t_type,
  [SADB_X_EXT_NAT_T_SPORT]: SIZEOF.sadb_x_nat_t_port,
  [SADB_X_EXT_NAT_T_DPORT]: SIZEOF.sadb_x_nat_t_port,
  [SADB_X_EXT_NAT_T_OA]: SIZEOF.sadb_address,
  [SADB_X_EXT_SEC_CTX]: SIZEOF.sadb_x_sec_ctx,
  [SADB_X_EXT_KMADDRESS]: SIZEOF.sadb_x_kmaddress,
  [SADB_X_EXT_FILTER]: SIZEOF.sadb_x_filter,
};

/** Default inbound SPI range af_key uses for GETSPI without SPIRANGE. */
export const DEFAULT_SPI_MIN = 0x100;
export const DEFAULT_SPI_MAX = 0x0fffffff;
