/* test_kernels.c - checkasm-style differential tests: every registered kernel against test/ref.c. */
#define _GNU_SOURCE
#include <check.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "model.h"
#include "expect_isa.h"
#include "ref.h"

/* ---------------------------------------------------------------------------------------------
 * Tolerance.  A float kernel that adds K products and a bias, in any order and with or without
 * FMA, rounds each product once (or not at all) and each partial sum once, so its error is at
 * most about 2 * K * 2^-24 * sum|term|.  We allow
 *
 *     |got - ref| <= 1e-6 + (K + 2) * 2e-7 * sum|term|
 *
 * where ref is the double reference and sum|term| is what the reference reports in `mag`.
 * 2e-7 is 3.4 * 2^-24 (the two roundings per term, with margin), the "+ 2" covers the bias and
 * the final rounding, and 1e-6 absorbs results that cancel to about 0.  K is the reduction
 * length: 9 or 25 (dwconv), 9 * cin (conv), k (gemm), h * w (average pool; the terms are
 * x / (h * w)), 1 (add, scale/shift).  Clamping cannot widen a difference, so clamped values
 * compare alike.
 *
 * A fused activation runs on the float sum: h-swish's slope is at most 1.5 (at v = 3), h-sigmoid's
 * 1/6, so the sum's tolerance is multiplied by 1.5 (h-swish) or kept (h-sigmoid), and TOL_ACT is
 * added for the activation's own roundings (v + 3, * (1/6), the product: below 7e-7 for
 * |v| <= 3; exact past 3, where the factor is exactly 1).  The standalone h-swish and h-sigmoid
 * kernels are compared bit for bit with mnet_epilogue_f32 instead: same operations, same order.
 * Softmax is compared relatively: |got - ref| <= 1e-5 * ref + 1e-30 (the 1e-30 accepts results
 * that fall into the float denormal range, which no exp implementation promises to 1e-5).
 * ------------------------------------------------------------------------------------------- */
#define TOL_ABS 1e-6
#define TOL_REL_PER_TERM 2e-7
#define TOL_ACT 1e-6
#define SOFTMAX_REL 1e-5
#define SOFTMAX_ABS 1e-30

/* ---- the registered kernels, straight from the X-macro list --------------------------------- */
typedef void (*any_fn)(void);   /* GCC accepts casts to and from void (*)(void) for any function */
typedef struct variant {
    mnet_isa isa;
    const char *name;
    any_fn fn;
    int t0, t1;   /* dwconv/conv: CR, 0; gemm: MR, NR; others: 0, 0 */
} variant;

#define V(isa, f, a, b) { MNET_ISA_##isa, #f, (any_fn)(f), a, b },
static const variant dwconv_variants[] = {
#define MNET_DWCONV3X3(isa, f, cr) V(isa, f, cr, 0)
#include "ukernels.inc"
};
static const variant conv_variants[] = {
#define MNET_CONV3X3(isa, f, cr) V(isa, f, cr, 0)
#include "ukernels.inc"
};
static const variant gemm_variants[] = {
#define MNET_GEMM(isa, f, mr, nr) V(isa, f, mr, nr)
#include "ukernels.inc"
};
static const variant bn_relu6_variants[] = {
#define MNET_BN_RELU6(isa, f) V(isa, f, 0, 0)
#include "ukernels.inc"
};
static const variant gavgpool_variants[] = {
#define MNET_GAVGPOOL(isa, f) V(isa, f, 0, 0)
#include "ukernels.inc"
};
static const variant add_variants[] = {
#define MNET_ADD(isa, f) V(isa, f, 0, 0)
#include "ukernels.inc"
};
static const variant softmax_variants[] = {
#define MNET_SOFTMAX(isa, f) V(isa, f, 0, 0)
#include "ukernels.inc"
};
static const variant dwconv5_variants[] = {
#define MNET_DWCONV5X5(isa, f, cr) V(isa, f, cr, 0)
#include "ukernels.inc"
};
static const variant hswish_variants[] = {
#define MNET_HSWISH(isa, f) V(isa, f, 0, 0)
#include "ukernels.inc"
};
static const variant hsigmoid_variants[] = {
#define MNET_HSIGMOID(isa, f) V(isa, f, 0, 0)
#include "ukernels.inc"
};
static const variant channel_scale_variants[] = {
#define MNET_CHANNEL_SCALE(isa, f) V(isa, f, 0, 0)
#include "ukernels.inc"
};
#undef V
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Families without a tile in the list are swept over channel counts 1..3*16+1: past every
 * vector width and unroll (8 and 2x8 on AVX2, 4 and 4x4 on NEON) with a tail on each side. */
#define UNTILED 16

/* ---- seed, random numbers, failure context ------------------------------------------------ */
static uint64_t g_seed;
static char g_ctx[512];   /* the current case, printed with every failure */

#define FAIL(...) fail_case(__FILE__, __LINE__, __VA_ARGS__)
__attribute__((format(printf, 3, 4), noreturn))
static void fail_case(const char *file, int line, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    _ck_assert_failed(file, line, "Failed", "%s | case: %s | seed 0x%016" PRIx64
            " (rerun with MNET_TEST_SEED=0x%016" PRIx64 ")", msg, g_ctx, g_seed, g_seed);
    abort();   /* not reached: Check leaves the test */
}

typedef struct rng { uint64_t s; } rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Each test (and each loop index) gets its own stream, so one test reruns alone identically. */
static rng rng_for(const char *test, int index)
{
    uint64_t h = 0xcbf29ce484222325u;   /* FNV-1a of the test name */
    for (const char *s = test; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    uint64_t x = g_seed ^ h ^ ((uint64_t)index << 32);
    rng r = { splitmix64(&x) | 1 };
    return r;
}

static uint64_t rng_next(rng *r)   /* xorshift64* */
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1du;
}

static int rng_int(rng *r, int n)   /* [0, n) */
{
    return (int)(rng_next(r) % (uint64_t)n);
}

static float rng_float(rng *r, float lo, float hi)
{
    const double u = (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);   /* [0, 1) */
    return (float)(lo + (hi - lo) * u);
}

static void fill(rng *r, float *p, size_t count, float amplitude)
{
    for (size_t i = 0; i < count; i++)
        p[i] = rng_float(r, -amplitude, amplitude);
}

/* ---- input buffers that end at a PROT_NONE page -------------------------------------------- */
/* Bytes left between a buffer's end and its guard page: 0, except where MNET_TEST_GUARD_SLACK
 * says otherwise.  qemu 7.2's TCG faults on the masked-off lanes of VMASKMOVPS loads (real CPUs
 * suppress those faults, Intel SDM "VMASKMOV"), so the emulated-Haswell run sets 32: reads more
 * than 32 bytes past the end still fault there, and natively the guard abuts every buffer. */
static size_t g_guard_slack;

typedef struct guarded {
    unsigned char *base;
    size_t usable;   /* bytes before the guard page */
} guarded;

static size_t page_bytes(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* A buffer of `count` floats inside `g`.  misalign == 0: its last byte is the last byte before
 * the guard page, so any read past the end faults.  misalign == 1: it starts at an address that
 * is 4 mod 16 (4-byte aligned, not 8- or 16-) and ends less than 16 bytes before the guard.
 * (A count that is 3 mod 4 has both properties in either mode.) */
static float *guarded_buf(guarded *g, size_t count, int misalign)
{
    const size_t ps = page_bytes(), bytes = count * sizeof(float);
    if (bytes + 32 + g_guard_slack > g->usable) {
        if (g->base)
            munmap(g->base, g->usable + ps);
        const size_t usable = (bytes + 32 + g_guard_slack + ps - 1) / ps * ps;
        void *p = mmap(NULL, usable + ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                -1, 0);
        if (p == MAP_FAILED)
            FAIL("mmap of %zu bytes failed", usable + ps);
        g->base = p;
        g->usable = usable;
        if (mprotect(g->base + usable, ps, PROT_NONE) != 0)
            FAIL("mprotect of the guard page failed");
    }
    uintptr_t end = (uintptr_t)(g->base + g->usable - g_guard_slack), start = end - bytes;
    if (misalign) {
        start = (start & ~(uintptr_t)15) + 4;
        if (start + bytes > end)
            start -= 16;
    }
    return (float *)start;
}

/* ---- outputs surrounded by canaries --------------------------------------------------------- */
#define CANARY 16                       /* floats on each side */
static const uint32_t CANARY_BITS = 0x7fbadbadu;   /* a signalling-NaN pattern nothing computes */

typedef struct outbuf {
    float *raw;
    size_t cap;
} outbuf;

static int is_canary(const float *p)
{
    uint32_t u;
    memcpy(&u, p, sizeof u);
    return u == CANARY_BITS;
}

static void set_canary(float *p, size_t count)
{
    for (size_t i = 0; i < count; i++)
        memcpy(&p[i], &CANARY_BITS, sizeof CANARY_BITS);
}

/* `count` floats, all canary, with CANARY canaries on each side; misalign as for guarded_buf. */
static float *out_buf(outbuf *o, size_t count, int misalign)
{
    const size_t need = count + 2 * CANARY + 4;
    if (need > o->cap) {
        free(o->raw);
        o->raw = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
        if (!o->raw)
            FAIL("out of memory for %zu floats", need);
        o->cap = need;
    }
    float *out = o->raw + CANARY + (misalign ? 1 : 0);
    set_canary(out - CANARY, count + 2 * CANARY);
    return out;
}

static void check_canaries(const float *out, size_t count, const char *what)
{
    for (int i = 1; i <= CANARY; i++)
        if (!is_canary(out - i))
            FAIL("%s: canary %d floats before the output was overwritten", what, i);
    for (int i = 0; i < CANARY; i++)
        if (!is_canary(out + count + i))
            FAIL("%s: canary %d floats after the output (of %zu) was overwritten", what, i + 1,
                    count);
}

/* Reference results: scratch that grows as needed. */
typedef struct dbuf {
    double *p;
    size_t cap;
} dbuf;

static double *dbuf_get(dbuf *d, size_t count)
{
    if (count > d->cap) {
        free(d->p);
        d->p = malloc(count * sizeof(double));
        if (!d->p)
            FAIL("out of memory for %zu doubles", count);
        d->cap = count;
    }
    return d->p;
}

/* With a fused activation `act` (MNET_ACTIVATION_*) between the sum and the clamp. */
static void check_close_act(const char *what, const float *got, const double *ref,
        const double *mag, size_t count, double k_terms, int act)
{
    const double slope = act == MNET_ACTIVATION_HSWISH ? 1.5 : 1.0;
    const double extra = act == MNET_ACTIVATION_NONE ? 0.0 : TOL_ACT;
    for (size_t i = 0; i < count; i++) {
        const double tol = slope * (TOL_ABS + (k_terms + 2) * TOL_REL_PER_TERM * mag[i]) + extra;
        const double diff = fabs((double)got[i] - ref[i]);
        if (!(diff <= tol))   /* also catches NaN (e.g. an untouched canary) */
            FAIL("%s: element %zu: got %.9g, reference %.9g, |diff| %.3g > tolerance %.3g", what,
                    i, (double)got[i], ref[i], diff, tol);
    }
}

static void check_close(const char *what, const float *got, const double *ref, const double *mag,
        size_t count, double k_terms)
{
    for (size_t i = 0; i < count; i++) {
        const double tol = TOL_ABS + (k_terms + 2) * TOL_REL_PER_TERM * mag[i];
        const double diff = fabs((double)got[i] - ref[i]);
        if (!(diff <= tol))   /* also catches NaN (e.g. an untouched canary) */
            FAIL("%s: element %zu: got %.9g, reference %.9g, |diff| %.3g > tolerance %.3g", what,
                    i, (double)got[i], ref[i], diff, tol);
    }
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void check_same_bits(const char *what, const float *a, const float *b, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0)
            FAIL("%s: element %zu differs: %.9g vs %.9g", what, i, (double)a[i], (double)b[i]);
}

static void check_status(mnet_status st, const char *what)
{
    if (st != MNET_OK)
        FAIL("%s returned %s (%s)", what, mnet_status_string(st), mnet_last_error());
}

/* A variant whose ISA this CPU (or build) cannot run is reported, not run. */
static int runnable(const variant *v)
{
    if (mnet_isa_available(v->isa))
        return 1;
    printf("%s: ISA '%s' not available on this CPU: not run\n", v->name, mnet_isa_name(v->isa));
    return 0;
}

static int is_selected(const variant *v)
{
    return v->isa == mnet_isa_selected();
}

/* ---- clamps: none, and two that bite ------------------------------------------------------ */
typedef struct clamp_kind {
    float lo, hi;
    float spread;   /* typical |output| the data is scaled to, so both bounds trigger */
    const char *name;
} clamp_kind;

static const clamp_kind CLAMPS[] = {
    { -INFINITY, INFINITY, 2.0f, "none" },
    { -0.5f, 0.5f, 1.0f, "[-0.5,0.5]" },
    { 0.0f, 6.0f, 5.0f, "[0,6]" },
};
#define NCLAMP 3

/* Which clamp bounds some reference output hit, over one whole test; and which pieces of
 * h-swish / h-sigmoid the sums reached: [act][v < -3, -3 <= v <= 3, v > 3]. */
typedef struct bites {
    int lo[NCLAMP], hi[NCLAMP];
    int piece[3][3];
} bites;

static const char *const ACT_NAMES[3] = { "none", "hswish", "hsigmoid" };

/* The references return the sums (no clamp): apply the case's activation and clamp to them in
 * place, noting which pieces of the activation the sums reached (with no activation, which
 * clamp bounds bit). */
static void apply_epilogue(bites *b, int clamp, int act, double *ref, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const double v = ref[i];
        b->piece[act][v < -3.0 ? 0 : v <= 3.0 ? 1 : 2] = 1;
        ref[i] = ref_epilogue(v, (mnet_activation)act, CLAMPS[clamp].lo, CLAMPS[clamp].hi);
        if (act == MNET_ACTIVATION_NONE) {
            b->lo[clamp] |= ref[i] == (double)CLAMPS[clamp].lo;
            b->hi[clamp] |= ref[i] == (double)CLAMPS[clamp].hi;
        }
    }
}

