/* Datagram sockets of any family: AF_NETLINK (XFRM, rtnetlink), PF_KEY, raw IPv6 (MH),
 * AF_PACKET for tests. Addresses and control messages cross the boundary as raw bytes;
 * TypeScript encodes and decodes them. */
#include "poller.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
	poller_t p; /* must stay first */
	uint8_t *rxbuf;
	size_t rxsize;
	uint32_t batch;
} sock_t;

#define CTRL_SIZE 1024

static void sock_release(poller_t *p)
{
	sock_t *s = (sock_t *)p;
	if (p->fd >= 0) close(p->fd);
	p->fd = -1;
	free(s->rxbuf);
	s->rxbuf = NULL;
}

static void sock_destroy(poller_t *p) { free(p); }

static int sock_pending_error(poller_t *p)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return 0;
	return err;
}

static sock_t *get_sock(napi_env env, napi_value v)
{
	void *data = NULL;
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t != napi_external || napi_get_value_external(env, v, &data) != napi_ok || !data) {
		throw_arg(env, "expected a socket handle");
		return NULL;
	}
	sock_t *s = data;
	if (s->p.closed) {
		throw_errno(env, EBADF, "socket", "the socket is closed");
		return NULL;
	}
	return s;
}

/* Decode one received datagram into {data, addr, cmsgs, flags, truncated}. */
static napi_value msg_to_js(napi_env env, const uint8_t *buf, size_t bufsize, ssize_t len,
			    struct msghdr *mh)
{
	napi_value o;
	napi_create_object(env, &o);
	size_t copy = (size_t)len > bufsize ? bufsize : (size_t)len;
	set_prop(env, o, "data", make_buffer_copy(env, buf, copy));
	set_prop(env, o, "truncated", make_bool(env, (size_t)len > bufsize || (mh->msg_flags & MSG_TRUNC)));
	set_prop(env, o, "flags", make_u32(env, (uint32_t)mh->msg_flags));
	set_prop(env, o, "addr", make_buffer_copy(env, mh->msg_name, mh->msg_namelen));
	napi_value arr;
	napi_create_array(env, &arr);
	uint32_t i = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		napi_value co;
		napi_create_object(env, &co);
		set_prop(env, co, "level", make_i32(env, c->cmsg_level));
		set_prop(env, co, "type", make_i32(env, c->cmsg_type));
		size_t dlen = c->cmsg_len - CMSG_LEN(0);
		set_prop(env, co, "data", make_buffer_copy(env, CMSG_DATA(c), dlen));
		napi_set_element(env, arr, i++, co);
	}
	set_prop(env, o, "cmsgs", arr);
	return o;
}

static ssize_t recv_one(sock_t *s, struct msghdr *mh, struct sockaddr_storage *ss, uint8_t *ctrl,
			struct iovec *iov)
{
	memset(mh, 0, sizeof *mh);
	iov->iov_base = s->rxbuf;
	iov->iov_len = s->rxsize;
	mh->msg_name = ss;
	mh->msg_namelen = sizeof *ss;
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
	mh->msg_control = ctrl;
	mh->msg_controllen = CTRL_SIZE;
	ssize_t r;
	do {
		r = recvmsg(s->p.fd, mh, MSG_DONTWAIT | MSG_TRUNC);
	} while (r < 0 && errno == EINTR);
	return r;
}

static bool ensure_rxbuf(sock_t *s)
{
	if (s->rxbuf) return true;
	s->rxbuf = malloc(s->rxsize);
	return s->rxbuf != NULL;
}

