/* The C interface tested through its header only (tessera.h), linked against libTesseraC:
 * known solutions for every problem in both storage orders and float32, every class of bad
 * argument returning its status and a message (never a crash), cancellation by the progress
 * callback, concurrent solves on one plan giving the bits of one at a time, batched solves with
 * the same bits on 1 and 2 workers, minimum-norm solutions of a rank-deficient A (and the
 * older, shorter structs still accepted), and OpenBLAS's thread count left as the caller set it.
 * Run by scripts/test-c.sh (part of the README's test command). Exit 0 when every check passes. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera.h"

void openblas_set_num_threads(int);
int openblas_get_num_threads(void);

static int failures = 0;
#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);             \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, " (last error: %s)\n", tessera_last_error());    \
        }                                                                    \
    } while (0)

/* A deterministic pseudo-random number in [-1, 1). */
static double noise(uint64_t *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / (double)(1ULL << 52) - 1.0;
}

static double relative_difference(const double *x, const double *y, int64_t count) {
    double diff = 0, norm = 0;
    for (int64_t i = 0; i < count; i++) {
        diff += (x[i] - y[i]) * (x[i] - y[i]);
        norm += y[i] * y[i];
    }
    return sqrt(diff / (norm > 0 ? norm : 1));
}

/* y = Aᵀ(A v) for a row-major n × d A. */
static void gram_times(const double *a, int64_t n, int64_t d, const double *v, double *y) {
    for (int64_t j = 0; j < d; j++) y[j] = 0;
    for (int64_t i = 0; i < n; i++) {
        double t = 0;
        for (int64_t j = 0; j < d; j++) t += a[i * d + j] * v[j];
        for (int64_t j = 0; j < d; j++) y[j] += t * a[i * d + j];
    }
}

static tessera_options options_for(tessera_problem problem, int power) {
    tessera_options o;
    tessera_options_init(&o, sizeof o);
    o.problem = problem;
    o.power = power;
    return o;
}

static tessera_context *context;