/* The test is wrong if the sums never reached each piece of both activations. */
static void check_pieces(const bites *b, const char *test)
{
    static const char *const piece_names[3] = { "below -3", "in [-3, 3]", "above 3" };
    snprintf(g_ctx, sizeof g_ctx, "%s, all cases", test);
    for (int act = 1; act < 3; act++)
        for (int k = 0; k < 3; k++)
            if (!b->piece[act][k])
                FAIL("no %s case had a sum %s: the test does not exercise that piece",
                        ACT_NAMES[act], piece_names[k]);
}

/* Rotations over a sweep's case index: the clamp with period NCLAMP, the activation with
 * period 3 * NCLAMP, so every (clamp, activation) pair recurs every 9 cases. */
static int case_clamp(int index)
{
    return index % NCLAMP;
}

static int case_act(int index)
{
    return (index / NCLAMP) % 3;
}

static void note_bites(bites *b, int clamp, const double *ref, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        b->lo[clamp] |= ref[i] == (double)CLAMPS[clamp].lo;
        b->hi[clamp] |= ref[i] == (double)CLAMPS[clamp].hi;
    }
}

/* The test itself is wrong if its data never made a clamp bite. */
static void check_bites(const bites *b, const char *test)
{
    snprintf(g_ctx, sizeof g_ctx, "%s, all cases", test);
    for (int k = 1; k < NCLAMP; k++)
        if (!b->lo[k] || !b->hi[k])
            FAIL("the data never reached the %s bound of clamp %s: the test does not exercise it",
                    b->lo[k] ? "upper" : "lower", CLAMPS[k].name);
}

static void check_case_count(int cases, int minimum, const char *test)
{
    if (cases < minimum)
        FAIL("%s ran only %d cases (expected at least %d): the shape matrix is broken", test,
                cases, minimum);
}

/* ---- shape lists ----------------------------------------------------------------------------- */
static const int SIZES[] = { 1, 2, 3, 4, 5, 7, 11, 13 };
#define NSIZES COUNT(SIZES)

typedef struct intlist {
    int v[96];
    int n;
} intlist;

static void add_unique(intlist *l, int v)
{
    if (v < 1)
        return;
    for (int i = 0; i < l->n; i++)
        if (l->v[i] == v)
            return;
    if (l->n < COUNT(l->v))
        l->v[l->n++] = v;
}

/* 1..3*tile+1, then a few round numbers MobileNet uses. */
static intlist channel_list(int tile)
{
    intlist l = { .n = 0 };
    for (int c = 1; c <= 3 * tile + 1; c++)
        add_unique(&l, c);
    add_unique(&l, 32);
    add_unique(&l, 64);
    return l;
}

/* ---- convolutions (3x3 and 5x5 depthwise, full 3x3) through the public API ----------------- */
typedef struct conv_case {
    int ks;                   /* window: 3 or 5 (5 only depthwise) */
    int n, h, w, cin, cout;   /* depthwise: cin == cout == c */
    mnet_conv_params p;
    int clamp, act, bias;
} conv_case;

/* Padding combinations of a ks x ks window: each edge 0 .. ks / 2, so 16 for 3x3, 81 for 5x5. */
static int pad_combos(int ks)
{
    return ks == 5 ? 81 : 16;
}

/* Combination `pads` (0 .. pad_combos - 1): top, left, bottom, right as digits in base ks/2+1. */
static mnet_conv_params make_params(int ks, int stride, int pads, int clamp)
{
    const int base = ks / 2 + 1;
    mnet_conv_params p = { stride, pads % base, (pads / base) % base,
                           (pads / (base * base)) % base, (pads / (base * base * base)) % base,
                           CLAMPS[clamp].lo, CLAMPS[clamp].hi };
    return p;
}

static int valid_size(int ks, int h, int w, const mnet_conv_params *p)
{
    return h + p->pad_top + p->pad_bottom >= ks && w + p->pad_left + p->pad_right >= ks;
}

static void describe_conv(const char *kernel, const conv_case *cs, int depthwise, const char *extra)
{
    snprintf(g_ctx, sizeof g_ctx, "%s%s %dx%d n=%d h=%d w=%d %s=%d cout=%d stride=%d "
            "pad(t,l,b,r)=%d,%d,%d,%d clamp=%s act=%s bias=%s", kernel, extra, cs->ks, cs->ks,
            cs->n, cs->h, cs->w, depthwise ? "c" : "cin", cs->cin, cs->cout, cs->p.stride,
            cs->p.pad_top, cs->p.pad_left, cs->p.pad_bottom, cs->p.pad_right,
            CLAMPS[cs->clamp].name, ACT_NAMES[cs->act], cs->bias ? "yes" : "NULL");
}

/* The shape matrix: (a) every channel count with every stride and padding combination, the
 * spatial size rotating; (b) every spatial size pair (non-square included) with every stride
 * and padding combination, the channel count rotating.  Clamp, activation, bias, batch and
 * placement rotate with the case index.  `cins` is NULL for depthwise. */
typedef void (*conv_case_fn)(const variant *v, const conv_case *cs, int index, rng *r, bites *b);

static int conv_sweep(const variant *v, int ks, const intlist *couts, const intlist *cins,
        conv_case_fn run, rng *r, bites *b)
{
    int index = 0, rot = 0;
    for (int pass = 0; pass < 2; pass++) {
        const int outer = pass == 0 ? couts->n : NSIZES * NSIZES;
        for (int o = 0; o < outer; o++)
            for (int stride = 1; stride <= 2; stride++)
                for (int pads = 0; pads < pad_combos(ks); pads++) {
                    conv_case cs;
                    cs.ks = ks;
                    cs.clamp = case_clamp(index);
                    cs.act = case_act(index);
                    cs.p = make_params(ks, stride, pads, cs.clamp);
                    if (pass == 0) {
                        cs.cout = couts->v[o];
                        /* the next spatial pair this padding accepts */
                        do {
                            rot++;
                            cs.h = SIZES[rot % NSIZES];
                            cs.w = SIZES[(rot / NSIZES) % NSIZES];
                        } while (!valid_size(ks, cs.h, cs.w, &cs.p));
                    } else {
                        cs.h = SIZES[o / NSIZES];
                        cs.w = SIZES[o % NSIZES];
                        if (!valid_size(ks, cs.h, cs.w, &cs.p))
                            continue;
                        cs.cout = couts->v[rot++ % couts->n];
                    }
                    cs.cin = cins ? cins->v[index % cins->n] : cs.cout;
                    cs.n = 1 + (index / 3) % 2;
                    cs.bias = index % 5 != 4;
                    run(v, &cs, index, r, b);
                    index++;
                }
    }
    return index;
}

/* MobileNet V1/V2/V3 layers, with symmetric padding and with TensorFlow's "SAME" padding for
 * stride 2 on an even size (bottom and right get the larger pad).  `pads` as in make_params;
 * depthwise: cin = cout; act as in V3 (h-swish in its later blocks, none before). */
static const struct {
    int depthwise, ks, h, w, cin, cout, stride, pads, act;
} REAL_LAYERS[] = {
    { 1, 3, 112, 112, 32, 32, 1, 15, 0 }, { 1, 3, 112, 112, 64, 64, 2, 12, 0 },
    { 1, 3, 56, 56, 144, 144, 2, 15, 0 }, { 1, 3, 14, 14, 512, 512, 1, 15, 0 },
    { 1, 3, 7, 7, 1024, 1024, 1, 15, 0 }, { 1, 3, 28, 28, 192, 192, 2, 12, 0 },
    { 1, 3, 28, 28, 240, 240, 2, 15, 1 }, { 1, 3, 14, 14, 184, 184, 1, 15, 1 },
    { 1, 5, 56, 56, 72, 72, 2, 80, 0 }, { 1, 5, 56, 56, 72, 72, 2, 76, 0 },
    { 1, 5, 28, 28, 120, 120, 1, 80, 0 }, { 1, 5, 14, 14, 672, 672, 2, 80, 1 },
    { 1, 5, 7, 7, 960, 960, 1, 80, 1 }, { 1, 5, 14, 14, 144, 144, 1, 80, 1 },
    { 0, 3, 224, 224, 3, 32, 2, 15, 0 }, { 0, 3, 224, 224, 3, 32, 2, 12, 0 },
    { 0, 3, 160, 160, 3, 16, 2, 15, 0 }, { 0, 3, 224, 224, 3, 16, 2, 15, 1 },
    /* 8 and 24 channels (V3 and V1 at small widths, V2 0.75): a last group of at most 8 */
    { 0, 3, 224, 224, 3, 8, 2, 15, 1 }, { 0, 3, 128, 128, 3, 8, 2, 12, 0 },
    { 0, 3, 96, 96, 3, 24, 2, 15, 0 },
};

static int real_shapes(const variant *v, int depthwise, int ks, conv_case_fn run, rng *r,
        bites *b, int index)
{
    int count = 0;
    for (int i = 0; i < COUNT(REAL_LAYERS); i++) {
        if (REAL_LAYERS[i].depthwise != depthwise || REAL_LAYERS[i].ks != ks)
            continue;
        conv_case cs;
        cs.ks = ks;
        cs.clamp = REAL_LAYERS[i].act ? 0 : count % 2 ? 1 : 2;   /* mostly ReLU6 */
        cs.act = REAL_LAYERS[i].act;
        cs.p = make_params(ks, REAL_LAYERS[i].stride, REAL_LAYERS[i].pads, cs.clamp);
        cs.n = 1;
        cs.h = REAL_LAYERS[i].h;
        cs.w = REAL_LAYERS[i].w;
        cs.cin = REAL_LAYERS[i].cin;
        cs.cout = REAL_LAYERS[i].cout;
        cs.bias = 1;
        run(v, &cs, index + count++, r, b);
    }
    return count;
}

static outbuf g_out, g_out2;
static guarded g_in, g_wt, g_bias, g_aux;
static dbuf g_ref, g_mag;

/* Data scale of a case: the clamp's spread, or 4 with an activation so that the sums straddle
 * -3 and 3 (every piece of h-swish and h-sigmoid). */
static float case_spread(const conv_case *cs)
{
    return cs->act ? 4.0f : CLAMPS[cs->clamp].spread;
}

/* The public depthwise call of a case: without an activation, the plain call or its _act twin
 * (every other time), so both entry points are compared with the reference. */
static mnet_status call_dwconv(mnet_isa isa, const conv_case *cs, int index, const float *in,
        const float *wt, const float *bias, float *out)
{
    const int plain = cs->act == MNET_ACTIVATION_NONE && (index / 9) % 2 == 0;
    if (cs->ks == 5)
        return plain ? mnet_dwconv5x5_f32(isa, cs->n, cs->h, cs->w, cs->cin, in, wt, bias, &cs->p,
                               out)
                     : mnet_dwconv5x5_act_f32(isa, cs->n, cs->h, cs->w, cs->cin, in, wt, bias,
                               &cs->p, (mnet_activation)cs->act, out);
    return plain ? mnet_dwconv3x3_f32(isa, cs->n, cs->h, cs->w, cs->cin, in, wt, bias, &cs->p, out)
                 : mnet_dwconv3x3_act_f32(isa, cs->n, cs->h, cs->w, cs->cin, in, wt, bias, &cs->p,
                           (mnet_activation)cs->act, out);
}

/* The references run without a clamp; apply_epilogue adds the case's activation and clamp. */
static mnet_conv_params unclamped(const mnet_conv_params *p)
{
    mnet_conv_params q = *p;
    q.out_min = -INFINITY;
    q.out_max = INFINITY;
    return q;
}

