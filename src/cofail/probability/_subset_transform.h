/*
 * Subset transforms over the 2^n sets of n layers, in double-double, blocked for the cache and
 * run on several threads (pthreads). Shared by the inclusion-exclusion kernels.
 *
 *   zeta_mul(t, n)           t[A] <- product of the original t[B] over B inside A
 *   superset_add(t, a, n)    t[A] <- sum of t[B] over B containing A; the same for a (doubles)
 *
 * Each pass over bit i combines the pairs (A, A + bit i). Done one bit at a time over the whole
 * array, that streams 2^n * 16 bytes through memory n times (24 passes of 256 MiB at n = 24).
 * Blocked: the low LOW_BITS bits are done block by block (a block fits in the L2 cache), then
 * the high bits by groups of GROUP_BITS, tile by tile, a tile being the same contiguous columns
 * of the 2^GROUP_BITS blocks that differ only in the group's bits: each element leaves memory
 * 1 + ceil((n - 13) / 6) times (3 times at n = 24). Blocks and tiles are independent: threads share them out. Every element
 * sees the same operations in the same order whatever the blocking and the thread count, so
 * the results are the same to the bit.
 */
#ifndef COFAIL_SUBSET_TRANSFORM_H
#define COFAIL_SUBSET_TRANSFORM_H

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "_double_double.h"

#define LOW_BITS 13      /* a block of 2^13 double-doubles: 128 KiB */
#define GROUP_BITS 6      /* the high bits go by groups of 6: a tile of 64 rows */
#define TILE_BYTES 262144 /* a tile of the high passes: 256 KiB */
#define MAX_THREADS 16
#define PARALLEL_FROM 16 /* below 2^16 sets, threads cost more than they save */

/* An array of 2^n sets: 2 MiB aligned and, where Linux has transparent huge pages on request,
 * backed by huge pages (a 24-layer array is 256 MiB: 128 page faults instead of 65,536, and
 * the tile passes stop missing the TLB). Free it with free(). */
static void *big_alloc(size_t bytes) {
    const size_t huge = (size_t)1 << 21;
    if (bytes < 2 * huge) return malloc(bytes);
    void *p = NULL;
    if (posix_memalign(&p, huge, (bytes + huge - 1) / huge * huge) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, (bytes + huge - 1) / huge * huge, MADV_HUGEPAGE); /* advice: failure is harmless */
#endif
    return p;
}

typedef enum { ZETA_MUL, SUPERSET_ADD } Butterfly;

typedef struct {
    Butterfly op;
    dd *t;
    double *a; /* SUPERSET_ADD's companion sums of |terms|, or NULL */
    int n, low;
    int shift, bits; /* the group of high bits being done: [shift, shift + bits) */
    size_t columns;  /* contiguous elements per row of a tile */
} Transform;

/* One butterfly on `count` contiguous pairs: zeta's one *= zero, or superset's zero += one. */
static inline void mul_rows(dd *restrict one, const dd *restrict zero, size_t count) {
    for (size_t c = 0; c < count; c++) one[c] = dd_mul(one[c], zero[c]);
}

static inline void add_rows(dd *restrict zero, const dd *restrict one, size_t count) {
    for (size_t c = 0; c < count; c++) zero[c] = dd_add(zero[c], one[c]);
}

static inline void add_abs_rows(double *restrict zero, const double *restrict one, size_t count) {
    for (size_t c = 0; c < count; c++) zero[c] += one[c];
}

/* The butterflies between the `count` elements from b and those from b + bit. */
static inline __attribute__((always_inline)) void pair_rows(const Transform *x, size_t b,
                                                            size_t bit, size_t count) {
    if (x->op == ZETA_MUL) {
        mul_rows(x->t + b + bit, x->t + b, count);
    } else {
        add_rows(x->t + b, x->t + b + bit, count);
        if (x->a) add_abs_rows(x->a + b, x->a + b + bit, count);
    }
}