static void test_gram_and_lstsq_in_both_orders(void) {
    const int64_t n = 3000, d = 20, ldc = n + 5;
    double *a = malloc(sizeof(double) * n * d), *f = calloc((size_t)(ldc * d), sizeof(double));
    float *a32 = malloc(sizeof(float) * n * d);
    uint64_t seed = 1;
    for (int64_t i = 0; i < n * d; i++) a[i] = noise(&seed);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) {
            f[i + j * ldc] = a[i * d + j];
            a32[i * d + j] = (float)a[i * d + j];
        }
    double x_true[20], b[20], x[20];
    for (int j = 0; j < d; j++) x_true[j] = noise(&seed);
    gram_times(a, n, d, x_true, b);

    const char *methods[] = {"auto", "pcg", "cholesky", "direct", "paper"};
    tessera_method codes[] = {TESSERA_METHOD_AUTO, TESSERA_METHOD_PCG, TESSERA_METHOD_CHOLESKY, TESSERA_METHOD_DIRECT, TESSERA_METHOD_PAPER};
    for (int m = 0; m < 5; m++) {
        tessera_options o = options_for(TESSERA_GRAM, 1);
        o.method = codes[m];
        tessera_plan *row = NULL, *col = NULL;
        CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &row) == TESSERA_OK, "gram %s row-major plan", methods[m]);
        CHECK(tessera_plan_create(context, f, n, d, ldc, TESSERA_COLUMN_MAJOR, TESSERA_FLOAT64, &o, &col) == TESSERA_OK, "gram %s column-major plan", methods[m]);
        if (!row || !col) continue;
        CHECK(tessera_plan_rhs_length(row) == d && tessera_plan_solution_length(row) == d, "gram lengths");
        tessera_info info = {.struct_size = sizeof info};
        CHECK(tessera_solve(row, b, 1, d, x, d, NULL, &info) == TESSERA_OK, "gram %s solve", methods[m]);
        CHECK(relative_difference(x, x_true, d) < 1e-9, "gram %s row-major: x off by %.2e", methods[m], relative_difference(x, x_true, d));
        CHECK(info.tolerance_met == 1 && info.accuracy <= info.tolerance && info.accuracy_kind == 0, "gram %s info", methods[m]);
        CHECK(strlen(tessera_plan_method(row)) > 5, "method text");
        double y[20];
        CHECK(tessera_solve(col, b, 1, d, y, d, NULL, NULL) == TESSERA_OK, "gram %s column-major solve", methods[m]);
        CHECK(relative_difference(y, x, d) < 1e-10, "gram %s orders differ by %.2e", methods[m], relative_difference(y, x, d));
        tessera_plan_destroy(row);
        tessera_plan_destroy(col);
    }

    /* float32 A: converted inside the task graph; b made for the float32 values. */
    double *a32as64 = malloc(sizeof(double) * n * d), b32[20];
    for (int64_t i = 0; i < n * d; i++) a32as64[i] = (double)a32[i];
    gram_times(a32as64, n, d, x_true, b32);
    tessera_options o = options_for(TESSERA_GRAM, 1);
    tessera_plan *p32 = NULL;
    CHECK(tessera_plan_create(context, a32, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT32, &o, &p32) == TESSERA_OK, "float32 plan");
    if (p32) {
        CHECK(tessera_solve(p32, b32, 1, d, x, d, NULL, NULL) == TESSERA_OK, "float32 solve");
        CHECK(tessera_plan_matrix_data(p32) == NULL, "float32 A is converted, not used in place");
        CHECK(relative_difference(x, x_true, d) < 1e-9, "float32: x off by %.2e", relative_difference(x, x_true, d));
        tessera_plan_destroy(p32);
    }

    /* lstsq j = 0 on a consistent system b = A x_true, two right-hand sides at once. */
    double *bl = malloc(sizeof(double) * 2 * n), xl[40];
    for (int64_t i = 0; i < n; i++) {
        double t = 0;
        for (int64_t j = 0; j < d; j++) t += a[i * d + j] * x_true[j];
        bl[i] = t;
        bl[n + i] = 2 * t;
    }
    o = options_for(TESSERA_LSTSQ, 0);
    tessera_plan *ls = NULL;
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &ls) == TESSERA_OK, "lstsq plan");
    if (ls) {
        tessera_info infos[2] = {{.struct_size = sizeof(tessera_info)}, {.struct_size = sizeof(tessera_info)}};
        CHECK(tessera_solve(ls, bl, 2, n, xl, d, NULL, infos) == TESSERA_OK, "lstsq solve");
        CHECK(relative_difference(xl, x_true, d) < 1e-9, "lstsq: x off by %.2e", relative_difference(xl, x_true, d));
        for (int j = 0; j < d; j++) CHECK(fabs(xl[d + j] - 2 * xl[j]) <= 1e-9 * (1 + fabs(xl[j])), "lstsq second column");
        CHECK(infos[1].accuracy_kind == 2 && infos[1].struct_size == sizeof(tessera_info), "lstsq info");
        tessera_plan_destroy(ls);
    }
    free(a); free(f); free(a32); free(a32as64); free(bl);
}

