/*
 * Compiled kernels of the fault-tree engine's BDDs (cofail/faulttree/_bdd.py), read straight from
 * CUDD's memory or from its dumps:
 *
 *   dddmp_probability  P and 1 - P of a BDD that CUDD dumped in DDDMP text format, one pass.
 *   cudd_probability   the same, read straight from CUDD's nodes in memory (no file).
 *   cudd_formula_probability  P and 1 - P of an AND/OR formula over live BDDs, without building it.
 *   cudd_node          one node's fields, so that _bdd.py can check the layout once.
 *
 * They were part of cofail/probability/_kernels.c (the stack model's DPs) until the fault-tree
 * engine became its own package; the code is unchanged.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "_cudd_node.h"

/* The 64-bit finaliser of MurmurHash3: the slot of a hash in a table of mask + 1 slots. */
static inline size_t slot_of(uint64_t key, size_t mask) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key & mask;
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
    /* The GIL is let go while CUDD's nodes are read by address, under no lock of CUDD's: safe
     * only because nothing can call CUDD on this manager meanwhile, so no garbage collection
     * or reordering frees or moves a node under the walk. _bdd.py makes a manager per solve
     * (threads of the app and the raced orders never share one), the thread that builds it is
     * the one in here, and a CompiledTree that keeps a manager afterwards only reads it. */
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
    /* Without the GIL over live CUDD nodes, as in cudd_probability: safe for the same reason. */
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
    PyModuleDef_HEAD_INIT, "_bdd_kernels", "Compiled kernels of the fault-tree engine's BDDs.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__bdd_kernels(void) { return PyModule_Create(&module); }
