// cofail app: renders what the API returns. Every number comes from the library through the
// JSON API; this file only draws it, and sends the person's edits. User text is only ever set
// with textContent (never innerHTML), so a name like <script> shows as text.
"use strict";

const TOKEN = document.querySelector('meta[name="cofail-token"]').content;
const $ = (id) => document.getElementById(id);

const state = {
  view: null,
  history: null,
  stack: new Set(),
  selected: null, // {layer, mode}
  editingLayer: null,
  editingMode: null,
  seq: 0,
  robustSeq: 0,
  timer: null,
};

// -- talking to the server ---------------------------------------------------------------

async function api(method, url, body, headers) {
  const init = { method, headers: Object.assign({}, headers || {}) };
  if (method === "POST") {
    init.headers["X-Cofail-Token"] = TOKEN;
    init.body = body === undefined ? "" : body;
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let data = null;
  try { data = JSON.parse(text); } catch (e) { data = { error: text }; }
  if (!response.ok) {
    const err = new Error((data && data.error) || `HTTP ${response.status}`);
    err.status = response.status;
    throw err;
  }
  return data;
}

function showError(err) {
  const box = $("error");
  box.textContent = err ? String(err.message || err) : "";
  box.hidden = !err;
}

function status(text) { $("status").textContent = text; }

async function change(method, url, body, headers) {
  try {
    const data = await api(method, url, body, headers);
    showError(null);
    return data;
  } catch (err) {
    showError(err);
    return null;
  }
}

function accept(data) {
  if (!data || !data.view) return;
  state.view = data.view;
  state.history = data;
  const ids = new Set(state.view.layers.map((l) => l.id));
  for (const id of [...state.stack]) if (!ids.has(id)) state.stack.delete(id);
  renderAll();
  refresh();
}

async function edit(op) {
  accept(await change("POST", "/api/edit", JSON.stringify(op), { "Content-Type": "application/json" }));
}

// -- the grid ------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function cellTip(layer, mode, cell) {
  const lines = [`${layer} × ${mode}: ${cell.style.text}`];
  if (cell.rationale) lines.push(cell.rationale);
  if (cell.source) lines.push(`source: ${cell.source}`);
  if (cell.confidence) lines.push(`confidence: ${cell.confidence}`);
  if (cell.votes) lines.push("votes: " + Object.entries(cell.votes).map(([r, v]) => `${r} ${v}`).join(", "));
  return lines.join("\n");
}

function renderGrid() {
  const v = state.view;
  const grid = $("grid");
  grid.replaceChildren();
  const head = el("tr", {},
    el("th", { scope: "col", text: "Stack" }),
    el("th", { scope: "col", text: "Layer" }),
    el("th", { scope: "col", text: "Tax" }));
  for (const m of v.failure_modes) {
    head.append(el("th", { scope: "col", class: "mode", title: m.name || m.id },
      el("button", { type: "button", class: "head", "aria-label": `Edit failure mode ${m.id}`,
        onclick: () => openMode(m.id), text: m.id })));
  }
  grid.append(el("thead", {}, head));
  const body = el("tbody");
  for (const layer of v.layers) {
    const inStack = state.stack.has(layer.id);
    const row = el("tr", { class: inStack ? "in-stack" : "" });
    row.append(el("td", {}, el("input", {
      type: "checkbox", checked: inStack, "aria-label": `${layer.id} in stack`,
      onchange: (e) => { if (e.target.checked) state.stack.add(layer.id); else state.stack.delete(layer.id); renderStackLine(); row.classList.toggle("in-stack", e.target.checked); refresh(); },
    })));
    const name = el("th", { scope: "row", class: "layer" },
      el("button", { type: "button", class: "head", "aria-label": `Edit layer ${layer.id}`, onclick: () => openLayer(layer.id), text: layer.id }));
    if (layer.name) name.append(el("span", { class: "layer-name", text: layer.name, title: layer.name }));
    row.append(name);
    const tax = el("select", { "aria-label": `Safety tax of ${layer.id}`, onchange: (e) => edit({ op: "tax", layer: layer.id, safety_tax: e.target.value }) });
    for (const level of ["low", "moderate", "high"]) tax.append(el("option", { value: level, selected: level === layer.safety_tax, text: level }));
    row.append(el("td", { title: `cost ${layer.cost}${layer.tax_note ? "; " + layer.tax_note : ""}` }, tax));
    for (const m of v.failure_modes) row.append(el("td", { class: "cell-td" }, cellButton(layer.id, m.id, v.cells[layer.id][m.id])));
    body.append(row);
  }
  grid.append(body);
}

