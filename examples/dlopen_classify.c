/* dlopen_classify.c - classify an image with libmnet loaded at run time: no -lmnet, every
 * function resolved with dlopen/dlsym, as a plugin host or a language binding would do it.
 *
 *   dlopen_classify [--lib PATH] MODEL IMAGE.pgm|IMAGE.ppm [LABELS]
 *
 * PATH defaults to "libmnet.so.0" (the system loader's search).  Prints the top 5 classes.
 * A missing library or symbol is reported on stderr with exit status 1. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnet.h"

/* The functions this program needs, with the types from mnet.h. */
static struct {
    const char *(*last_error)(void);
    const char *(*status_string)(mnet_status);
    const char *(*version_string)(void);
    mnet_status (*model_load)(const char *, mnet_model **);
    void (*model_free)(mnet_model *);
    mnet_status (*model_get_info)(const mnet_model *, mnet_model_info *);
    void (*options_default)(mnet_options *);
    mnet_status (*context_create)(const mnet_model *, const mnet_options *, mnet_context **);
    mnet_status (*context_run)(mnet_context *, int, const float *, float *);
    void (*context_free)(mnet_context *);
    mnet_status (*preprocess_u8)(const mnet_model *, const uint8_t *, int, int, int, size_t, float *);
    mnet_status (*softmax_f32)(mnet_isa, int, int, const float *, float *);
} api;

static int resolve(void *lib)
{
    struct { void **slot; const char *name; } syms[] = {
#define SYM(field, name) { (void **)&api.field, name }
        SYM(last_error, "mnet_last_error"), SYM(status_string, "mnet_status_string"),
        SYM(version_string, "mnet_version_string"), SYM(model_load, "mnet_model_load"),
        SYM(model_free, "mnet_model_free"), SYM(model_get_info, "mnet_model_get_info"),
        SYM(options_default, "mnet_options_default"), SYM(context_create, "mnet_context_create"),
        SYM(context_run, "mnet_context_run"), SYM(context_free, "mnet_context_free"),
        SYM(preprocess_u8, "mnet_preprocess_u8"), SYM(softmax_f32, "mnet_softmax_f32"),
#undef SYM
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        dlerror();
        *syms[i].slot = dlsym(lib, syms[i].name);
        if (!*syms[i].slot) {
            fprintf(stderr, "dlopen_classify: the library has no symbol %s\n", syms[i].name);
            return 0;
        }
    }
    return 1;
}

/* Binary PGM (P5) or PPM (P6) with maxval 255. */
static uint8_t *read_pnm(const char *path, int *w, int *h, int *c)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "dlopen_classify: cannot open %s\n", path);
        return NULL;
    }
    char magic[3] = { 0 };
    int maxval = 0;
    if (fscanf(f, "%2s %d %d %d", magic, w, h, &maxval) != 4 || (strcmp(magic, "P5") &&
            strcmp(magic, "P6")) || *w < 1 || *h < 1 || *w > 65536 || *h > 65536 || maxval != 255) {
        fprintf(stderr, "dlopen_classify: %s is not a binary PGM/PPM with maxval 255\n", path);
        fclose(f);
        return NULL;
    }
    fgetc(f);   /* the one whitespace before the raster */
    *c = magic[1] == '5' ? 1 : 3;
    const size_t n = (size_t)*w * (size_t)*h * (size_t)*c;
    uint8_t *px = malloc(n);
    if (!px || fread(px, 1, n, f) != n) {
        fprintf(stderr, "dlopen_classify: %s is truncated\n", path);
        free(px);
        px = NULL;
    }
    fclose(f);
    return px;
}

int main(int argc, char **argv)
{
    const char *libpath = "libmnet.so.0";
    int a = 1;
    if (argc > 2 && strcmp(argv[1], "--lib") == 0) {
        libpath = argv[2];
        a = 3;
    }
    if (argc - a < 2) {
        fprintf(stderr, "usage: dlopen_classify [--lib PATH] MODEL IMAGE.pgm|IMAGE.ppm [LABELS]\n");
        return 2;
    }
    void *lib = dlopen(libpath, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen_classify: cannot load %s: %s\n", libpath, dlerror());
        return 1;
    }
    int rc = 1;
    mnet_model *model = NULL;
    mnet_context *ctx = NULL;
    uint8_t *px = NULL;
    float *x = NULL, *y = NULL;
    if (!resolve(lib))
        goto out;
    mnet_status s = api.model_load(argv[a], &model);
    if (s != MNET_OK) {
        fprintf(stderr, "dlopen_classify: %s (%s)\n", api.last_error(), api.status_string(s));
        goto out;
    }
    mnet_model_info info;
    mnet_options opt;
    api.model_get_info(model, &info);
    api.options_default(&opt);
    if ((s = api.context_create(model, &opt, &ctx)) != MNET_OK) {
        fprintf(stderr, "dlopen_classify: %s\n", api.last_error());
        goto out;
    }
    int w, h, c;
    if (!(px = read_pnm(argv[a + 1], &w, &h, &c)))
        goto out;
    x = malloc(sizeof(float) * (size_t)info.height * info.width * info.channels);
    y = malloc(sizeof(float) * (size_t)info.num_classes);
    if (!x || !y)
        goto out;
    if ((s = api.preprocess_u8(model, px, w, h, c, (size_t)w * c, x)) != MNET_OK ||
            (s = api.context_run(ctx, 1, x, y)) != MNET_OK ||
            (s = api.softmax_f32(MNET_ISA_AUTO, 1, info.num_classes, y, y)) != MNET_OK) {
        fprintf(stderr, "dlopen_classify: %s\n", api.last_error());
        goto out;
    }
    char names[64][64] = { { 0 } };
    if (argc - a > 2) {
        FILE *lf = fopen(argv[a + 2], "r");
        for (int i = 0; lf && i < 64 && fgets(names[i], sizeof names[i], lf); i++)
            names[i][strcspn(names[i], "\r\n")] = '\0';
        if (lf)
            fclose(lf);
    }
    printf("mnet %s via dlopen(%s): %s\n", api.version_string(), libpath, argv[a + 1]);
    for (int k = 0; k < 5 && k < info.num_classes; k++) {
        int best = 0;
        for (int i = 1; i < info.num_classes; i++)
            if (y[i] > y[best])
                best = i;
        printf("  %d. class %d %s %.4f\n", k + 1, best, best < 64 ? names[best] : "", y[best]);
        y[best] = -1.0f;   /* taken */
    }
    rc = 0;
out:
    if (api.context_free)
        api.context_free(ctx);
    if (api.model_free)
        api.model_free(model);
    free(px);
    free(x);
    free(y);
    dlclose(lib);
    return rc;
}
