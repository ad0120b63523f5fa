/*
 * One pass over a layer's score column, for the scored-layer analysis (_roc.py, _analysis.py).
 *
 *   mann_whitney_counts(honest, attack) -> (below, ties)
 *       honest, attack: contiguous float64 buffers, each ascending. Returns the number of
 *       (honest, attack) pairs with honest < attack, and of pairs with honest == attack, as
 *       Python ints: the Mann-Whitney AUC is (below + ties / 2) / (n_h n_a). A merge of the two
 *       sorted columns: two cursors into the honest scores (first >= and first > the attack
 *       score) only move forward, so the cost is one streaming pass over each column, where a
 *       binary search per attack score costs log2(n_h) cache misses.
 *
 *   sorted_positions(left, right, hay, needles)
 *       hay, needles: contiguous float64 buffers, each ascending; left, right: writable int64
 *       buffers as long as needles. Writes the number of hay values < needles[j] into left[j]
 *       and <= needles[j] into right[j]: NumPy's searchsorted left and right, by the same
 *       merge (DeLong's structural components of the AUC, on a sample of one set against
 *       every case of the other).
 *
 *   first_flagged(out, column, ascending)
 *       column: contiguous float64 scores; ascending: float64 thresholds in ascending order,
 *       at most 255; out: a writable uint8 buffer as long as column. Writes into out[i] the
 *       number of thresholds NOT below column[i] (m minus the thresholds strictly below it):
 *       with the curve's thresholds, which fall as the budgets rise, that is the index of the
 *       first budget at which the case is flagged (score > threshold), m when none is. A
 *       branch-free lower bound over the thresholds, eight cases side by side.
 *
 *   at_least(index, values, column, bound, members, flags, threshold) -> count
 *       column: contiguous float64 scores; members: a uint8 (bool) buffer as long as column,
 *       or empty for every case; index (int64) and values (float64): writable buffers at least
 *       as long as column. Writes the positions i, ascending, of the cases (members) with
 *       column[i] >= bound into index[:count] and their scores into values[:count], and
 *       returns count: NumPy's flatnonzero of the mask and the gather after it, in one
 *       branch-free pass (each case is written at the next free place, which moves on only
 *       when the case is kept), without the mask and without the gather's second read.
 *       flags: a writable int16 buffer as long as column, or empty; where given, the same
 *       pass adds 1 to flags[i] for each case (member) with column[i] > threshold (a
 *       polish's count of the layers flagging each case: one read of the column for both).
 *
 * All compare doubles as C does (-0.0 == +0.0), as NumPy's searchsorted does. NaNs are
 * refused by the readers before any analysis. The GIL is released: two layers run at once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

/* Move the cursors lt (first honest score >= x) and le (first > x) forward to x, the next
 * needle in ascending order. */
static inline void advance(const double *h, Py_ssize_t n_h, double x, Py_ssize_t *lt,
                           Py_ssize_t *le) {
    while (*lt < n_h && h[*lt] < x) (*lt)++;
    if (*le < *lt) *le = *lt;
    while (*le < n_h && h[*le] <= x) (*le)++;
}

static void merge_counts(const double *h, Py_ssize_t n_h, const double *a, Py_ssize_t n_a,
                         unsigned long long *below, unsigned long long *ties) {
    Py_ssize_t lt = 0, le = 0;
    unsigned long long b = 0, t = 0;
    for (Py_ssize_t j = 0; j < n_a; j++) {
        advance(h, n_h, a[j], &lt, &le);
        b += (unsigned long long)lt;
        t += (unsigned long long)(le - lt);
    }
    *below = b;
    *ties = t;
}

static void positions(const double *h, Py_ssize_t n_h, const double *a, Py_ssize_t n_a,
                      int64_t *left, int64_t *right) {
    Py_ssize_t lt = 0, le = 0;
    for (Py_ssize_t j = 0; j < n_a; j++) {
        advance(h, n_h, a[j], &lt, &le);
        left[j] = (int64_t)lt;
        right[j] = (int64_t)le;
    }
}

