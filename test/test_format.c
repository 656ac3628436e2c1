/* test_format.c - the model loader under malformed files: truncation at every byte, every header
 * field corrupted, broken tensor tables, overflowing shapes, NaN/Inf, bad BatchNorm, random
 * mutations.  Each must give MNET_ERR_FORMAT with a message, *out NULL, and no crash or
 * out-of-bounds read (the file image is placed against a guard page; CI also runs this under
 * ASan).  Corruptions other than the checksum's own recompute the CRC, so every check is shown
 * to stand without it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"
#include "check_run.h"

/* Header and entry offsets (docs/FORMAT.md), restated here rather than shared with the loader. */
enum { H_VERSION = 8, H_HDR_SIZE = 12, H_ARCH = 16, H_ALPHA = 20, H_HEIGHT = 28, H_WIDTH = 32,
    H_CHANNELS = 36, H_CLASSES = 40, H_ACT = 44, H_PADDING = 48, H_MEAN = 52, H_STD = 64,
    H_EPS = 76, H_COUNT = 80, H_TABLE = 84, H_DATA = 92, H_FILE_SIZE = 100, HDR = 128, ENTRY = 96 };
enum { E_DTYPE = 64, E_NDIM = 68, E_SHAPE = 72, E_OFFSET = 88 };

static uint8_t *g_base;
static size_t g_size;

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void putf(uint8_t *p, float f) { uint32_t u; memcpy(&u, &f, 4); put32(p, u); }
static void putd(uint8_t *p, double d) { uint64_t u; memcpy(&u, &d, 8); put64(p, u); }

static void recrc(uint8_t *f, size_t n)
{
    put32(f + n - 4, mnet_crc32(0, f, n - 4));
}

/* Load `n` bytes placed so that the byte after the last one is a PROT_NONE page. */
static mnet_status load_guarded(const uint8_t *f, size_t n)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t span = (n + page - 1) / page * page + page;
    uint8_t *map = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(map != MAP_FAILED);
    ck_assert_int_eq(mprotect(map + span - page, page, PROT_NONE), 0);
    uint8_t *at = map + span - page - n;
    memcpy(at, f, n);
    mnet_model *m = (mnet_model *)&m;
    const mnet_status s = mnet_model_load_memory(at, n, &m);
    if (s == MNET_OK) {
        ck_assert_ptr_nonnull(m);
        mnet_model_free(m);
    } else {
        ck_assert_ptr_null(m);
        ck_assert_msg(mnet_last_error()[0] != '\0', "status %d without a message", s);
    }
    munmap(map, span);
    return s;
}

static uint8_t *copy(void)
{
    uint8_t *f = malloc(g_size);
    memcpy(f, g_base, g_size);
    return f;
}

static void expect_format(uint8_t *f, size_t n, const char *what, const char *needle)
{
    const mnet_status s = load_guarded(f, n);
    ck_assert_msg(s == MNET_ERR_FORMAT, "%s: status %d (%s), expected MNET_ERR_FORMAT", what, s,
            mnet_last_error());
    if (needle)
        ck_assert_msg(strstr(mnet_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'",
                what, mnet_last_error(), needle);
}

/* f = base with the header field at `off` set to v (the CRC made right again): must be
 * refused with a message naming `needle`. */
static void expect_header(uint8_t *f, const uint8_t *base, size_t n, size_t off, uint32_t v,
        const char *what, const char *needle)
{
    memcpy(f, base, n);
    put32(f + off, v);
    recrc(f, n);
    expect_format(f, n, what, needle);
}

/* The tensor entry named `name`. */
static uint8_t *entry(uint8_t *f, const char *name)
{
    const uint32_t count = get32(f + H_COUNT);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = f + HDR + (size_t)i * ENTRY;
        if (strcmp((const char *)e, name) == 0)
            return e;
    }
    ck_abort_msg("no tensor %s", name);
    return NULL;
}

