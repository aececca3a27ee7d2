/* Programs, links and attachment: BPF_PROG_TEST_RUN, tcx links (kernel >= 6.6), tc clsact
 * filters (the fallback, e.g. 6.1 kernels), pinning, and fd/id plumbing. */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static bool get_fd(napi_env env, napi_value v, const char *what, int *fd)
{
	int32_t x;
	if (!get_i32(env, v, what, &x)) return false;
	if (x < 0) { throw_errno(env, EBADF, what, "negative fd"); return false; }
	*fd = x;
	return true;
}

/* progTestRun(fd, data, repeat, dataOutSize, ctx?) -> {retval, data, durationNs, ctx?}
 * ctx: optional raw context (struct __sk_buff for tc programs: mark, priority, ifindex...),
 * returned as the program left it. */
static napi_value prog_test_run(napi_env env, napi_callback_info info)
{
	napi_value argv[5];
	if (!arg_count(env, info, 5, argv, NULL)) return NULL;
	int fd;
	void *data, *ctx = NULL;
	size_t dlen, clen = 0;
	uint32_t repeat, outsz;
	if (!get_fd(env, argv[0], "fd", &fd) || !get_buffer(env, argv[1], "data", &data, &dlen) ||
	    !get_u32(env, argv[2], "repeat", &repeat) || !get_u32(env, argv[3], "dataOutSize", &outsz))
		return NULL;
	if (!is_nullish(env, argv[4]) && !get_buffer(env, argv[4], "ctx", &ctx, &clen)) return NULL;
	if (outsz > 1 << 20) return throw_arg(env, "dataOutSize is too large");
	if (clen > 4096) return throw_arg(env, "ctx is too large");
	uint8_t *out = malloc(outsz ? outsz : 1);
	uint8_t ctx_out[4096];
	if (!out) return throw_errno(env, ENOMEM, "bpf_prog_test_run_opts", NULL);
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = (uint32_t)dlen,
			    .data_out = out, .data_size_out = outsz, .repeat = repeat);
	if (ctx) {
		opts.ctx_in = ctx;
		opts.ctx_size_in = (uint32_t)clen;
		opts.ctx_out = ctx_out;
		opts.ctx_size_out = (uint32_t)clen;
	}
	int rc = bpf_prog_test_run_opts(fd, &opts);
	if (rc < 0) {
		int err = errno;
		free(out);
		return throw_errno(env, err, "bpf_prog_test_run_opts", NULL);
	}
	napi_value o;
	napi_create_object(env, &o);
	set_prop(env, o, "retval", make_i32(env, (int32_t)opts.retval));
	uint32_t got = opts.data_size_out < outsz ? opts.data_size_out : outsz;
	set_prop(env, o, "data", make_buffer_copy(env, out, got));
	set_prop(env, o, "durationNs", make_u32(env, opts.duration));
	if (ctx) set_prop(env, o, "ctx", make_buffer_copy(env, ctx_out, opts.ctx_size_out < clen ? opts.ctx_size_out : clen));
	free(out);
	return o;
}

/* progInfo(fd) -> {id, type, name, tag, mapIds} */
static napi_value prog_info(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	int fd;
	if (!get_fd(env, argv[0], "fd", &fd)) return NULL;
	uint32_t map_ids[64];
	struct bpf_prog_info pi;
	memset(&pi, 0, sizeof pi);
	pi.nr_map_ids = 64;
	pi.map_ids = (uint64_t)(uintptr_t)map_ids;
	uint32_t len = sizeof pi;
	if (bpf_obj_get_info_by_fd(fd, &pi, &len) < 0) return throw_errno(env, errno, "bpf_obj_get_info_by_fd", NULL);
	napi_value o, ids;
	napi_create_object(env, &o);
	set_prop(env, o, "id", make_u32(env, pi.id));
	set_prop(env, o, "type", make_u32(env, pi.type));
	set_prop(env, o, "name", make_str(env, pi.name));
	char tag[17];
	for (int i = 0; i < 8; i++) snprintf(tag + 2 * i, 3, "%02x", pi.tag[i]);
	set_prop(env, o, "tag", make_str(env, tag));
	set_prop(env, o, "xlatedLength", make_u32(env, pi.xlated_prog_len));
	set_prop(env, o, "jitedLength", make_u32(env, pi.jited_prog_len));
	napi_create_array(env, &ids);
	uint32_t n = pi.nr_map_ids < 64 ? pi.nr_map_ids : 64;
	for (uint32_t i = 0; i < n; i++) napi_set_element(env, ids, i, make_u32(env, map_ids[i]));
	set_prop(env, o, "mapIds", ids);
	return o;
}

