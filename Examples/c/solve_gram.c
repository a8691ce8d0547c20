/* The smallest C program on libtessera: solve (AᵀA)x = b for a 100,000 × 32 A held in row-major
 * memory (used in place, no copy), and print what the solver did.
 *
 *   swift build -c release --product TesseraC
 *   cc -I Sources/CTessera/include Examples/c/solve_gram.c -L .build/release -lTesseraC \
 *      -Wl,-rpath,$PWD/.build/release -o /tmp/solve_gram && /tmp/solve_gram
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tessera.h"

int main(void) {
    const int64_t n = 100000, d = 32;
    double *a = malloc(sizeof(double) * n * d), b[32], x[32];
    for (int64_t i = 0; i < n * d; i++) a[i] = sin(0.37 * (double)i) + (i % d == i / d % d ? 1.0 : 0.0);
    for (int64_t j = 0; j < d; j++) b[j] = 1.0;

    tessera_context *context = NULL;
    tessera_plan *plan = NULL;
    tessera_options options;
    tessera_options_init(&options, sizeof options);
    options.problem = TESSERA_GRAM;
    options.power = 1;
    if (tessera_context_create(0, &context) != TESSERA_OK ||
        tessera_plan_create(context, a, n, d, d, TESSERA_ROW_MAJOR, TESSERA_FLOAT64, &options, &plan) != TESSERA_OK) {
        fprintf(stderr, "tessera: %s\n", tessera_last_error());
        return 1;
    }
    tessera_info info = {.struct_size = sizeof info};
    tessera_status status = tessera_solve(plan, b, 1, d, x, d, NULL, &info);
    if (status != TESSERA_OK && status != TESSERA_NOT_CONVERGED) {
        fprintf(stderr, "tessera: %s\n", tessera_last_error());
        return 1;
    }
    printf("method: %s\n", tessera_plan_method(plan));
    printf("x[0] = %.6g, backward error %.2e (tolerance %.0e, %s), %.3f s on %d threads\n", x[0], info.accuracy,
           info.tolerance, info.tolerance_met ? "met" : "not met", info.seconds_total, tessera_context_threads(context));
    tessera_plan_destroy(plan);
    tessera_context_destroy(context);
    free(a);
    return 0;
}
