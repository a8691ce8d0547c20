/*
 * tessera.h — the C interface of libtessera (the `TesseraC` library product).
 *
 * Tessera solves regression problems against proxies of the attention matrix, for a tall
 * A ∈ ℝ^{n×d} (n ≥ d) and b:
 *   gram       min_x ‖(AᵀA)^j x − b‖₂,          x ∈ ℝ^d, j ≥ 1;
 *   lstsq      min_x ‖A(AᵀA)^j x − b‖₂,         x ∈ ℝ^d, j ≥ 0 (j = 0: least squares);
 *   attention  min_x ‖(exp(AAᵀ) + λI) x − b‖₂,  x ∈ ℝ^n, λ ≥ 0.
 *
 * Usage: a context owns the worker pool; a plan is a prepared solver for one A (the factor or
 * preconditioner is built once) and solves any number of right-hand sides. A float64 A is used
 * in place, without a copy: it must stay alive and unchanged until the plan is destroyed.
 *
 * Errors: every function returns a tessera_status; TESSERA_OK is 0. After a failure,
 * tessera_last_error() returns a one-line message for the calling thread. No function aborts or
 * traps on any argument: every pointer, size, enum and value is checked at the boundary.
 *
 * Threads: a context and a plan may be used from several threads at once (solves on one plan
 * give the same bits as one at a time). OpenBLAS's global thread count is never changed.
 */
#ifndef TESSERA_H
#define TESSERA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this interface: changes when a function or struct changes incompatibly. */
#define TESSERA_ABI_VERSION 1
int32_t tessera_abi_version(void);

typedef enum tessera_status {
    TESSERA_OK = 0,
    TESSERA_INVALID_ARGUMENT = 1,   /* a null pointer, a size, an enum, an option, NaN/Inf in A or b */
    TESSERA_OUT_OF_MEMORY = 2,      /* over the memory budget, or an allocation failed */
    TESSERA_NUMERICAL = 3,          /* rank deficient, not positive definite, exp would overflow */
    TESSERA_NOT_CONVERGED = 4,      /* x was written (the best found), the tolerance was not met */
    TESSERA_CANCELLED = 5,          /* the progress callback asked to stop */
    TESSERA_INTERNAL = 6            /* a bug in Tessera: please report the message */
} tessera_status;

/* The last failure's message on this thread ("" when none); valid until the next call. */
const char *tessera_last_error(void);

typedef enum tessera_problem { TESSERA_GRAM = 0, TESSERA_LSTSQ = 1, TESSERA_ATTENTION = 2 } tessera_problem;

typedef enum tessera_method {
    TESSERA_METHOD_AUTO = 0,      /* the planner chooses (and says why) */
    TESSERA_METHOD_PAPER = 1,     /* the paper's sketch-and-precondition with Richardson */
    TESSERA_METHOD_PCG = 2,       /* sketch preconditioner + CG/LSQR; attention: low-rank PCG */
    TESSERA_METHOD_DIRECT = 3,    /* exact factor: randomized Cholesky-QR; attention: dense Cholesky */
    TESSERA_METHOD_CHOLESKY = 4,  /* gram/lstsq: Cholesky of the tiled AᵀA */
    TESSERA_METHOD_SURROGATE = 5  /* attention: the Taylor-feature surrogate, for study */
} tessera_method;

typedef enum tessera_sketch {
    TESSERA_SKETCH_SPARSE_SIGN = 0, TESSERA_SKETCH_GAUSSIAN = 1, TESSERA_SKETCH_SRHT = 2, TESSERA_SKETCH_COUNTSKETCH = 3
} tessera_sketch;

typedef enum tessera_order { TESSERA_ROW_MAJOR = 0, TESSERA_COLUMN_MAJOR = 1 } tessera_order;

typedef enum tessera_dtype { TESSERA_FLOAT64 = 0, TESSERA_FLOAT32 = 1 } tessera_dtype;

/* gram/lstsq when A is numerically rank deficient (singular values σ ≤ rcond·σ₁): the
 * minimum-norm solution (its rank in tessera_info.rank), or TESSERA_NUMERICAL as before. */
typedef enum tessera_rank_deficient { TESSERA_RANK_MIN_NORM = 0, TESSERA_RANK_REFUSE = 1 } tessera_rank_deficient;

/* gram/lstsq: the arithmetic of the n·d² Gram that preconditions the solve. MIXED: SSYRK on
 * float32 roundings of A (twice DGEMM's rate), its float64 Cholesky factor preconditions float64
 * pcg on the exact A, certificate in float64; AUTO: the planner decides (large d, κ(A) ≲ 1e3). */
