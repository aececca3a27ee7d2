/* Ring buffer events for userland: misses (unknown SPI from a local HoA to an IRO peer, OP-18)
 * and, when enabled, expectation mismatches. Misses are de-duplicated per (proto, SPI, peer)
 * and interval so a flow with an unknown SPI cannot flood userland. */
#ifndef IRO_EVENTS_H
#define IRO_EVENTS_H

#include "config.h"
#include "stats.h"
#include "addr.h"
#include "parse.h"

static __always_inline void iro_emit(struct __sk_buff *skb, __u32 kind, __u8 dir, const struct iro_pkt *p,
				     __be32 spi, __u8 dropped)
{
	struct iro_event *e = bpf_ringbuf_reserve(&iro_events, sizeof *e, 0);
	if (!e) {
		iro_count(IRO_STAT_EVENT_LOST);
		return;
	}
	e->kind = kind;
	e->ifindex = skb->ifindex;
	e->dir = dir;
	e->proto = p->proto;
	e->dropped = dropped;
	e->pad = 0;
	e->be_spi = spi;
	iro_addr_copy(&e->src, &p->src);
	iro_addr_copy(&e->dst, &p->dst);
	e->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
}

/* True if a miss event for this (proto, SPI, peer) is due. */
static __always_inline int iro_miss_due(const struct iro_cfg *cfg, const struct iro_pkt *p, __be32 spi)
{
	struct iro_miss_key k = { .proto = p->proto, .be_spi = spi };
	iro_addr_copy(&k.dst, &p->dst);
	__u64 now = bpf_ktime_get_ns();
	__u64 *last = bpf_map_lookup_elem(&iro_miss_seen, &k);
	if (last && now - *last < cfg->miss_interval_ns) return 0;
	bpf_map_update_elem(&iro_miss_seen, &k, &now, BPF_ANY);
	return 1;
}

#endif
