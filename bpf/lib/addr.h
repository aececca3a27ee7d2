/* IPv6 address helpers (16-byte compares without memcmp, which BPF lacks). */
#ifndef IRO_ADDR_H
#define IRO_ADDR_H

#include "compiler.h"
#include <linux/in6.h>

static __always_inline int iro_addr_eq(const struct in6_addr *a, const struct in6_addr *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline int iro_addr_zero(const struct in6_addr *a)
{
	const __u64 *x = (const __u64 *)a;
	return (x[0] | x[1]) == 0;
}

static __always_inline void iro_addr_copy(struct in6_addr *dst, const struct in6_addr *src)
{
	__u64 *d = (__u64 *)dst;
	const __u64 *s = (const __u64 *)src;
	d[0] = s[0];
	d[1] = s[1];
}

#endif
