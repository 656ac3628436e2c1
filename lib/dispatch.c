/* dispatch.c - the one place that decides which kernels run: per-tier tables, filled once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "model.h"


static mnet_kernels g_tables[MNET_NUM_ISA];   /* [tier]: scalar entries overridden by the tier's */
static unsigned g_available;                  /* bit per tier: built here and runnable on this CPU */
static mnet_isa g_selected;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
/* The model file's CRC-32: carry-less multiplication where the CPU has it and the selected tier
 * is above scalar (MNET_ISA=scalar keeps the whole library portable C). */
static uint32_t (*g_crc32)(uint32_t, const uint8_t *, size_t) = mnet_crc32_table;

static unsigned built_mask(void)
{
    unsigned m = 1u << MNET_ISA_SCALAR;
#if MNET_HAVE_AVX2
    m |= 1u << MNET_ISA_AVX2;
#endif
#if MNET_HAVE_NEON
    m |= 1u << MNET_ISA_NEON;
#endif
#if MNET_HAVE_AVX512
    m |= 1u << MNET_ISA_AVX512;
#endif
    return m;
}

/* Copy every kernel registered for `tier` into table `t`. */
static void fill_tier(mnet_kernels *t, mnet_isa tier)
{
#define TIER(isa) (MNET_ISA_##isa == tier)
#define MNET_DWCONV3X3(isa, f, cr) if (TIER(isa)) t->dwconv3x3 = (mnet_dwconv3x3_config){ f, cr, #f };
#define MNET_CONV3X3(isa, f, cr) if (TIER(isa)) t->conv3x3 = (mnet_conv3x3_config){ f, cr, #f };
#define MNET_GEMM(isa, f, mr, nr) if (TIER(isa)) t->gemm = (mnet_gemm_config){ f, mr, nr, #f };
#define MNET_GEMM_WHERE(pred, isa, f, mr, nr) \
    if (TIER(isa) && (pred)) t->gemm = (mnet_gemm_config){ f, mr, nr, #f };
#define MNET_BN_RELU6(isa, f) if (TIER(isa)) t->bn_relu6 = (mnet_bn_relu6_config){ f, #f };
#define MNET_GAVGPOOL(isa, f) if (TIER(isa)) t->gavgpool = (mnet_gavgpool_config){ f, #f };
#define MNET_ADD(isa, f) if (TIER(isa)) t->add = (mnet_add_config){ f, #f };
#define MNET_SOFTMAX(isa, f) if (TIER(isa)) t->softmax = (mnet_softmax_config){ f, #f };
#define MNET_DWCONV5X5(isa, f, cr) if (TIER(isa)) t->dwconv5x5 = (mnet_dwconv5x5_config){ f, cr, #f };
#define MNET_HSWISH(isa, f) if (TIER(isa)) t->hswish = (mnet_hswish_config){ f, #f };
#define MNET_HSIGMOID(isa, f) if (TIER(isa)) t->hsigmoid = (mnet_hsigmoid_config){ f, #f };
#define MNET_CHANNEL_SCALE(isa, f) \
    if (TIER(isa)) t->channel_scale = (mnet_channel_scale_config){ f, #f };
#include "ukernels.inc"
#undef TIER
}

static mnet_isa parse_isa(const char *s)
{
    static const mnet_isa tiers[] = { MNET_ISA_SCALAR, MNET_ISA_AVX2, MNET_ISA_NEON,
        MNET_ISA_AVX512 };
    for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++)
        if (strcmp(s, mnet_isa_name(tiers[i])) == 0)
            return tiers[i];
    return MNET_ISA_AUTO;
}

/* Tier order, low to high, per architecture: scalar < AVX2 < AVX-512 on x86-64, scalar <
 * NEON on AArch64 (the enum's numbering is historical, not an order). */
static const mnet_isa g_order[] = { MNET_ISA_SCALAR, MNET_ISA_AVX2, MNET_ISA_AVX512, MNET_ISA_NEON };

static void init_once(void)
{
    g_available = built_mask() & mnet_cpu_isa_mask();

    /* Low tier to high: every table starts as the table of the tier below it, then takes its
     * own tier's kernels (so AVX-512 runs AVX2's kernels for the ops it has none of). */
    fill_tier(&g_tables[MNET_ISA_SCALAR], MNET_ISA_SCALAR);
    g_tables[MNET_ISA_SCALAR].isa = MNET_ISA_SCALAR;
    g_selected = MNET_ISA_SCALAR;
    for (size_t i = 1; i < sizeof g_order / sizeof g_order[0]; i++) {
        const mnet_isa tier = g_order[i];
        if (!(g_available & (1u << tier)))
            continue;
        g_tables[tier] = g_tables[g_selected];
        g_tables[tier].isa = tier;
        fill_tier(&g_tables[tier], tier);
        g_selected = tier;
    }

    /* MNET_ISA can only lower the tier. */
    const char *env = getenv("MNET_ISA");
    if (env && *env && strcmp(env, "auto") != 0) {
        mnet_isa want = parse_isa(env);
        if (want == MNET_ISA_AUTO)
            fprintf(stderr, "mnet: warning: MNET_ISA=%s is not one of scalar, avx2, avx512, neon, auto; "
                    "ignored (using %s)\n", env, mnet_isa_name(g_selected));
        else if (!(g_available & (1u << want)))
            fprintf(stderr, "mnet: warning: MNET_ISA=%s is not available in this build or on "
                    "this CPU; ignored (using %s)\n", env, mnet_isa_name(g_selected));
        else
            g_selected = want;   /* available and not above the detected tier */
    }
    g_tables[MNET_ISA_AUTO] = g_tables[g_selected];
#if MNET_HAVE_CLMUL
    if (g_selected != MNET_ISA_SCALAR && mnet_cpu_has_clmul())
        g_crc32 = mnet_crc32_clmul;
#endif
}

uint32_t mnet_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    pthread_once(&g_once, init_once);
    return g_crc32(crc, p, n);
}

