// The mockserver dashboard: no framework, no network but this server's own /_mock/ routes.
// Everything from the journal is shown with textContent, never parsed as HTML.
"use strict";

const PAGE_SIZE = 100; // rows drawn at once: 10,000 rows stay a list in memory, not in the DOM
const MAX_ROWS = 20000; // oldest rows are dropped past this
const $ = (id) => document.getElementById(id);

const ui = {
  rows: [], // newest last, as the feed sends them
  columns: [], // the names of a row's values in the feed's `rows` events (its `hello` says)
  held: [], // rows that arrived while paused
  paused: false,
  page: 0,
  picked: null, // seq of the request shown in detail
  drawQueued: false,
};

// --- Talking to the server -------------------------------------------------------------------

function token() {
  return sessionStorage.getItem("mockserver-admin-token");
}

function headers(extra) {
  const found = Object.assign({ "x-mockserver-admin": "1" }, extra || {});
  const value = token();
  if (value) found.authorization = "Bearer " + value;
  return found;
}

async function call(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = headers(opts.headers);
  const response = await fetch(path, opts);
  if (response.status === 401) askForToken("this server needs its admin token");
  return response;
}

async function callJson(path, options) {
  const response = await call(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
  return body;
}

function askForToken(message) {
  $("login").hidden = false;
  $("login-message").textContent = message;
  $("token").focus();
}

// --- The live feed ---------------------------------------------------------------------------

async function listen() {
  for (;;) {
    try {
      const response = await call("/_mock/events");
      if (!response.ok) {
        setFeedState("feed refused: HTTP " + response.status, false);
        if (response.status === 401) return; // resumes once a token is given
      } else {
        setFeedState("live", true);
        await readEvents(response.body.getReader());
      }
    } catch (error) {
      setFeedState("disconnected", false);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function readEvents(reader) {
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      handleEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
}

function handleEvent(text) {
  let name = "message";
  let data = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("event: ")) name = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  const payload = data ? JSON.parse(data) : {};
  if (name === "hello" || name === "reset") {
    if (payload.columns) ui.columns = payload.columns;
    ui.rows = [];
    ui.held = [];
    queueDraw();
  } else if (name === "rows") {
    const into = ui.paused ? ui.held : ui.rows;
    for (const values of payload.rows) into.push(rowOf(values, payload.clock));
    if (ui.rows.length > MAX_ROWS) ui.rows.splice(0, ui.rows.length - MAX_ROWS);
    if (!ui.paused) queueDraw();
    else $("pause").textContent = "Resume (" + ui.held.length + " new)";
  }
}

// A row as the table reads it: the feed's values by column name, with the request's wall time
// and duration from its monotonic times (`clock`: the server's wall time minus its monotonic).
function rowOf(values, clock) {
  const row = {};
  ui.columns.forEach((name, i) => (row[name] = values[i]));
  row.time = clock + row.at;
  row.duration_ms = row.done === null ? null : Math.round((row.done - row.at) * 10000) / 10;
  return row;
}

function setFeedState(text, live) {
  $("feed-state").textContent = text;
  $("feed-state").classList.toggle("live", live);
}

// --- The traffic table -----------------------------------------------------------------------

function filters() {
  return {
    text: $("filter-text").value.trim().toLowerCase(),
    status: $("filter-status").value,
    rule: $("filter-rule").value.trim().toLowerCase(),
    model: $("filter-model").value.trim().toLowerCase(),
    key: $("filter-key").value.trim().toLowerCase(),
  };
}

function keeps(row, f) {
  if (f.status === "fault" ? !row.fault : f.status && String(row.status || "")[0] !== f.status) return false;
  const rule = (row.rule || "default").toLowerCase();
  if (f.rule && !rule.includes(f.rule)) return false;
  if (f.model && !(row.model || "").toLowerCase().includes(f.model)) return false;
  if (f.key && !(row.key_name || "").toLowerCase().includes(f.key)) return false;
  if (f.text && !JSON.stringify(row).toLowerCase().includes(f.text)) return false;
  return true;
}

function queueDraw() {
  if (ui.drawQueued) return;
  ui.drawQueued = true;
  requestAnimationFrame(() => {
    ui.drawQueued = false;
    draw();
  });
}

function draw() {
  const f = filters();
  const shown = [];
  for (let i = ui.rows.length - 1; i >= 0; i--) if (keeps(ui.rows[i], f)) shown.push(ui.rows[i]);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  ui.page = Math.min(ui.page, pages - 1);
  const body = document.createElement("tbody");
  for (const row of shown.slice(ui.page * PAGE_SIZE, (ui.page + 1) * PAGE_SIZE)) body.append(rowElement(row));
  $("traffic").tBodies[0].replaceWith(body);
  $("page").textContent = "page " + (ui.page + 1) + " of " + pages;
  $("newer").disabled = ui.page === 0;
  $("older").disabled = ui.page >= pages - 1;
  $("counts").textContent = shown.length + " of " + ui.rows.length + " requests";
}

function cell(tr, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  tr.append(td);
}

function rowElement(row) {
  const tr = document.createElement("tr");
  tr.tabIndex = 0;
  tr.dataset.seq = row.seq;
  if (row.seq === ui.picked) tr.classList.add("picked");
  cell(tr, row.seq);
  cell(tr, new Date(row.time * 1000).toLocaleTimeString());
  cell(tr, row.method + " " + row.endpoint + (row.dialect ? " · " + row.dialect : ""));
  cell(tr, row.model);
  cell(tr, row.key_name);
  cell(tr, row.rule || (row.unmatched ? "default (no match)" : "default"), row.rule ? "" : "muted");
  cell(tr, faultText(row.fault), "fault");
  cell(tr, row.status === null ? "…" : row.status, "s" + String(row.status || "")[0]);
  cell(tr, usageText(row.usage));
  cell(tr, row.cost === null || row.cost === undefined ? "" : "$" + row.cost.toFixed(6));
  cell(tr, row.duration_ms === null ? "" : row.duration_ms + " ms");
  cell(tr, row.stream ? row.events_sent + (row.disconnected ? " · disconnected" : "") : row.disconnected ? "disconnected" : "");
  return tr;
}

function faultText(fault) {
  if (!fault) return "";
  const what = Object.entries(fault)
    .filter(([key]) => key !== "source")
    .map(([key, value]) => key + "=" + (typeof value === "object" ? JSON.stringify(value) : value))
    .join(", ");
  return (what || "fault") + (fault.source ? " (" + fault.source + ")" : "");
}

function usageText(usage) {
  if (!usage) return "";
  const prompt = usage.prompt_tokens ?? usage.input_tokens;
  const completion = usage.completion_tokens ?? usage.output_tokens;
  return (prompt ?? "?") + " + " + (completion ?? "?");
}

// --- One request in detail -------------------------------------------------------------------

async function openDetail(seq) {
  ui.picked = seq;
  queueDraw();
  $("detail").hidden = false;
  $("rule-yaml").hidden = true;
  $("load-rule").disabled = true;
  $("rule-message").textContent = "";
  $("detail-title").textContent = "Request #" + seq;
  let entry;
  try {
    entry = await callJson("/_mock/requests/" + seq);
  } catch (error) {
    $("detail-facts").replaceChildren(fact("error", error.message));
    return;
  }
  $("detail-facts").replaceChildren(
    fact("endpoint", entry.method + " " + entry.endpoint),
    fact("dialect", entry.dialect),
    fact("model", entry.model),
    fact("key", entry.key_name),
    fact("cost", entry.cost === null ? "" : "$" + entry.cost + " (" + entry.quota + " quota)"),
    fact("rule", entry.rule || (entry.strict_miss ? "none (strict: 400)" : "default reply")),
    fact("status", entry.status),
    fact("usage", entry.usage ? JSON.stringify(entry.usage) : ""),
    fact("duration", entry.duration_ms === null ? "" : entry.duration_ms + " ms"),
    fact("fault", entry.fault ? JSON.stringify(entry.fault) : "none"),
    fact("worker", entry.worker),
    fact("notes", (entry.notes || []).join("; ")),
  );
  const misses = (entry.near_misses || []).map((miss) => {
    const li = document.createElement("li");
    li.textContent = miss.rule + ": " + (miss.failed || []).join("; ");
    return li;
  });
  if (!misses.length) misses.push(Object.assign(document.createElement("li"), { textContent: entry.rule ? "a rule matched" : "no rules were tried" }));
  $("detail-misses").replaceChildren(...misses);
  $("detail-stream").replaceChildren(...streamFacts(entry));
  $("detail-body").textContent = typeof entry.body === "string" ? entry.body : JSON.stringify(entry.body, null, 2);
  $("detail-response").textContent = responseText(entry.response);
  $("detail-headers").textContent = JSON.stringify(entry.headers, null, 2);
}

// A stream's events: how many went out, and for a paced one when each was due and when each
// left, measured (TTFT, the gaps between events, where a fault or the client cut it), as
// text and a strip of ticks: due above, sent below.
function streamFacts(entry) {
  if (!entry.stream) return [document.createTextNode("not a stream")];
  const ending = entry.disconnected ? "the client disconnected" : entry.fault ? "fault: " + faultText(entry.fault) : "completed";
  const lines = [entry.events_sent + " events sent; " + ending];
  const due = entry.timeline || [];
  const sent = entry.sent_at || [];
  if (!due.length) {
    lines.push("sent at once (no pacing): no timeline");
    return lines.map((line) => Object.assign(document.createElement("div"), { textContent: line }));
  }
  lines.push("due: first event at " + due[0] + " ms (TTFT), last at " + due[due.length - 1] + " ms; " + gapsText(due));
  if (sent.length) {
    const late = Math.max(...sent.map((at, i) => at - due[i]));
    lines.push("sent: first event at " + sent[0] + " ms, last at " + sent[sent.length - 1] + " ms; " + gapsText(sent) + "; at most " + late.toFixed(1) + " ms after due");
  }
  if (entry.events_sent < due.length) lines.push("cut after event " + entry.events_sent + " of " + due.length + " (at " + (entry.events_sent ? due[entry.events_sent - 1] : 0) + " ms)");
  const found = lines.map((line) => Object.assign(document.createElement("div"), { textContent: line }));
  found.push(timelineStrip(due, sent, entry.events_sent));
  return found;
}

// The response as sent: JSON pretty-printed, a stream's events as they came.
function responseText(text) {
  if (text === null || text === undefined) return "(not journaled: a file, or a broken connection)";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch (error) {
    return text;
  }
}

function gapsText(times) {
  const gaps = times.slice(1).map((at, i) => at - times[i]).sort((a, b) => a - b);
  if (!gaps.length) return "one event";
  const median = gaps[Math.floor(gaps.length / 2)];
  return "gaps " + gaps[0].toFixed(1) + " – " + gaps[gaps.length - 1].toFixed(1) + " ms, median " + median.toFixed(1) + " ms";
}

function timelineStrip(due, sentAt, sent) {
  const svgNs = "http://www.w3.org/2000/svg";
  const width = 420, height = 28, end = Math.max(1, due[due.length - 1], sentAt.length ? sentAt[sentAt.length - 1] : 0);
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("class", "timeline");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "stream events over time: due above, sent below");
  const tick = (at, top, bottom, className) => {
    const line = document.createElementNS(svgNs, "line");
    const x = 4 + ((width - 8) * at) / end;
    line.setAttribute("x1", String(x));
    line.setAttribute("x2", String(x));
    line.setAttribute("y1", String(top));
    line.setAttribute("y2", String(bottom));
    line.setAttribute("class", className);
    svg.append(line);
  };
  due.forEach((at, index) => tick(at, 3, height / 2 - 1, index < sent ? "sent" : "unsent"));
  sentAt.forEach((at) => tick(at, height / 2 + 1, height - 3, "measured"));
  return svg;
}

function fact(name, value) {
  const frag = document.createDocumentFragment();
  const dt = document.createElement("dt");
  dt.textContent = name;
  const dd = document.createElement("dd");
  dd.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
  frag.append(dt, dd);
  return frag;
}

async function copyRule() {
  const response = await call("/_mock/requests/" + ui.picked + "/rule");
  const text = await response.text();
  if (!response.ok) {
    $("rule-message").textContent = JSON.parse(text).error.message;
    return;
  }
  $("rule-yaml").value = text;
  $("rule-yaml").hidden = false;
  $("load-rule").disabled = false;
  try {
    await navigator.clipboard.writeText(text);
    $("rule-message").textContent = "copied to the clipboard";
  } catch (error) {
    $("rule-message").textContent = "select the text below to copy it";
  }
}

async function loadRule() {
  const response = await call("/_mock/scenarios", {
    method: "POST",
    headers: { "content-type": "application/yaml" },
    body: $("rule-yaml").value,
  });
  const body = await response.json();
  $("rule-message").textContent = response.ok
    ? "loaded: the server now has " + body.rules.length + " rules"
    : "refused: " + body.error.message;
}

// --- Scenarios and tasks ---------------------------------------------------------------------

async function showScenarios() {
  let usage;
  try {
    usage = await callJson("/_mock/scenarios/usage");
  } catch (error) {
    $("scenario-summary").textContent = error.message;
    return;
  }
  $("scenario-files").replaceChildren(...usage.scenarios.map((source) => Object.assign(document.createElement("li"), { textContent: source })));
  const body = document.createElement("tbody");
  for (const rule of usage.rules) {
    const tr = document.createElement("tr");
    if (!rule.hits) tr.className = "unused";
    cell(tr, rule.name);
    cell(tr, rule.where);
    cell(tr, rule.kind);
    cell(tr, rule.hits);
    body.append(tr);
  }
  $("rules").tBodies[0].replaceWith(body);
  $("scenario-summary").textContent =
    usage.rules.length + " rules, " + usage.unused.length + " never used, " + usage.default_replies +
    " default replies, in the journal's " + usage.journal.requests + " newest requests";
  showRefused(usage.refused);
}

// A refused load's issues, each at its place: file:line:column, the key's path, the message
// (which names the valid alternatives).
function showRefused(refused) {
  $("refused").hidden = !refused;
  if (!refused) return;
  $("refused-issues").replaceChildren(...refused.issues.map((issue) => {
    const li = document.createElement("li");
    const where = Object.assign(document.createElement("code"), { textContent: issue.file + ":" + issue.line + ":" + issue.column });
    li.append(where, " ", issue.path ? issue.path + ": " : "", issue.message);
    return li;
  }));
}

async function loadScenario() {
  const response = await call("/_mock/scenarios", {
    method: "POST",
    headers: { "content-type": "application/yaml" },
    body: $("scenario-yaml").value,
  });
  const body = await response.json();
  $("load-scenario-message").textContent = response.ok
    ? "loaded: the server now has " + body.rules.length + " rules"
    : "refused: see the issues above";
  await showScenarios();
}

async function showTasks() {
  let found;
  try {
    found = await callJson("/_mock/tasks");
  } catch (error) {
    $("task-summary").textContent = error.message;
    return;
  }
  const body = document.createElement("tbody");
  for (const task of found.tasks) {
    const tr = document.createElement("tr");
    cell(tr, task.id);
    cell(tr, task.family);
    cell(tr, task.action);
    cell(tr, task.model);
    cell(tr, task.reason ? task.status + ": " + task.reason : task.status);
    cell(tr, task.step + 1 + " / " + task.stages);
    cell(tr, task.rule || "default");
    cell(tr, task.prompt, "wrap");
    tr.append(previewCell(task.previews));
    body.append(tr);
  }
  $("tasks").tBodies[0].replaceWith(body);
  $("task-summary").textContent = found.tasks.length + " tasks";
}

// A finished task's files, as the browser plays them: small images, audio and video players
// that load nothing until asked (preload="none"), each linked to the file itself.
function previewCell(previews) {
  const td = document.createElement("td");
  td.className = "previews";
  for (const preview of previews || []) {
    const link = Object.assign(document.createElement("a"), { href: preview.url, target: "_blank", rel: "noopener" });
    link.title = preview.kind + ": " + preview.url;
    if (preview.kind === "image") {
      link.append(Object.assign(document.createElement("img"), { src: preview.url, alt: "task image", loading: "lazy" }));
      td.append(link);
    } else {
      const player = Object.assign(document.createElement(preview.kind), { src: preview.url, controls: true, preload: "none" });
      link.textContent = "open";
      td.append(player, link);
    }
  }
  return td;
}

async function showGateway() {
  let found;
  try {
    found = await callJson("/_mock/gateway/balances");
  } catch (error) {
    $("gateway-summary").textContent = error.message;
    return;
  }
  if (!found.on) {
    $("gateway-summary").textContent = "gateway mode is off: load a scenario with a gateway: section (users, keys, prices)";
    $("keys").tBodies[0].replaceChildren();
    $("spend-chart").replaceChildren();
    return;
  }
  const statuses = { 1: "enabled", 2: "disabled", 3: "expired", 4: "exhausted" };
  const body = document.createElement("tbody");
  for (const key of found.keys) {
    const tr = document.createElement("tr");
    cell(tr, key.key);
    cell(tr, key.name);
    cell(tr, key.user_id);
    cell(tr, key.group || "default");
    cell(tr, statuses[key.status] || key.status);
    cell(tr, key.unlimited_quota ? "unlimited" : key.remain_quota);
    cell(tr, key.spent);
    cell(tr, "$" + key.spent_usd.toFixed(6));
    body.append(tr);
  }
  $("keys").tBodies[0].replaceWith(body);
  $("gateway-summary").textContent = found.keys.length + " keys, " + found.usage.length + " billed requests";
  drawSpend(found.usage);
}

// Cumulative spend of each key over the billed requests, as an SVG line chart.
function drawSpend(usage) {
  const svgNs = "http://www.w3.org/2000/svg";
  const width = 640, height = 200, pad = 30;
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "cumulative spend per key");
  const totals = {};
  const lines = {};
  usage.forEach((log, index) => {
    totals[log.key_name] = (totals[log.key_name] || 0) + log.cost;
    (lines[log.key_name] = lines[log.key_name] || []).push([index + 1, totals[log.key_name]]);
  });
  const most = Math.max(1e-9, ...Object.values(totals));
  const x = (n) => pad + ((width - 2 * pad) * n) / Math.max(1, usage.length);
  const y = (v) => height - pad - ((height - 2 * pad) * v) / most;
  const axis = document.createElementNS(svgNs, "path");
  axis.setAttribute("d", "M" + pad + " " + pad + "V" + (height - pad) + "H" + (width - pad));
  axis.setAttribute("class", "axis");
  svg.append(axis);
  const colours = ["#0b57d0", "#b3261e", "#1e6b35", "#8a5a00", "#6a1b9a", "#00796b"];
  Object.entries(lines).forEach(([name, points], index) => {
    const path = document.createElementNS(svgNs, "polyline");
    path.setAttribute("points", [[0, 0], ...points].map(([n, v]) => x(n) + "," + y(v)).join(" "));
    path.setAttribute("stroke", colours[index % colours.length]);
    path.setAttribute("class", "line");
    const label = document.createElementNS(svgNs, "text");
    const [lastN, lastV] = points[points.length - 1];
    const nearEdge = x(lastN) > width - 140; // labels at the right edge read leftwards
    label.setAttribute("x", String(nearEdge ? x(lastN) : x(lastN) + 4));
    label.setAttribute("y", String(nearEdge ? y(lastV) - 6 : y(lastV)));
    if (nearEdge) label.setAttribute("text-anchor", "end");
    label.setAttribute("fill", colours[index % colours.length]);
    label.textContent = name + " $" + lastV.toFixed(6);
    svg.append(path, label);
  });
  const caption = document.createElementNS(svgNs, "text");
  caption.setAttribute("x", String(pad));
  caption.setAttribute("y", String(pad - 10));
  caption.textContent = "max $" + most.toFixed(6) + " · " + usage.length + " billed requests";
  svg.append(caption);
  $("spend-chart").replaceChildren(svg);
}

// --- Wiring ----------------------------------------------------------------------------------

function showView(name) {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const on = tab.id === "tab-" + name;
    tab.setAttribute("aria-selected", String(on));
    $(tab.getAttribute("aria-controls")).hidden = !on;
  }
  if (name === "scenarios") showScenarios();
  if (name === "tasks") showTasks();
  if (name === "gateway") showGateway();
}

