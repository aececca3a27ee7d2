/* Fragments (OP-13): only the first fragment carries the SPI. Its rewrite is remembered under
 * (direction, fragment id, on-wire addresses) so later fragments get the same addresses;
 * a later fragment with nothing remembered passes untouched and is counted. */
#ifndef IRO_FRAG_H
#define IRO_FRAG_H

#include "config.h"
#include "stats.h"
#include "rewrite.h"
#include "parse.h"

static __always_inline void iro_frag_remember(const struct iro_pkt *p, __u8 dir, const struct in6_addr *new_src,
					      const struct in6_addr *new_dst)
{
	struct iro_frag_key k = { .dir = dir, .be_id = p->be_frag_id };
	iro_addr_copy(&k.src, &p->src);
	iro_addr_copy(&k.dst, &p->dst);
	struct iro_frag_val v = {};
	iro_addr_copy(&v.new_src, new_src);
	iro_addr_copy(&v.new_dst, new_dst);
	v.ts_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&iro_frag, &k, &v, BPF_ANY);
	iro_count(IRO_STAT_FRAG_FIRST);
}

static __always_inline int iro_frag_follow(struct __sk_buff *skb, const struct iro_cfg *cfg, const struct iro_pkt *p,
					   __u8 dir)
{
	struct iro_frag_key k = { .dir = dir, .be_id = p->be_frag_id };
	iro_addr_copy(&k.src, &p->src);
	iro_addr_copy(&k.dst, &p->dst);
	struct iro_frag_val *v = bpf_map_lookup_elem(&iro_frag, &k);
	if (!v || bpf_ktime_get_ns() - v->ts_ns > cfg->frag_ttl_ns) {
		iro_count(IRO_STAT_FRAG_UNMATCHED);
		return IRO_PASS;
	}
	struct in6_addr ns, nd;
	iro_addr_copy(&ns, &v->new_src);
	iro_addr_copy(&nd, &v->new_dst);
	int ingress = dir == IRO_DIR_IN;
	if (!iro_addr_eq(&ns, &p->src) && iro_write_addr(skb, p->l3 + IRO_OFF_SRC, &ns, ingress)) return IRO_DROP;
	if (!iro_addr_eq(&nd, &p->dst) && iro_write_addr(skb, p->l3 + IRO_OFF_DST, &nd, ingress)) return IRO_DROP;
	iro_count(IRO_STAT_FRAG_REWRITE);
	return IRO_PASS;
}

#endif
