/* Map operations on raw map fds (the caller owns the fds). Keys and values are raw bytes
 * encoded by TypeScript; per-CPU values are nr_cpus slots of round_up(value_size, 8). */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* Kernel-reported key/value sizes per fd, so a wrong-sized buffer from JS throws instead of
 * letting the kernel write past it. Entries are dropped when the fd is closed through
 * closeFd (bpf_fd_forget); fds are never closed behind the addon's back. */
typedef struct {
	bool valid;
	uint32_t type, key_size, value_size;
} map_meta_t;
#define META_MAX 65536
static map_meta_t meta_cache[META_MAX];

void bpf_fd_forget(int fd)
{
	if (fd >= 0 && fd < META_MAX) meta_cache[fd].valid = false;
}

static bool is_percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static const map_meta_t *map_meta(napi_env env, int fd)
{
	static map_meta_t tmp;
	map_meta_t *m = fd < META_MAX ? &meta_cache[fd] : &tmp;
	if (fd < META_MAX && m->valid) return m;
	struct bpf_map_info mi;
	memset(&mi, 0, sizeof mi);
	uint32_t len = sizeof mi;
	if (bpf_obj_get_info_by_fd(fd, &mi, &len) < 0) {
		throw_errno(env, errno, "bpf_obj_get_info_by_fd", "not a BPF map fd?");
		return NULL;
	}
	m->type = mi.type;
	m->key_size = mi.key_size;
	m->value_size = mi.value_size;
	if (is_percpu(mi.type)) {
		int ncpu = libbpf_num_possible_cpus();
		m->value_size = ((mi.value_size + 7) / 8 * 8) * (uint32_t)(ncpu > 0 ? ncpu : 1);
	}
	m->valid = true;
	return m;
}

static bool check_sizes(napi_env env, int fd, size_t klen, size_t vlen, bool check_value)
{
	const map_meta_t *m = map_meta(env, fd);
	if (!m) return false;
	char msg[160];
	if (klen != m->key_size) {
		snprintf(msg, sizeof msg, "key is %zu bytes, the map's key is %u bytes", klen, m->key_size);
		throw_arg(env, msg);
		return false;
	}
	if (check_value && vlen != m->value_size) {
		snprintf(msg, sizeof msg, "value is %zu bytes, the map's value is %u bytes", vlen, m->value_size);
		throw_arg(env, msg);
		return false;
	}
	return true;
}

static bool get_fd(napi_env env, napi_value v, int *fd)
{
	int32_t x;
	if (!get_i32(env, v, "fd", &x)) return false;
	if (x < 0) { throw_errno(env, EBADF, "bpf", "negative fd"); return false; }
	*fd = x;
	return true;
}

/* mapInfo(fd) -> {type, id, keySize, valueSize, maxEntries, flags, name} */
static napi_value map_info(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	int fd;
	if (!get_fd(env, argv[0], &fd)) return NULL;
	struct bpf_map_info mi;
	memset(&mi, 0, sizeof mi);
	uint32_t len = sizeof mi;
	int rc = bpf_obj_get_info_by_fd(fd, &mi, &len);
	if (rc < 0) return throw_errno(env, errno, "bpf_obj_get_info_by_fd", NULL);
	napi_value o;
	napi_create_object(env, &o);
	set_prop(env, o, "type", make_u32(env, mi.type));
	set_prop(env, o, "id", make_u32(env, mi.id));
	set_prop(env, o, "keySize", make_u32(env, mi.key_size));
	set_prop(env, o, "valueSize", make_u32(env, mi.value_size));
	set_prop(env, o, "maxEntries", make_u32(env, mi.max_entries));
	set_prop(env, o, "flags", make_u32(env, mi.map_flags));
	set_prop(env, o, "name", make_str(env, mi.name));
	return o;
}

/* mapLookup(fd, key, valueLen) -> Buffer | null */
static napi_value map_lookup(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!arg_count(env, info, 3, argv, NULL)) return NULL;
	int fd;
	void *key;
	size_t klen;
	uint32_t vlen;
	if (!get_fd(env, argv[0], &fd) || !get_buffer(env, argv[1], "key", &key, &klen) ||
	    !get_u32(env, argv[2], "valueLength", &vlen))
		return NULL;
	if (!check_sizes(env, fd, klen, vlen, true)) return NULL;
	napi_value buf;
	void *val;
	NAPI_CALL(env, napi_create_buffer(env, vlen, &val, &buf));
	if (bpf_map_lookup_elem(fd, key, val) < 0) {
		if (errno == ENOENT) return make_null(env);
		return throw_errno(env, errno, "bpf_map_lookup_elem", NULL);
	}
	return buf;
}

