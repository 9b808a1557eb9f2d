/* Sealer: one session's receipts, assembled canonically from typed fields and hashed in one pass.
 *
 * The twelve-field receipt of SPEC.md, members in sorted order at every
 * level, exactly as json.dumps(sort_keys=True, separators=(",", ":")) writes
 * it. The hash input is the receipt without its two hash members; the JSONL
 * line puts them back in their sorted places. The fields that never change
 * within a session (session id, executor instance, git context) are escaped
 * once, when the Sealer is made. The emitter keeps the chain (sequence,
 * previous hash) and passes it in; a field of a type this code does not take
 * returns NOT_HANDLED and the emitter seals that receipt in Python.
 */
#include "native.h"

#include <math.h>

typedef struct {
    PyObject_HEAD
    PyObject *session_id;
    PyObject *instance_id;
    char *session_text; /* "session_id":"..." */
    Py_ssize_t session_len;
    char *instance_text; /* "executor":{"instance_id":"...", */
    Py_ssize_t instance_len;
    char *git_text; /* "git_context":{...} */
    Py_ssize_t git_len;
} Sealer;

static void Sealer_dealloc(Sealer *self) {
    Py_XDECREF(self->session_id);
    Py_XDECREF(self->instance_id);
    PyMem_Free(self->session_text);
    PyMem_Free(self->instance_text);
    PyMem_Free(self->git_text);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int keep(Buf *b, char **out, Py_ssize_t *len) {
    *out = PyMem_Malloc((size_t)(b->len ? b->len : 1));
    if (*out == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(*out, b->data, (size_t)b->len);
    *len = b->len;
    b->len = 0;
    return 0;
}

static int put_str_or_null(Buf *b, PyObject *v) {
    return v == Py_None ? BUF_LIT(b, "null") : put_str(b, v);
}

static PyObject *Sealer_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"session_id", "instance_id", "branch", "commit_before", "commit_after", NULL};
    PyObject *session_id, *instance_id, *branch, *before, *after;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UUUOO:Sealer", kwlist, &session_id, &instance_id, &branch,
                                     &before, &after)) {
        return NULL;
    }
    if ((before != Py_None && !PyUnicode_Check(before)) || (after != Py_None && !PyUnicode_Check(after))) {
        PyErr_SetString(PyExc_TypeError, "commit_before and commit_after are str or None");
        return NULL;
    }
    Sealer *self = (Sealer *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    Buf b;
    buf_init(&b);
    int rc = BUF_LIT(&b, "\"session_id\":") < 0 || put_str(&b, session_id) < 0
             || keep(&b, &self->session_text, &self->session_len) < 0
             || BUF_LIT(&b, "\"executor\":{\"instance_id\":") < 0 || put_str(&b, instance_id) < 0
             || BUF_LIT(&b, ",") < 0 || keep(&b, &self->instance_text, &self->instance_len) < 0
             || BUF_LIT(&b, "\"git_context\":{\"branch\":") < 0 || put_str(&b, branch) < 0
             || BUF_LIT(&b, ",\"commit_after\":") < 0 || put_str_or_null(&b, after) < 0
             || BUF_LIT(&b, ",\"commit_before\":") < 0 || put_str_or_null(&b, before) < 0
             || BUF_LIT(&b, "}") < 0 || keep(&b, &self->git_text, &self->git_len) < 0;
    buf_free(&b);
    if (rc) {
        Py_DECREF(self);
        return NULL;
    }
    self->session_id = Py_NewRef(session_id);
    self->instance_id = Py_NewRef(instance_id);
    return (PyObject *)self;
}

/* -- typed fields ------------------------------------------------------------------------------- */

/* 1 written, 0 the wrong type (NOT_HANDLED), -1 error */
static int field_str(Buf *b, PyObject *v) {
    if (!PyUnicode_Check(v)) {
        return 0;
    }
    return put_str(b, v) < 0 ? -1 : 1;
}

