/* The contract between the tc programs and TypeScript (src/datapath/abi.ts). TypeScript checks
 * these layouts against the object's BTF at load time, so any change here that is not mirrored
 * there fails loudly instead of corrupting rules. Multi-byte fields are host order unless named
 * be_* (network order, as on the wire). */
#ifndef IRO_ABI_H
#define IRO_ABI_H

#include <linux/types.h>
#include <linux/in6.h>

enum iro_dir {
	IRO_DIR_IN = 0,
	IRO_DIR_OUT = 1,
};

/* Rule flags (IRO §5.2.1; DIGEST §2.4). At most one src and one dst rule per key. */
enum iro_rule_flag {
	IRO_RULE_SRC = 1 << 0,          /* a source rule is present */
	IRO_RULE_DST = 1 << 1,          /* a destination rule is present */
	IRO_RULE_SRC_WILDCARD = 1 << 2, /* expected source is "::" (incoming MH source rules only) */
	IRO_RULE_SRC_ANC = 1 << 3,      /* new source from the packet's ancillary slot, else new_src */
	IRO_RULE_DST_ANC = 1 << 4,      /* new destination from the ancillary slot, else new_dst if set */
	IRO_RULE_REC_ANC = 1 << 5,      /* record the on-wire addresses for userland (MH SAs) */
	IRO_RULE_DROP_MISMATCH = 1 << 6,/* drop instead of passing a packet whose expectation fails */
};

/* Key: (direction, IPsec protocol, SPI) and, for outgoing rules, the peer address the packet is
 * sent to before remapping (OP-14: outbound SPIs are chosen by different peers). */
struct iro_rule_key {
	__u8 dir;       /* enum iro_dir */
	__u8 proto;     /* IPPROTO_ESP (50) or IPPROTO_AH (51) */
	__u16 pad;
	__be32 be_spi;
	struct in6_addr peer; /* outgoing: pre-remap destination; incoming: all zero */
};

struct iro_rule {
	__u32 flags;    /* enum iro_rule_flag */
	__u32 slot;     /* index into iro_rule_stats */
	__u32 oif;      /* egress: interface to redirect to after a rewrite (0: route lookup) */
	__u32 pad;
	struct in6_addr exp_src;
	struct in6_addr new_src;
	struct in6_addr exp_dst;
	struct in6_addr new_dst;
};

/* Per-rule per-CPU counters. */
struct iro_rule_stats {
	__u64 src_hits;
	__u64 src_mismatch;
	__u64 dst_hits;
	__u64 dst_mismatch;
};

/* Global per-CPU counters: index = enum iro_stat. */
enum iro_stat {
	IRO_STAT_IPSEC = 0,        /* ESP/AH packets seen */
	IRO_STAT_PARSE_ERROR,      /* truncated or malformed headers */
	IRO_STAT_EXT_LIMIT,        /* more extension headers than the walk allows */
	IRO_STAT_UDP_ENCAP,        /* UDP-encapsulated ESP (port 4500), ignored (OP-42) */
	IRO_STAT_UNTRACKED,        /* no rule for the SPI (passed untouched) */
	IRO_STAT_MISS_HOA,         /* unknown SPI from a local HoA to an IRO peer (OP-18) */
	IRO_STAT_MISS_DROP,        /* ... and dropped by the miss policy */
	IRO_STAT_SRC_REWRITE,
	IRO_STAT_DST_REWRITE,
	IRO_STAT_SRC_MISMATCH,
	IRO_STAT_DST_MISMATCH,
	IRO_STAT_MISMATCH_DROP,
	IRO_STAT_ALREADY_REMAPPED, /* seen again after our own redirect: already rewritten */
	IRO_STAT_ANC_OUT_USED,     /* ancillary (mark slot) address used */
	IRO_STAT_ANC_OUT_STALE,    /* mark slot set but empty or expired: fallback used */
	IRO_STAT_ANC_IN_RECORDED,
	IRO_STAT_FRAG_FIRST,       /* first fragment rewritten and remembered */
	IRO_STAT_FRAG_REWRITE,     /* later fragment rewritten from memory */
	IRO_STAT_FRAG_UNMATCHED,   /* later fragment with nothing remembered: passed */
	IRO_STAT_ICMP_REWRITE,     /* ICMPv6 error's embedded header restored (OP-12) */
	IRO_STAT_ICMP_UNMATCHED,
	IRO_STAT_REDIRECT,
	IRO_STAT_FIB_FAIL,
	IRO_STAT_L3_NO_OIF,        /* rewrite on an L3 device without a redirect target */
	IRO_STAT_EVENT_LOST,       /* ring buffer full */
	IRO_STAT_HOA_GUARD_DROP,   /* a packet from a HoA about to leave a foreign link unremapped */
	IRO_STAT__MAX,
};

