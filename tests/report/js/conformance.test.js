// The JavaScript canonicaliser and verifier against every published conformance vector
// (fixtures/conformance/*.json). Run: node --test tests/report/js/
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const ASSETS = path.join(__dirname, "..", "..", "..", "src", "spinegate", "report", "assets");
const C = require(path.join(ASSETS, "canonical.js"));
const V = require(path.join(ASSETS, "verify.js"));
// WebCrypto: a global from Node 19 on, node:crypto's webcrypto in Node 18.
const subtle = (globalThis.crypto || require("node:crypto").webcrypto).subtle;

const VECTORS = path.join(__dirname, "..", "..", "..", "fixtures", "conformance");
const load = (name) => {
  const doc = JSON.parse(fs.readFileSync(path.join(VECTORS, name), "utf8"));
  assert.equal(doc.format, "spinegate-conformance/1");
  assert.ok(doc.vectors.length > 0, name + " holds no vectors");
  return doc.vectors;
};

describe("canonical.json", () => {
  for (const v of load("canonical.json")) {
    it(v.name, async () => {
      const text = C.canonical(C.parse(v.input));
      assert.equal(text, v.canonical);
      assert.equal(await C.sha256Hex(text, subtle), v.sha256);
    });
  }
});

describe("receipts.json", () => {
  for (const v of load("receipts.json")) {
    it(v.name, async () => {
      const receipt = C.parse(v.line);
      assert.equal(V.receiptSchemaProblem(receipt), null);
      assert.equal(C.receiptHashInput(receipt), v.hash_input);
      assert.equal(await C.sha256Hex(C.receiptHashInput(receipt), subtle), v.receipt_hash);
      assert.equal(receipt.get("receipt_hash"), v.receipt_hash);
      assert.equal(C.canonical(receipt), v.line, "the whole receipt serialises back to its line");
      for (const [variant, text] of Object.entries(v.variants)) {
        assert.equal(await C.sha256Hex(C.receiptHashInput(C.parse(text)), subtle), v.receipt_hash, variant);
      }
      const report = await V.verifyEntries(V.entriesFromText(v.line + "\n"), { subtle });
      assert.equal(report.valid, true, JSON.stringify(report.failures));
    });
  }
});

describe("manifests.json", () => {
  for (const v of load("manifests.json")) {
    it(v.name, async () => {
      const input = C.manifestHashInput(v.file);
      assert.equal(input, v.hash_input);
      const computed = await C.sha256Hex(input, subtle);
      assert.equal(computed, v.manifest_hash);
      const stored = C.parse(v.file).get("manifest_hash");
      assert.equal(stored === computed, v.stored_hash_matches);
    });
  }
});

/** The directory layout's files in the order Python's verifier reads them. */
function directoryEntries(files) {
  const RECEIPT_FILE = /^(\d+)_(.+)\.json$/;
  const bySession = new Map();
  for (const [rel, text] of Object.entries(files)) {
    const parts = rel.split("/");
    const dir = parts.length > 1 ? parts[0] : "";
    const m = RECEIPT_FILE.exec(parts[parts.length - 1]);
    if (!m) continue;
    if (!bySession.has(dir)) bySession.set(dir, []);
    bySession.get(dir).push({ n: BigInt(m[1]), rid: m[2], rel, text });
  }
  const dirs = Array.from(bySession.keys()).sort((a, b) => (a === "" ? -1 : b === "" ? 1 : C.compareCodePoints(a, b)));
  const entries = [];
  for (const dir of dirs) {
    const files = bySession.get(dir).sort((a, b) => (a.n !== b.n ? (a.n < b.n ? -1 : 1) : C.compareCodePoints(a.rid, b.rid)));
    for (const f of files) {
      entries.push({ kind: "bytes", bytes: new TextEncoder().encode(f.text), file: f.rel, expectedId: f.rid });
    }
  }
  return entries;
}

describe("chains.json", () => {
  for (const v of load("chains.json")) {
    it(v.name, async () => {
      const entries = v.format === "jsonl" ? V.entriesFromText(v.log) : directoryEntries(v.files);
      const report = await V.verifyEntries(entries, { format: v.format, subtle });
      assert.equal(report.valid, v.valid, JSON.stringify(report.failures, (k, x) => (typeof x === "bigint" ? String(x) : x)));
      if (v.valid) {
        for (const key of ["receipts", "sessions", "approvals", "denials"]) {
          assert.equal(report[key], v.summary[key], key);
        }
      } else {
        const first = report.failures[0];
        assert.equal(first.reason, v.first_failure.reason);
        const seq = first.sequenceNumber === undefined ? null : Number(first.sequenceNumber);
        assert.equal(seq, v.first_failure.sequence_number);
        if (v.format === "jsonl") assert.equal(first.line, v.first_failure.line);
        else assert.equal(first.file, v.first_failure.file);
      }
    });
  }
});
