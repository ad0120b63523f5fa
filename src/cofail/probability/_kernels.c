/*
 * Compiled kernels for exact stack failure with binary vulnerability cells.
 *
 * The model: failure mode j is present with probability p_j and then defeats every layer in its
 * bitmask c_j; layer i also fails on its own with residual r_i. Both kernels take the merged
 * modes (distinct, non-zero masks) and return P(at least k of the n layers fail).
 *
 *   dp_binary  positive-term dynamic programme over the sets of layers failed by modes. It runs
 *              sparse (only the reachable sets, i.e. unions of mode masks, are touched) and goes
 *              dense when most of the 2^n sets are reachable. Cost: sum over modes of the number
 *              of reachable sets so far, at most g 2^n. A work budget lets the caller fall back to
 *              inclusion-exclusion when that would be cheaper; the DP stops as soon as the modes
 *              left, at the current number of reachable sets each, would exceed it.
 *   ie_binary  inclusion-exclusion over the 2^n layer subsets (k = n only), in double-double
 *              arithmetic (about 106 bits) with a certified rounding bound. O(n 2^n + g); the
 *              subset transforms are blocked and threaded (_subset_transform.h).
 *   ie_binary_swings  the same sums for P(all fail | these layers fail), for many layer sets at
 *              once (a superset-sum transform): every mode's and layer's importance. O(n 2^n).
 *   at_least_k_given  P(at least k fail | these layers fail) for every layer set, positive terms:
 *              the importance of a k-out-of-n stack's modes and layers. O((g + n^2) 2^n).
 *   dp_binary_hashed  the sparse DP for up to 63 layers, reachable sets in a hash table.
 *   dddmp_probability  P and 1 - P of a BDD that CUDD dumped in DDDMP text format, one pass.
 *   cudd_probability   the same, read straight from CUDD's nodes in memory (no file).
 *   cudd_formula_probability  P and 1 - P of an AND/OR formula over live BDDs, without building it.
 *
 * The Python fallbacks in _exact.py and _inclusion.py compute the same quantities; the tests
 * compare them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_cudd_node.h"
#include "_double_double.h"
#include "_subset_transform.h"

#define MAX_LAYERS 30

typedef struct {
    Py_buffer masks; /* uint64, g entries */
    Py_buffer probs; /* float64, g entries */
    Py_buffer resid; /* float64, n entries */
    Py_ssize_t g;
    const uint64_t *m; /* the three buffers, typed (set by check_inputs) */
    const double *p, *r;
} Inputs;

static void release(Inputs *in) {
    if (in->masks.obj) PyBuffer_Release(&in->masks);
    if (in->probs.obj) PyBuffer_Release(&in->probs);
    if (in->resid.obj) PyBuffer_Release(&in->resid);
}

static int check_inputs(Inputs *in, int n) {
    if (n < 1 || n > MAX_LAYERS) {
        PyErr_Format(PyExc_ValueError, "n must be in [1, %d], got %d", MAX_LAYERS, n);
        return -1;
    }
    if (in->masks.len % 8 || in->probs.len % 8 || in->masks.len != in->probs.len) {
        PyErr_SetString(PyExc_ValueError, "masks (uint64) and probs (float64) must match");
        return -1;
    }
    if (in->resid.len != (Py_ssize_t)(8 * n)) {
        PyErr_SetString(PyExc_ValueError, "resid must hold n float64 values");
        return -1;
    }
    in->g = in->masks.len / 8;
    in->m = (const uint64_t *)in->masks.buf;
    in->p = (const double *)in->probs.buf;
    in->r = (const double *)in->resid.buf;
    for (Py_ssize_t j = 0; j < in->g; j++) {
        if (in->m[j] >> n) {
            PyErr_SetString(PyExc_ValueError, "a mode mask has a bit beyond layer n - 1");
            return -1;
        }
    }
    return 0;
}

/* table[x] = product over the h bits i of x that are NOT set of r[offset + i]. */
static double *complement_products(const double *r, int offset, int h) {
    double *table = malloc(((size_t)1 << h) * sizeof(double));
    if (!table) return NULL;
    table[0] = 1.0;
    for (int i = 0; i < h; i++) { /* double the table: bit i unset costs r_i, set costs nothing */
        const size_t half = (size_t)1 << i;
        for (size_t x = 0; x < half; x++) {
            table[x | half] = table[x];
            table[x] *= r[offset + i];
        }
    }
    return table;
}

/* P(at least `need` of the layers listed fail on their own), Poisson-binomial, positive terms. */
static double at_least_residual(const double *r, const int *layers, int count, int need) {
    if (need <= 0) return 1.0;
    if (need > count) return 0.0;
    double dist[65] = {0}; /* up to 63 layers (dp_binary_hashed) */
    dist[0] = 1.0;
    for (int t = 0; t < count; t++) {
        double ri = r[layers[t]];
        for (int c = t + 1; c >= 1; c--) dist[c] = dist[c] * (1.0 - ri) + dist[c - 1] * ri;
        dist[0] *= 1.0 - ri;
    }
    long double total = 0.0L;
    for (int c = need; c <= count; c++) total += dist[c];
    return (double)total;
}

static PyObject *dp_binary(PyObject *self, PyObject *args) {
    (void)self;
    Inputs in = {0};
    int n, k;
    long long budget;
    if (!PyArg_ParseTuple(args, "y*y*y*iiL", &in.masks, &in.probs, &in.resid, &n, &k, &budget))
        return NULL;
    if (check_inputs(&in, n) < 0 || k < 0 || k > n) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "k must be in [0, n]");
        release(&in);
        return NULL;
    }
    const uint64_t *masks = in.m;
    const double *probs = in.p, *r = in.r;
    const Py_ssize_t g = in.g;
    const size_t size = (size_t)1 << n;

    double *f = calloc(size, sizeof(double));
    uint8_t *seen = calloc(size / 8 + 1, 1);
    size_t capacity = 1024, count = 1;
    uint32_t *active = malloc(capacity * sizeof(uint32_t));
    PyObject *result = NULL;
    if (!f || !seen || !active) {
        PyErr_NoMemory();
        goto done;
    }
    int dense = 0, over_budget = 0;
    long long work = 0;
    Py_BEGIN_ALLOW_THREADS;
    f[0] = 1.0;
    seen[0] = 1;
    active[0] = 0;
    for (Py_ssize_t j = 0; j < g && !over_budget; j++) {
        const uint64_t c = masks[j];
        const double p = probs[j], q = 1.0 - p;
        if (p == 0.0) continue;
        if (dense) {
            for (size_t s = 0; s < size; s++) {
                if ((s & c) == c) continue;
                double v = f[s];
                if (v == 0.0) continue;
                f[s | c] += p * v;
                f[s] = q * v;
            }
            work += (long long)size;
        } else {
            const size_t snapshot = count;
            for (size_t t = 0; t < snapshot; t++) {
                uint32_t s = active[t];
                if ((s & c) == c) continue;
                uint32_t target = (uint32_t)(s | c);
                double v = f[s];
                f[target] += p * v;
                f[s] = q * v;
                if (!(seen[target >> 3] & (1u << (target & 7)))) {
                    seen[target >> 3] |= (uint8_t)(1u << (target & 7));
                    if (count == capacity) {
                        size_t grown = capacity * 2 > size ? size : capacity * 2;
                        uint32_t *bigger = realloc(active, grown * sizeof(uint32_t));
                        if (!bigger) {
                            over_budget = 2; /* out of memory: reported below */
                            break;
                        }
                        active = bigger;
                        capacity = grown;
                    }
                    active[count++] = target;
                }
            }
            work += (long long)snapshot;
            if (count > size / 16) dense = 1; /* many sets reachable: sweeping memory in order is cheaper */
        }
        /* The reachable sets only grow, so the modes left cost at least this much each. */
        long long floor_left = (long long)(g - j - 1) * (long long)(dense ? size : count);
        if (budget > 0 && work + floor_left > budget) over_budget = over_budget ? over_budget : 1;
    }
    Py_END_ALLOW_THREADS;
    if (over_budget == 2) {
        PyErr_NoMemory();
        goto done;
    }
    if (over_budget) {
        result = Py_BuildValue("OLn", Py_None, work, (Py_ssize_t)count);
        goto done;
    }

    long double total = 0.0L;
    if (k == n) {
        /* Every layer a mode left intact must fail on its own: weight prod_{i not in S} r_i. */
        int h = n / 2;
        double *lo = complement_products(r, 0, h), *hi = complement_products(r, h, n - h);
        if (!lo || !hi) {
            free(lo);
            free(hi);
            PyErr_NoMemory();
            goto done;
        }
        const size_t lomask = ((size_t)1 << h) - 1;
        if (dense) {
            for (size_t s = 0; s < size; s++)
                if (f[s] != 0.0) total += f[s] * lo[s & lomask] * hi[s >> h];
        } else {
            for (size_t t = 0; t < count; t++) {
                size_t s = active[t];
                total += f[s] * lo[s & lomask] * hi[s >> h];
            }
        }
        free(lo);
        free(hi);
    } else {
        int layers[MAX_LAYERS];
        for (size_t t = 0; t < (dense ? size : count); t++) {
            size_t s = dense ? t : active[t];
            if (f[s] == 0.0) continue;
            int failed = __builtin_popcountll(s), others = 0;
            if (failed >= k) {
                total += f[s];
                continue;
            }
            for (int i = 0; i < n; i++)
                if (!((s >> i) & 1)) layers[others++] = i;
            total += f[s] * at_least_residual(r, layers, others, k - failed);
        }
    }
    result = Py_BuildValue("dLn", (double)total, work, (Py_ssize_t)(dense ? (Py_ssize_t)size : (Py_ssize_t)count));