/* mapUpdate(fd, key, value, flags) */
static napi_value map_update(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	if (!arg_count(env, info, 4, argv, NULL)) return NULL;
	int fd;
	void *key, *val;
	size_t klen, vlen;
	uint32_t flags = 0;
	if (!get_fd(env, argv[0], &fd) || !get_buffer(env, argv[1], "key", &key, &klen) ||
	    !get_buffer(env, argv[2], "value", &val, &vlen))
		return NULL;
	if (!is_nullish(env, argv[3]) && !get_u32(env, argv[3], "flags", &flags)) return NULL;
	if (!check_sizes(env, fd, klen, vlen, true)) return NULL;
	if (bpf_map_update_elem(fd, key, val, flags) < 0) return throw_errno(env, errno, "bpf_map_update_elem", NULL);
	return make_undefined(env);
}

/* mapDelete(fd, key) -> true if deleted, false if absent */
static napi_value map_delete(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	int fd;
	void *key;
	size_t klen;
	if (!get_fd(env, argv[0], &fd) || !get_buffer(env, argv[1], "key", &key, &klen)) return NULL;
	if (!check_sizes(env, fd, klen, 0, false)) return NULL;
	if (bpf_map_delete_elem(fd, key) < 0) {
		if (errno == ENOENT) return make_bool(env, false);
		return throw_errno(env, errno, "bpf_map_delete_elem", NULL);
	}
	return make_bool(env, true);
}

/* mapNextKey(fd, key|null, keyLen) -> Buffer | null at the end */
static napi_value map_next_key(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!arg_count(env, info, 3, argv, NULL)) return NULL;
	int fd;
	uint32_t klen;
	if (!get_fd(env, argv[0], &fd) || !get_u32(env, argv[2], "keyLength", &klen)) return NULL;
	void *key = NULL;
	size_t kl = klen;
	if (!is_nullish(env, argv[1]) && !get_buffer(env, argv[1], "key", &key, &kl)) return NULL;
	if (!check_sizes(env, fd, kl, 0, false) || !check_sizes(env, fd, klen, 0, false)) return NULL;
	napi_value buf;
	void *next;
	NAPI_CALL(env, napi_create_buffer(env, klen, &next, &buf));
	if (bpf_map_get_next_key(fd, key, next) < 0) {
		if (errno == ENOENT) return make_null(env);
		return throw_errno(env, errno, "bpf_map_get_next_key", NULL);
	}
	return buf;
}

/* Batched dump (BPF_MAP_LOOKUP_BATCH: one syscall per chunk). Returns the number of entries
 * read, or -errno when the map type has no batch support. */
static long dump_batched(int fd, uint32_t klen, uint32_t vlen, uint8_t **keys, uint8_t **vals, size_t *cap)
{
	size_t count = 0;
	uint8_t in_batch[64], out_batch[64]; /* opaque cursor: the map's key size at most for hash maps */
	void *in = NULL;
	if (klen > sizeof in_batch) return -EINVAL;
	for (;;) {
		uint32_t n = 4096;
		if (count + n > *cap) {
			size_t ncap = (*cap) * 2 > count + n ? (*cap) * 2 : count + n;
			uint8_t *nk = realloc(*keys, ncap * klen), *nv = realloc(*vals, ncap * vlen);
			if (nk) *keys = nk;
			if (nv) *vals = nv;
			if (!nk || !nv) return -ENOMEM;
			*cap = ncap;
		}
		DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int rc = bpf_map_lookup_batch(fd, in, out_batch, *keys + count * klen, *vals + count * vlen, &n, &opts);
		int err = rc < 0 ? errno : 0;
		if (rc < 0 && err != ENOENT) {
			if (count == 0) return -err;
			return -err;
		}
		count += n;
		if (err == ENOENT) break;
		memcpy(in_batch, out_batch, sizeof in_batch);
		in = in_batch;
	}
	return (long)count;
}

/* mapDump(fd, keyLen, valueLen) -> {keys: Buffer, values: Buffer, count}: the whole map.
 * Uses batched lookups where the map supports them, else a get_next_key walk (entries
 * deleted during the walk are skipped). */
static napi_value map_dump(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!arg_count(env, info, 3, argv, NULL)) return NULL;
	int fd;
	uint32_t klen, vlen;
	if (!get_fd(env, argv[0], &fd) || !get_u32(env, argv[1], "keyLength", &klen) ||
	    !get_u32(env, argv[2], "valueLength", &vlen))
		return NULL;
	if (!check_sizes(env, fd, klen, vlen, true)) return NULL;
	size_t cap = 64, count = 0;
	uint8_t *keys = malloc(cap * klen), *vals = malloc(cap * vlen);
	uint8_t *cur = malloc(klen), *next = malloc(klen);
	int err = 0;
	if (!keys || !vals || !cur || !next) err = ENOMEM;
	long got = err ? -err : dump_batched(fd, klen, vlen, &keys, &vals, &cap);
	if (got >= 0) {
		count = (size_t)got;
	} else if (got != -EINVAL && got != -ENOTSUP && got != -524 /* ENOTSUPP */) {
		err = (int)-got;
	} else {
		void *prev = NULL;
		while (!err) {
			if (bpf_map_get_next_key(fd, prev, next) < 0) {
				if (errno != ENOENT) err = errno;
				break;
			}
			if (count == cap) {
				cap *= 2;
				uint8_t *nk = realloc(keys, cap * klen), *nv = realloc(vals, cap * vlen);
				if (nk) keys = nk;
				if (nv) vals = nv;
				if (!nk || !nv) { err = ENOMEM; break; }
			}
			if (bpf_map_lookup_elem(fd, next, vals + count * vlen) == 0) {
				memcpy(keys + count * klen, next, klen);
				count++;
			} else if (errno != ENOENT) {
				err = errno;
				break;
			}
			memcpy(cur, next, klen);
			prev = cur;
		}
	}
	napi_value result = NULL;
	if (err) {
		throw_errno(env, err, "bpf_map_dump", NULL);
	} else {
		napi_create_object(env, &result);
		set_prop(env, result, "keys", make_buffer_copy(env, keys, count * klen));
		set_prop(env, result, "values", make_buffer_copy(env, vals, count * vlen));
		set_prop(env, result, "count", make_u32(env, (uint32_t)count));
	}
	free(keys);
	free(vals);
	free(cur);
	free(next);
	return result;
}

