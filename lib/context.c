/* context.c - inference: scratch planned once, each layer split across the pool by output rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "pool.h"

/* A context's vectors: pooled tensors, FC/SE vectors and a sliced classifier's accumulators. */
#define MNET_VECS 5

struct mnet_context {
    mnet_model *model;
    const mnet_kernels *k;
    const mnet_packed *packed;
    mnet_pool *pool;
    float *buf[MNET_NUM_BUFS];   /* each page-offset inside its allocation mem (buf_bytes) */
    float *mem[MNET_NUM_BUFS];
    float *vec[MNET_VECS];  /* pooled tensors and FC/SE vectors, each [vec_floats]; vec[2] a
                             sliced classifier's odd slices, vec[3] and vec[4] its slices
                             (fc_slices; in a head, vec[3 + part]) */
    float *head;          /* FUSE_HEAD: per part (at most 2), one image's rows of a 1x1's
                             MNET_FC_SLICE channels */
    float *row_means;     /* [rows][channels] of a depthwise output feeding squeeze-and-excite */
    int *kind, *band;     /* [layer]: kind != 0 = a fused group starts here (FUSE_PRE |
                             FUSE_POST), run `band` depthwise output rows at a time (fused_task) */
    float *scratch;       /* per thread: the 1x1's output rows a band needs, then the
                             depthwise's output rows of a band */
    size_t scratch_floats;
    int threads;
    int images;           /* images the buffers, vectors and row means hold (grows on demand) */
    size_t used[MNET_NUM_BUFS];   /* floats per image each buffer really holds */
    size_t slot[MNET_NUM_BUFS];   /* floats from one image's slot of a buffer to the next: on
                                     several threads twice the largest tensor (see place) */
    size_t at[MNET_NUM_BUFS];     /* where in its slot the buffer's current tensor starts (see
                                     place) */
    size_t held[MNET_NUM_BUFS];   /* floats of the tensor each buffer holds now */
    size_t reach[MNET_NUM_BUFS], miss[MNET_NUM_BUFS];   /* mnet_context_placement */
    float *end0;          /* where the first part's rows of the last task ended (one image, a
                             split by rows; else NULL), for miss */
    size_t vec_floats, row_floats;   /* per image */
    double *prof_ms;      /* options.profile: [layer] ms so far (a group's on its first layer) */
    double prof_images;   /* images run so far (not counting the warm-up) */
    int runs;             /* mnet_context_run calls that ran, the warm-up's included */
    unsigned *cut;        /* [threads + 1]: part t takes [cut[t], cut[t + 1]) / MNET_CUT_ONE of
                             every layer (see rebalance) */
    double *busy;         /* [threads]: seconds each part computed in the last run */
    int hold_split;       /* tests: keep the cut mnet_context_set_split gave */
    int force_split;      /* tests: the batch split to use (made legal), or -1 */
    int fixed_split;      /* MNET_BATCH_SPLIT at creation: -1 tune, 0 large, 1 small */
    struct {              /* whether large depthwise inputs are prefetched (see dw_prefetch) */
        int mode;         /* 1 yes, 0 no, -1 still timing both */
        int now;          /* this run's choice while timing */
        int runs;         /* runs while timing */
        int trials[2];    /* timed runs of each choice */
        double best[2];   /* each choice's fastest time in those layers, ms per image */
        double ms;        /* this run's time in those layers so far */
    } dwpf;
    struct {              /* which batch split runs faster (see batch_split) */
        int batch;        /* the batch size tuned for (0: none yet) */
        int cand[2];      /* its splits under the two bounds */
        int runs;         /* runs of that batch size so far */
        int trials[2];    /* timed runs of each candidate */
        double best[2];   /* each candidate's fastest, ms */
        int chosen;       /* -1 while tuning, else 0 or 1 */
    } tune;
};

/* Bytes of the 1x1's output a fused band works on (or, without a 1x1 before the depthwise,
 * of the depthwise's output): within a 1 MiB L2 with the rest of the band and the weights.
 * The scratch holds MNET_FUSE_WINDOWS windows, so the rows two bands share are moved back to
 * its start only once in a while. */
#define MNET_FUSE_WINDOW_BYTES (256u * 1024u)
#define MNET_FUSE_WINDOWS 3
/* Tensors of a whole batch up to this size run layer by layer over the batch (see
 * mnet_context_run); larger ones image by image. */
#define MNET_BATCH_TENSOR_BYTES (2u * 1024u * 1024u)
/* The other candidate for that bound (see batch_split), and how many timed runs of each
 * candidate decide between them. */
#define MNET_BATCH_TENSOR_BYTES_SMALL (512u * 1024u)
#define MNET_BATCH_TRIALS 3
/* See worth_fusing. */
#define MNET_FUSE_MIN_BYTES (256u * 1024u)
#define MNET_FUSE_WEIGHT_RATIO 4
/* See gemm_grid. */
#define MNET_SPLIT_WEIGHT_BYTES (1024u * 1024u)
/* A group's 1x1 before / after its depthwise; a head: a 1x1 and the linear classifier after
 * it (see plan_head). */
enum { FUSE_PRE = 1, FUSE_POST = 2, FUSE_HEAD = 4 };
/* The unit of the split between threads, and how far each run moves it towards the measured
 * speeds (see rebalance). */
#define MNET_CUT_ONE 65536u
#define MNET_CUT_STEP 0.25

/* Input rows of a depthwise (or the stem) for output rows [b0, b1), clipped to the image. */
static void dw_rows_needed(const mnet_layer *d, int b0, int b1, int *r0, int *r1)
{
    const int k = mnet_layer_ksize(d);
    *r0 = b0 * d->stride - d->pad_top;
    *r0 = *r0 < 0 ? 0 : *r0;
    *r1 = (b1 - 1) * d->stride - d->pad_top + k;
    *r1 = *r1 > d->in_h ? d->in_h : *r1;
}

/* Whether depthwise d reads an input large enough to prefetch (MNET_DW_PREFETCH_BYTES; when it
 * reads the tensor itself, not a fused group's window), and whether it does
 * (mnet_conv_geom.prefetch).  Larger than the L2s, the tensor comes from L3 or from memory, and
 * which one is the machine's doing: measured on the Zen 3 VM of session 23, the prefetch took
 * V1's stride-2 depthwise over a 3.2 MB tensor from DRAM to 0.60-0.66 of its time, but from L3
 * (even just written) to 1.13-1.49x.  So the context times the layers that could, over its first
 * runs, both ways (dw_prefetch_begin / _end), and keeps the faster; MNET_DW_PREFETCH=0 or 1 at
 * creation fixes the choice (docs/PERFORMANCE.md, "Session 23: the depthwise prefetches inputs
 * that come from memory"). */
static int dw_prefetch_may(const mnet_layer *d)
{
    return mnet_op_is_dw(d->op) &&
        (size_t)d->in_h * d->in_w * d->cin * sizeof(float) >= MNET_DW_PREFETCH_BYTES;
}

static int dw_prefetch(const mnet_context *ctx, const mnet_layer *d)
{
    return dw_prefetch_may(d) && (ctx->dwpf.mode >= 0 ? ctx->dwpf.mode : ctx->dwpf.now);
}

/* Timed runs of each choice (see dw_prefetch), alternating, after the context's first run
 * (the warm-up, or a cold first run without it). */
#define MNET_DW_PREFETCH_TRIALS 4

static void dw_prefetch_begin(mnet_context *ctx)
{
    if (ctx->dwpf.mode < 0) {
        ctx->dwpf.now = ctx->dwpf.runs++ & 1;
        ctx->dwpf.ms = 0.0;
    }
}

static void dw_prefetch_end(mnet_context *ctx, int batch)
{
    const int c = ctx->dwpf.now;
    const double ms = ctx->dwpf.ms / batch;   /* per image: runs of any batch size compare */
    if (ctx->dwpf.mode >= 0 || ctx->dwpf.runs == 1)   /* not timing, or the first run */
        return;
    if (ctx->dwpf.trials[c] == 0 || ms < ctx->dwpf.best[c])
        ctx->dwpf.best[c] = ms;
    ctx->dwpf.trials[c]++;
    if (ctx->dwpf.trials[0] >= MNET_DW_PREFETCH_TRIALS &&
            ctx->dwpf.trials[1] >= MNET_DW_PREFETCH_TRIALS)
        ctx->dwpf.mode = ctx->dwpf.best[1] < ctx->dwpf.best[0];
}

/* The ukernel of a spatial layer (stem or depthwise; they share one signature). */
static mnet_conv3x3_ukernel conv_kernel(const mnet_kernels *k, mnet_op op)
{
    return op == MNET_OP_CONV3X3 ? k->conv3x3.fn : op == MNET_OP_DW3X3 ? k->dwconv3x3.fn :
        k->dwconv5x5.fn;
}

/* Whether a later layer's residual reads layer i's input (the output of layer i - 1). */
static int input_read_later(const mnet_model *m, int i)
{
    for (int j = i + 1; j < m->num_layers; j++)
        if (m->layers[j].res_from == i)
            return 1;
    return 0;
}

/* Whether a tensor of `floats` is worth keeping out of memory, produced or consumed by a 1x1
 * (or the stem) `pw`: large (smaller ones stay in cache anyway) and large against pw's weights
 * (every band streams the whole weight matrix again, which only pays while it is small). */
static int worth_fusing(size_t floats, const mnet_layer *pw)
{
    const size_t k = (size_t)mnet_layer_ksize(pw);
    return floats * sizeof(float) >= MNET_FUSE_MIN_BYTES &&
        floats >= MNET_FUSE_WEIGHT_RATIO * k * k * (size_t)pw->cin * (size_t)pw->cout;
}

/* Whether layer i (a 1x1, or the stem) and the depthwise after it may be fused with i before
 * (p): i's output, large, then never leaves the cache. */
static int can_fuse_pre(const mnet_model *m, int i)
{
    const mnet_layer *l = &m->layers[i];
    if ((l->op != MNET_OP_PW && l->op != MNET_OP_CONV3X3) || i + 1 >= m->num_layers ||
            !mnet_op_is_dw(m->layers[i + 1].op))
        return 0;
    const mnet_layer *d = &m->layers[i + 1];
    return l->res_from < 0 && d->out_buf != l->in_buf && !input_read_later(m, i + 1) &&
        worth_fusing((size_t)l->out_h * l->out_w * l->cout, l);
}

