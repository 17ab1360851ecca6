// ferrotune dashboard: polls the JSON API and redraws. Every text from the storage is set
// with textContent (never parsed as HTML).
"use strict";

const POLL_MS = 2000;
const FIGURE_MS = 5000;
const MAX_ROWS = 1000;
const FIGURE_TITLES = {
  history: "Optimization history",
  intermediate: "Intermediate values",
  parallel: "Parallel coordinates",
  importance: "Parameter importances",
  pareto: "Pareto front",
  timeline: "Timeline",
};

const FIRST_OBJECTIVE = new Set(["history", "parallel", "importance"]);

const state = {
  studyId: null,
  summary: null,
  trials: [],
  sortKey: "number",
  sortDesc: false,
  figuresAt: 0,
  figuresKey: "",
};

const $ = (id) => document.getElementById(id);

async function getJSON(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function renderStudies(studies) {
  const list = $("studies");
  list.replaceChildren();
  if (!studies.some((s) => s.study_id === state.studyId)) {
    // The first study, or another when the selected one was deleted.
    state.studyId = studies.length > 0 ? studies[0].study_id : null;
    state.trials = [];
    state.figuresKey = "";
    $("figures").replaceChildren();
    $("study").hidden = state.studyId === null;
  }
  $("no-studies").hidden = studies.length > 0;
  for (const s of studies) {
    const li = document.createElement("li");
    li.dataset.studyId = s.study_id;
    li.textContent = s.name;
    const small = document.createElement("small");
    small.textContent = `${s.n_trials} trials · ${s.directions.join(", ").toLowerCase()}`;
    li.appendChild(small);
    if (s.study_id === state.studyId) li.classList.add("selected");
    li.addEventListener("click", () => selectStudy(s.study_id));
    list.appendChild(li);
  }
}

function selectStudy(id) {
  state.studyId = id;
  state.summary = null;
  state.trials = [];
  state.sortKey = "number";
  state.sortDesc = false;
  state.figuresKey = "";
  $("figures").replaceChildren();
  for (const li of $("studies").children) {
    li.classList.toggle("selected", Number(li.dataset.studyId) === id);
  }
  busy = false;
  refresh();
}

function columns() {
  const s = state.summary;
  const values = s.directions.length === 1 ? ["value"] : s.directions.map((_, i) => `values_${i}`);
  return ["number", "state", ...values, ...s.params.map((p) => `params_${p}`), "duration_s"];
}

// The API sends infinite and NaN numbers as the text "inf", "-inf", "nan" (JSON has no such
// numbers): numbers again for sorting and filtering.
const NON_FINITE = { inf: Infinity, "-inf": -Infinity, nan: NaN };

function number(v) {
  return typeof v === "string" && v in NON_FINITE ? NON_FINITE[v] : v;
}

function cell(trial, key) {
  if (key === "value") return trial.values ? number(trial.values[0]) : null;
  if (key.startsWith("values_")) {
    return trial.values ? number(trial.values[Number(key.slice(7))]) : null;
  }
  if (key.startsWith("params_")) return trial.params[key.slice(7)];
  if (key === "duration_s") return trial.duration;
  return number(trial[key]);
}

// "value<0.5", "params_x>=2": a numeric comparison on one column; anything else is text.
function rowFilter(text, keys) {
  const m = text.match(/^\s*([\w.-]+)\s*(<=|>=|<|>|=)\s*(-?[\d.eE+-]+)\s*$/);
  if (m && keys.includes(m[1]) && !Number.isNaN(Number(m[3]))) {
    const [key, op, bound] = [m[1], m[2], Number(m[3])];
    const tests = { "<": (a) => a < bound, ">": (a) => a > bound, "<=": (a) => a <= bound,
      ">=": (a) => a >= bound, "=": (a) => a === bound };
    return (t) => typeof cell(t, key) === "number" && tests[op](cell(t, key));
  }
  const needle = text.trim().toLowerCase();
  return (t) => !needle || keys.some((k) => fmt(cell(t, k)).toLowerCase().includes(needle));
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) - Number.isNaN(b);
    return a < b ? -1 : a > b ? 1 : 0; // (a - b is NaN for two equal infinities)
  }
  return String(a).localeCompare(String(b));
}

