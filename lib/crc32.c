/* crc32.c - CRC-32 with zlib's polynomial, slicing-by-8 (the model file's checksum): the
 * portable version (lib/crc32_clmul.c is the x86-64 one; lib/dispatch.c picks). */
#include <pthread.h>

#include "model.h"

static uint32_t g_table[8][256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        g_table[0][i] = c;
    }
    /* Table t advances a byte through t more zero bytes: 8 bytes per step, one lookup each. */
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            g_table[t][i] = (g_table[t - 1][i] >> 8) ^ g_table[0][g_table[t - 1][i] & 0xFF];
}

uint32_t mnet_crc32_table(uint32_t crc, const uint8_t *p, size_t n)
{
    pthread_once(&g_once, init_table);
    crc = ~crc;
    while (n >= 8) {
        const uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                (uint32_t)p[3] << 24);
        crc = g_table[7][lo & 0xFF] ^ g_table[6][(lo >> 8) & 0xFF] ^ g_table[5][(lo >> 16) & 0xFF] ^
              g_table[4][lo >> 24] ^ g_table[3][p[4]] ^ g_table[2][p[5]] ^ g_table[1][p[6]] ^
              g_table[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = g_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