static PyObject *sorted_positions(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer left, right, h, a;
    if (!PyArg_ParseTuple(args, "w*w*y*y*", &left, &right, &h, &a)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t n_a = a.len / (Py_ssize_t)sizeof(double);
    if (h.len % (Py_ssize_t)sizeof(double) || a.len % (Py_ssize_t)sizeof(double) ||
        left.len != n_a * (Py_ssize_t)sizeof(int64_t) || right.len != left.len) {
        PyErr_SetString(PyExc_ValueError, "sorted_positions: buffer sizes do not match");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS;
    positions(h.buf, h.len / (Py_ssize_t)sizeof(double), a.buf, n_a, left.buf, right.buf);
    Py_END_ALLOW_THREADS;
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&left);
    PyBuffer_Release(&right);
    PyBuffer_Release(&h);
    PyBuffer_Release(&a);
    return result;
}

static PyObject *mann_whitney_counts(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer h, a;
    if (!PyArg_ParseTuple(args, "y*y*", &h, &a)) return NULL;
    PyObject *result = NULL;
    if (h.len % (Py_ssize_t)sizeof(double) || a.len % (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "mann_whitney_counts: float64 buffers expected");
        goto done;
    }
    unsigned long long below, ties;
    Py_BEGIN_ALLOW_THREADS;
    merge_counts(h.buf, h.len / (Py_ssize_t)sizeof(double), a.buf,
                 a.len / (Py_ssize_t)sizeof(double), &below, &ties);
    Py_END_ALLOW_THREADS;
    result = Py_BuildValue("(KK)", below, ties);
done:
    PyBuffer_Release(&h);
    PyBuffer_Release(&a);
    return result;
}

#define LANES 8

/* The thresholds strictly below each of LANES values: a branch-free lower bound whose
 * halving steps depend on m only, so the LANES searches run side by side (their loads are
 * independent; one search alone waits on each load in turn). */
static inline void lanes_below(const double *t, size_t m, const double *v, size_t *below) {
    size_t base[LANES] = {0};
    size_t len = m;
    while (len > 1) {
        size_t half = len / 2;
        for (int k = 0; k < LANES; k++) base[k] += (t[base[k] + half - 1] < v[k]) ? half : 0;
        len -= half;
    }
    for (int k = 0; k < LANES; k++) below[k] = base[k] + (t[base[k]] < v[k]);
}

static void first_of(uint8_t *out, const double *x, Py_ssize_t n, const double *t, size_t m) {
    if (m == 0) {
        memset(out, 0, (size_t)n);
        return;
    }
    size_t below[LANES];
    Py_ssize_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        lanes_below(t, m, x + i, below);
        for (int k = 0; k < LANES; k++) out[i + k] = (uint8_t)(m - below[k]);
    }
    if (i < n) { /* the last few: padded with copies of the first of them */
        double v[LANES];
        for (int k = 0; k < LANES; k++) v[k] = x[i + k < n ? i + k : i];
        lanes_below(t, m, v, below);
        for (int k = 0; i + k < n; k++) out[i + k] = (uint8_t)(m - below[k]);
    }
}