/* linkInfo(fd) -> {id, type, progId, ifindex?, attachType?} */
static napi_value link_info(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	int fd;
	if (!get_fd(env, argv[0], "fd", &fd)) return NULL;
	struct bpf_link_info li;
	memset(&li, 0, sizeof li);
	uint32_t len = sizeof li;
	if (bpf_obj_get_info_by_fd(fd, &li, &len) < 0) return throw_errno(env, errno, "bpf_obj_get_info_by_fd", NULL);
	napi_value o;
	napi_create_object(env, &o);
	set_prop(env, o, "id", make_u32(env, li.id));
	set_prop(env, o, "type", make_u32(env, li.type));
	set_prop(env, o, "progId", make_u32(env, li.prog_id));
	/* For tcx links (type 11) the kernel fills {ifindex, attach_type} at the start of the
	 * union, the same layout as netns/xdp-style records. */
	uint32_t words[2];
	memcpy(words, ((uint8_t *)&li) + offsetof(struct bpf_link_info, raw_tracepoint), sizeof words);
	set_prop(env, o, "ifindex", make_u32(env, words[0]));
	set_prop(env, o, "attachType", make_u32(env, words[1]));
	return o;
}

/* objPin(fd, path) */
static napi_value obj_pin(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	int fd;
	char path[4096];
	if (!get_fd(env, argv[0], "fd", &fd) || !get_string(env, argv[1], "path", path, sizeof path)) return NULL;
	if (bpf_obj_pin(fd, path) < 0) return throw_errno(env, errno, "bpf_obj_pin", path);
	return make_undefined(env);
}

/* objGet(path) -> fd */
static napi_value obj_get(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	char path[4096];
	if (!get_string(env, argv[0], "path", path, sizeof path)) return NULL;
	int fd = bpf_obj_get(path);
	if (fd < 0) return throw_errno(env, errno, "bpf_obj_get", path);
	return make_i32(env, fd);
}

/* fdById(kind, id) -> fd; kind: "prog" | "map" | "link" */
static napi_value fd_by_id(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	char kind[8];
	uint32_t id;
	if (!get_string(env, argv[0], "kind", kind, sizeof kind) || !get_u32(env, argv[1], "id", &id)) return NULL;
	int fd;
	if (!strcmp(kind, "prog")) fd = bpf_prog_get_fd_by_id(id);
	else if (!strcmp(kind, "map")) fd = bpf_map_get_fd_by_id(id);
	else if (!strcmp(kind, "link")) fd = bpf_link_get_fd_by_id(id);
	else return throw_arg(env, "kind must be prog, map or link");
	if (fd < 0) {
		char d[64];
		snprintf(d, sizeof d, "%s id %u", kind, id);
		return throw_errno(env, errno, "bpf_get_fd_by_id", d);
	}
	return make_i32(env, fd);
}

static napi_value close_fd(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	int fd;
	if (!get_fd(env, argv[0], "fd", &fd)) return NULL;
	if (fd <= 2) return throw_arg(env, "refusing to close stdio");
	bpf_fd_forget(fd);
	if (close(fd) < 0) return throw_errno(env, errno, "close", NULL);
	return make_undefined(env);
}

/* tcxAttach(progFd, ifindex, attachType) -> linkFd. attachType: 46 ingress, 47 egress.
 * libbpf 1.1 has no tcx API, but bpf_link_create passes the raw attach type through. */