static void sock_drain(poller_t *p, napi_env env)
{
	sock_t *s = (sock_t *)p;
	napi_value arr;
	napi_create_array(env, &arr);
	uint32_t n = 0;
	int err = 0;
	if (!ensure_rxbuf(s)) err = ENOMEM;
	while (!err && n < s->batch) {
		struct msghdr mh;
		struct sockaddr_storage ss;
		uint8_t ctrl[CTRL_SIZE];
		struct iovec iov;
		ssize_t r = recv_one(s, &mh, &ss, ctrl, &iov);
		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
			break;
		}
		napi_set_element(env, arr, n++, msg_to_js(env, s->rxbuf, s->rxsize, r, &mh));
	}
	/* A fatal error would make a level-triggered poll spin: stop watching. Transient ones
	 * (ENOBUFS: the kernel dropped messages; ICMP-reported errors on raw sockets) are
	 * delivered and polling continues. */
	bool fatal = err == EBADF || err == ENOTSOCK || err == EINVAL || err == EFAULT || err == ENOMEM;
	napi_value e = err ? make_errno_error(env, err, "recvmsg") : NULL;
	if (n > 0 || e) poller_emit(p, env, e, arr);
	if (fatal && !p->closed) poller_stop(p, env);
}

/* socketOpen(family, type, protocol) -> handle. Always non-blocking and close-on-exec. */
static napi_value sock_open(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!arg_count(env, info, 3, argv, NULL)) return NULL;
	int32_t family, type, proto;
	if (!get_i32(env, argv[0], "family", &family) || !get_i32(env, argv[1], "type", &type) ||
	    !get_i32(env, argv[2], "protocol", &proto))
		return NULL;
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd < 0) {
		char d[96];
		snprintf(d, sizeof d, "family=%d type=%d protocol=%d", family, type, proto);
		return throw_errno(env, errno, "socket", d);
	}
	sock_t *s = calloc(1, sizeof *s);
	if (!s) { close(fd); return throw_errno(env, ENOMEM, "socket", NULL); }
	poller_init(&s->p, env, fd);
	s->p.drain = sock_drain;
	s->p.release = sock_release;
	s->p.destroy = sock_destroy;
	s->p.pending_error = sock_pending_error;
	s->rxsize = 256 * 1024;
	s->batch = 64;
	napi_value ext;
	if (napi_create_external(env, s, poller_finalize, NULL, &ext) != napi_ok) {
		close(fd);
		free(s);
		return NULL;
	}
	return ext;
}

static napi_value sock_fd(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	return s ? make_i32(env, s->p.fd) : NULL;
}

static napi_value sock_bind(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	void *addr;
	size_t alen;
	if (!get_buffer(env, argv[1], "address", &addr, &alen)) return NULL;
	if (alen > sizeof(struct sockaddr_storage)) return throw_arg(env, "address is too long");
	if (bind(s->p.fd, addr, (socklen_t)alen) < 0) return throw_errno(env, errno, "bind", NULL);
	return make_undefined(env);
}

static napi_value sock_connect(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	void *addr;
	size_t alen;
	if (!get_buffer(env, argv[1], "address", &addr, &alen)) return NULL;
	if (alen > sizeof(struct sockaddr_storage)) return throw_arg(env, "address is too long");
	if (connect(s->p.fd, addr, (socklen_t)alen) < 0) return throw_errno(env, errno, "connect", NULL);
	return make_undefined(env);
}

static napi_value sock_name(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(s->p.fd, (struct sockaddr *)&ss, &len) < 0)
		return throw_errno(env, errno, "getsockname", NULL);
	return make_buffer_copy(env, &ss, len);
}