function cellButton(layer, mode, cell) {
  const s = cell.style;
  const classes = ["cell"];
  if (s.hatch) classes.push(`hatch-${s.hatch}`);
  if (s.corner) classes.push(`corner-${s.corner}`);
  if (state.selected && state.selected.layer === layer && state.selected.mode === mode) classes.push("selected");
  const button = el("button", {
    type: "button", class: classes.join(" "), "data-layer": layer, "data-mode": mode,
    "aria-label": `${layer} × ${mode}: ${s.text}`, text: s.text,
  });
  button.style.setProperty("--colour", s.colour);
  button.style.setProperty("--alpha", String(s.opacity));
  button.style.setProperty("--cell-ink", s.ink);
  const tip = cellTip(layer, mode, cell);
  button.addEventListener("click", () => { select(layer, mode); edit({ op: "cycle", layer, mode }); });
  button.addEventListener("keydown", (e) => cellKey(e, layer, mode));
  button.addEventListener("focus", () => select(layer, mode, true));
  button.addEventListener("mouseenter", (e) => showTip(e.currentTarget, tip));
  button.addEventListener("mouseleave", hideTip);
  button.addEventListener("blur", hideTip);
  return button;
}

function focusCell(layer, mode) {
  const b = document.querySelector(`button.cell[data-layer="${CSS.escape(layer)}"][data-mode="${CSS.escape(mode)}"]`);
  if (b) b.focus();
}

function cellKey(e, layer, mode) {
  const key = e.key;
  if (/^[vnuVNU]$/.test(key) && !e.ctrlKey && !e.metaKey) {
    e.preventDefault();
    edit({ op: "level", layer, mode, level: key.toUpperCase() }).then(() => focusCell(layer, mode));
  } else if (/^[0-9.]$/.test(key)) {
    e.preventDefault();
    typeNumber(e.currentTarget, layer, mode, key);
  } else if (key.startsWith("Arrow")) {
    e.preventDefault();
    const v = state.view;
    const li = v.layers.findIndex((l) => l.id === layer);
    const mi = v.failure_modes.findIndex((m) => m.id === mode);
    const dl = key === "ArrowDown" ? 1 : key === "ArrowUp" ? -1 : 0;
    const dm = key === "ArrowRight" ? 1 : key === "ArrowLeft" ? -1 : 0;
    const nl = v.layers[li + dl], nm = v.failure_modes[mi + dm];
    if (nl && nm) focusCell(nl.id, nm.id);
  }
}

function typeNumber(button, layer, mode, first) {
  const input = el("input", { class: "cell-input", value: first, "aria-label": `Level of ${layer} × ${mode}` });
  button.replaceWith(input);
  input.focus();
  input.setSelectionRange(first.length, first.length);
  let done = false;
  const finish = (commit) => {
    if (done) return;
    done = true;
    if (commit && input.value.trim()) edit({ op: "level", layer, mode, level: input.value.trim() }).then(() => focusCell(layer, mode));
    else { renderGrid(); focusCell(layer, mode); }
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); finish(true); }
    else if (e.key === "Escape") { e.preventDefault(); finish(false); }
  });
  input.addEventListener("blur", () => finish(true));
}

function showTip(target, text) {
  const tip = $("tooltip");
  tip.textContent = text;
  tip.hidden = false;
  const r = target.getBoundingClientRect();
  tip.style.left = `${Math.min(r.left, window.innerWidth - 320)}px`;
  tip.style.top = `${r.bottom + 6}px`;
}
function hideTip() { $("tooltip").hidden = true; }

