/* model.h - internal model representation: the layer graph, folded weights, packed caches. */
#ifndef MNET_MODEL_H
#define MNET_MODEL_H

#include <pthread.h>

#include "internal.h"

/* SE_REDUCE: global average of its input tensor -> 1x1 (with bias) -> ReLU, into a vector;
 * SE_EXPAND: that vector -> 1x1 (with bias) -> h-sigmoid, then the tensor (its input) is scaled
 * per channel in place.  FC: fully connected on the pooled tensor, or on the previous FC's
 * output when it follows one. */
typedef enum { MNET_OP_CONV3X3 = 1, MNET_OP_DW3X3, MNET_OP_PW, MNET_OP_FC, MNET_OP_DW5X5,
    MNET_OP_SE_REDUCE, MNET_OP_SE_EXPAND } mnet_op;
typedef enum { MNET_ACT_NONE = 0, MNET_ACT_RELU6, MNET_ACT_RELU, MNET_ACT_HSWISH,
    MNET_ACT_HSIGMOID } mnet_act;

/* Model-file codes (docs/FORMAT.md). */
enum { MNET_FILE_ACT_RELU6 = 0, MNET_FILE_ACT_RELU = 1 };
enum { MNET_PAD_SYMMETRIC = 0, MNET_PAD_TF_SAME = 1 };

typedef struct mnet_layer {
    mnet_op op;
    int cin, cout, stride;
    int in_h, in_w, out_h, out_w;
    int pad_top, pad_left, pad_bottom, pad_right;
    mnet_act act;
    int res_from;        /* OP_PW: add the input of layer res_from to the output; -1 = none */
    int in_buf, out_buf; /* scratch buffers (planned); in_buf -1 = the caller's input; SE layers
                            work in place (in_buf == out_buf); FC layers have out_buf -1 */
    int k_slice;         /* a linear classifier after a 1x1: MNET_FC_SLICE (mnet_arch_build),
                            else 0; see mnet_layer_k_slice */
} mnet_layer;

#define MNET_NUM_BUFS 3

/* A linear classifier (an FC without activation) right after a 1x1 that does enough
 * arithmetic per byte of the classifier's weights (MNET_HEAD_FLOP_PER_BYTE) is the sum of its
 * k-slices of MNET_FC_SLICE inputs, in order: the first slice's GEMM with the bias, each next
 * one's added to it (mnet_pack_gemm_sliced's layout).  So the runtime can compute it a slice at
 * a time while the 1x1 produces the slice's channels (see plan_head in context.c): the
 * classifier's megabytes of weights then stream from memory while that 1x1 computes, rather
 * than after it.  Every path computes the same slices in the same order, so the result does not
 * depend on which path ran.  A multiple of every tier's GEMM panel width (4, 8, 16, 32). */
#define MNET_FC_SLICE 64
/* Measured on the Zen 4 VM (session 42, ab_lib in both orders), the head against the classifier
 * whole: V2 224 (7.8 FLOPs of the 1x1 per classifier byte) 0.984-0.994x the time, V1 160
 * (12.8) 0.992-0.994x, V1 224 (25) 0.999-1.002x; in a first form (one thread, one accumulator)
 * V2 160 (4.0) 1.001-1.007x and V2 0.5 (3.9) 1.007-1.010x, where the 1x1's slice computes in
 * less time than the slice's weights take to come from memory, and a classifier sliced with
 * no head (V3's, after an FC) 1.013-1.019x. */
#define MNET_HEAD_FLOP_PER_BYTE 6

/* The k-slice of layer l's packed GEMM weights: l->k_slice where set, else all its inputs (one
 * slice: mnet_pack_gemm's layout). */
static inline int mnet_layer_k_slice(const mnet_layer *l)
{
    return l->k_slice > 0 && l->k_slice < l->cin ? l->k_slice : l->cin;
}

/* Weights of one tier, packed for its kernels: one block per layer. */
typedef struct mnet_packed {
    float *data;
    size_t bytes;
    size_t *offset;      /* [layer]: start of the layer's block in data */
} mnet_packed;

struct mnet_model {
    mnet_model_info info;
    double alpha;        /* exactly as in the file: channel counts derive from it */
    int act_code, padding;
    float mean[3], std[3];
    int num_layers;
    mnet_layer *layers;
    size_t buf_floats[MNET_NUM_BUFS];   /* per image */
    /* The weights, BatchNorm folded in, are held once: packed for the tier the model was loaded
     * in (`home`, the one MNET_ISA_AUTO selected then).  A context of another tier packs its
     * own copy from those on first use (filled under pack_lock). */
    int home;
    pthread_mutex_t pack_lock;
    mnet_packed *packed[MNET_NUM_ISA];   /* [isa] */
};

