// What Swift cannot import from libwebsockets 4.1.6 directly, as documented
// static inline wrappers (see ../shared/LIBWEBSOCKETS.md).
#ifndef STELLING_CWEBSOCKETS_SHIM_H
#define STELLING_CWEBSOCKETS_SHIM_H

#include <libwebsockets.h>

/// LWS_PRE is a function-like macro: the headroom lws_write() needs before the payload.
static inline size_t stelling_lws_pre(void) { return LWS_PRE; }

/// A timer that carries its owner: lws_sorted_usec_list_t has no user pointer, and
/// lws_container_of is a macro, so the owner sits right after the embedded list entry.
typedef struct stelling_timer {
    lws_sorted_usec_list_t sul; // must stay first: the callback gets a pointer to it
    void *owner;
} stelling_timer;

/// Recovers the owner of a stelling_timer from the sul pointer lws hands to the callback.
static inline void *stelling_timer_owner(lws_sorted_usec_list_t *sul) {
    return ((stelling_timer *)sul)->owner;
}

/// Returns the sul inside a stelling_timer: Swift cannot take the address of a C struct member.
static inline lws_sorted_usec_list_t *stelling_timer_sul(stelling_timer *timer) {
    return &timer->sul;
}

#endif