static void dwconv_case(const variant *v, const conv_case *cs, int index, rng *r, bites *b)
{
    const int c = cs->cin, ks = cs->ks, taps = ks * ks;
    const int oh = ref_conv_out_size(cs->h, cs->p.pad_top, cs->p.pad_bottom, ks, cs->p.stride);
    const int ow = ref_conv_out_size(cs->w, cs->p.pad_left, cs->p.pad_right, ks, cs->p.stride);
    const size_t in_n = (size_t)cs->n * cs->h * cs->w * c, out_n = (size_t)cs->n * oh * ow * c;
    const float spread = case_spread(cs);
    describe_conv(v->name, cs, 1, "");

    /* ks * ks taps of in * w with w in [-1, 1]: std(out) ~ amplitude(in) * ks / 3 */
    float *in = guarded_buf(&g_in, in_n, index & 1);
    float *wt = guarded_buf(&g_wt, (size_t)taps * c, !(index & 1));
    float *bias = cs->bias ? guarded_buf(&g_bias, (size_t)c, index & 1) : NULL;
    fill(r, in, in_n, spread * 3.0f / (float)ks);
    fill(r, wt, (size_t)taps * c, 1.0f);
    if (bias)
        fill(r, bias, (size_t)c, spread / 2);

    double *ref = dbuf_get(&g_ref, out_n), *mag = dbuf_get(&g_mag, out_n);
    const mnet_conv_params sums = unclamped(&cs->p);
    ref_dwconv(ks, cs->n, cs->h, cs->w, c, in, wt, bias, &sums, ref, mag);
    apply_epilogue(b, cs->clamp, cs->act, ref, out_n);

    float *out = out_buf(&g_out, out_n, (index >> 1) & 1);
    check_status(call_dwconv(v->isa, cs, index, in, wt, bias, out), "the depthwise call");
    check_canaries(out, out_n, "explicit ISA");
    check_close_act("explicit ISA", out, ref, mag, out_n, taps, cs->act);

    if (is_selected(v)) {   /* AUTO must run exactly this tier */
        float *out2 = out_buf(&g_out2, out_n, !((index >> 1) & 1));
        check_status(call_dwconv(MNET_ISA_AUTO, cs, index, in, wt, bias, out2),
                "the depthwise call (AUTO)");
        check_canaries(out2, out_n, "MNET_ISA_AUTO");
        check_same_bits("MNET_ISA_AUTO vs the selected tier", out2, out, out_n);
    }
}

/* Rows wider than the size list: the SIMD kernels compute tiles of up to 16 output pixels and
 * finish a row with narrower (possibly overlapping) tiles, so every width from 14 to 64 runs,
 * each stride, few rows, the padding and channel count rotating. */
static int dwconv_wide(const variant *v, int ks, const intlist *couts, rng *r, bites *b,
        int index)
{
    int count = 0;
    for (int w = 14; w <= 64; w++)
        for (int stride = 1; stride <= 2; stride++) {
            conv_case cs;
            const int i = index + count;
            cs.ks = ks;
            cs.clamp = case_clamp(i);
            cs.act = case_act(i);
            cs.p = make_params(ks, stride, (i * 7) % pad_combos(ks), cs.clamp);
            cs.n = 1;
            cs.h = ks - 2 + (i % 3);
            cs.w = w;
            if (!valid_size(ks, cs.h, cs.w, &cs.p))
                cs.h = ks;
            cs.cin = cs.cout = couts->v[(i * 5) % couts->n];
            cs.bias = 1;
            dwconv_case(v, &cs, i, r, b);
            count++;
        }
    return count;
}

static void dwconv_test(const variant *v, int index, int ks, const char *test, int min_cases)
{
    rng r = rng_for(test, index);
    bites b;
    memset(&b, 0, sizeof b);
    const intlist cs = channel_list(v->t0);
    int cases = conv_sweep(v, ks, &cs, NULL, dwconv_case, &r, &b);
    cases += real_shapes(v, 1, ks, dwconv_case, &r, &b, cases);
    cases += dwconv_wide(v, ks, &cs, &r, &b, cases);
    check_case_count(cases, min_cases, v->name);
    check_bites(&b, v->name);
    check_pieces(&b, v->name);
}

START_TEST(test_dwconv3x3)
{
    const variant *v = &dwconv_variants[_i];
    if (runnable(v))
        dwconv_test(v, _i, 3, "dwconv3x3", 1000);
}
END_TEST

START_TEST(test_dwconv5x5)
{
    const variant *v = &dwconv5_variants[_i];
    if (runnable(v))
        dwconv_test(v, _i, 5, "dwconv5x5", 5000);
}
END_TEST

static mnet_status call_conv(mnet_isa isa, const conv_case *cs, int index, const float *in,
        const float *wt, const float *bias, float *out)
{
    if (cs->act == MNET_ACTIVATION_NONE && (index / 9) % 2 == 0)
        return mnet_conv3x3_f32(isa, cs->n, cs->h, cs->w, cs->cin, cs->cout, in, wt, bias, &cs->p,
                out);
    return mnet_conv3x3_act_f32(isa, cs->n, cs->h, cs->w, cs->cin, cs->cout, in, wt, bias,
            &cs->p, (mnet_activation)cs->act, out);
}

static void conv_case_run(const variant *v, const conv_case *cs, int index, rng *r, bites *b)
{
    const int oh = ref_conv_out_size(cs->h, cs->p.pad_top, cs->p.pad_bottom, 3, cs->p.stride);
    const int ow = ref_conv_out_size(cs->w, cs->p.pad_left, cs->p.pad_right, 3, cs->p.stride);
    const size_t in_n = (size_t)cs->n * cs->h * cs->w * cs->cin;
    const size_t w_n = (size_t)cs->cout * 9 * cs->cin;
    const size_t out_n = (size_t)cs->n * oh * ow * cs->cout;
    const float spread = case_spread(cs);
    describe_conv(v->name, cs, 0, "");

    /* 9 * cin terms of in * w with w in [-1, 1]: std(out) ~ amplitude(in) * sqrt(cin) */
    float *in = guarded_buf(&g_in, in_n, index & 1);
    float *wt = guarded_buf(&g_wt, w_n, !(index & 1));
    float *bias = cs->bias ? guarded_buf(&g_bias, (size_t)cs->cout, index & 1) : NULL;
    fill(r, in, in_n, spread / sqrtf((float)cs->cin));
    fill(r, wt, w_n, 1.0f);
    if (bias)
        fill(r, bias, (size_t)cs->cout, spread / 2);

    double *ref = dbuf_get(&g_ref, out_n), *mag = dbuf_get(&g_mag, out_n);
    const mnet_conv_params sums = unclamped(&cs->p);
    ref_conv3x3(cs->n, cs->h, cs->w, cs->cin, cs->cout, in, wt, bias, &sums, ref, mag);
    apply_epilogue(b, cs->clamp, cs->act, ref, out_n);

    float *out = out_buf(&g_out, out_n, (index >> 1) & 1);
    check_status(call_conv(v->isa, cs, index, in, wt, bias, out), "mnet_conv3x3(_act)_f32");
    check_canaries(out, out_n, "explicit ISA");
    check_close_act("explicit ISA", out, ref, mag, out_n, 9.0 * cs->cin, cs->act);

    if (is_selected(v)) {
        float *out2 = out_buf(&g_out2, out_n, !((index >> 1) & 1));
        check_status(call_conv(MNET_ISA_AUTO, cs, index, in, wt, bias, out2),
                "mnet_conv3x3(_act)_f32(AUTO)");
        check_canaries(out2, out_n, "MNET_ISA_AUTO");
        check_same_bits("MNET_ISA_AUTO vs the selected tier", out2, out, out_n);
    }
}

START_TEST(test_conv3x3)
{
    const variant *v = &conv_variants[_i];
    if (!runnable(v))
        return;
    rng r = rng_for("conv3x3", _i);
    bites b;
    memset(&b, 0, sizeof b);
    const intlist couts = channel_list(v->t0);
    /* the stem has cin = 3; the rest covers 1, tails around 4 and 8, and a longer reduction */
    const intlist cins = { { 3, 1, 2, 4, 5, 8, 3, 16 }, 8 };
    int cases = conv_sweep(v, 3, &couts, &cins, conv_case_run, &r, &b);
    cases += real_shapes(v, 0, 3, conv_case_run, &r, &b, cases);
    check_case_count(cases, 1000, v->name);
    check_bites(&b, v->name);
    check_pieces(&b, v->name);
}
END_TEST

/* ---- GEMM through the public API ------------------------------------------------------------ */
/* A tier may register two GEMMs and run one (MNET_GEMM_WHERE): the public API runs the table's,
 * so a variant the table does not hold runs through the same packing and driver directly; where
 * its tier is the selected one, the MNET_ISA_AUTO pass then runs the table's GEMM, and the two
 * must agree bit for bit (a tier's GEMMs sum in the same order). */
static int in_table(const variant *v)
{
    const mnet_kernels *t = mnet_kernels_for(v->isa);
    return t && (any_fn)t->gemm.fn == v->fn;
}

static mnet_status gemm_direct(const variant *v, int m, int n, int k, const float *a,
        const float *b, const float *bias, int act, float lo, float hi, float *out)
{
    const mnet_gemm_config cfg = { (mnet_gemm_ukernel)v->fn, v->t0, v->t1, v->name };
    float *packed = guarded_buf(&g_aux, mnet_packed_gemm_floats(k, n, cfg.nr), 0);
    mnet_pack_gemm(k, n, cfg.nr, b, bias, packed);
    mnet_gemm_run(&cfg, 0, (size_t)m, (size_t)n, (size_t)k, a, (size_t)k, packed, out,
            (size_t)n, lo, hi, act);
    return MNET_OK;
}

/* Without an activation the plain call or (every other time) its _act twin; the activation
 * rotates with period 9, so any 7 consecutive cases (one (m, n) pair over all k) see all three. */
static int gemm_case(const variant *v, int m, int n, int k, int index, rng *r, bites *b)
{
    const int clamp = case_clamp(index), act = case_act(index), with_bias = index % 5 != 4;
    const int plain = act == MNET_ACTIVATION_NONE && (index / 9) % 2 == 0;
    const float spread = act ? 4.0f : CLAMPS[clamp].spread;
    const float lo = CLAMPS[clamp].lo, hi = CLAMPS[clamp].hi;
    snprintf(g_ctx, sizeof g_ctx, "%s m=%d n=%d k=%d clamp=%s act=%s bias=%s%s", v->name, m, n,
            k, CLAMPS[clamp].name, ACT_NAMES[act], with_bias ? "yes" : "NULL",
            plain ? "" : " (mnet_gemm_act_f32)");
    const size_t a_n = (size_t)m * k, b_n = (size_t)k * n, out_n = (size_t)m * n;

    /* k terms of a * b with b in [-1, 1]: std(out) ~ amplitude(a) * sqrt(k) / 3 */
    float *a = guarded_buf(&g_in, a_n, index & 1);
    float *bm = guarded_buf(&g_wt, b_n, !(index & 1));
    float *bias = with_bias ? guarded_buf(&g_bias, (size_t)n, index & 1) : NULL;
    fill(r, a, a_n, 3.0f * spread / sqrtf((float)k));
    fill(r, bm, b_n, 1.0f);
    if (bias)
        fill(r, bias, (size_t)n, spread / 2);

    double *ref = dbuf_get(&g_ref, out_n), *mag = dbuf_get(&g_mag, out_n);
    ref_gemm(m, n, k, a, bm, bias, -INFINITY, INFINITY, ref, mag);
    apply_epilogue(b, clamp, act, ref, out_n);

    float *outs[2];
    for (int pass = 0; pass < (is_selected(v) ? 2 : 1); pass++) {
        const mnet_isa isa = pass == 0 ? v->isa : MNET_ISA_AUTO;
        const char *what = pass == 0 ? "explicit ISA" : "MNET_ISA_AUTO";
        float *out = outs[pass] = out_buf(pass == 0 ? &g_out : &g_out2, out_n,
                ((index >> 1) + pass) & 1);
        if (pass == 0 && !in_table(v))
            check_status(gemm_direct(v, m, n, k, a, bm, bias, act, lo, hi, out), "mnet_gemm_run");
        else
            check_status(plain ? mnet_gemm_f32(isa, m, n, k, a, bm, bias, lo, hi, out)
                               : mnet_gemm_act_f32(isa, m, n, k, a, bm, bias,
                                       (mnet_activation)act, lo, hi, out), "mnet_gemm(_act)_f32");
        check_canaries(out, out_n, what);
        check_close_act(what, out, ref, mag, out_n, k, act);
    }
    if (is_selected(v))
        check_same_bits("MNET_ISA_AUTO vs the selected tier", outs[1], outs[0], out_n);
    return index + 1;
}

