/* gavgpool.c - global average pool of one NHWC image, portable C. */
#include "ukernels.h"

void mnet_f32_gavgpool__scalar(size_t pixels, size_t c, const float *in, float *out)
{
    const float inv = 1.0f / (float)pixels;
    for (size_t ch = 0; ch < c; ch++) {
        float sum = 0.0f;
        for (size_t p = 0; p < pixels; p++)
            sum += in[p * c + ch];
        out[ch] = sum * inv;
    }
}
