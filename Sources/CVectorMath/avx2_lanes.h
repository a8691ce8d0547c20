// Private helpers shared by the AVX2 kernels of this target (not part of its public header).
#ifndef TESSERA_AVX2_LANES_H
#define TESSERA_AVX2_LANES_H
#include <immintrin.h>

// Compiles one function for AVX2 + FMA; call it only when the CPU has them.
#define TESSERA_AVX2 __attribute__((target("avx2,fma")))

// The sum of a vector's four lanes, in a fixed order: (l0 + l2) + (l1 + l3).
TESSERA_AVX2 static inline double tessera_sum4(__m256d a) {
    const __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(pair) + _mm_cvtsd_f64(_mm_unpackhi_pd(pair, pair));
}

#endif
