/* hswish.c - h-swish, x * min(max(x + 3, 0), 6) / 6, for AArch64 NEON; x == y allowed. */
#include <arm_neon.h>

#include "ukernels.h"
#include "tail.h"

void mnet_f32_hswish__neon(size_t count, const float *x, float *y)
{
    mnet_neon_hact_array(count, x, y, MNET_EPI_HSWISH);
}
