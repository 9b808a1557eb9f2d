/*
 * Verifies a spinegate receipt log in JavaScript: the schema, every receipt hash (recomputed
 * from the parsed receipt with SpinegateCanonical and WebCrypto's SHA-256), every chain link,
 * and, given the public key, the signed checkpoints (Ed25519 through WebCrypto).
 *
 * The rules and reason codes are SPEC.md's and fixtures/README.md's; the order in which one
 * receipt's problems are reported is the published one (read and schema checks, file name,
 * duplicate id, hash, then the chain), so the first failure matches the conformance vectors.
 *
 * Input is a list of entries, one per line or file of the log:
 *   {kind: "text", text, line}       a line as text (escaped: true when < > & were escaped for a page)
 *   {kind: "bytes", bytes, line}     a line as bytes (checked for UTF-8 here)
 *   {kind: "torn", bytes, line}      the last line, which has no newline
 *   {kind: "bytes", bytes, file, expectedId}   one file of the per-session directory layout
 * `entriesFromText` and `entriesFromEmbedded` build them.
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = factory(require("./canonical.js"));
  } else {
    root.SpinegateVerify = factory(root.SpinegateCanonical);
  }
})(typeof self !== "undefined" ? self : this, function (C) {
  "use strict";

  const REASONS = {
    TORN_LINE: "TORN_LINE",
    INVALID_JSON: "INVALID_JSON",
    SCHEMA_VIOLATION: "SCHEMA_VIOLATION",
    FILENAME_MISMATCH: "FILENAME_MISMATCH",
    DUPLICATE_RECEIPT_ID: "DUPLICATE_RECEIPT_ID",
    HASH_MISMATCH: "HASH_MISMATCH",
    BAD_GENESIS: "BAD_GENESIS",
    SEQUENCE_GAP: "SEQUENCE_GAP",
    SEQUENCE_REGRESSION: "SEQUENCE_REGRESSION",
    CHAIN_BROKEN: "CHAIN_BROKEN",
  };
  // What changes no receipt's values is a warning, as in `spinegate verify` (failures with --strict).
  const WARNINGS = {
    LINE_ENDS_CRLF: "LINE_ENDS_CRLF",
    BYTE_ORDER_MARK: "BYTE_ORDER_MARK",
  };

  // ------------------------------------------------------------------------------------------
  // Entries

  /** Entries of a JSONL log given as text (split on "\n"; a last line without one is torn). */
  function entriesFromText(text) {
    const parts = text.split("\n");
    const last = parts.pop();
    const entries = parts.map((line, k) => ({ kind: "text", text: line, line: k + 1 }));
    if (last !== "") entries.push({ kind: "torn", bytes: new TextEncoder().encode(last), line: parts.length + 1 });
    return entries;
  }

  function base64Bytes(b64) {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let k = 0; k < bin.length; k++) out[k] = bin.charCodeAt(k);
    return out;
  }

  function bytesBase64(bytes) {
    let bin = "";
    for (let k = 0; k < bytes.length; k += 0x8000) {
      bin += String.fromCharCode.apply(null, bytes.subarray(k, k + 0x8000));
    }
    return btoa(bin);
  }

  /**
   * Entries of the log as the report page embeds it: one line per receipt line or file.
   *   JSON text                      a line of the log that is JSON (<, >, & escaped inside strings)
   *   "!base64 B64"                  a complete line that is not JSON (or not UTF-8), byte for byte
   *   "!torn B64"                    the last line of the log, which has no newline
   *   "!file B64(PATH) B64(BYTES)"   one file of the per-session directory layout
   */
  function entriesFromEmbedded(text) {
    const lines = text.split("\n");
    // The element's text starts and ends with a newline; those are not lines of the log.
    if (lines.length && lines[0] === "") lines.shift();
    if (lines.length && lines[lines.length - 1] === "") lines.pop();
    const entries = [];
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k];
      const n = k + 1;
      if (line.startsWith("!file ")) {
        const [, path, body] = line.split(" ");
        const file = new TextDecoder().decode(base64Bytes(path));
        const m = /(?:^|\/)(\d+)_(.+)\.json$/.exec(file);
        entries.push({ kind: "bytes", bytes: base64Bytes(body || ""), file, expectedId: m ? m[2] : undefined });
      } else if (line.startsWith("!base64 ")) {
        entries.push({ kind: "bytes", bytes: base64Bytes(line.slice(8)), line: n });
      } else if (line.startsWith("!torn ")) {
        entries.push({ kind: "torn", bytes: base64Bytes(line.slice(6)), line: n });
      } else {
        entries.push({ kind: "text", text: line, line: n, escaped: true });
      }
    }
    return entries;
  }

  // ------------------------------------------------------------------------------------------
  // Schema (SPEC.md: twelve fields, no others at any depth, strict types)

  const str = { t: "str" };
  const nullable = (inner) => ({ t: "nullable", inner });
  const int = (ge) => ({ t: "int", ge });
  const num = (ge) => ({ t: "num", ge });
  const list = (inner) => ({ t: "list", inner });
  const obj = (fields) => ({ t: "obj", fields });

  const RECEIPT = obj({
    receipt_id: str,
    session_id: str,
    proposal_id: str,
    sequence_number: int(1n),
    timestamp: str,
    executor: obj({ type: str, model: str, instance_id: str }),
    action: obj({
      tool: str, operation: str, effect_class: str, risk_delta: num(), description: str,
      command: nullable(str), target_paths: list(str), reversibility: str,
    }),
    result: obj({
      status: { t: "literal", values: ["success", "blocked", "failed"] },
      exit_code: nullable(int()), blocked_by: nullable(str), diff_hash: nullable(str),
      files_created: list(str), files_modified: list(str), files_deleted: list(str),
      stdout_truncated: nullable({ t: "str", maxLength: 2000 }),
    }),
    budget_snapshot: obj({
      steps_used: int(0n), steps_remaining: int(0n), commands_used: int(0n), writes_used: int(0n),
      files_touched: int(0n), runtime_elapsed_seconds: num(0), session_risk_score: num(0), current_posture: str,
    }),
    git_context: obj({ branch: str, commit_before: nullable(str), commit_after: nullable(str) }),
    previous_receipt_hash: nullable(str),
    receipt_hash: { t: "str", pattern: /^[0-9a-f]{64}$/ },
  });

  function codePointLength(s) {
    let n = 0;
    for (const _ of s) n++; // eslint-disable-line no-unused-vars
    return n;
  }

  /** Why `value` breaks `spec` (a message naming the field), or null. */
  function schemaProblem(value, spec, where) {
    const at = where || "<receipt>";
    switch (spec.t) {
      case "str":
        if (typeof value !== "string") return "field " + at + ": must be a string";
        if (spec.maxLength !== undefined && codePointLength(value) > spec.maxLength) {
          return "field " + at + ": longer than " + spec.maxLength + " characters";
        }
        if (spec.pattern && !spec.pattern.test(value)) return "field " + at + ": does not match " + spec.pattern;
        return null;
      case "nullable":
        return value === null ? null : schemaProblem(value, spec.inner, at);
      case "int":
        if (typeof value !== "bigint") return "field " + at + ": must be an integer";
        if (spec.ge !== undefined && value < spec.ge) return "field " + at + ": must be at least " + spec.ge;
        return null;
      case "num":
        if (typeof value !== "bigint" && typeof value !== "number") return "field " + at + ": must be a number";
        if (spec.ge !== undefined && !(value >= spec.ge)) return "field " + at + ": must be at least " + spec.ge;
        return null;
      case "literal":
        return spec.values.includes(value) ? null : "field " + at + ": must be one of " + spec.values.join(", ");
      case "list":
        if (!Array.isArray(value)) return "field " + at + ": must be a list";
        for (let k = 0; k < value.length; k++) {
          const p = schemaProblem(value[k], spec.inner, at + "." + k);
          if (p) return p;
        }
        return null;
      case "obj": {
        const prefix = where ? where + "." : "";
        if (!(value instanceof Map)) {
          return where ? "field " + at + ": must be an object" : "a receipt must be a JSON object";
        }
        for (const name of Object.keys(spec.fields)) {
          if (!value.has(name)) return "field " + prefix + name + ": missing";
        }
        for (const name of value.keys()) {
          if (!Object.prototype.hasOwnProperty.call(spec.fields, name)) {
            return "field " + prefix + name + ": not allowed (no extra fields)";
          }
        }
        for (const name of Object.keys(spec.fields)) {
          const p = schemaProblem(value.get(name), spec.fields[name], prefix + name);
          if (p) return p;
        }
        return null;
      }
      default:
        throw new Error("unknown schema node " + spec.t);
    }
  }

  function receiptSchemaProblem(value) {
    return schemaProblem(value, RECEIPT, "");
  }

  // ------------------------------------------------------------------------------------------
  // Reading one entry

  const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  const BOM = [0xef, 0xbb, 0xbf];

  /** Whether a line of a JSONL log (not a file of the directory layout) starts the log with a byte-order mark. */
  function startsWithBom(entry) {
    return entry.file === undefined && entry.line === 1 && entry.bytes !== undefined && entry.bytes.length >= 3 &&
      BOM.every((b, k) => entry.bytes[k] === b);
  }

  /** Whether a line of a JSONL log ended in CR LF (its embedded bytes end in the CR). */
  function endsInCr(entry) {
    return entry.file === undefined && entry.bytes !== undefined && entry.bytes.length > 0 &&
      entry.bytes[entry.bytes.length - 1] === 0x0d;
  }

  /**
   * {value} or {problem} for one entry's bytes or text, as Python's json.loads would read it. A
   * byte-order mark at the start of a JSONL log is read past, as `spinegate verify` does.
   */
  function readEntry(entry) {
    let text = entry.text;
    if (text === undefined) {
      try {
        text = strictUtf8.decode(startsWithBom(entry) ? entry.bytes.subarray(3) : entry.bytes);
      } catch (e) {
        return { problem: "not UTF-8 text" };
      }
    }
    try {
      return { value: C.parse(text), text };
    } catch (e) {
      if (e instanceof C.JsonError) return { problem: "not valid JSON: " + e.message };
      throw e;
    }
  }

  // ------------------------------------------------------------------------------------------
  // The chain verifier

  /** What kind of receipt it is, for counting: "outcome", "denial" (blocked) or "approval". */
  function countedAs(receipt) {
    if (receipt.get("action").get("operation") === "outcome") return "outcome";
    return receipt.get("result").get("status") === "blocked" ? "denial" : "approval";
  }

  async function inBatches(items, size, fn) {
    for (let k = 0; k < items.length; k += size) {
      await Promise.all(items.slice(k, k + size).map(fn));
    }
  }

  /**
   * Verify a log's entries. Returns {receipts, sessions, approvals, denials, outcomes,
   * failures, items}: `failures` in log order (each {reason, detail, line|file, sessionId,
   * sequenceNumber, receiptId}), `items` one per entry ({entry, value, computedHash, failures}).
   * options.format: "jsonl" (default) or "directory"; options.subtle: a WebCrypto SubtleCrypto.
   */
  async function verifyEntries(entries, options) {
    const opts = options || {};
    const subtle = opts.subtle || globalThis.crypto.subtle;
    const directory = opts.format === "directory";
    const items = entries.map((entry) => ({ entry, value: null, computedHash: null, failures: [], warnings: [] }));

    // Read, validate and hash every entry first (hashing runs concurrently), then walk the chain.
    const tornAt = items.findIndex((it) => it.entry.kind === "torn");
    const readable = tornAt === -1 ? items : items.slice(0, tornAt);
    for (const it of readable) {
      const read = readEntry(it.entry);
      it.problem = read.problem;
      if (read.problem) continue;
      it.value = read.value;
      it.text = read.text;
      it.schemaProblem = receiptSchemaProblem(read.value);
    }
    await inBatches(readable.filter((it) => it.value !== null && !it.schemaProblem), 512, async (it) => {
      it.computedHash = await C.sha256Hex(C.receiptHashInput(it.value), subtle);
    });

    const report = { receipts: 0, sessions: 0, approvals: 0, denials: 0, outcomes: 0, failures: [], warnings: [], items };
    const heads = new Map();
    const seen = new Set();
    const place = (e) => (e.file !== undefined ? { file: e.file } : { line: e.line });

    function fail(it, reason, detail, receipt) {
      const f = Object.assign({ reason, detail }, place(it.entry));
      if (receipt) {
        f.receiptId = receipt.receiptId;
        f.sessionId = receipt.sessionId;
        f.sequenceNumber = receipt.sequenceNumber;
      }
      it.failures.push(f);
      report.failures.push(f);
    }

    function warn(it, reason, detail) {
      const w = Object.assign({ reason, detail }, place(it.entry));
      it.warnings.push(w);
      report.warnings.push(w);
    }

    for (const it of items) {
      const e = it.entry;
      if (e.kind === "torn") {
        fail(it, REASONS.TORN_LINE, "the last line is incomplete (" + e.bytes.length + " bytes, no newline): " +
          "a write was interrupted");
        break;
      }
      if (!directory && endsInCr(e)) {
        warn(it, WARNINGS.LINE_ENDS_CRLF, "the line ends in CR LF (as written on Windows); the receipt's values and " +
          "hash are unchanged");
      }
      if (!directory && startsWithBom(e)) {
        warn(it, WARNINGS.BYTE_ORDER_MARK, "the log starts with a UTF-8 byte-order mark, read past; the receipt's " +
          "values and hash are unchanged");
      }
      if (it.problem) {
        if (directory) report.receipts++;
        fail(it, REASONS.INVALID_JSON, it.problem);
        continue;
      }
      report.receipts++;
      const r = it.value;
      if (it.schemaProblem) {
        const rid = r instanceof Map && typeof r.get("receipt_id") === "string" ? r.get("receipt_id") : undefined;
        fail(it, REASONS.SCHEMA_VIOLATION, it.schemaProblem, rid === undefined ? undefined : { receiptId: rid });
        continue;
      }
      const who = {
        receiptId: r.get("receipt_id"), sessionId: r.get("session_id"), sequenceNumber: r.get("sequence_number"),
      };
      const seq = who.sequenceNumber;
      const stored = r.get("receipt_hash");
      const prev = r.get("previous_receipt_hash");
      report[countedAs(r) + "s"]++;

      if (e.expectedId !== undefined && e.expectedId !== who.receiptId) {
        fail(it, REASONS.FILENAME_MISMATCH, "file name says receipt " + e.expectedId, who);
      }
      if (seen.has(who.receiptId)) {
        fail(it, REASONS.DUPLICATE_RECEIPT_ID, "this receipt_id appears earlier in the log", who);
      }
      seen.add(who.receiptId);
      if (it.computedHash !== stored) {
        fail(it, REASONS.HASH_MISMATCH, "stored " + stored + ", recomputed " + it.computedHash, who);
      }
      const head = heads.get(who.sessionId);
      if (head === undefined) {
        report.sessions++;
        if (seq !== 1n || prev !== null) {
          fail(it, REASONS.BAD_GENESIS, "a session's first receipt must have sequence 1 and previous_receipt_hash " +
            "null (found sequence " + seq + ", previous " + JSON.stringify(prev) + ")", who);
        }
      } else if (seq !== head.seq + 1n) {
        fail(it, seq > head.seq + 1n ? REASONS.SEQUENCE_GAP : REASONS.SEQUENCE_REGRESSION,
          "expected sequence " + (head.seq + 1n) + " after " + head.seq + ", found " + seq, who);
      } else if (prev !== head.hash) {
        fail(it, REASONS.CHAIN_BROKEN, "previous_receipt_hash " + JSON.stringify(prev) +
          " does not match the previous receipt's hash " + head.hash, who);
      }
      heads.set(who.sessionId, { seq, hash: stored });
    }
    report.valid = report.failures.length === 0;
    return report;
  }

  // ------------------------------------------------------------------------------------------
  // Signed checkpoints (the Python side: spinegate.checkpoint_verify.verify_checkpoints)

  const CP = {
    FILE_MISSING: "CHECKPOINT_FILE_MISSING",
    FILE_INVALID: "CHECKPOINT_FILE_INVALID",
    MALFORMED: "CHECKPOINT_MALFORMED",
    TORN: "CHECKPOINT_TORN",
    KEY_MISMATCH: "CHECKPOINT_KEY_MISMATCH",
    SIGNATURE_INVALID: "CHECKPOINT_SIGNATURE_INVALID",
    MISSING: "CHECKPOINT_MISSING",
    REORDERED: "CHECKPOINT_REORDERED",
    CHAIN_BROKEN: "CHECKPOINT_CHAIN_BROKEN",
    RECEIPT_REWRITTEN: "RECEIPT_REWRITTEN",
    RECEIPTS_DELETED: "RECEIPTS_DELETED",
    RECEIPTS_INSERTED: "RECEIPTS_INSERTED",
    RECEIPT_NOT_CANONICAL: "RECEIPT_NOT_CANONICAL",
    TAIL_TRUNCATED: "TAIL_TRUNCATED",
    NO_CHECKPOINTS: "NO_CHECKPOINTS",
    SESSION_UNSIGNED: "SESSION_UNSIGNED",
  };
  const MAX_CHECKPOINT_LINE = 64 * 1024;
  const CHECKPOINT_FIELDS = {
    type: "str", version: "int", session_id: "str", index: "int", sequence_number: "int", count: "int",
    timestamp: "str", key_id: "str", previous_checkpoint: "strOrNull", head_receipt_hash: "str",
    digest: "str", tree_head: "str", every: "int", final: "bool", signature: "str",
  };
  const HEX64 = /^[0-9a-f]{64}$/;

  /** Whether this WebCrypto can verify Ed25519 signatures (an import of a valid key succeeds). */
  async function ed25519Available(subtle) {
    const s = subtle || (globalThis.crypto && globalThis.crypto.subtle);
    if (!s) return false;
    try {
      // RFC 8032, test 1's public key.
      const raw = hexBytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
      await s.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
      return true;
    } catch (e) {
      return false;
    }
  }

  function hexBytes(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let k = 0; k < out.length; k++) out[k] = parseInt(hex.substr(2 * k, 2), 16);
    return out;
  }

  function concat(...arrays) {
    const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of arrays) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  }

  async function sha256(bytes, subtle) {
    return new Uint8Array(await subtle.digest("SHA-256", bytes));
  }

  const ZERO32 = new Uint8Array(32);

  /** Running digest and RFC 6962 Merkle tree head over one session's receipts (checkpoints.Commitment). */
  class Commitment {
    constructor(subtle) {
      this.subtle = subtle;
      this.count = 0n;
      this.sequenceNumber = 0n;
      this.head = "";
      this.digest = ZERO32;
      this.peaks = []; // [subtree size, root]
    }

    async add(computedHash, previousHash, sequenceNumber) {
      const leaf = previousHash === null
        ? concat(hexBytes(computedHash), new Uint8Array([0]), ZERO32)
        : concat(hexBytes(computedHash), new Uint8Array([1]), hexBytes(previousHash));
      this.digest = await sha256(concat(this.digest, leaf), this.subtle);
      let size = 1;
      let node = await sha256(concat(new Uint8Array([0]), leaf), this.subtle);
      while (this.peaks.length && this.peaks[this.peaks.length - 1][0] === size) {
        const [leftSize, left] = this.peaks.pop();
        node = await sha256(concat(new Uint8Array([1]), left, node), this.subtle);
        size += leftSize;
      }
      this.peaks.push([size, node]);
      this.count += 1n;
      this.sequenceNumber = sequenceNumber;
      this.head = computedHash;
    }

    async root() {
      if (!this.peaks.length) return sha256(new Uint8Array(0), this.subtle);
      let node = this.peaks[this.peaks.length - 1][1];
      for (let k = this.peaks.length - 2; k >= 0; k--) {
        node = await sha256(concat(new Uint8Array([1]), this.peaks[k][1], node), this.subtle);
      }
      return node;
    }

    async matches(cp) {
      return C.toHex(this.digest) === cp.get("digest") && C.toHex(await this.root()) === cp.get("tree_head") &&
        this.head === cp.get("head_receipt_hash") && this.count === cp.get("count");
    }
  }

  function wellFormedProblem(cp) {
    if (!(cp instanceof Map)) return "not a JSON object";
    const expected = Object.keys(CHECKPOINT_FIELDS);
    const missing = expected.filter((k) => !cp.has(k));
    const extra = Array.from(cp.keys()).filter((k) => !Object.prototype.hasOwnProperty.call(CHECKPOINT_FIELDS, k));
    if (missing.length || extra.length) return "fields missing [" + missing + "] / unexpected [" + extra + "]";
    for (const [name, kind] of Object.entries(CHECKPOINT_FIELDS)) {
      const v = cp.get(name);
      const ok = kind === "str" ? typeof v === "string" : kind === "int" ? typeof v === "bigint"
        : kind === "bool" ? typeof v === "boolean" : v === null || typeof v === "string";
      if (!ok) return "field " + name + " has the wrong type";
    }
    if (cp.get("type") !== "spinegate.checkpoint" || cp.get("version") !== 1n) return "type/version not understood";
    return null;
  }

  /** Read checkpoint lines: [{line, cp (a Map, or null when not canonical JSON)}], and a torn line if any. */
  function readCheckpointLines(entries) {
    const lines = [];
    let torn = null;
    let n = 0;
    for (const e of entries) {
      if (e.kind === "torn") {
        torn = n + 1;
        break;
      }
      n++;
      const bytes = e.bytes || new TextEncoder().encode(e.text);
      if (bytes.length > MAX_CHECKPOINT_LINE) {
        lines.push({ line: n, cp: null });
        continue;
      }
      let cp = null;
      try {
        const text = strictUtf8.decode(bytes);
        const parsed = C.parse(text);
        if (C.canonical(parsed) === text) cp = parsed; // the gate writes exactly one spelling
      } catch (err) {
        cp = null;
      }
      lines.push({ line: n, cp });
    }
    return { lines, torn };
  }

  async function signatureOk(key, cp, subtle) {
    const encoded = cp.get("signature");
    let raw;
    try {
      raw = base64Bytes(encoded);
    } catch (e) {
      return false;
    }
    if (raw.length !== 64 || bytesBase64(raw) !== encoded) return false;
    const unsigned = new Map(cp);
    unsigned.delete("signature");
    try {
      return await subtle.verify({ name: "Ed25519" }, key, raw, new TextEncoder().encode(C.canonical(unsigned)));
    } catch (e) {
      return false;
    }
  }

  /** The receipt is shaped enough to be committed to (checkpoints.receipt_like). */
  function receiptLike(v) {
    if (!(v instanceof Map) || typeof v.get("session_id") !== "string") return false;
    const seq = v.get("sequence_number");
    const h = v.get("receipt_hash");
    const prev = v.get("previous_receipt_hash");
    return typeof seq === "bigint" && typeof h === "string" && HEX64.test(h) &&
      (prev === null || (typeof prev === "string" && HEX64.test(prev)));
  }

  const lenientUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

  /**
   * The receipt's hash straight from its line when the line is its canonical body plus the two
   * hash members (receipt_hash.canonical_line_hash), else null.
   */
  async function canonicalLineHash(data, line, subtle) {
    const stored = data.get("receipt_hash");
    const prev = data.get("previous_receipt_hash");
    const prevMember = '"previous_receipt_hash":' + (prev === null ? "null" : JSON.stringify(prev)) + ",";
    const hashMember = '"receipt_hash":' + JSON.stringify(stored) + ",";
    if (line.split(prevMember).length !== 2 || line.split(hashMember).length !== 2) return null;
    const body = line.replace(prevMember, "").replace(hashMember, "");
    if (!/^[\x00-\x7f]*$/.test(body)) return null;
    const digest = await C.sha256Hex(body, subtle);
    return digest === stored ? digest : null;
  }

  /** The escaping the report page applies to JSON lines it embeds (< > & inside strings). */
  function escapeForEmbedding(text) {
    return text.replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
  }

  /**
   * Check a log against its signed checkpoints, as `spinegate verify --public-key` does.
   * `logEntries` are the log's entries (JSONL), `checkpointEntries` the checkpoint file's lines
   * (null when there is no checkpoint file), `publicKeys` the trusted 32-byte Ed25519 public
   * keys (one Uint8Array, or a list of them: fleets rotate keys; a session is signed by one).
   * Returns {valid, keyId (the first key's), keyIds, signedBy (key id -> {checkpoints, sessions}),
   * checkpoints, verifiedCheckpoints, sessions, coveredReceipts, uncovered, unclosed, failures}.
   */
  async function verifyCheckpoints(logEntries, checkpointEntries, publicKeys, options) {
    const opts = options || {};
    const subtle = opts.subtle || globalThis.crypto.subtle;
    const keys = new Map(); // key id -> CryptoKey, in the order given, each key once
    for (const raw of publicKeys instanceof Uint8Array ? [publicKeys] : publicKeys) {
      const kid = C.toHex(await sha256(raw, subtle));
      if (!keys.has(kid)) keys.set(kid, await subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]));
    }
    if (!keys.size) throw new Error("verifyCheckpoints needs at least one public key");
    const keyIds = Array.from(keys.keys());
    const report = {
      keyId: keyIds[0], keyIds, signedBy: new Map(keyIds.map((k) => [k, { checkpoints: 0, sessions: new Set() }])),
      checkpoints: 0, verifiedCheckpoints: 0, sessions: 0, coveredReceipts: 0n,
      uncovered: new Map(), unclosed: [], failures: [],
    };
    const sessionKeys = new Map(); // session -> the key that signed its first authentic checkpoint
    const fail = (reason, detail, where) => report.failures.push(Object.assign({ reason, detail }, where || {}));
    const sessions = new Map();
    const session = (sid) => {
      if (!sessions.has(sid)) {
        sessions.set(sid, { commitment: new Commitment(subtle), anchors: [], checkpoints: [], lastLine: null,
          contentFailed: false });
      }
      return sessions.get(sid);
    };
    const wrongKey = new Set();

    if (checkpointEntries === null) {
      fail(CP.FILE_MISSING, "no checkpoint file next to the log: nothing signed to check against", { in: "checkpoints" });
    } else {
      const { lines, torn } = readCheckpointLines(checkpointEntries);
      if (torn !== null) {
        fail(CP.TORN, "the checkpoint file ends in a partial line (an interrupted write)", { in: "checkpoints", line: torn });
      }
      for (const { line, cp } of lines) {
        report.checkpoints++;
        const problem = cp === null ? "not canonical JSON (whitespace, key order, escapes or duplicate keys)"
          : wellFormedProblem(cp);
        const at = { in: "checkpoints", line };
        if (problem) {
          fail(CP.MALFORMED, "not a checkpoint: " + problem, at);
          continue;
        }
        const sid = cp.get("session_id");
        Object.assign(at, { sessionId: sid, sequenceNumber: cp.get("sequence_number") });
        const kid = cp.get("key_id");
        const key = keys.get(kid);
        if (key === undefined) {
          let edited = false;
          for (const other of keys.values()) if (!edited && (await signatureOk(other, cp, subtle))) edited = true;
          if (edited) {
            fail(CP.SIGNATURE_INVALID, "the key_id field was edited", at);
          } else if (!wrongKey.has(sid)) {
            wrongKey.add(sid);
            fail(CP.KEY_MISMATCH, "signed by key " + kid.slice(0, 16) + "..., not by the given key" +
              (keys.size > 1 ? "s " : " ") + keyIds.map((k) => k.slice(0, 16) + "...").join(", "), at);
          }
          continue;
        }
        if (!(await signatureOk(key, cp, subtle))) {
          fail(CP.SIGNATURE_INVALID, "checkpoint " + cp.get("index") + ": the signature does not verify: forged or edited", at);
          continue;
        }
        if (!sessionKeys.has(sid)) sessionKeys.set(sid, kid);
        const first = sessionKeys.get(sid);
        if (first !== kid) {
          // The gate never continues a session with another key: one was used to extend the other's session.
          fail(CP.KEY_MISMATCH, "checkpoint " + cp.get("index") + " is signed by key " + kid.slice(0, 16) + "..., but " +
            "the session's checkpoints before it by key " + first.slice(0, 16) + "...: a session is signed by one key", at);
          continue;
        }
        report.verifiedCheckpoints++;
        report.signedBy.get(kid).checkpoints++;
        report.signedBy.get(kid).sessions.add(sid);
        session(sid).checkpoints.push([line, cp]);
      }
      for (const [sid, st] of sessions) {
        await checkChain(sid, st.checkpoints, fail, subtle);
        st.anchors = st.checkpoints.slice().sort((a, b) => cmpBig(a[1].get("sequence_number"), b[1].get("sequence_number")) ||
          cmpBig(a[1].get("index"), b[1].get("index")));
        while (st.anchors.length && st.anchors[0][1].get("count") === 0n) {
          const [line, cp] = st.anchors.shift();
          if (cp.get("sequence_number") !== 0n || !(await new Commitment(subtle).matches(cp))) {
            fail(CP.MALFORMED, "checkpoint " + cp.get("index") + " covers no receipts but does not commit to an " +
              "empty session", { in: "checkpoints", line, sessionId: sid, sequenceNumber: cp.get("sequence_number") });
          }
        }
      }
    }

    // One pass over the log.
    let seenAny = false;
    for (const e of logEntries) {
      if (e.kind === "torn" || e.file !== undefined) break;
      // As Python reads the line: decoded leniently, trailing carriage returns and a byte-order mark
      // at the start of the log dropped.
      let text = e.kind === "text" ? e.text : lenientUtf8.decode(e.bytes).replace(/\r+$/, "");
      if (e.line === 1 && text.startsWith("\ufeff")) text = text.slice(1);
      let data;
      try {
        data = C.parse(text);
      } catch (err) {
        continue;
      }
      if (!receiptLike(data)) continue;
      const sid = data.get("session_id");
      const seq = data.get("sequence_number");
      const where = { in: "log", line: e.line, sessionId: sid, sequenceNumber: seq };
      let computed = await canonicalLineHash(data, text, subtle);
      if (computed === null) {
        computed = await C.sha256Hex(C.receiptHashInput(data), subtle);
        const spelled = C.canonical(data);
        if ((e.escaped ? escapeForEmbedding(spelled) : spelled) !== text) {
          fail(CP.RECEIPT_NOT_CANONICAL, "the line is not the canonical JSON the gate writes (duplicate keys, " +
            "whitespace, key order or escapes)", where);
        }
      }
      seenAny = true;
      const st = session(sid);
      const c = st.commitment;
      while (st.anchors.length && seq > st.anchors[0][1].get("sequence_number")) {
        const [cl, cp] = st.anchors.shift();
        fail(CP.RECEIPTS_DELETED, "checkpoint " + cp.get("index") + " (line " + cl + ") covers sequence " +
          cp.get("sequence_number") + ", but the log has no such receipt (it goes from " + c.sequenceNumber +
          " on): receipts deleted", Object.assign({}, where, { sequenceNumber: cp.get("sequence_number") }));
        st.contentFailed = true;
      }
      await c.add(computed, data.get("previous_receipt_hash"), seq);
      st.lastLine = e.line;
      while (st.anchors.length && seq === st.anchors[0][1].get("sequence_number")) {
        const [cl, cp] = st.anchors.shift();
        await compare(cp, cl, c, st, Object.assign({}, where, { sequenceNumber: cp.get("sequence_number") }), fail);
      }
    }

    for (const [sid, st] of sessions) {
      const c = st.commitment;
      const at = { in: "log", line: st.lastLine, sessionId: sid };
      if (st.anchors.length) {
        const [cl, cp] = st.anchors[st.anchors.length - 1];
        fail(CP.TAIL_TRUNCATED, "checkpoint " + cp.get("index") + " (line " + cl + ") covers " + cp.get("count") +
          " receipts up to sequence " + cp.get("sequence_number") + ", but the log ends at sequence " +
          c.sequenceNumber + " after " + c.count + " receipts of this session: its tail was cut off",
          Object.assign({}, at, { sequenceNumber: cp.get("sequence_number") }));
      }
      if (st.checkpoints.length) {
        report.sessions++;
        const last = st.checkpoints.reduce((a, b) => (b[1].get("index") > a[1].get("index") ? b : a))[1];
        const lastCount = last.get("count");
        report.coveredReceipts += c.count < lastCount ? c.count : lastCount;
        const after = c.count - lastCount;
        if (after > 0n && last.get("final")) {
          fail(CP.RECEIPTS_INSERTED, after + " receipt(s) follow the session's final checkpoint (" + last.get("index") +
            ", sequence " + last.get("sequence_number") + "): appended after it was closed",
            Object.assign({}, at, { sequenceNumber: last.get("sequence_number") + 1n }));
        }
        if (after > 0n) {
          report.uncovered.set(sid, after);
          if (after > last.get("every")) {
            fail(CP.MISSING, after + " receipts follow the session's last checkpoint (" + last.get("index") +
              ", sequence " + last.get("sequence_number") + "), which was written every " + last.get("every") +
              ": later checkpoints were deleted", { in: "checkpoints", sessionId: sid,
              sequenceNumber: last.get("sequence_number") + last.get("every") });
          }
        }
        if (!last.get("final")) report.unclosed.push(sid);
      } else if (c.count) {
        report.uncovered.set(sid, c.count);
        if (report.verifiedCheckpoints && !wrongKey.has(sid)) {
          fail(CP.SESSION_UNSIGNED, c.count + " receipt(s) of this session, and no checkpoint of it: a session " +
            "added to the log, or one whose checkpoints were all deleted", at);
        }
      }
    }
    if (report.verifiedCheckpoints === 0 && !report.failures.some((f) => f.reason === CP.FILE_MISSING ||
        f.reason === CP.FILE_INVALID || f.reason === CP.KEY_MISMATCH)) {
      // Even with no receipt: an emptied log with an emptied checkpoint file proves nothing was signed.
      fail(CP.NO_CHECKPOINTS, (seenAny ? "the log holds receipts, but" : "the log holds no receipts, and") +
        " no checkpoint verifies under the given key" + (keys.size > 1 ? "s" : "") + ": nothing signed vouches for it",
        { in: "checkpoints" });
    }
    report.valid = report.failures.length === 0;
    return report;
  }

  function cmpBig(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
  }

  async function compare(cp, cl, c, st, where, fail) {
    const count = cp.get("count");
    if (c.count < count) {
      fail(CP.RECEIPTS_DELETED, "checkpoint " + cp.get("index") + " (line " + cl + ") signed " + count +
        " receipts up to sequence " + cp.get("sequence_number") + "; the log holds " + c.count + ": " +
        (count - c.count) + " deleted", where);
      st.contentFailed = true;
    } else if (c.count > count) {
      fail(CP.RECEIPTS_INSERTED, "checkpoint " + cp.get("index") + " (line " + cl + ") signed " + count +
        " receipts up to sequence " + cp.get("sequence_number") + "; the log holds " + c.count, where);
      st.contentFailed = true;
    } else if (!st.contentFailed && !(await c.matches(cp))) {
      const before = st.checkpoints.map((t) => t[1].get("sequence_number")).filter((s) => s < cp.get("sequence_number"));
      const lo = before.reduce((a, b) => (b > a ? b : a), 0n);
      fail(CP.RECEIPT_REWRITTEN, "the receipts do not match what checkpoint " + cp.get("index") + " (line " + cl +
        ") signed: at least one receipt with sequence " + (lo + 1n) + ".." + cp.get("sequence_number") +
        " was rewritten (hashes recomputed or not)", where);
      st.contentFailed = true;
    }
  }

  async function checkChain(sid, cps, fail, subtle) {
    if (!cps.length) return;
    const at = (line, cp) => ({ in: "checkpoints", line, sessionId: sid, sequenceNumber: cp.get("sequence_number") });
    for (let k = 1; k < cps.length; k++) {
      const a = cps[k - 1][1];
      const [line, b] = cps[k];
      if (b.get("index") < a.get("index")) {
        fail(CP.REORDERED, "checkpoint " + b.get("index") + " comes after checkpoint " + a.get("index") +
          " in the file: out of order", at(line, b));
        break;
      }
    }
    const byIndex = new Map();
    for (const [line, cp] of cps) {
      const i = cp.get("index");
      if (byIndex.has(i)) {
        fail(CP.CHAIN_BROKEN, "two checkpoints claim index " + i + " (lines " + byIndex.get(i)[0] + " and " + line +
          "): duplicated or forked", at(line, cp));
        continue;
      }
      byIndex.set(i, [line, cp]);
    }
    const indexes = Array.from(byIndex.keys()).sort(cmpBig);
    const last = indexes[indexes.length - 1];
    const missing = [];
    for (let i = 1n; i <= last; i++) if (!byIndex.has(i)) missing.push(i);
    if (missing.length) {
      let firstAfter = missing[0];
      while (!byIndex.has(firstAfter)) firstAfter++;
      const [line, cp] = byIndex.get(firstAfter);
      fail(CP.MISSING, "checkpoint(s) " + missing.slice(0, 10).join(", ") + (missing.length > 10 ? " ..." : "") +
        " of the session missing (the chain runs to checkpoint " + last + "): deleted", at(line, cp));
    }
    for (const i of indexes) {
      const [line, cp] = byIndex.get(i);
      let expected = null;
      if (i !== 1n) {
        const before = byIndex.get(i - 1n);
        if (before === undefined) continue; // already reported as missing
        expected = await C.sha256Hex(C.canonical(before[1]), subtle);
      }
      if (cp.get("previous_checkpoint") !== expected) {
        fail(CP.CHAIN_BROKEN, i > 1n ? "checkpoint " + i + ": previous_checkpoint does not match checkpoint " + (i - 1n)
          : "checkpoint 1: previous_checkpoint must be null", at(line, cp));
      }
    }
  }

  return {
    REASONS,
    WARNINGS,
    CHECKPOINT_REASONS: CP,
    entriesFromText,
    entriesFromEmbedded,
    receiptSchemaProblem,
    readEntry,
    verifyEntries,
    verifyCheckpoints,
    ed25519Available,
    escapeForEmbedding,
    base64Bytes,
    bytesBase64,
  };
});