/* mapUpdateBatch(fd, keys, values, count, flags) -> count applied. Falls back to single
 * updates when the map type has no batch support (EINVAL/ENOTSUPP), so callers get one API. */
static napi_value map_update_batch(napi_env env, napi_callback_info info)
{
	napi_value argv[5];
	if (!arg_count(env, info, 5, argv, NULL)) return NULL;
	int fd;
	void *keys, *vals;
	size_t kl, vl;
	uint32_t count, flags = 0;
	if (!get_fd(env, argv[0], &fd) || !get_buffer(env, argv[1], "keys", &keys, &kl) ||
	    !get_buffer(env, argv[2], "values", &vals, &vl) || !get_u32(env, argv[3], "count", &count))
		return NULL;
	if (!is_nullish(env, argv[4]) && !get_u32(env, argv[4], "flags", &flags)) return NULL;
	if (!count) return make_u32(env, 0);
	if (kl % count || vl % count) return throw_arg(env, "keys/values length must be a multiple of count");
	if (!check_sizes(env, fd, kl / count, vl / count, true)) return NULL;
	uint32_t n = count;
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
	if (bpf_map_update_batch(fd, keys, vals, &n, &opts) == 0) return make_u32(env, n);
	int err = errno;
	if (err != EINVAL && err != ENOTSUP && err != 524 /* ENOTSUPP */) {
		char d[64];
		snprintf(d, sizeof d, "%u of %u entries applied", n, count);
		return throw_errno(env, err, "bpf_map_update_batch", d);
	}
	size_t ks = kl / count, vs = vl / count;
	for (uint32_t i = 0; i < count; i++) {
		if (bpf_map_update_elem(fd, (uint8_t *)keys + i * ks, (uint8_t *)vals + i * vs, flags) < 0) {
			char d[64];
			snprintf(d, sizeof d, "%u of %u entries applied", i, count);
			return throw_errno(env, errno, "bpf_map_update_elem", d);
		}
	}
	return make_u32(env, count);
}

/* mapDeleteBatch(fd, keys, count) -> count deleted. Absent keys are skipped: the batched
 * syscall stops at the first absent key, so the rest continue one by one from there. */
static napi_value map_delete_batch(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!arg_count(env, info, 3, argv, NULL)) return NULL;
	int fd;
	void *keys;
	size_t kl;
	uint32_t count;
	if (!get_fd(env, argv[0], &fd) || !get_buffer(env, argv[1], "keys", &keys, &kl) ||
	    !get_u32(env, argv[2], "count", &count))
		return NULL;
	if (!count) return make_u32(env, 0);
	if (kl % count) return throw_arg(env, "keys length must be a multiple of count");
	size_t ks = kl / count;
	if (!check_sizes(env, fd, ks, 0, false)) return NULL;
	uint32_t n = count, done = 0, start = 0;
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	if (bpf_map_delete_batch(fd, keys, &n, &opts) == 0) return make_u32(env, n);
	if (errno == ENOENT) {
		done = n;     /* n entries were deleted before the absent key */
		start = n + 1; /* skip the absent one */
	}
	for (uint32_t i = start; i < count; i++) {
		if (bpf_map_delete_elem(fd, (uint8_t *)keys + i * ks) == 0) done++;
		else if (errno != ENOENT) return throw_errno(env, errno, "bpf_map_delete_elem", NULL);
	}
	return make_u32(env, done);
}

void register_bpf_maps(napi_env env, napi_value exports)
{
	export_fn(env, exports, "mapInfo", map_info);
	export_fn(env, exports, "mapLookup", map_lookup);
	export_fn(env, exports, "mapUpdate", map_update);
	export_fn(env, exports, "mapDelete", map_delete);
	export_fn(env, exports, "mapNextKey", map_next_key);
	export_fn(env, exports, "mapDump", map_dump);
	export_fn(env, exports, "mapUpdateBatch", map_update_batch);
	export_fn(env, exports, "mapDeleteBatch", map_delete_batch);
}
