/* Compiler and helper boilerplate shared by every program. */
#ifndef IRO_COMPILER_H
#define IRO_COMPILER_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* TC_ACT_UNSPEC lets later programs on the hook run (tcx "next"); with a single clsact filter
 * it means pass. */
#define IRO_PASS TC_ACT_UNSPEC
#define IRO_DROP TC_ACT_SHOT

#endif