done:
    free(f);
    free(seen);
    free(active);
    release(&in);
    return result;
}

/*
 * The same positive-term DP for up to 63 layers, with the reachable sets kept in a hash table
 * instead of a 2^n array. Returns None when more than max_states sets become reachable, so that
 * the caller can use another engine.
 *
 * The table is open addressing with each set and its probability in the slot itself, and the DP
 * sweeps the slots in order. A set whose s | c is already known then costs one cache miss (its
 * slot), and the sweep reads memory in order. Sets added during a pass contain the pass's mode,
 * so the sweep skips them wherever they land; the table is grown before each pass so that no
 * pass can fill it more than half, and the slots never move during a pass.
 */
typedef struct {
    uint64_t key; /* a set of failed layers, or EMPTY_SET */
    double val;   /* its probability */
} StateSlot;

typedef struct {
    StateSlot *slots;
    size_t count, nslots; /* nslots: a power of two */
} StateTable;

#define EMPTY_SET UINT64_MAX /* no set of at most 63 layers */

static inline size_t slot_of(uint64_t key, size_t mask) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key & mask;
}

/* Slots with every key EMPTY_SET; large tables on huge pages (big_alloc), which cut TLB misses:
 * about 5% on 30 x 100. */
static StateSlot *state_slots(size_t nslots) {
    StateSlot *slots = big_alloc(nslots * sizeof(StateSlot));
    if (slots) memset(slots, 0xff, nslots * sizeof(StateSlot));
    return slots;
}

/* Make room for `more` new sets at most half full; -1 on out of memory. Re-inserts the sets in
 * slot order, so the table's layout (and the order of every later sum) depends only on the
 * input. */