/* setsockopt(h, level, name, value): value is an int (number) or raw bytes (Buffer). */
static napi_value sock_setopt(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	if (!arg_count(env, info, 4, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	int32_t level, name;
	if (!get_i32(env, argv[1], "level", &level) || !get_i32(env, argv[2], "name", &name)) return NULL;
	napi_valuetype t;
	napi_typeof(env, argv[3], &t);
	int rc;
	if (t == napi_number) {
		int32_t v;
		if (!get_i32(env, argv[3], "value", &v)) return NULL;
		int iv = v;
		rc = setsockopt(s->p.fd, level, name, &iv, sizeof iv);
	} else {
		void *buf;
		size_t len;
		if (!get_buffer(env, argv[3], "value", &buf, &len)) return NULL;
		rc = setsockopt(s->p.fd, level, name, buf, (socklen_t)len);
	}
	if (rc < 0) {
		char d[64];
		snprintf(d, sizeof d, "level=%d option=%d", level, name);
		return throw_errno(env, errno, "setsockopt", d);
	}
	return make_undefined(env);
}

static napi_value sock_getopt(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	if (!arg_count(env, info, 4, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	int32_t level, name;
	uint32_t len;
	if (!get_i32(env, argv[1], "level", &level) || !get_i32(env, argv[2], "name", &name) ||
	    !get_u32(env, argv[3], "length", &len))
		return NULL;
	if (len > 65536) return throw_arg(env, "length is too large");
	uint8_t buf[65536];
	socklen_t l = len;
	if (getsockopt(s->p.fd, level, name, buf, &l) < 0) {
		char d[64];
		snprintf(d, sizeof d, "level=%d option=%d", level, name);
		return throw_errno(env, errno, "getsockopt", d);
	}
	return make_buffer_copy(env, buf, l);
}

/* send(h, data, addr|null, cmsgs|null, flags) -> bytes sent.
 * cmsgs: [{level, type, data: Buffer}] (IPV6_PKTINFO, SO_MARK, ...). */
static napi_value sock_send(napi_env env, napi_callback_info info)
{
	napi_value argv[5];
	if (!arg_count(env, info, 5, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	void *data;
	size_t dlen;
	if (!get_buffer(env, argv[1], "data", &data, &dlen)) return NULL;
	struct msghdr mh;
	memset(&mh, 0, sizeof mh);
	struct iovec iov = { .iov_base = data, .iov_len = dlen };
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (!is_nullish(env, argv[2])) {
		void *addr;
		size_t alen;
		if (!get_buffer(env, argv[2], "address", &addr, &alen)) return NULL;
		if (alen > sizeof(struct sockaddr_storage)) return throw_arg(env, "address is too long");
		mh.msg_name = addr;
		mh.msg_namelen = (socklen_t)alen;
	}
	uint8_t ctrl[CTRL_SIZE] __attribute__((aligned(8)));
	if (!is_nullish(env, argv[3])) {
		bool isarr = false;
		napi_is_array(env, argv[3], &isarr);
		if (!isarr) return throw_arg(env, "cmsgs must be an array");
		uint32_t n;
		napi_get_array_length(env, argv[3], &n);
		size_t used = 0;
		memset(ctrl, 0, sizeof ctrl);
		for (uint32_t i = 0; i < n; i++) {
			napi_value el, lv, tv, dv;
			napi_get_element(env, argv[3], i, &el);
			napi_get_named_property(env, el, "level", &lv);
			napi_get_named_property(env, el, "type", &tv);
			napi_get_named_property(env, el, "data", &dv);
			int32_t level, type;
			void *cd;
			size_t clen;
			if (!get_i32(env, lv, "cmsg.level", &level) || !get_i32(env, tv, "cmsg.type", &type) ||
			    !get_buffer(env, dv, "cmsg.data", &cd, &clen))
				return NULL;
			if (used + CMSG_SPACE(clen) > sizeof ctrl) return throw_arg(env, "control messages too large");
			struct cmsghdr *c = (struct cmsghdr *)(ctrl + used);
			c->cmsg_level = level;
			c->cmsg_type = type;
			c->cmsg_len = CMSG_LEN(clen);
			memcpy(CMSG_DATA(c), cd, clen);
			used += CMSG_SPACE(clen);
		}
		if (used) {
			mh.msg_control = ctrl;
			mh.msg_controllen = used;
		}
	}
	int32_t flags = 0;
	if (!is_nullish(env, argv[4]) && !get_i32(env, argv[4], "flags", &flags)) return NULL;
	ssize_t r;
	do {
		r = sendmsg(s->p.fd, &mh, flags | MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0) return throw_errno(env, errno, "sendmsg", NULL);
	return make_i32(env, (int32_t)r);
}

/* recv(h) -> message | null: one non-blocking read, for simple synchronous users. */
static napi_value sock_recv(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	if (!ensure_rxbuf(s)) return throw_errno(env, ENOMEM, "recvmsg", NULL);
	struct msghdr mh;
	struct sockaddr_storage ss;
	uint8_t ctrl[CTRL_SIZE];
	struct iovec iov;
	ssize_t r = recv_one(s, &mh, &ss, ctrl, &iov);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) return make_null(env);
		return throw_errno(env, errno, "recvmsg", NULL);
	}
	return msg_to_js(env, s->rxbuf, s->rxsize, r, &mh);
}

/* wait(h, timeoutMs) -> true when readable: a blocking poll(2), for CLI one-shots and tests. */
static napi_value sock_wait(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	int32_t timeout;
	if (!get_i32(env, argv[1], "timeoutMs", &timeout)) return NULL;
	struct pollfd pfd = { .fd = s->p.fd, .events = POLLIN };
	int r;
	do {
		r = poll(&pfd, 1, timeout);
	} while (r < 0 && errno == EINTR);
	if (r < 0) return throw_errno(env, errno, "poll", NULL);
	return make_bool(env, r > 0);
}

/* configure(h, {rxBufferSize?, batch?}) */
static napi_value sock_configure(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!arg_count(env, info, 3, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	uint32_t rx, batch;
	if (!get_u32(env, argv[1], "rxBufferSize", &rx) || !get_u32(env, argv[2], "batch", &batch)) return NULL;
	if (rx < 64 || rx > 16 * 1024 * 1024) return throw_arg(env, "rxBufferSize must be within 64..16M");
	if (batch < 1 || batch > 65536) return throw_arg(env, "batch must be within 1..65536");
	if (rx != s->rxsize) {
		free(s->rxbuf);
		s->rxbuf = NULL;
		s->rxsize = rx;
	}
	s->batch = batch;
	return make_undefined(env);
}

static napi_value sock_start(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	if (!poller_start(&s->p, env, argv[1])) return NULL;
	return make_undefined(env);
}

static napi_value sock_stop(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	poller_stop(&s->p, env);
	return make_undefined(env);
}

static napi_value sock_ref(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!arg_count(env, info, 2, argv, NULL)) return NULL;
	sock_t *s = get_sock(env, argv[0]);
	if (!s) return NULL;
	bool ref;
	if (napi_get_value_bool(env, argv[1], &ref) != napi_ok) return throw_arg(env, "ref must be a boolean");
	poller_set_ref(&s->p, ref);
	return make_undefined(env);
}

/* close(h): idempotent; a closed handle throws EBADF on any other use. */
static napi_value sock_close(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!arg_count(env, info, 1, argv, NULL)) return NULL;
	void *data = NULL;
	napi_valuetype t;
	napi_typeof(env, argv[0], &t);
	if (t != napi_external || napi_get_value_external(env, argv[0], &data) != napi_ok || !data)
		return throw_arg(env, "expected a socket handle");
	poller_close(data, env);
	return make_undefined(env);
}

void register_sockets(napi_env env, napi_value exports)
{
	export_fn(env, exports, "socketOpen", sock_open);
	export_fn(env, exports, "socketFd", sock_fd);
	export_fn(env, exports, "socketBind", sock_bind);
	export_fn(env, exports, "socketConnect", sock_connect);
	export_fn(env, exports, "socketName", sock_name);
	export_fn(env, exports, "socketSetOpt", sock_setopt);
	export_fn(env, exports, "socketGetOpt", sock_getopt);
	export_fn(env, exports, "socketSend", sock_send);
	export_fn(env, exports, "socketRecv", sock_recv);
	export_fn(env, exports, "socketWait", sock_wait);
	export_fn(env, exports, "socketConfigure", sock_configure);
	export_fn(env, exports, "socketStart", sock_start);
	export_fn(env, exports, "socketStop", sock_stop);
	export_fn(env, exports, "socketRef", sock_ref);
	export_fn(env, exports, "socketClose", sock_close);
}
