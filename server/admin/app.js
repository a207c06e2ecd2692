// The admin page's script (served at /admin/app.js). Everything a stream
// or a server sends is put on the page with textContent, never as HTML.
"use strict";

const STREAM_ROOT = "/v1/stream/";
const state = { token: sessionStorage.getItem("ds-token") || "", project: sessionStorage.getItem("ds-project") || "",
                after: null, prefix: "", tail: null, lastScrape: null };

function $(id) { return document.getElementById(id); }
function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (state.token) h["Authorization"] = "Bearer " + state.token;
  return h;
}
function encodePath(path) { return path.split("/").map(encodeURIComponent).join("/"); }
function streamUrl(path) { return STREAM_ROOT + encodePath(path); }
function fmtTime(ms) { return ms ? new Date(ms).toISOString().replace("T", " ").replace(".000Z", "Z") : "–"; }
function cell(row, text) { const td = document.createElement("td"); td.textContent = text === null || text === undefined ? "–" : String(text); row.appendChild(td); return td; }
function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

async function getJson(url) {
  const r = await fetch(url, { headers: headers() });
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch (e) { body = null; }
  if (!r.ok) throw new Error(r.status + " " + (body && body.error && body.error.message ? body.error.message : text.slice(0, 200)));
  return body;
}

// ---- overview ---------------------------------------------------------------
function parseMetrics(text) {
  const m = {};
  for (const line of text.split("\n")) {
    if (!line || line[0] === "#") continue;
    const sp = line.lastIndexOf(" ");
    const key = line.slice(0, sp), value = Number(line.slice(sp + 1));
    const name = key.split("{")[0];
    m[name] = (m[name] || 0) + value;
  }
  return m;
}

async function refreshMetrics() {
  try {
    const r = await fetch("/metrics", { headers: headers() });
    if (!r.ok) throw new Error("/metrics answered " + r.status);
    const m = parseMetrics(await r.text());
    const now = Date.now();
    $("m-streams").textContent = String(m.durable_streams_streams || 0);
    $("m-live").textContent = String((m.durable_streams_sse_readers || 0) + (m.durable_streams_long_polls_waiting || 0));
    $("m-requests").textContent = String(m.durable_streams_http_requests_total || 0);
    if (state.lastScrape) {
      const dt = (now - state.lastScrape.at) / 1000;
      const rate = ((m.durable_streams_appends_total || 0) - state.lastScrape.appends) / dt;
      $("m-rate").textContent = rate.toFixed(rate < 10 ? 1 : 0);
    }
    state.lastScrape = { at: now, appends: m.durable_streams_appends_total || 0 };
    $("metrics-note").textContent = "";
  } catch (e) {
    $("metrics-note").textContent = "Metrics unavailable: " + e.message;
  }
}

async function loadStreams(more) {
  if (!more) { state.after = null; clear($("streams").tBodies[0]); }
  const q = new URLSearchParams({ limit: "50", prefix: state.prefix });
  if (state.project) q.set("project", state.project);
  if (state.after) q.set("after", state.after);
  try {
    const list = await getJson("/v1/inspect?" + q.toString());
    const body = $("streams").tBodies[0];
    for (const s of list.streams) {
      const tr = document.createElement("tr");
      tr.className = "link";
      tr.dataset.path = s.path;
      cell(tr, s.path);
      cell(tr, s.tailOffset);
      cell(tr, fmtTime(s.createdAt));
      cell(tr, s.closed ? "yes" : "no");
      tr.addEventListener("click", () => { location.hash = "#/stream/" + encodeURIComponent(s.path); });
      body.appendChild(tr);
    }
    state.after = list.next;
    $("more").hidden = !list.next;
    $("list-note").textContent = list.total + " matching";
  } catch (e) {
    $("list-note").textContent = "Cannot list streams: " + e.message;
  }
}

// ---- one stream -------------------------------------------------------------
function kv(tbody, key, value) {
  const tr = document.createElement("tr");
  const th = document.createElement("th");
  th.textContent = key;
  tr.appendChild(th);
  cell(tr, value);
  tbody.appendChild(tr);
}

async function showStream(path) {
  $("s-path").textContent = path;
  $("s-error").textContent = "";
  const meta = $("s-meta").tBodies[0], producers = $("s-producers").tBodies[0], segments = $("s-segments").tBodies[0];
  clear(meta); clear(producers); clear(segments); clear($("tail"));
  try {
    const s = await getJson("/v1/inspect/" + encodePath(path));
    kv(meta, "Content type", s.contentType);
    kv(meta, "Created", fmtTime(s.createdAt));
    kv(meta, "TTL (s)", s.ttlSeconds);
    kv(meta, "Expires", s.expiresAt ? fmtTime(s.expiresAt) : null);
    kv(meta, "Closed", s.closed ? "yes" : "no");
    kv(meta, "Public", s.public ? "yes" : "no");
    kv(meta, "Session stream", s.sessionStream ? "yes" : "no");
    kv(meta, "Fork of", s.forkedFrom ? s.forkedFrom + " at " + s.forkOffset : null);
    kv(meta, "Tail offset", s.tailOffset);
    kv(meta, "Messages (hot / cold)", s.messages.hot + " / " + s.messages.cold);
    kv(meta, "Bytes (hot / cold)", s.bytes.hot + " / " + s.bytes.cold);
    kv(meta, "Live readers (SSE / long-poll)", s.readers.sse + " / " + s.readers.longPoll);
    kv(meta, "Estuary (subscribers / sources)", s.estuary.subscribers + " / " + s.estuary.sources);
    for (const p of s.producers) {
      const tr = document.createElement("tr");
      cell(tr, p.id); cell(tr, p.epoch); cell(tr, p.lastSeq); cell(tr, p.lastOffset); cell(tr, fmtTime(p.lastUpdated));
      producers.appendChild(tr);
    }
    for (const g of s.segments) {
      const tr = document.createElement("tr");
      cell(tr, g.key); cell(tr, g.startOffset); cell(tr, g.endOffset); cell(tr, g.objectBytes); cell(tr, g.messages); cell(tr, g.crc32c);
      segments.appendChild(tr);
    }
  } catch (e) {
    $("s-error").textContent = "Cannot inspect: " + e.message;
  }
  startTail(path);
}

