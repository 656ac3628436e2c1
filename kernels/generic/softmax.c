/* softmax.c - one row of a numerically stable softmax, portable C with libm's expf. */
#include <math.h>

#include "ukernels.h"

void mnet_f32_softmax__scalar(size_t c, const float *in, float *out)
{
    float max = in[0];
    for (size_t i = 1; i < c; i++)
        max = in[i] > max ? in[i] : max;
    float sum = 0.0f;
    for (size_t i = 0; i < c; i++) {
        out[i] = expf(in[i] - max);   /* every exponent <= 0: no overflow */
        sum += out[i];
    }
    const float inv = 1.0f / sum;     /* sum >= 1: the max term is exp(0) */
    for (size_t i = 0; i < c; i++)
        out[i] *= inv;
}