function renderLegend() {
  const list = $("legend");
  list.replaceChildren();
  for (const item of state.view.legend) {
    const swatch = el("span", { class: `swatch ${item.hatch ? "hatch-" + item.hatch : ""}` });
    swatch.style.background = item.colour;
    list.append(el("li", {}, swatch, el("span", { text: item.label })));
  }
  list.append(el("li", { text: "paler with an open corner: medium confidence; palest with a filled corner: low" }));
}

// -- side panels -----------------------------------------------------------------------------

function select(layer, mode, quiet) {
  state.selected = { layer, mode };
  document.querySelectorAll("button.cell.selected").forEach((b) => b.classList.remove("selected"));
  const b = document.querySelector(`button.cell[data-layer="${CSS.escape(layer)}"][data-mode="${CSS.escape(mode)}"]`);
  if (b) b.classList.add("selected");
  fillCellPanel();
}

function fillCellPanel() {
  const sel = state.selected;
  const panel = $("cell-panel");
  if (!sel || !state.view.cells[sel.layer] || !state.view.cells[sel.layer][sel.mode]) { panel.hidden = true; return; }
  const cell = state.view.cells[sel.layer][sel.mode];
  panel.hidden = false;
  $("cell-h").textContent = `Cell ${sel.layer} × ${sel.mode}`;
  const f = $("cell-form");
  f.level.value = String(cell.level);
  f.confidence.value = cell.confidence || "";
  f.rationale.value = cell.rationale || "";
  f.source.value = cell.source || "";
  $("cell-votes").textContent = cell.votes ? "votes: " + Object.entries(cell.votes).map(([r, v]) => `${r} ${v}`).join(", ") : "";
}

function openLayer(id) {
  const layer = state.view.layers.find((l) => l.id === id);
  if (!layer) return;
  state.editingLayer = id;
  const f = $("layer-form");
  $("layer-panel").hidden = false;
  $("layer-h").textContent = `Layer ${id}`;
  f.new_id.value = layer.id;
  f.name.value = layer.name || "";
  f.safety_tax.value = layer.safety_tax;
  f.tax_cost.value = layer.tax_cost === null || layer.tax_cost === undefined ? "" : String(layer.tax_cost);
  f.description.value = layer.description || "";
  f.new_id.focus();
}

function openMode(id) {
  const mode = state.view.failure_modes.find((m) => m.id === id);
  if (!mode) return;
  state.editingMode = id;
  const f = $("mode-form");
  $("mode-panel").hidden = false;
  $("mode-h").textContent = `Failure mode ${id}`;
  f.new_id.value = mode.id;
  f.name.value = mode.name || "";
  f.description.value = mode.description || "";
  f.new_id.focus();
}

// -- analysis --------------------------------------------------------------------------------

function stackParam() {
  return state.view.layers.map((l) => l.id).filter((id) => state.stack.has(id)).join(",");
}

function renderStackLine() {
  const s = stackParam();
  $("stack-line").textContent = s ? s.split(",").join(" + ") : "No layer ticked: tick layers in the matrix to form a stack.";
  const u = $("uncertain").value;
  $("dl-nav-stack").href = s ? `/api/navigator?stack=${encodeURIComponent(s)}&uncertain=${u}` : "/api/navigator";
}

function scenario(params) {
  params.append("p", $("p").value);
  params.append("residual", $("r").value);
  return params;
}

function refresh() {
  clearTimeout(state.timer);
  state.timer = setTimeout(runAnalysis, 40);
}

async function runAnalysis() {
  renderStackLine();
  $("p-out").textContent = $("p").value;
  $("r-out").textContent = $("r").value;
  $("budget-out").textContent = $("budget").value;
  const stack = stackParam();
  const uncertain = $("uncertain").value;
  const seq = ++state.seq;
  const best = scenario(new URLSearchParams({ budget: $("budget").value, objective: $("objective").value, top: "5", uncertain }));
  const calls = [api("GET", "/api/recommend?" + best)];
  if (stack) {
    calls.push(api("GET", "/api/audit?" + new URLSearchParams({ stack, uncertain })));
    calls.push(api("GET", "/api/risk?" + scenario(new URLSearchParams({ stack, uncertain }))));
  }
  const started = performance.now();
  try {
    const [rec, audit, risk] = await Promise.all(calls);
    if (seq !== state.seq) return; // a newer update is on its way
    renderBest(rec);
    renderAudit(audit || null);
    renderRisk(risk || null);
    showError(null);
    status(`updated in ${Math.round(performance.now() - started)} ms`);
  } catch (err) {
    if (seq === state.seq) showError(err);
  }
  runRobustness(stack);
  if (state.treeShown && !$("seq-order").value.trim()) drawSequences(); // follow the edited stack
}