START_TEST(test_gemm)
{
    const variant *v = &gemm_variants[_i];
    if (!runnable(v))
        return;
    rng r = rng_for("gemm", _i);
    bites b;
    memset(&b, 0, sizeof b);
    const int mr = v->t0, nr = v->t1;
    intlist ms = { .n = 0 }, ns = { .n = 0 };
    /* m = 1 is the one-row path; n <= nr / 2 the half-panel path; mr x nr the full tiles.  The
     * driver cuts m rows into near-equal tiles, so these m also give every tile height from 1
     * to mr (9 = 5 + 4, 11 = 6 + 5, 13 = 5 + 4 + 4, 31 = 8 + 8 + 7 + 8 with mr = 8). */
    const int m_extra[] = { mr - 1, mr, mr + 1, 2 * mr + 1, 1, 2, 3, 5, 11, 17, 31 };
    /* nr - nr / 4 (24 with nr = 32): the AVX-512 pairs' tail panel, also after whole panels;
     * nr / 4 (8): the Zen 4 variant's ymm tail panel, alone and after whole panels */
    const int n_extra[] = { nr - 1, nr, nr + 1, 3 * nr + 1, nr / 2, nr / 2 + 1, 1, 2, 3, 5, 13,
                            37, nr - nr / 4, 2 * nr - nr / 4, nr / 4, 2 * nr + nr / 4 };
    const int ks[] = { 1, 2, 3, 7, 16, 64, 129 };
    for (int i = 0; i < COUNT(m_extra); i++)
        add_unique(&ms, m_extra[i]);
    for (int i = 0; i < COUNT(n_extra); i++)
        add_unique(&ns, n_extra[i]);
    int index = 0;
    for (int i = 0; i < ms.n; i++)
        for (int j = 0; j < ns.n; j++)
            for (int kk = 0; kk < COUNT(ks); kk++)
                index = gemm_case(v, ms.v[i], ns.v[j], ks[kk], index, &r, &b);
    /* MobileNet layers: a 14x14 pointwise, the last 7x7 pointwise (its packed weights span
     * several of the driver's L2 blocks), the classifier, and V3's h-swish expansions and
     * h-sigmoid squeeze-and-excite FC (index chosen so the rotation gives the activation). */
    index = gemm_case(v, 196, 128, 64, index, &r, &b);
    index = gemm_case(v, 49, 1024, 1024, index, &r, &b);
    index = gemm_case(v, 1, 1000, 1024, index, &r, &b);
    while (case_act(index) != MNET_ACTIVATION_HSWISH)
        index++;
    index = gemm_case(v, 196, 480, 80, index, &r, &b);
    index = gemm_case(v, 49, 960, 160, index, &r, &b);
    while (case_act(index) != MNET_ACTIVATION_HSIGMOID)
        index++;
    index = gemm_case(v, 1, 672, 168, index, &r, &b);
    check_case_count(index, 300, v->name);
    check_bites(&b, v->name);
    check_pieces(&b, v->name);
}
END_TEST

/* ---- elementwise calls that allow y == x ------------------------------------------------------ */
/* One such call and how to judge its output: BN + ReLU6, h-swish, h-sigmoid, channel scale. */
typedef struct unary_op {
    const char *fn;                            /* for failure messages */
    mnet_status (*call)(const struct unary_op *op, mnet_isa isa, const float *x, float *y);
    void (*check)(const struct unary_op *op, const char *what, const float *y);
    const float *x;                            /* the input: count floats, never written */
    size_t count, pixels;
    int n, c, act;
    const float *scale, *shift;
    const double *ref, *mag;                   /* the reference's results */
} unary_op;

/* The variant's tier explicitly, then (for the selected tier) AUTO, each into a fresh all-canary
 * buffer that starts as a copy of x when the call runs in place; AUTO must match bit for bit. */
static void run_unary(const variant *v, const unary_op *op, int in_place, int index)
{
    float *outs[2];
    for (int pass = 0; pass < (is_selected(v) ? 2 : 1); pass++) {
        const char *what = pass == 0 ? "explicit ISA" : "MNET_ISA_AUTO";
        float *y = outs[pass] = out_buf(pass == 0 ? &g_out : &g_out2, op->count,
                ((index >> 1) + pass) & 1);
        if (in_place)
            memcpy(y, op->x, op->count * sizeof(float));
        check_status(op->call(op, pass == 0 ? v->isa : MNET_ISA_AUTO, in_place ? y : op->x, y),
                op->fn);
        check_canaries(y, op->count, what);
        op->check(op, what, y);
    }
    if (is_selected(v))
        check_same_bits("MNET_ISA_AUTO vs the selected tier", outs[1], outs[0], op->count);
}

/* ---- BN + ReLU6 ------------------------------------------------------------------------------ */
static mnet_status bn_relu6_call(const unary_op *op, mnet_isa isa, const float *x, float *y)
{
    return mnet_bn_relu6_f32(isa, op->pixels, op->c, x, op->scale, op->shift, y);
}

static void bn_relu6_check(const unary_op *op, const char *what, const float *y)
{
    check_close(what, y, op->ref, op->mag, op->count, 1);
}

static void bn_relu6_case(const variant *v, size_t pixels, int c, int index, rng *r, int hit[2])
{
    const size_t count = pixels * (size_t)c;
    const int in_place = index % 3 == 2;
    snprintf(g_ctx, sizeof g_ctx, "%s pixels=%zu c=%d%s", v->name, pixels, c,
            in_place ? " in place (x == y)" : "");
    float *x = guarded_buf(&g_in, count, index & 1);
    float *scale = guarded_buf(&g_wt, (size_t)c, !(index & 1));
    float *shift = guarded_buf(&g_bias, (size_t)c, index & 1);
    /* x * scale + shift spans about [-11, 11]: both 0 and 6 bite */
    fill(r, x, count, 4.0f);
    fill(r, scale, (size_t)c, 2.0f);
    fill(r, shift, (size_t)c, 3.0f);
    double *ref = dbuf_get(&g_ref, count), *mag = dbuf_get(&g_mag, count);
    ref_bn_relu6(pixels, c, x, scale, shift, ref, mag);
    for (size_t i = 0; i < count; i++) {
        hit[0] |= ref[i] == 0.0;
        hit[1] |= ref[i] == 6.0;
    }
    const unary_op op = { .fn = "mnet_bn_relu6_f32", .call = bn_relu6_call,
        .check = bn_relu6_check, .x = x, .count = count, .pixels = pixels, .c = c,
        .scale = scale, .shift = shift, .ref = ref, .mag = mag };
    run_unary(v, &op, in_place, index);
}

START_TEST(test_bn_relu6)
{
    const variant *v = &bn_relu6_variants[_i];
    if (!runnable(v))
        return;
    rng r = rng_for("bn_relu6", _i);
    intlist cs = channel_list(UNTILED);
    add_unique(&cs, 96);
    add_unique(&cs, 1001);
    const size_t pixel_counts[] = { 1, 2, 3, 5, 7, 16 };
    int index = 0, hit[2] = { 0, 0 };
    for (int pi = 0; pi < COUNT(pixel_counts); pi++)
        for (int ci = 0; ci < cs.n; ci++)
            bn_relu6_case(v, pixel_counts[pi], cs.v[ci], index++, &r, hit);
    bn_relu6_case(v, 56 * 56, 24, index++, &r, hit);   /* a MobileNet V2 tensor */
    check_case_count(index, 300, v->name);
    if (!hit[0] || !hit[1])
        FAIL("the data never made ReLU6 clamp at %s", hit[0] ? "6" : "0");
}
END_TEST

/* ---- global average pool ------------------------------------------------------------------- */
START_TEST(test_gavgpool)
{
    const variant *v = &gavgpool_variants[_i];
    if (!runnable(v))
        return;
    rng r = rng_for("gavgpool", _i);
    intlist cs = channel_list(UNTILED);
    add_unique(&cs, 1024);
    add_unique(&cs, 1280);
    int index = 0;
    for (int ci = 0; ci < cs.n; ci++)
        for (int s = 0; s < 5; s++, index++) {
            const int c = cs.v[ci];
            const int n = 1 + index % 2;
            int h = SIZES[(ci + s * 3) % NSIZES], w = SIZES[(ci * 5 + s) % NSIZES];
            if (s == 4) {   /* the real one: 7x7 before the classifier */
                h = 7;
                w = 7;
            }
            const size_t in_n = (size_t)n * h * w * c, out_n = (size_t)n * c;
            snprintf(g_ctx, sizeof g_ctx, "%s n=%d h=%d w=%d c=%d", v->name, n, h, w, c);
            float *in = guarded_buf(&g_in, in_n, index & 1);
            fill(&r, in, in_n, 3.0f);
            double *ref = dbuf_get(&g_ref, out_n), *mag = dbuf_get(&g_mag, out_n);
            ref_global_avgpool(n, h, w, c, in, ref, mag);
            float *out = out_buf(&g_out, out_n, (index >> 1) & 1);
            check_status(mnet_global_avgpool_f32(v->isa, n, h, w, c, in, out),
                    "mnet_global_avgpool_f32");
            check_canaries(out, out_n, "explicit ISA");
            check_close("explicit ISA", out, ref, mag, out_n, (double)h * w);
            if (is_selected(v)) {
                float *out2 = out_buf(&g_out2, out_n, !((index >> 1) & 1));
                check_status(mnet_global_avgpool_f32(MNET_ISA_AUTO, n, h, w, c, in, out2),
                        "mnet_global_avgpool_f32(AUTO)");
                check_canaries(out2, out_n, "MNET_ISA_AUTO");
                check_same_bits("MNET_ISA_AUTO vs the selected tier", out2, out, out_n);
            }
        }
    check_case_count(index, 200, v->name);
}
END_TEST

/* ---- add ------------------------------------------------------------------------------------- */
START_TEST(test_add)
{
    const variant *v = &add_variants[_i];
    if (!runnable(v))
        return;
    rng r = rng_for("add", _i);
    bites b;
    memset(&b, 0, sizeof b);
    intlist counts = { .n = 0 };
    for (int c = 1; c <= 3 * UNTILED + 1; c++)
        add_unique(&counts, c);
    const int extra[] = { 63, 64, 65, 127, 255, 256, 257, 1000, 4099, 56 * 56 * 24 };
    for (int i = 0; i < COUNT(extra); i++)
        add_unique(&counts, extra[i]);
    int index = 0;
    for (int rep = 0; rep < 3; rep++)
        for (int ci = 0; ci < counts.n; ci++, index++) {
            const size_t count = (size_t)counts.v[ci];
            const int clamp = index % NCLAMP;
            const int mode = (index / NCLAMP) % 3;   /* 0: out apart, 1: out == a, 2: out == b */
            const float amp = CLAMPS[clamp].spread;
            snprintf(g_ctx, sizeof g_ctx, "%s count=%zu clamp=%s %s", v->name, count,
                    CLAMPS[clamp].name, mode == 0 ? "" : mode == 1 ? "out == a" : "out == b");
            float *a = guarded_buf(&g_in, count, index & 1);
            float *bb = guarded_buf(&g_wt, count, !(index & 1));
            fill(&r, a, count, amp);
            fill(&r, bb, count, amp);
            double *ref = dbuf_get(&g_ref, count), *mag = dbuf_get(&g_mag, count);
            ref_add(count, a, bb, CLAMPS[clamp].lo, CLAMPS[clamp].hi, ref, mag);
            note_bites(&b, clamp, ref, count);
            float *outs[2];
            for (int pass = 0; pass < (is_selected(v) ? 2 : 1); pass++) {
                const mnet_isa isa = pass == 0 ? v->isa : MNET_ISA_AUTO;
                const char *what = pass == 0 ? "explicit ISA" : "MNET_ISA_AUTO";
                float *out = outs[pass] = out_buf(pass == 0 ? &g_out : &g_out2, count,
                        ((index >> 1) + pass) & 1);
                const float *pa = a, *pb = bb;
                if (mode == 1) {
                    memcpy(out, a, count * sizeof(float));
                    pa = out;
                } else if (mode == 2) {
                    memcpy(out, bb, count * sizeof(float));
                    pb = out;
                }
                check_status(mnet_add_f32(isa, count, pa, pb, CLAMPS[clamp].lo, CLAMPS[clamp].hi,
                        out), "mnet_add_f32");
                check_canaries(out, count, what);
                check_close(what, out, ref, mag, count, 1);
            }
            if (is_selected(v))
                check_same_bits("MNET_ISA_AUTO vs the selected tier", outs[1], outs[0], count);
        }
    check_case_count(index, 150, v->name);
    check_bites(&b, v->name);
}
END_TEST

/* ---- softmax --------------------------------------------------------------------------------- */
static void check_softmax(const char *what, const float *got, const double *ref, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const double tol = SOFTMAX_REL * ref[i] + SOFTMAX_ABS;
        const double diff = fabs((double)got[i] - ref[i]);
        if (!(diff <= tol))
            FAIL("%s: element %zu: got %.9g, reference %.9g, |diff| %.3g > tolerance %.3g", what,
                    i, (double)got[i], ref[i], diff, tol);
    }
}

