/* add.c - elementwise add with clamp (the V2 residual), portable C; in place is allowed. */
#include "ukernels.h"

void mnet_f32_add_minmax__scalar(size_t count, const float *a, const float *b, float out_min,
        float out_max, float *out)
{
    for (size_t i = 0; i < count; i++) {
        float v = a[i] + b[i];
        v = v < out_min ? out_min : v;
        out[i] = v > out_max ? out_max : v;
    }
}