/* Plan the fusions around each depthwise d: the 1x1 or the stem before it (p: its output
 * then never leaves the cache) when d is that output's only reader, and the 1x1 after it (q: d's output
 * goes straight into q's GEMM) when q is the only reader of d's output, q's output does
 * not overwrite what the group still reads, and q cannot go with the depthwise after it as that
 * one's p instead.  In a chain depthwise -> 1x1 -> depthwise (V1) the tensor between two groups
 * is then a depthwise's output read by a GEMM, which hides the memory traffic behind its
 * arithmetic, rather than a 1x1's read by a depthwise, which waits on it (session 28, in one
 * process against the former stem -> depthwise -> 1x1 and depthwise -> 1x1 groups: V1 0.5 0.95
 * of the time, V1 160 0.98, V1 1.0 1.00).  Groups are taken from the first layer on and do
 * not overlap.  For each group: its kind (FUSE_PRE | FUSE_POST), the depthwise output rows
 * per band, and the scratch one thread needs. */
static void plan_fusion(const mnet_model *m, int *kind, int *band, size_t *scratch_floats)
{
    const char *env = getenv("MNET_FUSE");   /* "0": off, for tests and comparisons */
    const int off = env && strcmp(env, "0") == 0;
    *scratch_floats = 0;
    for (int i = 0; i < m->num_layers; i++)
        kind[i] = band[i] = 0;
    for (int i = 0; !off && i < m->num_layers; i++) {
        const mnet_layer *l = &m->layers[i];
        int f = 0, di = i;
        /* p: a 1x1, or the stem (the full 3x3 convolution whose 112x112 output would
         * otherwise go to L3 and come back for the first depthwise). */
        if (can_fuse_pre(m, i)) {
            f = FUSE_PRE;
            di = i + 1;
        }
        if (!f && !mnet_op_is_dw(l->op))
            continue;
        const mnet_layer *d = &m->layers[di];
        const int group_in = f ? l->in_buf : d->in_buf;
        if (di + 1 < m->num_layers) {
            /* (d's input is p's output, which a group with p never writes.) */
            const mnet_layer *q = &m->layers[di + 1];
            if (q->op == MNET_OP_PW && q->in_buf == d->out_buf && q->out_buf != group_in &&
                    (f || q->out_buf != d->in_buf) && !input_read_later(m, di + 1) &&
                    worth_fusing((size_t)d->out_h * d->out_w * d->cout, q) &&
                    !can_fuse_pre(m, di + 1))
                f |= FUSE_POST;
        }
        if (!f)
            continue;
        /* Output rows per band: with p, the most whose 1x1 window fits the budget; else the
         * most whose depthwise output does (at least one). */
        const size_t in_row = (size_t)d->in_w * d->cin, out_row = (size_t)d->out_w * d->cout;
        int b = 1;
        while (b < d->out_h) {
            const size_t bytes = f & FUSE_PRE ?
                ((size_t)b * d->stride + (size_t)mnet_layer_ksize(d)) * in_row * sizeof(float) :
                (size_t)(b + 1) * out_row * sizeof(float);
            if (bytes > MNET_FUSE_WINDOW_BYTES)
                break;
            b++;
        }
        kind[i] = f;
        band[i] = b;
        size_t floats = f & FUSE_POST ? (size_t)b * out_row : 0;
        if (f & FUSE_PRE)
            floats += MNET_FUSE_WINDOWS * (size_t)((b - 1) * d->stride + mnet_layer_ksize(d)) *
                in_row;
        *scratch_floats = floats > *scratch_floats ? floats : *scratch_floats;
        i = di + (f & FUSE_POST ? 1 : 0);   /* the group's last layer */
    }
}

/* Layers in the group starting at layer i (1 = not fused). */
static int group_span(const int *kind, int i)
{
    return 1 + !!(kind[i] & FUSE_PRE) + !!(kind[i] & FUSE_POST) + !!(kind[i] & FUSE_HEAD);
}

/* A head: the last 1x1 (i) and the linear classifier after it, which pools i's output and
 * reads it nowhere else, computed a classifier slice at a time (run_head): i's MNET_FC_SLICE
 * channels of the slice over the image's rows, into a small buffer, pooled there, and the
 * slice's share of the classifier added in.  The classifier's weights (V2's 5.1 MB, V1's 4 MB)
 * come from memory in every inference, at about one core's DRAM rate (the classifier alone
 * took 0.17-0.21 ms of V2's 6 on the Zen 4 VM), so each slice's weights are prefetched while
 * i computes the slice's channels, and i's output never goes to memory.  On one or two
 * threads (one parity of slices each, see head_task); on more the layers run on their own.
 * Only while what a slice works on fits in L2 with room to spare (MNET_HEAD_CACHE_BYTES): i's
 * slice of weights and its next one (prefetched), the classifier's slice (prefetched) and i's
 * input, which every slice reads again.  V1 1.0's i has 1024 inputs: 262 KB of weights a
 * slice, with 1000 classes 256 KB of the classifier's and 200 KB of input, 980 KB in all
 * against the Zen 5's 1 MiB L2, and there its head took longer than the two layers on their
 * own: without it, one thread, tools/ab_bench.py against the library with it, V1 1.0 0.989,
 * 1.001 and 0.992 of the time, V1 160 (a 5x5 input) 0.990, 0.987 and 0.987; two threads 0.998
 * and 0.983 (session 48).  V2 1.0's is 480 KB, V1 0.5's 620 KB. */
#define MNET_HEAD_CACHE_BYTES (768u * 1024u)

static int head_fits(const mnet_layer *l, const mnet_layer *f)
{
    const size_t slice = (size_t)mnet_layer_k_slice(f) * sizeof(float);
    const size_t bytes = 2 * slice * ((size_t)l->cin + 1) + slice * (size_t)f->cout +
        (size_t)l->in_h * l->in_w * l->cin * sizeof(float);
    return bytes <= MNET_HEAD_CACHE_BYTES;
}

static void plan_head(const mnet_model *m, int threads, int *kind)
{
    const char *env = getenv("MNET_FUSE");   /* "0": off, as plan_fusion */
    if (threads > 2 || (env && strcmp(env, "0") == 0))
        return;
    for (int i = 0; i + 1 < m->num_layers; i += group_span(kind, i)) {
        const mnet_layer *l = &m->layers[i], *f = &m->layers[i + 1];
        if (!kind[i] && l->op == MNET_OP_PW && f->op == MNET_OP_FC && f->act == MNET_ACT_NONE &&
                mnet_layer_k_slice(f) < f->cin && f->in_buf == l->out_buf &&
                l->out_buf != l->in_buf && l->res_from < 0 && !input_read_later(m, i + 1) &&
                head_fits(l, f))
            kind[i] = FUSE_HEAD;
    }
}

void mnet_options_default(mnet_options *o)
{
    if (o) {
        memset(o, 0, sizeof *o);
        o->num_threads = 1;
        o->isa = MNET_ISA_AUTO;
    }
}

/* Each activation buffer starts at its own offset within a 4 KiB page, MNET_BUF_COLOR bytes
 * times its number: a depthwise reads one buffer while it writes another, and when the two
 * addresses agree in their low 12 bits (or the store runs 64 bytes ahead of the loads), the
 * core takes its loads for dependent on the stores before them (4K aliasing).  Buffers of a
 * MiB and more start on a 2 MiB boundary and smaller ones 64 bytes into a page (glibc), so
 * the depthwise layers between them ran at offsets of 0 and +-64 bytes, where V1's 256- to
 * 1024-channel layers take up to 2x (AVX-512) and 2.7x (AVX2) as long as at the offsets below
 * (bench_machine's dwalias, session 43).  1344 = 21 lines: every pair of the three buffers, in
 * either order, 1344, 1408, 2688 or 2752 bytes apart (mnet_page_at in reserve_images; each
 * allocation has a page of room for it).  On one thread every image of a batch keeps its
 * buffer's offset (slots of whole pages); on more, place() moves the tensors. */
static size_t buf_bytes(const mnet_context *ctx, int i, int images)
{
    return ctx->slot[i] ? ctx->slot[i] * (size_t)images * sizeof(float) + MNET_BUF_PAGE : 0;
}

void mnet_context_free(mnet_context *ctx)
{
    if (!ctx)
        return;
    mnet_pool_free(ctx->pool);
    for (int i = 0; i < MNET_NUM_BUFS; i++)
        mnet_big_free(ctx->mem[i], buf_bytes(ctx, i, ctx->images));
    for (int i = 0; i < MNET_VECS; i++)
        free(ctx->vec[i]);
    free(ctx->head);
    free(ctx->row_means);
    free(ctx->kind);
    free(ctx->band);
    free(ctx->prof_ms);
    free(ctx->cut);
    free(ctx->busy);
    mnet_big_free(ctx->scratch, ctx->scratch_floats * (size_t)ctx->threads * sizeof(float));
    free(ctx);
}

/* Buffers, vectors and row means for `images` images, images one after another (each layer's
 * tensors dense, so a 1x1 convolution over a batch is one GEMM).  Grows only; on failure the
 * context keeps what it had. */
static mnet_status reserve_images(mnet_context *ctx, int images)
{
    if (images <= ctx->images)
        return MNET_OK;
    const size_t n = (size_t)images;
    float *buf[MNET_NUM_BUFS] = { NULL };
    float *vec[MNET_VECS];
    int ok = 1;
    for (int i = 0; i < MNET_VECS; i++)
        ok &= (vec[i] = malloc(ctx->vec_floats * n * sizeof(float))) != NULL;
    float *means = malloc(ctx->row_floats * n * sizeof(float));
    ok &= means != NULL;
    if (ok) {   /* faulted in now too (a fault in the first inference can wait on the kernel) */
        for (int i = 0; i < MNET_VECS; i++)
            memset(vec[i], 0, ctx->vec_floats * n * sizeof(float));
        memset(means, 0, ctx->row_floats * n * sizeof(float));
    }
    float *mem[MNET_NUM_BUFS] = { NULL };
    for (int i = 0; ok && i < MNET_NUM_BUFS; i++)
        if (ctx->slot[i]) {
            size_t bytes;
            ok = mnet_mul_size(&bytes, ctx->slot[i] * sizeof(float), n) &&
                bytes <= SIZE_MAX - MNET_BUF_PAGE &&
                (mem[i] = mnet_big_alloc(bytes + MNET_BUF_PAGE)) != NULL;
            if (ok)
                buf[i] = mnet_page_at(mem[i], NULL, MNET_BUF_COLOR * (size_t)i);
            /* Fault the used pages in now, so the first inference runs at steady-state
             * speed (the rest is never touched and never becomes resident).  On several
             * threads, where an even split places the tensors: around the slot's middle. */
            const size_t from = ctx->threads > 1 ? ctx->slot[i] / 2 - ctx->used[i] / 2 : 0;
            for (size_t b = 0; ok && b < n; b++)
                memset(buf[i] + b * ctx->slot[i] + from, 0, ctx->used[i] * sizeof(float));
        }
    if (!ok) {
        for (int i = 0; i < MNET_NUM_BUFS; i++)
            mnet_big_free(mem[i], buf_bytes(ctx, i, images));
        for (int i = 0; i < MNET_VECS; i++)
            free(vec[i]);
        free(means);
        return mnet_error(MNET_ERR_NOMEM, "mnet_context: no memory for the activations of %d "
                "images", images);
    }
    for (int i = 0; i < MNET_NUM_BUFS; i++) {
        mnet_big_free(ctx->mem[i], buf_bytes(ctx, i, ctx->images));
        ctx->mem[i] = mem[i];
        ctx->buf[i] = buf[i];
    }
    for (int i = 0; i < MNET_VECS; i++) {
        free(ctx->vec[i]);
        ctx->vec[i] = vec[i];
    }
    free(ctx->row_means);
    ctx->row_means = means;
    ctx->images = images;
    return MNET_OK;
}