static void setup(void)
{
    /* A small but complete V2 (alpha 0.1 keeps every layer at 8..48 channels). */
    ck_assert_int_eq(mnet_model_write_random(MNET_ARCH_V2, 0.1, 32, 32, 3, 7, &g_base, &g_size), MNET_OK);
}

static void teardown(void)
{
    mnet_big_free(g_base, g_size);
}

START_TEST(test_base_loads)
{
    ck_assert_int_eq(load_guarded(g_base, g_size), MNET_OK);
}
END_TEST

/* The float tensor `name` of file f, or NULL if it has none. */
static const uint8_t *tensor_data(const uint8_t *f, const char *name)
{
    const uint32_t count = get32(f + H_COUNT);
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = f + HDR + (size_t)i * ENTRY;
        if (strcmp((const char *)e, name) == 0)
            return f + get64(e + E_OFFSET);
    }
    return NULL;
}

static double getf(const uint8_t *p) { uint32_t u = get32(p); float v; memcpy(&v, &u, 4); return v; }

/* The loader folds 1x1, squeeze-and-excite and classifier layers straight into their GEMM
 * panels.  Every such layer's block, for the tier the model was loaded in, against the fold
 * restated here from the file's tensors (scale = gamma / sqrt(var + eps) in double, the weights
 * times it, bias (b - mean) * scale + beta): same bits, the bias in each panel's first row,
 * zeros past the last column.  Models with partial panels (odd channel counts, 3 classes). */
