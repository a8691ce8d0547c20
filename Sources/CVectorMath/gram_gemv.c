#include "vector_math.h"

#include "avx2_lanes.h"
#include <string.h>

// t[0..p) = A_p·y for the p-row panel starting at a (four columns per sweep of t).
TESSERA_AVX2 static void panel_times(const double *a, size_t lda, size_t p, size_t cols, const double *y, double *t) {
    const size_t body = p & ~(size_t)3;
    memset(t, 0, p * sizeof(double));
    size_t c = 0;
    for (; c + 4 <= cols; c += 4) {
        const double *a0 = a + c * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        const __m256d y0 = _mm256_set1_pd(y[c]), y1 = _mm256_set1_pd(y[c + 1]);
        const __m256d y2 = _mm256_set1_pd(y[c + 2]), y3 = _mm256_set1_pd(y[c + 3]);
        size_t r = 0;
        for (; r < body; r += 4) {
            const __m256d s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a1 + r), y1, _mm256_mul_pd(_mm256_loadu_pd(a0 + r), y0));
            const __m256d s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a3 + r), y3, _mm256_mul_pd(_mm256_loadu_pd(a2 + r), y2));
            _mm256_storeu_pd(t + r, _mm256_add_pd(_mm256_loadu_pd(t + r), _mm256_add_pd(s0, s1)));
        }
        for (; r < p; r++) t[r] += (a0[r] * y[c] + a1[r] * y[c + 1]) + (a2[r] * y[c + 2] + a3[r] * y[c + 3]);
    }
    for (; c < cols; c++) {
        const double *col = a + c * lda;
        for (size_t r = 0; r < p; r++) t[r] += col[r] * y[c];
    }
}

// w[c] += Σ_r A_p[r, c]·t[r] (four columns per sweep of t, the panel read from cache).
TESSERA_AVX2 static void panel_transposed_times(const double *a, size_t lda, size_t p, size_t cols, const double *t, double *w) {
    const size_t body = p & ~(size_t)3;
    size_t c = 0;
    for (; c + 4 <= cols; c += 4) {
        const double *a0 = a + c * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
        size_t r = 0;
        for (; r < body; r += 4) {
            const __m256d tr = _mm256_loadu_pd(t + r);
            s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a0 + r), tr, s0);
            s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a1 + r), tr, s1);
            s2 = _mm256_fmadd_pd(_mm256_loadu_pd(a2 + r), tr, s2);
            s3 = _mm256_fmadd_pd(_mm256_loadu_pd(a3 + r), tr, s3);
        }
        double e0 = 0, e1 = 0, e2 = 0, e3 = 0;
        for (; r < p; r++) {
            e0 += a0[r] * t[r];
            e1 += a1[r] * t[r];
            e2 += a2[r] * t[r];
            e3 += a3[r] * t[r];
        }
        w[c] += tessera_sum4(s0) + e0;
        w[c + 1] += tessera_sum4(s1) + e1;
        w[c + 2] += tessera_sum4(s2) + e2;
        w[c + 3] += tessera_sum4(s3) + e3;
    }
    for (; c < cols; c++) {
        const double *col = a + c * lda;
        double acc = 0;
        for (size_t r = 0; r < p; r++) acc += col[r] * t[r];
        w[c] += acc;
    }
}

TESSERA_AVX2 void tessera_gram_gemm_avx2(const double *a, size_t lda, size_t rows, size_t cols, size_t panel,
                                         size_t m, const double *y, double *t, double *w) {
    memset(w, 0, cols * m * sizeof(double));
    for (size_t r0 = 0; r0 < rows; r0 += panel) {
        const size_t p = rows - r0 < panel ? rows - r0 : panel;
        for (size_t k = 0; k < m; k++) {
            panel_times(a + r0, lda, p, cols, y + k * cols, t);
            panel_transposed_times(a + r0, lda, p, cols, t, w + k * cols);
        }
    }
}

