// The two event libraries libwebsockets can run on instead of poll(2) (its libev and libuv
// plugins, installed with libwebsockets-dev, which also brings libev-dev and libuv1-dev).
// Stelling owns the loop ("foreign loop") so that it can run one pass at a time between its
// executor's jobs, as it does with lws_service() on poll(2). Only what the service thread
// needs, as static inline wrappers: ev.h's and uv.h's own declarations lean on macros.
#ifndef STELLING_CEVENTLIBS_SHIM_H
#define STELLING_CEVENTLIBS_SHIM_H

#include <stdlib.h>
#include <ev.h>
#include <uv.h>

/// A new libev loop on the best backend (epoll on Linux); NULL on failure.
static inline void *stelling_ev_loop_new(void) { return ev_loop_new(EVFLAG_AUTO); }

/// Waits for and handles at least one libev event (like lws_service on poll(2)).
static inline void stelling_ev_run_once(void *loop) { ev_run((struct ev_loop *)loop, EVRUN_ONCE); }

/// Frees a libev loop once nothing uses it.
static inline void stelling_ev_loop_destroy(void *loop) { ev_loop_destroy((struct ev_loop *)loop); }

/// The name of the loop's backend ("epoll", "poll", ...), for the log.
static inline const char *stelling_ev_backend_name(void *loop) {
    switch (ev_backend((struct ev_loop *)loop)) {
    case EVBACKEND_EPOLL: return "epoll";
    case EVBACKEND_POLL: return "poll";
    case EVBACKEND_SELECT: return "select";
    default: return "other";
    }
}

/// A new libuv loop (epoll on Linux); NULL on failure.
static inline void *stelling_uv_loop_new(void) {
    uv_loop_t *loop = malloc(sizeof *loop);
    if (loop && uv_loop_init(loop) != 0) { free(loop); return NULL; }
    return loop;
}

/// Waits for and handles at least one libuv event; returns non-zero while handles are active.
static inline int stelling_uv_run_once(void *loop) { return uv_run((uv_loop_t *)loop, UV_RUN_ONCE); }

/// Runs the loop until its last handle has closed (lws closes its handles asynchronously after
/// lws_context_destroy), at most `passes` passes, then frees it. Returns 0 when it could be closed.
static inline int stelling_uv_loop_finish(void *loop, int passes) {
    while (passes-- > 0 && uv_run((uv_loop_t *)loop, UV_RUN_NOWAIT)) {}
    int result = uv_loop_close((uv_loop_t *)loop);
    if (result == 0) free(loop);
    return result;
}

#endif
