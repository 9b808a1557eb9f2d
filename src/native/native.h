/* spinegate._native: shared declarations.
 *
 * The native receipt path: canonical JSON exactly as Python's
 * json.dumps(sort_keys=True, separators=(",", ":")) writes it (ensure_ascii on,
 * floats as float.__repr__), SHA-256 from the platform (OpenSSL's libcrypto on
 * Linux, CommonCrypto on macOS), receipt ids and timestamps, and the verifier's
 * one-pass line check. Every function here has a pure-Python twin in the
 * spinegate package; the tests hold the two to the same bytes.
 */
#ifndef SPINEGATE_NATIVE_H
#define SPINEGATE_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* -- a growable byte buffer, on the stack while small -------------------------------------- */

#define BUF_INLINE 2048

typedef struct {
    char *data;
    Py_ssize_t len;
    Py_ssize_t cap;
    char inline_data[BUF_INLINE];
} Buf;

static inline void buf_init(Buf *b) {
    b->data = b->inline_data;
    b->len = 0;
    b->cap = BUF_INLINE;
}

static inline void buf_free(Buf *b) {
    if (b->data != b->inline_data) {
        PyMem_Free(b->data);
    }
    b->data = b->inline_data;
    b->len = 0;
    b->cap = BUF_INLINE;
}

int buf_grow(Buf *b, Py_ssize_t extra); /* 0, or -1 with MemoryError set */

static inline int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) {
        return 0;
    }
    return buf_grow(b, extra);
}

static inline int buf_put(Buf *b, const char *s, Py_ssize_t n) {
    if (buf_reserve(b, n) < 0) {
        return -1;
    }
    memcpy(b->data + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

#define BUF_LIT(b, lit) buf_put((b), (lit), (Py_ssize_t)(sizeof(lit) - 1))

static inline int buf_byte(Buf *b, char c) {
    if (buf_reserve(b, 1) < 0) {
        return -1;
    }
    b->data[b->len++] = c;
    return 0;
}

/* -- canonical pieces (canonical.c) --------------------------------------------------------- */

/* A str (or str subclass) as json's encode_basestring_ascii writes it, quotes included. */
int put_str(Buf *b, PyObject *s);
/* An int as int.__repr__ writes it (bool is not handled here). */
int put_int(Buf *b, PyObject *v);
/* A finite float as float.__repr__ writes it; non-finite values as json writes them
 * (NaN, Infinity, -Infinity) when allow_nonfinite, else -1 with ValueError set. */
int put_float(Buf *b, PyObject *v, int allow_nonfinite);
/* One code point as json's ensure_ascii writes it inside a string. */
int put_codepoint(Buf *b, Py_UCS4 c);

/* -- platform services (module.c) ---------------------------------------------------------- */

#define SHA256_BYTES 32
#define SHA256_HEX 64

/* SHA-256 of n bytes into 64 lowercase hex characters (no terminator). */
int sha256_hex(const char *data, Py_ssize_t n, char out[SHA256_HEX]);
/* n cryptographically secure random bytes (a pool refilled from the kernel, reset after fork). */
int random_bytes(unsigned char *out, size_t n);
/* A version 4 UUID as 36 characters, as str(uuid.uuid4()) writes it. */
int new_uuid4(char out[36]);
/* The current UTC time as "YYYY-MM-DDTHH:MM:SS.ffffff+00:00" (32 characters). */
int utc_timestamp(char out[32]);

/* -- the module's pieces -------------------------------------------------------------------- */

PyObject *native_arguments_digest(PyObject *self, PyObject *arg);
PyObject *native_canonical_json(PyObject *self, PyObject *arg);
int seal_init_type(PyObject *module);
int verify_init_type(PyObject *module);
PyObject *native_scan_receipt(PyObject *self, PyObject *const *args, Py_ssize_t nargs);

/* The module's "not handled here" marker: callers take the pure-Python path. */
extern PyObject *NotHandled;

#endif
