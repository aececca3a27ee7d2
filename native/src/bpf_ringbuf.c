/* BPF ring buffer consumer: libbpf's ring_buffer exposes an epoll fd that we hand to
 * uv_poll, so samples arrive as JS callbacks in batches (an array of Buffers). */
#include "poller.h"

#include <errno.h>
#include <stdlib.h>
#include <bpf/libbpf.h>

typedef struct {
	poller_t p; /* must stay first */
	struct ring_buffer *rb;
	/* collection state during a drain */
	napi_env env;
	napi_value arr;
	uint32_t n;
	uint32_t max;
} ringbuf_t;

static int on_sample(void *ctx, void *data, size_t size)
{
	ringbuf_t *r = ctx;
	napi_set_element(r->env, r->arr, r->n++, make_buffer_copy(r->env, data, size));
	/* a positive return stops this consume round; the rest comes on the next poll */
	return r->n >= r->max ? 1 : 0;
}

static void rb_drain(poller_t *p, napi_env env)
{
	ringbuf_t *r = (ringbuf_t *)p;
	r->env = env;
	napi_create_array(env, &r->arr);
	r->n = 0;
	int rc = ring_buffer__consume(r->rb);
	napi_value e = (rc < 0) ? make_errno_error(env, -rc, "ring_buffer__consume") : NULL;
	if (r->n > 0 || e) poller_emit(p, env, e, r->arr);
}

static void rb_release(poller_t *p)
{
	ringbuf_t *r = (ringbuf_t *)p;
	if (r->rb) ring_buffer__free(r->rb); /* closes the epoll fd */
	r->rb = NULL;
	p->fd = -1;
}

static void rb_destroy(poller_t *p) { free(p); }

static ringbuf_t *get_rb(napi_env env, napi_value v)
{
	void *data = NULL;
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t != napi_external || napi_get_value_external(env, v, &data) != napi_ok || !data) {
		throw_arg(env, "expected a ring buffer handle");
		return NULL;
	}
	ringbuf_t *r = data;
	if (r->p.closed) {
		throw_errno(env, EBADF, "ring_buffer", "the ring buffer is closed");
		return NULL;
	}
	return r;
}

/* ringbufOpen(mapFd) -> handle. The map fd stays owned by the caller. */
static napi_value rb_open(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	int32_t fd;
	if (!get_i32(env, argv[0], "mapFd", &fd)) return NULL;
	ringbuf_t *r = calloc(1, sizeof *r);
	if (!r) return throw_errno(env, ENOMEM, "ring_buffer__new", NULL);
	r->rb = ring_buffer__new(fd, on_sample, r, NULL);
	if (!r->rb) {
		int err = errno;
		free(r);
		return throw_errno(env, err, "ring_buffer__new", NULL);
	}
	r->max = 4096;
	poller_init(&r->p, env, ring_buffer__epoll_fd(r->rb));
	r->p.drain = rb_drain;
	r->p.release = rb_release;
	r->p.destroy = rb_destroy;
	napi_value ext;
	napi_create_external(env, r, poller_finalize, NULL, &ext);
	return ext;
}

static napi_value rb_start(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	ringbuf_t *r = get_rb(env, argv[0]);
	if (!r || !poller_start(&r->p, env, argv[1])) return NULL;
	return make_undefined(env);
}

static napi_value rb_stop(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	ringbuf_t *r = get_rb(env, argv[0]);
	if (!r) return NULL;
	poller_stop(&r->p, env);
	return make_undefined(env);
}

static napi_value rb_ref(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	ringbuf_t *r = get_rb(env, argv[0]);
	if (!r) return NULL;
	bool ref;
	if (napi_get_value_bool(env, argv[1], &ref) != napi_ok) return throw_arg(env, "ref must be a boolean");
	poller_set_ref(&r->p, ref);
	return make_undefined(env);
}

/* ringbufPoll(h, timeoutMs) -> Buffer[]: synchronous consume, for tests and one-shot tools. */
static napi_value rb_poll(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	ringbuf_t *r = get_rb(env, argv[0]);
	if (!r) return NULL;
	int32_t timeout;
	if (!get_i32(env, argv[1], "timeoutMs", &timeout)) return NULL;
	r->env = env;
	napi_create_array(env, &r->arr);
	r->n = 0;
	int rc = ring_buffer__poll(r->rb, timeout);
	if (rc < 0 && rc != -EINTR) return throw_errno(env, -rc, "ring_buffer__poll", NULL);
	return r->arr;
}

static napi_value rb_close(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	void *data = NULL;
	napi_valuetype t;
	napi_typeof(env, argv[0], &t);
	if (t != napi_external || napi_get_value_external(env, argv[0], &data) != napi_ok || !data)
		return throw_arg(env, "expected a ring buffer handle");
	poller_close(data, env);
	return make_undefined(env);
}

void register_bpf_ringbuf(napi_env env, napi_value exports)
{
	export_fn(env, exports, "ringbufOpen", rb_open);
	export_fn(env, exports, "ringbufStart", rb_start);
	export_fn(env, exports, "ringbufStop", rb_stop);
	export_fn(env, exports, "ringbufRef", rb_ref);
	export_fn(env, exports, "ringbufPoll", rb_poll);
	export_fn(env, exports, "ringbufClose", rb_close);
}
