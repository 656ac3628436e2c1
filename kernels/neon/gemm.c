/* gemm.c - GEMM tile for AArch64 NEON: 8 rows x 8 columns, A read four k-steps at a time. */
#include <arm_neon.h>

#include "ukernels.h"
#include "tail.h"

#define MR 8
#define NR 8

/* Why 8x8 on 32 vector registers: 16 accumulators (8 rows x 2 vectors of 4 columns), 8 A
 * vectors each holding 4 consecutive k-values of one row, 2 B vectors for the current k: 26
 * registers, plus the 2 clamp bounds.  Per k-step that is 2 B loads + 2 A loads (8 rows / 4 k)
 * for 16 FMAs, a better load:FMA ratio than 6x8 (3.5:12) or 4x16 (5:16), and 8 columns waste
 * nothing on MobileNet's channel counts (all multiples of 8).  Each A vector is consumed lane
 * by lane with fmla-by-element, so no broadcast loads are needed. */

/* One row (the classifier, m = 1), two panels at a time: 4 accumulator chains instead of the
 * tile's 16 idle-but-computed rows.  Each column accumulates bias, then k = 0, 1, ... in order
 * with fused multiply-adds, as the tile does, so a row's result does not depend on its tile. */
static void gemm_1x8(size_t nc, size_t kc, const float *a, const float *w, float *c,
        float32x4_t vmin, float32x4_t vmax, int act, const char *pf, size_t pf_lines)
{
    const size_t panel = NR * (kc + 1);
    for (size_t j0 = 0; j0 < nc; j0 += 2 * NR, w += 2 * panel) {
        const int two = nc - j0 > NR;
        const float *v = two ? w + panel : w;   /* no second panel: recompute the first */
        float32x4_t xl = vld1q_f32(w), xh = vld1q_f32(w + 4);
        float32x4_t yl = vld1q_f32(v), yh = vld1q_f32(v + 4);
        for (size_t k = 0; k < kc; k++) {
            MNET_PREFETCH_STEP(pf, pf_lines);
            const float ak = a[k];
            xl = vfmaq_n_f32(xl, vld1q_f32(w + NR * (k + 1)), ak);
            xh = vfmaq_n_f32(xh, vld1q_f32(w + NR * (k + 1) + 4), ak);
            yl = vfmaq_n_f32(yl, vld1q_f32(v + NR * (k + 1)), ak);
            yh = vfmaq_n_f32(yh, vld1q_f32(v + NR * (k + 1) + 4), ak);
        }
        const size_t cols = nc - j0 < NR ? nc - j0 : NR;
        mnet_neon_store8(c + j0, mnet_neon_epi(xl, vmin, vmax, act),
                mnet_neon_epi(xh, vmin, vmax, act), cols);
        if (two) {
            const size_t cols2 = nc - j0 - NR < NR ? nc - j0 - NR : NR;
            mnet_neon_store8(c + j0 + NR, mnet_neon_epi(yl, vmin, vmax, act),
                    mnet_neon_epi(yh, vmin, vmax, act), cols2);
        }
    }
}