const mnet_kernels *mnet_kernels_for(mnet_isa isa)
{
    pthread_once(&g_once, init_once);
    if ((unsigned)isa >= MNET_NUM_ISA || !(isa == MNET_ISA_AUTO || (g_available & (1u << isa))))
        return NULL;
    return &g_tables[isa];
}

mnet_isa mnet_isa_selected(void)
{
    pthread_once(&g_once, init_once);
    return g_selected;
}

int mnet_isa_available(mnet_isa isa)
{
    return mnet_kernels_for(isa) != NULL;
}

const char *mnet_isa_name(mnet_isa isa)
{
    switch (isa) {
    case MNET_ISA_AUTO: return "auto";
    case MNET_ISA_SCALAR: return "scalar";
    case MNET_ISA_AVX2: return "avx2";
    case MNET_ISA_NEON: return "neon";
    case MNET_ISA_AVX512: return "avx512";
    }
    return "unknown";
}

const char *mnet_kernel_name(mnet_isa isa, const char *op)
{
    const mnet_kernels *t = mnet_kernels_for(isa);
    if (!t || !op)
        return NULL;
    const struct { const char *op, *name; } names[] = {
        { "dwconv3x3", t->dwconv3x3.name }, { "conv3x3", t->conv3x3.name },
        { "gemm", t->gemm.name }, { "bn_relu6", t->bn_relu6.name },
        { "gavgpool", t->gavgpool.name }, { "add", t->add.name }, { "softmax", t->softmax.name },
        { "dwconv5x5", t->dwconv5x5.name }, { "hardswish", t->hswish.name },
        { "hardsigmoid", t->hsigmoid.name }, { "channel_scale", t->channel_scale.name },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(op, names[i].op) == 0)
            return names[i].name;
    return NULL;
}

const char *mnet_version_string(void)
{
#define MNET_STR2(x) #x
#define MNET_STR(x) MNET_STR2(x)
    return MNET_STR(MNET_VERSION_MAJOR) "." MNET_STR(MNET_VERSION_MINOR) "." MNET_STR(MNET_VERSION_PATCH);
}
