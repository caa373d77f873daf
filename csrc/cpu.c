/*
 * Which copy of the kernels runs: the library holds one per instruction-set level of its
 * architecture (build.zig), and this file picks the best one the CPU and the OS support
 * when the library loads. The TypeScript loader may then lower it (EAGER_CPU).
 *
 * x86-64 levels are the psABI's microarchitecture levels, checked feature by feature:
 * v2 = SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT, CMPXCHG16B, LAHF; v3 = v2 + AVX, AVX2, BMI1,
 * BMI2, F16C, FMA, LZCNT, MOVBE, with the OS saving the YMM state (XCR0); v4 = v3 +
 * AVX512F, BW, CD, DQ, VL, with the OS saving the opmask and ZMM state. NOTE: macOS turns
 * AVX-512 state on only at a thread's first AVX-512 instruction, so its XCR0 does not show
 * it; there the kernel's own answer (sysctl hw.optional.avx512f) stands in for XCR0.
 */
#include <stdatomic.h>

#include "internal.h"

#include "generated/kernel_table.h"

#if defined(__x86_64__)
#include <cpuid.h>
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif
extern const eager_kernel_table eager_kernels_v2, eager_kernels_v3, eager_kernels_v4;
static const eager_kernel_table *const tables[EAGER_CPU_COUNT] = {
    [EAGER_CPU_V2] = &eager_kernels_v2,
    [EAGER_CPU_V3] = &eager_kernels_v3,
    [EAGER_CPU_V4] = &eager_kernels_v4,
};
#elif defined(__aarch64__)
extern const eager_kernel_table eager_kernels_neon;
static const eager_kernel_table *const tables[EAGER_CPU_COUNT] = {
    [EAGER_CPU_NEON] = &eager_kernels_neon,
};
#else
#error "libeager's kernels are built for x86-64 and aarch64 only"
#endif

const eager_kernel_table *eager_active_kernels;
static _Atomic int32_t active_level = -1;
static int32_t supported_levels; /* set once by the constructor */

#define BIT(n) (1u << (n))
#define HAS(reg, bits) (((reg) & (bits)) == (bits))

#if defined(__x86_64__)
static uint64_t xcr0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

static int os_saves_avx512(uint64_t xcr) {
#if defined(__APPLE__)
  int on = 0;
  size_t size = sizeof on;
  return sysctlbyname("hw.optional.avx512f", &on, &size, NULL, 0) == 0 && on;
#else
  return (xcr & 0xe6) == 0xe6; /* XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM */
#endif
}

static int32_t detect_levels(void) {
  unsigned eax, ebx, ecx1, edx, ecx7 = 0, ebx7 = 0, ecx_ext = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx1, &edx)) return 0;
  if (__get_cpuid_max(0, NULL) >= 7) __cpuid_count(7, 0, eax, ebx7, ecx7, edx);
  if (__get_cpuid_max(0x80000000, NULL) >= 0x80000001)
    __cpuid(0x80000001, eax, ebx, ecx_ext, edx);
  /* SSE3, SSSE3, CMPXCHG16B, SSE4.1, SSE4.2, POPCNT; LAHF/SAHF */
  int v2 = HAS(ecx1, BIT(0) | BIT(9) | BIT(13) | BIT(19) | BIT(20) | BIT(23)) &&
           HAS(ecx_ext, BIT(0));
  if (!v2) return 0;
  int32_t levels = 1 << EAGER_CPU_V2;
  /* FMA, MOVBE, OSXSAVE, AVX, F16C; BMI1, AVX2, BMI2; LZCNT */
  int v3 = HAS(ecx1, BIT(12) | BIT(22) | BIT(27) | BIT(28) | BIT(29)) &&
           HAS(ebx7, BIT(3) | BIT(5) | BIT(8)) && HAS(ecx_ext, BIT(5));
  if (!v3) return levels;
  uint64_t xcr = xcr0();
  if ((xcr & 0x6) != 0x6) return levels; /* the OS does not save YMM state */
  levels |= 1 << EAGER_CPU_V3;
  /* AVX512F, AVX512DQ, AVX512CD, AVX512BW, AVX512VL */
  if (HAS(ebx7, BIT(16) | BIT(17) | BIT(28) | BIT(30) | BIT(31)) && os_saves_avx512(xcr))
    levels |= 1 << EAGER_CPU_V4;
  return levels;
}
#else
static int32_t detect_levels(void) { return 1 << EAGER_CPU_NEON; } /* NEON is baseline */
#endif

__attribute__((constructor)) static void pick_level(void) {
  supported_levels = detect_levels();
  for (int32_t level = EAGER_CPU_COUNT - 1; level >= 0; level--)
    if (eager_set_cpu_level(level) == EAGER_OK) return;
  /* No level runs here: the loader refuses the library before any kernel is called. The
   * lowest table stays set so a stray call cannot follow a null pointer. */
  for (int32_t level = 0; level < EAGER_CPU_COUNT; level++)
    if (tables[level]) {
      eager_active_kernels = tables[level];
      return;
    }
}

EAGER_API int32_t eager_cpu_levels(void) { return supported_levels; }

EAGER_API int32_t eager_cpu_level(void) { return atomic_load(&active_level); }

EAGER_API int32_t eager_set_cpu_level(int32_t level) {
  if (level < 0 || level >= EAGER_CPU_COUNT || !tables[level] ||
      !(supported_levels & (1 << level)))
    return EAGER_ERR_ARGUMENT;
  eager_active_kernels = tables[level];
  atomic_store(&active_level, level);
  return EAGER_OK;
}