static PyObject *first_flagged(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer out, x, t;
    if (!PyArg_ParseTuple(args, "w*y*y*", &out, &x, &t)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = x.len / (Py_ssize_t)sizeof(double);
    size_t m = (size_t)(t.len / (Py_ssize_t)sizeof(double));
    if (x.len % (Py_ssize_t)sizeof(double) || t.len % (Py_ssize_t)sizeof(double) || out.len != n) {
        PyErr_SetString(PyExc_ValueError, "first_flagged: buffer sizes do not match");
        goto done;
    }
    if (m > 255) {
        PyErr_SetString(PyExc_ValueError, "first_flagged: at most 255 thresholds");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS;
    first_of(out.buf, x.buf, n, t.buf, m);
    Py_END_ALLOW_THREADS;
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&out);
    PyBuffer_Release(&x);
    PyBuffer_Release(&t);
    return result;
}

/* The loop of at_least: FLAGS and MEMBERS are compile-time constants in each call below, so
 * each variant is its own branch-free loop. */
static inline Py_ssize_t select_loop(int64_t *index, double *values, const double *x,
                                     Py_ssize_t n, double bound, const uint8_t *members,
                                     int16_t *flags, double threshold, const int use_members,
                                     const int use_flags) {
    Py_ssize_t c = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        double v = x[i];
        int member = use_members ? (members[i] != 0) : 1;
        if (use_flags) flags[i] += (int16_t)((v > threshold) & member);
        index[c] = (int64_t)i;
        values[c] = v;
        c += (v >= bound) & member;
    }
    return c;
}

static Py_ssize_t select_at_least(int64_t *index, double *values, const double *x, Py_ssize_t n,
                                  double bound, const uint8_t *members, int16_t *flags,
                                  double threshold) {
    if (members == NULL && flags == NULL)
        return select_loop(index, values, x, n, bound, NULL, NULL, threshold, 0, 0);
    if (members == NULL)
        return select_loop(index, values, x, n, bound, NULL, flags, threshold, 0, 1);
    if (flags == NULL)
        return select_loop(index, values, x, n, bound, members, NULL, threshold, 1, 0);
    return select_loop(index, values, x, n, bound, members, flags, threshold, 1, 1);
}

static PyObject *at_least(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer index, values, x, members, flags;
    double bound, threshold;
    if (!PyArg_ParseTuple(args, "w*w*y*dy*w*d", &index, &values, &x, &bound, &members, &flags,
                          &threshold))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = x.len / (Py_ssize_t)sizeof(double);
    if (x.len % (Py_ssize_t)sizeof(double) || index.len < n * (Py_ssize_t)sizeof(int64_t) ||
        values.len < n * (Py_ssize_t)sizeof(double) || (members.len != 0 && members.len != n) ||
        (flags.len != 0 && flags.len != n * (Py_ssize_t)sizeof(int16_t))) {
        PyErr_SetString(PyExc_ValueError, "at_least: buffer sizes do not match");
        goto done;
    }
    Py_ssize_t count;
    Py_BEGIN_ALLOW_THREADS;
    count = select_at_least(index.buf, values.buf, x.buf, n, bound,
                            members.len ? (const uint8_t *)members.buf : NULL,
                            flags.len ? (int16_t *)flags.buf : NULL, threshold);
    Py_END_ALLOW_THREADS;
    result = PyLong_FromSsize_t(count);
done:
    PyBuffer_Release(&index);
    PyBuffer_Release(&values);
    PyBuffer_Release(&x);
    PyBuffer_Release(&members);
    PyBuffer_Release(&flags);
    return result;
}

static PyMethodDef methods[] = {
    {"mann_whitney_counts", mann_whitney_counts, METH_VARARGS,
     "mann_whitney_counts(honest, attack) -> (below, ties): pairs with honest < attack and\n"
     "with honest == attack, both columns float64 and ascending (a merge)."},
    {"sorted_positions", sorted_positions, METH_VARARGS,
     "sorted_positions(left, right, hay, needles): searchsorted left and right of ascending\n"
     "float64 needles in ascending float64 hay, as int64 (a merge)."},
    {"first_flagged", first_flagged, METH_VARARGS,
     "first_flagged(out, column, ascending): out[i] = the thresholds (ascending, at most 255)\n"
     "not below column[i], as uint8."},
    {"at_least", at_least, METH_VARARGS,
     "at_least(index, values, column, bound, members, flags, threshold) -> count: the\n"
     "positions (int64) and scores of the cases (members: uint8, or empty for all) with\n"
     "column >= bound; flags (int16, or empty) += column > threshold in the same pass."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_columns", "One pass over a sorted or unsorted score column.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__columns(void) { return PyModule_Create(&module); }
