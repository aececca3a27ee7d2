/* The single-entry runtime configuration, with safe defaults if userland never wrote it. */
#ifndef IRO_CONFIG_H
#define IRO_CONFIG_H

#include "maps.h"

static __always_inline const struct iro_cfg *iro_config(void)
{
	__u32 zero = 0;
	/* An array element always exists; the check only satisfies the verifier. */
	return bpf_map_lookup_elem(&iro_cfg, &zero);
}

#endif