static int field_str_or_null(Buf *b, PyObject *v) {
    if (v == Py_None) {
        return BUF_LIT(b, "null") < 0 ? -1 : 1;
    }
    return field_str(b, v);
}

static int field_int(Buf *b, PyObject *v) {
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        return 0;
    }
    return put_int(b, v) < 0 ? -1 : 1;
}

static int field_int_or_null(Buf *b, PyObject *v) {
    if (v == Py_None) {
        return BUF_LIT(b, "null") < 0 ? -1 : 1;
    }
    return field_int(b, v);
}

static int field_number(Buf *b, PyObject *v) {
    if (PyFloat_Check(v)) {
        if (!isfinite(PyFloat_AS_DOUBLE(v))) {
            return 0;
        }
        return put_float(b, v, 0) < 0 ? -1 : 1;
    }
    return field_int(b, v);
}

static int field_str_list(Buf *b, PyObject *v) {
    if (!PyList_Check(v)) {
        return 0;
    }
    Py_ssize_t n = PyList_GET_SIZE(v);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyUnicode_Check(PyList_GET_ITEM(v, i))) {
            return 0;
        }
    }
    if (buf_byte(b, '[') < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if ((i && buf_byte(b, ',') < 0) || put_str(b, PyList_GET_ITEM(v, i)) < 0) {
            return -1;
        }
    }
    return buf_byte(b, ']') < 0 ? -1 : 1;
}

#define LIT(text) \
    if (BUF_LIT(&b, text) < 0) goto error
#define FIELD(fn, v) \
    if ((rc = fn(&b, (v))) <= 0) goto done

enum {
    A_RECEIPT_ID, A_PROPOSAL_ID, A_SEQUENCE, A_TIMESTAMP, A_EXECUTOR_TYPE, A_MODEL,
    A_TOOL, A_OPERATION, A_EFFECT, A_RISK_DELTA, A_DESCRIPTION, A_COMMAND, A_TARGETS, A_REVERSIBILITY,
    A_STATUS, A_EXIT_CODE, A_BLOCKED_BY, A_DIFF_HASH, A_STDOUT, A_CREATED, A_DELETED, A_MODIFIED,
    A_STEPS_USED, A_STEPS_REMAINING, A_COMMANDS_USED, A_WRITES_USED, A_FILES_TOUCHED, A_RUNTIME, A_RISK_SCORE,
    A_POSTURE, A_PREVIOUS, A_COUNT
};