static int state_table_reserve(StateTable *t, size_t more) {
    size_t nslots = t->nslots ? t->nslots : 1024;
    while (nslots < 2 * (t->count + more)) nslots *= 2;
    if (nslots == t->nslots) return 0;
    StateSlot *slots = state_slots(nslots);
    if (!slots) return -1;
    for (size_t i = 0; i < t->nslots; i++) {
        if (t->slots[i].key == EMPTY_SET) continue;
        size_t at = slot_of(t->slots[i].key, nslots - 1);
        while (slots[at].key != EMPTY_SET) at = (at + 1) & (nslots - 1);
        slots[at] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

/* Add `amount` to the probability of set `key`, inserting it if new (room was reserved). */
static inline void table_add(StateTable *t, uint64_t key, double amount) {
    const size_t mask = t->nslots - 1;
    size_t at = slot_of(key, mask);
    for (; t->slots[at].key != key; at = (at + 1) & mask) {
        if (t->slots[at].key == EMPTY_SET) {
            t->slots[at] = (StateSlot){key, amount};
            t->count++;
            return;
        }
    }
    t->slots[at].val += amount;
}

#define PREFETCH_AHEAD 16 /* slots ahead in the sweep whose s | c slot is fetched early */

static PyObject *dp_binary_hashed(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer masks_buf = {0}, probs_buf = {0}, resid_buf = {0};
    int n, k;
    long long max_states;
    if (!PyArg_ParseTuple(args, "y*y*y*iiL", &masks_buf, &probs_buf, &resid_buf, &n, &k,
                          &max_states))
        return NULL;
    PyObject *result = NULL;
    StateTable t = {0};
    const char *error = NULL;
    if (n < 1 || n > 63) error = "n must be in [1, 63]";
    else if (k < 0 || k > n) error = "k must be in [0, n]";
    else if (masks_buf.len % 8 || masks_buf.len != probs_buf.len) error = "masks and probs must match";
    else if (resid_buf.len != (Py_ssize_t)(8 * n)) error = "resid must hold n float64 values";
    if (error) {
        PyErr_SetString(PyExc_ValueError, error);
        goto done;
    }
    const uint64_t *masks = (const uint64_t *)masks_buf.buf;
    const double *probs = (const double *)probs_buf.buf, *r = (const double *)resid_buf.buf;
    const Py_ssize_t g = masks_buf.len / 8;
    int failed = 0, too_many = 0;
    long double total = 0.0L;
    Py_BEGIN_ALLOW_THREADS;
    failed = state_table_reserve(&t, 1) < 0;
    if (!failed) table_add(&t, 0, 1.0); /* no layer failed yet, for sure */
    for (Py_ssize_t j = 0; j < g && !failed && !too_many; j++) {
        const uint64_t c = masks[j];
        const double p = probs[j], q = 1.0 - p;
        if (p == 0.0 || c >> n) continue;
        size_t sources = t.count; /* at most; counted only when that much room is lacking */
        if (4 * t.count > t.nslots) {
            sources = 0;
            for (size_t i = 0; i < t.nslots; i++)
                sources += t.slots[i].key != EMPTY_SET && (t.slots[i].key & c) != c;
        }
        if (state_table_reserve(&t, sources) < 0) {
            failed = 1;
            break;
        }
        const size_t mask = t.nslots - 1;
        for (size_t i = 0; i < t.nslots; i++) {
            if (i + PREFETCH_AHEAD < t.nslots) { /* a hint: overlap the misses of the sweep */
                const uint64_t ahead = t.slots[i + PREFETCH_AHEAD].key;
                if (ahead != EMPTY_SET) __builtin_prefetch(&t.slots[slot_of(ahead | c, mask)], 1);
            }
            const uint64_t s = t.slots[i].key;
            if (s == EMPTY_SET || (s & c) == c) continue;
            const double v = t.slots[i].val;
            t.slots[i].val = q * v;
            table_add(&t, s | c, p * v);
        }
        if (t.count > (size_t)max_states) too_many = 1;
    }
    if (!failed && !too_many) {
        int layers[64];
        for (size_t i = 0; i < t.nslots; i++) {
            const uint64_t s = t.slots[i].key;
            if (s == EMPTY_SET) continue;
            const double v = t.slots[i].val;
            int down = __builtin_popcountll(s), others = 0;
            if (down >= k) {
                total += v;
                continue;
            }
            for (int l = 0; l < n; l++)
                if (!((s >> l) & 1)) layers[others++] = l;
            if (k == n) { /* every intact layer must fail on its own */
                double w = v;
                for (int o = 0; o < others; o++) w *= r[layers[o]];
                total += w;
            } else {
                total += v * at_least_residual(r, layers, others, k - down);
            }
        }
    }
    Py_END_ALLOW_THREADS;
    if (failed) PyErr_NoMemory();
    else if (too_many) result = Py_BuildValue("On", Py_None, (Py_ssize_t)t.count);
    else result = Py_BuildValue("dn", (double)total, (Py_ssize_t)t.count);

done:
    free(t.slots);
    PyBuffer_Release(&masks_buf);
    PyBuffer_Release(&probs_buf);
    PyBuffer_Release(&resid_buf);
    return result;
}

static dd dd_recip(dd b) { /* 1 / b by two Newton steps from the double reciprocal */
    dd y = {1.0 / b.hi, 0.0};
    for (int step = 0; step < 2; step++) {
        dd e = dd_add((dd){1.0, 0.0}, dd_mul((dd){-b.hi, -b.lo}, y)); /* 1 - b y */
        y = dd_add(y, dd_mul(y, e));
    }
    return y;
}

/* table[x] = product over the h bits i of x that are NOT set of keep[offset + i], in dd. */
static dd *dd_complement_products(const dd *keep, int offset, int h) {
    dd *table = malloc(((size_t)1 << h) * sizeof(dd));
    if (!table) return NULL;
    table[0] = (dd){1.0, 0.0};
    for (int i = 0; i < h; i++) {
        const size_t half = (size_t)1 << i;
        for (size_t x = 0; x < half; x++) {
            table[x | half] = table[x];
            table[x] = dd_mul(table[x], keep[offset + i]);
        }
    }
    return table;
}

/*
 * P(all n layers fail) = sum over A of (-1)^(n-|A|) * B * I(A) * R(complement of A), where
 * B = prod_j (1 - p_j), I(A) = prod_{c_j inside A} 1 / (1 - p_j) (a multiplicative zeta
 * transform) and R(T) = prod_{i in T} (1 - r_i). Every term is a product of at most
 * n + 8 + merges double-double roundings, so each carries a relative error below
 * (n + 8 + merges) * 8 u^2 (u = 2^-53); the alternating sum adds at most 2^n * 4 u^2 * sum|term|.
 * The term of A is zero where a certain mode hits the layers that must stay intact.
 */
#define CHUNK_BITS 16 /* the element-wise passes go by chunks of 2^16 sets, one per thread */

static size_t chunks_of(int n) { return n > CHUNK_BITS ? (size_t)1 << (n - CHUNK_BITS) : 1; }

static size_t chunk_size(int n) { return (size_t)1 << (n > CHUNK_BITS ? CHUNK_BITS : n); }

static int threads_for(int n) { return n >= PARALLEL_FROM ? thread_count() : 1; }

typedef struct {
    dd *terms;
    int n, h;
    dd base;
    const dd *lo_table, *hi_table;
    const uint64_t *certain;
    Py_ssize_t n_certain;
    dd *sums;         /* when set, one sum per chunk of the terms, which are then not stored */
    double *abs_sums; /* and of their absolute values */
} TermsCtx;

static void fill_ones(void *ctx, size_t k) {
    const TermsCtx *c = ctx;
    const size_t width = chunk_size(c->n);
    for (size_t a = k * width; a < (k + 1) * width; a++) c->terms[a] = (dd){1.0, 0.0};
}

/* The signed term of each set A of chunk k, from I(A): stored in place of I(A), or, when the
 * context asks for sums, added up (in order of A) without being stored. */
DD_HOT static void sign_terms(void *ctx, size_t k) {
    const TermsCtx *c = ctx;
    const size_t width = chunk_size(c->n), full = ((size_t)1 << c->n) - 1;
    const size_t lomask = ((size_t)1 << c->h) - 1;
    dd sum = {0.0, 0.0};
    double abs_sum = 0.0;
    for (size_t a = k * width; a < (k + 1) * width; a++) {
        const size_t t = full ^ a; /* the layers that must stay intact */
        int hit = 0;
        for (Py_ssize_t j = 0; j < c->n_certain && !hit; j++) hit = (t & c->certain[j]) != 0;
        dd term = {0.0, 0.0};
        if (!hit) { /* R(T) = prod_{i in T} keep_i = complement products over A's bits */
            term = dd_mul(dd_mul(c->base, c->terms[a]),
                          dd_mul(c->lo_table[a & lomask], c->hi_table[a >> c->h]));
            if ((c->n - __builtin_popcountll(a)) & 1) term = (dd){-term.hi, -term.lo};
        }
        if (c->sums) {
            abs_sum += fabs(term.hi);
            sum = dd_add(sum, term);
        } else {
            c->terms[a] = term;
        }
    }
    if (c->sums) {
        c->sums[k] = sum;
        c->abs_sums[k] = abs_sum;
    }
}

/*
 * The inclusion-exclusion terms of every set A into `terms` (2^n of them), or, given `sum` and
 * `abs_sum`, only their sum and the sum of their absolute values: chunk sums in parallel, added
 * in chunk order (the same result whatever the thread count), one pass fewer over the array.
 * Returns 1, 0 when B underflows (no certified result) or -1 out of memory. Runs without the GIL.
 */
static int ie_terms(const Inputs *in, int n, dd *terms, int *merges, dd *sum, double *abs_sum) {
    const uint64_t *masks = in->m;
    const double *probs = in->p, *r = in->r;
    const Py_ssize_t g = in->g;
    const int h = n / 2, threads = threads_for(n);
    dd keep[MAX_LAYERS];
    for (int i = 0; i < n; i++) keep[i] = dd_one_minus(r[i]);
    const size_t chunks = chunks_of(n);
    uint64_t *certain = malloc((size_t)(g ? g : 1) * sizeof(uint64_t));
    dd *lo_table = dd_complement_products(keep, 0, h);
    dd *hi_table = dd_complement_products(keep, h, n - h);
    TermsCtx c = {terms, n, h, {1.0, 0.0}, lo_table, hi_table, certain, 0, NULL, NULL};
    if (sum) {
        c.sums = malloc(chunks * sizeof(dd));
        c.abs_sums = malloc(chunks * sizeof(double));
    }
    int status = 1;
    if (!certain || !lo_table || !hi_table || (sum && (!c.sums || !c.abs_sums))) {
        status = -1;
        goto done;
    }
    *merges = 0;
    parallel_for(&c, fill_ones, chunks, threads); /* I(A), built in place */
    for (Py_ssize_t j = 0; j < g; j++) {
        if (masks[j] == 0 || probs[j] == 0.0) continue;
        if (probs[j] >= 1.0) {
            certain[c.n_certain++] = masks[j];
            continue;
        }
        dd keep_j = dd_one_minus(probs[j]);
        c.base = dd_mul(c.base, keep_j);
        terms[masks[j]] = dd_mul(terms[masks[j]], dd_recip(keep_j));
        (*merges)++;
    }
    if (c.base.hi < 1e-250) { /* B underflows and I(A) overflows: no certified result */
        status = 0;
        goto done;
    }
    zeta_mul(terms, n); /* multiplicative zeta: I[A] *= I[A - bit], bit by bit */
    parallel_for(&c, sign_terms, chunks, threads);
    if (sum) {
        *sum = (dd){0.0, 0.0};
        *abs_sum = 0.0;
        for (size_t k = 0; k < chunks; k++) {
            *sum = dd_add(*sum, c.sums[k]);
            *abs_sum += c.abs_sums[k];
        }
    }
done:
    free(c.sums);
    free(c.abs_sums);
    free(certain);
    free(lo_table);
    free(hi_table);
    return status;
}

/* The rounding bound of a sum of terms whose absolute values add up to abs_sum. */
static double ie_bound(double abs_sum, int n, int merges, double value) {
    const double u2 = 0x1p-106;
    /* per-term rounding, summation, the rounding of abs_sum itself (a double sum by chunks of
       2^16 or a superset sum n deep: below (2^16 + 2^14) u < 1e-10 relative up to 30 layers),
       final rounding, and terms that underflowed to zero */
    const double size = (double)((size_t)1 << n);
    return abs_sum * (1.0 + 1e-10) * ((n + 8 + merges) * 8.0 + size * 4.0) * u2 +
           DBL_EPSILON * fabs(value) + size * DBL_MIN;
}

static PyObject *ie_binary(PyObject *self, PyObject *args) {
    (void)self;
    Inputs in = {0};
    int n;
    if (!PyArg_ParseTuple(args, "y*y*y*i", &in.masks, &in.probs, &in.resid, &n)) return NULL;
    if (check_inputs(&in, n) < 0) {
        release(&in);
        return NULL;
    }
    const size_t size = (size_t)1 << n;
    dd *terms = big_alloc(size * sizeof(dd));
    PyObject *result = NULL;
    int status = -1, merges = 0;
    double abs_sum = 0.0;
    dd sum = {0.0, 0.0};
    if (terms) {
        Py_BEGIN_ALLOW_THREADS;
        status = ie_terms(&in, n, terms, &merges, &sum, &abs_sum);
        Py_END_ALLOW_THREADS;
    }
    if (status < 0) PyErr_NoMemory();
    else if (status == 0) result = Py_BuildValue("dd", 0.0, INFINITY);
    else {
        double value = sum.hi + sum.lo, bound = ie_bound(abs_sum, n, merges, value);
        if (value < 0.0) value = 0.0;
        if (value > 1.0) value = 1.0;
        result = Py_BuildValue("dd", value, bound);
    }
    free(terms);
    release(&in);
    return result;
}

/*
 * The swing of P(all layers fail) when the layers of U are made to fail, for each target U:
 * X(U) - P, where X(U) = P(every layer outside U fails). X(U) is the same alternating sum over
 * the sets A of layers allowed to fail, restricted to A containing U: one superset-sum
 * transform of the terms (n passes over 2^n) gives every X(U) at once. Mode j's Birnbaum
 * importance is (X(c_j) - P) / (1 - p_j), layer i's (X({i}) - P) / (1 - r_i), since P is
 * p X + (1 - p) P(all fail | absent). The difference is taken in double-double, and each comes
 * with a rounding bound like ie_binary's over the terms both sums used.
 */
static PyObject *ie_binary_swings(PyObject *self, PyObject *args) {
    (void)self;
    Inputs in = {0};
    Py_buffer targets = {0};
    int n;
    if (!PyArg_ParseTuple(args, "y*y*y*iy*", &in.masks, &in.probs, &in.resid, &n, &targets))
        return NULL;
    PyObject *result = NULL, *diffs = NULL, *bounds = NULL;
    dd *terms = NULL;
    double *abs_terms = NULL;
    if (check_inputs(&in, n) < 0) goto done;
    if (n > 26) {
        PyErr_SetString(PyExc_ValueError, "ie_binary_swings handles at most 26 layers");
        goto done;
    }
    const Py_ssize_t count = targets.len / 8;
    const uint64_t *target = targets.buf;
    if (targets.len % 8) {
        PyErr_SetString(PyExc_ValueError, "targets must be uint64 layer sets");
        goto done;
    }
    for (Py_ssize_t t = 0; t < count; t++) {
        if (target[t] >> n) {
            PyErr_SetString(PyExc_ValueError, "a target has a bit beyond layer n - 1");
            goto done;
        }
    }
    const size_t size = (size_t)1 << n;
    terms = big_alloc(size * sizeof(dd));
    abs_terms = big_alloc(size * sizeof(double));
    diffs = PyBytes_FromStringAndSize(NULL, count * 8);
    bounds = PyBytes_FromStringAndSize(NULL, count * 8);
    if (!diffs || !bounds) goto done;
    if (!terms || !abs_terms) {
        PyErr_NoMemory();
        goto done;
    }
    double *diff = (double *)PyBytes_AS_STRING(diffs), *bound = (double *)PyBytes_AS_STRING(bounds);
    int status, merges = 0;
    double value = 0.0;
    Py_BEGIN_ALLOW_THREADS;
    status = ie_terms(&in, n, terms, &merges, NULL, NULL);
    if (status == 1) {
        for (size_t a = 0; a < size; a++) abs_terms[a] = fabs(terms[a].hi);
        superset_add(terms, abs_terms, n); /* S[A] = sum over B containing A */
        value = terms[0].hi + terms[0].lo;
        for (Py_ssize_t t = 0; t < count; t++) {
            dd d = dd_sub(terms[target[t]], terms[0]);
            diff[t] = d.hi + d.lo;
            bound[t] = ie_bound(abs_terms[target[t]] + abs_terms[0], n, merges, diff[t]);
        }
    }
    Py_END_ALLOW_THREADS;
    if (status < 0) PyErr_NoMemory();
    else if (status == 0) result = Py_BuildValue("dOO", 0.0, Py_None, Py_None);
    else result = Py_BuildValue("dOO", value, diffs, bounds);
done:
    Py_XDECREF(diffs);
    Py_XDECREF(bounds);
    free(terms);
    free(abs_terms);
    if (targets.obj) PyBuffer_Release(&targets);
    release(&in);
    return result;
}

/*
 * H(U) = P(at least k of the n layers fail | the layers of U fail), for every U: the
 * distribution D(F) of the sets F the modes fail (one pass per mode: a set without the mode's
 * layers moves to its union with them with probability p), then one pass per layer i that turns
 * bit i of F into bit i of U while counting failed layers (a layer in U or in F fails; any
 * other fails with its residual r_i). Every term is a product of probabilities: no
 * cancellation. 2^n (n + 1) doubles; O((g + n^2) 2^n).
 */
static PyObject *at_least_k_given(PyObject *self, PyObject *args) {
    (void)self;
    Inputs in = {0};
    int n, k;
    if (!PyArg_ParseTuple(args, "y*y*y*ii", &in.masks, &in.probs, &in.resid, &n, &k)) return NULL;
    PyObject *result = NULL;
    double *counts = NULL, *dist = NULL;
    if (check_inputs(&in, n) < 0) goto done;
    if (n > 20 || k < 0 || k > n) {
        PyErr_SetString(PyExc_ValueError, "at_least_k_given: n <= 20 and 0 <= k <= n");
        goto done;
    }
    const size_t size = (size_t)1 << n, w = (size_t)n + 1;
    counts = calloc(size * w, sizeof(double));
    dist = calloc(size, sizeof(double));
    result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(size * sizeof(double)));
    if (!result) goto done;
    if (!counts || !dist) {
        Py_CLEAR(result);
        PyErr_NoMemory();
        goto done;
    }
    double *h = (double *)PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS;
    dist[0] = 1.0;
    for (Py_ssize_t j = 0; j < in.g; j++) {
        const uint64_t m = in.m[j];
        const double p = in.p[j], q = 1.0 - p;
        if (!m || p == 0.0) continue;
        /* A set that lacks some of the mode's layers is a source, its union a target; targets
         * hold all of them, so no source is touched before it is read. */
        for (size_t f = 0; f < size; f++) {
            if ((f & m) == m) continue;
            dist[f | m] += p * dist[f];
            dist[f] *= q;
        }
    }
    for (size_t f = 0; f < size; f++) counts[f * w] = dist[f];
    double by_mode[21], intact[21];
    for (int i = 0; i < n; i++) {
        const size_t bit = (size_t)1 << i;
        const double r = in.r[i], keep = 1.0 - r;
        for (size_t x = 0; x < size; x++) {
            if (x & bit) continue;
            double *a0 = &counts[x * w], *a1 = &counts[(x | bit) * w];
            memcpy(intact, a0, w * sizeof(double));
            memcpy(by_mode, a1, w * sizeof(double));
            a1[0] = 0.0; /* forced: it fails */
            a0[0] = intact[0] * keep;
            for (size_t c = 1; c < w; c++) {
                a1[c] = by_mode[c - 1] + intact[c - 1];
                a0[c] = intact[c] * keep + intact[c - 1] * r + by_mode[c - 1];
            }
        }
    }
    for (size_t u = 0; u < size; u++) {
        double total = 0.0;
        for (size_t c = (size_t)k; c < w; c++) total += counts[u * w + c];
        h[u] = total;
    }
    Py_END_ALLOW_THREADS;
done:
    free(counts);
    free(dist);
    release(&in);
    return result;
}

/*
 * Probability of a BDD dumped by CUDD in DDDMP text format (nodes numbered children first;
 * a negative id is a complemented edge; "T" marks the constant one). For every node both
 * P and Q = 1 - P are summed from positive terms, so complement edges never subtract.
 * probs[i] and comps[i] are p and 1 - p of the variable with CUDD index i.
 */
static PyObject *dddmp_probability(PyObject *self, PyObject *args) {
    (void)self;
    const char *path;
    Py_buffer probs = {0}, comps = {0};
    if (!PyArg_ParseTuple(args, "sy*y*", &path, &probs, &comps)) return NULL;
    PyObject *result = NULL;
    double *P = NULL, *Q = NULL;
    FILE *file = NULL;
    const char *error = NULL;
    const long nvars = (long)(probs.len / 8);
    const double *pv = (const double *)probs.buf, *qv = (const double *)comps.buf;
    long nnodes = -1, root = 0, have_root = 0;
    double out_p = 0.0, out_q = 0.0;
    if (probs.len != comps.len || probs.len % 8) {
        error = "probs and comps must be float64 arrays of the same length";
        goto done;
    }
    file = fopen(path, "r");
    if (!file) {
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS;
    char *line = NULL;
    size_t line_size = 0;
    long nsupport = -1, *support = NULL; /* column 3 of a node is a position in .ids */
    while (getline(&line, &line_size, file) > 0) {
        if (strncmp(line, ".nnodes ", 8) == 0) nnodes = strtol(line + 8, NULL, 10);
        else if (strncmp(line, ".nsuppvars ", 11) == 0) nsupport = strtol(line + 11, NULL, 10);
        else if (strncmp(line, ".ids ", 5) == 0 && nsupport > 0 && !support) {
            support = malloc((size_t)nsupport * sizeof(long));
            char *cursor = line + 5;
            for (long i = 0; support && i < nsupport; i++) support[i] = strtol(cursor, &cursor, 10);
        } else if (strncmp(line, ".rootids ", 9) == 0) {
            root = strtol(line + 9, NULL, 10);
            have_root = 1;
        } else if (strncmp(line, ".nodes", 6) == 0) break;
    }
    if (nnodes < 1 || !have_root || nsupport < 0 || (nsupport > 0 && !support))
        error = "not a DDDMP dump with one root";
    if (!error) {
        P = malloc((size_t)(nnodes + 1) * sizeof(double));
        Q = malloc((size_t)(nnodes + 1) * sizeof(double));
        if (!P || !Q) error = "out of memory";
    }
    long count = 0;
    while (!error && getline(&line, &line_size, file) > 0) {
        if (line[0] == '.') break; /* .end */
        char *cursor = line, *name;
        long id = strtol(cursor, &cursor, 10);
        while (*cursor == ' ') cursor++;
        name = cursor;
        while (*cursor && *cursor != ' ') cursor++;
        long position = strtol(cursor, &cursor, 10);
        long then_id = strtol(cursor, &cursor, 10);
        long else_id = strtol(cursor, &cursor, 10);
        if (id < 1 || id > nnodes) {
            error = "node id out of range";
            break;
        }
        count++;
        if (name[0] == 'T' && name[1] == ' ') { /* the constant one */
            P[id] = 1.0;
            Q[id] = 0.0;
            continue;
        }
        long t = labs(then_id), e = labs(else_id);
        long index = position >= 0 && position < nsupport ? support[position] : -1;
        if (index < 0 || index >= nvars || t < 1 || t >= id || e < 1 || e >= id) {
            error = "node refers to an unknown variable or to a node not yet read";
            break;
        }
        double pt = then_id > 0 ? P[t] : Q[t], qt = then_id > 0 ? Q[t] : P[t];
        double pe = else_id > 0 ? P[e] : Q[e], qe = else_id > 0 ? Q[e] : P[e];
        P[id] = pv[index] * pt + qv[index] * pe;
        Q[id] = pv[index] * qt + qv[index] * qe;
    }
    free(line);
    free(support);
    if (!error && (count != nnodes || labs(root) < 1 || labs(root) > nnodes))
        error = "truncated DDDMP dump";
    if (!error) {
        out_p = root > 0 ? P[root] : Q[-root];
        out_q = root > 0 ? Q[root] : P[-root];
    }
    Py_END_ALLOW_THREADS;
    if (!error) result = Py_BuildValue("dd", out_p, out_q);

done:
    if (error && !PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, error);
    if (file) fclose(file);
    free(P);
    free(Q);
    PyBuffer_Release(&probs);
    PyBuffer_Release(&comps);
    return result;
}

/*
 * The same probability read straight from CUDD's node structures (_cudd_node.h), given the
 * address of a live root node. The caller passes the address of the constant one, and checks
 * the layout against dd's own accessors once (see cudd_node).
 */

/* A hash table from tuples of k node addresses (k = 1: single nodes) to (P, Q), shared by the
 * one-BDD walk and the formula expansion below. Entries sit in one dense array, in the order
 * added; an open-addressing index of 8-byte slots (entry number + 1, 32 bits of the hash) finds
 * them. Growing rewrites only the index (read from the entries in order), and the entries grow
 * in place (realloc moves a large block by remapping its pages, without copying). das9701's
 * formula: 6.3 million tuples of 9 nodes in 0.6 GB of entries and a 0.13 GB index, where a
 * table of whole slots at half load took 1.7 GB and faulted in twice that while growing. */
typedef struct {
    uint64_t hash; /* never 0 */
    double P, Q;
    int32_t R;     /* the entry's ref in an emitted flat DAG (see formula_prob) */
    int32_t pad;
    uintptr_t key[];
} TupleEntry;

typedef struct {
    uint32_t entry; /* entry number + 1; 0 = empty */
    uint32_t tag;   /* the hash's low 32 bits: most mismatches never read the entry */
} IndexSlot;

typedef struct {
    int k;             /* key width: the number of leaves */
    size_t entry_bytes; /* sizeof(TupleEntry) + k node addresses */
    char *entries;
    IndexSlot *index;
    size_t count, capacity, nslots, max_count; /* max_count: most entries kept, 0 = no limit */
} TupleTable;

static inline TupleEntry *entry_at(const TupleTable *t, size_t i) {
    return (TupleEntry *)(t->entries + i * t->entry_bytes);
}

static inline uint64_t tuple_hash(const uintptr_t *key, int k) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < k; i++) {
        h ^= (uint64_t)key[i];
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    return h | 1; /* never 0 */
}

static int tuple_table_init(TupleTable *t, int k, size_t nslots) {
    t->k = k;
    t->entry_bytes = sizeof(TupleEntry) + (size_t)k * sizeof(uintptr_t);
    t->capacity = nslots / 2;
    t->entries = malloc(t->capacity * t->entry_bytes);
    t->index = calloc(nslots, sizeof(IndexSlot));
    t->count = 0;
    t->nslots = nslots;
    return t->entries && t->index ? 0 : -1;
}

static void tuple_table_free(TupleTable *t) {
    free(t->entries);
    free(t->index);
    t->entries = NULL;
    t->index = NULL;
}

/* The index slot of `key` (hash h): its entry, or the empty slot where it would go. */
static IndexSlot *tuple_index_slot(const TupleTable *t, const uintptr_t *key, uint64_t h) {
    const size_t mask = t->nslots - 1, width = (size_t)t->k * sizeof(uintptr_t);
    const uint32_t tag = (uint32_t)h;
    size_t at = slot_of(h, mask);
    for (;; at = (at + 1) & mask) {
        IndexSlot *s = &t->index[at];
        if (!s->entry) return s;
        if (s->tag != tag) continue;
        const TupleEntry *e = entry_at(t, s->entry - 1);
        if (e->hash == h && !memcmp(e->key, key, width)) return s;
    }
}

/* The entry holding `key` (hash h), or NULL. */
static inline const TupleEntry *tuple_find(const TupleTable *t, const uintptr_t *key, uint64_t h) {
    const IndexSlot *s = tuple_index_slot(t, key, h);
    return s->entry ? entry_at(t, s->entry - 1) : NULL;
}

/* Double the index and re-insert every entry, reading the entries in order. */
static int tuple_index_grow(TupleTable *t) {
    const size_t nslots = 2 * t->nslots, mask = nslots - 1;
    IndexSlot *index = calloc(nslots, sizeof(IndexSlot));
    if (!index) return -1;
    for (size_t i = 0; i < t->count; i++) {
        const uint64_t h = entry_at(t, i)->hash;
        size_t at = slot_of(h, mask);
        while (index[at].entry) at = (at + 1) & mask;
        index[at].entry = (uint32_t)(i + 1);
        index[at].tag = (uint32_t)h;
    }
    free(t->index);
    t->index = index;
    t->nslots = nslots;
    return 0;
}

/* 0, or -1 out of memory, or -2 past the caller's limit on entries. */
static int tuple_table_put(TupleTable *t, const uintptr_t *key, uint64_t h, double P, double Q,
                           int32_t R) {
    if (t->max_count && t->count >= t->max_count) return -2;
    if (t->count >= UINT32_MAX - 1) return -1;
    if (2 * (t->count + 1) > t->nslots && tuple_index_grow(t) < 0) return -1;
    if (t->count == t->capacity) {
        const size_t capacity = 2 * t->capacity;
        char *grown = realloc(t->entries, capacity * t->entry_bytes);
        if (!grown) return -1;
        t->entries = grown;
        t->capacity = capacity;
    }
    IndexSlot *s = tuple_index_slot(t, key, h);
    TupleEntry *e = entry_at(t, t->count);
    e->hash = h;
    e->P = P;
    e->Q = Q;
    e->R = R;
    memcpy(e->key, key, (size_t)t->k * sizeof(uintptr_t));
    s->entry = (uint32_t)(++t->count);
    s->tag = (uint32_t)h;
    return 0;
}

static inline const TupleEntry *node_entry(const TupleTable *t, uintptr_t key) {
    return tuple_find(t, &key, tuple_hash(&key, 1));
}

static PyObject *cudd_probability(PyObject *self, PyObject *args) {
    (void)self;
    unsigned long long address, one_address;
    Py_buffer probs = {0}, comps = {0};
    if (!PyArg_ParseTuple(args, "KKy*y*", &address, &one_address, &probs, &comps)) return NULL;
    const CuddNode *one = (const CuddNode *)(uintptr_t)one_address;
    const char *error = NULL;
    const long nvars = (long)(probs.len / 8);
    const double *pv = (const double *)probs.buf, *qv = (const double *)comps.buf;
    CuddNode *root = (CuddNode *)(uintptr_t)address;
    TupleTable table = {0};
    CuddNode **stack = NULL;
    size_t depth = 0, stack_size = 1024;
    double out_p = 0.0, out_q = 0.0;
    if (probs.len != comps.len || probs.len % 8) {
        error = "probs and comps must be float64 arrays of the same length";
        goto done;
    }
    if (!root || !one) {
        error = "null BDD node";
        goto done;
    }
    if (tuple_table_init(&table, 1, 1024) < 0 || !(stack = malloc(stack_size * sizeof(CuddNode *)))) {
        error = "out of memory";
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS;
    stack[depth++] = REGULAR(root);
    while (depth && !error) {
        CuddNode *node = stack[depth - 1];
        if (node == one) {
            depth--;
            continue;
        }
        if (node_entry(&table, (uintptr_t)node)) {
            depth--;
            continue;
        }
        CuddNode *t = REGULAR(node->then_child), *e = REGULAR(node->else_child);
        int pending = 0;
        CuddNode *kids[2] = {t, e};
        for (int i = 0; i < 2; i++) {
            if (kids[i] == one) continue;
            if (node_entry(&table, (uintptr_t)kids[i])) continue;
            if (push_node(&stack, &depth, &stack_size, kids[i]) < 0) {
                error = "out of memory";
                break;
            }
            pending = 1;
        }
        if (pending || error) continue;
        depth--;
        if ((long)node->index >= nvars) {
            error = "BDD node refers to a variable without a probability";
            break;
        }
        double pt = 1.0, qt = 0.0, pe = 1.0, qe = 0.0;
        if (t != one) {
            const TupleEntry *k = node_entry(&table, (uintptr_t)t);
            pt = k->P;
            qt = k->Q;
        }
        if (e != one) {
            const TupleEntry *k = node_entry(&table, (uintptr_t)e);
            pe = k->P;
            qe = k->Q;
        }
        if (COMPLEMENTED(node->else_child)) {
            double swap = pe;
            pe = qe;
            qe = swap;
        }
        double p = pv[node->index], q = qv[node->index];
        const uintptr_t key = (uintptr_t)node;
        if (tuple_table_put(&table, &key, tuple_hash(&key, 1), p * pt + q * pe, p * qt + q * qe,
                            0) < 0)
            error = "out of memory";
    }
    if (!error) {
        CuddNode *r = REGULAR(root);
        if (r == one) {
            out_p = 1.0;
            out_q = 0.0;
        } else {
            const TupleEntry *k = node_entry(&table, (uintptr_t)r);
            out_p = k->P;
            out_q = k->Q;
        }
        if (COMPLEMENTED(root)) {
            double swap = out_p;
            out_p = out_q;
            out_q = swap;
        }
    }
    Py_END_ALLOW_THREADS;

done:;
    PyObject *result = NULL;
    if (error) PyErr_SetString(PyExc_ValueError, error);
    else result = Py_BuildValue("ddn", out_p, out_q, (Py_ssize_t)table.count);
    tuple_table_free(&table);
    free(stack);
    PyBuffer_Release(&probs);
    PyBuffer_Release(&comps);
    return result;
}

/* (index, then address, else address) of the node at `address`: to check the layout. */
static PyObject *cudd_node(PyObject *self, PyObject *args) {
    (void)self;
    unsigned long long address;
    if (!PyArg_ParseTuple(args, "K", &address)) return NULL;
    CuddNode *node = REGULAR((CuddNode *)(uintptr_t)address);
    if (!node) {
        PyErr_SetString(PyExc_ValueError, "null BDD node");
        return NULL;
    }
    return Py_BuildValue("(kKK)", (unsigned long)node->index,
                         (unsigned long long)(uintptr_t)node->then_child,
                         (unsigned long long)(uintptr_t)node->else_child);
}

/*
 * P and 1 - P of a small AND/OR formula over live CUDD BDDs (the leaves), without building its
 * BDD: a Shannon expansion over tuples of leaf nodes, memoised on the tuple. At each step the
 * formula is evaluated in three-valued logic from the leaves that are constants; once the root
 * is decided the recursion stops, and non-constant leaves that no undecided gate needs any more
 * are set to a constant, so that tuples differing only there share one memo entry. No BDD node is created,
 * so CUDD's unique table, computed table and garbage collection stay out of it. Assumes a
 * variable's level equals its index (no reordering since the variables were added), which the
 * caller guarantees.
 */
#define MAX_LEAVES 32
static const char LIMIT_REACHED[] = "tuple limit reached";
#define MAX_FORMULA_GATES 64
#define MAX_GATE_ARGS 64

typedef struct {
    int is_and, nargs;
    int arg[MAX_GATE_ARGS];     /* < nleaves: a leaf; otherwise gate (arg - nleaves) */
    int negated[MAX_GATE_ARGS];
} FormulaGate;

typedef struct {
    TupleTable table;
    const CuddNode *one;
    const double *pv, *qv;
    long nvars;
    int nleaves, ngates;
    FormulaGate gates[MAX_FORMULA_GATES]; /* children before parents; the last is the root */
    const char *error;
    int emit;         /* also write the expansion out as a flat DAG (_flat_bdd.c's format) */
    int32_t *out;     /* (variable, then ref, else ref) per expanded tuple, children first */
    size_t out_count, out_capacity;
} FormulaCtx;

/* Three-valued value of a leaf: 0, 1, or -1 (not a constant). */
static inline int leaf_value(const FormulaCtx *c, uintptr_t u) {
    if (REGULAR(u) != c->one) return -1;
    return !COMPLEMENTED(u);
}

/* P and Q of the formula for the leaf nodes in `given` (complement bit in the low bit), and
 * in `ref` where that is in the emitted DAG: 0 the constant one, 1 zero, otherwise
 * (position + 1) << 1. */
static void formula_prob(FormulaCtx *c, const uintptr_t *given, double *P, double *Q,
                         int32_t *ref) {
    const int n = c->nleaves, g = c->ngates;
    int value[MAX_LEAVES + MAX_FORMULA_GATES];
    for (int i = 0; i < n; i++) value[i] = leaf_value(c, given[i]);
    for (int j = 0; j < g; j++) {
        const FormulaGate *gate = &c->gates[j];
        const int absorbing = gate->is_and ? 0 : 1;
        int out = !absorbing; /* the neutral value until an unknown or absorbing argument */
        for (int a = 0; a < gate->nargs; a++) {
            int v = value[gate->arg[a]];
            if (v >= 0 && gate->negated[a]) v = !v;
            if (v == absorbing) {
                out = absorbing;
                break;
            }
            if (v < 0) out = -1;
        }
        value[n + j] = out;
    }
    if (value[n + g - 1] >= 0) {
        *P = value[n + g - 1];
        *Q = 1.0 - *P;
        *ref = value[n + g - 1] ? 0 : 1;
        return;
    }
    /* Which leaves an undecided gate on the way from the root still needs. */
    char needed[MAX_LEAVES + MAX_FORMULA_GATES] = {0};
    needed[n + g - 1] = 1;
    for (int j = g - 1; j >= 0; j--) {
        if (!needed[n + j] || value[n + j] >= 0) continue;
        for (int a = 0; a < c->gates[j].nargs; a++) needed[c->gates[j].arg[a]] = 1;
    }
    uintptr_t key[MAX_LEAVES];
    const uintptr_t constant = (uintptr_t)c->one;
    uint32_t top = UINT32_MAX;
    for (int i = 0; i < n; i++) {
        /* An undecided leaf that no undecided gate needs can become a constant: the gates
         * it feeds are decided by other arguments, which keep their values. A constant leaf
         * keeps its own value: it may be what decided a gate. */
        key[i] = value[i] < 0 && !needed[i] ? constant : given[i];
        if (value[i] < 0 && needed[i] && REGULAR(key[i])->index < top)
            top = REGULAR(key[i])->index;
    }
    const uint64_t h = tuple_hash(key, n);
    const TupleEntry *found = tuple_find(&c->table, key, h);
    if (found) {
        *P = found->P;
        *Q = found->Q;
        *ref = found->R;
        return;
    }
    if ((long)top >= c->nvars) {
        c->error = "BDD node refers to a variable without a probability";
        *P = *Q = 0.0;
        return;
    }
    uintptr_t high[MAX_LEAVES], low[MAX_LEAVES];
    for (int i = 0; i < n; i++) {
        const CuddNode *r = REGULAR(key[i]);
        if (r != c->one && r->index == top) {
            uintptr_t flip = COMPLEMENTED(key[i]);
            high[i] = (uintptr_t)r->then_child ^ flip;
            low[i] = (uintptr_t)r->else_child ^ flip;
        } else {
            high[i] = low[i] = key[i];
        }
    }
    double ph, qh, pl, ql;
    int32_t rh, rl;
    formula_prob(c, high, &ph, &qh, &rh);
    if (c->error) return;
    formula_prob(c, low, &pl, &ql, &rl);
    if (c->error) return;
    const double p = c->pv[top], q = c->qv[top];
    *P = p * ph + q * pl;
    *Q = p * qh + q * ql;
    *ref = 0;
    if (c->emit) {
        if (c->out_count == c->out_capacity) {
            size_t grown_capacity = c->out_capacity ? 2 * c->out_capacity : 1024;
            int32_t *grown = grown_capacity < (size_t)INT32_MAX / 2
                                 ? realloc(c->out, 3 * grown_capacity * sizeof(int32_t))
                                 : NULL;
            if (!grown) { /* c->out is still valid, and freed by the caller */
                c->error = "out of memory";
                return;
            }
            c->out = grown;
            c->out_capacity = grown_capacity;
        }
        int32_t *node = &c->out[3 * c->out_count];
        node[0] = (int32_t)top;
        node[1] = rh;
        node[2] = rl;
        *ref = (int32_t)((c->out_count + 1) << 1);
        c->out_count++;
    }
    int stored = tuple_table_put(&c->table, key, h, *P, *Q, *ref);
    if (stored == -2) c->error = LIMIT_REACHED;
    else if (stored < 0) c->error = "out of memory";
}

/* Read the formula: a sequence of (op, [(argument, negated), ...]), children first. */
static const char *read_formula(FormulaCtx *c, PyObject *formula) {
    PyObject *gates = PySequence_Fast(formula, "formula must be a sequence of gates");
    if (!gates) return "";
    const char *error = NULL;
    Py_ssize_t g = PySequence_Fast_GET_SIZE(gates);
    if (g < 1 || g > MAX_FORMULA_GATES) error = "between 1 and 64 formula gates";
    for (Py_ssize_t j = 0; !error && j < g; j++) {
        const char *op;
        PyObject *arglist, *args = NULL;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(gates, j), "sO", &op, &arglist)) {
            error = "";
            break;
        }
        FormulaGate *gate = &c->gates[j];
        gate->is_and = strcmp(op, "and") == 0;
        if (!gate->is_and && strcmp(op, "or")) {
            error = "a formula gate is 'and' or 'or'";
            break;
        }
        args = PySequence_Fast(arglist, "gate arguments must be a sequence");
        if (!args) {
            error = "";
            break;
        }
        Py_ssize_t m = PySequence_Fast_GET_SIZE(args);
        if (m < 1 || m > MAX_GATE_ARGS) error = "a formula gate has 1 to 64 arguments";
        for (Py_ssize_t a = 0; !error && a < m; a++) {
            int index, negated;
            if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(args, a), "ip", &index, &negated)) {
                error = "";
            } else if (index < 0 || index >= c->nleaves + (int)j) {
                error = "a formula gate refers to a later gate or to no leaf";
            } else {
                gate->arg[a] = index;
                gate->negated[a] = negated;
            }
        }
        gate->nargs = (int)m;
        Py_DECREF(args);
    }
    c->ngates = (int)g;
    Py_DECREF(gates);
    return error;
}