static napi_value tcx_attach(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!arg_count(env, info, 3, argv, NULL)) return NULL;
	int fd;
	uint32_t ifindex, type;
	if (!get_fd(env, argv[0], "progFd", &fd) || !get_u32(env, argv[1], "ifindex", &ifindex) ||
	    !get_u32(env, argv[2], "attachType", &type))
		return NULL;
	int lfd = bpf_link_create(fd, (int)ifindex, (enum bpf_attach_type)type, NULL);
	if (lfd < 0) {
		char d[64];
		snprintf(d, sizeof d, "ifindex %u attach type %u", ifindex, type);
		return throw_errno(env, errno, "bpf_link_create", d);
	}
	return make_i32(env, lfd);
}

static napi_value link_update(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	int lfd, pfd;
	if (!get_fd(env, argv[0], "linkFd", &lfd) || !get_fd(env, argv[1], "progFd", &pfd)) return NULL;
	if (bpf_link_update(lfd, pfd, NULL) < 0) return throw_errno(env, errno, "bpf_link_update", NULL);
	return make_undefined(env);
}

static napi_value link_detach(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	int lfd;
	if (!get_fd(env, argv[0], "linkFd", &lfd)) return NULL;
	if (bpf_link_detach(lfd) < 0) return throw_errno(env, errno, "bpf_link_detach", NULL);
	return make_undefined(env);
}

/* progQuery(ifindex, attachType) -> prog ids attached (tcx and other link-style hooks). */
static napi_value prog_query(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	uint32_t ifindex, type;
	if (!get_u32(env, argv[0], "ifindex", &ifindex) || !get_u32(env, argv[1], "attachType", &type)) return NULL;
	uint32_t ids[64], cnt = 64, aflags = 0;
	if (bpf_prog_query((int)ifindex, (enum bpf_attach_type)type, 0, &aflags, ids, &cnt) < 0)
		return throw_errno(env, errno, "bpf_prog_query", NULL);
	napi_value arr;
	napi_create_array(env, &arr);
	for (uint32_t i = 0; i < cnt && i < 64; i++) napi_set_element(env, arr, i, make_u32(env, ids[i]));
	return arr;
}

static bool get_where(napi_env env, napi_value v, enum bpf_tc_attach_point *where)
{
	uint32_t w;
	if (!get_u32(env, v, "attachPoint", &w)) return false;
	if (w != BPF_TC_INGRESS && w != BPF_TC_EGRESS) { throw_arg(env, "attachPoint must be 1 (ingress) or 2 (egress)"); return false; }
	*where = (enum bpf_tc_attach_point)w;
	return true;
}

/* tcHookCreate(ifindex): add the clsact qdisc; returns false if it already existed. */
static napi_value tc_hook_create(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	uint32_t ifindex;
	if (!get_u32(env, argv[0], "ifindex", &ifindex)) return NULL;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int rc = bpf_tc_hook_create(&hook);
	if (rc == -EEXIST) return make_bool(env, false);
	if (rc < 0) {
		char d[32];
		snprintf(d, sizeof d, "ifindex %u", ifindex);
		return throw_errno(env, -rc, "bpf_tc_hook_create(clsact)", d);
	}
	return make_bool(env, true);
}

/* tcHookDestroy(ifindex): remove the clsact qdisc (and every filter on it). */
static napi_value tc_hook_destroy(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	uint32_t ifindex;
	if (!get_u32(env, argv[0], "ifindex", &ifindex)) return NULL;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int rc = bpf_tc_hook_destroy(&hook);
	if (rc < 0 && rc != -ENOENT && rc != -EINVAL) return throw_errno(env, -rc, "bpf_tc_hook_destroy", NULL);
	return make_bool(env, rc == 0);
}

