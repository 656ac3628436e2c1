/* dwconv5x5.c - 5x5 depthwise convolution, AVX2+FMA, 8 channels per ymm (see dwconv_avx2.h). */
#include "dwconv_avx2.h"

#define DW_ONLY_K 5
#include "dwconv_body.h"

DW_ENTRY_5(mnet_f32_dwconv5x5_minmax_8c__avx2)
