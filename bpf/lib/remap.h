/* Applying a remapping rule (IRO §5.1.2, §5.1.3): source and destination rules are checked and
 * applied independently; an expected address must match (":: " matches any source on
 * incoming MH source rules); a packet already carrying the remapped value (seen again after
 * our own redirect, or an incoming packet that came through the HA tunnel) is left alone and
 * is not a mismatch. */
#ifndef IRO_REMAP_H
#define IRO_REMAP_H

#include "ancillary.h"
#include "events.h"
#include "frag.h"
#include "redirect.h"
#include "rewrite.h"

enum iro_check {
	IRO_CHECK_NONE = 0, /* no rule for this field */
	IRO_CHECK_HIT,      /* expectation met: rewrite to the target (if any) */
	IRO_CHECK_ALREADY,  /* the field already holds the remapped value */
	IRO_CHECK_MISMATCH,
};

static __always_inline int iro_check(const struct in6_addr *actual, const struct in6_addr *expected, int wildcard,
				     const struct in6_addr *target)
{
	if (wildcard || iro_addr_eq(actual, expected)) return IRO_CHECK_HIT;
	if (target && iro_addr_eq(actual, target)) return IRO_CHECK_ALREADY;
	return IRO_CHECK_MISMATCH;
}

static __always_inline int iro_apply(struct __sk_buff *skb, const struct iro_pkt *p, const struct iro_rule *r,
				     const __u8 dir, const int l3dev, __be32 spi, __be32 seq)
{
	const struct iro_cfg *cfg = iro_config();
	if (!cfg) return IRO_PASS;
	__u32 flags = r->flags;
	struct iro_rule_stats *rs = iro_rule_counters(r->slot);

	/* Ancillary addresses for outgoing MH packets (rule 1 on the MN, rule 3 on the CN). */
	const struct in6_addr *anc_src = 0, *anc_dst = 0;
	if (dir == IRO_DIR_OUT && (flags & (IRO_RULE_SRC_ANC | IRO_RULE_DST_ANC))) {
		__u32 slot = iro_anc_slot(skb, cfg);
		if (slot) {
			const struct iro_anc_out *a = iro_anc_out_get(slot);
			if (a) {
				if (!iro_addr_zero(&a->src)) anc_src = &a->src;
				if (!iro_addr_zero(&a->dst)) anc_dst = &a->dst;
			}
			iro_count(a ? IRO_STAT_ANC_OUT_USED : IRO_STAT_ANC_OUT_STALE);
			iro_anc_clear_mark(skb, cfg);
		}
	}

	struct in6_addr new_src, new_dst;
	iro_addr_copy(&new_src, &p->src);
	iro_addr_copy(&new_dst, &p->dst);
	int src_changed = 0, dst_changed = 0, mismatch = 0;

	if (flags & IRO_RULE_SRC) {
		const struct in6_addr *target = (flags & IRO_RULE_SRC_ANC) && anc_src ? anc_src : &r->new_src;
		int c = iro_check(&p->src, &r->exp_src, flags & IRO_RULE_SRC_WILDCARD, target);
		if (c == IRO_CHECK_HIT) {
			if (rs) rs->src_hits++;
			if (!iro_addr_zero(target) && !iro_addr_eq(target, &p->src)) {
				iro_addr_copy(&new_src, target);
				src_changed = 1;
			}
		} else if (c == IRO_CHECK_MISMATCH) {
			if (rs) rs->src_mismatch++;
			iro_count(IRO_STAT_SRC_MISMATCH);
			mismatch = 1;
		} else {
			iro_count(IRO_STAT_ALREADY_REMAPPED);
		}
	}
	if (flags & IRO_RULE_DST) {
		/* rule 3: with no ancillary address and no static one, no destination remap */
		const struct in6_addr *target = (flags & IRO_RULE_DST_ANC) && anc_dst ? anc_dst : &r->new_dst;
		int c = iro_check(&p->dst, &r->exp_dst, 0, target);
		if (c == IRO_CHECK_HIT) {
			if (rs) rs->dst_hits++;
			if (!iro_addr_zero(target) && !iro_addr_eq(target, &p->dst)) {
				iro_addr_copy(&new_dst, target);
				dst_changed = 1;
			}
		} else if (c == IRO_CHECK_MISMATCH) {
			if (rs) rs->dst_mismatch++;
			iro_count(IRO_STAT_DST_MISMATCH);
			mismatch = 1;
		} else {
			iro_count(IRO_STAT_ALREADY_REMAPPED);
		}
	}

	if (mismatch) {
		int drop = (flags & IRO_RULE_DROP_MISMATCH) != 0;
		if (cfg->flags & IRO_CFG_EVENT_MISMATCH) iro_emit(skb, IRO_EVENT_MISMATCH, dir, p, spi, drop);
		if (drop) {
			iro_count(IRO_STAT_MISMATCH_DROP);
			return IRO_DROP;
		}
	}

	int ingress = dir == IRO_DIR_IN;
	if (src_changed) {
		if (iro_write_addr(skb, p->l3 + IRO_OFF_SRC, &new_src, ingress)) return IRO_DROP;
		iro_count(IRO_STAT_SRC_REWRITE);
	}
	if (dst_changed) {
		if (iro_write_addr(skb, p->l3 + IRO_OFF_DST, &new_dst, ingress)) return IRO_DROP;
		iro_count(IRO_STAT_DST_REWRITE);
	}
	if (ingress && (flags & IRO_RULE_REC_ANC)) iro_anc_record(skb, cfg, p, spi, seq, src_changed, dst_changed);
	if (p->has_frag && (src_changed || dst_changed)) iro_frag_remember(p, dir, &new_src, &new_dst);

	if (ingress || !(src_changed || dst_changed)) return IRO_PASS;
	if (l3dev) {
		if (r->oif) return iro_redirect_from_l3(skb, r->oif);
		if (dst_changed) return iro_reroute_l3(skb, p, &new_src, &new_dst);
		iro_count(IRO_STAT_L3_NO_OIF);
		return IRO_PASS;
	}
	if (r->oif && r->oif != skb->ifindex) {
		iro_count(IRO_STAT_REDIRECT);
		return bpf_redirect_neigh(r->oif, 0, 0, 0);
	}
	if (dst_changed && !r->oif) return iro_reroute_l2(skb, p, &new_src, &new_dst);
	return IRO_PASS;
}

