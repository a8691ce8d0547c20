#include "vector_math.h"

#include <stdint.h>
#include <string.h>

// A double is non-finite when its exponent bits are all ones (NaN or ±Inf).
static inline int non_finite(double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return (bits & 0x7ff0000000000000ULL) == 0x7ff0000000000000ULL;
}

// Blocks of 16 × 16: a block of the row-major source (16 rows of 128 bytes) and of the
// column-major destination both stay in L1 while they are transposed.
enum { BLOCK = 16 };

// One body per direction, instantiated for float64 and float32 sources (the conversion to double
// is exact).
#define TESSERA_ROWS_TO_COLUMNS(NAME, T)                                                          \
    int NAME(const T *src, size_t lds, size_t rows, size_t cols, double *dst, size_t ldd) {      \
        int bad = 0;                                                                            \
        for (size_t r0 = 0; r0 < rows; r0 += BLOCK) {                                           \
            const size_t r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;                            \
            for (size_t c0 = 0; c0 < cols; c0 += BLOCK) {                                       \
                const size_t c1 = c0 + BLOCK < cols ? c0 + BLOCK : cols;                        \
                for (size_t r = r0; r < r1; r++) {                                              \
                    const T *row = src + r * lds;                                               \
                    for (size_t c = c0; c < c1; c++) {                                          \
                        const double v = (double)row[c];                                        \
                        bad |= non_finite(v);                                                   \
                        dst[r + c * ldd] = v;                                                   \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
        return bad;                                                                             \
    }

#define TESSERA_COLUMNS_TO_COLUMNS(NAME, T)                                                       \
    int NAME(const T *src, size_t lds, size_t rows, size_t cols, double *dst, size_t ldd) {      \
        int bad = 0;                                                                            \
        for (size_t c = 0; c < cols; c++) {                                                     \
            const T *from = src + c * lds;                                                      \
            double *to = dst + c * ldd;                                                         \
            for (size_t r = 0; r < rows; r++) {                                                 \
                const double v = (double)from[r];                                               \
                bad |= non_finite(v);                                                           \
                to[r] = v;                                                                      \
            }                                                                                   \
        }                                                                                       \
        return bad;                                                                             \
    }

TESSERA_ROWS_TO_COLUMNS(tessera_rows_to_columns_f64, double)
TESSERA_ROWS_TO_COLUMNS(tessera_rows_to_columns_f32, float)
TESSERA_COLUMNS_TO_COLUMNS(tessera_columns_to_columns_f64, double)
TESSERA_COLUMNS_TO_COLUMNS(tessera_columns_to_columns_f32, float)

int tessera_any_nonfinite_f64(const double *a, size_t run, size_t runs, size_t stride) {
    int bad = 0;
    for (size_t k = 0; k < runs; k++) {
        const double *p = a + k * stride;
        for (size_t i = 0; i < run; i++) bad |= non_finite(p[i]);
        if (bad) return 1;
    }
    return 0;
}

int tessera_round_rows_to_single(const double *src, size_t lds, size_t rows, size_t cols, float *dst) {
    int bad = 0;
    for (size_t r = 0; r < rows; r++) {
        const double *row = src + r * lds;
        float *to = dst + r * cols;
        for (size_t c = 0; c < cols; c++) {
            bad |= non_finite(row[c]);
            to[c] = (float)row[c];
        }
    }
    return bad;
}

int tessera_round_columns_to_single_rows(const double *src, size_t lds, size_t rows, size_t cols, float *dst) {
    int bad = 0;
    // Strips of 64 rows: the strip's destination rows stay in cache while columns are read.
    for (size_t r0 = 0; r0 < rows; r0 += 64) {
        const size_t r1 = r0 + 64 < rows ? r0 + 64 : rows;
        for (size_t c = 0; c < cols; c++) {
            const double *from = src + c * lds;
            for (size_t r = r0; r < r1; r++) {
                bad |= non_finite(from[r]);
                dst[r * cols + c] = (float)from[r];
            }
        }
    }
    return bad;
}