typedef enum tessera_precision { TESSERA_PRECISION_AUTO = 0, TESSERA_PRECISION_DOUBLE = 1, TESSERA_PRECISION_MIXED = 2 } tessera_precision;

/* Called after each iteration of an iterative solve with the iteration count and the current
 * relative residual estimate; return nonzero to stop the solve (TESSERA_CANCELLED). It runs on
 * the thread that called tessera_solve. */
typedef int (*tessera_progress_fn)(void *user_data, int64_t iteration, double residual);

/* The phases of a plan's creation and of a solve, in order (a refinement may go back from
 * VERIFY to ITERATE). LOAD and WRITE are the CLI's (reading and writing files); a plan reports
 * SKETCH and FACTOR from tessera_plan_create, ITERATE and VERIFY from tessera_solve. */
typedef enum tessera_phase {
    TESSERA_PHASE_LOAD = 0, TESSERA_PHASE_SKETCH = 1, TESSERA_PHASE_FACTOR = 2,
    TESSERA_PHASE_ITERATE = 3, TESSERA_PHASE_VERIFY = 4, TESSERA_PHASE_WRITE = 5
} tessera_phase;

/* Called when a phase begins, on the calling thread, with progress_user_data. The same events
 * as the CLI's progress line (one progress interface: Tessera's SolveMonitor). */
typedef void (*tessera_phase_fn)(void *user_data, tessera_phase phase);

/* Solve options. Fill with tessera_options_init(&o, sizeof o), then change what you need. */
typedef struct tessera_options {
    uint32_t struct_size;         /* sizeof(tessera_options), set by tessera_options_init */
    tessera_problem problem;      /* default TESSERA_GRAM */
    int32_t power;                /* j: gram ≥ 1, lstsq ≥ 0 (default 1 for gram, set 0 for plain least squares) */
    double ridge;                 /* λ ≥ 0 for attention (default 0) */
    tessera_method method;        /* default TESSERA_METHOD_AUTO */
    tessera_sketch sketch;        /* default sparse sign */
    double sketch_size_factor;    /* sketch rows = factor · d (default 4) */
    double tolerance;             /* 0: the problem's default */
    int64_t max_iterations;       /* default 500 */
    uint64_t seed;                /* default 0: the same seed gives the same bits on any thread count */
    uint64_t memory_budget;       /* bytes; 0: the machine's default */
    int64_t rank;                 /* attention low-rank preconditioner rank; 0: the planner's */
    tessera_progress_fn progress; /* optional */
    void *progress_user_data;
    /* Added after the first release (struct_size tells the library whether a caller has it): */
    tessera_phase_fn phase;       /* optional: phase events, with progress_user_data */
    /* Also added after the first release (a struct_size that ends before them keeps the defaults): */
    tessera_rank_deficient rank_deficient; /* default TESSERA_RANK_MIN_NORM (gram/lstsq; batched solves always refuse) */
    double rcond;                 /* gram/lstsq: σ ≤ rcond·σ₁ count as zero; default -1: machine epsilon × max(n, d), as NumPy */
    tessera_precision precision;  /* default TESSERA_PRECISION_AUTO (MIXED: gram/lstsq float32 Gram, attention pcg float32 panels) */
} tessera_options;

/* Sets every field to its default. struct_size must be sizeof(tessera_options) as the caller
 * was compiled with (a smaller, older struct is accepted). */
tessera_status tessera_options_init(tessera_options *options, uint32_t struct_size);

/* Per right-hand side: what happened and how good x is. struct_size may be that of an older
 * header (ending at `method`): the fields after it are then not written. */
typedef struct tessera_info {
    uint32_t struct_size;         /* set by the caller: sizeof(tessera_info) */
    tessera_status status;        /* TESSERA_OK or TESSERA_NOT_CONVERGED */
    int32_t tolerance_met;        /* 1 when the certificate is at or below the tolerance */
    int32_t iterations;           /* all stages together; 0 for exact factors */
    double accuracy;              /* the certificate, from an independent pass */
    int32_t accuracy_kind;        /* 0 backward error, 1 relative residual, 2 optimality ‖Aᵀr‖/(‖A‖‖r‖) */
    double accuracy_floor;        /* what float64 can certify for this x */
    double tolerance;
    double condition_a;           /* κ(A) estimate (gram/lstsq; NaN for attention) */
    double condition_preconditioned; /* κ(AR⁻¹) estimate, NaN when not measured */
    double seconds_sketch, seconds_factor, seconds_iterate, seconds_verify, seconds_total;
    tessera_method method;        /* the method used */
    /* Added after the first release (a caller's older, shorter struct is filled up to its
     * struct_size): the convergence history, one residual estimate per iteration. */
    double *history;              /* in, optional: a buffer of history_capacity doubles, read only from a
                                   * struct whose struct_size is set (set it in each struct with a buffer) */
    int64_t history_capacity;     /* in: its length (0: no history wanted) */
    int64_t history_length;       /* out: the history's full length, = iterations; min(length, capacity) written */
    /* Also added after the first release (written only when struct_size covers them): */
    int64_t rank;                 /* the numerical rank of a minimum-norm solve; -1 on the full-rank route */
    double smallest_kept_singular_value;   /* of A, on the minimum-norm route (else NaN) */
    double largest_dropped_singular_value; /* of A, on the minimum-norm route (NaN when none was dropped) */
} tessera_info;

