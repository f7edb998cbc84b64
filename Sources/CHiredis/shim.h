// hiredis 0.14 (Debian libhiredis-dev) for Swift: the blocking client API
// (redisConnectWithTimeout, redisSetTimeout, redisCommandArgv, redisAppendCommandArgv,
// redisGetReply, freeReplyObject, redisFree) imports as it is; only StellingCluster's
// Redis/ files use it. What Swift cannot use directly gets one documented static inline
// wrapper here:
//   - redisContext.errstr is a fixed-size char array, which Swift imports as a 128-element
//     tuple: stelling_redis_errstr returns it as a C string.
// No RESP is parsed or written by hand: hiredis does both.
#ifndef STELLING_CHIREDIS_SHIM_H
#define STELLING_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>

/// The context's error message: errstr is a char[128], imported by Swift as a tuple.
static inline const char *stelling_redis_errstr(const redisContext *context) {
    return context->errstr;
}

#endif
