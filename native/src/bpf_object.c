/* libbpf objects: open, size maps, reuse pinned maps, load, hand out dup'ed fds, and
 * describe the object's BTF so TypeScript can check its struct layouts against C. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

typedef struct {
	struct bpf_object *obj;
	bool loaded;
} objh_t;

static void obj_finalize(napi_env env, void *data, void *hint)
{
	objh_t *h = data;
	if (h->obj) bpf_object__close(h->obj);
	free(h);
}

static objh_t *get_obj(napi_env env, napi_value v)
{
	void *data = NULL;
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t != napi_external || napi_get_value_external(env, v, &data) != napi_ok || !data) {
		throw_arg(env, "expected a BPF object handle");
		return NULL;
	}
	objh_t *h = data;
	if (!h->obj) {
		throw_errno(env, EBADF, "bpf_object", "the object is closed");
		return NULL;
	}
	return h;
}

static napi_value obj_open(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	char path[4096];
	if (!get_string(env, argv[0], "path", path, sizeof path)) return NULL;
	bpf_log_reset();
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		int err = errno;
		char d[4200 + 1024];
		snprintf(d, sizeof d, "object %s\n%s", path, bpf_log_text());
		return throw_errno(env, err, "bpf_object__open_file", d);
	}
	objh_t *h = calloc(1, sizeof *h);
	h->obj = obj;
	napi_value ext;
	napi_create_external(env, h, obj_finalize, NULL, &ext);
	return ext;
}

static struct bpf_map *find_map(napi_env env, objh_t *h, napi_value name_v, char *name, size_t namesz)
{
	if (!get_string(env, name_v, "map name", name, namesz)) return NULL;
	struct bpf_map *m = bpf_object__find_map_by_name(h->obj, name);
	if (!m) {
		char d[300];
		snprintf(d, sizeof d, "no map named '%s' in the object", name);
		throw_errno(env, ENOENT, "bpf_object__find_map_by_name", d);
	}
	return m;
}

/* setMaxEntries(obj, map, n): before load. */
static napi_value obj_set_max_entries(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!arg_count(env, info, 3, argv, NULL)) return NULL;
	objh_t *h = get_obj(env, argv[0]);
	if (!h) return NULL;
	char name[256];
	struct bpf_map *m = find_map(env, h, argv[1], name, sizeof name);
	if (!m) return NULL;
	uint32_t n;
	if (!get_u32(env, argv[2], "maxEntries", &n)) return NULL;
	int rc = bpf_map__set_max_entries(m, n);
	if (rc < 0) return throw_errno(env, -rc, "bpf_map__set_max_entries", name);
	return make_undefined(env);
}

/* reuseMapFd(obj, map, fd): make the object use an existing (e.g. pinned) map. */
static napi_value obj_reuse_map_fd(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!arg_count(env, info, 3, argv, NULL)) return NULL;
	objh_t *h = get_obj(env, argv[0]);
	if (!h) return NULL;
	char name[256];
	struct bpf_map *m = find_map(env, h, argv[1], name, sizeof name);
	if (!m) return NULL;
	int32_t fd;
	if (!get_i32(env, argv[2], "fd", &fd)) return NULL;
	int rc = bpf_map__reuse_fd(m, fd);
	if (rc < 0) return throw_errno(env, -rc, "bpf_map__reuse_fd", name);
	return make_undefined(env);
}

static napi_value obj_load(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	objh_t *h = get_obj(env, argv[0]);
	if (!h) return NULL;
	bpf_log_reset();
	int rc = bpf_object__load(h->obj);
	if (rc < 0) return throw_errno(env, -rc, "bpf_object__load", bpf_log_text());
	h->loaded = true;
	return make_undefined(env);
}

static napi_value dup_or_throw(napi_env env, int fd, const char *what)
{
	if (fd < 0) return throw_errno(env, EBADF, what, "not loaded");
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (d < 0) return throw_errno(env, errno, "fcntl(F_DUPFD_CLOEXEC)", what);
	return make_i32(env, d);
}

/* mapFd(obj, name) -> a new fd owned by the caller. */
static napi_value obj_map_fd(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	objh_t *h = get_obj(env, argv[0]);
	if (!h) return NULL;
	char name[256];
	struct bpf_map *m = find_map(env, h, argv[1], name, sizeof name);
	if (!m) return NULL;
	return dup_or_throw(env, bpf_map__fd(m), name);
}

static napi_value obj_prog_fd(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	objh_t *h = get_obj(env, argv[0]);
	if (!h) return NULL;
	char name[256];
	if (!get_string(env, argv[1], "program name", name, sizeof name)) return NULL;
	struct bpf_program *p = bpf_object__find_program_by_name(h->obj, name);
	if (!p) {
		char d[300];
		snprintf(d, sizeof d, "no program named '%s' in the object", name);
		return throw_errno(env, ENOENT, "bpf_object__find_program_by_name", d);
	}
	return dup_or_throw(env, bpf_program__fd(p), name);
}