function chips(list, items, empty) {
  list.replaceChildren();
  if (!items.length) list.append(el("li", { class: "none", text: empty }));
  for (const item of items) list.append(el("li", { text: item }));
}

function renderAudit(a) {
  if (!a) {
    $("depth").textContent = "—";
    for (const id of ["uncovered", "fragile", "cut-sets"]) $(id).replaceChildren();
    $("audit-note").textContent = "";
    return;
  }
  $("depth").textContent = a.depth === null ? "none (no set of failure modes defeats the stack)" : String(a.depth);
  chips($("uncovered"), a.uncovered, "none");
  chips($("fragile"), Object.entries(a.fragile).map(([m, l]) => `${m} (only ${l})`), "none");
  chips($("cut-sets"), a.cut_sets.slice(0, 30).map((c) => `{${c.join(", ")}}`), "none");
  const more = a.cut_sets.length > 30 ? ` (first 30 of ${a.cut_sets.length} cut sets shown)` : "";
  $("audit-note").textContent = (a.note ? a.note + ". " : "") + a.assumptions + more;
}

function num(x) {
  if (x === null || x === undefined) return "—";
  if (typeof x !== "number") return String(x);
  if (x === 0) return "0";
  return Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toPrecision(3);
}

function renderRisk(r) {
  $("risk-exact").textContent = r ? num(r.probability) : "—";
  $("risk-independent").textContent = r ? num(r.independent) : "—";
  $("risk-ratio").textContent = r ? `${num(r.ratio)} ×` : "—";
  const t = $("risk-layers");
  t.replaceChildren();
  if (!r) { $("risk-note").textContent = ""; return; }
  t.append(el("tr", {}, el("th", { text: "layer" }), el("th", { text: "P(fails)" })));
  for (const [layer, p] of Object.entries(r.layer_probabilities)) {
    const bar = el("td", { class: "bar-cell" }, el("span", { class: "fill" }), el("span", { class: "text", text: num(p) }));
    bar.style.setProperty("--v", String(p));
    t.append(el("tr", {}, el("td", { text: layer }), bar));
  }
  $("risk-note").textContent = r.assumptions;
}

function renderBest(rec) {
  const t = $("best-table");
  t.replaceChildren();
  t.append(el("tr", {}, ...["stack", "tax", "uncovered", "depth", "risk", ""].map((h) => el("th", { text: h }))));
  for (const s of rec.stacks) {
    t.append(el("tr", {},
      el("td", { text: s.layers.join(" + ") }),
      el("td", { text: num(s.tax) }),
      el("td", { text: s.uncovered.length ? s.uncovered.join(", ") : "none" }),
      el("td", { text: s.depth === null ? "none" : String(s.depth) }),
      el("td", { text: num(s.risk) }),
      el("td", {}, el("button", { type: "button", "aria-label": `Use ${s.layers.join(" + ")}`, text: "Use",
        onclick: () => { state.stack = new Set(s.layers); renderGrid(); refresh(); } }))));
  }
  if (!rec.stacks.length) t.append(el("tr", {}, el("td", { colspan: "6", class: "none", text: "no stack fits the budget" })));
  $("best-note").textContent = `${rec.n_feasible} stacks within the budget; ${rec.method}. ${rec.scenario.description}`;
}

