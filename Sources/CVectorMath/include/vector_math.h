// AVX2 + FMA kernels for TesseraKernels' VectorExp (compiled for those features with a target
// attribute, so the package needs no special flags; call only when the CPU has them).
#ifndef TESSERA_VECTOR_MATH_H
#define TESSERA_VECTOR_MATH_H
#include <stddef.h>

/// y[i] = exp(x[i]) for i < n (x and y may be the same memory), 4 lanes at a time: the same
/// Cody–Waite reduction and degree-13 polynomial as the scalar Swift kernel. A group of 4 with any
/// input outside [−708, 709] (or NaN) is computed by libm instead; the tail is padded to 4, so an
/// element's result never depends on its position.
void tessera_exp_avx2(const double *x, double *y, size_t n);

#endif