function start() {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) {
    sessionStorage.setItem("mockserver-admin-token", fromLink);
    history.replaceState(null, "", location.pathname); // the token leaves the address bar
  }
  for (const tab of document.querySelectorAll("[role=tab]")) tab.addEventListener("click", () => showView(tab.id.slice(4)));
  for (const id of ["filter-text", "filter-status", "filter-rule", "filter-model", "filter-key"]) {
    for (const kind of ["input", "change"]) {
      $(id).addEventListener(kind, () => {
        ui.page = 0;
        queueDraw();
      });
    }
  }
  $("pause").addEventListener("click", () => {
    ui.paused = !ui.paused;
    $("pause").setAttribute("aria-pressed", String(ui.paused));
    if (!ui.paused) {
      ui.rows.push(...ui.held);
      ui.held = [];
      queueDraw();
    }
    $("pause").textContent = ui.paused ? "Resume" : "Pause";
  });
  $("clear").addEventListener("click", async () => {
    await call("/_mock/reset", { method: "POST" });
  });
  $("newer").addEventListener("click", () => { ui.page--; queueDraw(); });
  $("older").addEventListener("click", () => { ui.page++; queueDraw(); });
  const table = $("traffic");
  table.addEventListener("click", (event) => {
    const tr = event.target.closest("tbody tr");
    if (tr) openDetail(Number(tr.dataset.seq));
  });
  table.addEventListener("keydown", (event) => {
    const tr = event.target.closest("tbody tr");
    if (!tr) return;
    if (event.key === "Enter") openDetail(Number(tr.dataset.seq));
    if (event.key === "ArrowDown" && tr.nextElementSibling) tr.nextElementSibling.focus();
    if (event.key === "ArrowUp" && tr.previousElementSibling) tr.previousElementSibling.focus();
  });
  $("close-detail").addEventListener("click", () => { $("detail").hidden = true; ui.picked = null; queueDraw(); });
  $("copy-rule").addEventListener("click", copyRule);
  $("load-rule").addEventListener("click", loadRule);
  $("refresh-scenarios").addEventListener("click", showScenarios);
  $("load-scenario-button").addEventListener("click", loadScenario);
  $("refresh-tasks").addEventListener("click", showTasks);
  $("refresh-gateway").addEventListener("click", showGateway);
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("mockserver-admin-token", $("token").value);
    $("login").hidden = true;
    listen();
  });
  draw();
  listen();
}

document.addEventListener("DOMContentLoaded", start);