typedef struct tessera_context tessera_context;
typedef struct tessera_plan tessera_plan;

/* A context with `threads` workers (0: TESSERA_NUM_THREADS, else the machine's cores). */
tessera_status tessera_context_create(int32_t threads, tessera_context **out);
int32_t tessera_context_threads(const tessera_context *context);
void tessera_context_destroy(tessera_context *context);

/* A prepared solver for A (n × d; element (i, j) at a[i·ld + j] for TESSERA_ROW_MAJOR, ld ≥ d;
 * at a[i + j·ld] for TESSERA_COLUMN_MAJOR, ld ≥ n). float64 A is used in place (keep it alive
 * and unchanged until tessera_plan_destroy); float32 A is converted inside the task graph. The
 * factor or preconditioner is built here. Holds a reference to the context. */
tessera_status tessera_plan_create(tessera_context *context, const void *a, int64_t n, int64_t d, int64_t ld,
                                   tessera_order order, tessera_dtype dtype, const tessera_options *options,
                                   tessera_plan **out);

/* The length of b (d for gram, n for lstsq and attention) and of x (d, d, n). */
int64_t tessera_plan_rhs_length(const tessera_plan *plan);
int64_t tessera_plan_solution_length(const tessera_plan *plan);

/* The method the plan uses and why, as text owned by the plan. */
const char *tessera_plan_method(const tessera_plan *plan);

/* The memory the plan reads A from: the caller's own pointer when A is used in place (float64),
 * NULL when A was converted into Tessera's memory (float32). */
const void *tessera_plan_matrix_data(const tessera_plan *plan);

/* For an attention plan over A: out = exp(B·Aᵀ)·alpha for m new rows B (m × d, ldb, order as for
 * A) and alpha of length n — a kernel-ridge model's prediction — in tiles, never forming the
 * m × n matrix. Cost 2·m·n·d flops and m·n exps. TESSERA_INVALID_ARGUMENT when exp could
 * overflow (max‖bᵢ‖·max‖aₖ‖ > 709.78) or B holds NaN/Inf. */
tessera_status tessera_plan_cross_kernel(const tessera_plan *plan, const double *b, int64_t m, int64_t ldb,
                                         tessera_order order, const double *alpha, double *out);

/* Solves for m right-hand sides: column k of b at b + k·ldb (ldb ≥ rhs length), of x at
 * x + k·ldx (ldx ≥ solution length). x0 (optional, laid out like x) is a warm start: the
 * iterative methods (pcg, paper) start there instead of at their own first guess; exact factors
 * ignore it. info (optional) receives m structs, the first with struct_size set by the caller
 * (the size of the caller's tessera_info: an older, shorter struct is accepted and filled up to
 * it); the history and history_capacity of each struct whose struct_size is set are read
 * before it is filled. tessera_solve_batched records no history (history_length 0).
 * Returns TESSERA_NOT_CONVERGED when any column missed the tolerance (its best x is written); on
 * any other failure x is left unchanged. */
tessera_status tessera_solve(const tessera_plan *plan, const double *b, int64_t m, int64_t ldb,
                             double *x, int64_t ldx, const double *x0, tessera_info *info);

void tessera_plan_destroy(tessera_plan *plan);

/* Many small independent gram/lstsq problems of one shape (count of them): A_k at a + k·stride_a
 * (n × d, ld, order as for a plan), b_k at b + k·stride_b, x_k at x + k·stride_x. Each is solved
 * by an exact factor with single-threaded BLAS on one worker; the context's workers share them. */
tessera_status tessera_solve_batched(tessera_context *context, const tessera_options *options, int64_t count,
                                     const double *a, int64_t n, int64_t d, int64_t ld, tessera_order order, int64_t stride_a,
                                     const double *b, int64_t stride_b, double *x, int64_t stride_x, tessera_info *info);

#ifdef __cplusplus
}
#endif
#endif