async function runRobustness(stack) {
  const seq = ++state.robustSeq;
  const t = $("robust-table");
  const params = new URLSearchParams();
  if (stack) params.append("stack", stack);
  params.append("budget", $("budget").value);
  try {
    const r = await api("GET", "/api/robustness?" + params);
    if (seq !== state.robustSeq) return;
    t.replaceChildren(el("tr", {}, ...["conclusion", "holds in", "verdict", "flipped by"].map((h) => el("th", { text: h }))));
    for (const c of r.conclusions) {
      t.append(el("tr", {},
        el("td", { text: c.statement }),
        el("td", { text: `${c.holds_in} of ${c.resolutions}` }),
        el("td", { class: `verdict-${c.verdict}`, text: c.verdict }),
        el("td", { text: c.flipped_by.map((x) => Array.isArray(x) ? x.join(" × ") : String(x)).join("; ") || "—" })));
    }
    $("robust-note").textContent = `${r.enumeration}; ${r.baseline}`;
  } catch (err) {
    if (seq !== state.robustSeq) return;
    t.replaceChildren();
    $("robust-note").textContent = err.status === 400 ? err.message : `robustness: ${err.message}`;
  }
}

// -- header, files, evidence -------------------------------------------------------------------

function renderHeader() {
  const v = state.view, h = state.history;
  $("matrix-label").textContent = `${v.label}${h.file ? " · " + h.file : ""}`;
  $("undo").disabled = !h.undo;
  $("redo").disabled = !h.redo;
  $("save").disabled = !h.file;
  $("save").title = h.file ? `Write the matrix to ${h.file}` : "Started from a built-in catalog: use Download, or start cofail app --matrix FILE";
  const budget = $("budget");
  budget.max = String(Math.max(1, v.total_cost));
}

function renderAll() {
  renderHeader();
  renderGrid();
  renderLegend();
  fillCellPanel();
  renderStackLine();
}

async function openFile(file) {
  const text = await file.text();
  const data = await change("POST", "/api/matrix?" + new URLSearchParams({ name: file.name }), text, { "Content-Type": "text/plain; charset=utf-8" });
  if (data) {
    state.stack = new Set(data.view.layers.map((l) => l.id));
    state.selected = null;
    accept(data);
    status(`opened ${file.name}`);
  }
}

async function sendLog(file) {
  status(`reading ${file.name}…`);
  const params = new URLSearchParams({
    name: file.name, tool: $("log-tool").value, polarity: $("log-polarity").value,
    wide: $("log-wide").checked ? "1" : "0", stratum_col: $("log-stratum").value.trim(),
  });
  const data = await change("POST", "/api/evidence?" + params, await file.arrayBuffer(), { "Content-Type": "application/octet-stream" });
  if (!data) { status(""); return; }
  renderEvidence(data, file.name);
  status(`analysed ${file.name}`);
}

