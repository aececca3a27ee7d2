/* The ancillary channel (IRO §5.1.1; DESIGN decision 5; OP-10/OP-11).
 * Out: userland sends an MH packet with SO_MARK carrying a slot number in the reserved mark
 *      bits; the slot's address in iro_anc_out becomes the on-wire address. The bits are
 *      cleared before the packet leaves.
 * In:  for rules flagged REC_ANC (MH SAs) the on-wire addresses before remapping are recorded
 *      per (proto, SPI) and, if enabled, in a ring slot whose number is put in the packet's mark
 *      so the MH socket reads it back exactly with SO_RCVMARK. "::" = unchanged field. */
#ifndef IRO_ANCILLARY_H
#define IRO_ANCILLARY_H

#include "config.h"
#include "stats.h"
#include "addr.h"
#include "parse.h"

/* The slot carried by an outgoing packet, 0 if none. */
static __always_inline __u32 iro_anc_slot(const struct __sk_buff *skb, const struct iro_cfg *cfg)
{
	if (!cfg->mark_mask) return 0;
	return (skb->mark & cfg->mark_mask) >> (cfg->mark_shift & 31);
}

/* The addresses of an outgoing slot, or NULL if the slot is unset or expired. */
static __always_inline const struct iro_anc_out *iro_anc_out_get(__u32 slot)
{
	struct iro_anc_out *a = bpf_map_lookup_elem(&iro_anc_out, &slot);
	if (!a || (iro_addr_zero(&a->src) && iro_addr_zero(&a->dst))) return 0;
	if (a->expires_ns && bpf_ktime_get_ns() > a->expires_ns) return 0;
	return a;
}

static __always_inline void iro_anc_clear_mark(struct __sk_buff *skb, const struct iro_cfg *cfg)
{
	skb->mark &= ~cfg->mark_mask;
}

static __always_inline void iro_anc_record(struct __sk_buff *skb, const struct iro_cfg *cfg,
					   const struct iro_pkt *p, __be32 spi, __be32 seq,
					   int src_changed, int dst_changed)
{
	struct iro_anc_in rec = {};
	if (src_changed) iro_addr_copy(&rec.orig_src, &p->src);
	if (dst_changed) iro_addr_copy(&rec.orig_dst, &p->dst);
	rec.be_spi = spi;
	rec.be_seq = seq;
	rec.proto = p->proto;
	rec.ifindex = skb->ifindex;
	rec.ts_ns = bpf_ktime_get_ns();

	struct iro_anc_in_key k = { .proto = p->proto, .be_spi = spi };
	bpf_map_update_elem(&iro_anc_in, &k, &rec, BPF_ANY);
	iro_count(IRO_STAT_ANC_IN_RECORDED);

	if (!(cfg->flags & IRO_CFG_ANC_IN_MARK) || !cfg->mark_mask) return;
	__u32 nslots = cfg->mark_mask >> (cfg->mark_shift & 31);
	if (nslots >= IRO_ANC_SLOTS) nslots = IRO_ANC_SLOTS - 1;
	if (!nslots) return;
	__u32 zero = 0;
	__u32 *seqp = bpf_map_lookup_elem(&iro_anc_seq, &zero);
	if (!seqp) return;
	/* slots 1..nslots; 0 means "no record" */
	__u32 slot = __sync_fetch_and_add(seqp, 1) % nslots + 1;
	struct iro_anc_in *ring = bpf_map_lookup_elem(&iro_anc_ring, &slot);
	if (!ring) return;
	*ring = rec;
	skb->mark = (skb->mark & ~cfg->mark_mask) | ((slot << (cfg->mark_shift & 31)) & cfg->mark_mask);
}

#endif