static void test_attention(void) {
    const int64_t n = 400, d = 4;
    double a[400 * 4], x_true[400], b[400], x[400];
    uint64_t seed = 7;
    for (int64_t i = 0; i < n * d; i++) a[i] = 0.4 * noise(&seed);
    for (int64_t i = 0; i < n; i++) x_true[i] = noise(&seed);
    const double lambda = 0.1;
    for (int64_t i = 0; i < n; i++) {
        double s = lambda * x_true[i];
        for (int64_t k = 0; k < n; k++) {
            double dot = 0;
            for (int64_t j = 0; j < d; j++) dot += a[i * d + j] * a[k * d + j];
            s += exp(dot) * x_true[k];
        }
        b[i] = s;
    }
    tessera_method codes[] = {TESSERA_METHOD_AUTO, TESSERA_METHOD_PCG, TESSERA_METHOD_DIRECT};
    for (int m = 0; m < 3; m++) {
        tessera_options o = options_for(TESSERA_ATTENTION, 1);
        o.ridge = lambda;
        o.method = codes[m];
        tessera_plan *plan = NULL;
        CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &plan) == TESSERA_OK, "attention plan %d", m);
        if (!plan) continue;
        CHECK(tessera_plan_rhs_length(plan) == n && tessera_plan_solution_length(plan) == n, "attention lengths");
        tessera_info info = {.struct_size = sizeof info};
        CHECK(tessera_solve(plan, b, 1, n, x, n, NULL, &info) == TESSERA_OK, "attention solve %d", m);
        CHECK(relative_difference(x, x_true, n) < 1e-6, "attention %d: x off by %.2e", m, relative_difference(x, x_true, n));
        if (codes[m] == TESSERA_METHOD_PCG) {
            /* A warm start at the answer: the iteration has (almost) nothing left to do. */
            tessera_info warm = {.struct_size = sizeof warm};
            double y[400];
            CHECK(tessera_solve(plan, b, 1, n, y, n, x, &warm) == TESSERA_OK, "warm start");
            CHECK(warm.iterations < info.iterations && warm.iterations <= 2, "warm start took %d iterations, cold %d", warm.iterations, info.iterations);
            double bad_start[400];
            memcpy(bad_start, x, sizeof bad_start);
            bad_start[7] = NAN;
            CHECK(tessera_solve(plan, b, 1, n, y, n, bad_start, NULL) == TESSERA_INVALID_ARGUMENT, "NaN warm start");
        }
        CHECK(info.accuracy_kind == 1 && info.accuracy <= 1e-10, "attention %d residual %.2e", m, info.accuracy);
        /* The cross kernel with B = A gives exp(AAᵀ)·x_true = b − λ·x_true. */
        double kx[400], expected[400];
        CHECK(tessera_plan_cross_kernel(plan, a, n, d, TESSERA_ROW_MAJOR, x_true, kx) == TESSERA_OK, "cross kernel");
        for (int64_t i = 0; i < n; i++) expected[i] = b[i] - lambda * x_true[i];
        CHECK(relative_difference(kx, expected, n) < 1e-12, "cross kernel off by %.2e", relative_difference(kx, expected, n));
        CHECK(tessera_plan_matrix_data(plan) == (const void *)a, "A used in place");
        tessera_plan_destroy(plan);
    }
}

static int stop_after_two(void *user_data, int64_t iteration, double residual) {
    int *calls = user_data;
    (*calls)++;
    return iteration >= 2 && residual >= 0;
}

/* Phase events and iterations, in the order they arrive, through one user_data. */
typedef struct event_log { int phases[32]; int phase_count; int64_t last_iteration; int iterations_rising; } event_log;

static void record_phase(void *user_data, tessera_phase phase) {
    event_log *log = user_data;
    if (log->phase_count < 32) log->phases[log->phase_count++] = (int)phase;
}

static int record_iteration(void *user_data, int64_t iteration, double residual) {
    event_log *log = user_data;
    if (iteration != log->last_iteration + 1 || !(residual >= 0)) log->iterations_rising = 0;
    log->last_iteration = iteration;
    return 0;
}

/* The phase callback sees sketch, factor (tessera_plan_create), iterate, verify (tessera_solve) in
 * order; the history buffer gets one residual per iteration; an older, shorter tessera_info (the
 * first release's, without the history fields) is still accepted and filled up to its size. */
