#include "vector_math.h"

#include "avx2_lanes.h"
#include <math.h>
#include <string.h>

// float32 exp: k = round(x·log2 e), r = (x − k·ln2_hi) − k·ln2_lo (ln2_hi has 9 significant bits,
// so k·ln2_hi is exact for |k| ≤ 128), |r| ≤ ½ln 2; e^r by its degree-7 Taylor polynomial
// (truncation ≤ 0.347⁸/8! < 6e-9 relative, a tenth of float32's unit roundoff) in Horner form with FMA;
// 2^k from its bits. The input is clamped to [−87, 88] first, where 2^k is a normal float.
static const float f32_log2e = 1.44269504f;
static const float f32_ln2_hi = 0.693359375f;
static const float f32_ln2_lo = -2.12194440e-4f;
static const float f32_clamp_low = -87.0f;
static const float f32_clamp_high = 88.0f;

static const float f32_poly[7] = {1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f};

TESSERA_AVX2 static inline __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(f32_clamp_low)), _mm256_set1_ps(f32_clamp_high));
    const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(f32_log2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(f32_ln2_hi), x);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(f32_ln2_lo), r);
    __m256 p = _mm256_set1_ps(f32_poly[0]);
    for (int i = 1; i < 7; i++) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(f32_poly[i]));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

// The same operations one value at a time (fmaf is a fused multiply-add, as the vector lanes').
static inline float exp1(float x) {
    x = fminf(fmaxf(x, f32_clamp_low), f32_clamp_high);
    const float k = nearbyintf(x * f32_log2e);
    float r = fmaf(-k, f32_ln2_hi, x);
    r = fmaf(-k, f32_ln2_lo, r);
    float p = f32_poly[0];
    for (int i = 1; i < 7; i++) p = fmaf(p, r, f32_poly[i]);
    p = fmaf(p, r, 1.0f);
    union { unsigned int u; float f; } scale = {.u = (unsigned int)((int)k + 127) << 23};
    return p * scale.f;
}

// The scalar pieces every variant shares (always inlined, so each compiles with its caller's
// instruction set, as the loops they replace did): one column at a time from column `first`, and
// the rows body..rows of a group of four columns (its Σ_r e·x_rows partial sums into t).
__attribute__((always_inline)) static inline void scalar_columns(const float *s, size_t lds, size_t rows, size_t first, size_t cols,
                                                                 const double *x_rows, const double *x_cols,
                                                                 double *y_rows, double *y_cols, int transposed_too) {
    for (size_t c = first; c < cols; c++) {
        const float *col = s + c * lds;
        double acc = 0;
        for (size_t r = 0; r < rows; r++) {
            const double e = (double)exp1(col[r]);
            y_rows[r] += e * x_cols[c];
            acc += e * x_rows[r];
        }
        if (transposed_too) y_cols[c] += acc;
    }
}

__attribute__((always_inline)) static inline void scalar_row_tail(const float *s0, size_t lds, size_t body, size_t rows,
                                                                  const double *x_rows, const double *x4,
                                                                  double *y_rows, double t[4]) {
    const float *s1 = s0 + lds, *s2 = s1 + lds, *s3 = s2 + lds;
    t[0] = t[1] = t[2] = t[3] = 0;
    for (size_t r = body; r < rows; r++) {
        const double e0 = exp1(s0[r]), e1 = exp1(s1[r]), e2 = exp1(s2[r]), e3 = exp1(s3[r]);
        y_rows[r] += (e0 * x4[0] + e1 * x4[1]) + (e2 * x4[2] + e3 * x4[3]);
        t[0] += e0 * x_rows[r];
        t[1] += e1 * x_rows[r];
        t[2] += e2 * x_rows[r];
        t[3] += e3 * x_rows[r];
    }
}

TESSERA_AVX2 void tessera_expf_avx2(const float *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, exp8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        float in[8] = {0}, out[8];
        memcpy(in, x + i, (n - i) * sizeof(float));
        _mm256_storeu_ps(out, exp8(_mm256_loadu_ps(in)));
        memcpy(y + i, out, (n - i) * sizeof(float));
    }
}

void tessera_expf_portable(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = exp1(x[i]);
}

// Eight rows of one column: e = exp(s[r..r+8]) widened to two float64 vectors.
TESSERA_AVX2 static inline void widened_exp8(const float *s, __m256d *lo, __m256d *hi) {
    const __m256 e = exp8(_mm256_loadu_ps(s));
    *lo = _mm256_cvtps_pd(_mm256_castps256_ps128(e));
    *hi = _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1));
}

