/* Error and argument helpers. Errors carry errno, code and syscall like Node's own
 * system errors, so TypeScript can report "what failed, on which object, with which errno". */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

const char *errno_name(int err)
{
	switch (err) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case ENOTSUP: return "EOPNOTSUPP";
	case ENOBUFS: return "ENOBUFS";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EMSGSIZE: return "EMSGSIZE";
	case ENOTSOCK: return "ENOTSOCK";
	case ENOTCONN: return "ENOTCONN";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENOEXEC: return "ENOEXEC";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
	default: return "EUNKNOWN";
	}
}

napi_value throw_errno(napi_env env, int err, const char *call, const char *detail)
{
	if (err < 0) err = -err;
	char msg[8192];
	if (detail && *detail)
		snprintf(msg, sizeof msg, "%s: %s (%s)\n%s", call, strerror(err), errno_name(err), detail);
	else
		snprintf(msg, sizeof msg, "%s: %s (%s)", call, strerror(err), errno_name(err));
	napi_value m, e;
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
	napi_create_error(env, NULL, m, &e);
	set_prop(env, e, "errno", make_i32(env, err));
	set_prop(env, e, "code", make_str(env, errno_name(err)));
	set_prop(env, e, "syscall", make_str(env, call));
	napi_throw(env, e);
	return NULL;
}

napi_value throw_arg(napi_env env, const char *msg)
{
	napi_throw_type_error(env, "ERR_IRO_NATIVE_ARG", msg);
	return NULL;
}

bool arg_count(napi_env env, napi_callback_info info, size_t want, napi_value *argv, size_t *got)
{
	size_t argc = want;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
	for (size_t i = argc; i < want; i++) napi_get_undefined(env, &argv[i]);
	if (got) *got = argc;
	return true;
}

static bool type_error(napi_env env, const char *what, const char *expect)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s must be %s", what, expect);
	throw_arg(env, msg);
	return false;
}

bool get_i32(napi_env env, napi_value v, const char *what, int32_t *out)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t != napi_number) return type_error(env, what, "a number");
	double d;
	napi_get_value_double(env, v, &d);
	if (d != (double)(int32_t)d) return type_error(env, what, "a 32-bit integer");
	*out = (int32_t)d;
	return true;
}

bool get_u32(napi_env env, napi_value v, const char *what, uint32_t *out)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t != napi_number) return type_error(env, what, "a number");
	double d;
	napi_get_value_double(env, v, &d);
	if (d < 0 || d > 4294967295.0 || d != (double)(uint32_t)d)
		return type_error(env, what, "an unsigned 32-bit integer");
	*out = (uint32_t)d;
	return true;
}

bool get_i64(napi_env env, napi_value v, const char *what, int64_t *out)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t == napi_bigint) {
		bool lossless;
		napi_get_value_bigint_int64(env, v, out, &lossless);
		if (!lossless) return type_error(env, what, "a 64-bit integer");
		return true;
	}
	if (t != napi_number) return type_error(env, what, "a number or bigint");
	double d;
	napi_get_value_double(env, v, &d);
	if (d != (double)(int64_t)d) return type_error(env, what, "an integer");
	*out = (int64_t)d;
	return true;
}

bool get_buffer(napi_env env, napi_value v, const char *what, void **data, size_t *len)
{
	bool ok = false;
	napi_is_buffer(env, v, &ok);
	if (!ok) {
		bool ta = false;
		napi_is_typedarray(env, v, &ta);
		if (!ta) return type_error(env, what, "a Buffer or Uint8Array");
		napi_typedarray_type tt;
		size_t n;
		napi_value ab;
		size_t off;
		napi_get_typedarray_info(env, v, &tt, &n, data, &ab, &off);
		if (tt != napi_uint8_array) return type_error(env, what, "a Buffer or Uint8Array");
		*len = n;
		return true;
	}
	napi_get_buffer_info(env, v, data, len);
	return true;
}

bool is_nullish(napi_env env, napi_value v)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	return t == napi_undefined || t == napi_null;
}

bool get_string(napi_env env, napi_value v, const char *what, char *buf, size_t bufsz)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t != napi_string) return type_error(env, what, "a string");
	size_t n;
	napi_get_value_string_utf8(env, v, NULL, 0, &n);
	if (n + 1 > bufsz) return type_error(env, what, "a shorter string");
	napi_get_value_string_utf8(env, v, buf, bufsz, &n);
	return true;
}

napi_value make_i32(napi_env env, int32_t v) { napi_value r; napi_create_int32(env, v, &r); return r; }
napi_value make_u32(napi_env env, uint32_t v) { napi_value r; napi_create_uint32(env, v, &r); return r; }
napi_value make_i64(napi_env env, int64_t v) { napi_value r; napi_create_int64(env, v, &r); return r; }
napi_value make_bool(napi_env env, bool v) { napi_value r; napi_get_boolean(env, v, &r); return r; }
napi_value make_str(napi_env env, const char *s) { napi_value r; napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r); return r; }
napi_value make_undefined(napi_env env) { napi_value r; napi_get_undefined(env, &r); return r; }
napi_value make_null(napi_env env) { napi_value r; napi_get_null(env, &r); return r; }

napi_value make_buffer_copy(napi_env env, const void *data, size_t len)
{
	napi_value r;
	void *dst;
	napi_create_buffer_copy(env, len, data, &dst, &r);
	return r;
}

void set_prop(napi_env env, napi_value obj, const char *name, napi_value v)
{
	napi_set_named_property(env, obj, name, v);
}

void rethrow_pending(napi_env env)
{
	bool pending = false;
	napi_is_exception_pending(env, &pending);
	if (!pending) return;
	napi_value exc;
	napi_get_and_clear_last_exception(env, &exc);
	napi_fatal_exception(env, exc);
}

void export_fn(napi_env env, napi_value exports, const char *name, napi_callback fn)
{
	napi_value f;
	napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
	napi_set_named_property(env, exports, name, f);
}

/* libbpf log capture: libbpf prints the verifier log through its print callback; keep the
 * tail so a failed load can explain itself instead of printing to stderr. */
static char log_buf[64 * 1024];
static size_t log_len;

static int bpf_log_cb(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG) return 0;
	char line[4096];
	int n = vsnprintf(line, sizeof line, fmt, ap);
	if (n <= 0) return 0;
	if ((size_t)n >= sizeof line) n = sizeof line - 1;
	if (log_len + (size_t)n >= sizeof log_buf) {
		/* keep the newest half: the verifier's conclusion is at the end */
		size_t keep = sizeof log_buf / 2;
		memmove(log_buf, log_buf + log_len - keep, keep);
		log_len = keep;
	}
	memcpy(log_buf + log_len, line, (size_t)n);
	log_len += (size_t)n;
	log_buf[log_len] = 0;
	return 0;
}

void bpf_log_reset(void) { log_len = 0; log_buf[0] = 0; }
const char *bpf_log_text(void) { return log_buf; }
void bpf_log_install(void) { libbpf_set_print(bpf_log_cb); }