static void test_phases_and_history(void) {
    const int64_t n = 3000, d = 8;
    static double a[3000 * 8], b[8], x[8];
    uint64_t seed = 11;
    for (int64_t i = 0; i < n * d; i++) a[i] = noise(&seed);
    for (int64_t i = 0; i < d; i++) b[i] = noise(&seed);
    event_log log = {.iterations_rising = 1};
    tessera_options o = options_for(TESSERA_GRAM, 1);
    o.method = TESSERA_METHOD_PCG;
    o.progress = record_iteration;
    o.phase = record_phase;
    o.progress_user_data = &log;
    tessera_plan *plan = NULL;
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &plan) == TESSERA_OK, "phases plan");
    if (!plan) return;
    double history[64];
    tessera_info info = {.struct_size = sizeof info, .history = history, .history_capacity = 64};
    CHECK(tessera_solve(plan, b, 1, d, x, d, NULL, &info) == TESSERA_OK, "phases solve");
    int expected[] = {TESSERA_PHASE_SKETCH, TESSERA_PHASE_FACTOR, TESSERA_PHASE_ITERATE, TESSERA_PHASE_VERIFY};
    CHECK(log.phase_count == 4, "4 phases reported, got %d", log.phase_count);
    for (int k = 0; k < 4 && k < log.phase_count; k++) CHECK(log.phases[k] == expected[k], "phase %d is %d", k, log.phases[k]);
    CHECK(info.iterations > 0 && info.history_length == info.iterations, "history length %lld for %d iterations",
          (long long)info.history_length, info.iterations);
    CHECK(log.iterations_rising && log.last_iteration == info.iterations, "iterations 1, 2, … %lld", (long long)log.last_iteration);
    for (int64_t k = 0; k < info.history_length && k < 64; k++) CHECK(history[k] > 0 && history[k] < 10, "history[%lld] = %.2e", (long long)k, history[k]);
    CHECK(info.history_length < 2 || history[info.history_length - 1] < history[0], "the residual fell");
    /* Only the first struct's struct_size is required: a second one full of garbage is filled,
     * its garbage history pointer never followed. */
    double b2[16], x2[16];
    memcpy(b2, b, sizeof b); memcpy(b2 + 8, b, sizeof b);
    tessera_info pair[2];
    memset(pair, 0xAB, sizeof pair);
    pair[0].struct_size = sizeof(tessera_info);
    pair[0].history = history;
    pair[0].history_capacity = 64;
    CHECK(tessera_solve(plan, b2, 2, d, x2, d, NULL, pair) == TESSERA_OK, "two columns, the second info uninitialized");
    CHECK(pair[1].history_length == pair[1].iterations && pair[1].history == NULL && pair[1].history_capacity == 0,
          "an info without its own struct_size gets no history buffer");
    /* The first release's tessera_info: everything before `history`. */
    _Alignas(double) unsigned char old[offsetof(tessera_info, history) + 8];
    memset(old, 0xAB, sizeof old);
    tessera_info *older = (tessera_info *)old;
    older->struct_size = (uint32_t)offsetof(tessera_info, history);
    CHECK(tessera_solve(plan, b, 1, d, x, d, NULL, older) == TESSERA_OK, "an older, shorter tessera_info is accepted");
    CHECK(older->iterations == info.iterations && old[offsetof(tessera_info, history)] == 0xAB, "filled up to its size, not beyond");
    tessera_plan_destroy(plan);
}

