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
    MNET_ISA_NEON = 3,   /* AArch64 Advanced SIMD */
    MNET_ISA_AVX512 = 4  /* x86-64 with AVX-512F and OS support for ZMM state; ops without an
                            AVX-512 kernel run their AVX2 one */
} mnet_isa;

/* The tier that MNET_ISA_AUTO runs: the best this build and CPU support, capped by the
 * environment variable MNET_ISA=scalar|avx2|avx512|neon (it can only lower the tier). */
MNET_API mnet_isa mnet_isa_selected(void);
/* 1 if this build has the tier and the CPU (and OS) can run it, else 0.  AUTO and SCALAR: 1.
 * Independent of MNET_ISA: an explicit tier may be requested whenever it is available. */
MNET_API int mnet_isa_available(mnet_isa isa);
/* "auto", "scalar", "avx2", "neon", "avx512"; "unknown" for anything else. */
MNET_API const char *mnet_isa_name(mnet_isa isa);
/* The kernel that `op` runs on tier `isa` (AUTO = the selected tier), e.g.
 * mnet_kernel_name(MNET_ISA_AVX2, "gemm") = "mnet_f32_gemm_minmax_6x16__avx2".  ops: "dwconv3x3",
 * "dwconv5x5", "conv3x3", "gemm", "bn_relu6", "gavgpool", "add", "softmax", "hardswish",
 * "hardsigmoid", "channel_scale".  NULL for an unknown op or a tier that is not available. */
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
    int pad_top, pad_left, pad_bottom, pad_right; /* each 0 or 1 for 3x3, 0..2 for 5x5 */
    float out_min, out_max;                       /* clamp: ReLU6 = 0, 6; none = -INFINITY, INFINITY */
} mnet_conv_params;
/* Output size of a k x k window (k = 3 or 5): oh = (h + pad_top + pad_bottom - k) / stride + 1,
 * likewise ow.  A padded size below k is MNET_ERR_ARG.  out_min > out_max or a NaN bound is
 * MNET_ERR_ARG. */

/* The activation fused into a convolution or GEMM: it runs on the sum (bias included), then
 * the result is clamped to [out_min, out_max].  "/ 6" is computed as "* (1 / 6.0f)" in float.
 * Any other value is MNET_ERR_ARG. */
typedef enum mnet_activation {
    MNET_ACTIVATION_NONE = 0,     /* only the clamp [out_min, out_max] */
    MNET_ACTIVATION_HSWISH = 1,   /* x * min(max(x + 3, 0), 6) / 6, then the clamp */
    MNET_ACTIVATION_HSIGMOID = 2  /* min(max(x + 3, 0), 6) / 6, then the clamp */
} mnet_activation;

/* 3x3 depthwise: in [n][h][w][c], weights [3][3][c], bias [c] or NULL, out [n][oh][ow][c] */
MNET_API mnet_status mnet_dwconv3x3_f32(mnet_isa isa, int n, int h, int w, int c, const float *in,
        const float *weights, const float *bias, const mnet_conv_params *p, float *out);
/* The same with an activation before the clamp. */
MNET_API mnet_status mnet_dwconv3x3_act_f32(mnet_isa isa, int n, int h, int w, int c,
        const float *in, const float *weights, const float *bias, const mnet_conv_params *p,
        mnet_activation act, float *out);

/* 5x5 depthwise (MobileNet V3): the rules of mnet_dwconv3x3_f32 with weights [5][5][c], pads
 * 0..2 each and a padded size of at least 5. */
MNET_API mnet_status mnet_dwconv5x5_f32(mnet_isa isa, int n, int h, int w, int c, const float *in,
        const float *weights, const float *bias, const mnet_conv_params *p, float *out);
MNET_API mnet_status mnet_dwconv5x5_act_f32(mnet_isa isa, int n, int h, int w, int c,
        const float *in, const float *weights, const float *bias, const mnet_conv_params *p,
        mnet_activation act, float *out);

/* 1x1 pointwise convolution as GEMM: out[i][j] = clamp(sum_k a[i][k] * b[k][j] + bias[j]),
 * a [m][k] (pixels x in-channels), b [k][n] (in x out channels), bias [n] or NULL, out [m][n] */
MNET_API mnet_status mnet_gemm_f32(mnet_isa isa, int m, int n, int k, const float *a, const float *b,
        const float *bias, float out_min, float out_max, float *out);
