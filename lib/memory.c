/* memory.c - allocation of the large, long-lived buffers: weights, packed weights, scratch.
 * Those of 1 MiB or more are anonymous mappings starting on a 2 MiB boundary with transparent
 * huge pages requested: a model's 14 MB of weights then take ~7 page faults instead of ~3,500
 * (page faults dominate loading on a VM), and GEMM weight streaming misses the TLB less.  The
 * length is only rounded to whole pages, so nothing beyond the request is committed (the
 * loader's memory stays within the file's size). */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS, madvise */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "internal.h"

#define HUGE_SIZE ((size_t)2 << 20)
#define BIG_THRESHOLD ((size_t)1 << 20)

static size_t round_page(size_t bytes)
{
    return (bytes + 4095) & ~(size_t)4095;
}

void *mnet_big_alloc(size_t bytes)
{
    if (bytes == 0)
        bytes = 1;
    if (bytes < BIG_THRESHOLD) {
        void *p;
        return posix_memalign(&p, 64, bytes) == 0 ? p : NULL;
    }
    if (bytes > SIZE_MAX - 2 * HUGE_SIZE)   /* len + span below cannot wrap */
        return NULL;
    const size_t len = round_page(bytes), span = len + HUGE_SIZE;
    uint8_t *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)raw + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1));
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    if (raw + span > p + len)
        munmap(p + len, (size_t)(raw + span - (p + len)));
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);   /* advice only: without THP, ordinary pages */
#endif
    return p;
}

size_t mnet_big_round(size_t bytes)
{
    if (bytes < BIG_THRESHOLD || bytes > SIZE_MAX - 4 * HUGE_SIZE)
        return bytes;
    return (bytes + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
}

void mnet_big_free(void *p, size_t bytes)
{
    if (!p)
        return;
    if (bytes == 0)
        bytes = 1;
    if (bytes < BIG_THRESHOLD)
        free(p);
    else
        munmap(p, round_page(bytes));
}
