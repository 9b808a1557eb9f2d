/*
 * The report page: verifies the embedded log with SpinegateVerify, then fills in the verdict,
 * the counts, the signed-checkpoint status, the problem list and the receipts table.
 *
 * Everything the log supplies reaches the page through textContent, never as markup.
 * When the page cannot check for itself (no embedded log, no WebCrypto, no Ed25519), it shows
 * the command line's verdict and says so.
 */
(function () {
  "use strict";
  const C = window.SpinegateCanonical;
  const V = window.SpinegateVerify;
  const PAGE_SIZE = 100;

  const $ = (id) => document.getElementById(id);
  const fmt = (n) => Number(n).toLocaleString("en-US");

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  function readScript(id) {
    const node = $(id);
    return node ? node.textContent : null;
  }

  // ------------------------------------------------------------------------------------------
  // Rows

  function verdictOf(operation, status) {
    if (operation === "outcome") return "outcome";
    if (operation === "escalation") return "escalate";
    if (operation === "posture" || operation === "reload") return operation;
    if (typeof status !== "string") return null;
    return status === "blocked" ? "deny" : "approve";
  }

  const KIND = { approve: "approve", deny: "deny", escalate: "escalate", outcome: "outcome" };

  function text(v) {
    return typeof v === "string" ? v : null;
  }

  function rowOf(item, index) {
    const r = item.value instanceof Map ? item.value : null;
    const action = r && r.get("action") instanceof Map ? r.get("action") : new Map();
    const result = r && r.get("result") instanceof Map ? r.get("result") : new Map();
    const operation = text(action.get("operation"));
    const status = text(result.get("status"));
    const verdict = r ? verdictOf(operation, status) : null;
    let reason = text(result.get("blocked_by"));
    if (verdict === "outcome") {
      const code = result.get("exit_code");
      reason = typeof code === "bigint" ? status + " (exit " + code + ")" : status;
    } else if (verdict === "posture" || verdict === "reload") {
      reason = text(action.get("description"));
    }
    const seq = r ? r.get("sequence_number") : undefined;
    const e = item.entry;
    return {
      index,
      item,
      anchor: e.file !== undefined ? "file-" + encodeURIComponent(e.file) : "line-" + e.line,
      where: e.file !== undefined ? e.file : "line " + e.line,
      line: e.line,
      time: r ? text(r.get("timestamp")) : null,
      session: r ? text(r.get("session_id")) : null,
      seq: typeof seq === "bigint" ? seq : null,
      tool: text(action.get("tool")),
      effect: text(action.get("effect_class")),
      verdict: r ? verdict || "unknown" : "unreadable",
      reason,
      ok: item.failures.length === 0,
      warned: item.warnings !== undefined && item.warnings.length > 0,
    };
  }

  function shortTime(t) {
    return t && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(t) ? t.slice(0, 10) + " " + t.slice(11, 19) : t || "";
  }

  // ------------------------------------------------------------------------------------------
  // Verdict

  function describeFailure(f) {
    const parts = [];
    if (f.in === "checkpoints") parts.push("checkpoint file" + (f.line ? " line " + f.line : ""));
    else if (f.in === "witness") parts.push((f.file || "witness") + (f.line ? " line " + f.line : ""));
    else if (f.file) parts.push(f.file);
    else if (f.line) parts.push("line " + f.line);
    if (f.sessionId !== undefined && f.sessionId !== null) parts.push("session " + f.sessionId);
    if (f.sequenceNumber !== undefined && f.sequenceNumber !== null) parts.push("sequence " + f.sequenceNumber);
    return { where: parts.join(", "), what: f.reason + ": " + f.detail };
  }

  /** Whether a failure is at a line (or file) of the log, which the table can show. */
  function inLog(f) {
    return f.in !== "checkpoints" && f.in !== "witness";
  }

  function fromCli(f) {
    // The command line's Failure as JSON: {reason, detail, file, line, session_id, sequence_number}.
    return { reason: f.reason, detail: f.detail, line: f.line, file: f.line === null ? f.file : undefined,
      sessionId: f.session_id, sequenceNumber: f.sequence_number };
  }

  function setVerdict(state) {
    const section = $("verdict");
    section.className = "verdict " + (state.valid === null ? "unknown" : state.valid ? "valid" : "invalid");
    section.setAttribute("data-verdict", state.valid === null ? "unknown" : state.valid ? "valid" : "invalid");
    section.setAttribute("data-source", state.source);
    section.setAttribute("data-disagrees", state.disagrees ? "true" : "false");
    if (state.first) {
      section.setAttribute("data-reason", state.first.reason);
      if (state.first.line !== undefined && state.first.line !== null && inLog(state.first)) {
        section.setAttribute("data-line", String(state.first.line));
      }
    } else {
      section.removeAttribute("data-reason");
      section.removeAttribute("data-line");
    }
    $("verdict-title").textContent = state.title;
    const detail = $("verdict-detail");
    detail.replaceChildren();
    if (state.first) {
      const d = describeFailure(state.first);
      const where = el("strong", {}, "First failure: " + d.where);
      detail.append(where, " \u2014 " + d.what);
      if (state.first.line && inLog(state.first)) {
        detail.append(" ", el("a", { href: "#line-" + state.first.line }, "show the receipt"));
      } else if (state.first.file && inLog(state.first)) {
        detail.append(" ", el("a", { href: "#file-" + encodeURIComponent(state.first.file) }, "show the receipt"));
      }
    } else {
      detail.textContent = state.detail || "";
    }
    const notes = $("verdict-notes");
    notes.replaceChildren(...state.notes.map((n) => el("li", { class: n.level || "" }, n.text)));
  }

  /** The command line's findings against the witness (the page does not re-check a witness). */
  function witnessFailures(cli) {
    return cli.witness ? cli.witness.failures.map((f) => Object.assign(fromCli(f), { in: "witness", file: f.file })) : [];
  }

  function cliSummary(cli) {
    const n = cli.failure_count + (cli.checkpoints ? cli.checkpoints.failure_count : 0) +
      (cli.witness ? cli.witness.failure_count : 0) +
      (cli.strict ? cli.warning_count : 0);
    return cli.valid ? "valid" : "INVALID (" + fmt(n) + " problem" + (n === 1 ? "" : "s") + ")";
  }

  // ------------------------------------------------------------------------------------------
  // Counts, checkpoints, problems

  function setCount(name, value) {
    const tile = document.querySelector('[data-count="' + name + '"] .value');
    if (tile) tile.textContent = fmt(value);
  }

  function showCounts(rows, chain) {
    const counts = { approve: 0, deny: 0, escalate: 0, outcome: 0, other: 0 };
    const sessions = new Set();
    for (const r of rows) {
      if (r.verdict === "unreadable") continue;
      counts[KIND[r.verdict] || "other"]++;
      if (r.session !== null) sessions.add(r.session);
    }
    setCount("receipts", chain.receipts);
    setCount("sessions", sessions.size);
    setCount("approvals", counts.approve);
    setCount("denials", counts.deny);
    setCount("escalations", counts.escalate);
    setCount("outcomes", counts.outcome);
    setCount("other", counts.other);
    const source = $("counts-source");
    if (source) source.textContent = "Counted in this browser from the embedded log.";
  }

  function showCheckpoints(status, lines, level) {
    const box = $("checkpoints");
    box.setAttribute("data-status", status);
    box.className = "card checkpoints " + (level ? "cp-" + level : "");
    const witness = $("witness"); // the command line's witness verdict stays: the page does not re-check it
    $("checkpoints-text").replaceChildren(...lines.map((l) => el("p", {}, l)), ...(witness ? [witness] : []));
  }

  function checkpointLines(cp, where) {
    const lines = [];
    const n = cp.failures.length;
    lines.push((n ? "INVALID: " + fmt(n) + " problem" + (n === 1 ? "" : "s") + ". " : "Valid. ") +
      fmt(cp.verifiedCheckpoints) + " of " + fmt(cp.checkpoints) + " checkpoints verify under " + keysText(cp) +
      ", covering " + fmt(cp.coveredReceipts) + " receipts in " + fmt(cp.sessions) + " session" +
      (cp.sessions === 1 ? "" : "s") + " (" + where + ").");
    const tail = Array.from(cp.uncovered.values()).reduce((a, b) => a + b, 0n);
    if (tail > 0n) {
      lines.push(fmt(tail) + " receipt" + (tail === 1n ? "" : "s") + " after the last checkpoint of their session " +
        "are protected by the hash chain only.");
    }
    if (cp.unclosed.length) {
      lines.push(fmt(cp.unclosed.length) + " session" + (cp.unclosed.length === 1 ? "" : "s") + " without a final " +
        "checkpoint (still open, crashed, or cut back together with their last checkpoints).");
    }
    lines.push(cp.keyIds.length > 1
      ? "Trust this only if the key ids are the ones you expect: whoever can edit this file can also swap the keys."
      : "Trust this only if the key id is the one you expect: whoever can edit this file can also swap the key.");
    return lines;
  }

  /** `key <id>` for one key; for several (a fleet that rotated keys), each key with what it signed. */
  function keysText(cp) {
    if (cp.keyIds.length === 1) return "key " + cp.keyIds[0];
    return fmt(cp.keyIds.length) + " keys: " + cp.keyIds.map((kid) => {
      const signed = cp.signedBy.get(kid);
      const k = signed.sessions.size;
      return "key " + kid + " (" + fmt(signed.checkpoints) + " checkpoints, " + fmt(k) + " session" + (k === 1 ? "" : "s") + ")";
    }).join(", ");
  }

  function showProblems(failures, source, warnings) {
    const list = $("problem-list");
    const box = $("problems");
    const warned = warnings || [];
    box.setAttribute("data-count", String(failures.length));
    box.setAttribute("data-warnings", String(warned.length));
    $("problems-source").textContent = failures.length ? source : "No problems found (" + source + ")" +
      (warned.length ? "; " + fmt(warned.length) + " warning" + (warned.length === 1 ? "" : "s") + " below." : ".");
    const shown = failures.slice(0, 500).concat(warned.slice(0, Math.max(0, 500 - failures.length))
      .map((w) => Object.assign({ warning: true }, w)));
    list.replaceChildren(...shown.map((f) => {
      const d = describeFailure(f);
      const li = el("li", f.warning ? { class: "warn", "data-warning": "true" } : {}, el("span", { class: "where" }, d.where),
        " ", el("code", {}, f.reason), " ", (f.warning ? "(warning) " : "") + f.detail);
      if (inLog(f) && (f.line || f.file)) {
        const href = f.file ? "#file-" + encodeURIComponent(f.file) : "#line-" + f.line;
        li.append(" ", el("a", { href }, "show"));
      }
      return li;
    }));
    const hidden = failures.length + warned.length - shown.length;
    if (hidden > 0) list.append(el("li", {}, "\u2026 and " + fmt(hidden) + " more"));
  }

  // ------------------------------------------------------------------------------------------
  // The receipts table

  function fillSelect(select, values, label) {
    const options = [el("option", { value: "" }, label)];
    for (const v of values) options.push(el("option", { value: v }, v));
    select.replaceChildren(...options);
  }

  function makeTable(rows) {
    const state = { page: 0, filtered: rows, open: null };
    const sessions = Array.from(new Set(rows.map((r) => r.session).filter((s) => s !== null))).sort();
    const tools = Array.from(new Set(rows.map((r) => r.tool).filter((s) => s !== null))).sort();
    const verdicts = Array.from(new Set(rows.map((r) => r.verdict))).sort();
    fillSelect($("filter-session"), sessions, "all sessions");
    fillSelect($("filter-tool"), tools, "all tools");
    fillSelect($("filter-verdict"), verdicts, "all verdicts");
    const tbody = $("receipt-rows");

    const FILTERS = { session: "filter-session", tool: "filter-tool", verdict: "filter-verdict" };

    function apply(fromAddress) {
      const s = $("filter-session").value;
      const t = $("filter-tool").value;
      const v = $("filter-verdict").value;
      const failing = $("filter-failing").checked;
      state.filtered = rows.filter((r) => (!s || r.session === s) && (!t || r.tool === t) && (!v || r.verdict === v) &&
        (!failing || !r.ok));
      state.page = 0;
      draw();
      if (!fromAddress) {
        // The filters live in the address (#session=...&verdict=deny), so a filtered view can be shared.
        const q = new URLSearchParams();
        for (const [name, id] of Object.entries(FILTERS)) if ($(id).value) q.set(name, $(id).value);
        if (failing) q.set("failing", "1");
        try {
          history.replaceState(null, "", q.toString() ? "#" + q.toString() : location.pathname + location.search);
        } catch (e) {
          // Some browsers refuse to change the address of a local file; the filters still apply.
        }
      }
    }

    /** Set the filters from an address fragment such as #verdict=deny&failing=1; false if it holds none. */
    function filterFrom(fragment) {
      if (!fragment.includes("=")) return false;
      const q = new URLSearchParams(fragment);
      for (const [name, id] of Object.entries(FILTERS)) {
        const want = q.get(name) || "";
        const select = $(id);
        if (want && !Array.from(select.options).some((o) => o.value === want)) select.append(el("option", { value: want }, want));
        select.value = want;
      }
      $("filter-failing").checked = q.get("failing") === "1";
      apply(true);
      return true;
    }

    function draw() {
      const pages = Math.max(1, Math.ceil(state.filtered.length / PAGE_SIZE));
      state.page = Math.min(state.page, pages - 1);
      const start = state.page * PAGE_SIZE;
      const shown = state.filtered.slice(start, start + PAGE_SIZE);
      tbody.replaceChildren(...shown.map(rowElement));
      $("table-info").textContent = state.filtered.length
        ? "Showing " + fmt(start + 1) + "\u2013" + fmt(start + shown.length) + " of " + fmt(state.filtered.length) +
          (state.filtered.length === rows.length ? "" : " (filtered from " + fmt(rows.length) + ")")
        : "No receipt matches these filters.";
      $("page-prev").disabled = state.page === 0;
      $("page-next").disabled = state.page >= pages - 1;
      $("receipts").setAttribute("data-shown", String(shown.length));
      $("receipts").setAttribute("data-matching", String(state.filtered.length));
    }

    function rowElement(r) {
      const tr = el("tr", { class: (r.ok ? "" : "fail ") + "v-" + r.verdict, "data-anchor": r.anchor });
      const check = !r.ok ? el("span", { class: "bad" }, "\u2717 " + r.item.failures.map((f) => f.reason).join(", "))
        : r.warned ? el("span", { class: "warn" }, "\u2713 warning: " + r.item.warnings.map((w) => w.reason).join(", "))
          : el("span", { class: "ok" }, "\u2713");
      tr.append(
        el("td", { class: "num" }, r.line !== undefined ? String(r.line) : r.where),
        el("td", { class: "mono" }, shortTime(r.time)),
        el("td", { class: "mono" }, r.session === null ? "" : r.session),
        el("td", { class: "num" }, r.seq === null ? "" : String(r.seq)),
        el("td", {}, r.tool === null ? "" : r.tool),
        el("td", {}, r.effect === null ? "" : r.effect),
        el("td", {}, el("span", { class: "pill v-" + r.verdict }, r.verdict)),
        el("td", { class: "reason" }, r.reason === null ? "" : r.reason),
        el("td", {}, check),
      );
      tr.addEventListener("click", () => openDetail(r));
      return tr;
    }

    for (const id of ["filter-session", "filter-tool", "filter-verdict", "filter-failing"]) {
      $(id).addEventListener("change", () => apply(false));
    }
    $("page-prev").addEventListener("click", () => { state.page--; draw(); });
    $("page-next").addEventListener("click", () => { state.page++; draw(); });
    draw();

    function reveal(anchor) {
      const r = rows.find((x) => x.anchor === anchor);
      if (!r) return;
      for (const id of ["filter-session", "filter-tool", "filter-verdict"]) $(id).value = "";
      $("filter-failing").checked = false;
      state.filtered = rows;
      state.page = Math.floor(r.index / PAGE_SIZE);
      draw();
      openDetail(r);
    }
    return { reveal, filterFrom };
  }

  function openDetail(r) {
    const box = $("detail");
    box.hidden = false;
    box.setAttribute("data-anchor", r.anchor);
    $("detail-title").textContent = r.where + (r.session ? " \u00b7 session " + r.session : "") +
      (r.seq !== null ? " \u00b7 sequence " + r.seq : "");
    $("detail-failures").replaceChildren(...(r.item.failures.length
      ? r.item.failures.map((f) => el("li", { class: "bad" }, f.reason + ": " + f.detail))
      : [el("li", { class: "ok" }, "Verifies: schema, hash recomputed in this browser, chain link.")]),
    ...(r.item.warnings || []).map((w) => el("li", { class: "warn" }, "warning " + w.reason + ": " + w.detail)));
    let body;
    if (r.item.value !== null) {
      body = C.pretty(r.item.value);
    } else {
      const e = r.item.entry;
      body = e.text !== undefined ? e.text : new TextDecoder("utf-8").decode(e.bytes);
      body = "(not a readable receipt; its bytes as text:)\n" + body;
    }
    $("detail-json").textContent = body;
    if (r.item.computedHash) $("detail-hash").textContent = "recomputed SHA-256: " + r.item.computedHash;
    else $("detail-hash").textContent = "";
    for (const tr of document.querySelectorAll("#receipt-rows tr.open")) tr.classList.remove("open");
    const tr = document.querySelector('#receipt-rows tr[data-anchor="' + CSS.escape(r.anchor) + '"]');
    if (tr) tr.classList.add("open");
  }

  // ------------------------------------------------------------------------------------------
  // Main

  async function run() {
    const report = JSON.parse(readScript("spinegate-report"));
    const cli = report.command_line;
    document.body.setAttribute("data-state", "verifying");
    const cliFailures = cli.failures.map(fromCli)
      .concat(cli.checkpoints ? cli.checkpoints.failures.map((f) => Object.assign(fromCli(f), { in: "checkpoints" })) : [])
      .concat(cli.strict ? cli.warnings.map(fromCli) : [])
      .concat(witnessFailures(cli));

    const cliOnly = (why, title) => {
      setVerdict({
        valid: cli.valid, source: "command-line", first: cliFailures[0] || null,
        title: (cli.valid ? "Valid" : "Invalid") + ": " + title,
        detail: fmt(cli.receipts) + " receipts in " + fmt(cli.sessions) + " sessions.",
        notes: [{ text: why, level: "warn" }],
      });
      showProblems(cliFailures, "as reported by the command line");
      document.body.setAttribute("data-state", "done");
    };

    if (!report.embedded) {
      cliOnly("This log has " + fmt(report.log.entries) + " lines, more than the " + fmt(report.max_embedded) +
        " this page embeds (--max-embedded): it is summarised, and not checked again in this browser.",
        "the command line's verdict (log too large to embed)");
      return;
    }
    const subtle = globalThis.crypto && globalThis.crypto.subtle;
    if (!subtle) {
      cliOnly("This browser offers no WebCrypto here (it needs a secure context: open the file directly rather " +
        "than from a web server), so the page cannot recompute the hashes itself.", "the command line's verdict");
      return;
    }

    const entries = V.entriesFromEmbedded(readScript("spinegate-receipts"));
    const chain = await V.verifyEntries(entries, { format: report.log.layout, subtle });
    const notes = [];
    const links = chain.items.filter((it) => it.computedHash !== null).length;
    notes.push({ text: "Checked in this browser: " + fmt(entries.length) + " lines read, " + fmt(links) +
      " receipt hashes recomputed (canonical form in JavaScript, SHA-256 by WebCrypto), every chain link checked." });
    const rawLines = chain.items.filter((it) => it.problem && it.entry.file === undefined).length;
    if (rawLines) {
      notes.push({ text: fmt(rawLines) + " line" + (rawLines === 1 ? " is" : "s are") +
        " not JSON and embedded byte for byte (base64): reported below.", level: "warn" });
    }

    let cp = null;
    let cpMode = "none";
    if (report.public_keys.length) {
      const raw = report.public_keys.map((k) => V.base64Bytes(k.raw));
      if (await V.ed25519Available(subtle)) {
        let cpEntries = null;
        if (report.checkpoint_file === "present") cpEntries = V.entriesFromEmbedded(readScript("spinegate-checkpoints") || "");
        if (report.checkpoint_file === "not-a-file") {
          cp = { valid: false, failures: [{ reason: "CHECKPOINT_FILE_INVALID", in: "checkpoints",
            detail: "the checkpoint path is not a regular file (a directory, device or pipe): not read" }] };
          cpMode = "browser";
          showCheckpoints("invalid", ["INVALID: " + cp.failures[0].detail + "."], "bad");
        } else {
          cp = await V.verifyCheckpoints(entries, cpEntries, raw, { subtle });
          cpMode = "browser";
          showCheckpoints(cp.valid ? "valid" : "invalid", checkpointLines(cp, "signatures checked with Ed25519 in this browser"),
            cp.valid ? "good" : "bad");
        }
      } else {
        cpMode = "command-line";
        const c = cli.checkpoints;
        showCheckpoints(c.valid ? "command-line-valid" : "command-line-invalid", [
          "This browser's WebCrypto has no Ed25519, so it cannot check the signatures itself. The command line's verdict: " +
          c.summary], c.valid ? "good" : "bad");
        notes.push({ text: "Signed checkpoints: the command line's verdict (this browser cannot verify Ed25519).", level: "warn" });
      }
    } else if (report.checkpoint_file_exists) {
      showCheckpoints("not-checked", ["This log has signed checkpoints, but the report was made without --public-key, so " +
        "they were not checked. The hash chain alone cannot show a log rewritten from end to end or cut short."], "warn");
    }

    if (cpMode === "browser") {
      // A checkpoint failure found at a line of the log marks that receipt's row too.
      const byLine = new Map(chain.items.filter((it) => it.entry.line !== undefined).map((it) => [it.entry.line, it]));
      for (const f of cp.failures) if (f.in === "log" && byLine.has(f.line)) byLine.get(f.line).failures.push(f);
    }
    const cpFailures = cpMode === "browser" ? cp.failures
      : cpMode === "command-line" ? cli.checkpoints.failures.map((f) => Object.assign(fromCli(f), { in: "checkpoints" })) : [];
    const cpValid = cpMode === "none" ? true : cpMode === "browser" ? cp.valid : cli.checkpoints.valid;
    // Warnings (CR LF endings, a byte-order mark) change no value; with --strict they count as failures.
    const strict = cli.strict === true;
    if (strict) for (const it of chain.items) it.failures.push(...it.warnings);
    const rows = chain.items.map(rowOf);
    const witnessValid = !cli.witness || cli.witness.valid;
    const valid = chain.valid && cpValid && witnessValid && !(strict && chain.warnings.length);
    const failures = chain.failures.concat(cpFailures, strict ? chain.warnings : [], witnessFailures(cli));
    if (cli.witness) {
      notes.push({ level: cli.witness.valid ? "" : "bad", text: "Witness: the command line's verdict, recorded when " +
        "the report was written (this page does not re-check the witness): " + cli.witness.summary + "." });
    }
    if (chain.warnings.length && !strict) {
      const n = chain.warnings.length;
      notes.push({ level: "warn", text: fmt(n) + " warning" + (n === 1 ? "" : "s") + " (lines ending in CR LF as " +
        "written on Windows, or a UTF-8 byte-order mark at the start): the receipts' values and hashes are unchanged, " +
        "so the log still verifies; `spinegate verify --strict` counts them as failures. Listed under Problems." });
    }
    const disagrees = chain.valid !== cli.chain_valid || chain.warnings.length !== cli.warning_count ||
      (cpMode === "browser" && cli.checkpoints && cp.valid !== cli.checkpoints.valid);
    if (disagrees) {
      notes.unshift({ level: "bad", text: "This page's own check disagrees with the command line's verdict (" + cliSummary(cli) +
        ") recorded when the report was written: the embedded log was changed after the report was made, or one of the " +
        "two verifiers is wrong." });
    } else {
      notes.push({ text: "The command line's verdict, recorded when the report was written, agrees: " + cliSummary(cli) + "." });
    }
    const nFail = failures.length;
    setVerdict({
      valid, source: cpMode === "command-line" || cli.witness ? "browser+command-line" : "browser", disagrees,
      first: failures[0] || null,
      title: valid ? "Valid: every receipt verifies" + (cpMode !== "none" ? " and matches its signed checkpoints" : "")
        : "Invalid: " + fmt(nFail) + " problem" + (nFail === 1 ? "" : "s") + " found",
      detail: fmt(chain.receipts) + " receipts in " + fmt(chain.sessions) + " session" + (chain.sessions === 1 ? "" : "s") +
        ", hashes and links recomputed in this browser.",
      notes,
    });
    showCounts(rows, chain);
    showProblems(failures, "found by this page's own check", strict ? [] : chain.warnings);
    const table = makeTable(rows);
    const follow = () => {
      const fragment = location.hash.slice(1);
      if (!fragment || table.filterFrom(fragment)) return;
      const anchor = decodeURIComponent(fragment);
      table.reveal(anchor.startsWith("file-") ? "file-" + encodeURIComponent(anchor.slice(5)) : anchor);
    };
    window.addEventListener("hashchange", follow);
    follow();
    document.body.setAttribute("data-state", "done");
  }

  function start() {
    run().catch((err) => {
      document.body.setAttribute("data-state", "error");
      const section = $("verdict");
      section.setAttribute("data-page-error", String(err && err.message ? err.message : err));
      const notes = $("verdict-notes");
      notes.prepend(el("li", { class: "bad" }, "This page could not finish its own check (" + String(err) +
        "): the verdict shown is the command line's."));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
