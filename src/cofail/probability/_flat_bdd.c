/*
 * A BDD copied out of CUDD once into a flat array, then read many times: P(root) for new
 * probabilities (an uncertainty trial) and, in one more pass, the derivative of P(root) with
 * respect to every variable's probability (the Birnbaum importance of every basic event).
 *
 *   cudd_flatten(address, one) -> (nodes, root)
 *       nodes: int32 triples (variable index, then ref, else ref), children before parents.
 *       A ref is 0 for the constant one, 1 for the constant zero, otherwise
 *       ((position + 1) << 1) | complemented.
 *   flat_probability(nodes, root, probs, comps) -> (P, 1 - P)
 *   flat_gradient(nodes, root, probs, comps, seed_p, seed_q) -> (P, 1 - P, dp, dq)
 *       dp[x], dq[x] (float64 bytes, one per variable): the derivatives of
 *       seed_p P(root) + seed_q (1 - P(root)) with respect to p_x and to q_x = 1 - p_x, taken as
 *       independent inputs. P(root) is p_x A + q_x B + C with A = dp[x], B = dq[x] (seeds 1, 0),
 *       so the Birnbaum importance P(root | x) - P(root | not x) is A - B.
 *
 * P and 1 - P are carried side by side with positive terms only, as in cudd_probability, so a
 * tiny top-event probability keeps its relative precision. The gradient is reverse-mode
 * differentiation of the same two positive recursions, P(n) = p_x P(then) + q_x P(else) and
 * 1 - P(n) = p_x (1 - P(then)) + q_x (1 - P(else)), where a complemented edge swaps a child's
 * two values. Each node has two adjoints, for its P and for its 1 - P; every term of every sum
 * is a product of non-negative numbers, so nothing cancels until the one subtraction A - B.
 * The seeds carry the chain rule across modules: a module's BDD is seeded with the derivatives
 * its parent's BDD gave for the module's variable.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_cudd_node.h"

/* Node address -> position in the flat array: open addressing, grown at half full. */
typedef struct {
    uintptr_t *keys; /* 0 = empty (no node lives at address 0) */
    int32_t *vals;
    size_t count, nslots;
} AddressMap;

static inline size_t address_slot(uintptr_t key, size_t mask) {
    uint64_t h = (uint64_t)key;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & mask;
}

static int map_init(AddressMap *m, size_t nslots) {
    m->keys = calloc(nslots, sizeof(uintptr_t));
    m->vals = malloc(nslots * sizeof(int32_t));
    m->count = 0;
    m->nslots = nslots;
    return m->keys && m->vals ? 0 : -1;
}

static void map_free(AddressMap *m) {
    free(m->keys);
    free(m->vals);
}

/* The position of `key`, or -1. */
static int32_t map_get(const AddressMap *m, uintptr_t key) {
    size_t mask = m->nslots - 1, at = address_slot(key, mask);
    while (m->keys[at]) {
        if (m->keys[at] == key) return m->vals[at];
        at = (at + 1) & mask;
    }
    return -1;
}

static int map_put(AddressMap *m, uintptr_t key, int32_t val) {
    if (2 * (m->count + 1) > m->nslots) {
        AddressMap bigger;
        if (map_init(&bigger, 2 * m->nslots) < 0) {
            map_free(&bigger);
            return -1;
        }
        for (size_t i = 0; i < m->nslots; i++)
            if (m->keys[i]) map_put(&bigger, m->keys[i], m->vals[i]);
        map_free(m);
        *m = bigger;
    }
    size_t mask = m->nslots - 1, at = address_slot(key, mask);
    while (m->keys[at]) at = (at + 1) & mask;
    m->keys[at] = key;
    m->vals[at] = val;
    m->count++;
    return 0;
}

