/* preprocess.c - 8-bit image -> model input: bilinear resize (half-pixel centres), mean/std. */
#include <stdlib.h>

#include "model.h"

/* Source coordinate of destination index i, PyTorch's align_corners=False rule:
 * src = (i + 0.5) * in / out - 0.5, clamped at 0; the right neighbour is clamped at in - 1. */
static void axis(int i, int in, int out, int *i0, int *i1, float *frac)
{
    const float scale = (float)in / (float)out;
    float src = scale * ((float)i + 0.5f) - 0.5f;
    if (src < 0.0f)
        src = 0.0f;
    int lo = (int)src;
    if (lo > in - 1)
        lo = in - 1;
    *i0 = lo;
    *i1 = lo < in - 1 ? lo + 1 : lo;
    *frac = src - (float)lo;
}

mnet_status mnet_preprocess_u8(const mnet_model *m, const uint8_t *image, int width, int height,
        int channels, size_t row_stride, float *out)
{
    static const char fn[] = "mnet_preprocess_u8";
    if (!m || !image || !out)
        return mnet_error(MNET_ERR_ARG, "%s: %s is NULL", fn, !m ? "m" : !image ? "image" : "out");
    if (width < 1 || height < 1 || width > 65536 || height > 65536)
        return mnet_error(MNET_ERR_ARG, "%s: image size %dx%d is not within 1..65536", fn, width,
                height);
    if (channels != 1 && channels != 3)
        return mnet_error(MNET_ERR_ARG, "%s: channels must be 1 (gray) or 3 (RGB), got %d", fn,
                channels);
    const int mc = m->info.channels;
    if (channels == 3 && mc != 3)
        return mnet_error(MNET_ERR_ARG, "%s: an RGB image needs a 3-channel model (this one has "
                "%d)", fn, mc);
    if (row_stride < (size_t)width * (size_t)channels)
        return mnet_error(MNET_ERR_ARG, "%s: row_stride %zu is smaller than width * channels",
                fn, row_stride);
    const int oh = m->info.height, ow = m->info.width;
    for (int y = 0; y < oh; y++) {
        int y0, y1;
        float fy;
        axis(y, height, oh, &y0, &y1, &fy);
        const uint8_t *r0 = image + (size_t)y0 * row_stride, *r1 = image + (size_t)y1 * row_stride;
        for (int x = 0; x < ow; x++) {
            int x0, x1;
            float fx;
            axis(x, width, ow, &x0, &x1, &fx);
            for (int c = 0; c < mc; c++) {
                const int sc = channels == 1 ? 0 : c;
                const float a = r0[(size_t)x0 * channels + sc], b = r0[(size_t)x1 * channels + sc];
                const float cc = r1[(size_t)x0 * channels + sc], d = r1[(size_t)x1 * channels + sc];
                const float v = (1.0f - fy) * ((1.0f - fx) * a + fx * b) + fy * ((1.0f - fx) * cc + fx * d);
                out[((size_t)y * ow + x) * mc + c] = (v / 255.0f - m->mean[c]) / m->std[c];
            }
        }
    }
    mnet_clear_error();
    return MNET_OK;
}
