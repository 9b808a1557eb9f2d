/*
 * spinegate's canonical form, written again in JavaScript, independently of the Python code.
 *
 * A receipt hashes as Python's json.dumps(value, sort_keys=True, separators=(",", ":")) writes it:
 * keys sorted by code point at every depth, no whitespace, every character outside printable
 * ASCII as a lowercase \uXXXX escape (surrogate pairs above U+FFFF), floats spelled as Python's
 * repr spells them, integers as integers. So the parser here is lossless where JSON.parse is
 * not: integers come back as BigInt, floats as Number, objects as Map (no prototype keys, Python's
 * last-duplicate-wins), and it accepts and rejects what Python's json.loads does.
 *
 * Runs unchanged in a browser (a global `SpinegateCanonical`) and in Node (CommonJS), with
 * no dependency: the report page inlines it, Node's test runner checks it against every
 * published conformance vector.
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.SpinegateCanonical = factory();
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  /** Nesting deeper than this is refused (Python's parser stops near its recursion limit). */
  const MAX_DEPTH = 500;
  /** Python 3.11 refuses to convert integers with more digits than this (int_max_str_digits). */
  const MAX_INT_DIGITS = 4300;

  class JsonError extends Error {
    constructor(message, position) {
      super(position === undefined ? message : message + " at character " + position);
      this.name = "JsonError";
      this.position = position;
    }
  }

  /** A number kept exactly as written (the manifest hash keeps numbers as the file spells them). */
  class RawNumber {
    constructor(text) {
      this.text = text;
    }
  }

  const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
  const SIMPLE_ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
  const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
  const HEX4 = /^[0-9a-fA-F]{4}$/;

  /**
   * Parse JSON text as Python's json.loads does.
   * options.rawNumbers: numbers as RawNumber (their text), and NaN / Infinity refused.
   */
  function parse(text, options) {
    const rawNumbers = Boolean(options && options.rawNumbers);
    let i = 0;

    function skip() {
      while (i < text.length && WHITESPACE.has(text[i])) i++;
    }

    function fail(message) {
      throw new JsonError(message, i);
    }

    function parseString() {
      // text[i] is the opening quote
      i++;
      let out = "";
      let start = i;
      for (;;) {
        if (i >= text.length) fail("unterminated string");
        const c = text.charCodeAt(i);
        if (c === 0x22) {
          out += text.slice(start, i);
          i++;
          return out;
        }
        if (c < 0x20) fail("invalid control character in a string");
        if (c === 0x5c) {
          out += text.slice(start, i);
          const e = text[i + 1];
          if (e === "u") {
            const hex = text.slice(i + 2, i + 6);
            if (!HEX4.test(hex)) fail("invalid \\u escape");
            out += String.fromCharCode(parseInt(hex, 16));
            i += 6;
          } else if (e !== undefined && Object.prototype.hasOwnProperty.call(SIMPLE_ESCAPES, e)) {
            out += SIMPLE_ESCAPES[e];
            i += 2;
          } else {
            fail("invalid escape");
          }
          start = i;
          continue;
        }
        i++;
      }
    }

    function parseNumber() {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m === null) fail("expected a value");
      const lexeme = m[0];
      i += lexeme.length;
      if (rawNumbers) return new RawNumber(lexeme);
      if (m[1] === undefined && m[2] === undefined) {
        const digits = lexeme[0] === "-" ? lexeme.length - 1 : lexeme.length;
        if (digits > MAX_INT_DIGITS) fail("integer with more than " + MAX_INT_DIGITS + " digits");
        return BigInt(lexeme);
      }
      return Number(lexeme);
    }

    function parseWord(word, value) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return value;
      }
      return fail("expected a value");
    }

    function parseValue(depth) {
      if (depth > MAX_DEPTH) fail("nested too deeply");
      skip();
      const c = text[i];
      if (c === "{") return parseObject(depth);
      if (c === "[") return parseArray(depth);
      if (c === '"') return parseString();
      if (c === "t") return parseWord("true", true);
      if (c === "f") return parseWord("false", false);
      if (c === "n") return parseWord("null", null);
      if (!rawNumbers) {
        if (c === "N") return parseWord("NaN", NaN);
        if (c === "I") return parseWord("Infinity", Infinity);
        if (c === "-" && text.startsWith("-Infinity", i)) return parseWord("-Infinity", -Infinity);
      }
      return parseNumber();
    }

    function parseObject(depth) {
      i++;
      const map = new Map();
      skip();
      if (text[i] === "}") {
        i++;
        return map;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail("expected a property name in double quotes");
        const key = parseString();
        skip();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        map.set(key, parseValue(depth + 1)); // a repeated key keeps its place, takes the last value
        skip();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return map;
        }
        fail("expected ',' or '}'");
      }
    }

    function parseArray(depth) {
      i++;
      const list = [];
      skip();
      if (text[i] === "]") {
        i++;
        return list;
      }
      for (;;) {
        list.push(parseValue(depth + 1));
        skip();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return list;
        }
        fail("expected ',' or ']'");
      }
    }

    if (typeof text !== "string") throw new TypeError("parse() takes a string");
    const value = parseValue(1);
    skip();
    if (i !== text.length) fail("extra data after the value");
    return value;
  }

  /** Compare two strings by Unicode code point (Python's str order), not by UTF-16 unit. */
  function compareCodePoints(a, b) {
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a.codePointAt(i);
      const y = b.codePointAt(j);
      if (x !== y) return x < y ? -1 : 1;
      i += x > 0xffff ? 2 : 1;
      j += y > 0xffff ? 2 : 1;
    }
    if (i < a.length) return 1;
    if (j < b.length) return -1;
    return 0;
  }

  function sortedKeys(map) {
    return Array.from(map.keys()).sort(compareCodePoints);
  }

  const SHORT_ESCAPES = { 0x22: '\\"', 0x5c: "\\\\", 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x08: "\\b", 0x0c: "\\f" };

  function hex4(code) {
    return "\\u" + code.toString(16).padStart(4, "0");
  }

  /** A string as json.dumps writes it with ensure_ascii: printable ASCII raw, the rest escaped. */
  function quoteAscii(s) {
    let out = '"';
    let start = 0;
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
      out += s.slice(start, k) + (SHORT_ESCAPES[c] || hex4(c));
      start = k + 1;
    }
    return out + s.slice(start) + '"';
  }

  /** A string as json.dumps writes it with ensure_ascii=False: only quote, backslash and C0 controls escaped. */
  function quoteRaw(s) {
    let out = '"';
    let start = 0;
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
      out += s.slice(start, k) + (SHORT_ESCAPES[c] || hex4(c));
      start = k + 1;
    }
    return out + s.slice(start) + '"';
  }

  /** A float as Python's repr writes it: shortest round-trip digits, exponent outside [1e-4, 1e16). */
  function pyFloatRepr(x) {
    if (Number.isNaN(x)) return "NaN";
    if (x === Infinity) return "Infinity";
    if (x === -Infinity) return "-Infinity";
    if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
    const sign = x < 0 ? "-" : "";
    // toExponential() with no argument gives the shortest digits that round-trip, as repr does.
    const [mantissa, exp] = Math.abs(x).toExponential().split("e");
    const digits = mantissa.replace(".", "");
    const decpt = Number(exp) + 1; // the value is 0.<digits> * 10**decpt
    if (decpt > -4 && decpt <= 16) {
      if (decpt <= 0) return sign + "0." + "0".repeat(-decpt) + digits;
      if (decpt >= digits.length) return sign + digits + "0".repeat(decpt - digits.length) + ".0";
      return sign + digits.slice(0, decpt) + "." + digits.slice(decpt);
    }
    const e = decpt - 1;
    const tail = digits.length > 1 ? "." + digits.slice(1) : "";
    return sign + digits[0] + tail + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
  }

  function serialise(value, quote) {
    if (value === null) return "null";
    if (value === true) return "true";
    if (value === false) return "false";
    switch (typeof value) {
      case "string":
        return quote(value);
      case "bigint":
        return value.toString();
      case "number":
        return pyFloatRepr(value);
      default:
        break;
    }
    if (value instanceof RawNumber) return value.text;
    if (Array.isArray(value)) return "[" + value.map((v) => serialise(v, quote)).join(",") + "]";
    if (value instanceof Map) {
      return "{" + sortedKeys(value).map((k) => quote(k) + ":" + serialise(value.get(k), quote)).join(",") + "}";
    }
    throw new TypeError("not a parsed JSON value: " + Object.prototype.toString.call(value));
  }

  /** The receipt serialisation rule (SPEC.md, receipt hash step 2) of a value from `parse`. */
  function canonical(value) {
    return serialise(value, quoteAscii);
  }

  /** The manifest hash rule: sorted keys, no whitespace, raw non-ASCII, numbers as written. */
  function manifestCanonical(value) {
    return serialise(value, quoteRaw);
  }

  const HASH_EXCLUDED = ["receipt_hash", "previous_receipt_hash"];

  /** The bytes a receipt's hash covers: its canonical form without the two hash fields. */
  function receiptHashInput(receipt) {
    if (!(receipt instanceof Map)) throw new TypeError("a receipt is a JSON object");
    const body = new Map(receipt);
    for (const k of HASH_EXCLUDED) body.delete(k);
    return canonical(body);
  }

  /** The text a manifest's hash covers, from the manifest file's text. */
  function manifestHashInput(fileText) {
    const manifest = parse(fileText, { rawNumbers: true });
    if (!(manifest instanceof Map)) throw new JsonError("a manifest is a JSON object");
    const body = new Map(manifest);
    body.delete("manifest_hash");
    return manifestCanonical(body);
  }

  function toHex(buffer) {
    return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** SHA-256 (WebCrypto) of bytes or of a string's UTF-8, as lowercase hex. */
  async function sha256Hex(data, subtle) {
    const crypto = subtle || globalThis.crypto.subtle;
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    return toHex(await crypto.digest("SHA-256", bytes));
  }

  /** A parsed value as indented JSON for people to read (non-ASCII raw, numbers as Python writes them). */
  function pretty(value, indent) {
    const pad = indent || "";
    const inner = pad + "  ";
    if (Array.isArray(value)) {
      if (value.length === 0) return "[]";
      return "[\n" + value.map((v) => inner + pretty(v, inner)).join(",\n") + "\n" + pad + "]";
    }
    if (value instanceof Map) {
      if (value.size === 0) return "{}";
      const parts = Array.from(value.keys(), (k) => inner + quoteRaw(k) + ": " + pretty(value.get(k), inner));
      return "{\n" + parts.join(",\n") + "\n" + pad + "}";
    }
    return serialise(value, quoteRaw);
  }

  return {
    MAX_DEPTH,
    JsonError,
    RawNumber,
    parse,
    compareCodePoints,
    pyFloatRepr,
    canonical,
    manifestCanonical,
    receiptHashInput,
    manifestHashInput,
    sha256Hex,
    toHex,
    pretty,
  };
});
