/* dwconv.c - 3x3 depthwise convolution, AVX2+FMA, 8 channels per ymm (see dwconv_avx2.h). */
#include "dwconv_avx2.h"

#define DW_ONLY_K 3
#include "dwconv_body.h"

DW_ENTRY_3(mnet_f32_dwconv3x3_minmax_8c__avx2)