/* The architecture for (arch, alpha, size, channels, classes, activation, padding): fills the
 * layer list (malloc'd) with shapes and padding.  MNET_ERR_ARG/UNSUPPORTED
 * with a message for values out of range. */
MNET_INTERNAL mnet_status mnet_arch_build(int arch, double alpha, int h, int w, int channels,
        int classes, int act_code, int padding, mnet_layer **layers, int *num_layers);
/* Assign in_buf/out_buf of every layer; buf_floats = the size each buffer needs per image. */
MNET_INTERNAL void mnet_plan_buffers(mnet_layer *layers, int n, size_t buf_floats[MNET_NUM_BUFS]);
MNET_INTERNAL uint64_t mnet_layer_macs(const mnet_layer *l);
MNET_INTERNAL uint64_t mnet_layer_params(const mnet_layer *l);   /* weights (+ FC bias) */
/* Number of floats of the layer's weight tensor (PyTorch layout and kernel layout alike). */
MNET_INTERNAL size_t mnet_layer_weight_floats(const mnet_layer *l);
/* Static names for mnet_layer_info and messages. */
MNET_INTERNAL const char *mnet_op_name(mnet_op op);
MNET_INTERNAL const char *mnet_act_name(mnet_act act);
/* Kernel size of a convolution layer (1 for 1x1, SE and FC). */
MNET_INTERNAL int mnet_layer_ksize(const mnet_layer *l);
static inline int mnet_op_is_dw(int op)   /* a depthwise convolution, 3x3 or 5x5 */
{
    return op == MNET_OP_DW3X3 || op == MNET_OP_DW5X5;
}

/* Parse and validate a model file image; the model holds no pointer into `data`.  With
 * `discard` (data is the library's own mapping or allocation, read only here), whole pages of
 * tensor data are given back to the system (madvise MADV_DONTNEED) once folded: they must not
 * be read afterwards. */
MNET_INTERNAL mnet_status mnet_model_parse(const uint8_t *data, size_t size, int discard,
        mnet_model **out);
/* The header's own checks (magic, version, header size, the file size it states against the
 * real `size`) on its first `len` bytes (128 are needed): a file is refused on these before it
 * is mapped and read whole. */
MNET_INTERNAL mnet_status mnet_model_check_header(const uint8_t *data, size_t len, size_t size);

/* Serialise a model file with seeded random weights and BN statistics (mnet_model_create_random
 * and the tests' malformed-file generators use it).  Free *out with mnet_big_free(*out, *size). */
MNET_INTERNAL mnet_status mnet_model_write_random(int arch, double alpha, int h, int w,
        int classes, uint64_t seed, uint8_t **out, size_t *size);

/* CRC-32, zlib's polynomial (reflected 0xEDB88320), initial value 0: crc = mnet_crc32(crc,
 * more, n) continues a running one.  mnet_crc32 is the fastest version this CPU runs (the
 * portable one when MNET_ISA=scalar); the others are for the tests. */
MNET_INTERNAL uint32_t mnet_crc32(uint32_t crc, const uint8_t *p, size_t n);
MNET_INTERNAL uint32_t mnet_crc32_table(uint32_t crc, const uint8_t *p, size_t n);
/* x86-64 with PCLMULQDQ only (MNET_HAVE_CLMUL builds; mnet_cpu_has_clmul() says if it runs). */
MNET_INTERNAL uint32_t mnet_crc32_clmul(uint32_t crc, const uint8_t *p, size_t n);

/* How many fused groups of a kind the context runs: with / without the 1x1 before the
 * depthwise (pre) and the 1x1 after it (post) (lib/context.c; for the tests). */
MNET_INTERNAL int mnet_context_fused_groups(const mnet_context *ctx, int pre, int post);
/* Tests: where activation buffer buf (0..MNET_NUM_BUFS-1) holds image `image`'s slot, or NULL
 * (no such buffer, or not that many images reserved yet; see buf_bytes in lib/context.c). */
MNET_INTERNAL const float *mnet_context_buffer(const mnet_context *ctx, int buf, int image);
/* Tests: how many heads (a 1x1 and the linear classifier after it, see plan_head). */
MNET_INTERNAL int mnet_context_heads(const mnet_context *ctx);
/* Tests: the shares of layers the calling thread computed because their worker had not
 * started them (lib/pool.c), since the context was made. */
