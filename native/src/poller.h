/* An fd watched by libuv whose readiness is turned into JS callbacks. Shared by sockets and
 * BPF ring buffers. Memory is freed only after BOTH the uv handle has closed and the JS
 * external has been finalized (either can happen first). */
#ifndef IRO_NATIVE_POLLER_H
#define IRO_NATIVE_POLLER_H

#include "common.h"
#include <uv.h>

typedef struct poller poller_t;

struct poller {
	int fd;                 /* fd handed to uv_poll (owned by the owner, see release) */
	uv_poll_t handle;
	bool handle_init;       /* uv_poll_init done */
	bool polling;
	bool closed;            /* owner resources released (fd closed) */
	bool handle_closed;     /* uv close callback ran (or handle never initialised) */
	bool finalized;         /* JS external finalized */
	bool unref;             /* do not keep the event loop alive */
	napi_env env;
	napi_ref callback;
	napi_async_context actx;
	/* drain: read what is ready and call the JS callback (inside a handle scope). */
	void (*drain)(poller_t *p, napi_env env);
	/* release: close the owner's fd and free its buffers (not the struct). */
	void (*release)(poller_t *p);
	/* destroy: free the whole owning struct. */
	void (*destroy)(poller_t *p);
	/* pending_error: read and clear the fd's pending error (SO_ERROR); 0 if none or not a
	 * socket. libuv turns POLLERR into UV_EBADF and stops watching; a socket with a
	 * transient error (ENOBUFS) is watched again and the error delivered instead. */
	int (*pending_error)(poller_t *p);
};

void poller_init(poller_t *p, napi_env env, int fd);
/* Start delivering readiness to `cb`. Throws on failure. */
bool poller_start(poller_t *p, napi_env env, napi_value cb);
void poller_stop(poller_t *p, napi_env env);
void poller_set_ref(poller_t *p, bool ref);
/* Release the fd and start closing the uv handle. Idempotent. */
void poller_close(poller_t *p, napi_env env);
/* napi finalizer for the external that wraps the poller. */
void poller_finalize(napi_env env, void *data, void *hint);
/* Call the JS callback with (err, value); err may be NULL. */
void poller_emit(poller_t *p, napi_env env, napi_value err, napi_value value);
/* Build a JS errno error object without throwing. */
napi_value make_errno_error(napi_env env, int err, const char *call);

#endif
