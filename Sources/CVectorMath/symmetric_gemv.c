#include "vector_math.h"

#include "avx2_lanes.h"

// Four columns at a time: one load and one store of y_rows and one load of x_rows serve four
// columns of K, which keeps the loop limited by K's stream from memory.
TESSERA_AVX2 void tessera_symmetric_block_gemv_avx2(const double *k, size_t ldk, size_t rows, size_t cols,
                                                    const double *x_rows, const double *x_cols,
                                                    double *y_rows, double *y_cols, int transposed_too) {
    const size_t body = rows & ~(size_t)3;
    size_t c = 0;
    for (; c + 4 <= cols; c += 4) {
        const double *k0 = k + c * ldk, *k1 = k0 + ldk, *k2 = k1 + ldk, *k3 = k2 + ldk;
        const __m256d x0 = _mm256_set1_pd(x_cols[c]), x1 = _mm256_set1_pd(x_cols[c + 1]);
        const __m256d x2 = _mm256_set1_pd(x_cols[c + 2]), x3 = _mm256_set1_pd(x_cols[c + 3]);
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        size_t r = 0;
        for (; r < body; r += 4) {
            const __m256d xr = _mm256_loadu_pd(x_rows + r);
            const __m256d v0 = _mm256_loadu_pd(k0 + r), v1 = _mm256_loadu_pd(k1 + r);
            const __m256d v2 = _mm256_loadu_pd(k2 + r), v3 = _mm256_loadu_pd(k3 + r);
            const __m256d t0 = _mm256_fmadd_pd(v1, x1, _mm256_mul_pd(v0, x0));
            const __m256d t1 = _mm256_fmadd_pd(v3, x3, _mm256_mul_pd(v2, x2));
            _mm256_storeu_pd(y_rows + r, _mm256_add_pd(_mm256_loadu_pd(y_rows + r), _mm256_add_pd(t0, t1)));
            a0 = _mm256_fmadd_pd(v0, xr, a0);
            a1 = _mm256_fmadd_pd(v1, xr, a1);
            a2 = _mm256_fmadd_pd(v2, xr, a2);
            a3 = _mm256_fmadd_pd(v3, xr, a3);
        }
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (; r < rows; r++) {
            y_rows[r] += (k0[r] * x_cols[c] + k1[r] * x_cols[c + 1]) + (k2[r] * x_cols[c + 2] + k3[r] * x_cols[c + 3]);
            s0 += k0[r] * x_rows[r];
            s1 += k1[r] * x_rows[r];
            s2 += k2[r] * x_rows[r];
            s3 += k3[r] * x_rows[r];
        }
        if (transposed_too) {
            y_cols[c] += tessera_sum4(a0) + s0;
            y_cols[c + 1] += tessera_sum4(a1) + s1;
            y_cols[c + 2] += tessera_sum4(a2) + s2;
            y_cols[c + 3] += tessera_sum4(a3) + s3;
        }
    }
    for (; c < cols; c++) {
        const double *col = k + c * ldk;
        double acc = 0;
        for (size_t r = 0; r < rows; r++) {
            y_rows[r] += col[r] * x_cols[c];
            acc += col[r] * x_rows[r];
        }
        if (transposed_too) y_cols[c] += acc;
    }
}

void tessera_symmetric_block_gemv_portable(const double *k, size_t ldk, size_t rows, size_t cols,
                                           const double *x_rows, const double *x_cols,
                                           double *y_rows, double *y_cols, int transposed_too) {
    for (size_t c = 0; c < cols; c++) {
        const double *col = k + c * ldk;
        const double xc = x_cols[c];
        double acc = 0;
        for (size_t r = 0; r < rows; r++) {
            y_rows[r] += col[r] * xc;
            acc += col[r] * x_rows[r];
        }
        if (transposed_too) y_cols[c] += acc;
    }
}