MNET_INTERNAL long mnet_context_steals(const mnet_context *ctx);
/* The depthwise layers that may prefetch their input (those that read a tensor of at least
 * MNET_DW_PREFETCH_BYTES themselves), *layers of them, and whether they do: 1 or 0, or -1 while
 * the context still times both (0 when there are none; lib/context.c dw_prefetch; tests). */
MNET_INTERNAL int mnet_context_dw_prefetch(const mnet_context *ctx, int *layers);
/* Tests: mnet_context_run calls the context has run, its warm-up included; the images its
 * profile averages over (*images, not NULL); where each layer is split between its threads now
 * (cut[0..threads], as for set_split; not NULL). */
MNET_INTERNAL int mnet_context_runs(const mnet_context *ctx, double *images, unsigned *cut);
/* Images the context's buffers hold now (options.max_batch, grown by larger runs); for tests. */
MNET_INTERNAL int mnet_context_images(const mnet_context *ctx);
/* Tests: split every layer between the threads at cut[0..threads] (units of 1/65536: 0, then
 * strictly rising to 65536) instead of where the measured speeds put it, and keep it there
 * (no rebalancing) when `hold`; MNET_ERR_ARG for a bad cut, which changes nothing. */
MNET_INTERNAL mnet_status mnet_context_set_split(mnet_context *ctx, const unsigned *cut, int hold);
/* Tests: the first layer of the batch phase of a run of `batch` images under each bound
 * (*large: MNET_BATCH_TENSOR_BYTES, *small: the smaller one), and which one the context has
 * chosen for that batch size by timing both: 0 (large), 1 (small), -1 (not yet). */
MNET_INTERNAL int mnet_context_batch_split(const mnet_context *ctx, int batch, int *large,
        int *small);
/* Tests: run batches with their batch phase from layer `split` on (moved forward to where a
 * phase may end), instead of the tuned choice; -1 goes back to it.  Returns the split used. */
MNET_INTERNAL int mnet_context_force_batch_split(mnet_context *ctx, int split);
/* The current cut of part `part` (0..threads). */
MNET_INTERNAL unsigned mnet_context_split(const mnet_context *ctx, int part);
/* Tests: buffer b's slot (floats per image), and, over the runs since the context was made or
 * its split last set: the furthest float of the slot a tensor reached, and how far from the
 * slot's middle the first part's share of a tensor ended at most (see place in context.c).
 * 0 for a buffer the model does not use. */
MNET_INTERNAL size_t mnet_context_placement(const mnet_context *ctx, int b, size_t *reach,
        size_t *miss);

/* Tier t's packed layout for these layers: offsets, and data allocated (not filled). */
MNET_INTERNAL mnet_status mnet_packed_create(const mnet_layer *layers, int n,
        const mnet_kernels *t, mnet_packed **out);
MNET_INTERNAL void mnet_packed_free(mnet_packed *p);   /* NULL is a no-op */
/* Scratch for one layer's folded weights and bias, sized for the largest of these layers:
 * the weights at the start, *bias after them; *floats in all (mnet_big_free(p, *floats * 4)).
 * Without `gemm`, the weights of layers tier t packs as a GEMM (mnet_layer_gemm_tile) are left
 * out of the size (the loader folds those straight into their panels); the bias always fits.
 * NULL when out of memory. */
MNET_INTERNAL float *mnet_layer_scratch(const mnet_layer *layers, int n, const mnet_kernels *t,
        int gemm, size_t *floats, float **bias);
/* Layer l's folded weights w and bias b (fold_layer's layouts) into its block for tier t. */
MNET_INTERNAL void mnet_pack_layer(const mnet_layer *l, const mnet_kernels *t, const float *w,
        const float *b, float *dst);
/* The panel width tier t packs layer l's weights in as a GEMM (mnet_pack_gemm's layout: 1x1,
 * squeeze-and-excite and classifier layers), or 0 for a layer packed otherwise. */
MNET_INTERNAL int mnet_layer_gemm_tile(const mnet_layer *l, const mnet_kernels *t);

/* The model's weights packed for `t`'s kernels, packing them on first use (thread-safe). */
MNET_INTERNAL mnet_status mnet_model_packed(mnet_model *m, const mnet_kernels *t,
        const mnet_packed **out);

#endif /* MNET_MODEL_H */
