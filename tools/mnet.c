/* mnet.c - the mnet command-line tool: `mnet isa` reports the dispatch decision. */
#include <stdio.h>
#include <string.h>

#include "mnet.h"

static const char *const ops[] = { "conv3x3", "dwconv3x3", "gemm", "bn_relu6", "gavgpool", "add",
    "softmax" };

static int cmd_isa(void)
{
    printf("mnet %s\n", mnet_version_string());
    printf("selected isa: %s (MNET_ISA=scalar|avx2|neon can lower it)\n",
            mnet_isa_name(mnet_isa_selected()));
    for (int isa = MNET_ISA_SCALAR; isa <= MNET_ISA_NEON; isa++) {
        printf("%-7s %s\n", mnet_isa_name((mnet_isa)isa),
                mnet_isa_available((mnet_isa)isa) ? "available" : "not available");
        if (!mnet_isa_available((mnet_isa)isa))
            continue;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            printf("    %-10s %s\n", ops[i], mnet_kernel_name((mnet_isa)isa, ops[i]));
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: mnet isa      show the available and selected instruction sets and kernels\n"
               "       mnet --help\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "isa") == 0) {
        if (argc > 2 && strcmp(argv[2], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        return cmd_isa();
    }
    fprintf(stderr, "mnet: unknown command '%s' (try mnet --help)\n", argv[1]);
    return 2;
}