function renderEvidence(d, name) {
  $("evidence-out").hidden = false;
  $("evidence-summary").textContent = `${name}: ${d.n_cases} cases, ${d.layers.length} layers; ${d.polarity}`;
  const m = $("marginals");
  m.replaceChildren(el("tr", {}, ...["layer", "failure rate", "95% interval", "failures"].map((h) => el("th", { text: h }))));
  for (const layer of d.layers) {
    const iv = d.marginal_intervals[layer];
    const bar = el("td", { class: "bar-cell" }, el("span", { class: "fill" }), el("span", { class: "text", text: num(d.marginals[layer]) }));
    bar.style.setProperty("--v", String(d.marginals[layer]));
    m.append(el("tr", {}, el("td", { text: layer }), bar, el("td", { text: `${num(iv.low)} – ${num(iv.high)}` }), el("td", { text: String(iv.failures) })));
  }
  const phi = $("phi");
  phi.replaceChildren();
  const byPair = new Map();
  for (const p of d.pairs) { byPair.set(`${p.a}\u0000${p.b}`, p); byPair.set(`${p.b}\u0000${p.a}`, p); }
  phi.append(el("tr", {}, el("th", {}), ...d.layers.map((l) => el("th", { scope: "col", text: l }))));
  for (const a of d.layers) {
    const row = el("tr", {}, el("th", { scope: "row", text: a }));
    for (const b of d.layers) {
      if (a === b) { row.append(el("td", { class: "self", text: "—" })); continue; }
      const p = byPair.get(`${a}\u0000${b}`);
      const value = p ? p.phi : null;
      const td = el("td", { text: value === null || value === undefined ? "n/a" : value.toFixed(2),
        title: p ? `${a} & ${b}: φ ${num(p.phi)}, joint ${num(p.joint)}, lift ${num(p.lift)}, P(${b} fails | ${a} fails) ${num(p.p_b_given_a)}, Fisher p (BH) ${num(p.fisher_p_adjusted)}` : "" });
      if (typeof value === "number") {
        td.style.setProperty("--phi", String(Math.abs(value)));
        if (value < 0) td.classList.add("negative");
      }
      row.append(td);
    }
    phi.append(row);
  }
  const j = $("joint");
  j.replaceChildren();
  const s = d.stack;
  const iv = (s.interval || {});
  const range = (k) => (iv[k] ? ` (${num(iv[k][0])} – ${num(iv[k][1])})` : "");
  j.append(el("tr", {}, el("th", { scope: "row", text: `observed: all of ${s.layers.join(", ")} fail` }), el("td", { text: num(s.observed) + range("observed") })));
  j.append(el("tr", {}, el("th", { scope: "row", text: "if they failed independently" }), el("td", { text: num(s.independent) + range("independent") })));
  j.append(el("tr", {}, el("th", { scope: "row", text: "ratio" }), el("td", { text: `${num(s.ratio)} ×` + range("ratio") })));
  if (s.effective_layers) j.append(el("tr", {}, el("th", { scope: "row", text: "effective independent layers" }), el("td", { text: `${num(s.effective_layers.effective)} of ${s.effective_layers.k}` })));
  const w = $("evidence-warnings");
  w.replaceChildren(...(d.warnings || []).map((x) => el("li", { text: x })));
}

// -- scored layers ----------------------------------------------------------------------------

// The slider runs over 0.1 % … 20 % on a log scale: position 0..100 → budget.
const budgetAt = (pos) => 0.001 * Math.pow(200, pos / 100);
const pct = (x) => (x === null || x === undefined ? "n/a" : `${(100 * x).toPrecision(3)}%`);
let scoresTimer = null;

async function sendScores(file) {
  status(`reading ${file.name}…`);
  const params = new URLSearchParams({
    name: file.name, wide: $("scores-wide").checked ? "1" : "0", set_col: $("scores-set").value.trim(),
    lower: $("scores-lower").value.trim(), budget: String(budgetAt(Number($("scores-budget").value))),
  });
  const data = await change("POST", "/api/scores?" + params, await file.arrayBuffer(), { "Content-Type": "application/octet-stream" });
  if (!data) { status(""); return; }
  renderScores(data);
  status(`analysed ${file.name}`);
}

async function rethreshold() {
  const budget = budgetAt(Number($("scores-budget").value));
  $("scores-budget-text").textContent = pct(budget);
  clearTimeout(scoresTimer);
  scoresTimer = setTimeout(async () => {
    const data = await change("GET", "/api/scores?" + new URLSearchParams({ budget: String(budget) }));
    if (data) renderScores(data);
  }, 120);
}