static PyObject *Sealer_seal(Sealer *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != A_COUNT) {
        PyErr_Format(PyExc_TypeError, "seal takes %d positional arguments", A_COUNT);
        return NULL;
    }
    PyObject *receipt_id = args[A_RECEIPT_ID], *proposal_id = args[A_PROPOSAL_ID];
    PyObject *timestamp = args[A_TIMESTAMP], *previous = args[A_PREVIOUS];
    if ((receipt_id != Py_None && !PyUnicode_Check(receipt_id)) || (proposal_id != Py_None && !PyUnicode_Check(proposal_id))
        || (timestamp != Py_None && !PyUnicode_Check(timestamp)) || (previous != Py_None && !PyUnicode_Check(previous))) {
        return Py_NewRef(NotHandled);
    }
    char id_text[36], proposal_text[32], time_text[32];
    if (receipt_id == Py_None && new_uuid4(id_text) < 0) {
        return NULL;
    }
    if (proposal_id == Py_None) {
        unsigned char raw[16];
        static const char hex[] = "0123456789abcdef";
        if (random_bytes(raw, sizeof raw) < 0) {
            return NULL;
        }
        for (int i = 0; i < 16; i++) {
            proposal_text[2 * i] = hex[raw[i] >> 4];
            proposal_text[2 * i + 1] = hex[raw[i] & 0xf];
        }
    }
    if (timestamp == Py_None && utc_timestamp(time_text) < 0) {
        return NULL;
    }

    Buf b;
    buf_init(&b);
    Buf line;
    buf_init(&line);
    PyObject *result = NULL;
    int rc = 1;
    Py_ssize_t head_end, proposal_start, proposal_end;

    LIT("{\"action\":{\"command\":");
    FIELD(field_str_or_null, args[A_COMMAND]);
    LIT(",\"description\":");
    FIELD(field_str, args[A_DESCRIPTION]);
    LIT(",\"effect_class\":");
    FIELD(field_str, args[A_EFFECT]);
    LIT(",\"operation\":");
    FIELD(field_str, args[A_OPERATION]);
    LIT(",\"reversibility\":");
    FIELD(field_str, args[A_REVERSIBILITY]);
    LIT(",\"risk_delta\":");
    FIELD(field_number, args[A_RISK_DELTA]);
    LIT(",\"target_paths\":");
    FIELD(field_str_list, args[A_TARGETS]);
    LIT(",\"tool\":");
    FIELD(field_str, args[A_TOOL]);
    LIT("},\"budget_snapshot\":{\"commands_used\":");
    FIELD(field_int, args[A_COMMANDS_USED]);
    LIT(",\"current_posture\":");
    FIELD(field_str, args[A_POSTURE]);
    LIT(",\"files_touched\":");
    FIELD(field_int, args[A_FILES_TOUCHED]);
    LIT(",\"runtime_elapsed_seconds\":");
    FIELD(field_number, args[A_RUNTIME]);
    LIT(",\"session_risk_score\":");
    FIELD(field_number, args[A_RISK_SCORE]);
    LIT(",\"steps_remaining\":");
    FIELD(field_int, args[A_STEPS_REMAINING]);
    LIT(",\"steps_used\":");
    FIELD(field_int, args[A_STEPS_USED]);
    LIT(",\"writes_used\":");
    FIELD(field_int, args[A_WRITES_USED]);
    LIT("},");
    if (buf_put(&b, self->instance_text, self->instance_len) < 0) {
        goto error;
    }
    LIT("\"model\":");
    FIELD(field_str, args[A_MODEL]);
    LIT(",\"type\":");
    FIELD(field_str, args[A_EXECUTOR_TYPE]);
    LIT("},");
    if (buf_put(&b, self->git_text, self->git_len) < 0) {
        goto error;
    }
    head_end = b.len;
    LIT(",\"proposal_id\":");
    proposal_start = b.len - 14; /* the member starts at its key */
    if (proposal_id == Py_None) {
        if (buf_byte(&b, '"') < 0 || buf_put(&b, proposal_text, 32) < 0 || buf_byte(&b, '"') < 0) {
            goto error;
        }
    } else if (put_str(&b, proposal_id) < 0) {
        goto error;
    }
    proposal_end = b.len;
    LIT(",\"receipt_id\":");
    if (receipt_id == Py_None) {
        if (buf_byte(&b, '"') < 0 || buf_put(&b, id_text, 36) < 0 || buf_byte(&b, '"') < 0) {
            goto error;
        }
    } else if (put_str(&b, receipt_id) < 0) {
        goto error;
    }
    LIT(",\"result\":{\"blocked_by\":");
    FIELD(field_str_or_null, args[A_BLOCKED_BY]);
    LIT(",\"diff_hash\":");
    FIELD(field_str_or_null, args[A_DIFF_HASH]);
    LIT(",\"exit_code\":");
    FIELD(field_int_or_null, args[A_EXIT_CODE]);
    LIT(",\"files_created\":");
    FIELD(field_str_list, args[A_CREATED]);
    LIT(",\"files_deleted\":");
    FIELD(field_str_list, args[A_DELETED]);
    LIT(",\"files_modified\":");
    FIELD(field_str_list, args[A_MODIFIED]);
    LIT(",\"status\":");
    FIELD(field_str, args[A_STATUS]);
    LIT(",\"stdout_truncated\":");
    FIELD(field_str_or_null, args[A_STDOUT]);
    LIT("},\"sequence_number\":");
    FIELD(field_int, args[A_SEQUENCE]);
    LIT(",");
    if (buf_put(&b, self->session_text, self->session_len) < 0) {
        goto error;
    }
    LIT(",\"timestamp\":");
    if (timestamp == Py_None) {
        if (buf_byte(&b, '"') < 0 || buf_put(&b, time_text, 32) < 0 || buf_byte(&b, '"') < 0) {
            goto error;
        }
    } else if (put_str(&b, timestamp) < 0) {
        goto error;
    }
    LIT("}");

    char digest[SHA256_HEX];
    if (sha256_hex(b.data, b.len, digest) < 0) {
        goto error;
    }
    /* The line: the two hash members in their sorted places (after git_context, around proposal_id). */
    if (buf_put(&line, b.data, head_end) < 0 || BUF_LIT(&line, ",\"previous_receipt_hash\":") < 0
        || (previous == Py_None ? BUF_LIT(&line, "null") : put_str(&line, previous)) < 0
        || buf_put(&line, b.data + proposal_start - 1, proposal_end - proposal_start + 1) < 0
        || BUF_LIT(&line, ",\"receipt_hash\":\"") < 0 || buf_put(&line, digest, SHA256_HEX) < 0
        || buf_byte(&line, '"') < 0 || buf_put(&line, b.data + proposal_end, b.len - proposal_end) < 0
        || buf_byte(&line, '\n') < 0) {
        goto error;
    }
    PyObject *raw = PyBytes_FromStringAndSize(line.data, line.len);
    PyObject *rid = receipt_id == Py_None ? PyUnicode_DecodeASCII(id_text, 36, NULL) : Py_NewRef(receipt_id);
    PyObject *pid = proposal_id == Py_None ? PyUnicode_DecodeASCII(proposal_text, 32, NULL) : Py_NewRef(proposal_id);
    PyObject *ts = timestamp == Py_None ? PyUnicode_DecodeASCII(time_text, 32, NULL) : Py_NewRef(timestamp);
    PyObject *hash = PyUnicode_DecodeASCII(digest, SHA256_HEX, NULL);
    if (raw && rid && pid && ts && hash) {
        /* (line, receipt_id, session_id, proposal_id, sequence_number, receipt_hash, previous_receipt_hash,
         *  timestamp): the order of receipts.Receipt's head */
        result = PyTuple_Pack(8, raw, rid, self->session_id, pid, args[A_SEQUENCE], hash, previous, ts);
    }
    Py_XDECREF(raw);
    Py_XDECREF(rid);
    Py_XDECREF(pid);
    Py_XDECREF(ts);
    Py_XDECREF(hash);
    goto finish;
