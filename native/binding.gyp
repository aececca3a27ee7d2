{
  "targets": [
    {
      "target_name": "iro_native",
      "sources": [
        "src/addon.c",
        "src/errors.c",
        "src/poller.c",
        "src/sockets.c",
        "src/bpf_object.c",
        "src/bpf_maps.c",
        "src/bpf_progs.c",
        "src/bpf_ringbuf.c",
        "src/netns.c"
      ],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["-lbpf"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
