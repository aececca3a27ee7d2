// XFRM netlink ABI (linux/xfrm.h); values are ABI and stable across kernels.
export const XFRM_MSG_NEWSA = 0x10;
export const XFRM_MSG_DELSA = 0x11;
export const XFRM_MSG_GETSA = 0x12;
export const XFRM_MSG_NEWPOLICY = 0x13;
export const XFRM_MSG_DELPOLICY = 0x14;
export const XFRM_MSG_GETPOLICY = 0x15;
export const XFRM_MSG_ALLOCSPI = 0x16;
export const XFRM_MSG_ACQUIRE = 0x17;
export const XFRM_MSG_EXPIRE = 0x18;
export const XFRM_MSG_UPDPOLICY = 0x19;
export const XFRM_MSG_UPDSA = 0x1a;
export const XFRM_MSG_POLEXPIRE = 0x1b;
export const XFRM_MSG_FLUSHSA = 0x1c;
export const XFRM_MSG_FLUSHPOLICY = 0x1d;
export const XFRM_MSG_NEWAE = 0x1e;
export const XFRM_MSG_GETAE = 0x1f;
export const XFRM_MSG_REPORT = 0x20;
export const XFRM_MSG_MIGRATE = 0x21;
export const XFRM_MSG_MAPPING = 0x26;

export const XFRM_MSG_NAMES: Record<number, string> = {
  0x10: 'NEWSA',
  0x11: 'DELSA',
  0x12: 'GETSA',
  0x13: 'NEWPOLICY',
  0x14: 'DELPOLICY',
  0x15: 'GETPOLICY',
  0x16: 'ALLOCSPI',
  0x17: 'ACQUIRE',
  0x18: 'EXPIRE',
  0x19: 'UPDPOLICY',
  0x1a: 'UPDSA',
  0x1b: 'POLEXPIRE',
  0x1c: 'FLUSHSA',
  0x1d: 'FLUSHPOLICY',
  0x1e: 'NEWAE',
  0x1f: 'GETAE',
  0x20: 'REPORT',
  0x21: 'MIGRATE',
  0x22: 'NEWSADINFO',
  0x23: 'GETSADINFO',
  0x24: 'NEWSPDINFO',
  0x25: 'GETSPDINFO',
  0x26: 'MAPPING',
  0x27: 'SETDEFAULT',
  0x28: 'GETDEFAULT',
};

// multicast groups (enum xfrm_nlgroups)
export const XFRMNLGRP_ACQUIRE = 1;
export const XFRMNLGRP_EXPIRE = 2;
export const XFRMNLGRP_SA = 3;
export const XFRMNLGRP_POLICY = 4;
export const XFRMNLGRP_AEVENTS = 5;
export const XFRMNLGRP_REPORT = 6;
export const XFRMNLGRP_MIGRATE = 7;
export const XFRMNLGRP_MAPPING = 8;

// attributes (enum xfrm_attr_type_t)
export const XFRMA_ALG_AUTH = 1;
export const XFRMA_ALG_CRYPT = 2;
export const XFRMA_ALG_COMP = 3;
export const XFRMA_ENCAP = 4;
export const XFRMA_TMPL = 5;
export const XFRMA_SA = 6;
export const XFRMA_POLICY = 7;
export const XFRMA_SEC_CTX = 8;
export const XFRMA_LTIME_VAL = 9;
export const XFRMA_REPLAY_VAL = 10;
export const XFRMA_REPLAY_THRESH = 11;
export const XFRMA_ETIMER_THRESH = 12;
export const XFRMA_SRCADDR = 13;
export const XFRMA_COADDR = 14;
export const XFRMA_LASTUSED = 15;
export const XFRMA_POLICY_TYPE = 16;
export const XFRMA_MIGRATE = 17;
export const XFRMA_ALG_AEAD = 18;
export const XFRMA_KMADDRESS = 19;
export const XFRMA_ALG_AUTH_TRUNC = 20;
export const XFRMA_MARK = 21;
export const XFRMA_TFCPAD = 22;
export const XFRMA_REPLAY_ESN_VAL = 23;
export const XFRMA_SA_EXTRA_FLAGS = 24;
export const XFRMA_PROTO = 25;
export const XFRMA_ADDRESS_FILTER = 26;
export const XFRMA_PAD = 27;
export const XFRMA_OFFLOAD_DEV = 28;
export const XFRMA_SET_MARK = 29;
export const XFRMA_OUTPUT_MARK = XFRMA_SET_MARK;
export const XFRMA_SET_MARK_MASK = 30;
export const XFRMA_IF_ID = 31;
export const XFRMA_MTIMER_THRESH = 32;
/** kernel >= 6.10 (not in the 6.1 uapi headers) */
export const XFRMA_SA_DIR = 33;

/** Attributes that carry key material: their bytes are never logged or shown. */
export const XFRM_KEY_ATTRIBUTES: ReadonlySet<number> = new Set([XFRMA_ALG_AUTH, XFRMA_ALG_CRYPT, XFRMA_ALG_AEAD, XFRMA_ALG_AUTH_TRUNC, XFRMA_ALG_COMP]);

// modes
export const XFRM_MODE_TRANSPORT = 0;
export const XFRM_MODE_TUNNEL = 1;
export const XFRM_MODE_ROUTEOPTIMIZATION = 2;
export const XFRM_MODE_IN_TRIGGER = 3;
export const XFRM_MODE_BEET = 4;

// policy direction, action, type
export const XFRM_POLICY_IN = 0;
export const XFRM_POLICY_OUT = 1;
export const XFRM_POLICY_FWD = 2;
export const XFRM_POLICY_ALLOW = 0;
export const XFRM_POLICY_BLOCK = 1;
export const XFRM_POLICY_TYPE_MAIN = 0;
export const XFRM_POLICY_TYPE_SUB = 1;
export const XFRM_POLICY_LOCALOK = 1;
export const XFRM_POLICY_ICMP = 2;

// SA direction (XFRMA_SA_DIR)
export const XFRM_SA_DIR_IN = 1;
export const XFRM_SA_DIR_OUT = 2;

// SA flags (xfrm_usersa_info.flags)
export const XFRM_STATE_NOECN = 1;
export const XFRM_STATE_DECAP_DSCP = 2;
export const XFRM_STATE_NOPMTUDISC = 4;
export const XFRM_STATE_WILDRECV = 8;
export const XFRM_STATE_ICMP = 16;
export const XFRM_STATE_AF_UNSPEC = 32;
export const XFRM_STATE_ALIGN4 = 64;
export const XFRM_STATE_ESN = 128;

/** u64 "no limit" in lifetimes */
export const XFRM_INF = 0xffffffffffffffffn;
/** xfrm_usersa_flush.proto value that flushes ESP, AH and IPcomp */
export const IPSEC_PROTO_ANY = 255;

export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_COMP = 108;
