/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TensorFlow's checkpoints,
 * TFRecord files and event files use it: with SSE4.2's crc32 instruction where the build
 * targets a CPU that has it, else eight bytes at a time with eight lookup tables
 * (slicing-by-8, about 2 GB/s on one core).
 */
#include <pthread.h>
#include <string.h>

#include "internal.h"

#if !(defined(__SSE4_2__) && defined(__x86_64__))
static uint32_t tables[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void make_tables(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    tables[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      tables[t][i] = (tables[t - 1][i] >> 8) ^ tables[0][tables[t - 1][i] & 0xff];
}
#endif

#if defined(__SSE4_2__) && defined(__x86_64__)
#include <nmmintrin.h>

/* SSE4.2's crc32 instruction computes exactly this CRC (the Castagnoli polynomial): about
 * 8 bytes a cycle, several times the tables' speed. Compiled in when the build targets a CPU
 * that has it (zig build targets the host by default). */
EAGER_API uint32_t eager_crc32c(uint32_t crc, const void *data, int64_t offset, int64_t n) {
  const unsigned char *p = (const unsigned char *)data + offset;
  uint64_t c = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  uint32_t c32 = (uint32_t)c;
  for (; n > 0; n--, p++) c32 = _mm_crc32_u8(c32, *p);
  return ~c32;
}
#else
EAGER_API uint32_t eager_crc32c(uint32_t crc, const void *data, int64_t offset, int64_t n) {
  pthread_once(&tables_once, make_tables);
  const unsigned char *p = (const unsigned char *)data + offset;
  uint32_t c = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint32_t lo, hi;
    memcpy(&lo, p, 4);
    memcpy(&hi, p + 4, 4);
    lo ^= c; /* little-endian hosts only (x86-64, aarch64), as the rest of libeager */
    c = tables[7][lo & 0xff] ^ tables[6][(lo >> 8) & 0xff] ^ tables[5][(lo >> 16) & 0xff] ^
        tables[4][lo >> 24] ^ tables[3][hi & 0xff] ^ tables[2][(hi >> 8) & 0xff] ^
        tables[1][(hi >> 16) & 0xff] ^ tables[0][hi >> 24];
  }
  for (; n > 0; n--, p++) c = (c >> 8) ^ tables[0][(c ^ *p) & 0xff];
  return ~c;
}
#endif
