// What Swift cannot import from libwebsockets 4.1.6 directly, as documented
// static inline wrappers (see ../shared/LIBWEBSOCKETS.md).
#ifndef STELLING_CWEBSOCKETS_SHIM_H
#define STELLING_CWEBSOCKETS_SHIM_H

#include <libwebsockets.h>

/// LWS_PRE is a function-like macro: the headroom lws_write() needs before the payload.
static inline size_t stelling_lws_pre(void) { return LWS_PRE; }

#endif
