/* mnet.h - the public API of mnet: MobileNet inference on the CPU with dispatched SIMD kernels. */
#ifndef MNET_H
#define MNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The API major version is the soname's: libmnet.so.MNET_API_VERSION. */
#define MNET_API_VERSION 0
#define MNET_VERSION_MAJOR 0
#define MNET_VERSION_MINOR 1
#define MNET_VERSION_PATCH 0

#if defined(_WIN32)
#define MNET_API
#elif defined(MNET_BUILDING_LIBRARY)
#define MNET_API __attribute__((visibility("default")))
#else
#define MNET_API
#endif

/* Every fallible call returns one of these.  On any error nothing the caller owns is written. */
typedef enum mnet_status {
    MNET_OK = 0,
    MNET_ERR_ARG = 1,         /* NULL pointer, zero/negative size, buffer > PTRDIFF_MAX bytes,
                                 bad stride or padding, out-of-range mnet_isa */
    MNET_ERR_NOMEM = 2,       /* an allocation failed */
    MNET_ERR_IO = 3,          /* a file could not be read */
    MNET_ERR_FORMAT = 4,      /* malformed model data */
    MNET_ERR_UNSUPPORTED = 5  /* ISA not in this build or on this CPU, or a valid but unsupported request */
} mnet_status;

/* A static English description of a status ("MNET_ERR_ARG: invalid argument"). */
MNET_API const char *mnet_status_string(mnet_status status);

/* Detail of the calling thread's last error (which argument, which value); "" if none.
 * Valid until the next mnet call on the same thread. */
MNET_API const char *mnet_last_error(void);

/* Instruction-set tiers.  AUTO = the tier the dispatcher selected for this process. */
typedef enum mnet_isa {
    MNET_ISA_AUTO = 0,
    MNET_ISA_SCALAR = 1,
    MNET_ISA_AVX2 = 2,   /* x86-64 with AVX2 + FMA and OS support for YMM state */
    MNET_ISA_NEON = 3    /* AArch64 Advanced SIMD */
} mnet_isa;

/* The tier that MNET_ISA_AUTO runs: the best this build and CPU support, capped by the
 * environment variable MNET_ISA=scalar|avx2|neon (it can only lower the tier). */
MNET_API mnet_isa mnet_isa_selected(void);
/* 1 if this build has the tier and the CPU (and OS) can run it, else 0.  AUTO and SCALAR: 1.
 * Independent of MNET_ISA: an explicit tier may be requested whenever it is available. */
MNET_API int mnet_isa_available(mnet_isa isa);
/* "auto", "scalar", "avx2", "neon"; "unknown" for anything else. */
MNET_API const char *mnet_isa_name(mnet_isa isa);
/* The kernel that `op` runs on tier `isa` (AUTO = the selected tier), e.g.
 * mnet_kernel_name(MNET_ISA_AVX2, "gemm") = "mnet_f32_gemm_minmax_6x16__avx2".  ops: "dwconv3x3",
 * "conv3x3", "gemm", "bn_relu6", "gavgpool", "add", "softmax".  NULL for an unknown op or a tier
 * that is not available. */
MNET_API const char *mnet_kernel_name(mnet_isa isa, const char *op);
/* "0.1.0" */
MNET_API const char *mnet_version_string(void);

/* ---------------------------------------------------------------------------------------------
 * Kernels: float32, NHWC, row-major.  Stateless and thread-safe.  Every call takes an mnet_isa
 * first: MNET_ISA_AUTO runs the selected tier, an explicit tier runs exactly that implementation
 * (MNET_ERR_UNSUPPORTED if it is not available).  Buffers need only 4-byte alignment; kernels
 * never touch a byte outside them.  Outputs must not overlap inputs unless stated.
 * ------------------------------------------------------------------------------------------- */

typedef struct mnet_conv_params {
    int stride;                                   /* 1 or 2 */
    int pad_top, pad_left, pad_bottom, pad_right; /* each 0 or 1 */
    float out_min, out_max;                       /* clamp: ReLU6 = 0, 6; none = -INFINITY, INFINITY */
} mnet_conv_params;
/* Output size: oh = (h + pad_top + pad_bottom - 3) / stride + 1, likewise ow.  A padded size
 * below 3 is MNET_ERR_ARG.  out_min > out_max or a NaN bound is MNET_ERR_ARG. */

/* 3x3 depthwise: in [n][h][w][c], weights [3][3][c], bias [c] or NULL, out [n][oh][ow][c] */
MNET_API mnet_status mnet_dwconv3x3_f32(mnet_isa isa, int n, int h, int w, int c, const float *in,
        const float *weights, const float *bias, const mnet_conv_params *p, float *out);

/* 1x1 pointwise convolution as GEMM: out[i][j] = clamp(sum_k a[i][k] * b[k][j] + bias[j]),
 * a [m][k] (pixels x in-channels), b [k][n] (in x out channels), bias [n] or NULL, out [m][n] */
MNET_API mnet_status mnet_gemm_f32(mnet_isa isa, int m, int n, int k, const float *a, const float *b,
        const float *bias, float out_min, float out_max, float *out);

/* Fused BN + ReLU6: y = min(max(x * scale[ch] + shift[ch], 0), 6) over [pixels][c]; x == y allowed
 * (any other overlap is not). */
MNET_API mnet_status mnet_bn_relu6_f32(mnet_isa isa, size_t pixels, int c, const float *x,
        const float *scale, const float *shift, float *y);

/* scale = gamma / sqrt(var + eps), shift = beta - mean * scale.  var + eps must be > 0 and eps
 * finite and >= 0.  scale may equal gamma and shift may equal beta. */
MNET_API mnet_status mnet_bn_fold_f32(int c, const float *gamma, const float *beta, const float *mean,
        const float *var, float eps, float *scale, float *shift);

/* Full 3x3 convolution (the stem): in [n][h][w][cin], weights [cout][3][3][cin], bias [cout] or
 * NULL, out [n][oh][ow][cout] */
MNET_API mnet_status mnet_conv3x3_f32(mnet_isa isa, int n, int h, int w, int cin, int cout,
        const float *in, const float *weights, const float *bias, const mnet_conv_params *p,
        float *out);

/* out[n][c] = mean over h x w of in[n][h][w][c] */
MNET_API mnet_status mnet_global_avgpool_f32(mnet_isa isa, int n, int h, int w, int c,
        const float *in, float *out);

/* out = clamp(a + b); out may equal a or b (in place), no other overlap. */
MNET_API mnet_status mnet_add_f32(mnet_isa isa, size_t count, const float *a, const float *b,
        float out_min, float out_max, float *out);

/* Row-wise softmax over [n][c], stable for logits of any finite magnitude (the row max is
 * subtracted first).  Vectorised exp from SLEEF on AVX2 and NEON.  out may equal in. */
MNET_API mnet_status mnet_softmax_f32(mnet_isa isa, int n, int c, const float *in, float *out);

#ifdef __cplusplus
}
#endif

#endif /* MNET_H */
