// The operator console: live figures over Server-Sent Events (/api/admin/events) and the
// dead-letter API (/api/admin/dead-letters). Same origin only; the admin key travels as the
// session cookie of the login form, or as the Authorization header a client adds itself.

const maxPoints = 300;
const byId = (id) => document.getElementById(id);
const text = (id, value) => {
  byId(id).textContent = value;
};
const number = (value, digits = 0) =>
  value === null || value === undefined ? "–" : Number(value).toFixed(digits);

function lineChart(canvas, datasets) {
  // Chart is the global that chart.umd.min.js (loaded before this script) defines.
  return new Chart(canvas, {
    type: "line",
    data: { labels: [], datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      elements: { point: { radius: 0 }, line: { borderWidth: 2, tension: 0.2 } },
      scales: {
        x: { ticks: { color: "#8b96a5", maxTicksLimit: 6 }, grid: { color: "#26303c" } },
        y: { beginAtZero: true, ticks: { color: "#8b96a5" }, grid: { color: "#26303c" } },
      },
      plugins: { legend: { labels: { color: "#e6e9ee", boxWidth: 12 } } },
    },
  });
}

const throughputChart = lineChart(byId("throughput-chart"), [
  { label: "answers/s", data: [], borderColor: "#4fb3ff" },
  { label: "5xx/s", data: [], borderColor: "#f85149" },
]);
const latencyChart = lineChart(byId("latency-chart"), [
  { label: "p50", data: [], borderColor: "#3fb950" },
  { label: "p99", data: [], borderColor: "#d29922" },
]);

function addPoints(points) {
  for (const point of points) {
    const label = new Date(point.t).toLocaleTimeString();
    for (const chart of [throughputChart, latencyChart]) chart.data.labels.push(label);
    throughputChart.data.datasets[0].data.push(point.rps);
    throughputChart.data.datasets[1].data.push(point.errorsPerS);
    latencyChart.data.datasets[0].data.push(point.p50Ms);
    latencyChart.data.datasets[1].data.push(point.p99Ms);
  }
  for (const chart of [throughputChart, latencyChart]) {
    const extra = chart.data.labels.length - maxPoints;
    if (extra > 0) {
      chart.data.labels.splice(0, extra);
      for (const dataset of chart.data.datasets) dataset.data.splice(0, extra);
    }
    chart.update("none");
  }
}

function setState(state, label) {
  const element = byId("redis-state");
  element.className = `state state-${state}`;
  element.textContent = label;
}

function cell(row, value, className) {
  const td = row.insertCell();
  td.textContent = value;
  if (className) td.className = className;
  return td;
}

function showFleet(fleet) {
  text("pods", fleet ? fleet.pods : "–");
  text("terminals", fleet ? fleet.terminals : "–");
  text("busy", fleet ? fleet.busy : "–");
  const body = byId("pods-table").tBodies[0];
  body.replaceChildren();
  for (const pod of fleet ? fleet.list : []) {
    const row = body.insertRow();
    cell(row, pod.pod);
    cell(row, pod.terminals);
    cell(row, pod.busy);
    cell(row, pod.concurrencyLimit ?? "–");
    cell(row, pod.handler);
    cell(row, `${(pod.seenAgoMs / 1000).toFixed(1)} s ago`);
  }
  byId("pods-truncated").hidden = !fleet?.truncated;
}

let shownDeadCount;
function showSnapshot(snapshot) {
  if (snapshot.redis === "ok") setState("ok", "Redis ok");
  else setState("unavailable", "Redis unavailable");
  showFleet(snapshot.fleet);
  const queue = snapshot.queue;
  text("depth", queue ? queue.depth : "–");
  text("lag", queue ? queue.lag : "–");
  text("pending", queue ? queue.pending : "–");
  text("oldest", queue ? number(queue.oldestWaitingMs) : "–");
  const point = snapshot.traffic.point;
  text("throughput", point ? number(point.rps, 1) : "–");
  const minute = snapshot.traffic.lastMinute;
  text("p50", number(minute.p50Ms, 1));
  text("p99", number(minute.p99Ms, 1));
  text("error-rate", number(minute.errorRate * 100, 2));
  text("dead-count", snapshot.deadLetters ?? "–");
  const shed = Object.entries(snapshot.shed).map(([reason, count]) => `${reason}: ${count}`);
  text("shed", shed.join(" · ") || "–");
  const breaker = snapshot.breaker;
  text(
    "breaker",
    !breaker
      ? "–"
      : breaker.state === "open"
        ? `open ${(breaker.openLeftMs / 1000).toFixed(1)} s`
        : breaker.state,
  );
  const tenants = (snapshot.tenants ?? []).map(({ tenant, waiting }) => `${tenant}: ${waiting}`);
  text("tenants", snapshot.tenants === null ? "–" : tenants.join(" · ") || "none waiting");
  if (point) addPoints([point]);
  if (snapshot.deadLetters !== null && snapshot.deadLetters !== shownDeadCount) {
    shownDeadCount = snapshot.deadLetters;
    void loadDeadLetters();
  }
}

