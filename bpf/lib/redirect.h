/* After an egress rewrite the packet may have to leave elsewhere (OP-27, DESIGN decision 7):
 * - from the MN-HA tunnel device (L3, no MAC header) to the CoA's interface: push an Ethernet
 *   header (zero MACs) and bpf_redirect_neigh(), which routes and resolves the next hop
 *   (measured on 6.1: redirect_neigh alone drops packets without a MAC header); the rule's oif
 *   (MN) or, after a destination rewrite, the FIB's egress device for the new destination (HA);
 * - on an Ethernet device after a destination rewrite: the rule's oif if set, otherwise a FIB
 *   lookup, redirecting when the egress interface or next hop changed. */
#ifndef IRO_REDIRECT_H
#define IRO_REDIRECT_H

#include "stats.h"
#include "parse.h"
#include <linux/if_ether.h>

#ifndef AF_INET6
#define AF_INET6 10
#endif

static __always_inline int iro_redirect_from_l3(struct __sk_buff *skb, __u32 oif)
{
	if (bpf_skb_change_head(skb, IRO_ETH_HLEN, 0)) return IRO_DROP;
	struct ethhdr eth = { .h_proto = bpf_htons(ETH_P_IPV6) };
	if (bpf_skb_store_bytes(skb, 0, &eth, sizeof eth, 0)) return IRO_DROP;
	iro_count(IRO_STAT_REDIRECT);
	return bpf_redirect_neigh(oif, 0, 0, 0);
}

/* The route the kernel would give the rewritten packet, from the device it is on now. */
static __always_inline long iro_fib_output(struct __sk_buff *skb, const struct iro_pkt *p, const struct in6_addr *src,
					   const struct in6_addr *dst, struct bpf_fib_lookup *fib)
{
	fib->family = AF_INET6;
	fib->ifindex = skb->ifindex;
	fib->l4_protocol = p->proto;
	fib->tot_len = skb->len - p->l3;
	__builtin_memcpy(fib->ipv6_src, src, 16);
	__builtin_memcpy(fib->ipv6_dst, dst, 16);
	return bpf_fib_lookup(skb, fib, sizeof *fib, BPF_FIB_LOOKUP_OUTPUT);
}

/* A destination rewrite on an L3 device (a home agent's tunnel to an MN) with no oif in the
 * rule: the FIB says where the new destination is reached; leave the tunnel for that device
 * (the BA to the CoA instead of the HoA route into the tunnel, IRO §7 instead of RH2). */
static __always_inline int iro_reroute_l3(struct __sk_buff *skb, const struct iro_pkt *p, const struct in6_addr *src,
					  const struct in6_addr *dst)
{
	struct bpf_fib_lookup fib = {};
	long rc = iro_fib_output(skb, p, src, dst, &fib);
	if ((rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) || fib.ifindex == skb->ifindex) {
		iro_count(IRO_STAT_L3_NO_OIF);
		return IRO_PASS;
	}
	return iro_redirect_from_l3(skb, fib.ifindex);
}

static __always_inline int iro_reroute_l2(struct __sk_buff *skb, const struct iro_pkt *p, const struct in6_addr *src,
					  const struct in6_addr *dst)
{
	struct bpf_fib_lookup fib = {};
	long rc = iro_fib_output(skb, p, src, dst, &fib);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh nh = { .nh_family = AF_INET6 };
		__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
		iro_count(IRO_STAT_REDIRECT);
		return bpf_redirect_neigh(fib.ifindex, &nh, sizeof nh, 0);
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		/* e.g. FWD_DISABLED when forwarding is off on the device: leave the route as is */
		iro_count(IRO_STAT_FIB_FAIL);
		return IRO_PASS;
	}
	struct ethhdr *eth = (void *)(long)skb->data;
	if ((void *)(eth + 1) > (void *)(long)skb->data_end) return IRO_PASS;
	int same_mac = 1;
#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++) same_mac &= eth->h_dest[i] == fib.dmac[i];
	int same_hop = fib.ifindex == skb->ifindex && same_mac;
	if (same_hop) return IRO_PASS;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	if (fib.ifindex == skb->ifindex) return IRO_PASS;
	iro_count(IRO_STAT_REDIRECT);
	return bpf_redirect(fib.ifindex, 0);
}

#endif