static void softmax_case(const variant *v, int n, int c, const float *src, int index)
{
    const size_t count = (size_t)n * c;
    const int in_place = index % 3 == 1;
    float *in = guarded_buf(&g_in, count, index & 1);
    memcpy(in, src, count * sizeof(float));
    double *ref = dbuf_get(&g_ref, count);
    ref_softmax(n, c, in, ref);
    float *out = out_buf(&g_out, count, (index >> 1) & 1);
    if (in_place)
        memcpy(out, in, count * sizeof(float));
    check_status(mnet_softmax_f32(v->isa, n, c, in_place ? out : in, out), "mnet_softmax_f32");
    check_canaries(out, count, "explicit ISA");
    check_softmax("explicit ISA", out, ref, count);
    if (is_selected(v)) {
        float *out2 = out_buf(&g_out2, count, !((index >> 1) & 1));
        if (in_place)
            memcpy(out2, in, count * sizeof(float));
        check_status(mnet_softmax_f32(MNET_ISA_AUTO, n, c, in_place ? out2 : in, out2),
                "mnet_softmax_f32(AUTO)");
        check_canaries(out2, count, "MNET_ISA_AUTO");
        check_same_bits("MNET_ISA_AUTO vs the selected tier", out2, out, count);
    }
}

START_TEST(test_softmax)
{
    const variant *v = &softmax_variants[_i];
    if (!runnable(v))
        return;
    rng r = rng_for("softmax", _i);
    intlist cs = channel_list(UNTILED);
    add_unique(&cs, 100);
    add_unique(&cs, 1000);
    add_unique(&cs, 1001);
    /* Rows are offset so the row max must be subtracted: exp(90) overflows float. */
    const float offsets[] = { 0.0f, 90.0f, -90.0f, 1e4f, -3e4f };
    float *src = malloc(3 * 1001 * sizeof(float));
    ck_assert(src);
    int index = 0;
    for (int ci = 0; ci < cs.n; ci++)
        for (int n = 1; n <= 3; n++, index++) {
            const int c = cs.v[ci];
            for (int row = 0; row < n; row++) {
                const float off = offsets[(index + row) % COUNT(offsets)];
                /* logits spread over 20: the smallest probabilities are ~1e-9, still normal */
                for (int i = 0; i < c; i++)
                    src[row * c + i] = off + rng_float(&r, -10.0f, 10.0f);
            }
            snprintf(g_ctx, sizeof g_ctx, "%s n=%d c=%d%s", v->name, n, c,
                    index % 3 == 1 ? " in place" : "");
            softmax_case(v, n, c, src, index);
        }
    /* Extreme magnitudes: x - max overflows to -inf for some entries, and must give 0. */
    const float extreme[] = { 3e38f, -3e38f, 1e38f, 3e38f, -1e30f, 0.0f, 2.9999998e38f };
    snprintf(g_ctx, sizeof g_ctx, "%s n=1 c=%d logits near +-FLT_MAX", v->name, COUNT(extreme));
    softmax_case(v, 1, COUNT(extreme), extreme, index++);
    /* Equal logits: every probability is 1/c exactly representable or not, within tolerance. */
    for (int i = 0; i < 37; i++)
        src[i] = -5.5f;
    snprintf(g_ctx, sizeof g_ctx, "%s n=1 c=37 all equal", v->name);
    softmax_case(v, 1, 37, src, index++);
    free(src);
    check_case_count(index, 150, v->name);
}
END_TEST

/* ---- h-swish and h-sigmoid (standalone) -------------------------------------------------------- */
/* Bit for bit what the fused epilogue computes (mnet_epilogue_f32 with no clamp), NaN for NaN;
 * and, as a check of mnet_epilogue_f32 itself, within TOL_ACT of the double reference. */
static void check_hact(const char *what, const float *got, const float *x, size_t count, int act)
{
    for (size_t i = 0; i < count; i++) {
        const float want = mnet_epilogue_f32(x[i], -INFINITY, INFINITY, act);
        if (isnan(want) ? !isnan(got[i]) : memcmp(&got[i], &want, sizeof want) != 0)
            FAIL("%s: element %zu: %s(%.9g) is %.9g (bits %08" PRIx32 "), the fused epilogue "
                    "gives %.9g (bits %08" PRIx32 ")", what, i, ACT_NAMES[act], (double)x[i],
                    (double)got[i], float_bits(got[i]), (double)want, float_bits(want));
        const double ref = ref_activation((double)x[i], (mnet_activation)act);
        if (isfinite(x[i]) && fabs(x[i]) < 1e6f && !(fabs((double)got[i] - ref) <= TOL_ACT))
            FAIL("%s: element %zu: %s(%.9g) is %.9g, the reference %.9g", what, i,
                    ACT_NAMES[act], (double)x[i], (double)got[i], ref);
    }
}

/* Values at and around the pieces' joints, signed zeros, huge, infinite, NaN, denormal. */
static const float HACT_SPECIAL[] = {
    -3.0f, 3.0f, -2.9999998f, -3.0000002f, 2.9999998f, 3.0000002f, 0.0f, -0.0f, -6.0f, 6.0f,
    1e30f, -1e30f, INFINITY, -INFINITY, NAN, 1e-40f, -1e-40f, 0.5f, -1.5f,
};

static mnet_status hact_call(const unary_op *op, mnet_isa isa, const float *x, float *y)
{
    return op->act == MNET_EPI_HSWISH ? mnet_hardswish_f32(isa, op->count, x, y)
                                      : mnet_hardsigmoid_f32(isa, op->count, x, y);
}

static void hact_check(const unary_op *op, const char *what, const float *y)
{
    check_hact(what, y, op->x, op->count, op->act);
}

static void hact_case(const variant *v, int act, size_t count, int index, rng *r, int pieces[3])
{
    const int in_place = index % 3 == 1;
    snprintf(g_ctx, sizeof g_ctx, "%s count=%zu%s", v->name, count,
            in_place ? " in place (y == x)" : "");
    float *x = guarded_buf(&g_in, count, index & 1);
    fill(r, x, count, 5.0f);   /* [-5, 5]: every piece of the activation */
    for (size_t i = (size_t)index % 7; i < count; i += 7)
        x[i] = HACT_SPECIAL[rng_int(r, COUNT(HACT_SPECIAL))];
    for (size_t i = 0; i < count; i++)
        pieces[x[i] < -3.0f ? 0 : x[i] <= 3.0f ? 1 : 2] |= !isnan(x[i]);
    const unary_op op = { .fn = act == MNET_EPI_HSWISH ? "mnet_hardswish_f32"
                                                       : "mnet_hardsigmoid_f32",
        .call = hact_call, .check = hact_check, .x = x, .count = count, .act = act };
    run_unary(v, &op, in_place, index);
}

static void hact_test(const variant *v, int act, int index)
{
    rng r = rng_for(ACT_NAMES[act], index);
    intlist counts = { .n = 0 };
    for (int c = 1; c <= 70; c++)   /* every tail of 8-, 16- and 32-float steps */
        add_unique(&counts, c);
    const int extra[] = { 127, 128, 129, 1000, 4099, 14 * 14 * 672, 112 * 112 * 16 };
    for (int i = 0; i < COUNT(extra); i++)
        add_unique(&counts, extra[i]);
    int cases = 0, pieces[3] = { 0, 0, 0 };
    for (int rep = 0; rep < 3; rep++)
        for (int i = 0; i < counts.n; i++)
            hact_case(v, act, (size_t)counts.v[i], cases++, &r, pieces);
    check_case_count(cases, 200, v->name);
    if (!pieces[0] || !pieces[1] || !pieces[2])
        FAIL("the data never reached every piece of %s", ACT_NAMES[act]);
}

START_TEST(test_hswish)
{
    const variant *v = &hswish_variants[_i];
    if (runnable(v))
        hact_test(v, MNET_EPI_HSWISH, _i);
}
END_TEST

START_TEST(test_hsigmoid)
{
    const variant *v = &hsigmoid_variants[_i];
    if (runnable(v))
        hact_test(v, MNET_EPI_HSIGMOID, _i);
}
END_TEST

/* ---- channel scale (squeeze-and-excite apply) ---------------------------------------------------- */
/* One float multiply per element: the double product is exact, so the kernel's result must be
 * that product rounded once, bit for bit. */
static mnet_status channel_scale_call(const unary_op *op, mnet_isa isa, const float *x, float *y)
{
    return mnet_channel_scale_f32(isa, op->n, op->pixels, op->c, x, op->scale, y);
}

static void channel_scale_check(const unary_op *op, const char *what, const float *y)
{
    for (size_t i = 0; i < op->count; i++) {
        const float want = (float)op->ref[i];
        if (memcmp(&y[i], &want, sizeof want) != 0)
            FAIL("%s: element %zu: got %.9g, x * scale = %.9g", what, i, (double)y[i],
                    (double)want);
    }
}

static void channel_scale_case(const variant *v, int n, size_t pixels, int c, int index, rng *r)
{
    const size_t count = (size_t)n * pixels * (size_t)c;
    const int in_place = index % 3 == 2;
    snprintf(g_ctx, sizeof g_ctx, "%s n=%d pixels=%zu c=%d%s", v->name, n, pixels, c,
            in_place ? " in place (y == x)" : "");
    float *x = guarded_buf(&g_in, count, index & 1);
    float *scale = guarded_buf(&g_wt, (size_t)n * c, !(index & 1));
    fill(r, x, count, 4.0f);
    fill(r, scale, (size_t)n * c, 1.5f);
    double *ref = dbuf_get(&g_ref, count);
    ref_channel_scale(n, pixels, c, x, scale, ref);
    const unary_op op = { .fn = "mnet_channel_scale_f32", .call = channel_scale_call,
        .check = channel_scale_check, .x = x, .count = count, .pixels = pixels, .n = n, .c = c,
        .scale = scale, .ref = ref };
    run_unary(v, &op, in_place, index);
}

START_TEST(test_channel_scale)
{
    const variant *v = &channel_scale_variants[_i];
    if (!runnable(v))
        return;
    rng r = rng_for("channel_scale", _i);
    intlist cs = channel_list(UNTILED);
    const int v3[] = { 72, 96, 120, 144, 240, 288, 480, 576, 672, 960 };
    for (int i = 0; i < COUNT(v3); i++)
        add_unique(&cs, v3[i]);
    const size_t pixel_counts[] = { 1, 2, 3, 5, 7, 16 };
    int index = 0;
    for (int pi = 0; pi < COUNT(pixel_counts); pi++)
        for (int ci = 0; ci < cs.n; ci++, index++)
            channel_scale_case(v, 1 + index % 3, pixel_counts[pi], cs.v[ci], index, &r);
    /* MobileNet V3's squeeze-and-excite outputs */
    channel_scale_case(v, 1, 14 * 14, 672, index++, &r);
    channel_scale_case(v, 1, 7 * 7, 960, index++, &r);
    channel_scale_case(v, 2, 28 * 28, 120, index++, &r);
    check_case_count(index, 300, v->name);
}
END_TEST

/* A call for rows [r0, r1) wrote exactly those rows, bit-identical to the call for all rows. */
static void check_piece(const float *piece, const float *full, size_t count, size_t row_floats,
        int r0, int r1)
{
    for (size_t e = 0; e < count; e++) {
        const int row = (int)(e / row_floats);
        if (row >= r0 && row < r1) {
            if (memcmp(&piece[e], &full[e], sizeof(float)) != 0)
                FAIL("rows [%d, %d): element %zu (row %d) is %.9g, one full call gave %.9g", r0,
                        r1, e, row, (double)piece[e], (double)full[e]);
        } else if (!is_canary(&piece[e])) {
            FAIL("rows [%d, %d) wrote element %zu, in row %d", r0, r1, e, row);
        }
    }
}

static void sort_ints(int *v, int n)   /* insertion sort: a handful of cut points */
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            const int t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

/* ---- internal pieces: row ranges of the conv ukernels ------------------------------------- */
/* The threaded runtime gives each thread a range of output rows: calling a conv ukernel over
 * [0, oh) in several pieces must give bit-identical output to one call, and each call must
 * write exactly its rows.  The kernel is called directly (packed with the variant's own CR,
 * the packed weights abutting a guard page), so this also checks every variant against the
 * reference whether or not the dispatch table routes the public API to it. */
