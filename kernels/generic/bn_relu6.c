/* bn_relu6.c - fused BatchNorm (as scale/shift) + ReLU6, portable C. */
#include "ukernels.h"

void mnet_f32_bn_relu6__scalar(size_t pixels, size_t c, const float *x, const float *scale,
        const float *shift, float *y)
{
    for (size_t p = 0; p < pixels; p++, x += c, y += c)
        for (size_t ch = 0; ch < c; ch++) {
            float v = x[ch] * scale[ch] + shift[ch];
            v = v < 0.0f ? 0.0f : v;
            y[ch] = v > 6.0f ? 6.0f : v;
        }
}