static void test_bad_arguments_and_cancellation(void) {
    const int64_t n = 500, d = 6;
    double a[500 * 6], b[500], x[500];
    uint64_t seed = 3;
    for (int i = 0; i < n * d; i++) a[i] = noise(&seed);
    for (int i = 0; i < n; i++) b[i] = noise(&seed);
    tessera_options o = options_for(TESSERA_GRAM, 1);
    tessera_plan *plan = NULL;
    tessera_context *none = NULL;

    CHECK(tessera_abi_version() == TESSERA_ABI_VERSION, "ABI version");
    tessera_options bad;
    CHECK(tessera_options_init(&bad, 3) == TESSERA_INVALID_ARGUMENT && strstr(tessera_last_error(), "struct_size"), "small options struct");
    CHECK(tessera_options_init(NULL, sizeof bad) == TESSERA_INVALID_ARGUMENT, "NULL options");
    CHECK(tessera_context_create(-2, &none) == TESSERA_INVALID_ARGUMENT && none == NULL, "negative threads");
    CHECK(tessera_plan_create(NULL, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &plan) == TESSERA_INVALID_ARGUMENT, "NULL context");
    CHECK(tessera_plan_create(context, NULL, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &plan) == TESSERA_INVALID_ARGUMENT
          && strstr(tessera_last_error(), "a is NULL"), "NULL a");
    CHECK(tessera_plan_create(context, a, -1, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &plan) == TESSERA_INVALID_ARGUMENT, "negative n");
    CHECK(tessera_plan_create(context, a, n, d, d - 1, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &plan) == TESSERA_INVALID_ARGUMENT
          && strstr(tessera_last_error(), "ld"), "ld < d");
    CHECK(tessera_plan_create(context, a, n, d, d, (tessera_order)7, TESSERA_FLOAT64, &o, &plan) == TESSERA_INVALID_ARGUMENT, "bad order");
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, (tessera_dtype)9, &o, &plan) == TESSERA_INVALID_ARGUMENT, "bad dtype");
    CHECK(tessera_plan_create(context, a, INT64_MAX / 2, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &plan) != TESSERA_OK, "overflowing size");
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, NULL, &plan) == TESSERA_INVALID_ARGUMENT, "NULL options");
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, NULL) == TESSERA_INVALID_ARGUMENT, "NULL out");
    tessera_options wrong = o;
    wrong.problem = (tessera_problem)42;
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &wrong, &plan) == TESSERA_INVALID_ARGUMENT, "bad problem");
    wrong = o;
    wrong.power = 0;
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &wrong, &plan) == TESSERA_INVALID_ARGUMENT, "gram power 0");
    wrong = o;
    wrong.tolerance = NAN;
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &wrong, &plan) == TESSERA_INVALID_ARGUMENT, "NaN tolerance");
    wrong = o;
    wrong.memory_budget = 1000;
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &wrong, &plan) == TESSERA_OUT_OF_MEMORY, "over budget");
    CHECK(plan == NULL, "no plan after failures");

    double with_nan[500 * 6];
    memcpy(with_nan, a, sizeof a);
    with_nan[499 * 6 + 2] = NAN;
    CHECK(tessera_plan_create(context, with_nan, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &plan) == TESSERA_INVALID_ARGUMENT
          && strstr(tessera_last_error(), "row 499, column 2"), "NaN in A: %s", tessera_last_error());
    double dependent[500 * 6];
    memcpy(dependent, a, sizeof a);
    for (int i = 0; i < n; i++) dependent[i * 6 + 5] = dependent[i * 6 + 4];
    tessera_options chol = o;
    chol.method = TESSERA_METHOD_DIRECT;
    chol.rank_deficient = TESSERA_RANK_REFUSE;   /* the default, min-norm, solves it (test_rank_deficient) */
    CHECK(tessera_plan_create(context, dependent, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &chol, &plan) == TESSERA_NUMERICAL, "rank deficient A");

    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &plan) == TESSERA_OK, "good plan");
    double x_before = x[0] = 12345;
    CHECK(tessera_solve(plan, NULL, 1, d, x, d, NULL, NULL) == TESSERA_INVALID_ARGUMENT, "NULL b");
    CHECK(tessera_solve(plan, b, 0, d, x, d, NULL, NULL) == TESSERA_INVALID_ARGUMENT, "m = 0");
    CHECK(tessera_solve(plan, b, 1, d - 1, x, d, NULL, NULL) == TESSERA_INVALID_ARGUMENT, "ldb too small");
    b[3] = INFINITY;
    CHECK(tessera_solve(plan, b, 1, d, x, d, NULL, NULL) == TESSERA_INVALID_ARGUMENT && x[0] == x_before, "Inf in b leaves x alone");
    b[3] = 1;
    tessera_info small = {.struct_size = 4};
    CHECK(tessera_solve(plan, b, 1, d, x, d, NULL, &small) == TESSERA_INVALID_ARGUMENT, "small info struct");
    CHECK(tessera_solve(NULL, b, 1, d, x, d, NULL, NULL) == TESSERA_INVALID_ARGUMENT, "NULL plan");
    tessera_plan_destroy(plan);
    tessera_plan_destroy(NULL);
    tessera_context_destroy(NULL);

    /* Cancellation: the callback stops an iterative attention solve after two iterations. */
    int calls = 0;
    tessera_options att = options_for(TESSERA_ATTENTION, 1);
    att.ridge = 1e-6;
    att.method = TESSERA_METHOD_PCG;
    att.rank = 5;
    att.progress = stop_after_two;
    att.progress_user_data = &calls;
    double small_a[500 * 6];
    for (int i = 0; i < n * d; i++) small_a[i] = 0.3 * a[i];
    plan = NULL;
    CHECK(tessera_plan_create(context, small_a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &att, &plan) == TESSERA_OK, "attention plan");
    if (plan) {
        x[0] = x_before;
        CHECK(tessera_solve(plan, b, 1, n, x, n, NULL, NULL) == TESSERA_CANCELLED && strstr(tessera_last_error(), "cancelled"), "cancel");
        CHECK(calls >= 2 && calls <= 3 && x[0] == x_before, "callback calls %d, x untouched", calls);
        tessera_plan_destroy(plan);
    }
}

