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
// in L1, so each row is read from memory once. Rows go four at a time: their four dot products
// are independent chains (one chain alone waits on the FMA latency) and w_k is loaded and stored
// once per four rows, with the four updates applied in row order — the same operations, so the
// same bits, as one row at a time. Grouping pays from 512 columns or 4 right-hand sides on (a
// 2-core AVX-512 EPYC: 1.05–1.4× at one column, 1.5–2× at 2–8; with fewer columns and one or
// two right-hand sides it ran at 0.4–0.9×), so narrower products keep single rows.
TESSERA_AVX2 static inline double row_dot(const double *row, const double *y, size_t cols, size_t body) {
    __m256d acc = _mm256_setzero_pd();
    size_t c = 0;
    for (; c < body; c += 4) acc = _mm256_fmadd_pd(_mm256_loadu_pd(row + c), _mm256_loadu_pd(y + c), acc);
    double tail = 0;
    for (; c < cols; c++) tail += row[c] * y[c];
    return tessera_sum4(acc) + tail;
}

TESSERA_AVX2 static inline void four_row_dots(const double *r0, size_t lda, const double *y, size_t cols, size_t body, double t[4]) {
    const double *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    size_t c = 0;
    for (; c < body; c += 4) {
        const __m256d yc = _mm256_loadu_pd(y + c);
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(r0 + c), yc, s0);
        s1 = _mm256_fmadd_pd(_mm256_loadu_pd(r1 + c), yc, s1);
        s2 = _mm256_fmadd_pd(_mm256_loadu_pd(r2 + c), yc, s2);
        s3 = _mm256_fmadd_pd(_mm256_loadu_pd(r3 + c), yc, s3);
    }
    double e0 = 0, e1 = 0, e2 = 0, e3 = 0;
    for (; c < cols; c++) {
        e0 += r0[c] * y[c];
        e1 += r1[c] * y[c];
        e2 += r2[c] * y[c];
        e3 += r3[c] * y[c];
    }
    t[0] = tessera_sum4(s0) + e0;
    t[1] = tessera_sum4(s1) + e1;
    t[2] = tessera_sum4(s2) + e2;
    t[3] = tessera_sum4(s3) + e3;
}

// w += t0·r0 + t1·r1 + t2·r2 + t3·r3, applied in row order (one load and store of w per four rows).
TESSERA_AVX2 static inline void add_four_rows(double *w, const double t[4], const double *r0, size_t lda, size_t cols, size_t body) {
    const double *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;
    const __m256d t0 = _mm256_set1_pd(t[0]), t1 = _mm256_set1_pd(t[1]);
    const __m256d t2 = _mm256_set1_pd(t[2]), t3 = _mm256_set1_pd(t[3]);
    size_t c = 0;
    for (; c < body; c += 4) {
        __m256d acc = _mm256_loadu_pd(w + c);
        acc = _mm256_fmadd_pd(t0, _mm256_loadu_pd(r0 + c), acc);
        acc = _mm256_fmadd_pd(t1, _mm256_loadu_pd(r1 + c), acc);
        acc = _mm256_fmadd_pd(t2, _mm256_loadu_pd(r2 + c), acc);
        acc = _mm256_fmadd_pd(t3, _mm256_loadu_pd(r3 + c), acc);
        _mm256_storeu_pd(w + c, acc);
    }
    for (; c < cols; c++) {
        w[c] += t[0] * r0[c];
        w[c] += t[1] * r1[c];
        w[c] += t[2] * r2[c];
        w[c] += t[3] * r3[c];
    }
}

TESSERA_AVX2 void tessera_gram_rows_gemm_avx2(const double *a, size_t lda, size_t rows, size_t cols,
                                              size_t m, const double *y, double *w) {
    double t[TESSERA_GRAM_ROWS_MAX_COLUMNS][4];
    const size_t body = cols & ~(size_t)3;
    memset(w, 0, cols * m * sizeof(double));
    const size_t grouped = cols >= 512 || m >= 4 ? rows & ~(size_t)3 : 0;
    size_t r = 0;
    for (; r < grouped; r += 4) {
        const double *r0 = a + r * lda;
        for (size_t k = 0; k < m; k++) four_row_dots(r0, lda, y + k * cols, cols, body, t[k]);
        for (size_t k = 0; k < m; k++) add_four_rows(w + k * cols, t[k], r0, lda, cols, body);
    }
    for (; r < rows; r++) {
        const double *row = a + r * lda;
        for (size_t k = 0; k < m; k++) t[k][0] = row_dot(row, y + k * cols, cols, body);
        for (size_t k = 0; k < m; k++) {
            double *wk = w + k * cols;
            const __m256d tk = _mm256_set1_pd(t[k][0]);
            size_t c = 0;
            for (; c < body; c += 4) _mm256_storeu_pd(wk + c, _mm256_fmadd_pd(tk, _mm256_loadu_pd(row + c), _mm256_loadu_pd(wk + c)));
            for (; c < cols; c++) wk[c] += t[k][0] * row[c];
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

// Row-major tiles: z = Aᵀ(b − A·x) and *squares = Σ_r (b_r − a_r·x)², row by row (t_r = b_r −
// a_r·x, then z += t_r·a_r while the row is in L1; four rows at a time from 512 columns, as
// above): the least-squares gradient and residual norm in one read of A.
TESSERA_AVX2 void tessera_residual_gradient_rows_avx2(const double *a, size_t lda, size_t rows, size_t cols,
                                                      const double *x, const double *b, double *z, double *squares) {
    const size_t body = cols & ~(size_t)3;
    const size_t grouped = cols >= 512 ? rows & ~(size_t)3 : 0;
    double sum = 0;
    memset(z, 0, cols * sizeof(double));
    size_t r = 0;
    for (; r < grouped; r += 4) {
        const double *r0 = a + r * lda;
        double t[4];
        four_row_dots(r0, lda, x, cols, body, t);
        for (size_t i = 0; i < 4; i++) {
            t[i] = b[r + i] - t[i];
            sum += t[i] * t[i];
        }
        add_four_rows(z, t, r0, lda, cols, body);
    }
    for (; r < rows; r++) {
        const double *row = a + r * lda;
        const double t = b[r] - row_dot(row, x, cols, body);
        sum += t * t;
        const __m256d tv = _mm256_set1_pd(t);
        size_t c = 0;
        for (; c < body; c += 4) _mm256_storeu_pd(z + c, _mm256_fmadd_pd(tv, _mm256_loadu_pd(row + c), _mm256_loadu_pd(z + c)));
        for (; c < cols; c++) z[c] += t * row[c];
    }
    *squares = sum;
}

void tessera_residual_gradient_rows_portable(const double *a, size_t lda, size_t rows, size_t cols,
                                             const double *x, const double *b, double *z, double *squares) {
    double sum = 0;
    memset(z, 0, cols * sizeof(double));
    for (size_t r = 0; r < rows; r++) {
        const double *row = a + r * lda;
        double dot = 0;
        for (size_t c = 0; c < cols; c++) dot += row[c] * x[c];
        const double t = b[r] - dot;
        sum += t * t;
        for (size_t c = 0; c < cols; c++) z[c] += t * row[c];
    }
    *squares = sum;
}
