#include "poller.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void poller_init(poller_t *p, napi_env env, int fd)
{
	p->fd = fd;
	p->env = env;
	p->handle_init = false;
	p->polling = false;
	p->closed = false;
	p->handle_closed = true; /* nothing to close until uv_poll_init */
	p->finalized = false;
	p->unref = false;
	p->callback = NULL;
	p->actx = NULL;
	p->pending_error = NULL;
}

static void maybe_free(poller_t *p)
{
	if (p->handle_closed && p->finalized) p->destroy(p);
}

static void on_handle_closed(uv_handle_t *h)
{
	poller_t *p = h->data;
	p->handle_closed = true;
	maybe_free(p);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	poller_t *p = h->data;
	napi_env env = p->env;
	if (!p->polling || p->closed) return;
	napi_handle_scope scope;
	if (napi_open_handle_scope(env, &scope) != napi_ok) return;
	if (status == UV_EBADF && p->pending_error && fcntl(p->fd, F_GETFD) >= 0) {
		int err = p->pending_error(p);
		int rc = uv_poll_start(&p->handle, UV_READABLE, on_poll);
		napi_value empty;
		napi_create_array(env, &empty);
		if (rc < 0) {
			p->polling = false;
			poller_emit(p, env, make_errno_error(env, -rc, "uv_poll_start"), empty);
		} else {
			if (err) poller_emit(p, env, make_errno_error(env, err, "recvmsg"), empty);
			if (p->polling && !p->closed) p->drain(p, env);
		}
	} else if (status < 0) {
		napi_value empty;
		napi_create_array(env, &empty);
		poller_emit(p, env, make_errno_error(env, -status, "uv_poll"), empty);
	} else {
		p->drain(p, env);
	}
	napi_close_handle_scope(env, scope);
}

bool poller_start(poller_t *p, napi_env env, napi_value cb)
{
	if (p->closed) { throw_errno(env, EBADF, "poll_start", "the handle is closed"); return false; }
	napi_valuetype t;
	napi_typeof(env, cb, &t);
	if (t != napi_function) { throw_arg(env, "callback must be a function"); return false; }
	if (p->polling) poller_stop(p, env);
	uv_loop_t *loop;
	if (napi_get_uv_event_loop(env, &loop) != napi_ok) { throw_arg(env, "no event loop"); return false; }
	if (!p->handle_init) {
		int rc = uv_poll_init(loop, &p->handle, p->fd);
		if (rc < 0) { throw_errno(env, -rc, "uv_poll_init", NULL); return false; }
		p->handle.data = p;
		p->handle_init = true;
		p->handle_closed = false;
	}
	napi_create_reference(env, cb, 1, &p->callback);
	napi_value resource, name;
	napi_create_object(env, &resource);
	napi_create_string_utf8(env, "iro-native-poll", NAPI_AUTO_LENGTH, &name);
	napi_async_init(env, resource, name, &p->actx);
	int rc = uv_poll_start(&p->handle, UV_READABLE, on_poll);
	if (rc < 0) {
		napi_delete_reference(env, p->callback);
		p->callback = NULL;
		napi_async_destroy(env, p->actx);
		p->actx = NULL;
		throw_errno(env, -rc, "uv_poll_start", NULL);
		return false;
	}
	if (p->unref) uv_unref((uv_handle_t *)&p->handle); else uv_ref((uv_handle_t *)&p->handle);
	p->polling = true;
	return true;
}

void poller_stop(poller_t *p, napi_env env)
{
	if (p->handle_init && !p->handle_closed) uv_poll_stop(&p->handle);
	p->polling = false;
	if (p->callback) { napi_delete_reference(env, p->callback); p->callback = NULL; }
	if (p->actx) { napi_async_destroy(env, p->actx); p->actx = NULL; }
}

void poller_set_ref(poller_t *p, bool ref)
{
	p->unref = !ref;
	if (!p->handle_init || p->handle_closed) return;
	if (ref) uv_ref((uv_handle_t *)&p->handle); else uv_unref((uv_handle_t *)&p->handle);
}

void poller_close(poller_t *p, napi_env env)
{
	if (p->closed) return;
	poller_stop(p, env);
	/* uv_close removes the fd from epoll synchronously, so it must run before the fd is
	 * closed (and its number possibly reused). */
	if (p->handle_init && !p->handle_closed) uv_close((uv_handle_t *)&p->handle, on_handle_closed);
	p->release(p);
	p->closed = true;
}

void poller_finalize(napi_env env, void *data, void *hint)
{
	poller_t *p = data;
	poller_close(p, env);
	p->finalized = true;
	maybe_free(p);
}

napi_value make_errno_error(napi_env env, int err, const char *call)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s: %s", call, strerror(err));
	napi_value m, e;
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
	napi_create_error(env, NULL, m, &e);
	set_prop(env, e, "errno", make_i32(env, err));
	set_prop(env, e, "code", make_str(env, errno_name(err)));
	set_prop(env, e, "syscall", make_str(env, call));
	return e;
}

void poller_emit(poller_t *p, napi_env env, napi_value err, napi_value value)
{
	if (!p->callback) return;
	napi_value cb, recv, result;
	napi_get_reference_value(env, p->callback, &cb);
	napi_create_object(env, &recv); /* napi_make_callback wants an object receiver */
	napi_value argv[2] = { err ? err : make_null(env), value };
	napi_status st = napi_make_callback(env, p->actx, recv, cb, 2, argv, &result);
	if (st != napi_ok) rethrow_pending(env);
}