// Four columns at a time, rows in groups of eight: each group's y_rows and x_rows are loaded once
// for four columns; a column's Σ_r e·x_rows runs in one float64 accumulator per column. Rows past
// the last group of eight go one at a time through the scalar exp (the same value as a lane's).
TESSERA_AVX2 void tessera_exp_panel_product_avx2(const float *s, size_t lds, size_t rows, size_t cols,
                                                 const double *x_rows, const double *x_cols,
                                                 double *y_rows, double *y_cols, int transposed_too) {
    const size_t body = rows & ~(size_t)7;
    size_t c = 0;
    for (; c + 4 <= cols; c += 4) {
        const float *s0 = s + c * lds, *s1 = s0 + lds, *s2 = s1 + lds, *s3 = s2 + lds;
        const double c0 = x_cols[c], c1 = x_cols[c + 1], c2 = x_cols[c + 2], c3 = x_cols[c + 3];
        const __m256d x0 = _mm256_set1_pd(c0), x1 = _mm256_set1_pd(c1), x2 = _mm256_set1_pd(c2), x3 = _mm256_set1_pd(c3);
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t r = 0; r < body; r += 8) {
            const __m256d xlo = _mm256_loadu_pd(x_rows + r), xhi = _mm256_loadu_pd(x_rows + r + 4);
            __m256d e0l, e0h, e1l, e1h, e2l, e2h, e3l, e3h;
            widened_exp8(s0 + r, &e0l, &e0h);
            widened_exp8(s1 + r, &e1l, &e1h);
            widened_exp8(s2 + r, &e2l, &e2h);
            widened_exp8(s3 + r, &e3l, &e3h);
            const __m256d tlo = _mm256_add_pd(_mm256_fmadd_pd(e1l, x1, _mm256_mul_pd(e0l, x0)),
                                              _mm256_fmadd_pd(e3l, x3, _mm256_mul_pd(e2l, x2)));
            const __m256d thi = _mm256_add_pd(_mm256_fmadd_pd(e1h, x1, _mm256_mul_pd(e0h, x0)),
                                              _mm256_fmadd_pd(e3h, x3, _mm256_mul_pd(e2h, x2)));
            _mm256_storeu_pd(y_rows + r, _mm256_add_pd(_mm256_loadu_pd(y_rows + r), tlo));
            _mm256_storeu_pd(y_rows + r + 4, _mm256_add_pd(_mm256_loadu_pd(y_rows + r + 4), thi));
            a0 = _mm256_fmadd_pd(e0h, xhi, _mm256_fmadd_pd(e0l, xlo, a0));
            a1 = _mm256_fmadd_pd(e1h, xhi, _mm256_fmadd_pd(e1l, xlo, a1));
            a2 = _mm256_fmadd_pd(e2h, xhi, _mm256_fmadd_pd(e2l, xlo, a2));
            a3 = _mm256_fmadd_pd(e3h, xhi, _mm256_fmadd_pd(e3l, xlo, a3));
        }
        double t[4];
        scalar_row_tail(s0, lds, body, rows, x_rows, x_cols + c, y_rows, t);
        if (transposed_too) {
            y_cols[c] += tessera_sum4(a0) + t[0];
            y_cols[c + 1] += tessera_sum4(a1) + t[1];
            y_cols[c + 2] += tessera_sum4(a2) + t[2];
            y_cols[c + 3] += tessera_sum4(a3) + t[3];
        }
    }
    scalar_columns(s, lds, rows, c, cols, x_rows, x_cols, y_rows, y_cols, transposed_too);
}

// AVX-512: the same exp on sixteen lanes, the same widening, columns four at a time over groups
// of sixteen rows; the scalar tail as above. Lane results equal exp8's and exp1's bit for bit
// (the same operations); only the order of the float64 sums differs from the AVX2 kernel's.
#define TESSERA_AVX512 __attribute__((target("avx512f,avx2,fma")))

TESSERA_AVX512 static inline __m512 exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(f32_clamp_low)), _mm512_set1_ps(f32_clamp_high));
    const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(f32_log2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(f32_ln2_hi), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(f32_ln2_lo), r);
    __m512 p = _mm512_set1_ps(f32_poly[0]);
    for (int i = 1; i < 7; i++) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(f32_poly[i]));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

