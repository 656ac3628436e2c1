/* channel_scale.c - squeeze-and-excite apply, y[p][ch] = x[p][ch] * scale[ch], portable C. */
#include "ukernels.h"

void mnet_f32_channel_scale__scalar(size_t pixels, size_t c, const float *x, const float *scale,
        float *y)
{
    for (size_t p = 0; p < pixels; p++, x += c, y += c)
        for (size_t ch = 0; ch < c; ch++)
            y[ch] = x[ch] * scale[ch];
}