TESSERA_AVX2 void tessera_gram_gemv_avx2(const double *a, size_t lda, size_t rows, size_t cols, size_t panel,
                                         const double *y, double *t, double *w) {
    tessera_gram_gemm_avx2(a, lda, rows, cols, panel, 1, y, t, w);
}

void tessera_gram_gemm_portable(const double *a, size_t lda, size_t rows, size_t cols, size_t panel,
                                size_t m, const double *y, double *t, double *w) {
    memset(w, 0, cols * m * sizeof(double));
    for (size_t r0 = 0; r0 < rows; r0 += panel) {
        const size_t p = rows - r0 < panel ? rows - r0 : panel;
        for (size_t k = 0; k < m; k++) {
            const double *yk = y + k * cols;
            double *wk = w + k * cols;
            memset(t, 0, p * sizeof(double));
            for (size_t c = 0; c < cols; c++) {
                const double *col = a + r0 + c * lda;
                for (size_t r = 0; r < p; r++) t[r] += col[r] * yk[c];
            }
            for (size_t c = 0; c < cols; c++) {
                const double *col = a + r0 + c * lda;
                double acc = 0;
                for (size_t r = 0; r < p; r++) acc += col[r] * t[r];
                wk[c] += acc;
            }
        }
    }
}

void tessera_gram_gemv_portable(const double *a, size_t lda, size_t rows, size_t cols, size_t panel,
                                const double *y, double *t, double *w) {
    tessera_gram_gemm_portable(a, lda, rows, cols, panel, 1, y, t, w);
}

// Row-major tiles (a C-order array, row r at a + r·lda): W = AᵀA·Y row by row. For each row,
// t_k = a_r·y_k (four lanes, summed in a fixed order), then w_k += t_k·a_r while the row is still
// in L1, so each row is read from memory once.
TESSERA_AVX2 void tessera_gram_rows_gemm_avx2(const double *a, size_t lda, size_t rows, size_t cols,
                                              size_t m, const double *y, double *w) {
    double t[TESSERA_GRAM_ROWS_MAX_COLUMNS];
    const size_t body = cols & ~(size_t)3;
    memset(w, 0, cols * m * sizeof(double));
    for (size_t r = 0; r < rows; r++) {
        const double *row = a + r * lda;
        for (size_t k = 0; k < m; k++) {
            const double *yk = y + k * cols;
            __m256d acc = _mm256_setzero_pd();
            size_t c = 0;
            for (; c < body; c += 4) acc = _mm256_fmadd_pd(_mm256_loadu_pd(row + c), _mm256_loadu_pd(yk + c), acc);
            double tail = 0;
            for (; c < cols; c++) tail += row[c] * yk[c];
            t[k] = tessera_sum4(acc) + tail;
        }
        for (size_t k = 0; k < m; k++) {
            double *wk = w + k * cols;
            const __m256d tk = _mm256_set1_pd(t[k]);
            size_t c = 0;
            for (; c < body; c += 4) _mm256_storeu_pd(wk + c, _mm256_fmadd_pd(tk, _mm256_loadu_pd(row + c), _mm256_loadu_pd(wk + c)));
            for (; c < cols; c++) wk[c] += t[k] * row[c];
        }
    }
}

void tessera_gram_rows_gemm_portable(const double *a, size_t lda, size_t rows, size_t cols,
                                     size_t m, const double *y, double *w) {
    double t[TESSERA_GRAM_ROWS_MAX_COLUMNS];
    memset(w, 0, cols * m * sizeof(double));
    for (size_t r = 0; r < rows; r++) {
        const double *row = a + r * lda;
        for (size_t k = 0; k < m; k++) {
            const double *yk = y + k * cols;
            double acc = 0;
            for (size_t c = 0; c < cols; c++) acc += row[c] * yk[c];
            t[k] = acc;
        }
        for (size_t k = 0; k < m; k++) {
            double *wk = w + k * cols;
            for (size_t c = 0; c < cols; c++) wk[c] += t[k] * row[c];
        }
    }
}