struct job { tessera_plan *plan; const double *b; double x[20]; tessera_status status; };

static void *solve_job(void *arg) {
    struct job *job = arg;
    job->status = tessera_solve(job->plan, job->b, 1, 20, job->x, 20, NULL, NULL);
    return NULL;
}

static void test_concurrent_solves_on_one_plan(void) {
    const int64_t n = 20000, d = 20;
    double *a = malloc(sizeof(double) * n * d), b[4][20], alone[4][20];
    uint64_t seed = 11;
    for (int64_t i = 0; i < n * d; i++) a[i] = noise(&seed);
    for (int k = 0; k < 4; k++) for (int j = 0; j < d; j++) b[k][j] = noise(&seed);
    tessera_options o = options_for(TESSERA_GRAM, 2);
    o.method = TESSERA_METHOD_PCG;
    tessera_plan *plan = NULL;
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &plan) == TESSERA_OK, "plan");
    if (!plan) { free(a); return; }
    for (int k = 0; k < 4; k++) CHECK(tessera_solve(plan, b[k], 1, d, alone[k], d, NULL, NULL) == TESSERA_OK, "sequential %d", k);
    struct job jobs[4];
    pthread_t threads[4];
    for (int k = 0; k < 4; k++) {
        jobs[k].plan = plan;
        jobs[k].b = b[k];
        pthread_create(&threads[k], NULL, solve_job, &jobs[k]);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(threads[k], NULL);
        CHECK(jobs[k].status == TESSERA_OK && memcmp(jobs[k].x, alone[k], sizeof alone[k]) == 0, "concurrent solve %d differs", k);
    }
    tessera_plan_destroy(plan);
    free(a);
}