static PyObject *cudd_formula_probability(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *leaves, *formula;
    unsigned long long one_address;
    Py_buffer probs = {0}, comps = {0};
    Py_ssize_t max_tuples = 0;
    int emit = 0;
    if (!PyArg_ParseTuple(args, "OOKy*y*|np", &leaves, &formula, &one_address, &probs, &comps,
                          &max_tuples, &emit))
        return NULL;
    PyObject *result = NULL, *seq = NULL;
    FormulaCtx *c = calloc(1, sizeof(FormulaCtx));
    uintptr_t nodes[MAX_LEAVES];
    const char *error = NULL;
    double P = 0.0, Q = 0.0;
    if (!c) {
        error = "out of memory";
        goto done;
    }
    if (probs.len != comps.len || probs.len % 8) {
        error = "probs and comps must be float64 arrays of the same length";
        goto done;
    }
    seq = PySequence_Fast(leaves, "leaves must be a sequence of node addresses");
    if (!seq) goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n < 1 || n > MAX_LEAVES) {
        error = "between 1 and 32 leaves";
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long long a = PyLong_AsUnsignedLongLong(PySequence_Fast_GET_ITEM(seq, i));
        if (PyErr_Occurred()) goto done;
        if (!a) {
            error = "null BDD node";
            goto done;
        }
        nodes[i] = (uintptr_t)a;
    }
    c->nleaves = (int)n;
    if ((error = read_formula(c, formula))) goto done;
    c->one = (const CuddNode *)(uintptr_t)one_address;
    c->pv = (const double *)probs.buf;
    c->qv = (const double *)comps.buf;
    c->nvars = (long)(probs.len / 8);
    if (!c->one || tuple_table_init(&c->table, (int)n, 1024) < 0) {
        error = c->one ? "out of memory" : "null BDD node";
        goto done;
    }
    if (max_tuples > 0) c->table.max_count = (size_t)max_tuples;
    c->emit = emit;
    int32_t root = 0;
    Py_BEGIN_ALLOW_THREADS;
    formula_prob(c, nodes, &P, &Q, &root);
    Py_END_ALLOW_THREADS;
    error = c->error;
    if (error == LIMIT_REACHED) {
        error = NULL;
        result = Py_NewRef(Py_None);
    } else if (!error && emit) {
        /* y# makes None of a null pointer: an expansion with no node is b"" */
        const char *out = c->out ? (const char *)c->out : "";
        result = Py_BuildValue("ddny#l", P, Q, (Py_ssize_t)c->table.count, out,
                               (Py_ssize_t)(3 * c->out_count * sizeof(int32_t)), (long)root);
    } else if (!error) {
        result = Py_BuildValue("ddn", P, Q, (Py_ssize_t)c->table.count);
    }

