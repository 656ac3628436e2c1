/* hswish.c - h-swish, x * min(max(x + 3, 0), 6) / 6, portable C. */
#include <math.h>

#include "ukernels.h"

void mnet_f32_hswish__scalar(size_t count, const float *x, float *y)
{
    for (size_t i = 0; i < count; i++)
        y[i] = mnet_epilogue_f32(x[i], -INFINITY, INFINITY, MNET_EPI_HSWISH);
}
