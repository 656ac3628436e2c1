/* cpu_x86.c - x86-64 feature detection for the dispatcher: CPUID + XGETBV.  The tiers are
 * vendor-neutral; only the choice between the AVX-512 GEMMs reads the vendor and family. */
#include <cpuid.h>

#include "internal.h"

/* XGETBV without requiring -mxsave for this (baseline) file. */
static unsigned long long read_xcr0(void)
{
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

unsigned mnet_cpu_isa_mask(void)
{
    unsigned mask = 1u << MNET_ISA_SCALAR;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return mask;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    /* XGETBV is only legal when OSXSAVE is set; bits 1 and 2 say the OS saves XMM and YMM. */
    if (!osxsave || !avx || !fma || (read_xcr0() & 6) != 6)
        return mask;
    if (__get_cpuid_max(0, 0) < 7)
        return mask;
    __cpuid_count(7, 0, a, b, c, d);
    if (!((b >> 5) & 1))   /* AVX2 */
        return mask;
    mask |= 1u << MNET_ISA_AVX2;
    /* AVX-512F, with the OS saving opmask and all of ZMM (XCR0 bits 5, 6, 7). */
    if (((b >> 16) & 1) && (read_xcr0() & 0xE6) == 0xE6)
        mask |= 1u << MNET_ISA_AVX512;
    return mask;
}

int mnet_cpu_has_clmul(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && ((c >> 1) & 1) && ((c >> 19) & 1);   /* PCLMULQDQ, SSE4.1 */
}

int mnet_cpu_avx512_halves(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return 0;
    /* "AuthenticAMD" in EBX, EDX, ECX */
    const int amd = b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u;
    if (!amd || !__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    const unsigned base = (a >> 8) & 0xf, family = base + (base == 0xf ? (a >> 20) & 0xff : 0);
    /* Family 19h is Zen 3 and Zen 4; only Zen 4 has AVX-512, which the caller's tier needs. */
    return family == 0x19 && (mnet_cpu_isa_mask() & (1u << MNET_ISA_AVX512)) != 0;
}