enum iro_miss_policy {
	IRO_MISS_DROP = 0, /* fail closed: the HoA never leaks onto a foreign link (default) */
	IRO_MISS_PASS = 1,
};

enum iro_cfg_flag {
	IRO_CFG_EVENT_MISMATCH = 1 << 0, /* also emit ring buffer events on expectation mismatches */
	IRO_CFG_ANC_IN_MARK = 1 << 1,    /* tag incoming MH-SA packets with an ancillary slot mark */
	IRO_CFG_HOA_GUARD = 1 << 2,      /* MN away from home: drop anything leaving an Ethernet device
	                                  * with a HoA as source (App. J: never on a foreign link) */
};

/* Single-entry array. */
struct iro_cfg {
	__u32 miss_policy;       /* enum iro_miss_policy */
	__u32 flags;             /* enum iro_cfg_flag */
	__u32 mark_mask;         /* skb->mark bits reserved for ancillary slots (e.g. 0x00ff0000) */
	__u32 mark_shift;        /* trailing zero bits of mark_mask */
	__u64 miss_interval_ns;  /* at most one miss event per (proto, SPI, peer) per interval */
	__u64 frag_ttl_ns;       /* how long a first fragment's rewrite is remembered (OP-13) */
};

/* Outgoing ancillary addresses, written by userland before sendmsg with SO_MARK (OP-10):
 * the on-wire source for SRC_ANC rules and destination for DST_ANC rules ("::" = none), so
 * one packet can carry both (an MN acting as correspondent of another MN). */
struct iro_anc_out {
	struct in6_addr src;
	struct in6_addr dst;
	__u64 expires_ns;        /* bpf_ktime_get_ns() deadline; 0 = never */
};

/* Incoming record of the on-wire addresses before remapping; "::" for an unchanged field
 * (IRO §5.1.1). Kept per (proto, SPI) and, with IRO_CFG_ANC_IN_MARK, per mark slot (OP-11). */
struct iro_anc_in {
	struct in6_addr orig_src;
	struct in6_addr orig_dst;
	__be32 be_spi;
	__be32 be_seq;           /* ESP/AH sequence number, for correlation */
	__u8 proto;
	__u8 pad[3];
	__u32 ifindex;
	__u64 ts_ns;
};

struct iro_anc_in_key {
	__u8 proto;
	__u8 pad[3];
	__be32 be_spi;
};

enum iro_event_kind {
	IRO_EVENT_MISS = 1,      /* unknown SPI from a local HoA to an IRO peer */
	IRO_EVENT_MISMATCH = 2,  /* a rule's expected address did not match */
};

struct iro_event {
	__u32 kind;              /* enum iro_event_kind */
	__u32 ifindex;
	__u8 dir;
	__u8 proto;
	__u8 dropped;            /* 1 if the packet was dropped */
	__u8 pad;
	__be32 be_spi;
	struct in6_addr src;
	struct in6_addr dst;
	__u64 ts_ns;
};

struct iro_miss_key {
	__u8 proto;
	__u8 pad[3];
	__be32 be_spi;
	struct in6_addr dst;
};

/* Fragment memory (OP-13): keyed by the pre-rewrite addresses and the fragment id. */
struct iro_frag_key {
	__u8 dir;
	__u8 pad[3];
	__be32 be_id;
	struct in6_addr src;
	struct in6_addr dst;
};

struct iro_frag_val {
	struct in6_addr new_src;
	struct in6_addr new_dst;
	__u64 ts_ns;
};

/* Membership sets for the miss path: local HoAs and IRO peers. Value: reserved flags. */
struct iro_addr_key {
	struct in6_addr addr;
};

/* Anchors every ABI enum, and the ring buffer record, in BTF (types used only as constants or
 * through casts would otherwise be dropped), so TypeScript can verify them. Value type of the
 * one-entry map iro_abi. */
struct iro_abi_anchor {
	struct iro_event event;
	enum iro_dir dir;
	enum iro_rule_flag rule_flag;
	enum iro_stat stat;
	enum iro_miss_policy miss_policy;
	enum iro_cfg_flag cfg_flag;
	enum iro_event_kind event_kind;
};

#endif
