/* The IRO remapping programs (IRO §5; DESIGN decisions 4-7). Four entry points: ingress and
 * egress, for Ethernet-like devices (IPv6 after a 14-byte MAC header) and for L3 devices such
 * as the MN-HA ip6tnl/xfrm tunnel (IPv6 at offset 0). */
#include "lib/compiler.h"
#include "lib/abi.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/remap.h"
#include "lib/icmp.h"

static __always_inline int iro_process(struct __sk_buff *skb, const __u32 l3, const __u8 dir, const int l3dev)
{
	struct iro_pkt p;
	int rc = iro_parse(skb, l3, &p);
	if (rc != IRO_PARSE_OK) {
		if (rc == IRO_PARSE_ERROR) iro_count(IRO_STAT_PARSE_ERROR);
		else if (rc == IRO_PARSE_EXT_LIMIT) iro_count(IRO_STAT_EXT_LIMIT);
		return IRO_PASS;
	}
	if (p.proto != NEXTHDR_ESP && p.proto != NEXTHDR_AUTH) {
		if (p.frag_later) return IRO_PASS;
		if (p.proto == IPPROTO_UDP) {
			if (iro_is_udp_encap(skb, &p)) iro_count(IRO_STAT_UDP_ENCAP);
			return IRO_PASS;
		}
		if (p.proto == NEXTHDR_ICMP && dir == IRO_DIR_IN) return iro_icmp_error(skb, &p);
		return IRO_PASS;
	}
	if (iro_load_addrs(skb, &p)) {
		iro_count(IRO_STAT_PARSE_ERROR);
		return IRO_PASS;
	}
	if (p.frag_later) {
		const struct iro_cfg *cfg = iro_config();
		return cfg ? iro_frag_follow(skb, cfg, &p, dir) : IRO_PASS;
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
	if (!r) return iro_miss(skb, &p, dir, l3dev, spi);
	return iro_apply(skb, &p, r, dir, l3dev, spi, seq);
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