static void rows_case(const variant *v, int depthwise, const conv_case *cs, rng *r, int index)
{
    const int cr = v->t0, cin = cs->cin, cout = cs->cout;
    mnet_conv_geom g;
    g.h = cs->h;
    g.w = cs->w;
    g.oh = ref_conv_out_size(cs->h, cs->p.pad_top, cs->p.pad_bottom, cs->ks, cs->p.stride);
    g.ow = ref_conv_out_size(cs->w, cs->p.pad_left, cs->p.pad_right, cs->ks, cs->p.stride);
    g.stride = cs->p.stride;
    g.pad_top = cs->p.pad_top;
    g.pad_left = cs->p.pad_left;
    g.cin = cin;
    g.cout = cout;
    g.prefetch = 0;
    g.pf = NULL;
    g.pf_lines = 0;
    describe_conv(v->name, cs, depthwise, " (ukernel, row ranges)");

    const size_t in_n = (size_t)cs->h * cs->w * cin, row_n = (size_t)g.ow * cout;
    const size_t out_n = (size_t)g.oh * row_n;
    const size_t taps = (size_t)cs->ks * cs->ks;
    const size_t w_n = depthwise ? taps * cout : 9 * (size_t)cin * cout;
    float *in = guarded_buf(&g_in, in_n, index & 1);
    float *wt = guarded_buf(&g_wt, w_n, 0);
    float *bias = guarded_buf(&g_bias, (size_t)cout, 0);
    fill(r, in, in_n, cs->act ? 4.0f : 2.0f);
    fill(r, wt, w_n, 1.0f);
    fill(r, bias, (size_t)cout, 1.0f);

    const size_t packed_n = depthwise ? mnet_packed_dwconv_floats(cout, cr, (int)taps)
                                      : mnet_packed_conv3x3_floats(cin, cout, cr);
    float *packed = guarded_buf(&g_aux, packed_n, 0);
    if (depthwise)
        mnet_pack_dwconv(cout, cr, (int)taps, wt, bias, packed);
    else
        mnet_pack_conv3x3(cin, cout, cr, wt, bias, packed);

    /* dwconv3x3, dwconv5x5 and conv3x3 ukernels share one signature */
    const float lo = cs->p.out_min, hi = cs->p.out_max;
    mnet_conv3x3_ukernel kernel = (mnet_conv3x3_ukernel)v->fn;
#define CALL(o, y0, y1) kernel(&g, in, packed, (o), (y0), (y1), lo, hi, cs->act)
    float *full = out_buf(&g_out, out_n, 0);
    CALL(full, 0, g.oh);
    check_canaries(full, out_n, "one call over all rows");

    double *ref = dbuf_get(&g_ref, out_n), *mag = dbuf_get(&g_mag, out_n);
    const mnet_conv_params sums = unclamped(&cs->p);
    if (depthwise)
        ref_dwconv(cs->ks, 1, cs->h, cs->w, cout, in, wt, bias, &sums, ref, mag);
    else
        ref_conv3x3(1, cs->h, cs->w, cin, cout, in, wt, bias, &sums, ref, mag);
    bites unused;
    memset(&unused, 0, sizeof unused);
    apply_epilogue(&unused, cs->clamp, cs->act, ref, out_n);
    check_close_act("one call over all rows", full, ref, mag, out_n,
            depthwise ? (double)taps : 9.0 * cin, cs->act);

    /* Pieces: random cut points, sometimes an empty range. */
    int cuts[6], ncut = 0;
    cuts[ncut++] = 0;
    for (int k = 0; k < 3; k++)
        cuts[ncut++] = rng_int(r, g.oh + 1);
    cuts[ncut++] = g.oh;
    sort_ints(cuts, ncut);
    for (int i = 0; i + 1 < ncut; i++) {   /* each piece into a fresh all-canary buffer */
        float *piece = out_buf(&g_out2, out_n, i & 1);
        CALL(piece, cuts[i], cuts[i + 1]);
        check_canaries(piece, out_n, "row piece");
        check_piece(piece, full, out_n, row_n, cuts[i], cuts[i + 1]);
    }
    /* Again over all rows and over the pieces, into fresh buffers, with a hint set: the same
     * bits as the first call, and nothing written outside the call's rows. */
#define AGAIN(what) do { \
        float *all_ = out_buf(&g_out2, out_n, 0); \
        CALL(all_, 0, g.oh); \
        check_canaries(all_, out_n, "one call over all rows, " what); \
        check_piece(all_, full, out_n, row_n, 0, g.oh); \
        for (int i = 0; i + 1 < ncut; i++) { \
            float *piece = out_buf(&g_out2, out_n, i & 1); \
            CALL(piece, cuts[i], cuts[i + 1]); \
            check_canaries(piece, out_n, "row piece, " what); \
            check_piece(piece, full, out_n, row_n, cuts[i], cuts[i + 1]); \
        } \
    } while (0)
    /* The depthwise with its prefetch hint (mnet_conv_geom.prefetch, the separate prefetching
     * row nests). */
    if (depthwise) {
        g.prefetch = 1;
        AGAIN("prefetching");
        g.prefetch = 0;
    }
    /* The stem with a write-ahead stream (mnet_conv_geom.pf), here the lines of the whole
     * output buffer of the first call: one line, all of them, and more than the rows have
     * tiles. */
    if (!depthwise) {
        const size_t lines[3] = { 1, (out_n * sizeof(float) + 63) / 64 + 1,
            3 * (size_t)g.oh * (size_t)g.ow };
        for (int t = 0; t < 3; t++) {
            g.pf = (const char *)((uintptr_t)full & ~(uintptr_t)63);
            g.pf_lines = lines[t];
            AGAIN("write-ahead stream");
        }
        g.pf = NULL;
        g.pf_lines = 0;
    }
#undef AGAIN
#undef CALL
}

static void rows_test(const variant *v, const char *test, int variant_index, int depthwise, int ks,
        int cases)
{
    if (!runnable(v))
        return;
    rng rs = rng_for(test, variant_index), *r = &rs;
    for (int index = 0; index < cases; index++) {
        conv_case cs;
        cs.ks = ks;
        cs.clamp = case_clamp(index);
        cs.act = case_act(index);
        do {
            cs.p = make_params(ks, 1 + rng_int(r, 2), rng_int(r, pad_combos(ks)), cs.clamp);
            cs.h = SIZES[rng_int(r, NSIZES)];
            /* depthwise: every other case a row of several SIMD tiles */
            cs.w = depthwise && index % 2 ? 14 + rng_int(r, 51) : SIZES[rng_int(r, NSIZES)];
        } while (!valid_size(ks, cs.h, cs.w, &cs.p));
        cs.n = 1;
        cs.bias = 1;
        cs.cout = 1 + rng_int(r, 3 * v->t0 + 1);
        cs.cin = depthwise ? cs.cout : 1 + rng_int(r, 8);
        rows_case(v, depthwise, &cs, r, index);
    }
}

START_TEST(test_dwconv3x3_rows)
{
    rows_test(&dwconv_variants[_i], "dwconv3x3_rows", _i, 1, 3, 27);
}
END_TEST

START_TEST(test_dwconv5x5_rows)
{
    rows_test(&dwconv5_variants[_i], "dwconv5x5_rows", _i, 1, 5, 54);
}
END_TEST

START_TEST(test_conv3x3_rows)
{
    rows_test(&conv_variants[_i], "conv3x3_rows", _i, 0, 3, 27);
}
END_TEST

/* ---- internal pieces: the GEMM driver over row ranges with padded strides ------------------ */
static void gemm_run_case(const variant *v, int m, int n, int k, int act, rng *r)
{
    const mnet_gemm_config cfg = { (mnet_gemm_ukernel)v->fn, v->t0, v->t1, v->name };
    const size_t a_stride = (size_t)k + 3, c_stride = (size_t)n + 5;
    snprintf(g_ctx, sizeof g_ctx, "%s mnet_gemm_run m=%d n=%d k=%d a_stride=%zu c_stride=%zu "
            "act=%s", v->name, m, n, k, a_stride, c_stride, ACT_NAMES[act]);

    /* A's row padding holds NaN: a kernel reading it poisons its output.  A ends at the guard. */
    const size_t a_n = (size_t)(m - 1) * a_stride + (size_t)k;
    float *a = guarded_buf(&g_in, a_n, 0);
    float *b = guarded_buf(&g_wt, (size_t)k * n, 1);
    float *bias = guarded_buf(&g_bias, (size_t)n, 1);
    for (size_t i = 0; i < a_n; i++)
        a[i] = i % a_stride < (size_t)k ? rng_float(r, -1.0f, 1.0f) : NAN;
    fill(r, b, (size_t)k * n, 1.0f);
    fill(r, bias, (size_t)n, 1.0f);
    const size_t packed_n = mnet_packed_gemm_floats(k, n, cfg.nr);
    float *packed = guarded_buf(&g_aux, packed_n, 0);
    mnet_pack_gemm(k, n, cfg.nr, b, bias, packed);

    /* dense copy of A for the reference */
    float *dense = malloc((size_t)m * k * sizeof(float));
    ck_assert(dense);
    for (int i = 0; i < m; i++)
        memcpy(dense + (size_t)i * k, a + i * a_stride, (size_t)k * sizeof(float));
    double *ref = dbuf_get(&g_ref, (size_t)m * n), *mag = dbuf_get(&g_mag, (size_t)m * n);
    const float lo = -1.5f, hi = 1.5f;
    ref_gemm(m, n, k, dense, b, bias, -INFINITY, INFINITY, ref, mag);
    free(dense);
    for (size_t i = 0; i < (size_t)m * n; i++)
        ref[i] = ref_epilogue(ref[i], (mnet_activation)act, lo, hi);

    const size_t c_n = (size_t)m * c_stride;
    float *full = out_buf(&g_out, c_n, 0);
    mnet_gemm_run(&cfg, 0, (size_t)m, (size_t)n, (size_t)k, a, a_stride, packed, full, c_stride,
            lo, hi, act);
    check_canaries(full, c_n, "all rows");
    for (int i = 0; i < m; i++) {
        check_close_act("all rows", full + i * c_stride, ref + (size_t)i * n,
                mag + (size_t)i * n, (size_t)n, k, act);
        for (size_t j = (size_t)n; j < c_stride; j++)
            if (!is_canary(&full[i * c_stride + j]))
                FAIL("row %d: column %zu of the c_stride padding was written", i, j);
    }

    /* Row pieces that do not start on an MR boundary, including an empty one. */
    int cuts[] = { 0, 1, 1, v->t0 + 2, m / 2 + 1, m - 1, m };
    for (int i = 0; i < COUNT(cuts); i++)
        cuts[i] = cuts[i] < m ? cuts[i] : m;
    sort_ints(cuts, COUNT(cuts));
    for (int p = 0; p + 1 < COUNT(cuts); p++) {   /* each piece into a fresh all-canary buffer */
        float *piece = out_buf(&g_out2, c_n, p & 1);
        mnet_gemm_run(&cfg, (size_t)cuts[p], (size_t)cuts[p + 1], (size_t)n, (size_t)k, a,
                a_stride, packed, piece, c_stride, lo, hi, act);
        check_canaries(piece, c_n, "row piece");
        check_piece(piece, full, c_n, c_stride, cuts[p], cuts[p + 1]);   /* padding: canary */
    }

    /* The tile itself, prefetching lines (here all of the packed weights) as it goes: the
     * prefetch changes no bit and writes nothing outside the tile's rows. */
    const size_t rows = (size_t)(m < v->t0 ? m : v->t0);
    const size_t lines = packed_n * sizeof(float) / 64;
    float *tile = out_buf(&g_out2, c_n, 0);
    cfg.fn(rows, (size_t)n, (size_t)k, a, a_stride, packed, tile, c_stride, lo, hi, act,
            (const char *)packed, lines);
    check_canaries(tile, c_n, "tile with prefetch lines");
    check_piece(tile, full, c_n, c_stride, 0, (int)rows);
    /* The same lines tagged for L2 only (MNET_PF_FAR, what the driver passes for layers of few
     * rows: mnet_gemm_run did so above for every call of at most MNET_GEMM_PF_FAR_ROWS rows):
     * the pointer is one byte into its line, and still no bit changes. */
    tile = out_buf(&g_out2, c_n, 1);
    cfg.fn(rows, (size_t)n, (size_t)k, a, a_stride, packed, tile, c_stride, lo, hi, act,
            (const char *)packed + MNET_PF_FAR, lines);
    check_canaries(tile, c_n, "tile with far prefetch lines");
    check_piece(tile, full, c_n, c_stride, 0, (int)rows);
}

START_TEST(test_gemm_run)
{
    const variant *v = &gemm_variants[_i];
    if (!runnable(v))
        return;
    rng r = rng_for("gemm_run", _i);
    const int mr = v->t0, nr = v->t1;
    gemm_run_case(v, 23, 37, 19, MNET_EPI_CLAMP, &r);
    gemm_run_case(v, 2 * mr + 3, 3 * nr + 5, 7, MNET_EPI_HSWISH, &r);
    gemm_run_case(v, mr, nr, 1, MNET_EPI_HSIGMOID, &r);
    gemm_run_case(v, 1, nr / 2, 13, MNET_EPI_HSWISH, &r);
    /* last panels of 17..24 columns (AVX-512 pairs two rows' tails): whole tiles of 8 and 6
     * rows, with and without whole panels before, against pieces tiled otherwise */
    gemm_run_case(v, 4 * mr, nr + nr / 2 + 3, 23, MNET_EPI_CLAMP, &r);
    gemm_run_case(v, 3 * mr - 6, nr - nr / 4, 9, MNET_EPI_HSWISH, &r);
    /* k = 1100: a packed panel is nr * 1101 floats, so n = 150 spans several L2 blocks */
    gemm_run_case(v, 13, 150, 1100, MNET_EPI_CLAMP, &r);
    /* the same with 41 rows: several row tiles over each of the blocks */
    gemm_run_case(v, 41, 150, 1100, MNET_EPI_HSWISH, &r);
}
END_TEST