/* mnet_context_placement's statistics start again (after the warm-up, or at a new split). */
static void clear_placement(mnet_context *ctx)
{
    memset(ctx->reach, 0, sizeof ctx->reach);
    memset(ctx->miss, 0, sizeof ctx->miss);
}

/* The threads' parts of every layer, equal. */
static void even_cut(mnet_context *ctx)
{
    for (int t = 0; t <= ctx->threads; t++)
        ctx->cut[t] = (unsigned)((unsigned long long)MNET_CUT_ONE * (unsigned)t /
                (unsigned)ctx->threads);
}

/* One inference on a zero image (a valid, preprocessed input) while the context is made: the
 * first use of the kernels' code, its branches and the packed weights is paid here, not in the
 * caller's first run.  It leaves nothing else behind: it is not profiled, and the threads'
 * split goes back to even (learnt from a cold run, it would mislead the next). */
static mnet_status warm_up(mnet_context *ctx)
{
    const mnet_model_info *in = &ctx->model->info;
    float *img = calloc((size_t)in->height * in->width * in->channels, sizeof(float));
    float *logits = malloc((size_t)in->num_classes * sizeof(float));
    double *prof = ctx->prof_ms;
    ctx->prof_ms = NULL;   /* not profiled */
    mnet_status s = img && logits ? mnet_context_run(ctx, 1, img, logits) :
        mnet_error(MNET_ERR_NOMEM, "mnet_context_create: no memory for the warm-up image");
    ctx->prof_ms = prof;
    ctx->prof_images = 0;
    free(img);
    free(logits);
    clear_placement(ctx);
    even_cut(ctx);
    return s;
}

mnet_status mnet_context_create(const mnet_model *m, const mnet_options *o, mnet_context **out)
{
    static const char fn[] = "mnet_context_create";
    if (!out)
        return mnet_error(MNET_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!m)
        return mnet_error(MNET_ERR_ARG, "%s: m is NULL", fn);
    mnet_options def;
    if (!o) {
        mnet_options_default(&def);
        o = &def;
    }
    if (o->num_threads < 1 || o->num_threads > 1024)
        return mnet_error(MNET_ERR_ARG, "%s: num_threads %d is not within 1..1024", fn,
                o->num_threads);
    if (o->profile != 0 && o->profile != 1)
        return mnet_error(MNET_ERR_ARG, "%s: profile %d is not 0 or 1", fn, o->profile);
    if (o->max_batch < 0)
        return mnet_error(MNET_ERR_ARG, "%s: max_batch %d is negative", fn, o->max_batch);
    if (o->skip_warmup != 0 && o->skip_warmup != 1)
        return mnet_error(MNET_ERR_ARG, "%s: skip_warmup %d is not 0 or 1", fn, o->skip_warmup);
    if ((unsigned)o->isa > MNET_ISA_AVX512)
        return mnet_error(MNET_ERR_ARG, "%s: isa %d is not a valid mnet_isa", fn, (int)o->isa);
    const mnet_kernels *k = mnet_kernels_for(o->isa);
    if (!k)
        return mnet_error(MNET_ERR_UNSUPPORTED, "%s: isa '%s' is not available in this build or "
                "on this CPU", fn, mnet_isa_name(o->isa));

    mnet_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return mnet_error(MNET_ERR_NOMEM, "%s: no memory", fn);
    ctx->force_split = -1;
    const char *bs = getenv("MNET_BATCH_SPLIT");   /* "large" / "small": no tuning */
    ctx->fixed_split = bs && strcmp(bs, "large") == 0 ? 0 : bs && strcmp(bs, "small") == 0 ? 1 : -1;
    const char *dp = getenv("MNET_DW_PREFETCH");   /* "0" / "1": no timing */
    ctx->dwpf.mode = dp && strcmp(dp, "0") == 0 ? 0 : dp && strcmp(dp, "1") == 0 ? 1 : -1;
    /* The model is immutable to callers; its per-tier packed cache is filled under a lock. */
    ctx->model = (mnet_model *)m;
    ctx->k = k;
    ctx->threads = o->num_threads;
    mnet_status s = mnet_model_packed(ctx->model, k, &ctx->packed);
    if (s != MNET_OK) {
        free(ctx);
        return s;
    }
    ctx->kind = calloc((size_t)m->num_layers, sizeof *ctx->kind);
    ctx->band = calloc((size_t)m->num_layers, sizeof *ctx->band);
    if (o->profile)
        ctx->prof_ms = calloc((size_t)m->num_layers, sizeof *ctx->prof_ms);
    ctx->cut = malloc(((size_t)o->num_threads + 1) * sizeof *ctx->cut);
    ctx->busy = calloc((size_t)o->num_threads, sizeof *ctx->busy);
    if (!ctx->kind || !ctx->band || (o->profile && !ctx->prof_ms) || !ctx->cut || !ctx->busy) {
        mnet_context_free(ctx);
        return mnet_error(MNET_ERR_NOMEM, "%s: no memory", fn);
    }
    even_cut(ctx);   /* to start with */
    size_t scratch_floats, head_floats = 0;
    plan_fusion(m, ctx->kind, ctx->band, &scratch_floats);
    plan_head(m, o->num_threads, ctx->kind);
    for (int i = 0; i < m->num_layers; i++)
        if (ctx->kind[i] & FUSE_HEAD) {
            const size_t f = (size_t)m->layers[i].out_h * m->layers[i].out_w * MNET_FC_SLICE;
            head_floats = f > head_floats ? f : head_floats;
        }
    if (head_floats && !(ctx->head = calloc(head_floats * (o->num_threads < 2 ? 1 : 2),
            sizeof(float)))) {
        mnet_context_free(ctx);
        return mnet_error(MNET_ERR_NOMEM, "%s: no memory", fn);
    }
    /* What each buffer really holds: only a fused group's last layer writes its buffer. */
    for (int i = 0; i < m->num_layers; i += group_span(ctx->kind, i)) {
        const mnet_layer *l = &m->layers[i + group_span(ctx->kind, i) - 1];
        const size_t floats = (size_t)l->out_h * l->out_w * l->cout;
        if (l->out_buf >= 0 && floats > ctx->used[l->out_buf])
            ctx->used[l->out_buf] = floats;
    }
    for (int i = 0; i < MNET_NUM_BUFS; i++)   /* see place */
        ctx->slot[i] = o->num_threads > 1 ? 2 * ((ctx->used[i] + 15) & ~(size_t)15) :
            (m->buf_floats[i] + MNET_BUF_PAGE / sizeof(float) - 1) &
            ~(size_t)(MNET_BUF_PAGE / sizeof(float) - 1);   /* whole pages: see buf_bytes */
    ctx->vec_floats = ctx->row_floats = 1;
    for (int i = 0; i < m->num_layers; i++) {
        const mnet_layer *l = &m->layers[i];
        if (l->op == MNET_OP_SE_REDUCE && (size_t)l->in_h * l->cin > ctx->row_floats)
            ctx->row_floats = (size_t)l->in_h * l->cin;
        if (l->op == MNET_OP_FC || l->op == MNET_OP_SE_REDUCE || l->op == MNET_OP_SE_EXPAND) {
            ctx->vec_floats = (size_t)l->cin > ctx->vec_floats ? (size_t)l->cin : ctx->vec_floats;
            ctx->vec_floats = (size_t)l->cout > ctx->vec_floats ? (size_t)l->cout : ctx->vec_floats;
        }
    }
    if ((s = reserve_images(ctx, o->max_batch > 1 ? o->max_batch : 1)) != MNET_OK) {
        mnet_context_free(ctx);
        return s;
    }
    const size_t scratch_bytes = scratch_floats * (size_t)o->num_threads * sizeof(float);
    if (scratch_bytes && (ctx->scratch = mnet_big_alloc(scratch_bytes)) != NULL) {
        ctx->scratch_floats = scratch_floats;
        memset(ctx->scratch, 0, scratch_bytes);   /* faulted in now, like the buffers */
    }
    mnet_prefault_code();   /* the kernels' code, like the buffers above */
    ctx->pool = mnet_pool_create(o->num_threads);
    if ((scratch_bytes && !ctx->scratch) || !ctx->pool) {
        mnet_context_free(ctx);
        return mnet_error(MNET_ERR_NOMEM, "%s: no memory or threads for %d workers", fn,
                o->num_threads - 1);
    }
    if (o->skip_warmup == 0 && (s = warm_up(ctx)) != MNET_OK) {
        mnet_context_free(ctx);
        return s;
    }
    *out = ctx;
    mnet_clear_error();
    return MNET_OK;
}

