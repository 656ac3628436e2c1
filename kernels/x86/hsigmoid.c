/* hsigmoid.c - h-sigmoid, min(max(x + 3, 0), 6) / 6, AVX2; x == y allowed. */
#include "avx2_util.h"
#include "ukernels.h"

void mnet_f32_hsigmoid__avx2(size_t count, const float *x, float *y)
{
    mnet_avx2_hact_array(count, x, y, MNET_EPI_HSIGMOID);
}