TESSERA_AVX512 static inline void widened_exp16(const float *s, __m512d *lo, __m512d *hi) {
    const __m512 e = exp16(_mm512_loadu_ps(s));
    *lo = _mm512_cvtps_pd(_mm512_castps512_ps256(e));
    *hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1)));
}

// The eight lanes' sum in a fixed order: the two halves added, then tessera_sum4.
TESSERA_AVX512 static inline double sum8(__m512d a) {
    return tessera_sum4(_mm256_add_pd(_mm512_castpd512_pd256(a), _mm512_extractf64x4_pd(a, 1)));
}

TESSERA_AVX512 void tessera_exp_panel_product_avx512(const float *s, size_t lds, size_t rows, size_t cols,
                                                     const double *x_rows, const double *x_cols,
                                                     double *y_rows, double *y_cols, int transposed_too) {
    const size_t body = rows & ~(size_t)15;
    size_t c = 0;
    for (; c + 4 <= cols; c += 4) {
        const float *s0 = s + c * lds, *s1 = s0 + lds, *s2 = s1 + lds, *s3 = s2 + lds;
        const double c0 = x_cols[c], c1 = x_cols[c + 1], c2 = x_cols[c + 2], c3 = x_cols[c + 3];
        const __m512d x0 = _mm512_set1_pd(c0), x1 = _mm512_set1_pd(c1), x2 = _mm512_set1_pd(c2), x3 = _mm512_set1_pd(c3);
        __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t r = 0; r < body; r += 16) {
            const __m512d xlo = _mm512_loadu_pd(x_rows + r), xhi = _mm512_loadu_pd(x_rows + r + 8);
            __m512d e0l, e0h, e1l, e1h, e2l, e2h, e3l, e3h;
            widened_exp16(s0 + r, &e0l, &e0h);
            widened_exp16(s1 + r, &e1l, &e1h);
            widened_exp16(s2 + r, &e2l, &e2h);
            widened_exp16(s3 + r, &e3l, &e3h);
            const __m512d tlo = _mm512_add_pd(_mm512_fmadd_pd(e1l, x1, _mm512_mul_pd(e0l, x0)),
                                              _mm512_fmadd_pd(e3l, x3, _mm512_mul_pd(e2l, x2)));
            const __m512d thi = _mm512_add_pd(_mm512_fmadd_pd(e1h, x1, _mm512_mul_pd(e0h, x0)),
                                              _mm512_fmadd_pd(e3h, x3, _mm512_mul_pd(e2h, x2)));
            _mm512_storeu_pd(y_rows + r, _mm512_add_pd(_mm512_loadu_pd(y_rows + r), tlo));
            _mm512_storeu_pd(y_rows + r + 8, _mm512_add_pd(_mm512_loadu_pd(y_rows + r + 8), thi));
            a0 = _mm512_fmadd_pd(e0h, xhi, _mm512_fmadd_pd(e0l, xlo, a0));
            a1 = _mm512_fmadd_pd(e1h, xhi, _mm512_fmadd_pd(e1l, xlo, a1));
            a2 = _mm512_fmadd_pd(e2h, xhi, _mm512_fmadd_pd(e2l, xlo, a2));
            a3 = _mm512_fmadd_pd(e3h, xhi, _mm512_fmadd_pd(e3l, xlo, a3));
        }
        double t[4];
        scalar_row_tail(s0, lds, body, rows, x_rows, x_cols + c, y_rows, t);
        if (transposed_too) {
            y_cols[c] += sum8(a0) + t[0];
            y_cols[c + 1] += sum8(a1) + t[1];
            y_cols[c + 2] += sum8(a2) + t[2];
            y_cols[c + 3] += sum8(a3) + t[3];
        }
    }
    scalar_columns(s, lds, rows, c, cols, x_rows, x_cols, y_rows, y_cols, transposed_too);
}

TESSERA_AVX512 void tessera_expf_avx512(const float *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, exp16(_mm512_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = exp1(x[i]);
}

void tessera_exp_panel_product_portable(const float *s, size_t lds, size_t rows, size_t cols,
                                        const double *x_rows, const double *x_cols,
                                        double *y_rows, double *y_cols, int transposed_too) {
    scalar_columns(s, lds, rows, 0, cols, x_rows, x_cols, y_rows, y_cols, transposed_too);
}
