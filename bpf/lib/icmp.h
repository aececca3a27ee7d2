/* ICMPv6 errors about our own remapped packets (OP-12): a Destination Unreachable, Packet Too
 * Big or Time Exceeded embedding an ESP/AH packet we sent carries the on-wire (remapped)
 * addresses. Restoring the pre-remap addresses in the embedded header lets the kernel match
 * the error to the right SA and route (PMTU), so the ICMPv6 checksum is fixed by the delta. */
#ifndef IRO_ICMP_H
#define IRO_ICMP_H

#include "config.h"
#include "stats.h"
#include "addr.h"
#include "parse.h"
#include "rewrite.h"

#define IRO_ICMP6_DST_UNREACH 1
#define IRO_ICMP6_PKT_TOOBIG 2
#define IRO_ICMP6_TIME_EXCEED 3
#define IRO_ICMP6_HLEN 8

static __always_inline int iro_icmp_fix(struct __sk_buff *skb, __u32 csum_off, __u32 addr_off,
					const struct in6_addr *from, const struct in6_addr *to)
{
	__s64 diff = bpf_csum_diff((__be32 *)from, 16, (__be32 *)to, 16, 0);
	if (diff < 0) return -1;
	/* No BPF_F_RECOMPUTE_CSUM: the address delta and the checksum delta cancel out in a
	 * CHECKSUM_COMPLETE sum, so skb->csum stays valid. */
	if (bpf_skb_store_bytes(skb, addr_off, to, 16, 0)) return -1;
	return bpf_l4_csum_replace(skb, csum_off, 0, (__u32)diff, 0);
}

static __always_inline int iro_icmp_error(struct __sk_buff *skb, const struct iro_pkt *p)
{
	__u8 type;
	if (bpf_skb_load_bytes(skb, p->l4, &type, 1)) return IRO_PASS;
	if (type != IRO_ICMP6_DST_UNREACH && type != IRO_ICMP6_PKT_TOOBIG && type != IRO_ICMP6_TIME_EXCEED)
		return IRO_PASS;
	__u32 inner = p->l4 + IRO_ICMP6_HLEN;
	struct ipv6hdr ip;
	if (bpf_skb_load_bytes(skb, inner, &ip, sizeof ip)) return IRO_PASS;
	if (ip.nexthdr != NEXTHDR_ESP && ip.nexthdr != NEXTHDR_AUTH) return IRO_PASS;
	__be32 spi;
	__u32 spi_off = inner + IRO_IPV6_HLEN + (ip.nexthdr == NEXTHDR_AUTH ? 4 : 0);
	if (bpf_skb_load_bytes(skb, spi_off, &spi, sizeof spi)) return IRO_PASS;

	struct iro_rule_key k = { .dir = IRO_DIR_OUT, .proto = ip.nexthdr, .be_spi = spi };
	iro_addr_copy(&k.peer, &ip.daddr);
	struct iro_rule *r = bpf_map_lookup_elem(&iro_rules, &k);
	if (!r) {
		iro_count(IRO_STAT_ICMP_UNMATCHED);
		return IRO_PASS;
	}
	struct in6_addr exp_src, new_src;
	iro_addr_copy(&exp_src, &r->exp_src);
	iro_addr_copy(&new_src, &r->new_src);
	int done = 0;
	if ((r->flags & IRO_RULE_SRC) && !iro_addr_zero(&new_src) && iro_addr_eq(&ip.saddr, &new_src)) {
		if (iro_icmp_fix(skb, p->l4 + 2, inner + IRO_OFF_SRC, &new_src, &exp_src)) return IRO_PASS;
		done = 1;
	}
	iro_count(done ? IRO_STAT_ICMP_REWRITE : IRO_STAT_ICMP_UNMATCHED);
	return IRO_PASS;
}

#endif