/* ---- the dispatch tables ---------------------------------------------------------------------- */
/* Find the registered variant a table entry points at. */
static const variant *find_variant(const variant *list, int count, any_fn fn)
{
    for (int i = 0; i < count; i++)
        if (list[i].fn == fn)
            return &list[i];
    return NULL;
}

static void check_entry(const char *family, mnet_isa tier, const variant *list, int count,
        any_fn fn, const char *name, int t0, int t1)
{
    snprintf(g_ctx, sizeof g_ctx, "table '%s', family %s", mnet_isa_name(tier), family);
    const variant *v = find_variant(list, count, fn);
    if (!v)
        FAIL("the table holds a kernel that is not in ukernels.inc");
    if (strcmp(v->name, name) != 0 || v->t0 != t0 || v->t1 != t1)
        FAIL("table entry says %s %d/%d, ukernels.inc says %s %d/%d", name, t0, t1, v->name,
                v->t0, v->t1);
    /* The tier's own kernel wins if it registered one; otherwise the kernel of the tier below
     * it (AVX-512 falls back to AVX2, every other tier to scalar). */
    mnet_isa want = MNET_ISA_SCALAR;
    const mnet_isa chain[2] = { tier, tier == MNET_ISA_AVX512 ? MNET_ISA_AVX2 : MNET_ISA_SCALAR };
    for (int c = 1; c >= 0; c--)
        for (int i = 0; i < count; i++)
            if (list[i].isa == chain[c])
                want = chain[c];
    if (v->isa != want)
        FAIL("table runs %s, a %s kernel; expected a %s one", v->name, mnet_isa_name(v->isa),
                mnet_isa_name(want));
    /* Names end in __<isa>: the double underscore lets scripts and logs parse them. */
    const char *sep = strstr(name, "__");
    if (!sep || strcmp(sep + 2, mnet_isa_name(v->isa)) != 0)
        FAIL("kernel name %s does not end in __%s", name, mnet_isa_name(v->isa));
}

/* `asked` is the tier as the caller names it (AUTO allowed), `tier` the one it resolves to. */
static void check_table(mnet_isa asked, mnet_isa tier, const mnet_kernels *t)
{
    /* The public name of each op's kernel is the table's (ops named as in mnet.h). */
#define ENTRY(fam, op, list, t0, t1) \
    do { \
        check_entry(#fam, tier, list, COUNT(list), (any_fn)t->fam.fn, t->fam.name, t0, t1); \
        const char *pub = mnet_kernel_name(asked, op); \
        if (!pub || strcmp(pub, t->fam.name) != 0) \
            FAIL("mnet_kernel_name(%s, \"%s\") = %s, the table runs %s", mnet_isa_name(asked), \
                    op, pub ? pub : "NULL", t->fam.name); \
    } while (0)
    ENTRY(dwconv3x3, "dwconv3x3", dwconv_variants, t->dwconv3x3.cr, 0);
    ENTRY(dwconv5x5, "dwconv5x5", dwconv5_variants, t->dwconv5x5.cr, 0);
    ENTRY(conv3x3, "conv3x3", conv_variants, t->conv3x3.cr, 0);
    ENTRY(gemm, "gemm", gemm_variants, t->gemm.mr, t->gemm.nr);
    ENTRY(bn_relu6, "bn_relu6", bn_relu6_variants, 0, 0);
    ENTRY(gavgpool, "gavgpool", gavgpool_variants, 0, 0);
    ENTRY(add, "add", add_variants, 0, 0);
    ENTRY(softmax, "softmax", softmax_variants, 0, 0);
    ENTRY(hswish, "hardswish", hswish_variants, 0, 0);
    ENTRY(hsigmoid, "hardsigmoid", hsigmoid_variants, 0, 0);
    ENTRY(channel_scale, "channel_scale", channel_scale_variants, 0, 0);
#undef ENTRY
}

/* The GEMM a tier's table should hold: its last MNET_GEMM, or a later MNET_GEMM_WHERE whose
 * condition holds on this CPU (as lib/dispatch.c reads the list); NULL if it registers none. */
static any_fn expected_gemm(mnet_isa tier)
{
    any_fn want = NULL;
#define MNET_GEMM(isa, f, mr, nr) if (MNET_ISA_##isa == tier) want = (any_fn)(f);
#define MNET_GEMM_WHERE(pred, isa, f, mr, nr) if (MNET_ISA_##isa == tier && (pred)) want = (any_fn)(f);
#include "ukernels.inc"
    return want;
}

#if defined(__x86_64__)
/* mnet_cpu_avx512_halves() against /proc/cpuinfo's first CPU: AMD, family 25 (19h), avx512f;
 * -1 where /proc/cpuinfo cannot be read or describes another CPU than CPUID does. */
static int cpuinfo_avx512_halves(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    char line[8192];
    int amd = 0, family = -1, avx512f = 0;
    while (fgets(line, sizeof line, f) && line[0] != '\n') {
        if (strncmp(line, "vendor_id", 9) == 0)
            amd = strstr(line, "AuthenticAMD") != NULL;
        else if (strncmp(line, "cpu family", 10) == 0)
            family = atoi(strchr(line, ':') + 1);
        else if (strncmp(line, "flags", 5) == 0)
            avx512f = strstr(line, " avx512f ") != NULL || strstr(line, " avx512f\n") != NULL;
    }
    fclose(f);
    /* Under qemu's CPU models CPUID is the model's and /proc/cpuinfo the host's: no comparison. */
    unsigned a, b, c, d;
    const int cpuid_amd = __get_cpuid(0, &a, &b, &c, &d) && b == 0x68747541u;   /* "Auth" */
    const int cpuid_avx512 = (mnet_cpu_isa_mask() >> MNET_ISA_AVX512) & 1;
    if (cpuid_amd != amd || cpuid_avx512 != avx512f)
        return -1;
    return amd && family == 25 && avx512f;
}
#endif

START_TEST(test_tables)
{
#if defined(__x86_64__)
    const int halves = cpuinfo_avx512_halves();
    if (halves >= 0 && halves != mnet_cpu_avx512_halves())
        FAIL("mnet_cpu_avx512_halves() says %d, /proc/cpuinfo %d", mnet_cpu_avx512_halves(), halves);
#endif
    const mnet_isa selected = mnet_isa_selected();
    snprintf(g_ctx, sizeof g_ctx, "dispatch tables, selected '%s'", mnet_isa_name(selected));
    if (!mnet_isa_available(selected) || selected == MNET_ISA_AUTO)
        FAIL("the selected tier is not a runnable tier");
    for (int tier = MNET_ISA_SCALAR; tier <= MNET_ISA_AVX512; tier++) {
        const mnet_kernels *t = mnet_kernels_for((mnet_isa)tier);
        if ((t != NULL) != mnet_isa_available((mnet_isa)tier))
            FAIL("mnet_kernels_for(%s) disagrees with mnet_isa_available", mnet_isa_name(tier));
        if (!t) {
            if (mnet_kernel_name((mnet_isa)tier, "gemm") != NULL)
                FAIL("mnet_kernel_name names a kernel of the unavailable tier %s",
                        mnet_isa_name(tier));
            continue;
        }
        if (t->isa != (mnet_isa)tier)
            FAIL("table %s says it is %s", mnet_isa_name(tier), mnet_isa_name(t->isa));
        check_table((mnet_isa)tier, (mnet_isa)tier, t);
        const any_fn gemm = expected_gemm((mnet_isa)tier);
        if (gemm && (any_fn)t->gemm.fn != gemm)
            FAIL("table %s runs GEMM %s, not the one ukernels.inc picks for this CPU",
                    mnet_isa_name(tier), t->gemm.name);
    }
    /* AUTO is a copy of the selected tier's table. */
    const mnet_kernels *a = mnet_kernels_for(MNET_ISA_AUTO), *s = mnet_kernels_for(selected);
    if (!a || !s || a->isa != selected || a->dwconv3x3.fn != s->dwconv3x3.fn ||
            a->conv3x3.fn != s->conv3x3.fn || a->gemm.fn != s->gemm.fn ||
            a->gemm.mr != s->gemm.mr || a->gemm.nr != s->gemm.nr ||
            a->dwconv3x3.cr != s->dwconv3x3.cr || a->conv3x3.cr != s->conv3x3.cr ||
            a->bn_relu6.fn != s->bn_relu6.fn || a->gavgpool.fn != s->gavgpool.fn ||
            a->add.fn != s->add.fn || a->softmax.fn != s->softmax.fn ||
            a->dwconv5x5.fn != s->dwconv5x5.fn || a->dwconv5x5.cr != s->dwconv5x5.cr ||
            a->hswish.fn != s->hswish.fn || a->hsigmoid.fn != s->hsigmoid.fn ||
            a->channel_scale.fn != s->channel_scale.fn)
        FAIL("the AUTO table is not the selected tier's table");
    check_table(MNET_ISA_AUTO, selected, a);
    printf("selected ISA: %s; kernels: %s %s %s %s %s %s %s %s %s %s %s\n",
            mnet_isa_name(selected), a->dwconv3x3.name, a->dwconv5x5.name, a->conv3x3.name,
            a->gemm.name, a->bn_relu6.name, a->gavgpool.name, a->add.name, a->softmax.name,
            a->hswish.name, a->hsigmoid.name, a->channel_scale.name);
    /* Out-of-range tiers have no table; unknown ops have no kernel name. */
    const int bad[] = { -1, 5, 7, 1000 };
    for (int i = 0; i < COUNT(bad); i++)
        if (mnet_kernels_for((mnet_isa)bad[i]) != NULL ||
                mnet_kernel_name((mnet_isa)bad[i], "gemm") != NULL)
            FAIL("tier %d has a table or a kernel name", bad[i]);
    const char *const bad_ops[] = { "", "GEMM", "gemm ", "conv", "dwconv3x3_f32", "avgpool",
                                    "hswish", "hsigmoid", "dwconv5x5 " };
    for (int i = 0; i < COUNT(bad_ops); i++)
        if (mnet_kernel_name(MNET_ISA_SCALAR, bad_ops[i]) != NULL)
            FAIL("mnet_kernel_name(scalar, \"%s\") is not NULL", bad_ops[i]);
    if (mnet_kernel_name(MNET_ISA_SCALAR, NULL) != NULL)
        FAIL("mnet_kernel_name(scalar, NULL) is not NULL");
}
END_TEST

/* Set by meson (and the CPU-model runs): the tier this machine must select. */
START_TEST(test_expected_isa)
{
    const char *want = expect_isa(getenv("MNET_EXPECT_ISA"));
    snprintf(g_ctx, sizeof g_ctx, "MNET_EXPECT_ISA=%s MNET_ISA=%s", want,
            getenv("MNET_ISA") ? getenv("MNET_ISA") : "(unset)");
    if (strcmp(mnet_isa_name(mnet_isa_selected()), want) != 0)
        FAIL("selected ISA is '%s'", mnet_isa_name(mnet_isa_selected()));
}
END_TEST

/* The unpackers (a model keeps its weights packed for one tier and repacks them for another
 * from that copy) give back exactly what was packed, for every tile width in use and channel
 * counts that are and are not multiples of it. */
START_TEST(test_pack_roundtrip)
{
    rng r = { g_seed ^ 0x5eedu };
    static const int tiles[] = { 4, 8, 16, 32, 64 };
    static const int counts[] = { 1, 3, 8, 17, 24, 33, 96 };
    for (size_t ti = 0; ti < COUNT(tiles); ti++)
        for (size_t ci = 0; ci < COUNT(counts); ci++) {
            const int tile = tiles[ti], n = counts[ci], k = counts[(ci + 2) % COUNT(counts)];
            const size_t wn = 25 * (size_t)n * (size_t)(k > 9 ? k : 9) + 9 * (size_t)k * n;
            float *w = malloc(wn * sizeof(float)), *w2 = malloc(wn * sizeof(float));
            float *b = malloc((size_t)n * sizeof(float)), *b2 = malloc((size_t)n * sizeof(float));
            float *p = malloc((mnet_packed_gemm_floats(k, n, tile) +
                    mnet_packed_dwconv_floats(n, tile, 25) +
                    mnet_packed_conv3x3_floats(k, n, tile)) * sizeof(float));
            ck_assert(w && w2 && b && b2 && p);
            for (int op = 0; op < 4; op++) {
                const size_t count = op == 0 ? (size_t)k * n : op == 1 ? 9 * (size_t)n :
                    op == 2 ? 25 * (size_t)n : 9 * (size_t)k * n;
                fill(&r, w, count, 1.0f);
                fill(&r, b, (size_t)n, 1.0f);
                memset(w2, 0xFF, count * sizeof(float));   /* NaN: every element must be set */
                memset(b2, 0xFF, (size_t)n * sizeof(float));
                if (op == 0) {
                    mnet_pack_gemm(k, n, tile, w, b, p);
                    mnet_unpack_gemm(k, n, tile, p, w2, b2);
                } else if (op == 3) {
                    mnet_pack_conv3x3(k, n, tile, w, b, p);
                    mnet_unpack_conv3x3(k, n, tile, p, w2, b2);
                } else {
                    const int taps = op == 1 ? 9 : 25;
                    mnet_pack_dwconv(n, tile, taps, w, b, p);
                    mnet_unpack_dwconv(n, tile, taps, p, w2, b2);
                }
                ck_assert_msg(memcmp(w, w2, count * sizeof(float)) == 0 &&
                        memcmp(b, b2, (size_t)n * sizeof(float)) == 0,
                        "op %d (gemm, dw3x3, dw5x5, conv3x3), tile %d, n %d, k %d: unpack != packed",
                        op, tile, n, k);
            }
            free(w);
            free(w2);
            free(b);
            free(b2);
            free(p);
        }
}
END_TEST

/* The stems' prefetch rows (mnet_stem_ahead_rows): for output row oy, the last `stride` input
 * rows that output row oy + MNET_STEM_AHEAD reads, each one exactly when it is inside the image,
 * at its own row's start: a prefetch is never aimed outside the input. */
START_TEST(test_stem_ahead)
{
    enum { W = 5, C = 3 };
    static float img[40 * W * C];
    for (int h = 1; h <= 40; h++)
        for (int s = 1; s <= 2; s++)
            for (int pt = 0; pt <= 1; pt++) {
                const mnet_conv_geom g = { h, W, (h + 2 * pt - 3) / s + 1, 3, s, pt, 1, C, 8, 0,
                    NULL, 0 };
                for (int oy = 0; oy < g.oh + 3; oy++) {
                    const mnet_stem_ahead a = mnet_stem_ahead_rows(&g, img, oy);
                    for (int k = 0; k < 2; k++) {
                        const int iy = (oy + MNET_STEM_AHEAD) * s - pt + 3 - s + k;
                        const char *want = k < s && iy >= 0 && iy < h ?
                            (const char *)(img + (size_t)iy * W * C) : NULL;
                        ck_assert_msg(a.row[k] == want, "h %d stride %d pad %d oy %d: row %d "
                                "is %p, expected %p (input row %d)", h, s, pt, oy, k,
                                (const void *)a.row[k], (const void *)want, iy);
                    }
                }
            }
}
END_TEST

/* The depthwise prefetch rows (mnet_dw_ahead_rows): while output rows [oy, oy + n) compute, the
 * input rows the next n output rows read and these do not, clipped to the image, and nothing
 * when those rows are past the call's end: counted here row by row from the taps' own rows, so
 * a prefetch is never aimed outside the input nor at rows already read. */
START_TEST(test_dw_ahead)
{
    enum { W = 4, C = 8 };
    int checked = 0;
    for (int K = 3; K <= 5; K += 2)
        for (int h = 1; h <= 24; h++)
            for (int s = 1; s <= 2; s++)
                for (int pt = 0; pt <= K / 2; pt++) {
                    const int oh = (h + 2 * pt - K) / s + 1;
                    if (oh < 1)
                        continue;
                    const mnet_conv_geom g = { h, W, oh, W, s, pt, 0, C, C, 1, NULL, 0 };
                    for (int n = 1; n <= 2; n++)
                        for (int oy = 0; oy < oh; oy++)
                            for (int oy1 = oy + 1; oy1 <= oh; oy1++) {
                                int r0 = -99, r1 = -99;
                                const int got = mnet_dw_ahead_rows(&g, K, oy, n, oy1, &r0, &r1);
                                /* which input rows the next n output rows read, and not these */
                                int want0 = h, want1 = -1;
                                for (int iy = 0; iy < h && oy + n < oy1; iy++) {
                                    int now = 0, next = 0;
                                    for (int y = oy; y < oy + 2 * n; y++)
                                        for (int ky = 0; ky < K; ky++)
                                            if (y * s - pt + ky == iy) {
                                                if (y < oy + n)
                                                    now = 1;
                                                else
                                                    next = 1;
                                            }
                                    if (next && !now) {
                                        want0 = iy < want0 ? iy : want0;
                                        want1 = iy + 1 > want1 ? iy + 1 : want1;
                                    }
                                }
                                const int want = want1 > want0;
                                ck_assert_msg(got == want && (!want || (r0 == want0 &&
                                        r1 == want1)), "K %d h %d stride %d pad %d oy %d n %d "
                                        "oy1 %d: got %d [%d, %d), expected %d [%d, %d)", K, h, s,
                                        pt, oy, n, oy1, got, r0, r1, want, want0, want1);
                                checked += want;
                            }
                }
    ck_assert_int_gt(checked, 1000);
}
END_TEST

/* The model file's CRC-32: the standard check value, and every version this CPU runs (the
 * carry-less one where CPUID has PCLMULQDQ: natively, and under qemu's SandyBridge and
 * Haswell models) equal to the portable one for every length 0..1100 at four misalignments,
 * continued from a running value, and on 3 MB; mnet_crc32 equal to them too. */
START_TEST(test_crc32)
{
    static const uint8_t check[] = "123456789";
    ck_assert_uint_eq(mnet_crc32_table(0, check, 9), 0xCBF43926u);
    ck_assert_uint_eq(mnet_crc32(0, check, 9), 0xCBF43926u);
    ck_assert_uint_eq(mnet_crc32_table(0, check, 0), 0u);
    const size_t big = (size_t)3 << 20;
    uint8_t *b = malloc(big + 8);
    ck_assert_ptr_nonnull(b);
    rng r = { g_seed ^ 0xC0C0u };
    for (size_t i = 0; i < big + 8; i++)
        b[i] = (uint8_t)(splitmix64(&r.s) >> 56);
    int clmul = 0;
#if MNET_HAVE_CLMUL
    clmul = mnet_cpu_has_clmul();
    if (clmul)
        ck_assert_uint_eq(mnet_crc32_clmul(0, check, 9), 0xCBF43926u);
#endif
    for (size_t n = 0; n <= 1100; n++)
        for (size_t off = 0; off < 4; off++) {
            const uint32_t seed = (uint32_t)(n * 2654435761u), want = mnet_crc32_table(seed, b + off, n);
            ck_assert_uint_eq(mnet_crc32(seed, b + off, n), want);
#if MNET_HAVE_CLMUL
            if (clmul)
                ck_assert_msg(mnet_crc32_clmul(seed, b + off, n) == want,
                        "clmul crc32 of %zu bytes at +%zu differs", n, off);
#endif
        }
    /* in pieces = in one go */
    const uint32_t whole = mnet_crc32_table(0, b, big);
    ck_assert_uint_eq(mnet_crc32_table(mnet_crc32_table(0, b, 1000), b + 1000, big - 1000), whole);
    ck_assert_uint_eq(mnet_crc32(0, b, big), whole);
#if MNET_HAVE_CLMUL
    if (clmul)
        ck_assert_uint_eq(mnet_crc32_clmul(mnet_crc32_clmul(0, b, 777), b + 777, big - 777), whole);
#endif
    printf("test_kernels: crc32 %s\n", clmul ? "portable and carry-less" : "portable only");
    free(b);
}
END_TEST

/* The library's code segment is found (it holds the runtime's functions and the kernels), and
 * once mnet_map_code has mapped it, reading every page of it faults no page in.  A process
 * under qemu-user gets success from madvise without anything mapped (qemu ignores the advice):
 * seen on an anonymous page, and then only the range is checked. */
static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt + ru.ru_majflt;
}