function addTail(text) {
  const li = document.createElement("li");
  li.textContent = text;
  $("tail").appendChild(li);
  $("tail").scrollTop = $("tail").scrollHeight;
}

function stopTail() {
  if (state.tail) { state.tail(); state.tail = null; }
}

// The live tail from now on: EventSource without a token; with one, the
// same SSE read through fetch (EventSource cannot send Authorization).
function startTail(path) {
  stopTail();
  const url = streamUrl(path) + "?offset=now&live=sse";
  $("tail-state").textContent = "connecting";
  if (!state.token) {
    const es = new EventSource(url);
    es.addEventListener("data", (ev) => addTail(ev.data));
    es.addEventListener("control", () => { $("tail-state").textContent = "live"; });
    es.onopen = () => { $("tail-state").textContent = "live"; };
    es.onerror = () => { $("tail-state").textContent = "reconnecting"; };
    state.tail = () => es.close();
    return;
  }
  const ctl = new AbortController();
  state.tail = () => ctl.abort();
  (async () => {
    let offset = "now";
    while (!ctl.signal.aborted) {
      try {
        const r = await fetch(streamUrl(path) + "?offset=" + encodeURIComponent(offset) + "&live=sse",
                              { headers: headers(), signal: ctl.signal });
        if (!r.ok) throw new Error("status " + r.status);
        $("tail-state").textContent = "live";
        const reader = r.body.getReader();
        const decoder = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let end;
          while ((end = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            let event = "message", data = [];
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) event = line.slice(6).trim();
              else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
            }
            if (event === "data") addTail(data.join("\n"));
            if (event === "control") {
              try { const c = JSON.parse(data.join("\n")); if (c.streamNextOffset) offset = c.streamNextOffset; } catch (e) { /* ignore */ }
            }
          }
        }
      } catch (e) {
        if (ctl.signal.aborted) return;
        $("tail-state").textContent = "reconnecting (" + e.message + ")";
        await new Promise((res) => setTimeout(res, 1000));
      }
    }
  })();
}

// ---- test panel -------------------------------------------------------------
async function testCall(method, withBody) {
  const path = $("t-path").value.trim();
  if (!path) return;
  const h = headers({ "Content-Type": $("t-type").value || "text/plain" });
  const init = { method, headers: h };
  if (withBody) init.body = $("t-body").value;
  const url = streamUrl(path) + (method === "GET" ? "?offset=-1" : "");
  try {
    const r = await fetch(url, init);
    const text = await r.text();
    const offset = r.headers.get("Stream-Next-Offset");
    $("t-out").textContent = method + " " + r.status + (offset ? "  Stream-Next-Offset: " + offset : "") + (text ? "\n\n" + text : "");
  } catch (e) {
    $("t-out").textContent = method + " failed: " + e.message;
  }
}

// ---- routing ----------------------------------------------------------------
function route() {
  const h = location.hash || "#/";
  $("overview").hidden = true; $("stream").hidden = true; $("test").hidden = true;
  if (h.startsWith("#/stream/")) {
    $("stream").hidden = false;
    showStream(decodeURIComponent(h.slice("#/stream/".length)));
    return;
  }
  stopTail();
  if (h === "#/test") { $("test").hidden = false; return; }
  $("overview").hidden = false;
  loadStreams(false);
}

document.addEventListener("DOMContentLoaded", () => {
  $("token").value = state.token;
  $("project").value = state.project;
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token").value.trim();
    state.project = $("project").value.trim();
    sessionStorage.setItem("ds-token", state.token);
    sessionStorage.setItem("ds-project", state.project);
    state.lastScrape = null;
    refreshMetrics();
    route();
  });
  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); state.prefix = $("search").value; loadStreams(false); });
  $("more").addEventListener("click", () => loadStreams(true));
  $("t-create").addEventListener("click", () => testCall("PUT", false));
  $("t-append").addEventListener("click", () => testCall("POST", true));
  $("t-read").addEventListener("click", () => testCall("GET", false));
  $("t-open").addEventListener("click", () => { location.hash = "#/stream/" + encodeURIComponent($("t-path").value.trim()); });
  window.addEventListener("hashchange", route);
  refreshMetrics();
  setInterval(refreshMetrics, 2000);
  route();
});