function renderTable() {
  const keys = columns();
  const head = document.createElement("tr");
  for (const key of keys) {
    const th = document.createElement("th");
    th.textContent = key;
    if (key === state.sortKey) th.className = state.sortDesc ? "sorted-desc" : "sorted-asc";
    th.addEventListener("click", () => {
      state.sortDesc = state.sortKey === key ? !state.sortDesc : false;
      state.sortKey = key;
      renderTable();
    });
    head.appendChild(th);
  }
  $("trials-table").tHead.replaceChildren(head);
  const wanted = $("state-filter").value;
  const keep = rowFilter($("filter").value, keys);
  const rows = state.trials.filter((t) => (!wanted || t.state === wanted) && keep(t));
  const sign = state.sortDesc ? -1 : 1;
  rows.sort((a, b) => sign * compare(cell(a, state.sortKey), cell(b, state.sortKey)));
  const best = new Set(state.summary.best_trials);
  const body = document.createElement("tbody");
  for (const t of rows.slice(0, MAX_ROWS)) {
    const tr = document.createElement("tr");
    tr.dataset.number = t.number;
    if (best.has(t.number)) tr.className = "best";
    for (const key of keys) {
      const td = document.createElement("td");
      const v = cell(t, key);
      td.textContent = fmt(v);
      if (typeof v !== "number") td.className = "text";
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  $("trials-table").tBodies[0].replaceWith(body);
  const more = rows.length > MAX_ROWS ? ` (first ${MAX_ROWS} shown)` : "";
  $("shown").textContent = `${rows.length} of ${state.trials.length} trials${more}`;
}

function renderSummary() {
  const s = state.summary;
  $("study").hidden = false;
  $("study-title").textContent = s.name;
  $("n-trials").textContent = String(s.n_trials);
  $("best-value").textContent = s.best_value === null ? "–" : fmt(s.best_value);
  $("directions").textContent = s.directions.join(", ").toLowerCase();
  $("states").textContent = Object.entries(s.states).map(([k, n]) => `${n} ${k.toLowerCase()}`).join(", ");
}

async function loadTrials(id) {
  // Fetch from the first trial not yet finished: new trials, and running ones that may
  // have finished since.
  let offset = state.trials.findIndex((t) => t.state === "RUNNING" || t.state === "WAITING");
  if (offset < 0) offset = state.trials.length;
  for (;;) {
    const page = await getJSON(`/api/studies/${id}/trials?offset=${offset}`);
    if (id !== state.studyId) return;
    state.trials.splice(offset, page.trials.length, ...page.trials);
    offset += page.trials.length;
    if (page.trials.length === 0 || offset >= page.n_trials) break;
  }
}

async function drawFigure(id, kind) {
  let div = document.getElementById(`fig-${kind}`);
  if (!div) {
    div = document.createElement("div");
    div.id = `fig-${kind}`;
    div.className = "figure";
    $("figures").appendChild(div);
  }
  const answer = await getJSON(`/api/studies/${id}/figures/${kind}`);
  if (id !== state.studyId) return;
  const several = state.summary.directions.length > 1 && FIRST_OBJECTIVE.has(kind);
  const title = FIGURE_TITLES[kind] + (several ? " (objective 0)" : "");
  if (answer.figure) {
    const layout = { ...answer.figure.layout, title: { text: title } };
    Plotly.react(div, answer.figure.data, layout, { responsive: true, displaylogo: false });
  } else {
    Plotly.purge(div);
    const p = document.createElement("p");
    p.className = "unavailable";
    p.textContent = `${title}: ${answer.unavailable}`;
    div.replaceChildren(p);
  }
}

async function refreshFigures(id) {
  const s = state.summary;
  const key = `${id}:${s.n_trials}:${JSON.stringify(s.states)}`;
  if (key === state.figuresKey || Date.now() - state.figuresAt < FIGURE_MS) return;
  state.figuresKey = key;
  state.figuresAt = Date.now();
  for (const kind of s.figures) await drawFigure(id, kind);
}

let busy = false;

async function refresh() {
  if (busy) return;
  busy = true;
  try {
    renderStudies(await getJSON("/api/studies"));
    const id = state.studyId;
    if (id !== null) {
      const summary = await getJSON(`/api/studies/${id}`);
      if (id !== state.studyId) return;
      state.summary = summary;
      await loadTrials(id);
      renderSummary();
      renderTable();
      refreshFigures(id);
    }
    $("status").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    $("status").textContent = `error: ${err.message}`;
  } finally {
    busy = false;
  }
}

$("filter").addEventListener("input", () => state.summary && renderTable());
$("state-filter").addEventListener("change", () => state.summary && renderTable());
refresh();
setInterval(refresh, POLL_MS);