static int populate_honoured(void)
{
    const long page = sysconf(_SC_PAGESIZE);
    unsigned char *p = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    unsigned char in = 0;
    const int r = madvise(p, (size_t)page, MNET_MADV_POPULATE_READ);
    ck_assert_int_eq(mincore(p, (size_t)page, &in), 0);
    munmap(p, (size_t)page);
    return r != 0 || (in & 1);   /* refused (the library then reads every page), or done */
}

START_TEST(test_map_code)
{
    uintptr_t lo = 0, hi = 0;
    const size_t bytes = mnet_code_range(&lo, &hi);
    ck_assert_uint_gt(bytes, 0);
    ck_assert_uint_eq(hi - lo, bytes);
    const uintptr_t fns[] = { (uintptr_t)&mnet_code_range, (uintptr_t)&mnet_context_create,
        (uintptr_t)&mnet_crc32, (uintptr_t)mnet_kernels_for(MNET_ISA_SCALAR)->gemm.fn };
    for (int i = 0; i < COUNT(fns); i++)
        ck_assert_msg(fns[i] >= lo && fns[i] < hi, "function %d at %#" PRIxPTR " is outside "
                "the code segment [%#" PRIxPTR ", %#" PRIxPTR ")", i, fns[i], lo, hi);
    const int how = mnet_map_code();
    ck_assert_int_ge(how, 0);
    mnet_prefault_code();   /* the once-per-process wrapper: harmless again */
    const long before = minor_faults();
    /* (unchecked by the sanitizers: checked, an ASan build faulted 95 shadow pages in here) */
    const unsigned sum = mnet_touch_pages(lo, hi, (uintptr_t)sysconf(_SC_PAGESIZE));
    const long faults = minor_faults() - before;
    printf("test_kernels: code segment %zu KiB mapped by %s; reading it faulted %ld pages (%u)\n",
            bytes >> 10, how ? "madvise" : "reads", faults, sum & 1);
    if (populate_honoured())
        ck_assert_msg(faults == 0, "%ld page faults reading the code after mnet_map_code", faults);
}
END_TEST

/* ---- the suite -------------------------------------------------------------------------------- */
static TCase *tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 600);   /* the same binary runs under qemu, 10-50x slower */
    suite_add_tcase(s, tc);
    return tc;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* forked tests must not inherit a half-full buffer */
    const char *env = getenv("MNET_TEST_SEED");
    if (env && *env) {
        char *end;
        g_seed = strtoull(env, &end, 0);
        if (*end) {
            fprintf(stderr, "MNET_TEST_SEED=%s is not a number\n", env);
            return 2;
        }
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
                ((uint64_t)getpid() << 40);
        g_seed = splitmix64(&x);
    }
    const char *slack = getenv("MNET_TEST_GUARD_SLACK");
    if (slack && *slack) {
        g_guard_slack = (size_t)strtoul(slack, NULL, 0);
        printf("test_kernels: inputs end %zu bytes before their guard page "
                "(MNET_TEST_GUARD_SLACK)\n", g_guard_slack);
    }
    printf("test_kernels: seed 0x%016" PRIx64 " (set MNET_TEST_SEED to reproduce); "
            "selected ISA %s\n", g_seed, mnet_isa_name(mnet_isa_selected()));

    Suite *s = suite_create("mnet kernels");
    TCase *tc = tcase(s, "dispatch");
    tcase_add_test(tc, test_tables);
    tcase_add_test(tc, test_pack_roundtrip);
    tcase_add_test(tc, test_crc32);
    tcase_add_test(tc, test_stem_ahead);
    tcase_add_test(tc, test_dw_ahead);
    tcase_add_test(tc, test_map_code);
    if (getenv("MNET_EXPECT_ISA"))
        tcase_add_test(tc, test_expected_isa);
    tcase_add_loop_test(tcase(s, "dwconv3x3"), test_dwconv3x3, 0, COUNT(dwconv_variants));
    tcase_add_loop_test(tcase(s, "conv3x3"), test_conv3x3, 0, COUNT(conv_variants));
    tcase_add_loop_test(tcase(s, "gemm"), test_gemm, 0, COUNT(gemm_variants));
    tcase_add_loop_test(tcase(s, "bn_relu6"), test_bn_relu6, 0, COUNT(bn_relu6_variants));
    tcase_add_loop_test(tcase(s, "gavgpool"), test_gavgpool, 0, COUNT(gavgpool_variants));
    tcase_add_loop_test(tcase(s, "add"), test_add, 0, COUNT(add_variants));
    tcase_add_loop_test(tcase(s, "softmax"), test_softmax, 0, COUNT(softmax_variants));
    tcase_add_loop_test(tcase(s, "dwconv5x5"), test_dwconv5x5, 0, COUNT(dwconv5_variants));
    tcase_add_loop_test(tcase(s, "hswish"), test_hswish, 0, COUNT(hswish_variants));
    tcase_add_loop_test(tcase(s, "hsigmoid"), test_hsigmoid, 0, COUNT(hsigmoid_variants));
    tcase_add_loop_test(tcase(s, "channel_scale"), test_channel_scale, 0,
            COUNT(channel_scale_variants));
    tc = tcase(s, "internal");
    tcase_add_loop_test(tc, test_dwconv3x3_rows, 0, COUNT(dwconv_variants));
    tcase_add_loop_test(tc, test_dwconv5x5_rows, 0, COUNT(dwconv5_variants));
    tcase_add_loop_test(tc, test_conv3x3_rows, 0, COUNT(conv_variants));
    tcase_add_loop_test(tc, test_gemm_run, 0, COUNT(gemm_variants));

    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_FORK);   /* a segfault on a guard page is a failure, not a crash */
    srunner_run_all(sr, CK_ENV);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (failed)
        printf("test_kernels: %d failed; seed 0x%016" PRIx64 "\n", failed, g_seed);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
