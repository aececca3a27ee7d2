/* Writing addresses into the IPv6 header. ESP/AH need no checksum fix-up (no pseudo-header);
 * on ingress BPF_F_RECOMPUTE_CSUM keeps a CHECKSUM_COMPLETE skb->csum valid (C16). */
#ifndef IRO_REWRITE_H
#define IRO_REWRITE_H

#include "compiler.h"
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <stddef.h>

#define IRO_OFF_SRC offsetof(struct ipv6hdr, saddr)
#define IRO_OFF_DST offsetof(struct ipv6hdr, daddr)

static __always_inline int iro_write_addr(struct __sk_buff *skb, __u32 off, const struct in6_addr *a, int ingress)
{
	return bpf_skb_store_bytes(skb, off, a, sizeof *a, ingress ? BPF_F_RECOMPUTE_CSUM : 0);
}

#endif