START_TEST(test_gemm_layers_packed)
{
    static const struct { int arch; double alpha; int res, classes; } cases[] = {
        { MNET_ARCH_V2, 0.1, 32, 3 }, { MNET_ARCH_V1, 0.35, 32, 1000 },
        { MNET_ARCH_V3_SMALL, 0.35, 48, 11 }, { MNET_ARCH_V3_LARGE, 0.5, 32, 5 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t *f;
        size_t n;
        ck_assert_int_eq(mnet_model_write_random(cases[c].arch, cases[c].alpha, cases[c].res,
                cases[c].res, cases[c].classes, 11 + c, &f, &n), MNET_OK);
        mnet_model *m;
        ck_assert_int_eq(mnet_model_load_memory(f, n, &m), MNET_OK);
        const mnet_kernels *home = mnet_kernels_for((mnet_isa)m->home);
        const mnet_packed *hp = m->packed[m->home];
        const double eps = getf(f + H_EPS);
        int gemm_layers = 0;
        for (int i = 0; i < m->num_layers; i++) {
            const mnet_layer *l = &m->layers[i];
            const int nr = mnet_layer_gemm_tile(l, home);
            if (!nr)
                continue;
            gemm_layers++;
            char name[64];
            const uint8_t *w, *b, *bn[4];
            static const char *const bn_names[4] = { "g", "b", "m", "v" };
            snprintf(name, sizeof name, "l%d.w", i);
            ck_assert_ptr_nonnull(w = tensor_data(f, name));
            snprintf(name, sizeof name, "l%d.b", i);
            b = tensor_data(f, name);
            for (int k = 0; k < 4; k++) {
                snprintf(name, sizeof name, "l%d.bn.%s", i, bn_names[k]);
                bn[k] = tensor_data(f, name);
            }
            const size_t cin = (size_t)l->cin, cout = (size_t)l->cout, pn = (size_t)nr;
            const size_t slice = (size_t)mnet_layer_k_slice(l);
            const float *block = hp->data + hp->offset[i];
            /* Per k-slice of `slice` inputs (all of them but in a linear classifier), row 0 of
             * a panel is the bias (the first slice's; zeros in the others), row 1 + r input
             * k0 + r's weights; the first difference is reported (one assertion a layer:
             * millions of values). */
            size_t bad = 0, bad_co = 0, bad_row = 0;
            float got = 0.0f, want = 0.0f;
            for (size_t k0 = 0; k0 < cin; k0 += slice) {
                const size_t ks = cin - k0 < slice ? cin - k0 : slice;
                for (size_t co = 0; co < (cout + pn - 1) / pn * pn; co++) {
                    const float *panel = block + co / pn * pn * (ks + 1);
                    const size_t j = co % pn;
                    double scale = 1.0, bias = b && co < cout ? getf(b + 4 * co) : 0.0;
                    if (bn[0] && co < cout) {
                        scale = getf(bn[0] + 4 * co) / sqrt(getf(bn[3] + 4 * co) + eps);
                        bias = (bias - getf(bn[2] + 4 * co)) * scale + getf(bn[1] + 4 * co);
                    }
                    for (size_t row = 0; row <= ks; row++) {   /* past cout: zeros */
                        const float v = co >= cout ? 0.0f : row == 0 ? (k0 ? 0.0f : (float)bias) :
                            (float)(getf(w + 4 * (co * cin + k0 + row - 1)) * scale);
                        if (panel[row * pn + j] != v && bad++ == 0) {
                            bad_co = co;
                            bad_row = k0 + row;
                            got = panel[row * pn + j];
                            want = v;
                        }
                    }
                }
                block += (cout + pn - 1) / pn * pn * (ks + 1);
            }
            ck_assert_msg(bad == 0, "layer %d (%s %zu->%zu, tile %d): %zu values differ, the "
                    "first at output %zu%s, row %zu (0: bias): %a, expected %a", i,
                    mnet_op_name(l->op), cin, cout, nr, bad, bad_co, bad_co >= cout ?
                    " (padding)" : "", bad_row, got, want);
        }
        ck_assert_int_gt(gemm_layers, 0);
        mnet_model_free(m);
        mnet_big_free(f, n);
    }
}
END_TEST

/* V3's own fields: version 2 required, SE biases required and BatchNorm refused on SE layers,
 * 5x5 depthwise shapes, V3's fixed activation field. */
START_TEST(test_v3_fields)
{
    uint8_t *v3;
    size_t n;
    ck_assert_int_eq(mnet_model_write_random(MNET_ARCH_V3_SMALL, 0.25, 40, 40, 3, 5, &v3, &n),
            MNET_OK);
    ck_assert_int_eq(load_guarded(v3, n), MNET_OK);
    mnet_layer *l;
    int nl, se = -1, dw5 = -1;
    ck_assert_int_eq(mnet_arch_build(MNET_ARCH_V3_SMALL, 0.25, 40, 40, 3, 3, 0, 0, &l, &nl), MNET_OK);
    for (int i = 0; i < nl; i++) {
        se = se < 0 && l[i].op == MNET_OP_SE_EXPAND ? i : se;
        dw5 = dw5 < 0 && l[i].op == MNET_OP_DW5X5 ? i : dw5;
    }
    free(l);
    ck_assert(se > 0 && dw5 > 0);
    uint8_t *f = malloc(n);
    char name[64];

    expect_header(f, v3, n, H_VERSION, 1, "V3 in a version-1 file", "version");
    expect_header(f, v3, n, H_ACT, 1, "V3 with activation code 1", "activation");

    memcpy(f, v3, n);   /* the SE bias renamed away: missing */
    snprintf(name, sizeof name, "l%d.b", se);
    snprintf((char *)entry(f, name), 64, "l%d.x", se);
    recrc(f, n);
    expect_format(f, n, "SE without bias", NULL);

    memcpy(f, v3, n);   /* the SE bias as a BatchNorm tensor: BN on SE, and no bias */
    snprintf(name, sizeof name, "l%d.b", se);
    snprintf((char *)entry(f, name), 64, "l%d.bn.g", se);
    recrc(f, n);
    expect_format(f, n, "BatchNorm on an SE layer", "BatchNorm");

    memcpy(f, v3, n);   /* a 5x5 depthwise declared 3x3 */
    snprintf(name, sizeof name, "l%d.w", dw5);
    uint8_t *e = entry(f, name);
    put32(e + E_SHAPE + 8, 3);
    put32(e + E_SHAPE + 12, 3);
    recrc(f, n);
    expect_format(f, n, "5x5 depthwise as 3x3", "shape");

    /* Truncated anywhere: the loader refuses (sampled every 61st length). */
    for (size_t t = 0; t < n; t += 61)
        ck_assert_msg(load_guarded(v3, t) == MNET_ERR_FORMAT, "V3 truncated to %zu bytes", t);
    free(f);
    mnet_big_free(v3, n);
}
END_TEST

START_TEST(test_truncated_everywhere)
{
    /* Every length from 0 to size - 1 of a tiny V1 (alpha 0.01: every layer at the 8-channel
     * floor, ~50 KB), each against the guard page. */
    uint8_t *tiny;
    size_t tiny_size;
    ck_assert_int_eq(mnet_model_write_random(MNET_ARCH_V1, 0.01, 32, 32, 2, 3, &tiny, &tiny_size),
            MNET_OK);
    ck_assert_int_eq(load_guarded(tiny, tiny_size), MNET_OK);
    for (size_t n = 0; n < tiny_size; n++)
        ck_assert_msg(load_guarded(tiny, n) == MNET_ERR_FORMAT, "truncated to %zu bytes", n);
    mnet_big_free(tiny, tiny_size);
    /* Truncated with the header's size field and checksum made consistent: the table/data
     * checks must still refuse it (sampled: every 97th length past the header). */
    for (size_t n = HDR + 4; n < g_size; n += 97) {
        uint8_t *f = copy();
        put64(f + H_FILE_SIZE, n);
        recrc(f, n);
        ck_assert_msg(load_guarded(f, n) == MNET_ERR_FORMAT, "consistent truncation to %zu", n);
        free(f);
    }
}
END_TEST

START_TEST(test_checksum_and_magic)
{
    uint8_t *f = copy();
    f[g_size / 2] ^= 0x10;
    expect_format(f, g_size, "flipped data bit", "checksum");
    memcpy(f, g_base, g_size);
    f[g_size - 1] ^= 1;
    expect_format(f, g_size, "flipped CRC bit", "checksum");
    memcpy(f, g_base, g_size);
    f[0] = 'X';
    recrc(f, g_size);
    expect_format(f, g_size, "magic", "magic");
    expect_header(f, g_base, g_size, H_VERSION, 3, "version", "version");
    /* Version 1 files (before V3) still load. */
    memcpy(f, g_base, g_size);
    put32(f + H_VERSION, 1);
    recrc(f, g_size);
    ck_assert_int_eq(load_guarded(f, g_size), MNET_OK);
    memcpy(f, g_base, g_size);
    f[120] = 1;
    recrc(f, g_size);
    expect_format(f, g_size, "reserved", "reserved");
    free(f);
}
END_TEST

/* Every u32 header field set to 0, 0xFFFFFFFF, INT_MAX and a plausible wrong value. */
START_TEST(test_header_fields)
{
    static const int fields[] = { H_VERSION, H_HDR_SIZE, H_ARCH, H_HEIGHT, H_WIDTH, H_CHANNELS,
        H_CLASSES, H_ACT, H_PADDING, H_COUNT };
    static const uint32_t values[] = { 0, 0xFFFFFFFFu, 0x7FFFFFFFu, 5 };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            uint8_t *f = copy();
            if (get32(f + fields[i]) == values[v]) {
                free(f);
                continue;
            }
            put32(f + fields[i], values[v]);
            recrc(f, g_size);
            char what[64];
            snprintf(what, sizeof what, "field %d = %u", fields[i], values[v]);
            expect_format(f, g_size, what, NULL);
            free(f);
        }
    static const int u64s[] = { H_TABLE, H_DATA, H_FILE_SIZE };
    static const uint64_t big[] = { 0, 1, 0xFFFFFFFFFFFFFFFFull, 0x8000000000000000ull, 64 };
    for (size_t i = 0; i < 3; i++)
        for (size_t v = 0; v < 5; v++) {
            uint8_t *f = copy();
            put64(f + u64s[i], big[v]);
            recrc(f, g_size);
            expect_format(f, g_size, "u64 field", NULL);
            free(f);
        }
    /* Floats: alpha, mean, std, eps as 0, negative, NaN, Inf (alpha 0.2 is a different network:
     * its shapes no longer match). */
    const double alphas[] = { 0.0, -1.0, NAN, INFINITY, 1e300, 0.2 };
    for (size_t v = 0; v < 6; v++) {
        uint8_t *f = copy();
        putd(f + H_ALPHA, alphas[v]);
        recrc(f, g_size);
        expect_format(f, g_size, "alpha", NULL);
        free(f);
    }
    const float bad_std[] = { 0.0f, -1.0f, NAN, INFINITY };
    for (size_t v = 0; v < 4; v++) {
        uint8_t *f = copy();
        putf(f + H_STD + 4, bad_std[v]);
        recrc(f, g_size);
        expect_format(f, g_size, "std", "std");
        memcpy(f, g_base, g_size);
        putf(f + H_EPS, v ? -bad_std[v] * 2.0f : -1.0f);
        recrc(f, g_size);
        expect_format(f, g_size, "eps", "eps");
        memcpy(f, g_base, g_size);
        putf(f + H_MEAN, v < 2 ? NAN : bad_std[v]);
        recrc(f, g_size);
        expect_format(f, g_size, "mean", "mean");
        free(f);
    }
}
END_TEST