static void test_batched(void) {
    const int64_t count = 64, n = 300, d = 8;
    double *a = malloc(sizeof(double) * count * n * d), *bg = malloc(sizeof(double) * count * d), *bl = malloc(sizeof(double) * count * n);
    double *x1 = malloc(sizeof(double) * count * d), *x2 = malloc(sizeof(double) * count * d), *truth = malloc(sizeof(double) * count * d);
    tessera_info *info = calloc((size_t)count, sizeof(tessera_info));
    uint64_t seed = 5;
    for (int64_t i = 0; i < count * n * d; i++) a[i] = noise(&seed);
    for (int64_t k = 0; k < count; k++) {
        for (int64_t j = 0; j < d; j++) truth[k * d + j] = noise(&seed);
        gram_times(a + k * n * d, n, d, truth + k * d, bg + k * d);
        for (int64_t i = 0; i < n; i++) {
            double t = 0;
            for (int64_t j = 0; j < d; j++) t += a[k * n * d + i * d + j] * truth[k * d + j];
            bl[k * n + i] = t;
        }
    }
    for (int64_t k = 0; k < count; k++) info[k].struct_size = sizeof(tessera_info);
    tessera_options o = options_for(TESSERA_GRAM, 1);
    tessera_context *one = NULL;
    CHECK(tessera_context_create(1, &one) == TESSERA_OK, "one-thread context");
    CHECK(tessera_solve_batched(context, &o, count, a, n, d, d, TESSERA_ROW_MAJOR, n * d, bg, d, x2, d, info) == TESSERA_OK, "batched gram");
    CHECK(tessera_solve_batched(one, &o, count, a, n, d, d, TESSERA_ROW_MAJOR, n * d, bg, d, x1, d, NULL) == TESSERA_OK, "batched gram, 1 thread");
    CHECK(memcmp(x1, x2, sizeof(double) * count * d) == 0, "batched bits differ between 1 and 2 workers");
    CHECK(relative_difference(x2, truth, count * d) < 1e-9, "batched gram x off by %.2e", relative_difference(x2, truth, count * d));
    CHECK(info[count - 1].tolerance_met == 1 && info[count - 1].accuracy_kind == 0, "batched gram info");
    o = options_for(TESSERA_LSTSQ, 0);
    CHECK(tessera_solve_batched(context, &o, count, a, n, d, d, TESSERA_ROW_MAJOR, n * d, bl, n, x2, d, info) == TESSERA_OK, "batched lstsq");
    CHECK(relative_difference(x2, truth, count * d) < 1e-9, "batched lstsq x off by %.2e", relative_difference(x2, truth, count * d));
    CHECK(tessera_solve_batched(context, &o, count, a, n, d, d, TESSERA_ROW_MAJOR, n * d - 1, bl, n, x2, d, NULL) == TESSERA_INVALID_ARGUMENT,
          "stride_a too small");
    tessera_options att = options_for(TESSERA_ATTENTION, 1);
    CHECK(tessera_solve_batched(context, &att, count, a, n, d, d, TESSERA_ROW_MAJOR, n * d, bl, n, x2, d, NULL) == TESSERA_INVALID_ARGUMENT,
          "batched attention refused");
    for (int64_t j = 0; j < n; j++) a[5 * n * d + j * d + 7] = a[5 * n * d + j * d + 6];   /* problem 5 rank deficient */
    CHECK(tessera_solve_batched(context, &o, count, a, n, d, d, TESSERA_ROW_MAJOR, n * d, bl, n, x2, d, info) == TESSERA_NUMERICAL
          && strstr(tessera_last_error(), "problem 5") && info[5].status == TESSERA_NUMERICAL && info[6].status == TESSERA_OK,
          "one rank-deficient problem");
    tessera_context_destroy(one);
    free(a); free(bg); free(bl); free(x1); free(x2); free(truth); free(info);
}

/* A with a duplicated column (column 3 = column 1): the plan returns the minimum-norm least-squares
 * x, which equals the hand-reduced problem's answer split evenly over the two equal columns; the
 * rank is in tessera_info; TESSERA_RANK_REFUSE gives TESSERA_NUMERICAL; an info struct of the
 * older size (ending at `method`) is filled only that far; an older options struct keeps the
 * defaults of the fields it lacks. */