/* The ref of an edge to `child` (complement bit included), given the map of copied nodes. */
static inline int32_t edge_ref(const AddressMap *m, const CuddNode *one, CuddNode *edge) {
    CuddNode *child = REGULAR(edge);
    int32_t comp = COMPLEMENTED(edge) ? 1 : 0;
    if (child == one) return comp;
    return ((map_get(m, (uintptr_t)child) + 1) << 1) | comp;
}

static PyObject *cudd_flatten(PyObject *self, PyObject *args) {
    (void)self;
    unsigned long long address, one_address;
    if (!PyArg_ParseTuple(args, "KK", &address, &one_address)) return NULL;
    const CuddNode *one = (const CuddNode *)(uintptr_t)one_address;
    CuddNode *root = (CuddNode *)(uintptr_t)address;
    if (!root || !one) {
        PyErr_SetString(PyExc_ValueError, "null BDD node");
        return NULL;
    }
    const char *error = NULL;
    AddressMap map = {0};
    CuddNode **stack = NULL;
    int32_t *nodes = NULL;
    size_t depth = 0, stack_size = 1024, count = 0, capacity = 1024;
    if (map_init(&map, 4096) < 0 || !(stack = malloc(stack_size * sizeof(CuddNode *))) ||
        !(nodes = malloc(3 * capacity * sizeof(int32_t)))) {
        error = "out of memory";
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS;
    if (REGULAR(root) != one) stack[depth++] = REGULAR(root);
    while (depth && !error) {
        CuddNode *node = stack[depth - 1];
        if (map_get(&map, (uintptr_t)node) >= 0) { /* reached twice before it was copied */
            depth--;
            continue;
        }
        CuddNode *kids[2] = {REGULAR(node->then_child), REGULAR(node->else_child)};
        int pending = 0;
        for (int i = 0; i < 2 && !error; i++) {
            if (kids[i] == one || map_get(&map, (uintptr_t)kids[i]) >= 0) continue;
            if (depth == stack_size) {
                CuddNode **grown = realloc(stack, 2 * stack_size * sizeof(CuddNode *));
                if (!grown) {
                    error = "out of memory";
                    break;
                }
                stack = grown;
                stack_size *= 2;
            }
            stack[depth++] = kids[i];
            pending = 1;
        }
        if (pending || error) continue;
        depth--;
        if (count >= (size_t)INT32_MAX / 2 - 1) {
            error = "BDD too large to copy (over a billion nodes)";
            break;
        }
        if (count == capacity) {
            int32_t *grown = realloc(nodes, 6 * capacity * sizeof(int32_t));
            if (!grown) {
                error = "out of memory";
                break;
            }
            nodes = grown;
            capacity *= 2;
        }
        nodes[3 * count] = (int32_t)node->index;
        nodes[3 * count + 1] = edge_ref(&map, one, node->then_child);
        nodes[3 * count + 2] = edge_ref(&map, one, node->else_child);
        if (map_put(&map, (uintptr_t)node, (int32_t)count) < 0) error = "out of memory";
        count++;
    }
    Py_END_ALLOW_THREADS;

done:;
    PyObject *result = NULL;
    if (error) PyErr_SetString(PyExc_MemoryError, error);
    else {
        long root_ref = edge_ref(&map, one, root);
        result = Py_BuildValue("(y#l)", (const char *)nodes,
                               (Py_ssize_t)(3 * count * sizeof(int32_t)), root_ref);
    }
    map_free(&map);
    free(stack);
    free(nodes);
    return result;
}

/* The arguments both readers take, checked: every ref points below its node, every variable has
 * a probability. */
typedef struct {
    Py_buffer nodes, probs, comps;
    const int32_t *node; /* typed views of the buffers */
    const double *p, *q;
    Py_ssize_t n, nvars;
    long root;
} FlatArgs;

static void flat_release(FlatArgs *a) {
    if (a->nodes.obj) PyBuffer_Release(&a->nodes);
    if (a->probs.obj) PyBuffer_Release(&a->probs);
    if (a->comps.obj) PyBuffer_Release(&a->comps);
}

static int flat_parse(PyObject *args, FlatArgs *a) {
    memset(a, 0, sizeof(*a));
    if (!PyArg_ParseTuple(args, "y*ly*y*", &a->nodes, &a->root, &a->probs, &a->comps)) return -1;
    const char *error = NULL;
    a->n = a->nodes.len / (Py_ssize_t)(3 * sizeof(int32_t));
    a->nvars = a->probs.len / (Py_ssize_t)sizeof(double);
    a->node = a->nodes.buf;
    a->p = a->probs.buf;
    a->q = a->comps.buf;
    if (a->nodes.len % (Py_ssize_t)(3 * sizeof(int32_t)))
        error = "nodes must hold int32 triples";
    else if (a->probs.len != a->comps.len || a->probs.len % (Py_ssize_t)sizeof(double))
        error = "probs and comps must be float64 arrays of the same length";
    else if (a->root < 0 || (a->root >> 1) > a->n)
        error = "root refers to no node";
    for (Py_ssize_t i = 0; i < a->n && !error; i++) {
        const int32_t *t = &a->node[3 * i];
        if (t[0] < 0 || t[0] >= a->nvars) error = "a node's variable has no probability";
        else if (t[1] < 0 || t[2] < 0 || (t[1] >> 1) > i || (t[2] >> 1) > i)
            error = "a node refers to a node that is not below it";
    }
    if (error) {
        PyErr_SetString(PyExc_ValueError, error);
        flat_release(a);
        return -1;
    }
    return 0;
}

/* (P, 1 - P) of the edge `ref`, given the nodes' values so far. */
static inline void ref_value(int32_t ref, const double *P, const double *Q, double *p, double *q) {
    int32_t at = (ref >> 1) - 1;
    double a = at < 0 ? 1.0 : P[at], b = at < 0 ? 0.0 : Q[at];
    *p = ref & 1 ? b : a;
    *q = ref & 1 ? a : b;
}

/* Every node's (P, 1 - P), children first. */
static void forward(const FlatArgs *a, double *P, double *Q) {
    for (Py_ssize_t i = 0; i < a->n; i++) {
        const int32_t *t = &a->node[3 * i];
        double pt, qt, pe, qe, p = a->p[t[0]], q = a->q[t[0]];
        ref_value(t[1], P, Q, &pt, &qt);
        ref_value(t[2], P, Q, &pe, &qe);
        P[i] = p * pt + q * pe;
        Q[i] = p * qt + q * qe;
    }
}

static PyObject *flat_probability(PyObject *self, PyObject *args) {
    (void)self;
    FlatArgs a;
    if (flat_parse(args, &a) < 0) return NULL;
    double *P = malloc((size_t)(a.n + 1) * sizeof(double));
    double *Q = malloc((size_t)(a.n + 1) * sizeof(double));
    PyObject *result = NULL;
    if (!P || !Q) PyErr_NoMemory();
    else {
        double p, q;
        Py_BEGIN_ALLOW_THREADS;
        forward(&a, P, Q);
        ref_value((int32_t)a.root, P, Q, &p, &q);
        Py_END_ALLOW_THREADS;
        result = Py_BuildValue("dd", p, q);
    }
    free(P);
    free(Q);
    flat_release(&a);
    return result;
}

/* Add (amount to P, amount to 1 - P) to the adjoints of the node the edge `ref` points to;
 * across a complemented edge the node's P is the edge's 1 - P, so the two swap. */
static inline void push_adjoints(double *AP, double *AQ, int32_t ref, double to_p, double to_q) {
    int32_t at = (ref >> 1) - 1;
    if (at < 0) return; /* a constant */
    AP[at] += ref & 1 ? to_q : to_p;
    AQ[at] += ref & 1 ? to_p : to_q;
}

static PyObject *flat_gradient(PyObject *self, PyObject *args) {
    (void)self;
    FlatArgs a;
    double seed_p, seed_q;
    PyObject *rest = PyTuple_GetSlice(args, 0, 4), *seeds = PyTuple_GetSlice(args, 4, 6);
    if (!rest || !seeds || PyTuple_GET_SIZE(args) != 6 ||
        !PyArg_ParseTuple(seeds, "dd", &seed_p, &seed_q) || flat_parse(rest, &a) < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError,
                            "flat_gradient(nodes, root, probs, comps, seed_p, seed_q)");
        Py_XDECREF(rest);
        Py_XDECREF(seeds);
        return NULL;
    }
    Py_DECREF(rest);
    Py_DECREF(seeds);
    const size_t n = (size_t)a.n + 1;
    double *P = malloc(n * sizeof(double)), *Q = malloc(n * sizeof(double));
    double *AP = calloc(n, sizeof(double)), *AQ = calloc(n, sizeof(double));
    const Py_ssize_t width = a.nvars * (Py_ssize_t)sizeof(double);
    PyObject *dp = PyBytes_FromStringAndSize(NULL, width);
    PyObject *dq = PyBytes_FromStringAndSize(NULL, width);
    PyObject *result = NULL;
    if (!P || !Q || !AP || !AQ) PyErr_NoMemory();
    else if (dp && dq) {
        double *gp = (double *)PyBytes_AS_STRING(dp), *gq = (double *)PyBytes_AS_STRING(dq);
        double p, q;
        memset(gp, 0, (size_t)width);
        memset(gq, 0, (size_t)width);
        Py_BEGIN_ALLOW_THREADS;
        forward(&a, P, Q);
        ref_value((int32_t)a.root, P, Q, &p, &q);
        push_adjoints(AP, AQ, (int32_t)a.root, seed_p, seed_q);
        for (Py_ssize_t i = a.n - 1; i >= 0; i--) {
            if (AP[i] == 0.0 && AQ[i] == 0.0) continue;
            const int32_t *t = &a.node[3 * i];
            const int32_t x = t[0];
            double pt, qt, pe, qe;
            ref_value(t[1], P, Q, &pt, &qt);
            ref_value(t[2], P, Q, &pe, &qe);
            gp[x] += AP[i] * pt + AQ[i] * qt;
            gq[x] += AP[i] * pe + AQ[i] * qe;
            push_adjoints(AP, AQ, t[1], AP[i] * a.p[x], AQ[i] * a.p[x]);
            push_adjoints(AP, AQ, t[2], AP[i] * a.q[x], AQ[i] * a.q[x]);
        }
        Py_END_ALLOW_THREADS;
        result = Py_BuildValue("ddOO", p, q, dp, dq);
    }
    Py_XDECREF(dp);
    Py_XDECREF(dq);
    free(P);
    free(Q);
    free(AP);
    free(AQ);
    flat_release(&a);
    return result;
}

static PyMethodDef methods[] = {
    {"cudd_flatten", cudd_flatten, METH_VARARGS,
     "cudd_flatten(address, one) -> (nodes, root): a live CUDD BDD copied to int32 triples\n"
     "(variable, then ref, else ref), children first; ref 0 = one, 1 = zero, otherwise\n"
     "((position + 1) << 1) | complemented."},
    {"flat_probability", flat_probability, METH_VARARGS,
     "flat_probability(nodes, root, probs, comps) -> (P, 1 - P) of a flattened BDD."},
    {"flat_gradient", flat_gradient, METH_VARARGS,
     "flat_gradient(nodes, root, probs, comps, seed_p, seed_q) -> (P, 1 - P, dp, dq)\n\n"
     "dp[x], dq[x] (float64 bytes, one per variable): the derivatives of\n"
     "seed_p * P + seed_q * (1 - P) with respect to p_x and to 1 - p_x, as independent inputs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_flat_bdd", "Flattened BDDs: probability and its gradient.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__flat_bdd(void) { return PyModule_Create(&module); }