START_TEST(test_tensor_table)
{
    uint8_t *f = copy(), *e;
    /* Offset past the end, misaligned, into the header, overlapping the next tensor. */
    const uint64_t offsets[] = { g_size, g_size - 4, 0xFFFFFFFFFFFFFFC0ull, 64, 0 };
    for (size_t v = 0; v < 5; v++) {
        memcpy(f, g_base, g_size);
        put64(entry(f, "l5.w") + E_OFFSET, offsets[v]);
        recrc(f, g_size);
        expect_format(f, g_size, "offset", "l5.w");
    }
    memcpy(f, g_base, g_size);
    put64(entry(f, "l5.w") + E_OFFSET, get64(entry(f, "l5.w") + E_OFFSET) + 4);
    recrc(f, g_size);
    expect_format(f, g_size, "misaligned", "l5.w");
    memcpy(f, g_base, g_size);
    put64(entry(f, "l5.bn.g") + E_OFFSET, get64(entry(f, "l5.w") + E_OFFSET));
    recrc(f, g_size);
    expect_format(f, g_size, "overlap", "overlap");
    /* Shapes: overflow 32 and 64 bits, zero, wrong, wrong rank. */
    const uint32_t shapes[][4] = { { 0x40000000, 0x40000000, 0x40000000, 0x40000000 },
        { 65536, 65536, 1, 1 }, { 0, 1, 3, 3 }, { 8, 1, 3, 5 }, { 0xFFFFFFFF, 1, 1, 1 } };
    for (size_t v = 0; v < 5; v++) {
        memcpy(f, g_base, g_size);
        e = entry(f, "l1.w");
        for (int k = 0; k < 4; k++)
            put32(e + E_SHAPE + 4 * k, shapes[v][k]);
        recrc(f, g_size);
        expect_format(f, g_size, "shape", "l1.w");
    }
    memcpy(f, g_base, g_size);
    put32(entry(f, "l1.w") + E_NDIM, 3);
    recrc(f, g_size);
    expect_format(f, g_size, "rank", "l1.w");
    memcpy(f, g_base, g_size);
    put32(entry(f, "l1.w") + E_NDIM, 9);
    recrc(f, g_size);
    expect_format(f, g_size, "ndim 9", "l1.w");
    memcpy(f, g_base, g_size);
    put32(entry(f, "l1.w") + E_DTYPE, 2);
    recrc(f, g_size);
    expect_format(f, g_size, "dtype", "dtype");
    /* Names: renamed (missing + unexpected), duplicated, unterminated, empty. */
    memcpy(f, g_base, g_size);
    memcpy(entry(f, "l2.w"), "l2.x", 4);
    recrc(f, g_size);
    expect_format(f, g_size, "renamed", "l2.w");
    memcpy(f, g_base, g_size);
    memcpy(entry(f, "l3.bn.v"), "l3.bn.m", 8);
    recrc(f, g_size);
    expect_format(f, g_size, "duplicate", "twice");
    memcpy(f, g_base, g_size);
    memset(entry(f, "l3.w"), 'a', 64);
    recrc(f, g_size);
    expect_format(f, g_size, "unterminated", "NUL");
    memcpy(f, g_base, g_size);
    memset(entry(f, "l3.w"), 0, 8);
    recrc(f, g_size);
    expect_format(f, g_size, "empty name", "empty");
    /* Fewer tensors than needed (count lowered past the classifier's weight: the last two
     * entries are l52.w and the optional l52.b), partial BatchNorm. */
    expect_header(f, g_base, g_size, H_COUNT, get32(g_base + H_COUNT) - 2, "count - 2",
            "missing tensor 'l52.w'");
    memcpy(f, g_base, g_size);
    memcpy(entry(f, "l4.bn.g"), "zz.bn.g", 7);
    recrc(f, g_size);
    expect_format(f, g_size, "partial BN", NULL);
    free(f);
}
END_TEST

