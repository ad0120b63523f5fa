/*
 * Double-double arithmetic (about 106 bits), shared by the kernels: a value is hi + lo with
 * |lo| <= ulp(hi) / 2.
 */
#ifndef COFAIL_DOUBLE_DOUBLE_H
#define COFAIL_DOUBLE_DOUBLE_H

#include <math.h>

typedef struct {
    double hi, lo;
} dd;

static inline dd dd_quick(double a, double b) { /* |a| >= |b| */
    double s = a + b;
    return (dd){s, b - (s - a)};
}

static inline dd dd_mul(dd a, dd b) {
    double p = a.hi * b.hi;
    double e = fma(a.hi, b.hi, -p) + (a.hi * b.lo + a.lo * b.hi);
    return dd_quick(p, e);
}

static inline dd dd_add(dd a, dd b) {
    double s = a.hi + b.hi, bb = s - a.hi;
    double e = (a.hi - (s - bb)) + (b.hi - bb) + a.lo + b.lo;
    return dd_quick(s, e);
}

static inline dd dd_one_minus(double x) { /* 1 - x, exactly */
    double s = 1.0 - x, bb = s - 1.0;
    return dd_quick(s, (1.0 - (s - bb)) + (-x - bb));
}

static inline dd dd_sub(dd a, dd b) { return dd_add(a, (dd){-b.hi, -b.lo}); }

#endif
