/* Every map of the data path. Sizes here are defaults; TypeScript sets the capacity of the
 * rule-sized maps before load (bpfObjectSetMaxEntries) and pins all maps under one bpffs dir. */
#ifndef IRO_MAPS_H
#define IRO_MAPS_H

#include "compiler.h"
#include "abi.h"

#define IRO_ANC_SLOTS 256

/* No prealloc: a replaced element is freed only after an RCU grace period, so a packet never
 * reads a rule half-way through an update (C17). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct iro_rule_key);
	__type(value, struct iro_rule);
} iro_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct iro_rule_stats);
} iro_rule_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IRO_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} iro_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iro_cfg);
} iro_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IRO_ANC_SLOTS);
	__type(key, __u32);
	__type(value, struct iro_anc_out);
} iro_anc_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct iro_anc_in_key);
	__type(value, struct iro_anc_in);
} iro_anc_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IRO_ANC_SLOTS);
	__type(key, __u32);
	__type(value, struct iro_anc_in);
} iro_anc_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} iro_anc_seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} iro_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct iro_miss_key);
	__type(value, __u64);
} iro_miss_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct iro_frag_key);
	__type(value, struct iro_frag_val);
} iro_frag SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct iro_addr_key);
	__type(value, __u32);
} iro_hoas SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct iro_addr_key);
	__type(value, __u32);
} iro_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iro_abi_anchor);
} iro_abi SEC(".maps");

#endif