START_TEST(test_bad_values)
{
    uint8_t *f = copy();
    const float bad[] = { NAN, INFINITY, -INFINITY };
    const char *names[] = { "l0.w", "l7.bn.m", "l52.b" };
    for (int t = 0; t < 3; t++)
        for (int v = 0; v < 3; v++) {
            memcpy(f, g_base, g_size);
            putf(f + get64(entry(f, names[t]) + E_OFFSET) + 4 * (size_t)t, bad[v]);
            recrc(f, g_size);
            expect_format(f, g_size, "non-finite", names[t]);
        }
    memcpy(f, g_base, g_size);
    putf(f + get64(entry(f, "l9.bn.v") + E_OFFSET), -0.5f);
    recrc(f, g_size);
    expect_format(f, g_size, "negative variance", "variance");
    memcpy(f, g_base, g_size);
    putf(f + H_EPS, 0.0f);
    putf(f + get64(entry(f, "l9.bn.v") + E_OFFSET), 0.0f);
    recrc(f, g_size);
    expect_format(f, g_size, "zero variance, zero eps", "variance");
    free(f);
}
END_TEST

/* Random mutations with a recomputed CRC: any outcome but OK or FORMAT (or a crash) fails. */
START_TEST(test_random_mutations)
{
    uint64_t s = 0x9E3779B97F4A7C15ull;
    uint8_t *f = malloc(g_size);
    int refused = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(f, g_base, g_size);
        const int flips = 1 + it % 4;
        for (int k = 0; k < flips; k++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            /* Mostly the header and table, where structure lives. */
            const size_t limit = it % 3 ? HDR + get32(g_base + H_COUNT) * (size_t)ENTRY : g_size - 4;
            f[(s >> 8) % limit] ^= (uint8_t)(1u << (s & 7));
        }
        recrc(f, g_size);
        const mnet_status st = load_guarded(f, g_size);
        ck_assert_msg(st == MNET_OK || st == MNET_ERR_FORMAT, "mutation %d: status %d", it, st);
        refused += st == MNET_ERR_FORMAT;
    }
    ck_assert_int_gt(refused, 1000);
    free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("format");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_base_loads);
    tcase_add_test(tc, test_gemm_layers_packed);
    tcase_add_test(tc, test_truncated_everywhere);
    tcase_add_test(tc, test_v3_fields);
    tcase_add_test(tc, test_checksum_and_magic);
    tcase_add_test(tc, test_header_fields);
    tcase_add_test(tc, test_tensor_table);
    tcase_add_test(tc, test_bad_values);
    tcase_add_test(tc, test_random_mutations);
    suite_add_tcase(s, tc);
    return check_run(s);
}
