/* Baseline for benchmarks: the cheapest tc program, so the remap program's cost is reported as
 * a ratio measured in the same run. */
#include "lib/compiler.h"

SEC("tc")
int iro_noop(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
