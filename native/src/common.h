/* Shared helpers for the iro-ctl N-API addon. The addon is deliberately dumb: it wraps
 * syscalls and libbpf calls, and every protocol decision lives in TypeScript. */
#ifndef IRO_NATIVE_COMMON_H
#define IRO_NATIVE_COMMON_H

#define _GNU_SOURCE
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Throw a JS Error carrying errno, its symbolic code and the failed call. Returns NULL so
 * callers can `return throw_errno(...)`. `detail` may be NULL. */
napi_value throw_errno(napi_env env, int err, const char *call, const char *detail);
/* Throw a TypeError/RangeError-style argument error (misuse of the addon API). */
napi_value throw_arg(napi_env env, const char *msg);
/* Symbolic name of an errno value ("ENOBUFS"). */
const char *errno_name(int err);

/* Argument helpers: each returns false after throwing on bad input. */
bool arg_count(napi_env env, napi_callback_info info, size_t want, napi_value *argv, size_t *got);
bool get_i32(napi_env env, napi_value v, const char *what, int32_t *out);
bool get_u32(napi_env env, napi_value v, const char *what, uint32_t *out);
bool get_i64(napi_env env, napi_value v, const char *what, int64_t *out);
bool get_buffer(napi_env env, napi_value v, const char *what, void **data, size_t *len);
bool is_nullish(napi_env env, napi_value v);
/* Copies a JS string into buf (NUL terminated); fails if it does not fit. */
bool get_string(napi_env env, napi_value v, const char *what, char *buf, size_t bufsz);

napi_value make_i32(napi_env env, int32_t v);
napi_value make_u32(napi_env env, uint32_t v);
napi_value make_i64(napi_env env, int64_t v);
napi_value make_bool(napi_env env, bool v);
napi_value make_str(napi_env env, const char *s);
napi_value make_buffer_copy(napi_env env, const void *data, size_t len);
napi_value make_undefined(napi_env env);
napi_value make_null(napi_env env);
void set_prop(napi_env env, napi_value obj, const char *name, napi_value v);

/* Raise a JS exception left pending by a callback as an uncaught exception. */
void rethrow_pending(napi_env env);

/* Registration helpers for each module part. */
void register_sockets(napi_env env, napi_value exports);
void register_bpf_object(napi_env env, napi_value exports);
void register_bpf_maps(napi_env env, napi_value exports);
void register_bpf_progs(napi_env env, napi_value exports);
void register_bpf_ringbuf(napi_env env, napi_value exports);
void register_netns(napi_env env, napi_value exports);
void export_fn(napi_env env, napi_value exports, const char *name, napi_callback fn);

/* libbpf diagnostic log (the verifier log on load failures), captured for error messages. */
void bpf_log_reset(void);
const char *bpf_log_text(void);
void bpf_log_install(void);
/* Drop cached map metadata for an fd that is being closed. */
void bpf_fd_forget(int fd);

#define NAPI_CALL(env, call)                                                                    \
	do {                                                                                    \
		if ((call) != napi_ok) {                                                        \
			bool pending_;                                                          \
			napi_is_exception_pending((env), &pending_);                            \
			if (!pending_) napi_throw_error((env), NULL, "N-API call failed: " #call); \
			return NULL;                                                            \
		}                                                                               \
	} while (0)

#endif
