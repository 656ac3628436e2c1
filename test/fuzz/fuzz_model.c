/* fuzz_model.c - libFuzzer target: bytes -> mnet_model_load_memory -> context -> one inference.
 * Built by tools/fuzz.sh with clang -fsanitize=fuzzer,address,undefined; the same function is
 * replayed over the committed corpus and regression inputs by test/fuzz/replay.c in meson test.
 * Models with inputs above 96x96 are loaded but not run, to keep each execution small (the
 * loader is what reads untrusted bytes; inference cost grows with the declared resolution). */
#include <stdint.h>
#include <stdlib.h>

#include "mnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mnet_model *m = NULL;
    if (mnet_model_load_memory(data, size, &m) != MNET_OK)
        return 0;
    mnet_model_info info;
    if (mnet_model_get_info(m, &info) == MNET_OK && (size_t)info.height * info.width <= 96 * 96 &&
            info.num_classes <= 4096) {
        mnet_context *c = NULL;
        if (mnet_context_create(m, NULL, &c) == MNET_OK) {
            float *x = calloc((size_t)info.height * info.width * info.channels, sizeof(float));
            float *y = malloc((size_t)info.num_classes * sizeof(float));
            if (x && y)
                mnet_context_run(c, 1, x, y);
            free(x);
            free(y);
            mnet_context_free(c);
        }
    }
    mnet_model_free(m);
    return 0;
}
