// C kernels for TesseraKernels: AVX2 + FMA ones (compiled for those features with a target
// attribute, so the package needs no special flags; call only when the CPU has them).
#ifndef TESSERA_VECTOR_MATH_H
#define TESSERA_VECTOR_MATH_H
#include <stddef.h>

/// y[i] = exp(x[i]) for i < n (x and y may be the same memory), 4 lanes at a time: the same
/// Cody–Waite reduction and degree-13 polynomial as the scalar Swift kernel. An input outside
/// [−708, 709] (or NaN) is computed by libm instead, lane by lane; the tail is padded to 4, so an
/// element's result never depends on its position.
void tessera_exp_avx2(const double *x, double *y, size_t n);

/// One pass over a column-major block K (rows × cols, leading dimension ldk) of a symmetric
/// matrix, for both of its uses in a symmetric product:
///   y_rows[r] += Σ_c K[r, c]·x_cols[c]   and, when `transposed_too`,   y_cols[c] += Σ_r K[r, c]·x_rows[r].
/// Each element of K is loaded once (the product is memory-bound). The summation order is fixed
/// by (rows, cols) alone. `_avx2` needs AVX2 + FMA; `_portable` is plain C.
void tessera_symmetric_block_gemv_avx2(const double *k, size_t ldk, size_t rows, size_t cols,
                                       const double *x_rows, const double *x_cols,
                                       double *y_rows, double *y_cols, int transposed_too);
void tessera_symmetric_block_gemv_portable(const double *k, size_t ldk, size_t rows, size_t cols,
                                           const double *x_rows, const double *x_cols,
                                           double *y_rows, double *y_cols, int transposed_too);

/// w = AᵀA·y for one column-major tile A (rows × cols, leading dimension lda), reading A from
/// memory once: the rows are taken in panels of `panel` rows small enough to stay in cache, and
/// for each panel t = A_p·y (into scratch t, ≥ panel doubles) then w += A_pᵀ·t. w (cols) is
/// overwritten. The summation order is fixed by (rows, cols, panel) alone.
void tessera_gram_gemv_avx2(const double *a, size_t lda, size_t rows, size_t cols, size_t panel,
                            const double *y, double *t, double *w);
void tessera_gram_gemv_portable(const double *a, size_t lda, size_t rows, size_t cols, size_t panel,
                                const double *y, double *t, double *w);

/// W = AᵀA·Y for a block Y (cols × m, column-major, ld = cols) with the same panels: each panel
/// is read from memory once and applied to the m columns while it is in cache (per column the
/// same operations, in the same order, as the one-vector kernel above). t: ≥ panel doubles;
/// W (cols × m) is overwritten.
void tessera_gram_gemm_avx2(const double *a, size_t lda, size_t rows, size_t cols, size_t panel,
                            size_t m, const double *y, double *t, double *w);
void tessera_gram_gemm_portable(const double *a, size_t lda, size_t rows, size_t cols, size_t panel,
                                size_t m, const double *y, double *t, double *w);

/// The same product for a row-major tile (row r at a + r·lda, lda ≥ cols), row by row: for each
/// row t_k = a_r·y_k, then w_k += t_k·a_r while the row is in L1, so A is read from memory once.
/// m ≤ TESSERA_GRAM_ROWS_MAX_COLUMNS; W (cols × m) is overwritten. The summation order is fixed
/// by (rows, cols) alone (it differs from the column-major kernel's).
#define TESSERA_GRAM_ROWS_MAX_COLUMNS 8
void tessera_gram_rows_gemm_avx2(const double *a, size_t lda, size_t rows, size_t cols,
                                 size_t m, const double *y, double *w);
void tessera_gram_rows_gemm_portable(const double *a, size_t lda, size_t rows, size_t cols,
                                     size_t m, const double *y, double *w);

/// For a row-major tile (row r at a + r·lda): z = Aᵀ(b − A·x) (cols) and *squares = ‖b − A·x‖²
/// (b: rows), each row read from memory once; the same dot products, in the same order, as the
/// kernel above. z is overwritten.
void tessera_residual_gradient_rows_avx2(const double *a, size_t lda, size_t rows, size_t cols,
                                         const double *x, const double *b, double *z, double *squares);