/* No rule for the SPI. Outgoing ESP/AH from a local HoA to an IRO peer is the fail-closed case
 * of OP-18 on a device where it would leave directly; on the MN-HA tunnel device (l3dev) the
 * packet is safe inside the tunnel, so it is reported and tunnelled. */
static __always_inline int iro_miss(struct __sk_buff *skb, const struct iro_pkt *p, const __u8 dir, const int l3dev,
				    __be32 spi)
{
	if (dir != IRO_DIR_OUT) {
		iro_count(IRO_STAT_UNTRACKED);
		return IRO_PASS;
	}
	struct iro_addr_key a;
	iro_addr_copy(&a.addr, &p->src);
	if (!bpf_map_lookup_elem(&iro_hoas, &a)) {
		iro_count(IRO_STAT_UNTRACKED);
		return IRO_PASS;
	}
	iro_addr_copy(&a.addr, &p->dst);
	if (!bpf_map_lookup_elem(&iro_peers, &a)) {
		iro_count(IRO_STAT_UNTRACKED);
		return IRO_PASS;
	}
	const struct iro_cfg *cfg = iro_config();
	if (!cfg) return IRO_PASS;
	iro_count(IRO_STAT_MISS_HOA);
	int drop = !l3dev && cfg->miss_policy == IRO_MISS_DROP;
	if (iro_miss_due(cfg, p, spi)) iro_emit(skb, IRO_EVENT_MISS, dir, p, spi, drop);
	if (drop) {
		iro_count(IRO_STAT_MISS_DROP);
		return IRO_DROP;
	}
	return IRO_PASS;
}

#endif
