/* crc32_clmul.c - the model file's CRC-32 (zlib's polynomial, reflected) by carry-less
 * multiplication, for x86-64 CPUs with PCLMULQDQ (every one that runs the AVX2 tier has it).
 * Built with -mpclmul -msse4.1; lib/dispatch.c calls it only where CPUID reports PCLMULQDQ.
 *
 * Four 128-bit lanes take 64 bytes per step: each lane's running remainder is multiplied by
 * x^(512+64) and x^512 mod P (its two halves) and added to the next 16 bytes of its lane, so the
 * four carry-less products per step are independent.  The lanes are then folded into one (by
 * x^(128+64) and x^128 mod P), 16 more bytes at a time, then reduced 128 -> 64 -> 32 bits, the
 * last step a Barrett reduction.  The constants are those powers of x mod P, bit-reflected, as
 * published for this polynomial (Intel's "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ", 2009). */
#include <immintrin.h>

#include "model.h"

uint32_t mnet_crc32_clmul(uint32_t crc, const uint8_t *p, size_t n)
{
    if (n < 64)
        return mnet_crc32_table(crc, p, n);
    const size_t bulk = n & ~(size_t)15;   /* >= 64 */
    const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);   /* lanes of 64 bytes */
    const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);   /* of 16 bytes */
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);               /* 64 -> 32 bits */
    const __m128i poly = _mm_set_epi64x(0x1f7011641, 0x1db710641);   /* mu, P */
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);

    __m128i x1 = _mm_loadu_si128((const __m128i *)p);
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(p + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)~crc));
    size_t at = 64;
#define FOLD(x, k, next) \
    x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), \
            _mm_clmulepi64_si128(x, k, 0x11)), (next))
    for (; at + 64 <= bulk; at += 64) {
        FOLD(x1, k1k2, _mm_loadu_si128((const __m128i *)(p + at)));
        FOLD(x2, k1k2, _mm_loadu_si128((const __m128i *)(p + at + 16)));
        FOLD(x3, k1k2, _mm_loadu_si128((const __m128i *)(p + at + 32)));
        FOLD(x4, k1k2, _mm_loadu_si128((const __m128i *)(p + at + 48)));
    }
    FOLD(x1, k3k4, x2);
    FOLD(x1, k3k4, x3);
    FOLD(x1, k3k4, x4);
    for (; at + 16 <= bulk; at += 16)
        FOLD(x1, k3k4, _mm_loadu_si128((const __m128i *)(p + at)));
#undef FOLD
    /* 128 -> 64 bits: the low half times x^64 mod P onto the high half. */
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), _mm_clmulepi64_si128(x1, k3k4, 0x10));
    /* 64 -> 32 bits. */
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 4),
            _mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5, 0x00));
    /* Barrett reduction of the remaining 64 bits to the 32-bit remainder. */
    __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), poly, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), poly, 0x00);
    const uint32_t c = (uint32_t)_mm_extract_epi32(_mm_xor_si128(x1, t), 1);
    return mnet_crc32_table(~c, p + bulk, n - bulk);
}
