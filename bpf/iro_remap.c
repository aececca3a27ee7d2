/* The IRO remapping programs (IRO §5; DESIGN decisions 4-7). Four entry points: ingress and
 * egress, for Ethernet-like devices (IPv6 after a 14-byte MAC header) and for L3 devices such
 * as the MN-HA ip6tnl/xfrm tunnel (IPv6 at offset 0). */
#include "lib/compiler.h"
#include "lib/abi.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/remap.h"
#include "lib/icmp.h"
#include "lib/rewrite.h"

/* The HoA guard (IRO App. J, DESIGN decision 6): away from home, nothing may leave a foreign
 * link with a HoA as source — not even a packet the kernel sourced from the HoA after routing
 * (e.g. an ICMPv6 error), which the `from HoA` rule never saw. Reads the source as it is now. */
static __always_inline int iro_hoa_leaks(struct __sk_buff *skb, const __u32 l3)
{
	struct iro_addr_key a;
	if (bpf_skb_load_bytes(skb, l3 + IRO_OFF_SRC, &a.addr, sizeof a.addr)) return 0;
	return bpf_map_lookup_elem(&iro_hoas, &a) != 0;
}

static __always_inline int iro_guard(struct __sk_buff *skb, const __u32 l3, const __u8 dir, const int l3dev, int verdict)
{
	if (dir != IRO_DIR_OUT || l3dev || verdict != IRO_PASS) return verdict;
	const struct iro_cfg *cfg = iro_config();
	if (!cfg || !(cfg->flags & IRO_CFG_HOA_GUARD)) return verdict;
	if (!iro_hoa_leaks(skb, l3)) return verdict;
	iro_count(IRO_STAT_HOA_GUARD_DROP);
	return IRO_DROP;
}

static __always_inline int iro_process(struct __sk_buff *skb, const __u32 l3, const __u8 dir, const int l3dev)
{
	struct iro_pkt p;
	int rc = iro_parse(skb, l3, &p);
	if (rc != IRO_PARSE_OK) {
		if (rc == IRO_PARSE_ERROR) iro_count(IRO_STAT_PARSE_ERROR);
		else if (rc == IRO_PARSE_EXT_LIMIT) iro_count(IRO_STAT_EXT_LIMIT);
		return rc == IRO_PARSE_NOT_IPV6 ? IRO_PASS : iro_guard(skb, l3, dir, l3dev, IRO_PASS);
	}
	if (p.proto != NEXTHDR_ESP && p.proto != NEXTHDR_AUTH) {
		if (p.frag_later) return iro_guard(skb, l3, dir, l3dev, IRO_PASS);
		if (p.proto == IPPROTO_UDP) {
			if (iro_is_udp_encap(skb, &p)) iro_count(IRO_STAT_UDP_ENCAP);
			return iro_guard(skb, l3, dir, l3dev, IRO_PASS);
		}
		if (p.proto == NEXTHDR_ICMP && dir == IRO_DIR_IN) return iro_icmp_error(skb, &p);
		return iro_guard(skb, l3, dir, l3dev, IRO_PASS);
	}
	if (iro_load_addrs(skb, &p)) {
		iro_count(IRO_STAT_PARSE_ERROR);
		return IRO_PASS;
	}
	if (p.frag_later) {
		const struct iro_cfg *cfg = iro_config();
		return iro_guard(skb, l3, dir, l3dev, cfg ? iro_frag_follow(skb, cfg, &p, dir) : IRO_PASS);
	}
	__be32 spi, seq;
	if (iro_load_spi_seq(skb, &p, &spi, &seq)) {
		iro_count(IRO_STAT_PARSE_ERROR);
		return IRO_PASS;
	}
	iro_count(IRO_STAT_IPSEC);
	struct iro_rule_key k = { .dir = dir, .proto = p.proto, .be_spi = spi };
	if (dir == IRO_DIR_OUT) iro_addr_copy(&k.peer, &p.dst);
	struct iro_rule *r = bpf_map_lookup_elem(&iro_rules, &k);
	int verdict = r ? iro_apply(skb, &p, r, dir, l3dev, spi, seq) : iro_miss(skb, &p, dir, l3dev, spi);
	return iro_guard(skb, l3, dir, l3dev, verdict);
}

SEC("tc")
int iro_ingress(struct __sk_buff *skb)
{
	return iro_process(skb, IRO_ETH_HLEN, IRO_DIR_IN, 0);
}

SEC("tc")
int iro_egress(struct __sk_buff *skb)
{
	return iro_process(skb, IRO_ETH_HLEN, IRO_DIR_OUT, 0);
}

SEC("tc")
int iro_ingress_l3(struct __sk_buff *skb)
{
	return iro_process(skb, 0, IRO_DIR_IN, 1);
}

SEC("tc")
int iro_egress_l3(struct __sk_buff *skb)
{
	return iro_process(skb, 0, IRO_DIR_OUT, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
