// capspec playground: the page's glue. capspec itself runs as WebAssembly
// (capspec.wasm, package playground/wasm), which sets the global "capspec"
// and calls capspecReady(). This file reads and writes the boxes, draws the
// results, and keeps the state in the URL fragment. It requests nothing but
// capspec.wasm, from the page's own origin.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const policyBox = $("policy");
  const highlights = $("policy-highlights");
  const requestsBox = $("requests");
  const interfacesBox = $("interfaces");
  const oldBox = $("old");
  const statusLine = $("status");
  const tooltip = $("tooltip");
  const caretPanel = $("caret-diagnostic");

  // What the page starts with when the link holds nothing.
  const EXAMPLE = {
    policy: [
      "# A service that calls an API, uses a database and serves on loopback.",
      "--allow-outbound=tcp://api.example.com:443",
      "--allow-outbound=tcp://db.internal->172.17.0.14:5432->5433",
      "--allow-resolve=*.cdn.example.net#ipv4-only",
      "--allow-inbound=tcp://localhost:8080",
      "",
    ].join("\n"),
    requests: [
      "connect tcp api.example.com:443",
      "connect tcp api.example.com:80",
      "lookup db.internal",
      "connect tcp 172.17.0.14:5432 via db.internal",
      "lookup img.cdn.example.net ipv6",
      "listen tcp localhost:8080",
      "listen tcp *:8080",
      "",
    ].join("\n"),
    old: [
      "--allow-outbound=tcp://api.example.com:80,443",
      "--allow-outbound=tcp://db.internal->172.17.0.13:5432",
      "--allow-inbound=tcp://localhost:8080",
      "",
    ].join("\n"),
  };

  // Measurements, read by the browser test: when the first diagnostics were
  // drawn (ms since navigation), and how long edits of the policy took to
  // be drawn.
  const timings = (window.capspecTimings = {
    instantiated: null, // the wasm compiled and instantiated
    ready: null, // capspec started (Go's package initialization done)
    firstDiagnostics: null,
    keystrokes: [], // an edit of the policy to its diagnostics drawn
    lint: [], // of which linting (in WebAssembly)
    panels: [], // the last edit of a run of edits to every panel drawn
    analyze: [],
  });

  let api = null; // the capspec object of the wasm
  let analysis = null; // the last playground.Analysis
  let defaultInterfaces = "";

  // ---- The URL fragment: #p=POLICY&r=REQUESTS&o=OLD&i=INTERFACES, each
  // value base64url (no padding) of UTF-8 (docs/playground.md).

  function encodeValue(text) {
    const bytes = new TextEncoder().encode(text);
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeValue(value) {
    let s = value.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
    if (/[^A-Za-z0-9+/]/.test(s) || s.length % 4 === 1) throw new Error("not base64url");
    while (s.length % 4) s += "=";
    const bin = atob(s);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  }

  const KEYS = { p: "policy", r: "requests", o: "old", i: "interfaces" };

  // readFragment returns the state a link's hash holds, null when it holds none,
  // or throws naming the key that cannot be read.
  function readFragment(fromHash) {
    const hash = fromHash.replace(/^#/, "");
    if (!hash) return null;
    const state = { policy: "", requests: "", old: "", interfaces: defaultInterfaces };
    let any = false;
    for (const part of hash.split("&")) {
      if (!part) continue;
      const eq = part.indexOf("=");
      const key = eq < 0 ? part : part.slice(0, eq);
      if (!(key in KEYS)) continue;
      try {
        state[KEYS[key]] = decodeValue(eq < 0 ? "" : part.slice(eq + 1));
      } catch (e) {
        throw new Error(`the link's "${key}" value cannot be read (${e.message})`);
      }
      any = true;
    }
    return any ? state : null;
  }

  function fragment() {
    const parts = [];
    const values = { p: policyBox.value, r: requestsBox.value, o: oldBox.value, i: interfacesBox.value };
    for (const k of ["p", "r", "o", "i"]) {
      const v = values[k];
      if (k === "i" ? v === defaultInterfaces : v === "") continue;
      parts.push(`${k}=${encodeValue(v)}`);
    }
    return parts.join("&");
  }

  let fragmentTimer = 0;
  let writtenHash = null;
  function saveFragment() {
    clearTimeout(fragmentTimer);
    fragmentTimer = setTimeout(() => {
      const f = fragment();
      writtenHash = "#" + f;
      history.replaceState(null, "", f ? "#" + f : location.pathname + location.search);
    }, 250);
  }

  // ---- Text helpers.

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("data-")) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c);
    }
    return e;
  }

  function plural(n, word) {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
  }

  function setOutput(pre, panel) {
    pre.classList.toggle("unavailable", !!panel.unavailable);
    pre.textContent = panel.unavailable || panel.text || "(nothing)";
  }

  // ---- The policy editor.

  // autosize grows the editor with its text, so that the textarea never
  // scrolls and the backdrop stays aligned with it.
  function autosize() {
    policyBox.style.height = "auto";
    policyBox.style.height = policyBox.scrollHeight + 2 + "px";
  }

  const severityRank = { error: 0, warning: 1, info: 2 };

  // drawHighlights marks the diagnostics' ranges in the backdrop: the text
  // is cut at every range boundary and each piece covered by diagnostics is
  // a <mark> of the most severe one. An empty range is a thin marker.
  function drawHighlights(text, diags) {
    const cuts = new Set([0, text.length]);
    for (const d of diags) {
      cuts.add(Math.min(d.start, text.length));
      cuts.add(Math.min(d.end, text.length));
    }
    const points = [...cuts].sort((a, b) => a - b);
    const frag = document.createDocumentFragment();
    for (let k = 0; k < points.length; k++) {
      const at = points[k];
      const empties = diags.map((d, i) => i).filter((i) => diags[i].start === at && diags[i].end === at);
      if (empties.length) {
        frag.append(el("mark", { class: `empty ${worst(empties, diags)}`, "data-diags": empties.join(" ") }));
      }
      if (k + 1 >= points.length) break;
      const to = points[k + 1];
      if (to <= at) continue;
      const piece = text.slice(at, to);
      const covering = diags.map((d, i) => i).filter((i) => diags[i].start <= at && diags[i].end >= to && diags[i].end > diags[i].start);
      if (covering.length) {
        frag.append(el("mark", { class: worst(covering, diags), "data-diags": covering.join(" ") }, piece));
      } else {
        frag.append(piece);
      }
    }
    // A final newline needs a character after it to take up its line.
    frag.append("\u200b");
    highlights.replaceChildren(frag);
  }

  function worst(indices, diags) {
    let best = "info";
    for (const i of indices) {
      if (severityRank[diags[i].severity] < severityRank[best]) best = diags[i].severity;
    }
    return best;
  }

  function diagLabel(d) {
    return `${d.line}:${d.column} ${d.severity}[${d.id}] ${d.summary}`;
  }

  function fixButton(d, f) {
    const b = el("button", { type: "button", class: "fix" }, `Fix: ${f.message}`);
    b.setAttribute("aria-label", `Apply fix for ${d.id} at line ${d.line}, column ${d.column}: ${f.message}`);
    b.addEventListener("click", () => applyFix(f));
    return b;
  }

  function diagnosticItem(d, i) {
    const goto = el("button", { type: "button", class: "link" }, `${d.line}:${d.column}`);
    goto.setAttribute("aria-label", `Go to line ${d.line}, column ${d.column}`);
    goto.addEventListener("click", () => {
      policyBox.focus();
      policyBox.setSelectionRange(d.start, d.end);
      showCaretDiagnostics();
    });
    const li = el(
      "li",
      { class: d.severity, "data-index": String(i), "data-id": d.id },
      goto,
      " ",
      el("span", { class: `sev ${d.severity}` }, `${d.severity}[${d.id}]`),
      " ",
      el("span", { class: "summary-text" }, d.summary),
      d.detail ? el("div", { class: "detail" }, d.detail) : null,
      d.help ? el("div", { class: "help" }, `${d.name}: ${d.help}`) : null,
    );
    if (d.fixes.length) li.append(el("div", { class: "fixes" }, ...d.fixes.map((f) => fixButton(d, f))));
    return li;
  }

  // applyFix applies a fix's edits (UTF-16 offsets into the text the
  // diagnostics were computed on), last first, and puts the cursor after
  // the first edit.
  function applyFix(fix) {
    const edits = [...fix.edits].sort((a, b) => b.start - a.start);
    let text = policyBox.value;
    for (const e of edits) text = text.slice(0, e.start) + e.new_text + text.slice(e.end);
    const first = edits[edits.length - 1];
    policyBox.value = text;
    policyBox.focus();
    const caret = first.start + first.new_text.length;
    policyBox.setSelectionRange(caret, caret);
    statusLine.textContent = `Applied: ${fix.message}.`;
    onPolicyInput(true);
  }

  function diagnosticsAt(pos) {
    if (!analysis) return [];
    return analysis.diagnostics.filter((d) => d.start <= pos && pos <= d.end);
  }

  // showCaretDiagnostics shows the diagnostics under the cursor below the
  // editor (a live region), with their fixes: the keyboard way to read them.
  let caretKey = "";
  function showCaretDiagnostics() {
    const ds = document.activeElement === policyBox || caretPanel.contains(document.activeElement)
      ? diagnosticsAt(policyBox.selectionStart)
      : [];
    const key = ds.map(diagLabel).join("\n");
    if (key === caretKey) return;
    caretKey = key;
    caretPanel.replaceChildren(
      ...ds.map((d) => {
        const div = el("div", { class: d.severity },
          el("span", { class: `sev ${d.severity}` }, `${d.severity}[${d.id}]`), " ",
          `line ${d.line}, column ${d.column}: ${d.summary}`);
        if (d.fixes.length) div.append(el("div", { class: "fixes" }, ...d.fixes.map((f) => fixButton(d, f))));
        return div;
      }),
    );
  }

  // Hovering a marked range shows its messages. The textarea lies over the
  // marks, so the pointer is hit-tested against their boxes.
  function onPointerMove(ev) {
    const marks = highlights.querySelectorAll("mark");
    for (const m of marks) {
      for (const r of m.getClientRects()) {
        if (ev.clientX >= r.left - 2 && ev.clientX <= r.right + 2 && ev.clientY >= r.top && ev.clientY <= r.bottom) {
          const ds = m.dataset.diags.split(" ").map((i) => analysis.diagnostics[+i]).filter(Boolean);
          tooltip.replaceChildren(...ds.map((d) => el("div", {}, diagLabel(d))));
          tooltip.hidden = false;
          const x = Math.min(ev.clientX + 12, window.innerWidth - tooltip.offsetWidth - 4);
          tooltip.style.left = Math.max(4, x) + "px";
          tooltip.style.top = r.bottom + 6 + "px";
          return;
        }
      }
    }
    tooltip.hidden = true;
  }

  // ---- Drawing an analysis.

  let announceTimer = 0;
  function drawDiagnostics(text, ds) {
    drawHighlights(text, ds);
    $("diagnostics").replaceChildren(...(ds.length ? ds.map(diagnosticItem) : [el("li", { class: "none" }, "No problems found.")]));
    const c = { error: 0, warning: 0, info: 0 };
    for (const d of ds) c[d.severity]++;
    const counts = `${plural(c.error, "error")}, ${plural(c.warning, "warning")}, ${c.info} info`;
    $("diagnostic-counts").textContent = `(${counts})`;
    policyBox.setAttribute("aria-invalid", c.error > 0 ? "true" : "false");
    // Screen readers hear the counts once typing pauses.
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => {
      $("diagnostics-summary").textContent = ds.length ? `Diagnostics: ${counts}.` : "No diagnostics.";
    }, 800);
    if (timings.firstDiagnostics === null) timings.firstDiagnostics = performance.now();
  }

  function drawEval(ev) {
    const list = $("decisions");
    const summary = $("eval-summary");
    if (ev.unavailable) {
      summary.textContent = ev.unavailable;
      list.replaceChildren();
      return;
    }
    const parts = [`${ev.allowed} allowed`, `${ev.denied} denied`];
    if (ev.invalid) parts.push(`${ev.invalid} not a request`);
    summary.textContent = ev.requests.length ? `${plural(ev.requests.length, "request")}: ${parts.join(", ")}.` : "No requests.";
    list.replaceChildren(
      ...ev.requests.map((r) =>
        el("li", { class: r.decision, "data-line": String(r.line) },
          el("span", { class: "line-no" }, `line ${r.line} `),
          el("span", { class: "verdict" }, r.decision === "invalid" ? "error" : r.decision), " ",
          el("code", {}, r.request),
          r.reason ? el("pre", { class: "reason" }, r.reason) : null),
      ),
    );
  }

  function drawDiff(d) {
    const pre = $("diff");
    const summary = $("diff-summary");
    pre.classList.toggle("unavailable", !!d.unavailable);
    if (d.unavailable) {
      summary.textContent = d.unavailable;
      pre.textContent = "";
      return;
    }
    const lines = d.text.replace(/\n$/, "").split("\n");
    summary.textContent = lines[lines.length - 1];
    pre.replaceChildren(
      ...lines.map((line) => {
        const cls = { "+": "add", "-": "remove", "~": "change" }[line[0]] || "";
        return el("span", { class: cls }, line + "\n");
      }),
    );
  }

  function draw(a, text) {
    analysis = a;
    drawDiagnostics(text, a.diagnostics);
    setOutput($("canonical"), a.canonical);
    setOutput($("explanation"), a.explanation);
    $("use-canonical").disabled = !!a.canonical.unavailable || a.canonical.text === text;
    drawEval(a.eval);
    drawDiff(a.diff);
    caretKey = null;
    showCaretDiagnostics();
  }

  // ---- Reacting to edits.

  // call calls a function of capspec and decodes its answer; a failure
  // (capspec panicked) is shown in the status line and answered with null.
  function call(name, ...args) {
    const result = JSON.parse(api[name](...args));
    if (result && result.error) {
      statusLine.textContent = result.error;
      statusLine.classList.add("error");
      return null;
    }
    return result;
  }

  function analyzeAll() {
    const t0 = performance.now();
    const text = policyBox.value;
    const a = call("analyze", text, requestsBox.value, oldBox.value, interfacesBox.value);
    timings.analyze.push(performance.now() - t0);
    if (a) draw(a, text);
  }

  // An edit of the policy draws its diagnostics at once, then the other
  // panels as soon as the browser is free: keys typed in a row redraw them
  // once.
  let restTimer = 0;
  let lastEdit = 0;
  function onPolicyInput(ev) {
    if (!api) return;
    const t0 = (lastEdit = performance.now());
    autosize();
    const text = policyBox.value;
    const ds = call("lint", text);
    timings.lint.push(performance.now() - t0);
    if (!ds) return;
    analysis = { ...(analysis || {}), diagnostics: ds };
    drawDiagnostics(text, ds);
    caretKey = null;
    showCaretDiagnostics();
    if (ev) saveFragment(); // an edit, not a load
    timings.keystrokes.push(performance.now() - t0);
    clearTimeout(restTimer);
    restTimer = setTimeout(() => {
      analyzeAll();
      timings.panels.push(performance.now() - lastEdit);
    }, 0);
  }

  // redrawPanel recomputes one panel after an edit of its own box.
  function redrawPanel(key, result, draw) {
    if (!result) return;
    if (analysis) analysis[key] = result;
    draw(result);
    saveFragment();
  }

  function onRequestsInput() {
    if (api) redrawPanel("eval", call("eval", policyBox.value, requestsBox.value, interfacesBox.value), drawEval);
  }

  function onOldInput() {
    if (api) redrawPanel("diff", call("diff", oldBox.value, policyBox.value), drawDiff);
  }

  // The interface table decides the requests' listens only: the diff, as
  // capspec diff, decides listens with no interface table.
  function onInterfacesInput() {
    onRequestsInput();
  }

  // load fills the boxes and draws them as an edit does: the diagnostics
  // first, the other panels right after.
  function load(state) {
    policyBox.value = state.policy;
    requestsBox.value = state.requests;
    oldBox.value = state.old;
    interfacesBox.value = state.interfaces;
    onPolicyInput();
  }

  function loadFromLink(hash) {
    try {
      const state = readFragment(hash);
      load(state || { ...EXAMPLE, interfaces: defaultInterfaces });
      return state ? "Loaded the policy from the link." : "Ready.";
    } catch (e) {
      load({ ...EXAMPLE, interfaces: defaultInterfaces });
      statusLine.classList.add("error");
      return `Showing the example: ${e.message}.`;
    }
  }

  async function copyLink() {
    clearTimeout(fragmentTimer);
    const f = fragment();
    history.replaceState(null, "", f ? "#" + f : location.pathname + location.search);
    writtenHash = "#" + f;
    const status = $("link-status");
    try {
      await navigator.clipboard.writeText(location.href);
      status.textContent = "Link copied.";
    } catch (e) {
      status.textContent = "Copy the address from the address bar: it holds the link.";
    }
  }

  function start() {
    timings.ready = performance.now();
    api = window.capspec;
    defaultInterfaces = api.defaultInterfaces;
    for (const box of [policyBox, requestsBox, oldBox, interfacesBox]) box.disabled = false;
    statusLine.textContent = loadFromLink(location.hash);
    policyBox.addEventListener("input", onPolicyInput);
    requestsBox.addEventListener("input", onRequestsInput);
    oldBox.addEventListener("input", onOldInput);
    interfacesBox.addEventListener("input", onInterfacesInput);
    for (const t of ["keyup", "click", "focus"]) policyBox.addEventListener(t, showCaretDiagnostics);
    document.addEventListener("selectionchange", () => {
      if (document.activeElement === policyBox) showCaretDiagnostics();
    });
    document.addEventListener("focusin", showCaretDiagnostics);
    policyBox.addEventListener("mousemove", onPointerMove);
    policyBox.addEventListener("mouseleave", () => (tooltip.hidden = true));
    policyBox.addEventListener("scroll", () => (highlights.parentElement.scrollTop = policyBox.scrollTop));
    window.addEventListener("resize", autosize);
    // The link followed is the event's: a save of the state pending when
    // the user changed the address may have replaced location.hash since.
    window.addEventListener("hashchange", (ev) => {
      const hash = new URL(ev.newURL).hash;
      if (hash === writtenHash) return;
      let state;
      try {
        state = readFragment(hash);
      } catch (e) {
        state = e;
      }
      if (state === null) return; // not a link of the page's state
      clearTimeout(fragmentTimer);
      statusLine.classList.remove("error");
      statusLine.textContent = loadFromLink(hash);
    });
    // The skip link moves the focus without touching the fragment, which
    // holds the state.
    const skip = document.querySelector(".skip");
    skip.addEventListener("click", (ev) => {
      ev.preventDefault();
      policyBox.focus();
    });
    skip.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter") return;
      ev.preventDefault(); // and so no newline in the editor
      policyBox.focus();
    });
    $("copy-link").addEventListener("click", copyLink);
    $("use-canonical").addEventListener("click", () => {
      if (!analysis || analysis.canonical.unavailable) return;
      policyBox.value = analysis.canonical.text;
      policyBox.focus();
      statusLine.textContent = "Replaced the policy with its canonical form.";
      onPolicyInput(true);
    });
    document.body.dataset.ready = "true";
  }

  window.capspecReady = start;

  async function run() {
    if (!("WebAssembly" in window)) {
      statusLine.textContent = "This browser cannot run WebAssembly, which the playground needs.";
      statusLine.classList.add("error");
      return;
    }
    const go = new Go();
    try {
      let result;
      try {
        result = await WebAssembly.instantiateStreaming(fetch("capspec.wasm"), go.importObject);
      } catch (e) {
        // A server without the application/wasm type: instantiate from bytes.
        const bytes = await (await fetch("capspec.wasm")).arrayBuffer();
        result = await WebAssembly.instantiate(bytes, go.importObject);
      }
      timings.instantiated = performance.now();
      go.run(result.instance);
    } catch (e) {
      statusLine.textContent = `capspec could not be loaded: ${e.message}`;
      statusLine.classList.add("error");
    }
  }

  run();
})();