done:
    if (rc == 0) {
        result = Py_NewRef(NotHandled);
    }
    goto finish;
error:
    result = NULL;
finish:
    buf_free(&b);
    buf_free(&line);
    return result;
}

static PyMethodDef Sealer_methods[] = {
    {"seal", (PyCFunction)(void (*)(void))Sealer_seal, METH_FASTCALL,
     "seal(receipt_id, proposal_id, sequence, timestamp, executor_type, model, tool, operation, effect_class, "
     "risk_delta, description, command, target_paths, reversibility, status, exit_code, blocked_by, diff_hash, "
     "stdout, files_created, files_deleted, files_modified, steps_used, steps_remaining, commands_used, "
     "writes_used, files_touched, runtime_elapsed_seconds, session_risk_score, current_posture, previous_hash) "
     "-> (line bytes with its newline, receipt_id, session_id, proposal_id, sequence_number, receipt_hash, "
     "previous_receipt_hash, timestamp), or NOT_HANDLED. receipt_id, proposal_id and timestamp None are made here."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SealerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "spinegate._native.Sealer",
    .tp_doc = "Sealer(session_id, instance_id, branch, commit_before, commit_after): one session's receipts.",
    .tp_basicsize = sizeof(Sealer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Sealer_new,
    .tp_dealloc = (destructor)Sealer_dealloc,
    .tp_methods = Sealer_methods,
};

int seal_init_type(PyObject *module) {
    if (PyType_Ready(&SealerType) < 0) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "Sealer", (PyObject *)&SealerType);
}
