// Runs the page's JavaScript on requests from the Python tests (one JSON document on stdin),
// so that they can compare it with Python on many generated inputs:
//   {"canonical": ["<json text>", ...]}  -> {"canonical": [{"text": ...} | {"error": ...}, ...]}
//   {"verify": [{"embedded": "<element text>", "format": "jsonl"}, ...]}
//       -> {"verify": [{"valid", "receipts", "sessions", "approvals", "denials", "outcomes", "first", "warnings"}, ...]}
//   {"checkpoints": [{"embedded": "...", "checkpoints": "<element text>" | null, "keys": ["<base64 raw key>", ...]}, ...]}
//       -> {"checkpoints": [{"valid", "reasons": [...], "verified", "covered"}, ...]}
"use strict";
const path = require("node:path");
const ASSETS = path.join(__dirname, "..", "..", "..", "src", "spinegate", "report", "assets");
const C = require(path.join(ASSETS, "canonical.js"));
const V = require(path.join(ASSETS, "verify.js"));
const subtle = (globalThis.crypto || require("node:crypto").webcrypto).subtle;

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const out = {};
  if (request.canonical) {
    out.canonical = request.canonical.map((text) => {
      try {
        return { text: C.canonical(C.parse(text)) };
      } catch (e) {
        if (e instanceof C.JsonError) return { error: e.message };
        throw e;
      }
    });
  }
  if (request.verify) {
    out.verify = [];
    for (const job of request.verify) {
      const entries = V.entriesFromEmbedded(job.embedded);
      const r = await V.verifyEntries(entries, { format: job.format, subtle });
      const f = r.failures[0];
      out.verify.push({
        valid: r.valid, receipts: r.receipts, sessions: r.sessions, approvals: r.approvals, denials: r.denials,
        outcomes: r.outcomes, failures: r.failures.length,
        warnings: r.warnings.map((w) => [w.reason, w.line]),
        first: f ? { reason: f.reason, line: f.line === undefined ? null : f.line,
          sequence_number: f.sequenceNumber === undefined ? null : String(f.sequenceNumber) } : null,
      });
    }
  }
  if (request.checkpoints) {
    out.checkpoints = [];
    for (const job of request.checkpoints) {
      const cps = job.checkpoints === null ? null : V.entriesFromEmbedded(job.checkpoints);
      const r = await V.verifyCheckpoints(V.entriesFromEmbedded(job.embedded), cps, job.keys.map(V.base64Bytes), { subtle });
      out.checkpoints.push({ valid: r.valid, reasons: r.failures.map((f) => f.reason), verified: r.verifiedCheckpoints,
        covered: Number(r.coveredReceipts) });
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
