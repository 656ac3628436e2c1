/* evict.h - pushing a benchmark's data and code out of the caches: EVICT_BYTES written one
 * line at a time, more than the L2 and the L3 slice of the development machine's cores.  Shared
 * by bench_models (flushed_ms), bench_machine (pagetouch's cold_us) and `mnet bench`'s
 * flushed_ms (tools/mnet.c). */
#ifndef MNET_BENCH_EVICT_H
#define MNET_BENCH_EVICT_H

#include <stddef.h>

#define EVICT_BYTES ((size_t)64 << 20)

/* Writes every 64-byte line of buf (EVICT_BYTES long), so each is brought in and dirtied. */
static inline void evict_caches(unsigned char *buf)
{
    for (size_t i = 0; i < EVICT_BYTES; i += 64)
        buf[i] = (unsigned char)(buf[i] + 1);
}

#endif /* MNET_BENCH_EVICT_H */
