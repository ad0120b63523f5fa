/*
 * An LSD radix sort of float64 scores, for the columns cofail scores sorts (_sorting.py).
 *
 *   sort_float64(out, src, spare) -> bool
 *       src: a contiguous float64 buffer; out and spare: writable ones of the same length.
 *       Writes the values of src into out in ascending order (spare is scratch) and returns
 *       True; returns False (out left unspecified) when src holds a NaN, for the caller to
 *       sort it another way. The caller allocates the scratch: NumPy backs large arrays with
 *       huge pages, where a malloc of 80 MB here took 20,000 page faults a column.
 *
 * Each double's bits are mapped to a uint64 key whose unsigned order is the numeric order
 * (negative: every bit flipped; otherwise the sign bit set), so -inf < -x < -0.0 < +0.0 < x <
 * +inf; then 8 stable counting passes of one byte each, least significant first, skipping a
 * byte every key shares (one histogram pass counts all 8). Each pass reads and writes the
 * column once, in order except for 256 write cursors, so the cost is about 10 streaming passes
 * over memory, where a comparison sort of 10^7 doubles costs 23 levels: 0.25 s against NumPy's
 * 0.84 s on 10^7 continuous scores here. The GIL is released: two columns sort at once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#define BITS 8
#define BUCKETS (1u << BITS)
#define PASSES (64 / BITS)

static inline uint64_t key_of(uint64_t u) {
    return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

static inline uint64_t value_of(uint64_t k) {
    return (k >> 63) ? (k & 0x7fffffffffffffffull) : ~k;
}

static inline int is_nan(uint64_t u) {
    return (u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (u & 0x000fffffffffffffull);
}

/* 0: sorted into dst; 1: src holds a NaN. */
static int radix_sort(const uint64_t *src, uint64_t *dst, uint64_t *spare, Py_ssize_t n) {
    size_t count[PASSES][BUCKETS];
    memset(count, 0, sizeof count);
    int nan = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t u = src[i];
        nan |= is_nan(u);
        uint64_t k = key_of(u);
        dst[i] = k;
        for (int p = 0; p < PASSES; p++) count[p][(k >> (p * BITS)) & (BUCKETS - 1)]++;
    }
    if (nan) return 1;
    uint64_t *from = dst, *to = spare;
    for (int p = 0; p < PASSES; p++) {
        size_t *c = count[p];
        int shared = 0;
        for (unsigned j = 0; j < BUCKETS; j++) {
            if (c[j] == (size_t)n) {
                shared = 1;
                break;
            }
        }
        if (shared) continue; /* every key has this byte: the pass would not move anything */
        size_t start = 0;
        for (unsigned j = 0; j < BUCKETS; j++) {
            size_t here = c[j];
            c[j] = start;
            start += here;
        }
        int shift = p * BITS;
        for (Py_ssize_t i = 0; i < n; i++) {
            uint64_t k = from[i];
            to[c[(k >> shift) & (BUCKETS - 1)]++] = k;
        }
        uint64_t *t = from;
        from = to;
        to = t;
    }
    if (from != dst) memcpy(dst, from, (size_t)n * sizeof(uint64_t));
    for (Py_ssize_t i = 0; i < n; i++) dst[i] = value_of(dst[i]);
    return 0;
}

static PyObject *sort_float64(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer out, src, spare;
    if (!PyArg_ParseTuple(args, "w*y*w*", &out, &src, &spare)) return NULL;
    PyObject *result = NULL;
    if (out.len != src.len || spare.len != src.len || src.len % (Py_ssize_t)sizeof(double) != 0) {
        PyErr_SetString(PyExc_ValueError, "sort_float64: buffer sizes do not match");
        goto done;
    }
    Py_ssize_t n = src.len / (Py_ssize_t)sizeof(double);
    int status;
    Py_BEGIN_ALLOW_THREADS;
    status = radix_sort(src.buf, out.buf, spare.buf, n);
    Py_END_ALLOW_THREADS;
    result = PyBool_FromLong(status == 0);
done:
    PyBuffer_Release(&out);
    PyBuffer_Release(&src);
    PyBuffer_Release(&spare);
    return result;
}

static PyMethodDef methods[] = {
    {"sort_float64", sort_float64, METH_VARARGS,
     "sort_float64(out, src, spare) -> bool: src's float64 values into out, ascending (a\n"
     "radix sort, spare as scratch); False, out unspecified, when src holds a NaN."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_radix", "A radix sort of float64 scores.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__radix(void) { return PyModule_Create(&module); }
