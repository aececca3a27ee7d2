/* Finding the IPsec header: IPv6 plus a bounded walk over Hop-by-Hop, Routing, Destination
 * Options and Fragment headers (DIGEST §2.4). The common case (ESP right after the IPv6
 * header) uses direct packet access only; extension headers are read with
 * bpf_skb_load_bytes so the walk needs no variable-offset pointer proofs. */
#ifndef IRO_PARSE_H
#define IRO_PARSE_H

#include "compiler.h"
#include "addr.h"
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>

#define IRO_MAX_EXT_HDRS 8

#ifndef NEXTHDR_HOP
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_ESP 50
#define NEXTHDR_AUTH 51
#define NEXTHDR_ICMP 58
#define NEXTHDR_DEST 60
#endif

#define IRO_IPV6_HLEN 40
#define IRO_ETH_HLEN 14
#define IRO_NATT_PORT 4500

enum iro_parse_result {
	IRO_PARSE_OK = 0,
	IRO_PARSE_NOT_IPV6,  /* not for us: pass silently */
	IRO_PARSE_ERROR,     /* truncated or malformed */
	IRO_PARSE_EXT_LIMIT, /* too many extension headers */
};

struct iro_pkt {
	__u32 l3;             /* offset of the IPv6 header */
	__u32 l4;             /* offset of the header after the extension headers */
	/* src/dst are filled by iro_load_addrs(), only for packets that need them */
	__u8 proto;           /* that header's protocol */
	__u8 has_frag;        /* a Fragment header was seen */
	__u8 frag_later;      /* a non-first fragment: no upper header in this packet */
	__u8 pad;
	__be32 be_frag_id;
	struct in6_addr src;  /* as on the wire */
	struct in6_addr dst;
};

struct iro_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 be_frag_off; /* offset (13 bits) << 3 | M */
	__be32 be_id;
};

/* Parse from l3 (0 on an L3 device, 14 after an Ethernet header). */
static __always_inline int iro_parse(struct __sk_buff *skb, const __u32 l3, struct iro_pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	if (l3) {
		struct ethhdr *eth = data;
		if ((void *)(eth + 1) > end) return IRO_PARSE_NOT_IPV6;
		if (eth->h_proto != bpf_htons(ETH_P_IPV6)) return IRO_PARSE_NOT_IPV6;
	} else if (skb->protocol != bpf_htons(ETH_P_IPV6)) {
		return IRO_PARSE_NOT_IPV6;
	}
	struct ipv6hdr *ip6 = data + l3;
	if ((void *)(ip6 + 1) > end) return IRO_PARSE_ERROR;
	if (ip6->version != 6) return IRO_PARSE_ERROR;

	p->l3 = l3;
	p->has_frag = 0;
	p->frag_later = 0;
	__u8 nh = ip6->nexthdr;
	__u32 off = l3 + IRO_IPV6_HLEN;
	/* Most traffic is neither IPsec nor behind extension headers: leave at once. */
	if (nh != NEXTHDR_ESP && nh != NEXTHDR_AUTH && nh != NEXTHDR_HOP && nh != NEXTHDR_ROUTING &&
	    nh != NEXTHDR_DEST && nh != NEXTHDR_FRAGMENT && nh != IPPROTO_UDP && nh != NEXTHDR_ICMP) {
		p->proto = nh;
		p->l4 = off;
		return IRO_PARSE_OK;
	}

	for (int i = 0; i < IRO_MAX_EXT_HDRS; i++) {
		if (nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING || nh == NEXTHDR_DEST) {
			__u8 h[2];
			if (bpf_skb_load_bytes(skb, off, h, sizeof h)) return IRO_PARSE_ERROR;
			nh = h[0];
			off += ((__u32)h[1] + 1) * 8;
		} else if (nh == NEXTHDR_FRAGMENT) {
			struct iro_frag_hdr f;
			if (bpf_skb_load_bytes(skb, off, &f, sizeof f)) return IRO_PARSE_ERROR;
			p->has_frag = 1;
			p->be_frag_id = f.be_id;
			off += sizeof f;
			nh = f.nexthdr;
			if (f.be_frag_off & bpf_htons(0xfff8)) {
				p->frag_later = 1;
				p->proto = nh;
				p->l4 = off;
				return IRO_PARSE_OK;
			}
		} else {
			p->proto = nh;
			p->l4 = off;
			return IRO_PARSE_OK;
		}
	}
	return IRO_PARSE_EXT_LIMIT;
}

/* Copy the on-wire addresses (only done once the packet is known to matter). */
static __always_inline int iro_load_addrs(struct __sk_buff *skb, struct iro_pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6 = data + p->l3;
	if ((void *)(ip6 + 1) > end) return -1;
	iro_addr_copy(&p->src, &ip6->saddr);
	iro_addr_copy(&p->dst, &ip6->daddr);
	return 0;
}

/* SPI and sequence number: ESP {spi, seq} at +0, AH {next, len, rsvd, spi, seq} at +4. */
static __always_inline int iro_load_spi_seq(struct __sk_buff *skb, const struct iro_pkt *p, __be32 *spi, __be32 *seq)
{
	__u32 off = p->l4 + (p->proto == NEXTHDR_AUTH ? 4 : 0);
	__be32 w[2];
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	/* Fast path: no extension headers, so the offset is one of two constants. */
	if (p->l4 == p->l3 + IRO_IPV6_HLEN) {
		__u32 base = p->l3 + IRO_IPV6_HLEN;
		__be32 *hdr = data + base;
		if ((void *)(hdr + 3) > end) return -1;
		if (p->proto == NEXTHDR_AUTH) {
			*spi = hdr[1];
			*seq = hdr[2];
		} else {
			*spi = hdr[0];
			*seq = hdr[1];
		}
		return 0;
	}
	if (bpf_skb_load_bytes(skb, off, w, sizeof w)) return -1;
	*spi = w[0];
	*seq = w[1];
	return 0;
}

/* UDP-encapsulated ESP (RFC 3948) on port 4500, either direction. */
static __always_inline int iro_is_udp_encap(struct __sk_buff *skb, const struct iro_pkt *p)
{
	__be16 ports[2];
	if (bpf_skb_load_bytes(skb, p->l4, ports, sizeof ports)) return 0;
	return ports[0] == bpf_htons(IRO_NATT_PORT) || ports[1] == bpf_htons(IRO_NATT_PORT);
}

#endif