/* The same with an activation before the clamp: out[i][j] = clamp(act(sum + bias[j])). */
MNET_API mnet_status mnet_gemm_act_f32(mnet_isa isa, int m, int n, int k, const float *a,
        const float *b, const float *bias, mnet_activation act, float out_min, float out_max,
        float *out);

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
/* The same with an activation before the clamp. */
MNET_API mnet_status mnet_conv3x3_act_f32(mnet_isa isa, int n, int h, int w, int cin, int cout,
        const float *in, const float *weights, const float *bias, const mnet_conv_params *p,
        mnet_activation act, float *out);

/* out[n][c] = mean over h x w of in[n][h][w][c] */
MNET_API mnet_status mnet_global_avgpool_f32(mnet_isa isa, int n, int h, int w, int c,
        const float *in, float *out);

/* out = clamp(a + b); out may equal a or b (in place), no other overlap. */
MNET_API mnet_status mnet_add_f32(mnet_isa isa, size_t count, const float *a, const float *b,
        float out_min, float out_max, float *out);

/* Row-wise softmax over [n][c], stable for logits of any finite magnitude (the row max is
 * subtracted first).  Vectorised exp from SLEEF on AVX2 and NEON.  out may equal in. */
MNET_API mnet_status mnet_softmax_f32(mnet_isa isa, int n, int c, const float *in, float *out);

/* y[i] = x[i] * min(max(x[i] + 3, 0), 6) / 6 over count floats (MobileNet V3's h-swish), with
 * the operations in the order of the fused activation, so results are bit-identical to
 * MNET_ACTIVATION_HSWISH on every tier.  y may equal x, no other overlap. */
MNET_API mnet_status mnet_hardswish_f32(mnet_isa isa, size_t count, const float *x, float *y);
/* y[i] = min(max(x[i] + 3, 0), 6) / 6 (h-sigmoid), likewise; y may equal x. */
MNET_API mnet_status mnet_hardsigmoid_f32(mnet_isa isa, size_t count, const float *x, float *y);

/* Squeeze-and-excite apply: y[b][p][ch] = x[b][p][ch] * scale[b][ch] with x and y
 * [n][pixels][c] and scale [n][c].  y may equal x; no other overlap. */
MNET_API mnet_status mnet_channel_scale_f32(mnet_isa isa, int n, size_t pixels, int c,
        const float *x, const float *scale, float *y);


/* ---------------------------------------------------------------------------------------------
 * Models and inference.
 *
 * Thread-safety contract: an mnet_model is immutable after load and may be shared by any number
 * of threads and contexts (free it after its last context).  An mnet_context belongs to one
 * caller thread at a time: run it from one thread, or serialise the calls yourself.  Different
 * contexts (on the same model or not) may run concurrently.  Every call sets this thread's
 * mnet_last_error() on failure.
 * ------------------------------------------------------------------------------------------- */

typedef struct mnet_model mnet_model;       /* immutable after load; shareable across threads */
typedef struct mnet_context mnet_context;   /* one per thread: scratch memory, thread pool */

typedef enum mnet_arch {
    MNET_ARCH_V1 = 1,
    MNET_ARCH_V2 = 2,
    MNET_ARCH_V3_LARGE = 3,   /* torchvision's mobilenet_v3_large */
    MNET_ARCH_V3_SMALL = 4    /* torchvision's mobilenet_v3_small */
} mnet_arch;

/* Load a model file (docs/FORMAT.md).  The file is memory-mapped while it is read and released
 * before the call returns.  On error *out is set to NULL and mnet_last_error() says what is
 * wrong and where (MNET_ERR_IO: cannot open/read; MNET_ERR_FORMAT: malformed). */
MNET_API mnet_status mnet_model_load(const char *path, mnet_model **out);
/* Load from memory.  The buffer is only read during the call (the model keeps its own copy of
 * the weights, folded and packed), so it may be freed as soon as this returns. */
MNET_API mnet_status mnet_model_load_memory(const void *data, size_t size, mnet_model **out);
/* A model with seeded random weights and non-trivial BatchNorm statistics (for benchmarks and
 * tests): symmetric padding, ImageNet mean/std, square input resolution x resolution x 3;
 * V1/V2 use ReLU6, V3 its own activations (BatchNorm eps 1e-3 as torchvision's V3). */
MNET_API mnet_status mnet_model_create_random(mnet_arch arch, float alpha, int resolution,
        int num_classes, uint64_t seed, mnet_model **out);
