/* Per-CPU counters: global reasons (enum iro_stat) and per-rule hits/mismatches. */
#ifndef IRO_STATS_H
#define IRO_STATS_H

#include "maps.h"

static __always_inline void iro_count(__u32 stat)
{
	__u64 *c = bpf_map_lookup_elem(&iro_stats, &stat);
	if (c) *c += 1;
}

static __always_inline struct iro_rule_stats *iro_rule_counters(__u32 slot)
{
	return bpf_map_lookup_elem(&iro_rule_stats, &slot);
}

#endif