void tessera_residual_gradient_rows_portable(const double *a, size_t lda, size_t rows, size_t cols,
                                             const double *x, const double *b, double *z, double *squares);

/// Rounds columns 0..<cols of a rows × cols float64 block to float32, row-major and packed
/// (row r at dst + r·cols), and returns 1 when any value read is NaN or ±Inf, else 0 (the copy
/// is completed either way; values beyond float32's range round to ±Inf). `rows`: the source is
/// row-major (row r at src + r·lds); `columns`: column-major (column c at src + c·lds).
int tessera_round_rows_to_single(const double *src, size_t lds, size_t rows, size_t cols, float *dst);
int tessera_round_columns_to_single_rows(const double *src, size_t lds, size_t rows, size_t cols, float *dst);

/// Copies a rows × cols block of a matrix into a column-major float64 destination (leading
/// dimension ldd ≥ rows), converting float32 exactly, and returns 1 when any value copied is NaN
/// or ±Inf, else 0 (the copy is completed either way). `rows_to_columns`: the source is
/// row-major with leading dimension lds ≥ cols (a C-order array), copied in 16 × 16 blocks so
/// that both sides stay in cache; `columns_to_columns`: column-major, lds ≥ rows (Fortran order).
int tessera_rows_to_columns_f64(const double *src, size_t lds, size_t rows, size_t cols, double *dst, size_t ldd);
int tessera_rows_to_columns_f32(const float *src, size_t lds, size_t rows, size_t cols, double *dst, size_t ldd);
int tessera_columns_to_columns_f64(const double *src, size_t lds, size_t rows, size_t cols, double *dst, size_t ldd);
int tessera_columns_to_columns_f32(const float *src, size_t lds, size_t rows, size_t cols, double *dst, size_t ldd);

/// 1 when any of `runs` runs of `run` contiguous doubles, run k starting at a + k·stride, holds
/// a NaN or ±Inf, else 0 (stops at the first run that does). A column-major block is `cols` runs
/// of `rows`; a row-major one `rows` runs of `cols`.
int tessera_any_nonfinite_f64(const double *a, size_t run, size_t runs, size_t stride);

/// y[i] = e^x[i] in float32 for i < n: Cody–Waite reduction with a two-part ln 2, a degree-7
/// polynomial, 2^k from its bits; the input is clamped to [−87, 88] (results stay normal). The
/// vector lanes and the scalar tail do the same operations, so an element's result depends on its
/// value only. Error within a few float32 ulps of e^x (tested against libm).
void tessera_expf_avx2(const float *x, float *y, size_t n);
void tessera_expf_portable(const float *x, float *y, size_t n);
/// The same on sixteen lanes (AVX-512F; call only when the CPU has it): the same bits.
void tessera_expf_avx512(const float *x, float *y, size_t n);

/// The attention kernel's product from one float32 panel of arguments S (rows × cols,
/// column-major, leading dimension lds), whose entries become e = float64(expf(S[r, c])) in
/// registers, never stored:
///   y_rows[r] += Σ_c e[r, c]·x_cols[c]   and, when `transposed_too`,   y_cols[c] += Σ_r e[r, c]·x_rows[r],
/// accumulated in float64. The summation order is fixed by (rows, cols) alone.
void tessera_exp_panel_product_avx2(const float *s, size_t lds, size_t rows, size_t cols,
                                    const double *x_rows, const double *x_cols,
                                    double *y_rows, double *y_cols, int transposed_too);
void tessera_exp_panel_product_portable(const float *s, size_t lds, size_t rows, size_t cols,
                                        const double *x_rows, const double *x_cols,
                                        double *y_rows, double *y_cols, int transposed_too);
/// The same with sixteen float32 lanes (AVX-512F; call only when the CPU has it): the same exps,
/// float64 sums in another fixed order.
void tessera_exp_panel_product_avx512(const float *s, size_t lds, size_t rows, size_t cols,
                                      const double *x_rows, const double *x_cols,
                                      double *y_rows, double *y_cols, int transposed_too);

#endif