MNET_API void mnet_model_free(mnet_model *m);   /* NULL is a no-op */

typedef struct mnet_model_info {
    mnet_arch arch;
    float alpha;
    int height, width, channels, num_classes;
    uint64_t params;   /* convolution and classifier weights + classifier bias (BN excluded) */
    uint64_t macs;     /* multiply-adds of one inference */
    int layers;        /* convolution + classifier layers */
} mnet_model_info;
MNET_API mnet_status mnet_model_get_info(const mnet_model *m, mnet_model_info *info);

/* One layer of a model, for `mnet info`: index 0 .. info.layers - 1. */
typedef struct mnet_layer_info {
    const char *op;         /* "conv3x3", "dwconv3x3", "dwconv5x5", "conv1x1", "se_reduce",
                               "se_expand", "fc" (static strings).  se_reduce pools its input and
                               writes a vector; se_expand scales its input tensor in place. */
    int in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int stride;
    const char *activation; /* "relu6", "relu", "hswish", "hsigmoid", "none" */
    int residual;           /* 1 if the block input is added to this layer's output */
    uint64_t params, macs;
} mnet_layer_info;
MNET_API mnet_status mnet_model_get_layer(const mnet_model *m, int index, mnet_layer_info *info);

/* Preprocessing stored in the model: input = (pixel / 255 - mean[c]) / std[c]. */
MNET_API mnet_status mnet_model_get_preprocess(const mnet_model *m, float mean[3], float std[3]);

typedef struct mnet_options {
    int num_threads;    /* >= 1; 1 = the caller's thread only, no thread is created */
    mnet_isa isa;       /* MNET_ISA_AUTO = the selected tier */
    int profile;        /* 1: time every layer (mnet_context_get_profile); 0: off */
    int max_batch;      /* images the context allocates for when created (0 = 1): a run with
                           up to this many allocates nothing, the first with more grows it */
    int skip_warmup;    /* 0: mnet_context_create runs one inference on a zero image, so the
                           caller's first runs with the code, weights and buffers in cache
                           (README, "A warm context"); 1: it does not; else MNET_ERR_ARG */
    int reserved[11];   /* zero: room to grow without breaking the ABI */
} mnet_options;
MNET_API void mnet_options_default(mnet_options *o);   /* num_threads 1, isa AUTO */

/* A context holds the scratch memory (planned once) and num_threads - 1 worker threads, which
 * sleep while idle.  MNET_ERR_UNSUPPORTED if the ISA is not available. */
MNET_API mnet_status mnet_context_create(const mnet_model *m, const mnet_options *o,
        mnet_context **out);
/* input [batch][h][w][c] float32 NHWC, already preprocessed; logits [batch][num_classes].
 * No allocation after the first call with a given batch size.  Each image's logits are the
 * bits it gets alone, whatever the batch.  The first runs of a batch size > 1 time two ways of
 * splitting the network between image-by-image and whole-batch layers and keep the faster
 * (README, "How a context runs a model"). */
MNET_API mnet_status mnet_context_run(mnet_context *ctx, int batch, const float *input,
        float *logits);
MNET_API void mnet_context_free(mnet_context *ctx);    /* joins the workers; NULL is a no-op */

/* Where the time goes, layer by layer, in a context created with options.profile = 1
 * (otherwise MNET_ERR_ARG).  ms and group hold `count` >= the model's layers entries; for each
 * layer i, ms[i] = its mean wall-clock milliseconds per image over every mnet_context_run so
 * far, and group[i] (group may be NULL) = the first layer of the fused group layer i runs in
 * (i when it runs on its own): that layer's entry holds the whole group's time, the others 0.
 * With several threads a layer's time is the wall time until all of them finished it. */
MNET_API mnet_status mnet_context_get_profile(const mnet_context *ctx, int count, double *ms,
        int *group);

/* Preprocess an 8-bit RGB (or gray, channels = 1) HWC image of any size into the model's input:
 * bilinear resize to the model's height x width (half-pixel centres, like PyTorch's
 * interpolate(mode="bilinear", align_corners=False) without antialiasing), then
 * (v / 255 - mean) / std.  A gray image feeds every input channel; an RGB image needs a
 * 3-channel model.  out: [height][width][channels] of the model. */
MNET_API mnet_status mnet_preprocess_u8(const mnet_model *m, const uint8_t *image, int width,
        int height, int channels, size_t row_stride, float *out);

#ifdef __cplusplus
}
#endif

#endif /* MNET_H */
