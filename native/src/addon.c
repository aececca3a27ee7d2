/* Module entry: registers each part. */
#include "common.h"

static napi_value init(napi_env env, napi_value exports)
{
	register_sockets(env, exports);
	register_bpf_object(env, exports);
	register_bpf_maps(env, exports);
	register_bpf_progs(env, exports);
	register_bpf_ringbuf(env, exports);
	register_netns(env, exports);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