function connect() {
  const events = new EventSource("/api/admin/events");
  events.addEventListener("history", (event) => addPoints(JSON.parse(event.data).points));
  events.addEventListener("snapshot", (event) => showSnapshot(JSON.parse(event.data)));
  // EventSource reconnects by itself (the server asks for 2 s); say so meanwhile.
  events.addEventListener("error", () => setState("lost", "console connection lost, retrying…"));
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error ?? `HTTP ${response.status}`);
  return answer;
}

function status(message) {
  text("dead-status", message);
}

let olderThan = null;
async function loadDeadLetters(after) {
  try {
    const page = await api("GET", `/api/admin/dead-letters?count=20${after ? `&after=${after}` : ""}`);
    const body = byId("dead-letters").tBodies[0];
    if (!after) body.replaceChildren();
    for (const letter of page.entries) body.append(deadLetterRow(letter));
    olderThan = page.next;
    byId("dead-older").hidden = !page.next;
  } catch (error) {
    status(`Could not read the dead letters: ${error.message}`);
  }
}

/** Where a replay goes with TENANT_LANES=on: the tenant (when the letter names one) and urgency. */
function laneOf(letter) {
  return [letter.tenant, `u=${letter.urgency}`].filter(Boolean).join(" · ");
}

function deadLetterRow(letter) {
  const row = document.createElement("tr");
  row.dataset.entryId = letter.entryId;
  cell(row, new Date(letter.failedAt).toLocaleString());
  cell(row, letter.requestId ?? "–");
  cell(row, letter.error, "error").title = letter.error;
  cell(row, letter.attempts ?? "–");
  cell(row, laneOf(letter), "lane");
  cell(row, `${letter.size} B`);
  const actions = row.insertCell();
  const button = (label, action, className) => {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    if (className) element.className = className;
    element.addEventListener("click", action);
    actions.append(element, " ");
  };
  button("Payload", () => showPayload(letter.entryId));
  if (letter.replayable) button("Replay", () => act("POST", letter, "/replay", "replayed"));
  button("Delete", () => act("DELETE", letter, "", "deleted"), "danger");
  return row;
}

async function act(method, letter, suffix, done) {
  try {
    await api(method, `/api/admin/dead-letters/${letter.entryId}${suffix}`);
    status(`${letter.requestId ?? letter.entryId} ${done}.`);
    await loadDeadLetters();
  } catch (error) {
    status(`Failed: ${error.message}`);
  }
}

async function showPayload(entryId) {
  try {
    const letter = await api("GET", `/api/admin/dead-letters/${entryId}`);
    const pre = byId("payload");
    pre.textContent = letter.payload ?? "(no payload)";
    pre.hidden = false;
  } catch (error) {
    status(`Failed: ${error.message}`);
  }
}

async function bulk(action) {
  const filter = {};
  const errorText = byId("bulk-error").value.trim();
  const age = byId("bulk-age").value.trim();
  if (errorText) filter.errorContains = errorText;
  if (age) filter.olderThanS = Number(age);
  if (!errorText && !age) {
    if (!window.confirm(`No filter: ${action} every dead letter (up to 1000)?`)) return;
    filter.all = true;
  }
  try {
    const outcome = await api("POST", `/api/admin/dead-letters/bulk-${action}`, { ...filter, max: 1000 });
    status(`${action}: ${outcome.done} of ${outcome.matched} matching (${outcome.scanned} read).`);
    await loadDeadLetters();
  } catch (error) {
    status(`Failed: ${error.message}`);
  }
}

byId("bulk-replay").addEventListener("click", () => bulk("replay"));
byId("bulk-purge").addEventListener("click", () => bulk("purge"));
byId("dead-older").addEventListener("click", () => loadDeadLetters(olderThan));
connect();
void loadDeadLetters();
