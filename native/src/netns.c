/* Network namespace switching for the calling thread. Sockets and BPF attachments keep the
 * namespace they were created in, so one process can work in several namespaces. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sched.h>
#include <unistd.h>

/* setns(fd, nstype) */
static napi_value do_setns(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	int32_t fd, type;
	if (!get_i32(env, argv[0], "fd", &fd) || !get_i32(env, argv[1], "nstype", &type)) return NULL;
	if (setns(fd, type) < 0) return throw_errno(env, errno, "setns", NULL);
	return make_undefined(env);
}

/* ifNameToIndex(name) -> ifindex | 0 (in the current namespace) */
static napi_value if_index(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	char name[IF_NAMESIZE + 1];
	if (!get_string(env, argv[0], "name", name, sizeof name)) return NULL;
	return make_u32(env, if_nametoindex(name));
}

/* ifHwType(name) -> ARPHRD_* of the interface in the current namespace (1 = Ethernet,
 * 769 = ip6tnl, 65534 = none/xfrm), which decides whether IPv6 starts after a MAC header. */
static napi_value if_hwtype(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	if (!get_string(env, argv[0], "name", ifr.ifr_name, sizeof ifr.ifr_name)) return NULL;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return throw_errno(env, errno, "socket", NULL);
	int rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	int err = errno;
	close(fd);
	if (rc < 0) return throw_errno(env, err, "ioctl(SIOCGIFHWADDR)", ifr.ifr_name);
	return make_u32(env, ifr.ifr_hwaddr.sa_family);
}

void register_netns(napi_env env, napi_value exports)
{
	export_fn(env, exports, "ifHwType", if_hwtype);
	export_fn(env, exports, "setns", do_setns);
	export_fn(env, exports, "ifNameToIndex", if_index);
}