/* names(obj) -> {maps: string[], programs: string[]} */
static napi_value obj_names(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	objh_t *h = get_obj(env, argv[0]);
	if (!h) return NULL;
	napi_value o, maps, progs;
	napi_create_object(env, &o);
	napi_create_array(env, &maps);
	napi_create_array(env, &progs);
	uint32_t i = 0;
	struct bpf_map *m;
	bpf_object__for_each_map(m, h->obj) napi_set_element(env, maps, i++, make_str(env, bpf_map__name(m)));
	i = 0;
	struct bpf_program *p;
	bpf_object__for_each_program(p, h->obj) napi_set_element(env, progs, i++, make_str(env, bpf_program__name(p)));
	set_prop(env, o, "maps", maps);
	set_prop(env, o, "programs", progs);
	return o;
}

/* btf(obj) -> {structs: {name: {size, members: [{name, offset, bitOffset, size}]}},
 *              enums: {name: {ENUMERATOR: value}}} (named types only) */
static napi_value obj_btf(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	objh_t *h = get_obj(env, argv[0]);
	if (!h) return NULL;
	struct btf *btf = bpf_object__btf(h->obj);
	if (!btf) return throw_errno(env, ENOENT, "bpf_object__btf", "the object has no BTF (build with -g)");
	napi_value out, structs, enums;
	napi_create_object(env, &out);
	napi_create_object(env, &structs);
	napi_create_object(env, &enums);
	uint32_t n = btf__type_cnt(btf);
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name = btf__name_by_offset(btf, t->name_off);
		if (!name || !*name) continue;
		if (btf_is_struct(t) || btf_is_union(t)) {
			napi_value so, members;
			napi_create_object(env, &so);
			napi_create_array(env, &members);
			set_prop(env, so, "size", make_u32(env, t->size));
			set_prop(env, so, "union", make_bool(env, btf_is_union(t)));
			const struct btf_member *mem = btf_members(t);
			for (uint16_t k = 0; k < btf_vlen(t); k++) {
				napi_value mo;
				napi_create_object(env, &mo);
				const char *mn = btf__name_by_offset(btf, mem[k].name_off);
				uint32_t bitoff = btf_member_bit_offset(t, k);
				long sz = btf__resolve_size(btf, mem[k].type);
				set_prop(env, mo, "name", make_str(env, mn ? mn : ""));
				set_prop(env, mo, "offset", make_u32(env, bitoff / 8));
				set_prop(env, mo, "bitOffset", make_u32(env, bitoff));
				set_prop(env, mo, "bitSize", make_u32(env, btf_member_bitfield_size(t, k)));
				set_prop(env, mo, "size", make_i64(env, sz));
				napi_set_element(env, members, k, mo);
			}
			set_prop(env, so, "members", members);
			set_prop(env, structs, name, so);
		} else if (btf_is_enum(t)) {
			napi_value eo;
			napi_create_object(env, &eo);
			const struct btf_enum *e = btf_enum(t);
			for (uint16_t k = 0; k < btf_vlen(t); k++)
				set_prop(env, eo, btf__name_by_offset(btf, e[k].name_off), make_i64(env, e[k].val));
			set_prop(env, enums, name, eo);
		}
	}
	set_prop(env, out, "structs", structs);
	set_prop(env, out, "enums", enums);
	return out;
}

static napi_value obj_close(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	void *data = NULL;
	napi_valuetype t;
	napi_typeof(env, argv[0], &t);
	if (t != napi_external || napi_get_value_external(env, argv[0], &data) != napi_ok || !data)
		return throw_arg(env, "expected a BPF object handle");
	objh_t *h = data;
	if (h->obj) bpf_object__close(h->obj);
	h->obj = NULL;
	return make_undefined(env);
}

static napi_value num_possible_cpus(napi_env env, napi_callback_info info)
{
	int n = libbpf_num_possible_cpus();
	if (n < 0) return throw_errno(env, -n, "libbpf_num_possible_cpus", NULL);
	return make_i32(env, n);
}

void register_bpf_object(napi_env env, napi_value exports)
{
	bpf_log_install();
	export_fn(env, exports, "bpfObjectOpen", obj_open);
	export_fn(env, exports, "bpfObjectSetMaxEntries", obj_set_max_entries);
	export_fn(env, exports, "bpfObjectReuseMapFd", obj_reuse_map_fd);
	export_fn(env, exports, "bpfObjectLoad", obj_load);
	export_fn(env, exports, "bpfObjectMapFd", obj_map_fd);
	export_fn(env, exports, "bpfObjectProgFd", obj_prog_fd);
	export_fn(env, exports, "bpfObjectNames", obj_names);
	export_fn(env, exports, "bpfObjectBtf", obj_btf);
	export_fn(env, exports, "bpfObjectClose", obj_close);
	export_fn(env, exports, "numPossibleCpus", num_possible_cpus);
}