function renderScores(d) {
  $("scores-out").hidden = false;
  $("scores-budget-text").textContent = pct(d.budget);
  $("scores-summary").textContent = `At a ${pct(d.budget)} budget each, all ${d.layers.length} layers miss ${pct(d.stack.all_miss)} of the ${d.n_attack} attacks; independent misses would be ${pct(d.stack.independent)}.`;
  const t = $("scores-layers");
  t.replaceChildren(el("tr", {}, ...["layer", "flags", "FPR", "catch rate", "AUC"].map((h) => el("th", { text: h }))));
  for (const x of d.layers) {
    t.append(el("tr", {}, el("td", { text: x.layer }), el("td", { text: x.flags }), el("td", { text: pct(x.fpr) }),
      el("td", { text: `${pct(x.tpr)} (${pct(x.tpr_interval[0])} – ${pct(x.tpr_interval[1])})` }), el("td", { text: num(x.auc) })));
  }
  const j = $("scores-joint");
  j.replaceChildren(
    el("tr", {}, el("th", { scope: "row", text: "measured" }), el("td", { text: pct(d.stack.all_miss) })),
    el("tr", {}, el("th", { scope: "row", text: "if misses were independent" }), el("td", { text: pct(d.stack.independent) })),
    el("tr", {}, el("th", { scope: "row", text: "effective independent layers" }),
      el("td", { text: d.stack.effective_layers ? `${num(d.stack.effective_layers.effective)} of ${d.layers.length}` : "n/a" })),
    el("tr", {}, el("th", { scope: "row", text: "audit if any flags: FPR" }), el("td", { text: pct(d.stack.union_fpr) })),
  );
  const c = $("scores-combination");
  c.replaceChildren();
  if (d.combination) {
    const k = d.combination, o = k.out_of_sample;
    c.append(
      el("tr", {}, el("th", { scope: "row", text: "thresholds" }), el("td", { text: Object.entries(k.thresholds).map(([l, v]) => `${l} ${v === null ? "off" : num(v)}`).join(", ") })),
      el("tr", {}, el("th", { scope: "row", text: "caught, in sample" }), el("td", { text: `${pct(k.tpr)} at FPR ${pct(k.fpr)}` })),
      el("tr", {}, el("th", { scope: "row", text: "caught, out of sample" }), el("td", { text: o ? `${pct(o.tpr)} at FPR ${pct(o.fpr)}` : "n/a" })),
      el("tr", {}, el("th", { scope: "row", text: "if misses were independent" }), el("td", { text: pct(k.independent) })),
    );
  }
  $("scores-note").textContent = d.assumptions;
}

async function drawCase() {
  const stack = stackParam();
  if (!stack) { showError(new Error("tick layers to form a stack first")); return; }
  const params = scenario(new URLSearchParams({ stack, uncertain: $("uncertain").value }));
  const d = await change("GET", "/api/case?" + params);
  if (!d) return;
  // The SVG goes in as an image (a data: URL, which the page's CSP allows for images): drawn by
  // the server, it cannot run anything in the page.
  const url = "data:image/svg+xml;base64," + btoa(unescape(encodeURIComponent(d.svg)));
  const img = el("img", { alt: `Safety case of ${stack.split(",").join(" + ")} as a GSN diagram`, src: url });
  img.style.height = "440px"; // its own size, scrolled sideways: small text stays legible
  $("case-figure").replaceChildren(img);
  const yaml = $("dl-case");
  yaml.href = "data:text/yaml;base64," + btoa(unescape(encodeURIComponent(d.gsn2x)));
  yaml.hidden = false;
  $("case-note").textContent = `${d.top_goal}. ${d.elements} elements; defeated: ${d.defeated.join(", ") || "none"}; undeveloped: ${d.undeveloped.join(", ") || "none"} (red in the diagram).`;
}

function svgImage(svg, alt) {
  // Drawn by the server and shown as an image (a data: URL): it cannot run anything in the page.
  const img = el("img", { alt, src: "data:image/svg+xml;base64," + btoa(unescape(encodeURIComponent(svg))) });
  img.style.maxWidth = "100%"; // the card's width; the SVG scales without loss
  img.style.display = "block";
  return img;
}

async function drawSequences() {
  const stack = $("seq-order").value.trim() || stackParam();
  if (!stack) { showError(new Error("tick layers to form a stack first")); return; }
  const params = scenario(new URLSearchParams({ stack, uncertain: $("uncertain").value }));
  const d = await change("GET", "/api/sequences?" + params);
  if (!d) return;
  state.treeShown = true;
  const order = d.stack.join(" → ");
  $("seq-figure").replaceChildren(
    svgImage(d.svg, `Event tree of ${order}`),
    svgImage(d.bars_svg, `Where attacks on ${order} are stopped, exact against independence`),
  );
  const t = $("seq-table");
  t.replaceChildren(el("tr", {}, el("th", { text: "outcome" }), el("th", { text: "exact" }), el("th", { text: "if independent" })));
  for (const o of d.outcomes) {
    t.append(el("tr", {}, el("th", { scope: "row", text: o.outcome }), el("td", { text: num(o.probability) }), el("td", { text: num(o.independent) })));
  }
  $("seq-note").textContent = `${d.headline} ${d.assumptions}`;
}

