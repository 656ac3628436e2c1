/* cpu_other.c - feature detection for architectures with no SIMD tier: scalar only. */
#include "internal.h"

unsigned mnet_cpu_isa_mask(void)
{
    return 1u << MNET_ISA_SCALAR;
}

int mnet_cpu_has_clmul(void)
{
    return 0;
}

int mnet_cpu_avx512_halves(void)
{
    return 0;
}
