/* memory.c - allocation of the large, long-lived buffers: weights, packed weights, scratch.
 * Those of 1 MiB or more are anonymous mappings starting on a 2 MiB boundary with transparent
 * huge pages requested: a model's 14 MB of weights then take ~7 page faults instead of ~3,500
 * (page faults dominate loading on a VM), and GEMM weight streaming misses the TLB less.  The
 * length is only rounded to whole pages, so nothing beyond the request is committed (the
 * loader's memory stays within the file's size). */
#define _GNU_SOURCE   /* MAP_ANONYMOUS, madvise, dl_iterate_phdr */
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* The library's code.  Its pages are mapped into the process on first execution, one page
 * fault per 64 KiB or so (the kernel's fault-around), and on this VM a fault costs 10-15 us
 * (an anonymous page's first write: 12 us): a small model's first inference took 3-7 of them,
 * about one per kernel it met for the first time.  mnet_prefault_code maps the whole
 * executable segment at once (one madvise) before the first inference, as the activation
 * buffers are faulted in when a context is made. */
typedef struct code_range {
    uintptr_t self;      /* in: an address inside the library's code */
    uintptr_t lo, hi;    /* out: the executable segment holding it */
} code_range;

static int find_code(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    code_range *r = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        const uintptr_t lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (r->self >= lo && r->self < hi) {
            r->lo = lo;
            r->hi = hi;
            return 1;
        }
    }
    return 0;
}

size_t mnet_code_range(uintptr_t *lo, uintptr_t *hi)
{
    code_range r = { .self = (uintptr_t)&mnet_code_range };
    if (dl_iterate_phdr(find_code, &r) == 0)
        return 0;
    *lo = r.lo;
    *hi = r.hi;
    return r.hi - r.lo;
}

__attribute__((no_sanitize("address", "thread")))
unsigned mnet_touch_pages(uintptr_t lo, uintptr_t hi, uintptr_t page)
{
    unsigned sum = 0;
    for (uintptr_t a = lo & ~(page - 1); a < hi; a += page)
        sum += *(volatile const unsigned char *)a;
    return sum;
}

int mnet_map_code(void)
{
    uintptr_t lo, hi;
    const long page = sysconf(_SC_PAGESIZE);
    if (mnet_code_range(&lo, &hi) == 0 || page <= 0)
        return -1;
    lo &= ~((uintptr_t)page - 1);
    if (madvise((void *)lo, hi - lo, MNET_MADV_POPULATE_READ) == 0)
        return 1;
    /* Older kernels: one read per page maps it too (code pages are readable). */
    (void)mnet_touch_pages(lo, hi, (uintptr_t)page);
    return 0;
}

static void map_code_once(void)
{
    (void)mnet_map_code();
}

void mnet_prefault_code(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, map_code_once);
}