static void test_rank_deficient(void) {
    enum { n = 300, d = 4 };
    static double a[n * d], reduced[n * (d - 1)], b[n];
    uint64_t state = 99;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < d - 1; j++) reduced[i * (d - 1) + j] = a[i * d + j] = noise(&state);
        a[i * d + 3] = a[i * d + 1];
        b[i] = noise(&state);
    }
    tessera_options o = options_for(TESSERA_LSTSQ, 0);
    tessera_plan *by_hand = NULL, *plan = NULL, *refused = NULL;
    CHECK(tessera_plan_create(context, reduced, n, d - 1, d - 1, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &by_hand) == TESSERA_OK, "reduced plan");
    double y[d - 1] = {0}, x[d] = {0};
    CHECK(by_hand && tessera_solve(by_hand, b, 1, n, y, d - 1, NULL, NULL) == TESSERA_OK, "reduced solve");
    double expected[d] = {y[0], y[1] / 2, y[2], y[1] / 2};
    const tessera_method methods[] = {TESSERA_METHOD_AUTO, TESSERA_METHOD_PCG, TESSERA_METHOD_DIRECT, TESSERA_METHOD_CHOLESKY};
    for (int m = 0; m < 4; m++) {
        o.method = methods[m];
        plan = NULL;
        CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &plan) == TESSERA_OK, "rank-deficient plan %d", m);
        if (!plan) continue;
        tessera_info info;
        info.struct_size = sizeof info;
        CHECK(tessera_solve(plan, b, 1, n, x, d, NULL, &info) == TESSERA_OK, "rank-deficient solve %d", m);
        CHECK(relative_difference(x, expected, d) < 1e-12, "method %d: min-norm x off by %.2e", m, relative_difference(x, expected, d));
        CHECK(strstr(tessera_plan_method(plan), "rank 3 of 4") != NULL, "method text: %s", tessera_plan_method(plan));
        CHECK(info.rank == 3 && info.smallest_kept_singular_value > 1 && info.largest_dropped_singular_value < 1e-10,
              "method %d: rank %lld, kept %.2e, dropped %.2e", m, (long long)info.rank, info.smallest_kept_singular_value,
              info.largest_dropped_singular_value);
        /* An info that ends before the rank fields (with the history fields, no buffer): the rank
         * fields are not written (the sentinel after its size survives). */
        _Alignas(double) unsigned char old_info[sizeof(tessera_info) + 8];
        memset(old_info, 0xAB, sizeof old_info);
        ((tessera_info *)old_info)->struct_size = (uint32_t)offsetof(tessera_info, rank);
        ((tessera_info *)old_info)->history = NULL;
        ((tessera_info *)old_info)->history_capacity = 0;
        CHECK(tessera_solve(plan, b, 1, n, x, d, NULL, (tessera_info *)old_info) == TESSERA_OK, "older info struct");
        CHECK(old_info[offsetof(tessera_info, rank)] == 0xAB && old_info[sizeof(tessera_info) - 1] == 0xAB, "older info overwritten");
        tessera_plan_destroy(plan);
    }
    o.method = TESSERA_METHOD_AUTO;
    tessera_info full_rank;
    full_rank.struct_size = sizeof full_rank;
    CHECK(tessera_solve(by_hand, b, 1, n, y, d - 1, NULL, &full_rank) == TESSERA_OK && full_rank.rank == -1, "full-rank info.rank");
    o.rank_deficient = TESSERA_RANK_REFUSE;
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &refused) == TESSERA_NUMERICAL
          && strstr(tessera_last_error(), "rank 3 of 4") && refused == NULL, "refuse");
    o.rank_deficient = (tessera_rank_deficient)5;
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &refused) == TESSERA_INVALID_ARGUMENT, "bad rank_deficient");
    o.rank_deficient = TESSERA_RANK_MIN_NORM;
    o.rcond = 2;
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &o, &refused) == TESSERA_INVALID_ARGUMENT
          && strstr(tessera_last_error(), "rcond"), "bad rcond");
    /* An options struct of the older size (ending at progress_user_data): min-norm by default. */
    tessera_options old;
    CHECK(tessera_options_init(&old, (uint32_t)offsetof(tessera_options, rank_deficient)) == TESSERA_OK, "older options init");
    old.problem = TESSERA_LSTSQ;
    old.power = 0;
    plan = NULL;
    CHECK(tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &old, &plan) == TESSERA_OK, "older options");
    if (plan) {
        CHECK(tessera_solve(plan, b, 1, n, x, d, NULL, NULL) == TESSERA_OK && relative_difference(x, expected, d) < 1e-12, "older options x");
        tessera_plan_destroy(plan);
    }
    tessera_plan_destroy(by_hand);
}

int main(void) {
    openblas_set_num_threads(2);
    CHECK(tessera_context_create(2, &context) == TESSERA_OK, "context");
    if (!context) return 1;
    CHECK(tessera_context_threads(context) == 2, "two workers");
    test_gram_and_lstsq_in_both_orders();
    test_attention();
    test_phases_and_history();
    test_bad_arguments_and_cancellation();
    test_concurrent_solves_on_one_plan();
    test_batched();
    test_rank_deficient();
    CHECK(openblas_get_num_threads() == 2, "OpenBLAS's thread count changed to %d", openblas_get_num_threads());
    tessera_context_destroy(context);
    if (failures) {
        fprintf(stderr, "abi_test: %d checks failed\n", failures);
        return 1;
    }
    printf("abi_test: every check passed\n");
    return 0;
}
