#include "vector_math.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define TESSERA_AVX2 __attribute__((target("avx2,fma")))

static const double inverse_ln2 = 1.4426950408889634;
static const double ln2_hi = 0.693147180369123816490;
static const double ln2_lo = 1.90821492927058770002e-10;

TESSERA_AVX2 static inline __m256d exp4(__m256d x) {
    const __m256d k = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(inverse_ln2)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(ln2_hi), x);
    r = _mm256_fnmadd_pd(k, _mm256_set1_pd(ln2_lo), r);
    __m256d p = _mm256_set1_pd(1.0 / 6227020800.0);
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 479001600.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 39916800.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 3628800.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 362880.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 40320.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 5040.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 720.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 120.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 24.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 6.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(0.5));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
    // 2^k from its bits: k + 1.5·2^52 holds k in its low mantissa bits (|k| ≤ 1022 here).
    const __m256d magic = _mm256_set1_pd(6755399441055744.0);
    const __m256i ki = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(k, magic)), _mm256_castpd_si256(magic));
    const __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(ki, _mm256_set1_epi64x(1023)), 52);
    return _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
}

TESSERA_AVX2 static inline void exp_group(const double *in, double *out) {
    const __m256d v = _mm256_loadu_pd(in);
    const __m256d inside = _mm256_and_pd(_mm256_cmp_pd(v, _mm256_set1_pd(-708.0), _CMP_GE_OQ),
                                         _mm256_cmp_pd(v, _mm256_set1_pd(709.0), _CMP_LE_OQ));
    const int mask = _mm256_movemask_pd(inside);
    if (mask == 0xF) {
        _mm256_storeu_pd(out, exp4(v));
    } else {
        // Lane by lane: the polynomial where the input is in range, libm elsewhere, so that an
        // element's result depends on its own value only, never on its neighbours.
        double lanes[4], fast[4];
        memcpy(lanes, in, sizeof lanes);
        _mm256_storeu_pd(fast, exp4(v));
        for (int i = 0; i < 4; i++) out[i] = (mask >> i) & 1 ? fast[i] : exp(lanes[i]);
    }
}

TESSERA_AVX2 void tessera_exp_avx2(const double *x, double *y, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) exp_group(x + i, y + i);
    if (i < n) {
        double in[4] = {0, 0, 0, 0}, out[4];
        memcpy(in, x + i, (n - i) * sizeof(double));
        exp_group(in, out);
        memcpy(y + i, out, (n - i) * sizeof(double));
    }
}