void mnet_f32_gemm_minmax_8x8__neon(size_t mr, size_t nc, size_t kc, const float *a,
        size_t a_stride, const float *packed_w, float *c, size_t c_stride,
        float out_min, float out_max, int act, const char *pf, size_t pf_lines)
{
    if (mr == 1) {
        gemm_1x8(nc, kc, a, packed_w, c, vdupq_n_f32(out_min), vdupq_n_f32(out_max), act, pf,
                pf_lines);
        return;
    }
    /* MR = 8 rows.  Rows past mr re-read the row above them: computed, never stored, and always inside a. */
    const float *a0 = a;
    const float *a1 = mr > 1 ? a0 + a_stride : a0;
    const float *a2 = mr > 2 ? a1 + a_stride : a1;
    const float *a3 = mr > 3 ? a2 + a_stride : a2;
    const float *a4 = mr > 4 ? a3 + a_stride : a3;
    const float *a5 = mr > 5 ? a4 + a_stride : a4;
    const float *a6 = mr > 6 ? a5 + a_stride : a5;
    const float *a7 = mr > 7 ? a6 + a_stride : a6;
    const float32x4_t vmin = vdupq_n_f32(out_min), vmax = vdupq_n_f32(out_max);

    /* One NR-wide panel { bias[NR], w[kc][NR] } per pass; the last one may be partial in the
     * output, but its packed weights are zero-padded to NR, so the whole tile is computed. */
    for (size_t j0 = 0; j0 < nc; j0 += NR, packed_w += NR * (kc + 1)) {
        float32x4_t c0l = vld1q_f32(packed_w), c0h = vld1q_f32(packed_w + 4);
        float32x4_t c1l = c0l, c1h = c0h, c2l = c0l, c2h = c0h, c3l = c0l, c3h = c0h;
        float32x4_t c4l = c0l, c4h = c0h, c5l = c0l, c5h = c0h, c6l = c0l, c6h = c0h;
        float32x4_t c7l = c0l, c7h = c0h;
        const float *w = packed_w + NR;
        const float *p0 = a0, *p1 = a1, *p2 = a2, *p3 = a3;
        const float *p4 = a4, *p5 = a5, *p6 = a6, *p7 = a7;

        /* One k-step: B row k (2 vectors) times lane L of every row's A vector.  B comes in
         * with one two-register load: with two separate loads GCC 12's pre-allocation
         * scheduler hoists them and the allocator pays with 8 vector moves per 4 k-steps. */
#define STEP(L) do {                                                          \
            const float32x4x2_t b = vld1q_f32_x2(w);                          \
            const float32x4_t bl = b.val[0], bh = b.val[1];                   \
            w += NR;                                                          \
            MNET_PREFETCH_STEP(pf, pf_lines);                                 \
            c0l = vfmaq_laneq_f32(c0l, bl, x0, L); c0h = vfmaq_laneq_f32(c0h, bh, x0, L); \
            c1l = vfmaq_laneq_f32(c1l, bl, x1, L); c1h = vfmaq_laneq_f32(c1h, bh, x1, L); \
            c2l = vfmaq_laneq_f32(c2l, bl, x2, L); c2h = vfmaq_laneq_f32(c2h, bh, x2, L); \
            c3l = vfmaq_laneq_f32(c3l, bl, x3, L); c3h = vfmaq_laneq_f32(c3h, bh, x3, L); \
            c4l = vfmaq_laneq_f32(c4l, bl, x4, L); c4h = vfmaq_laneq_f32(c4h, bh, x4, L); \
            c5l = vfmaq_laneq_f32(c5l, bl, x5, L); c5h = vfmaq_laneq_f32(c5h, bh, x5, L); \
            c6l = vfmaq_laneq_f32(c6l, bl, x6, L); c6h = vfmaq_laneq_f32(c6h, bh, x6, L); \
            c7l = vfmaq_laneq_f32(c7l, bl, x7, L); c7h = vfmaq_laneq_f32(c7h, bh, x7, L); \
        } while (0)

        size_t k = kc;
        for (; k >= 4; k -= 4) {
            const float32x4_t x0 = vld1q_f32(p0), x1 = vld1q_f32(p1);
            const float32x4_t x2 = vld1q_f32(p2), x3 = vld1q_f32(p3);
            const float32x4_t x4 = vld1q_f32(p4), x5 = vld1q_f32(p5);
            const float32x4_t x6 = vld1q_f32(p6), x7 = vld1q_f32(p7);
            p0 += 4; p1 += 4; p2 += 4; p3 += 4; p4 += 4; p5 += 4; p6 += 4; p7 += 4;
            STEP(0);
            STEP(1);
            STEP(2);
            STEP(3);
        }
        /* kc % 4 left: one A value per row, broadcast (a row ends at its last k, so no vector
         * load may reach past it). */
        for (; k != 0; k--) {
            const float32x4_t x0 = vld1q_dup_f32(p0++), x1 = vld1q_dup_f32(p1++);
            const float32x4_t x2 = vld1q_dup_f32(p2++), x3 = vld1q_dup_f32(p3++);
            const float32x4_t x4 = vld1q_dup_f32(p4++), x5 = vld1q_dup_f32(p5++);
            const float32x4_t x6 = vld1q_dup_f32(p6++), x7 = vld1q_dup_f32(p7++);
            STEP(0);
        }
#undef STEP

#define CLAMP(v) v = mnet_neon_epi(v, vmin, vmax, act)
        CLAMP(c0l); CLAMP(c0h); CLAMP(c1l); CLAMP(c1h); CLAMP(c2l); CLAMP(c2h);
        CLAMP(c3l); CLAMP(c3h); CLAMP(c4l); CLAMP(c4h); CLAMP(c5l); CLAMP(c5h);
        CLAMP(c6l); CLAMP(c6h); CLAMP(c7l); CLAMP(c7h);
#undef CLAMP

        /* Only the mr real rows and the cols real columns are written. */
        const size_t cols = nc - j0 < NR ? nc - j0 : NR;
        float *o = c + j0;
        mnet_neon_store8(o, c0l, c0h, cols);
        if (mr > 1) mnet_neon_store8(o + 1 * c_stride, c1l, c1h, cols);
        if (mr > 2) mnet_neon_store8(o + 2 * c_stride, c2l, c2h, cols);
        if (mr > 3) mnet_neon_store8(o + 3 * c_stride, c3l, c3h, cols);
        if (mr > 4) mnet_neon_store8(o + 4 * c_stride, c4l, c4h, cols);
        if (mr > 5) mnet_neon_store8(o + 5 * c_stride, c5l, c5h, cols);
        if (mr > 6) mnet_neon_store8(o + 6 * c_stride, c6l, c6h, cols);
        if (mr > 7) mnet_neon_store8(o + 7 * c_stride, c7l, c7h, cols);
    }
}