function wire() {
  $("draw-case").addEventListener("click", drawCase);
  $("draw-sequences").addEventListener("click", drawSequences);
  $("scores-file").addEventListener("change", (e) => { if (e.target.files[0]) sendScores(e.target.files[0]); e.target.value = ""; });
  $("scores-budget").addEventListener("input", rethreshold);
  $("open-file").addEventListener("change", (e) => { if (e.target.files[0]) openFile(e.target.files[0]); e.target.value = ""; });
  $("log-file").addEventListener("change", (e) => { if (e.target.files[0]) sendLog(e.target.files[0]); e.target.value = ""; });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) sendLog(e.dataTransfer.files[0]); });
  $("undo").addEventListener("click", async () => accept(await change("POST", "/api/undo")));
  $("redo").addEventListener("click", async () => accept(await change("POST", "/api/redo")));
  $("save").addEventListener("click", async () => {
    const d = await change("POST", "/api/save");
    if (d) status(`wrote ${d.wrote}${d.note ? " (" + d.note + ")" : ""}`);
  });
  for (const id of ["p", "r", "budget"]) $(id).addEventListener("input", refresh);
  for (const id of ["objective", "uncertain"]) $(id).addEventListener("change", refresh);
  $("add-layer").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = e.target.id.value.trim();
    edit({ op: "add_layer", id }).then(() => { if (state.view.layers.some((l) => l.id === id)) e.target.reset(); });
  });
  $("add-mode").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = e.target.id.value.trim();
    edit({ op: "add_mode", id }).then(() => { if (state.view.failure_modes.some((m) => m.id === id)) e.target.reset(); });
  });
  $("cell-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target, sel = state.selected;
    if (!sel) return;
    const current = state.view.cells[sel.layer][sel.mode];
    if (f.level.value.trim() !== String(current.level)) {
      const ok = await change("POST", "/api/edit", JSON.stringify({ op: "level", layer: sel.layer, mode: sel.mode, level: f.level.value.trim() }), { "Content-Type": "application/json" });
      if (!ok) return;
    }
    await edit({ op: "cell", layer: sel.layer, mode: sel.mode, rationale: f.rationale.value, source: f.source.value, confidence: f.confidence.value });
  });
  $("layer-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target, old = state.editingLayer;
    const renamed = await change("POST", "/api/edit", JSON.stringify({ op: "rename_layer", id: old, new_id: f.new_id.value.trim(), name: f.name.value, description: f.description.value }), { "Content-Type": "application/json" });
    if (!renamed) return;
    const id = f.new_id.value.trim();
    state.view = renamed.view;
    if (state.stack.delete(old)) state.stack.add(id);
    state.editingLayer = id;
    await edit({ op: "tax", layer: id, safety_tax: f.safety_tax.value, tax_cost: f.tax_cost.value.trim() });
    $("layer-panel").hidden = true;
  });
  $("remove-layer").addEventListener("click", async () => {
    await edit({ op: "remove_layer", id: state.editingLayer });
    $("layer-panel").hidden = true;
  });
  $("mode-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target;
    await edit({ op: "rename_mode", id: state.editingMode, new_id: f.new_id.value.trim(), name: f.name.value, description: f.description.value });
    $("mode-panel").hidden = true;
  });
  $("remove-mode").addEventListener("click", async () => {
    await edit({ op: "remove_mode", id: state.editingMode });
    $("mode-panel").hidden = true;
  });
  document.addEventListener("keydown", async (e) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (typing || !(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== "z") return;
    e.preventDefault();
    accept(await change("POST", e.shiftKey ? "/api/redo" : "/api/undo"));
  });
}

async function start() {
  wire();
  const data = await change("GET", "/api/matrix");
  if (!data) return;
  state.stack = new Set(data.view.layers.map((l) => l.id));
  accept(data);
}

start();
