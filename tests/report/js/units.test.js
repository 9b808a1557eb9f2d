// Unit tests of the page's JavaScript beyond the conformance vectors: the parser's edges, where
// Python's json module draws them, the embedding the page reads, and WebCrypto feature checks.
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const ASSETS = path.join(__dirname, "..", "..", "..", "src", "spinegate", "report", "assets");
const C = require(path.join(ASSETS, "canonical.js"));
const V = require(path.join(ASSETS, "verify.js"));
const subtle = (globalThis.crypto || require("node:crypto").webcrypto).subtle;

describe("parse, as Python's json.loads", () => {
  for (const text of ["01", "1.", ".5", "[1,]", "{'a':1}", '"\\x"', '"a\u0001b"', "\ufeff{}", "", " ", "nul",
    "[1] x", "-", "1e", "+1", "0x10", "Infinity1", '{"a" 1}', "[", "\u00a01"]) {
    it("refuses " + JSON.stringify(text), () => {
      assert.throws(() => C.parse(text), C.JsonError);
    });
  }

  it("keeps integers and floats apart, losslessly", () => {
    const v = C.parse('[0, 0.0, -0, -0.0, 12345678901234567890123, 1E3, 1.50]');
    assert.deepEqual(v, [0n, 0, 0n, -0, 12345678901234567890123n, 1000, 1.5]);
    assert.equal(C.canonical(v), "[0,0.0,0,-0.0,12345678901234567890123,1000.0,1.5]");
  });

  it("accepts NaN and Infinity as Python does, and refuses them for manifests", () => {
    assert.equal(C.canonical(C.parse("[NaN, Infinity, -Infinity, 1e999]")), "[NaN,Infinity,-Infinity,Infinity]");
    assert.throws(() => C.parse("[NaN]", { rawNumbers: true }), C.JsonError);
  });

  it("refuses an integer longer than Python converts (4300 digits)", () => {
    assert.equal(C.parse("9".repeat(4300)), BigInt("9".repeat(4300)));
    assert.throws(() => C.parse("9".repeat(4301)), /4300 digits/);
  });

  it("takes the last of repeated keys, and keeps __proto__ an ordinary key", () => {
    const v = C.parse('{"a": 1, "__proto__": {"x": 1}, "a": 2}');
    assert.equal(v.get("a"), 2n);
    assert.equal(C.canonical(v), '{"__proto__":{"x":1},"a":2}');
    assert.equal({}.x, undefined);
  });

  it("refuses nesting deeper than its limit instead of overflowing the stack", () => {
    const deep = "[".repeat(100000) + "]".repeat(100000);
    assert.throws(() => C.parse(deep), /nested too deeply/);
  });

  it("sorts keys by code point, not by UTF-16 unit", () => {
    assert.equal(C.canonical(C.parse('{"\ud83d\ude00": 1, "\uffff": 2}')), '{"\\uffff":2,"\\ud83d\\ude00":1}');
    assert.ok(C.compareCodePoints("\uffff", "\u{1f600}") < 0);
  });

  it("keeps lone surrogates as Python does", () => {
    assert.equal(C.canonical(C.parse('"\\udc00\\ud800x"')), '"\\udc00\\ud800x"');
  });
});

describe("float spelling, as Python's repr", () => {
  const cases = [[0.1, "0.1"], [1e-4, "0.0001"], [1e-5, "1e-05"], [1e16, "1e+16"], [123456789012345680, "1.2345678901234568e+17"],
    [9999999999999998, "9999999999999998.0"], [5e-324, "5e-324"], [1.7976931348623157e308, "1.7976931348623157e+308"],
    [-2.5, "-2.5"], [100, "100.0"], [1.5e300, "1.5e+300"], [0.000123, "0.000123"]];
  for (const [x, want] of cases) {
    it(want, () => assert.equal(C.pyFloatRepr(x), want));
  }
});

describe("the page's embedding", () => {
  it("reads JSON lines, base64 lines, a torn line and directory files", () => {
    const file = Buffer.from("s1/0001_abc.json").toString("base64");
    const text = "\n" + ['{"a":"\\u003c/script\\u003e"}', "!base64 " + Buffer.from("not json").toString("base64"),
      "!torn " + Buffer.from('{"cut').toString("base64"), "!file " + file + " " + Buffer.from("{}").toString("base64")]
      .join("\n") + "\n";
    const [json, raw, torn, dir] = V.entriesFromEmbedded(text);
    assert.deepEqual([json.kind, json.line, json.escaped], ["text", 1, true]);
    assert.equal(C.parse(json.text).get("a"), "</script>");
    assert.deepEqual([raw.kind, raw.line, Buffer.from(raw.bytes).toString()], ["bytes", 2, "not json"]);
    assert.deepEqual([torn.kind, Buffer.from(torn.bytes).toString()], ["torn", '{"cut']);
    assert.deepEqual([dir.file, dir.expectedId, Buffer.from(dir.bytes).toString()], ["s1/0001_abc.json", "abc", "{}"]);
    assert.deepEqual(V.entriesFromEmbedded("\n"), []);
  });

  it("reports a line that is not UTF-8 as INVALID_JSON", async () => {
    const entries = [{ kind: "bytes", bytes: new Uint8Array([0x7b, 0xff, 0x7d]), line: 1 }];
    const report = await V.verifyEntries(entries, { subtle });
    assert.equal(report.failures[0].reason, "INVALID_JSON");
    assert.match(report.failures[0].detail, /UTF-8/);
  });
});

describe("WebCrypto feature checks", () => {
  it("finds Ed25519 in this runtime's WebCrypto", async () => {
    assert.equal(await V.ed25519Available(subtle), true);
  });

  it("says no for a WebCrypto without Ed25519", async () => {
    const older = {
      digest: subtle.digest.bind(subtle),
      importKey: () => Promise.reject(new Error("NotSupportedError: Unrecognized name")),
    };
    assert.equal(await V.ed25519Available(older), false);
    assert.equal(await V.ed25519Available(undefined), typeof globalThis.crypto !== "undefined");
  });
});

describe("warnings and several keys, as spinegate verify", () => {
  it("reads past a byte-order mark on line 1 and a CR before the newline, with warnings", async () => {
    const enc = (s) => V.bytesBase64(new TextEncoder().encode(s));
    const bom = V.bytesBase64(new Uint8Array([0xef, 0xbb, 0xbf, 0x6e, 0x75, 0x6c, 0x6c]));
    const entries = V.entriesFromEmbedded("\n!base64 " + bom + "\n!base64 " + enc("null\r") + "\n!base64 " + bom + "\n");
    const r = await V.verifyEntries(entries, { subtle });
    assert.deepEqual(r.warnings.map((w) => [w.reason, w.line]), [["BYTE_ORDER_MARK", 1], ["LINE_ENDS_CRLF", 2]]);
    // The values are read (null is not a receipt: a schema failure, not a parse failure), except line 3,
    // whose byte-order mark is not at the start of the log.
    assert.deepEqual(r.failures.map((f) => [f.reason, f.line]),
      [["SCHEMA_VIOLATION", 1], ["SCHEMA_VIOLATION", 2], ["INVALID_JSON", 3]]);
  });

  it("refuses to check checkpoints without a key", async () => {
    await assert.rejects(V.verifyCheckpoints([], null, [], { subtle }), /at least one public key/);
  });
});
