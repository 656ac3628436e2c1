/* cpu_arm.c - AArch64 feature detection: Advanced SIMD (NEON) is part of the base ISA. */
#include "internal.h"

unsigned mnet_cpu_isa_mask(void)
{
    return (1u << MNET_ISA_SCALAR) | (1u << MNET_ISA_NEON);
}

int mnet_cpu_has_clmul(void)
{
    return 0;
}

int mnet_cpu_avx512_halves(void)
{
    return 0;
}