/* The pairs of bit i in [start, end), `count` contiguous pairs at a time. */
static inline __attribute__((always_inline)) void pass(const Transform *x, size_t start, size_t end,
                                                     size_t bit, size_t count) {
    for (size_t z = start; z < end; z += 2 * bit)
        for (size_t b = z; b < z + bit; b += count) pair_rows(x, b, bit, count);
}

/* The low bits inside block k. */
DD_HOT static void transform_block(const Transform *x, size_t k) {
    const size_t start = k << x->low, end = start + ((size_t)1 << x->low);
    for (int i = 0; i < x->low; i++) {
        const size_t bit = (size_t)1 << i;
        pass(x, start, end, bit, bit < 8 ? bit : 8);
    }
}

/* Tile k of the group of bits [shift, shift + bits): 2^bits rows of `columns` contiguous
 * elements, 2^shift apart. A row is a few KiB, so a tile spans few pages (a tile of single
 * columns 2^shift apart would miss the TLB on every row). */
DD_HOT static void transform_tile(const Transform *x, size_t k) {
    const size_t stride = (size_t)1 << x->shift, per_row = stride / x->columns;
    const size_t base = ((k / per_row) << (x->shift + x->bits)) + (k % per_row) * x->columns;
    for (int i = 0; i < x->bits; i++) {
        const size_t bit = stride << i;
        for (size_t z = 0; z < (stride << x->bits); z += 2 * bit)
            for (size_t h = z; h < z + bit; h += stride) pair_rows(x, base + h, bit, x->columns);
    }
}

typedef struct {
    void *ctx;
    void (*work)(void *, size_t);
    size_t count;
    int thread, threads;
} Share;

static void *run_share(void *arg) {
    const Share *s = arg;
    for (size_t k = (size_t)s->thread; k < s->count; k += (size_t)s->threads) s->work(s->ctx, k);
    return NULL;
}

/* Threads to use: the online processors (at most MAX_THREADS), or COFAIL_THREADS if set. */
static int thread_count(void) {
    const char *env = getenv("COFAIL_THREADS");
    long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/* work(ctx, k) for every k in [0, count), shared out over `threads` threads (k, k + threads,
 * ... to each); returns when all are done. */
static void parallel_for(void *ctx, void (*work)(void *, size_t), size_t count, int threads) {
    if ((size_t)threads > count) threads = count ? (int)count : 1;
    pthread_t ids[MAX_THREADS];
    Share shares[MAX_THREADS];
    int running[MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++) shares[t] = (Share){ctx, work, count, t, threads};
    for (int t = 1; t < threads; t++)
        running[t] = pthread_create(&ids[t], NULL, run_share, &shares[t]) == 0;
    run_share(&shares[0]);
    for (int t = 1; t < threads; t++) {
        if (running[t]) pthread_join(ids[t], NULL);
        else run_share(&shares[t]); /* the thread could not start: its share runs here */
    }
}

static void block_work(void *x, size_t k) { transform_block(x, k); }

static void tile_work(void *x, size_t k) { transform_tile(x, k); }

static void subset_transform(Butterfly op, dd *t, double *a, int n) {
    Transform x = {op, t, a, n, n < LOW_BITS ? n : LOW_BITS, 0, 0, 0};
    const int threads = n >= PARALLEL_FROM ? thread_count() : 1;
    parallel_for(&x, block_work, (size_t)1 << (n - x.low), threads);
    for (x.shift = x.low; x.shift < n; x.shift += x.bits) {
        x.bits = n - x.shift < GROUP_BITS ? n - x.shift : GROUP_BITS;
        const size_t stride = (size_t)1 << x.shift;
        x.columns = TILE_BYTES / (sizeof(dd) << x.bits);
        if (x.columns > stride) x.columns = stride;
        parallel_for(&x, tile_work, ((size_t)1 << (n - x.bits)) / x.columns, threads);
    }
}

static void zeta_mul(dd *t, int n) { subset_transform(ZETA_MUL, t, NULL, n); }

static void superset_add(dd *t, double *a, int n) { subset_transform(SUPERSET_ADD, t, a, n); }

#endif
