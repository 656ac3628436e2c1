/* pack.c - weight packing into the layouts the micro-kernels read (see kernels/ukernels.h). */
#include <string.h>

#include "internal.h"

static size_t groups(int count, int tile)
{
    return ((size_t)count + (size_t)tile - 1) / (size_t)tile;
}

size_t mnet_packed_dwconv_floats(int c, int cr, int taps)
{
    return groups(c, cr) * (size_t)cr * (1 + (size_t)taps);
}

void mnet_pack_dwconv(int c, int cr, int taps, const float *w, const float *bias, float *packed)
{
    /* group g: bias[cr] then w[tap][cr]; lanes past c are zero so tails compute harmlessly. */
    const size_t group_floats = (size_t)cr * (1 + (size_t)taps);
    memset(packed, 0, mnet_packed_dwconv_floats(c, cr, taps) * sizeof(float));
    for (int ch = 0; ch < c; ch++) {
        float *g = packed + (size_t)(ch / cr) * group_floats;
        int lane = ch % cr;
        g[lane] = bias ? bias[ch] : 0.0f;
        for (int tap = 0; tap < taps; tap++)
            g[cr + tap * cr + lane] = w[(size_t)tap * c + ch];
    }
}

void mnet_unpack_dwconv(int c, int cr, int taps, const float *packed, float *w, float *bias)
{
    const size_t group_floats = (size_t)cr * (1 + (size_t)taps);
    for (int ch = 0; ch < c; ch++) {
        const float *g = packed + (size_t)(ch / cr) * group_floats;
        const int lane = ch % cr;
        bias[ch] = g[lane];
        for (int tap = 0; tap < taps; tap++)
            w[(size_t)tap * c + ch] = g[cr + tap * cr + lane];
    }
}

size_t mnet_packed_conv3x3_floats(int cin, int cout, int cr)
{
    return groups(cout, cr) * (size_t)cr * (1 + 9 * (size_t)cin);
}

void mnet_pack_conv3x3(int cin, int cout, int cr, const float *w, const float *bias, float *packed)
{
    const size_t group_floats = (size_t)cr * (1 + 9 * (size_t)cin);
    memset(packed, 0, mnet_packed_conv3x3_floats(cin, cout, cr) * sizeof(float));
    for (int co = 0; co < cout; co++) {
        float *g = packed + (size_t)(co / cr) * group_floats;
        int lane = co % cr;
        g[lane] = bias ? bias[co] : 0.0f;
        /* [ky][kx][ci] in both layouts: only the output channel moves to the innermost place. */
        for (size_t t = 0; t < 9 * (size_t)cin; t++)
            g[cr + t * cr + lane] = w[(size_t)co * 9 * cin + t];
    }
}

void mnet_unpack_conv3x3(int cin, int cout, int cr, const float *packed, float *w, float *bias)
{
    const size_t group_floats = (size_t)cr * (1 + 9 * (size_t)cin);
    for (int co = 0; co < cout; co++) {
        const float *g = packed + (size_t)(co / cr) * group_floats;
        const int lane = co % cr;
        bias[co] = g[lane];
        for (size_t t = 0; t < 9 * (size_t)cin; t++)
            w[(size_t)co * 9 * cin + t] = g[cr + t * cr + lane];
    }
}

size_t mnet_packed_gemm_floats(int k, int n, int nr)
{
    return groups(n, nr) * (size_t)nr * (1 + (size_t)k);
}

void mnet_pack_gemm(int k, int n, int nr, const float *b, const float *bias, float *packed)
{
    for (int j0 = 0; j0 < n; j0 += nr) {
        const size_t cols = (size_t)(n - j0 < nr ? n - j0 : nr), pad = (size_t)nr - cols;
        if (bias)
            memcpy(packed, bias + j0, cols * sizeof(float));
        else
            memset(packed, 0, cols * sizeof(float));
        memset(packed + cols, 0, pad * sizeof(float));
        packed += nr;
        /* Row by row with whole copies: the panel's columns of each row are contiguous. */
        for (int kk = 0; kk < k; kk++, packed += nr) {
            memcpy(packed, b + (size_t)kk * n + j0, cols * sizeof(float));
            memset(packed + cols, 0, pad * sizeof(float));
        }
    }
}

void mnet_unpack_gemm(int k, int n, int nr, const float *packed, float *b, float *bias)
{
    for (int j0 = 0; j0 < n; j0 += nr) {
        const int cols = n - j0 < nr ? n - j0 : nr;
        for (int j = 0; bias && j < cols; j++)
            bias[j0 + j] = packed[j];
        packed += nr;
        for (int kk = 0; kk < k; kk++, packed += nr)
            for (int j = 0; j < cols; j++)
                b[(size_t)kk * n + j0 + j] = packed[j];
    }
}

size_t mnet_packed_gemm_sliced_floats(int k, int n, int nr, int slice)
{
    size_t floats = 0;
    for (int k0 = 0; k0 < k; k0 += slice)
        floats += mnet_packed_gemm_floats((int)mnet_slice_len((size_t)k, (size_t)k0, (size_t)slice),
                n, nr);
    return floats;
}

void mnet_pack_gemm_sliced(int k, int n, int nr, int slice, const float *b, const float *bias,
        float *packed)
{
    for (int k0 = 0; k0 < k; k0 += slice) {
        const int ks = (int)mnet_slice_len((size_t)k, (size_t)k0, (size_t)slice);
        mnet_pack_gemm(ks, n, nr, b + (size_t)k0 * n, k0 == 0 ? bias : NULL, packed);
        packed += mnet_packed_gemm_floats(ks, n, nr);
    }
}

void mnet_unpack_gemm_sliced(int k, int n, int nr, int slice, const float *packed, float *b,
        float *bias)
{
    for (int k0 = 0; k0 < k; k0 += slice) {
        const int ks = (int)mnet_slice_len((size_t)k, (size_t)k0, (size_t)slice);
        mnet_unpack_gemm(ks, n, nr, packed, b + (size_t)k0 * n, k0 == 0 ? bias : NULL);
        packed += mnet_packed_gemm_floats(ks, n, nr);
    }
}