/* tcAttach(ifindex, where, progFd, handle, priority, replace) -> {handle, priority, progId} */
static napi_value tc_attach(napi_env env, napi_callback_info info)
{
	napi_value argv[6];
	if (!arg_count(env, info, 6, argv, NULL)) return NULL;
	uint32_t ifindex, handle, prio;
	enum bpf_tc_attach_point where;
	int fd;
	bool replace = false;
	if (!get_u32(env, argv[0], "ifindex", &ifindex) || !get_where(env, argv[1], &where) ||
	    !get_fd(env, argv[2], "progFd", &fd) || !get_u32(env, argv[3], "handle", &handle) ||
	    !get_u32(env, argv[4], "priority", &prio))
		return NULL;
	if (!is_nullish(env, argv[5])) napi_get_value_bool(env, argv[5], &replace);
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio, .prog_fd = fd,
			    .flags = replace ? BPF_TC_F_REPLACE : 0);
	int rc = bpf_tc_attach(&hook, &opts);
	if (rc < 0) {
		char d[96];
		snprintf(d, sizeof d, "ifindex %u %s handle %u priority %u", ifindex,
			 where == BPF_TC_INGRESS ? "ingress" : "egress", handle, prio);
		return throw_errno(env, -rc, "bpf_tc_attach", d);
	}
	napi_value o;
	napi_create_object(env, &o);
	set_prop(env, o, "handle", make_u32(env, opts.handle));
	set_prop(env, o, "priority", make_u32(env, opts.priority));
	set_prop(env, o, "progId", make_u32(env, opts.prog_id));
	return o;
}

/* tcDetach(ifindex, where, handle, priority) -> true if removed, false if absent */
static napi_value tc_detach(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	if (!arg_count(env, info, 4, argv, NULL)) return NULL;
	uint32_t ifindex, handle, prio;
	enum bpf_tc_attach_point where;
	if (!get_u32(env, argv[0], "ifindex", &ifindex) || !get_where(env, argv[1], &where) ||
	    !get_u32(env, argv[2], "handle", &handle) || !get_u32(env, argv[3], "priority", &prio))
		return NULL;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio);
	int rc = bpf_tc_detach(&hook, &opts);
	if (rc == -ENOENT || rc == -EINVAL) return make_bool(env, false);
	if (rc < 0) return throw_errno(env, -rc, "bpf_tc_detach", NULL);
	return make_bool(env, true);
}

/* tcQuery(ifindex, where, handle, priority) -> progId | null */
static napi_value tc_query(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	if (!arg_count(env, info, 4, argv, NULL)) return NULL;
	uint32_t ifindex, handle, prio;
	enum bpf_tc_attach_point where;
	if (!get_u32(env, argv[0], "ifindex", &ifindex) || !get_where(env, argv[1], &where) ||
	    !get_u32(env, argv[2], "handle", &handle) || !get_u32(env, argv[3], "priority", &prio))
		return NULL;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio);
	int rc = bpf_tc_query(&hook, &opts);
	if (rc == -ENOENT || rc == -EINVAL) return make_null(env);
	if (rc < 0) return throw_errno(env, -rc, "bpf_tc_query", NULL);
	return make_u32(env, opts.prog_id);
}

void register_bpf_progs(napi_env env, napi_value exports)
{
	export_fn(env, exports, "progTestRun", prog_test_run);
	export_fn(env, exports, "progInfo", prog_info);
	export_fn(env, exports, "linkInfo", link_info);
	export_fn(env, exports, "objPin", obj_pin);
	export_fn(env, exports, "objGet", obj_get);
	export_fn(env, exports, "fdById", fd_by_id);
	export_fn(env, exports, "closeFd", close_fd);
	export_fn(env, exports, "tcxAttach", tcx_attach);
	export_fn(env, exports, "linkUpdate", link_update);
	export_fn(env, exports, "linkDetach", link_detach);
	export_fn(env, exports, "progQuery", prog_query);
	export_fn(env, exports, "tcHookCreate", tc_hook_create);
	export_fn(env, exports, "tcHookDestroy", tc_hook_destroy);
	export_fn(env, exports, "tcAttach", tc_attach);
	export_fn(env, exports, "tcDetach", tc_detach);
	export_fn(env, exports, "tcQuery", tc_query);
}