done:
    if (error && *error && !PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, error);
    if (c) {
        tuple_table_free(&c->table);
        free(c->out);
    }
    free(c);
    Py_XDECREF(seq);
    PyBuffer_Release(&probs);
    PyBuffer_Release(&comps);
    return result;
}

static PyMethodDef methods[] = {
    {"dp_binary", dp_binary, METH_VARARGS,
     "dp_binary(masks, probs, resid, n, k, budget) -> (P or None, work, reachable sets)\n\n"
     "Positive-term DP over sets of failed layers; None when the work budget (> 0) ran out."},
    {"dp_binary_hashed", dp_binary_hashed, METH_VARARGS,
     "dp_binary_hashed(masks, probs, resid, n, k, max_states) -> (P or None, reachable sets)\n\n"
     "The sparse DP for up to 63 layers, reachable sets in a hash table; None past max_states."},
    {"ie_binary", ie_binary, METH_VARARGS,
     "ie_binary(masks, probs, resid, n) -> (P(all fail), rounding error bound)\n\n"
     "Inclusion-exclusion over layer subsets in double-double arithmetic."},
    {"ie_binary_swings", ie_binary_swings, METH_VARARGS,
     "ie_binary_swings(masks, probs, resid, n, targets) -> (P, diffs, bounds)\n\n"
     "For each layer set U in targets (uint64): X(U) - P and its rounding bound (float64\n"
     "bytes), X(U) = P(every layer outside U fails); diffs None when nothing is certified."},
    {"at_least_k_given", at_least_k_given, METH_VARARGS,
     "at_least_k_given(masks, probs, resid, n, k) -> H (float64 bytes, 2^n values)\n\n"
     "H[U] = P(at least k of the n layers fail | the layers of U fail), n <= 20."},
    {"dddmp_probability", dddmp_probability, METH_VARARGS,
     "dddmp_probability(path, probs, comps) -> (P, 1 - P) of the BDD in a DDDMP text dump."},
    {"cudd_probability", cudd_probability, METH_VARARGS,
     "cudd_probability(address, one, probs, comps) -> (P, 1 - P, nodes) of a live CUDD BDD."},
    {"cudd_formula_probability", cudd_formula_probability, METH_VARARGS,
     "cudd_formula_probability(leaves, formula, one, probs, comps, max_tuples=0, emit=False)\n"
     "    -> (P, 1 - P, tuples[, nodes, root]), or None past max_tuples (0: no limit)\n\n"
     "emit: also the expansion as a flat DAG in _flat_bdd.c's format (nodes, root ref).\n"
     "An AND/OR formula over up to 32 live CUDD BDDs, without building it. formula: gates\n"
     "(op, [(argument, negated), ...]), children first, the last the root; an argument below\n"
     "len(leaves) is a leaf, otherwise gate (argument - len(leaves))."},
    {"cudd_node", cudd_node, METH_VARARGS,
     "cudd_node(address) -> (index, then address, else address) of an internal CUDD node."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels", "Compiled kernels for exact stack failure.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