mnet_status mnet_context_get_profile(const mnet_context *ctx, int count, double *ms, int *group)
{
    static const char fn[] = "mnet_context_get_profile";
    if (!ctx || !ms)
        return mnet_error(MNET_ERR_ARG, "%s: %s is NULL", fn, !ctx ? "ctx" : "ms");
    if (!ctx->prof_ms)
        return mnet_error(MNET_ERR_ARG, "%s: the context was created without options.profile",
                fn);
    const int n = ctx->model->num_layers;
    if (count < n)
        return mnet_error(MNET_ERR_ARG, "%s: count %d is less than the model's %d layers", fn,
                count, n);
    for (int s = 0; s < n; s += group_span(ctx->kind, s))
        for (int i = s; i < s + group_span(ctx->kind, s); i++) {
            ms[i] = i == s && ctx->prof_images > 0 ? ctx->prof_ms[i] / ctx->prof_images : 0.0;
            if (group)
                group[i] = s;
        }
    mnet_clear_error();
    return MNET_OK;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

int mnet_context_runs(const mnet_context *ctx, double *images, unsigned *cut)
{
    if (images)
        *images = ctx->prof_images;
    if (cut)
        memcpy(cut, ctx->cut, ((size_t)ctx->threads + 1) * sizeof *cut);
    return ctx->runs;
}

int mnet_context_images(const mnet_context *ctx)
{
    return ctx->images;
}

const float *mnet_context_buffer(const mnet_context *ctx, int buf, int image)
{
    if (buf < 0 || buf >= MNET_NUM_BUFS || !ctx->buf[buf] || image < 0 || image >= ctx->images)
        return NULL;
    return ctx->buf[buf] + (size_t)image * ctx->slot[buf];
}

long mnet_context_steals(const mnet_context *ctx)
{
    return mnet_pool_steals(ctx->pool);
}

int mnet_context_heads(const mnet_context *ctx)
{
    int n = 0;
    for (int i = 0; i < ctx->model->num_layers; i++)
        n += ctx->kind[i] == FUSE_HEAD;
    return n;
}

int mnet_context_fused_groups(const mnet_context *ctx, int pre, int post)
{
    int n = 0;
    for (int i = 0; i < ctx->model->num_layers; i++)
        n += ctx->kind[i] == ((pre ? FUSE_PRE : 0) | (post ? FUSE_POST : 0));
    return n;
}

/* A depthwise in a group with a 1x1 or the stem before it reads that group's window. */
static int dw_reads_window(const mnet_context *ctx, int i)
{
    return i > 0 && ctx->kind[i - 1] & FUSE_PRE;
}

int mnet_context_dw_prefetch(const mnet_context *ctx, int *layers)
{
    *layers = 0;
    for (int i = 0; i < ctx->model->num_layers; i++)
        *layers += dw_prefetch_may(&ctx->model->layers[i]) && !dw_reads_window(ctx, i);
    return *layers == 0 ? 0 : ctx->dwpf.mode;
}

typedef struct {
    const mnet_context *ctx;
    const mnet_layer *l;
    const float *in, *res, *w;
    float *out;
    float lo, hi;
    int epi;              /* MNET_EPI_* */
    int scale;            /* SE_EXPAND's second step: out = in * w per channel, by pixel rows */
    float *row_means;     /* depthwise before squeeze-and-excite: each output row's channel means */
    int batch;            /* images */
    size_t in_stride, out_stride, res_stride;   /* floats from one image to the next */
    float **end0;         /* part 0 of one image split by rows: where they end */
    const void *after;    /* a 1x1 split by rows: the next 1x1's first weight block, to prefetch */
    size_t after_bytes;
} layer_job;

static void act_of(mnet_act a, float *lo, float *hi, int *epi)
{
    *lo = a == MNET_ACT_RELU6 || a == MNET_ACT_RELU ? 0.0f : -INFINITY;
    *hi = a == MNET_ACT_RELU6 ? 6.0f : INFINITY;
    *epi = a == MNET_ACT_HSWISH ? MNET_EPI_HSWISH : a == MNET_ACT_HSIGMOID ? MNET_EPI_HSIGMOID :
        MNET_EPI_CLAMP;
}

/* The squeeze's average, row by row while the rows are in cache: fixed per-row pieces, so the
 * sum does not depend on how the rows were split. */
static void row_means(const mnet_kernels *k, const mnet_layer *l, const float *out, int oy0,
        int oy1, float *means)
{
    const size_t c = (size_t)l->cout, row = (size_t)l->out_w * c;
    for (int oy = oy0; means && oy < oy1; oy++)
        k->gavgpool.fn((size_t)l->out_w, c, out + (size_t)oy * row, means + (size_t)oy * c);
}

/* A fused group: a depthwise d, with the 1x1 or stem before it (p), the 1x1 after it (q) or
 * both.
 * Each part takes the depthwise output rows of its share, `band` rows at a time.  With p, for
 * a band it appends the 1x1's output rows the band needs and the scratch does not hold yet
 * (rows shared with the previous band are not recomputed; when the scratch is full they are
 * moved to its start), so p's output never leaves the cache.  With q, the band's depthwise
 * output goes to the scratch and straight into q's GEMM (and its residual add), so the
 * depthwise's output never leaves the cache either.  Every value is computed by the same
 * kernels on the same inputs as unfused (a GEMM row's result does not depend on its tile, a
 * depthwise row's not on the rows around it), so fused and unfused results are
 * bit-identical. */
typedef struct {
    const mnet_context *ctx;
    const mnet_layer *p, *d, *q;   /* p or q NULL when not in the group */
    const float *in, *pw, *dw, *qw;  /* the group's input; the layers' packed weights */
    const float *res;              /* q's residual, or NULL */
    float *out, *means;
    size_t in_stride, out_stride, res_stride;  /* floats from one image to the next */
    int band, batch;
    float **end0;                  /* part 0 of one image: where its rows end (see place) */
} fused_job;

/* Rows of one spatial layer over a batch are numbered image by image, 0 .. batch * h - 1, and
 * split between the parts at the context's cut (for one image: the same rows in every layer,
 * so that each thread mostly reads what it wrote; the two cores may not share a cache).  This
 * walks the images of part `part`'s rows: image *b, its rows [*y0, *y1). */
typedef struct { long g, g1; int h; } row_walk;

/* Where part `part` of `total` units starts: at the context's cut (part == threads: total),
 * rounded to the nearest unit.  (Rounded down, a layer of few rows, 7 at 7x7, gave the parts
 * before the cut less than their share, every such layer the same way, and rebalance, which
 * sees only the sum of the layers, made up for it with more of every many-pixel layer, so
 * that the 1x1 layers' first part ran longer than their second.)  The pool runs every task in
 * ctx->threads parts. */
static long split_at(const mnet_context *ctx, long total, int part)
{
    return (long)(((unsigned long long)total * ctx->cut[part] + MNET_CUT_ONE / 2) / MNET_CUT_ONE);
}

static row_walk rows_of(const mnet_context *ctx, int h, int batch, int part)
{
    const long total = (long)h * batch;
    return (row_walk){ split_at(ctx, total, part), split_at(ctx, total, part + 1), h };
}

static int next_rows(row_walk *w, int *b, int *y0, int *y1)
{
    if (w->g >= w->g1)
        return 0;
    *b = (int)(w->g / w->h);
    *y0 = (int)(w->g - (long)*b * w->h);
    const long end = ((long)*b + 1) * w->h;
    *y1 = (int)((end < w->g1 ? end : w->g1) - (long)*b * w->h);
    w->g = (long)*b * w->h + *y1;
    return 1;
}

static void fused_task(void *arg, int part, int parts)
{
    (void)parts;   /* always ctx->threads: the split is the context's cut */
    const fused_job *j = arg;
    const mnet_layer *p = j->p, *d = j->d, *q = j->q;
    const mnet_kernels *k = j->ctx->k;
    const size_t in_row = (size_t)d->in_w * d->cin, out_row = (size_t)d->out_w * d->cout;
    float *scratch = j->ctx->scratch + (size_t)part * j->ctx->scratch_floats;
    float *dwout = scratch;   /* with q: the band's depthwise output, after p's window */
    const int cap = p ? (int)((j->ctx->scratch_floats - (q ? (size_t)j->band * out_row : 0)) /
            in_row) : 0;      /* rows p's window holds */
    dwout += (size_t)cap * in_row;
    float plo = 0, phi = 0, dlo, dhi, qlo = 0, qhi = 0;
    int pepi = 0, depi, qepi = 0;
    if (p)
        act_of(p->act, &plo, &phi, &pepi);
    act_of(d->act, &dlo, &dhi, &depi);
    if (q)
        act_of(q->act, &qlo, &qhi, &qepi);
    const mnet_conv3x3_ukernel dwfn = conv_kernel(k, d->op);
    const size_t pin_row = p ? (size_t)p->in_w * p->cin : 0;
    const size_t orow = q ? (size_t)q->out_w * q->cout : out_row;   /* the group's output row */
    row_walk rw = rows_of(j->ctx, d->out_h, j->batch, part);
    int img, oy0, oy1;
    float *end = NULL;
    while (next_rows(&rw, &img, &oy0, &oy1)) {
        const float *in = j->in + (size_t)img * j->in_stride;
        float *out = j->out + (size_t)img * j->out_stride;
        float *means = j->means ? j->means + (size_t)img * d->out_h * d->cout : NULL;
        int base = 0, w1 = 0;   /* p's window: row 0 holds p's output row `base`; [base, w1) */
        for (int b0 = oy0; b0 < oy1; b0 += j->band) {
            const int b1 = b0 + j->band < oy1 ? b0 + j->band : oy1;
            int r0, r1;
            dw_rows_needed(d, b0, b1, &r0, &r1);
            const float *win = in + (size_t)r0 * in_row;   /* d's input rows [r0, r1) */
            /* The group's output rows that p (the stem or its GEMM) prefetches as it computes
             * (see mnet_pf_row): this band's, or without p, q's GEMM the next band's.  They
             * were last written an inference ago and are in memory by now. */
            const int n0 = p ? b0 : b1, n1 = p ? b1 : b1 + j->band < oy1 ? b1 + j->band : oy1;
            const char *ahead = (const char *)(out + (size_t)n0 * orow);
            const size_t ahead_bytes = (size_t)(n1 - n0) * orow * sizeof(float);
            if (p) {
                if (r0 < base || r0 > w1)   /* nothing to reuse (the first band) */
                    base = w1 = r0;
                if (r1 - base > cap) {      /* full: the shared rows to the start */
                    memmove(scratch, scratch + (size_t)(r0 - base) * in_row,
                            (size_t)(w1 - r0) * in_row * sizeof(float));
                    base = r0;
                }
                float *pout = scratch + (size_t)(w1 - base) * in_row;   /* p's rows [w1, r1) */
                if (w1 < r1 && p->op == MNET_OP_PW) {
                    mnet_gemm_run_add(&k->gemm, NULL, 0, (size_t)(r1 - w1) * p->out_w,
                            (size_t)p->cout, (size_t)p->cin, in + (size_t)w1 * pin_row,
                            (size_t)p->cin, j->pw, pout, (size_t)p->cout, plo, phi, pepi, NULL,
                            ahead_bytes ? ahead : NULL, ahead_bytes);
                } else if (w1 < r1) {   /* the stem, from the input rows those need */
                    int i0, i1;
                    dw_rows_needed(p, w1, r1, &i0, &i1);
                    const char *pf = (const char *)((uintptr_t)ahead & ~(uintptr_t)63);
                    const mnet_conv_geom gp = { i1 - i0, p->in_w, r1 - w1, p->out_w, p->stride,
                        p->pad_top + i0 - w1 * p->stride, p->pad_left, p->cin, p->cout, 0,
                        ahead_bytes ? pf : NULL,
                        ahead_bytes ? (size_t)(ahead + ahead_bytes - pf + 63) / 64 : 0 };
                    k->conv3x3.fn(&gp, in + (size_t)i0 * pin_row, j->pw, pout, 0, r1 - w1, plo,
                            phi, pepi);
                }
                w1 = r1;
                win = scratch + (size_t)(r0 - base) * in_row;
            }
            /* The depthwise sees a window of r1 - r0 input rows from image row r0 and writes
             * the band's rows: its output row 0 is row b0.  Rows outside the window are
             * exactly the image's own padding (r0 > 0 only when no tap reaches above). */
            const mnet_conv_geom g = { r1 - r0, d->in_w, b1 - b0, d->out_w, d->stride,
                d->pad_top + r0 - b0 * d->stride, d->pad_left, d->cin, d->cout,
                !p && dw_prefetch(j->ctx, d), NULL, 0 };
            float *o = q ? dwout : out + (size_t)b0 * out_row;
            dwfn(&g, win, j->dw, o, 0, b1 - b0, dlo, dhi, depi);
            if (q) {
                const size_t qrow = (size_t)q->out_w * q->cout;
                mnet_gemm_run_add(&k->gemm, k->add.fn, 0, (size_t)(b1 - b0) * d->out_w,
                        (size_t)q->cout, (size_t)q->cin, dwout, (size_t)q->cin, j->qw,
                        out + (size_t)b0 * qrow, (size_t)q->cout, qlo, qhi, qepi,
                        j->res ? j->res + (size_t)img * j->res_stride + (size_t)b0 * qrow :
                        NULL, !p && ahead_bytes ? ahead : NULL, p ? 0 : ahead_bytes);
            } else if (means) {
                row_means(k, d, out, b0, b1, means);
            }
            end = out + (size_t)b1 * (q ? (size_t)q->out_w * q->cout : out_row);
        }
    }
    if (part == 0 && j->batch == 1)
        *j->end0 = end;
}

/* One k-slice of a linear classifier (see mnet_layer_k_slice): inputs [k0, k0 + ks) of `rows`
 * vectors x ([rows][cin]) through the slice's packed weights w, columns [j0, j1) (j0 a panel's
 * start), into its accumulator acc ([rows][cout]): the first slice of each (slices 0 and 1,
 * `first`) straight in, the others into tmp, then added.  `after`, after_bytes: prefetched
 * while it computes. */
static void fc_slice(const mnet_kernels *k, const mnet_layer *l, const float *x, const float *w,
        size_t k0, size_t ks, float *acc, int first, float *tmp, size_t rows, size_t j0,
        size_t j1, const void *after, size_t after_bytes)
{
    const size_t cin = (size_t)l->cin, n = (size_t)l->cout, nr = (size_t)k->gemm.nr;
    float *dst = first ? acc : tmp;
    mnet_gemm_run_add(&k->gemm, NULL, 0, rows, j1 - j0, ks, x + k0, cin,
            w + j0 / nr * nr * (ks + 1), dst + j0, n, -INFINITY, INFINITY, MNET_EPI_CLAMP, NULL,
            after, after_bytes);
    for (size_t r = 0; !first && r < rows; r++)
        k->add.fn(j1 - j0, acc + r * n + j0, tmp + r * n + j0, -INFINITY, INFINITY,
                acc + r * n + j0);
}

/* y += odd, columns [j0, j1): a sliced classifier's two accumulators together. */
static void fc_join(const mnet_kernels *k, size_t n, float *y, const float *odd, size_t rows,
        size_t j0, size_t j1)
{
    for (size_t r = 0; r < rows; r++)
        k->add.fn(j1 - j0, y + r * n + j0, odd + r * n + j0, -INFINITY, INFINITY, y + r * n + j0);
}

/* Slice s of a sliced classifier's packed weights w (all of its slices but the last have
 * `slice` inputs). */
static const float *fc_slice_weights(const mnet_kernels *k, const mnet_layer *l, const float *w,
        size_t s)
{
    return w + s * mnet_packed_gemm_floats(mnet_layer_k_slice(l), l->cout, k->gemm.nr);
}

/* A linear classifier's columns [j0, j1) (y and the buffers [rows][cout]): the even slices
 * accumulate in y, the odd ones in `odd`, in slice order, then y += odd, so that a head
 * (run_head) on two threads, one parity each, gives the same bits; each slice prefetches the
 * next. */
static void fc_slices(const mnet_kernels *k, const mnet_layer *l, const float *x, const float *w,
        float *y, float *odd, float *tmp, size_t rows, size_t j0, size_t j1)
{
    const size_t cin = (size_t)l->cin, n = (size_t)l->cout, nr = (size_t)k->gemm.nr;
    const size_t slice = (size_t)mnet_layer_k_slice(l), panels = (j1 - j0 + nr - 1) / nr;
    for (size_t s = 0, k0 = 0; k0 < cin; s++, k0 += slice) {
        const size_t ks = mnet_slice_len(cin, k0, slice), kn = mnet_slice_len(cin, k0 + ks, slice);
        const float *next = fc_slice_weights(k, l, w, s + 1);
        fc_slice(k, l, x, fc_slice_weights(k, l, w, s), k0, ks, s & 1 ? odd : y, s < 2, tmp,
                rows, j0, j1, kn ? next + j0 / nr * nr * (kn + 1) : NULL,
                kn ? panels * nr * (kn + 1) * sizeof(float) : 0);
    }
    fc_join(k, n, y, odd, rows, j0, j1);
}

/* A GEMM of m rows (per image), n columns and k inputs: its MR-row tiles and NR-column panels,
 * and whether it is split between the threads by columns (see layer_task) rather than by rows.
 * By columns, each thread streams only its share of the weights, but reads every row of the
 * input, half of which the other core wrote, and writes lines of every output row; by rows,
 * each thread reads and writes the rows it (and the layers around it) wrote, but streams all the
 * weights.  Moving a line from one core's cache to the other's is the dearer (on the 2-vCPU
 * VM a core reads the other's lines at a fifth to a third of the rate of its own (xcore),
 * and V2's 7x7 depthwise layers ran at half their one-thread speed after column-split 1x1
 * layers), so rows are split unless the weights are large (V1's 7x7 layers, 2 and 4 MB) or the
 * rows too few to share at all (the classifier). */
static int gemm_grid(const mnet_context *ctx, size_t m, size_t n, size_t k, size_t *tiles,
        size_t *panels)
{
    const size_t mr = (size_t)ctx->k->gemm.mr, nr = (size_t)ctx->k->gemm.nr;
    const size_t t = (size_t)ctx->threads;
    *tiles = (m + mr - 1) / mr;
    *panels = (n + nr - 1) / nr;
    const int heavy = n * (k + 1) * sizeof(float) >= MNET_SPLIT_WEIGHT_BYTES;
    return t > 1 && *panels >= t && (*tiles < t || (*tiles < 4 * t && heavy));
}

/* How a layer's output is split between the threads (see place). */
enum { BY_ROWS, BY_GEMM };

/* One part of one layer: conv rows split evenly; GEMM rows (pixels) too, or its columns. */
static void layer_task(void *arg, int part, int parts)
{
    (void)parts;   /* always ctx->threads: the split is the context's cut */
    const layer_job *j = arg;
    const mnet_layer *l = j->l;
    const mnet_kernels *k = j->ctx->k;
    const size_t row = (size_t)l->out_w * l->cout;
    const size_t in_img = j->in_stride, out_img = j->out_stride;
    row_walk rw = rows_of(j->ctx, l->out_h, j->batch, part);
    int b, oy0, oy1;
    if (j->scale) {
        while (next_rows(&rw, &b, &oy0, &oy1))
            k->channel_scale.fn((size_t)(oy1 - oy0) * l->out_w, (size_t)l->cout,
                    j->in + b * in_img + (size_t)oy0 * row, j->w + (size_t)b * l->cout,
                    j->out + b * out_img + (size_t)oy0 * row);
        return;
    }
    if (l->op == MNET_OP_CONV3X3 || mnet_op_is_dw(l->op)) {
        const mnet_conv_geom g = { l->in_h, l->in_w, l->out_h, l->out_w, l->stride, l->pad_top,
            l->pad_left, l->cin, l->cout, dw_prefetch(j->ctx, l), NULL, 0 };
        const mnet_conv3x3_ukernel fn = conv_kernel(k, l->op);
        while (next_rows(&rw, &b, &oy0, &oy1)) {
            fn(&g, j->in + b * in_img, j->w, j->out + b * out_img, oy0, oy1, j->lo, j->hi, j->epi);
            row_means(k, l, j->out + b * out_img, oy0, oy1,
                    j->row_means ? j->row_means + (size_t)b * l->out_h * l->cout : NULL);
            if (part == 0 && j->batch == 1)
                *j->end0 = j->out + (size_t)oy1 * row;
        }
        return;
    }
    /* GEMM: a 1x1 convolution over every pixel of each image, or one row per image (FC and SE
     * vectors, dense: one GEMM over the batch). */
    const int pw = l->op == MNET_OP_PW;
    const size_t m = pw ? (size_t)l->out_h * l->out_w : (size_t)j->batch;
    const size_t n = (size_t)l->cout, mr = (size_t)k->gemm.mr;
    const size_t nr = (size_t)k->gemm.nr, cin = (size_t)l->cin;
    size_t tiles, panels;
    const int images = pw ? j->batch : 1;
    if (l->op == MNET_OP_FC && (size_t)mnet_layer_k_slice(l) < cin) {
        /* A linear classifier, slice by slice: each part all the rows of its panels. */
        const size_t all = (n + nr - 1) / nr;
        const size_t p0 = (size_t)split_at(j->ctx, (long)all, part);
        const size_t p1 = (size_t)split_at(j->ctx, (long)all, part + 1);
        if (p0 < p1)
            fc_slices(k, l, j->in, j->w, j->out, j->ctx->vec[2], j->ctx->vec[3], m, p0 * nr,
                    p1 * nr < n ? p1 * nr : n);
        return;
    }
    if (gemm_grid(j->ctx, m, n, cin, &tiles, &panels)) {
        /* Large weights over few row tiles (V1's 7x7 layers), or a single row tile (the
         * classifier): split the columns, so that each thread streams only its own share of
         * the weights (see gemm_grid).  The work is the
         * panels x tiles grid, panel-major, cut into equal runs of tiles: a thread gets whole
         * NR panels and at most a part of a panel at each end (5 panels on 2 threads: 2.5
         * each, not 3 and 2).  Every element is still computed by the same kernel code, so
         * the result does not depend on the thread count. */
        const size_t units = panels * tiles;
        const size_t u0 = (size_t)split_at(j->ctx, (long)units, part);
        const size_t u1 = (size_t)split_at(j->ctx, (long)units, part + 1);
        for (size_t u = u0; u < u1;) {
            const size_t p = u / tiles, t0 = u % tiles;
            /* from a panel's start, every whole panel the run covers (tiles [0, tiles) of
             * panels [p, pe)); else tiles [t0, t1) of panel p */
            const size_t pe = t0 == 0 && u1 - u >= tiles ? p + (u1 - u) / tiles : p + 1;
            const size_t t1 = t0 + (u1 - u) < tiles ? t0 + (u1 - u) : tiles;
            const size_t j0 = p * nr, j1 = pe * nr < n ? pe * nr : n;
            const size_t m0 = t0 * mr, m1 = t1 * mr < m ? t1 * mr : m;
            for (int im = 0; im < images; im++)
                mnet_gemm_run_add(&k->gemm, k->add.fn, m0, m1, j1 - j0, cin,
                        j->in + im * in_img, cin, j->w + p * nr * (cin + 1),
                        j->out + im * out_img + j0, n, j->lo, j->hi, j->epi,
                        j->res ? j->res + im * j->res_stride + j0 : NULL, NULL, 0);
            u = (pe - 1) * tiles + t1;
        }
        return;
    }
    /* The rows (pixels) of all images split evenly, each part's in near-equal tiles. */
    row_walk tw = rows_of(j->ctx, (int)m, images, part);
    int im, r0, r1;
    while (next_rows(&tw, &im, &r0, &r1)) {
        const size_t m0 = (size_t)r0, m1 = (size_t)r1;
        mnet_gemm_run_add(&k->gemm, k->add.fn, m0, m1, n, cin, j->in + im * in_img, cin, j->w,
                j->out + im * out_img, n, j->lo, j->hi, j->epi,
                j->res ? j->res + im * j->res_stride : NULL, j->after, j->after_bytes);
        if (part == 0 && pw && j->batch == 1)
            *j->end0 = j->out + m1 * n;
    }
}

/* The tensor buffer b holds now, in image slot `slot` (a run's first image is in slot 0, see
 * run_layers). */
static float *tensor_of(const mnet_context *ctx, int b, size_t slot)
{
    return ctx->buf[b] + ctx->at[b] + slot * ctx->slot[b];
}

/* Where layer l's output starts in its buffer's first slot for the images of a run (nb of them;
 * a fused group's last layer, with its group's rows).  On several threads the tensor is placed
 * so that the first part's share of it ends at the middle of the slot: the first thread then
 * writes only below the middle of every buffer and the others above it, whatever the sizes of
 * the tensors that share the buffer.  Without this, when a smaller tensor follows a larger one
 * in a buffer, the second thread writes lines that the first one's core wrote last, and each
 * such line must first be taken out of the other core's cache (on the 2-vCPU VM, which made the
 * second thread's share of V2's 14x14 and 7x7 depthwise layers 1.5-3x slower than the first's).
 * In place (squeeze-and-excite's scale) the tensor stays where it is. */
static float *place(mnet_context *ctx, const mnet_layer *l, int nb, int how)
{
    const int b = l->out_buf;
    const size_t row = (size_t)l->out_w * l->cout, floats = (size_t)l->out_h * row;
    if (b != l->in_buf) {
        ctx->held[b] = floats;
        if (ctx->threads > 1) {
            size_t first = floats / 2;   /* several images: where the cut falls hardly matters */
            size_t tiles, panels;
            if (nb == 1 && how == BY_ROWS) {
                first = (size_t)split_at(ctx, l->out_h, 1) * row;
            } else if (nb == 1 && !gemm_grid(ctx, (size_t)l->out_h * l->out_w, (size_t)l->cout,
                    (size_t)l->cin, &tiles, &panels)) {   /* by rows */
                first = (size_t)split_at(ctx, (long)l->out_h * l->out_w, 1) * (size_t)l->cout;
            }
            /* The slot is twice the largest tensor, so any cut fits: mid - first >= 0 and
             * mid - first + floats <= 2 * mid. */
            const size_t mid = ctx->slot[b] / 2;
            ctx->at[b] = (mid - first) & ~(size_t)15;
            if (ctx->at[b] + floats > ctx->reach[b])
                ctx->reach[b] = ctx->at[b] + floats;
        }
    }
    return tensor_of(ctx, b, 0);
}

/* After a task that wrote layer l's output (one image): how far from its slot's middle the
 * first part's rows really ended (tests; see place). */
static void note_end(mnet_context *ctx, const mnet_layer *l)
{
    const int b = l->out_buf;
    if (ctx->end0 && b != l->in_buf) {
        const size_t end = (size_t)(ctx->end0 - ctx->buf[b]);
        const size_t mid = ctx->slot[b] / 2, miss = end > mid ? end - mid : mid - end;
        ctx->miss[b] = miss > ctx->miss[b] ? miss : ctx->miss[b];
    }
    ctx->end0 = NULL;
}

/* The residual layer l adds (the input of layer res_from) for images from b0 (in the buffers
 * from the first slot): its first image, and *stride the floats from one image to the next. */
static const float *residual_of(const mnet_context *ctx, const mnet_layer *l, size_t b0,
        const float *input, size_t input_img, size_t *stride)
{
    const int rb = ctx->model->layers[l->res_from].in_buf;
    *stride = rb < 0 ? input_img : ctx->slot[rb];
    return rb < 0 ? input + b0 * input_img : tensor_of(ctx, rb, 0);
}

/* A layer (or fused group) on the pool; one whose depthwise may prefetch its input (`may`) is
 * timed into this run's share while the context still times both ways (see dw_prefetch). */
static void run_timing_dw(mnet_context *ctx, int may, mnet_task_fn fn, void *arg)
{
    const int timing = may && ctx->dwpf.mode < 0;
    const double t0 = timing ? now_ms() : 0.0;
    mnet_pool_run(ctx->pool, fn, arg);
    if (timing)
        ctx->dwpf.ms += now_ms() - t0;
}

/* The first weight block (MNET_GEMM_L2_BYTES at most) of the next 1x1 or classifier after
 * layer i, or NULL: a 1x1 prefetches it while its own last block computes, so that the next
 * one does not begin by waiting on L3 or DRAM for its weights (measured, paired rounds
 * new/old: one thread V2 0.986, V2 0.5 0.975, V1 0.999, V3 Large 0.995; two threads V2 0.984,
 * V1 1.000). */
static const void *next_weights(const mnet_context *ctx, int i, size_t *bytes)
{
    const mnet_model *m = ctx->model;
    for (int q = i + 1; q < m->num_layers; q++) {
        const mnet_layer *l = &m->layers[q];
        if (l->op == MNET_OP_PW || l->op == MNET_OP_FC) {
            const size_t all = mnet_packed_gemm_sliced_floats(l->cin, l->cout, ctx->k->gemm.nr,
                    mnet_layer_k_slice(l)) * sizeof(float);
            *bytes = all < MNET_GEMM_L2_BYTES ? all : MNET_GEMM_L2_BYTES;
            return ctx->packed->data + ctx->packed->offset[q];
        }
    }
    *bytes = 0;
    return NULL;
}

/* A head (FUSE_HEAD, see plan_head) for nb images: 1x1 l's output channels of each classifier
 * slice, one image at a time into the part's ctx->head, pooled into x ([nb][K]), then that
 * slice of classifier f into its accumulator (fc_slices: even slices y, odd ones vec[2]).  On
 * two threads each part takes one parity, so the two never touch the same accumulator; on one,
 * the part takes both.  While l computes a slice, the slice's classifier weights are
 * prefetched (to L2), and l's weights for the part's next slice while l's second half of the
 * slice computes or, when the slice is one weight block, while the classifier's slice does.
 * The same values as l computed whole, pooled, then fc_slices: a GEMM's element does not
 * depend on the columns around it, nor a channel's mean on the other channels. */
typedef struct {
    mnet_context *ctx;
    const mnet_layer *l, *f;
    const float *in, *lw, *fw;
    size_t in_img;
    float *x, *y;
    int nb;
} head_job;

static void head_task(void *arg, int part, int parts)
{
    const head_job *j = arg;
    const int used = parts < 2 ? parts : 2;
    if (part >= used)
        return;
    const mnet_kernels *k = j->ctx->k;
    const mnet_layer *l = j->l, *f = j->f;
    const size_t rows = (size_t)l->out_h * l->out_w, cin = (size_t)l->cin;
    const size_t kk = (size_t)f->cin, n = (size_t)f->cout;
    const size_t slice = (size_t)mnet_layer_k_slice(f), nr = (size_t)k->gemm.nr;
    float *head = j->ctx->head + (size_t)part * rows * slice;
    float lo, hi;
    int epi;
    act_of(l->act, &lo, &hi, &epi);
    for (size_t s = (size_t)part, k0 = s * slice; k0 < kk; s += (size_t)used, k0 += used * slice) {
        const size_t ks = mnet_slice_len(kk, k0, slice);
        const float *fws = fc_slice_weights(k, f, j->fw, s);
        const size_t fbytes = mnet_packed_gemm_floats((int)ks, f->cout, (int)nr) * sizeof(float);
        const float *lws = j->lw + k0 * (cin + 1);   /* l's panels of these channels */
        const size_t k1 = k0 + used * slice;   /* the part's next slice, if any */
        const size_t kn = mnet_slice_len(kk, k1, slice);
        const char *lnext = kn ? (const char *)(j->lw + k1 * (cin + 1)) + MNET_PF_FAR : NULL;
        const size_t lbytes = mnet_packed_gemm_floats(l->cin, (int)kn, (int)nr) * sizeof(float);
        /* A slice of more than one of the driver's weight blocks (V1's 1x1 of 1024 inputs):
         * the last image's in two calls of half its panels each, the first prefetching the
         * classifier's slice, the second l's next slice.  Otherwise (V2's, one block) the
         * call prefetches the classifier's slice and the classifier l's next one. */
        const size_t panels = (ks + nr - 1) / nr;
        const size_t half = panels * nr * (cin + 1) * sizeof(float) > MNET_GEMM_L2_BYTES ?
            panels / 2 * nr : 0;
        for (int b = 0; b < j->nb; b++) {
            const float *in = j->in + (size_t)b * j->in_img;
            const int last = b == j->nb - 1;
            const size_t n0 = last && half ? half : ks;
            mnet_gemm_run_add(&k->gemm, NULL, 0, rows, n0, cin, in, cin, lws, head, ks, lo, hi,
                    epi, NULL, last ? (const char *)fws + MNET_PF_FAR : NULL, last ? fbytes : 0);
            if (n0 < ks)
                mnet_gemm_run_add(&k->gemm, NULL, 0, rows, ks - n0, cin, in, cin,
                        lws + n0 * (cin + 1), head + n0, ks, lo, hi, epi, NULL, lnext, lbytes);
            k->gavgpool.fn(rows, ks, head, j->x + (size_t)b * kk + k0);
        }
        fc_slice(k, f, j->x, fws, k0, ks, s & 1 ? j->ctx->vec[2] : j->y, s < 2,
                j->ctx->vec[3 + part], (size_t)j->nb, 0, n, half ? NULL : lnext,
                half ? 0 : lbytes);
    }
}

static void run_head(mnet_context *ctx, const mnet_layer *l, const mnet_layer *f, const float *in,
        size_t in_img, const float *lw, const float *fw, float *x, float *y, int nb)
{
    head_job j = { .ctx = ctx, .l = l, .f = f, .in = in, .lw = lw, .fw = fw, .in_img = in_img,
        .x = x, .y = y, .nb = nb };
    mnet_pool_run(ctx->pool, head_task, &j);
    fc_join(ctx->k, (size_t)f->cout, y, ctx->vec[2], (size_t)nb, 0, (size_t)f->cout);
}

/* Layers [i0, i1) for images [b0, b0 + nb) of the input and the logits, their tensors in the
 * buffers' slots [0, nb) (slot b of buffer i at b * slot[i]: mnet_context_run runs the
 * image-by-image layers of every image in slot 0 and the batch's layers with image b in slot
 * b); the FC and squeeze-and-excite vectors are dense and indexed by image, one GEMM over the
 * images. */
static void run_layers(mnet_context *ctx, int i0, int i1, int b0, int nb, const float *input,
        float *logits)
{
    const mnet_model *m = ctx->model;
    const size_t b0z = (size_t)b0, nbz = (size_t)nb;
    const size_t input_img = (size_t)m->info.height * m->info.width * m->info.channels;
    int timed = -1;       /* profiling: the layer (group) being timed, since t0 */
    double t0 = 0.0;
    for (int i = i0; i < i1; i++) {
        if (ctx->prof_ms) {
            const double t = now_ms();
            if (timed >= 0)
                ctx->prof_ms[timed] += t - t0;
            timed = i;
            t0 = t;
        }
        const mnet_layer *l = &m->layers[i];
        const size_t in_img = l->in_buf < 0 ? input_img : ctx->slot[l->in_buf];
        const size_t out_img = l->out_buf < 0 ? 0 : ctx->slot[l->out_buf];
        const float *in = l->in_buf < 0 ? input + b0z * in_img : tensor_of(ctx, l->in_buf, 0);
        const float *w = ctx->packed->data + ctx->packed->offset[i];
        if (ctx->kind[i] & FUSE_HEAD && i + 1 < i1) {   /* the last 1x1 and the classifier */
            const mnet_layer *f = &m->layers[i + 1];
            run_head(ctx, l, f, in, in_img, w, ctx->packed->data + ctx->packed->offset[i + 1],
                    ctx->vec[0] + b0z * (size_t)f->cin,
                    i + 1 == m->num_layers - 1 ? logits + b0z * (size_t)f->cout :
                    ctx->vec[1] + b0z * (size_t)f->cout, nb);
            i++;
            continue;
        }
        if (ctx->kind[i] & (FUSE_PRE | FUSE_POST)) {
            /* a fused group: [1x1 or stem ->] depthwise [-> 1x1] */
            const int pre = ctx->kind[i] & FUSE_PRE, post = ctx->kind[i] & FUSE_POST;
            const int di = i + !!pre, last = di + !!post;
            const mnet_layer *d = &m->layers[di], *q = post ? &m->layers[last] : NULL;
            const size_t out_floats = ctx->slot[m->layers[last].out_buf];
            fused_job f = { .ctx = ctx, .p = pre ? l : NULL, .d = d, .q = q, .in = in,
                .pw = w, .dw = ctx->packed->data + ctx->packed->offset[di],
                .qw = post ? ctx->packed->data + ctx->packed->offset[last] : NULL,
                .out = place(ctx, &m->layers[last], nb, BY_ROWS),
                .in_stride = in_img, .out_stride = out_floats,
                .band = ctx->band[i], .batch = nb, .end0 = &ctx->end0,
                .means = !post && di + 1 < m->num_layers &&
                    m->layers[di + 1].op == MNET_OP_SE_REDUCE ?
                    ctx->row_means + b0z * d->out_h * d->cout : NULL };
            if (q && q->res_from >= 0)
                f.res = residual_of(ctx, q, b0z, input, input_img, &f.res_stride);
            run_timing_dw(ctx, !pre && dw_prefetch_may(d), fused_task, &f);
            note_end(ctx, &m->layers[last]);
            i = last;
            continue;
        }
        layer_job j = { .ctx = ctx, .l = l, .in = in, .w = w, .batch = nb, .in_stride = in_img,
            .out_stride = out_img, .end0 = &ctx->end0 };
        act_of(l->act, &j.lo, &j.hi, &j.epi);
        switch (l->op) {
        case MNET_OP_FC: {   /* on the pooled tensors, or the previous FC's vectors */
            int k = 0;       /* FC layers right before this one: they alternate vec[0], vec[1] */
            while (i - k - 1 >= 0 && m->layers[i - k - 1].op == MNET_OP_FC)
                k++;
            float *vin = ctx->vec[k & 1] + b0z * (size_t)l->cin;
            for (size_t b = 0; k == 0 && b < nbz; b++)
                ctx->k->gavgpool.fn((size_t)l->in_h * l->in_w, (size_t)l->cin, in + b * in_img,
                        vin + b * (size_t)l->cin);
            j.in = vin;
            j.out = i == m->num_layers - 1 ? logits + b0z * (size_t)l->cout :
                ctx->vec[(k + 1) & 1] + b0z * (size_t)l->cout;
            break;
        }
        case MNET_OP_SE_REDUCE:   /* the row means into vec[0], reduce into vec[1] */
        case MNET_OP_SE_EXPAND: {  /* expand vec[1] into the scales in vec[0] ... */
            /* A few hundred channels per image: the caller alone, no hand-off. */
            const int reduce = l->op == MNET_OP_SE_REDUCE;
            float *v_in = ctx->vec[!reduce] + b0z * (size_t)l->cin;
            float *v_out = ctx->vec[reduce] + b0z * (size_t)l->cout;
            for (size_t b = 0; reduce && b < nbz; b++)
                ctx->k->gavgpool.fn((size_t)l->in_h, (size_t)l->cin,
                        ctx->row_means + (b0z + b) * (size_t)l->in_h * l->cin,
                        v_in + b * (size_t)l->cin);
            mnet_gemm_run(&ctx->k->gemm, 0, nbz, (size_t)l->cout, (size_t)l->cin, v_in,
                    (size_t)l->cin, w, v_out, (size_t)l->cout, j.lo, j.hi, j.epi);
            if (!reduce) {   /* ... then scale the tensor in place */
                layer_job s = { .ctx = ctx, .l = l, .in = tensor_of(ctx, l->in_buf, 0),
                    .w = v_out, .out = place(ctx, l, nb, BY_ROWS), .scale = 1,
                    .batch = nb, .in_stride = in_img, .out_stride = out_img,
                    .end0 = &ctx->end0 };
                mnet_pool_run(ctx->pool, layer_task, &s);
                note_end(ctx, l);
            }
            continue;
        }
        default:
            if (i + 1 < m->num_layers && m->layers[i + 1].op == MNET_OP_SE_REDUCE)
                j.row_means = ctx->row_means + b0z * l->out_h * l->cout;
            if (l->op == MNET_OP_PW)
                j.after = next_weights(ctx, i, &j.after_bytes);
            j.out = place(ctx, l, nb, l->op == MNET_OP_PW ? BY_GEMM : BY_ROWS);
            break;
        }
        if (l->res_from >= 0)
            j.res = residual_of(ctx, l, b0z, input, input_img, &j.res_stride);
        run_timing_dw(ctx, dw_prefetch_may(l), layer_task, &j);
        if (l->out_buf >= 0)
            note_end(ctx, l);
    }
    if (timed >= 0)
        ctx->prof_ms[timed] += now_ms() - t0;
}

/* Which buffers layers [split, n) read before they write them (so that the tensor there, from
 * the image-by-image layers, must be in each image's own slot): a fused group reads its input
 * and its residual and writes its last layer's output; squeeze-and-excite reads and scales in
 * place. */
static void batch_reads(const mnet_context *ctx, int split, int carry[MNET_NUM_BUFS])
{
    const mnet_model *m = ctx->model;
    int seen[MNET_NUM_BUFS] = { 0 };
    for (int i = 0; i < MNET_NUM_BUFS; i++)
        carry[i] = 0;
    for (int i = split; i < m->num_layers; i += group_span(ctx->kind, i)) {
        const int last = i + group_span(ctx->kind, i) - 1;
        int reads[1 + 3], n = 0;
        reads[n++] = m->layers[i].in_buf;
        for (int j = i; j <= last; j++)
            if (m->layers[j].res_from >= 0)
                reads[n++] = m->layers[m->layers[j].res_from].in_buf;
        for (int r = 0; r < n; r++)
            if (reads[r] >= 0 && !seen[reads[r]])
                seen[reads[r]] = carry[reads[r]] = 1;
        if (m->layers[last].out_buf >= 0)
            seen[m->layers[last].out_buf] = 1;
    }
}

/* After a run on several threads: move the split towards the threads' measured speeds.  The
 * threads of a shared or heterogeneous machine need not be equally fast (on this project's
 * 2-vCPU VM one thread computed its halves 10-20% slower than the other for the whole life of
 * a process), and with an even split the faster one waits at the end of every layer.  A
 * part's speed is its share over the seconds it computed; each run moves the shares
 * MNET_CUT_STEP of the way to the speeds' proportions, within [1/2, 3/2] of an even share.
 * Where a part ends changes which thread computes a row, never the row's value. */
static void rebalance(mnet_context *ctx)
{
    const int t = ctx->threads;
    double *busy = ctx->busy, speed_sum = 0.0, busy_sum = 0.0;
    mnet_pool_take_busy(ctx->pool, busy);
    for (int i = 0; i < t; i++) {
        if (!(busy[i] > 0.0))
            return;   /* a part with no time: nothing to learn */
        speed_sum += (double)(ctx->cut[i + 1] - ctx->cut[i]) / busy[i];
        busy_sum += busy[i];
    }
    if (busy_sum < 1e-4)   /* under 0.1 ms of work: mostly the clock's noise */
        return;
    double sum = 0.0;
    for (int i = 0; i < t; i++) {   /* the new shares, in busy[] */
        const double now = (double)(ctx->cut[i + 1] - ctx->cut[i]) / MNET_CUT_ONE;
        const double target = (double)(ctx->cut[i + 1] - ctx->cut[i]) / busy[i] / speed_sum;
        double x = now + MNET_CUT_STEP * (target - now);
        x = x < 0.5 / t ? 0.5 / t : x > 1.5 / t ? 1.5 / t : x;
        busy[i] = x;
        sum += x;
    }
    double acc = 0.0;
    for (int i = 1; i < t; i++) {
        acc += busy[i - 1] / sum;
        ctx->cut[i] = (unsigned)(acc * MNET_CUT_ONE + 0.5);
        if (ctx->cut[i] <= ctx->cut[i - 1])
            ctx->cut[i] = ctx->cut[i - 1] + 1;
    }
    ctx->cut[t] = MNET_CUT_ONE;
}

mnet_status mnet_context_set_split(mnet_context *ctx, const unsigned *cut, int hold)
{
    const int t = ctx->threads;
    int ok = cut[0] == 0 && cut[t] == MNET_CUT_ONE;
    for (int i = 1; ok && i <= t; i++)
        ok = cut[i - 1] < cut[i];
    if (!ok)
        return mnet_error(MNET_ERR_ARG, "mnet_context_set_split: the cut must rise from 0 to %u",
                MNET_CUT_ONE);
    memcpy(ctx->cut, cut, ((size_t)t + 1) * sizeof *cut);
    ctx->hold_split = hold;
    clear_placement(ctx);
    return MNET_OK;
}

unsigned mnet_context_split(const mnet_context *ctx, int part)
{
    return ctx->cut[part];
}

size_t mnet_context_placement(const mnet_context *ctx, int b, size_t *reach, size_t *miss)
{
    *reach = ctx->reach[b];
    *miss = ctx->miss[b];
    return ctx->slot[b];
}

/* Split (the first layer run over the whole batch) moved forward to where a phase may end: a
 * fused group runs whole in one phase, and so does a squeeze-and-excite block.  The row means
 * its depthwise leaves and the vector its reduce leaves are laid out per layer (image b at b
 * times that layer's size), so another image's earlier layers would overwrite them if the
 * block were cut between the image-by-image phase and the batch's. */
static int legal_split(const mnet_context *ctx, int split)
{
    const mnet_model *m = ctx->model;
    split = split < 0 ? 0 : split > m->num_layers ? m->num_layers : split;
    for (int i = 0; i < split; i += group_span(ctx->kind, i))
        if (i + group_span(ctx->kind, i) > split)
            split = i + group_span(ctx->kind, i);   /* a fused group runs whole in one phase */
    while (split > 0 && split < m->num_layers && (m->layers[split].op == MNET_OP_SE_REDUCE ||
            m->layers[split].op == MNET_OP_SE_EXPAND))
        split++;
    return split;
}

/* The first layer of the part of the network that runs over the whole batch at once, for
 * tensors of up to `bytes` for the whole batch.  Activations stay in cache image by image while
 * they are large; once every remaining tensor of the whole batch fits, the rest of the network
 * runs over the whole batch at once, each layer's weights read once per batch instead of once
 * per image (a 1x1 layer is then one GEMM over batch x pixels rows). */
static int split_for(const mnet_context *ctx, int batch, size_t bytes)
{
    const mnet_model *m = ctx->model;
    int split = m->num_layers;
    while (split > 0) {
        const mnet_layer *l = &m->layers[split - 1];
        size_t floats = (size_t)l->out_h * l->out_w * l->cout > (size_t)l->in_h * l->in_w * l->cin ?
            (size_t)l->out_h * l->out_w * l->cout : (size_t)l->in_h * l->in_w * l->cin;
        /* The classifier works on pooled vectors: over the batch it reads its weights (1-5 MB)
         * once, for a copy of each image's last feature map into its slot. */
        if (l->op == MNET_OP_FC)
            floats = l->cin > l->cout ? (size_t)l->cin : (size_t)l->cout;
        if (floats * sizeof(float) * (size_t)batch > bytes)
            break;
        split--;
    }
    return legal_split(ctx, split);
}

/* The split of a run of `batch` (> 1) images.  Which bound pays depends on the model and the
 * machine: batching more layers reads their weights once per batch but moves a batch's worth of
 * activations through the caches (measured, one thread, batch 8 against 8 images alone:
 * 2 MiB ran V1 1.0 224, V2 1.0 224 and V2 0.5 128 3-10% faster than 512 KiB, which ran V1 0.5
 * 128 and V3 Small 0.5 224 3-5% faster than 2 MiB).  When the two bounds give different splits,
 * the context times both: after one warm-up run, the runs alternate between them until each
 * has MNET_BATCH_TRIALS, and the one with the faster best run is kept for that batch size
 * (tuned again if the batch size changes).  *tuned is the candidate being timed in this run,
 * else -1.  The split changes no result: a row's value never depends on which images share
 * its GEMM (the tests compare every split).  MNET_BATCH_SPLIT=large / small, read when the
 * context is created, fixes the choice (comparisons, tests). */
static int batch_split(mnet_context *ctx, int batch, int *tuned)
{
    *tuned = -1;
    if (ctx->force_split >= 0)
        return legal_split(ctx, ctx->force_split);
    if (ctx->tune.batch != batch) {   /* a new batch size: its candidates, once */
        memset(&ctx->tune, 0, sizeof ctx->tune);
        ctx->tune.batch = batch;
        ctx->tune.chosen = -1;
        ctx->tune.cand[0] = split_for(ctx, batch, MNET_BATCH_TENSOR_BYTES);
        ctx->tune.cand[1] = split_for(ctx, batch, MNET_BATCH_TENSOR_BYTES_SMALL);
    }
    const int *cand = ctx->tune.cand;
    if (ctx->fixed_split >= 0)
        return cand[ctx->fixed_split];
    if (cand[0] == cand[1])
        return cand[0];
    if (ctx->tune.chosen >= 0)
        return cand[ctx->tune.chosen];
    const int run = ctx->tune.runs++;
    if (run == 0)
        return cand[0];   /* warm-up: first touches, cold weights */
    *tuned = (run - 1) & 1;
    return cand[*tuned];
}

/* After a timed run of candidate c: keep its best, and choose once both have their trials. */
static void batch_split_done(mnet_context *ctx, int c, double ms)
{
    if (ctx->tune.trials[c] == 0 || ms < ctx->tune.best[c])
        ctx->tune.best[c] = ms;
    ctx->tune.trials[c]++;
    if (ctx->tune.trials[0] >= MNET_BATCH_TRIALS && ctx->tune.trials[1] >= MNET_BATCH_TRIALS)
        ctx->tune.chosen = ctx->tune.best[1] < ctx->tune.best[0];
}

int mnet_context_force_batch_split(mnet_context *ctx, int split)
{
    ctx->force_split = split < 0 ? -1 : split;
    return split < 0 ? -1 : legal_split(ctx, split);
}

int mnet_context_batch_split(const mnet_context *ctx, int batch, int *large, int *small)
{
    *large = split_for(ctx, batch, MNET_BATCH_TENSOR_BYTES);
    *small = split_for(ctx, batch, MNET_BATCH_TENSOR_BYTES_SMALL);
    return ctx->tune.batch == batch ? ctx->tune.chosen : -1;
}

mnet_status mnet_context_run(mnet_context *ctx, int batch, const float *input, float *logits)
{
    static const char fn[] = "mnet_context_run";
    if (!ctx || !input || !logits)
        return mnet_error(MNET_ERR_ARG, "%s: %s is NULL", fn, !ctx ? "ctx" : !input ? "input" :
                "logits");
    if (batch < 1)
        return mnet_error(MNET_ERR_ARG, "%s: batch must be >= 1 (got %d)", fn, batch);
    const mnet_model *m = ctx->model;
    const size_t in_img = (size_t)m->info.height * m->info.width * m->info.channels;
    const size_t classes = (size_t)m->info.num_classes;
    size_t in_bytes, out_bytes;
    if (!mnet_mul_size(&in_bytes, in_img * sizeof(float), (size_t)batch) ||
            !mnet_mul_size(&out_bytes, classes * sizeof(float), (size_t)batch))
        return mnet_error(MNET_ERR_ARG, "%s: batch %d exceeds PTRDIFF_MAX bytes", fn, batch);
    if ((uintptr_t)logits < (uintptr_t)input + in_bytes &&
            (uintptr_t)input < (uintptr_t)logits + out_bytes)
        return mnet_error(MNET_ERR_ARG, "%s: logits overlap input", fn);

    mnet_status st = reserve_images(ctx, batch);
    if (st != MNET_OK)
        return st;

    int tuned = -1;
    int split = batch == 1 ? 0 : batch_split(ctx, batch, &tuned);
    dw_prefetch_begin(ctx);
    const double t_run = tuned >= 0 ? now_ms() : 0.0;
    /* The image-by-image layers of every image run in the buffers' first slot, which stays in
     * cache from one image to the next (as at batch 1); what the batch's layers then read of
     * image b is copied to its slot.  The images go last to first, so that image 0's stays. */
    int carry[MNET_NUM_BUFS];
    if (split > 0)
        batch_reads(ctx, split, carry);
    for (int b = batch - 1; b >= 0 && split > 0; b--) {
        run_layers(ctx, 0, split, b, 1, input, logits);
        for (int i = 0; b > 0 && i < MNET_NUM_BUFS; i++)
            if (carry[i])
                memcpy(tensor_of(ctx, i, (size_t)b), tensor_of(ctx, i, 0),
                        ctx->held[i] * sizeof(float));
    }
    run_layers(ctx, split, m->num_layers, 0, batch, input, logits);
    if (tuned >= 0)
        batch_split_done(ctx, tuned, now_ms() - t_run);
    dw_prefetch_end(ctx, batch);
    if (ctx->threads > 1 && !ctx->hold_split)
        rebalance(ctx);
    ctx->prof_images += batch;
    ctx->runs++;
    mnet_clear_error();
    return MNET_OK;
}
