// The admin page in headless Chromium (Debian's chromium), driven with
// puppeteer-core: the stream list shows the streams the test made, the
// stream view's live tail shows a message appended after the page loaded,
// and a stream named like markup is shown as text (no element, no alert).
//
//   node admin.test.mjs SERVER_BINARY [SCREENSHOT.png]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const [binary, screenshot] = process.argv.slice(2);
if (!binary) {
  console.error("usage: node admin.test.mjs SERVER_BINARY [SCREENSHOT.png]");
  process.exit(2);
}
const XSS = "<img src=x onerror=alert(1)>";
const failures = [];
function check(ok, what) {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) failures.push(what);
}

const dir = mkdtempSync(join(tmpdir(), "ds-browser-"));
const server = spawn(binary, ["--port", "0", "--data-dir", join(dir, "data")], {
  stdio: ["ignore", "pipe", "inherit"],
});
const base = await new Promise((resolve, reject) => {
  let out = "";
  server.stdout.on("data", (d) => {
    out += d;
    const m = out.match(/^listening on (\S+)/m);
    if (m) resolve(m[1]);
  });
  server.on("exit", (code) => reject(new Error("server exited " + code)));
  setTimeout(() => reject(new Error("server did not start")), 10000);
});
const streamUrl = (path) => base + "/v1/stream/" + path.split("/").map(encodeURIComponent).join("/");

let browser;
try {
  for (const [path, type] of [["demo/chat", "text/plain"], ["demo/events", "application/json"], [XSS, "text/plain"]]) {
    const r = await fetch(streamUrl(path), { method: "PUT", headers: { "Content-Type": type } });
    check(r.status === 201, "PUT " + JSON.stringify(path) + " -> " + r.status);
  }
  await fetch(streamUrl("demo/chat"), { method: "POST", headers: { "Content-Type": "text/plain" }, body: "first message" });
  await fetch(streamUrl("demo/events"), { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"type":"joined"}' });

  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1280,860"],
    defaultViewport: { width: 1280, height: 860 },
  });
  const page = await browser.newPage();
  const dialogs = [];
  const external = [];
  page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on("pageerror", (e) => failures.push("page error: " + e.message));
  page.on("request", (req) => { if (!req.url().startsWith(base)) external.push(req.url()); });

  await page.goto(base + "/admin/", { waitUntil: "load" });
  await page.waitForFunction(() => document.querySelectorAll("#streams tbody tr").length >= 3, { timeout: 10000 });
  const rows = await page.$$eval("#streams tbody tr td:first-child", (tds) => tds.map((td) => td.textContent));
  check(rows.includes("demo/chat") && rows.includes("demo/events"), "the stream list shows the streams made: " + JSON.stringify(rows));
  check(rows.includes(XSS), "the markup-like name is listed as text");
  await page.waitForFunction(() => document.getElementById("m-streams").textContent !== "–", { timeout: 10000 });
  const count = await page.$eval("#m-streams", (e) => e.textContent);
  check(Number(count) >= 3, "the overview counts the streams from /metrics: " + count);
  if (screenshot) {
    await page.waitForFunction(() => document.getElementById("m-rate").textContent !== "–", { timeout: 10000 });
    await page.screenshot({ path: screenshot });
  }

  // The stream view: a live tail that gets what is appended after it opened.
  await page.goto(base + "/admin/#/stream/" + encodeURIComponent("demo/chat"), { waitUntil: "load" });
  await page.waitForFunction(() => document.getElementById("tail-state").textContent === "live", { timeout: 10000 });
  const producerRows = await page.$$eval("#s-meta tbody tr", (trs) => trs.length);
  check(producerRows > 5, "the stream view shows the inspect metadata");
  // Wait until the server sees the page's SSE reader, then append.
  for (let i = 0; i < 100; i++) {
    const info = await (await fetch(base + "/v1/inspect/demo/chat")).json();
    if (info.readers.sse >= 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const message = "appended after the page loaded " + Date.now();
  await fetch(streamUrl("demo/chat"), { method: "POST", headers: { "Content-Type": "text/plain" }, body: message });
  const got = await page.waitForFunction(
    (m) => [...document.querySelectorAll("#tail li")].some((li) => li.textContent === m), { timeout: 10000 }, message)
    .then(() => true, () => false);
  check(got, "the live tail shows the message appended after the page loaded");

  // The markup-like stream's own view: its name as text, no element made.
  await page.goto(base + "/admin/#/stream/" + encodeURIComponent(XSS), { waitUntil: "load" });
  await page.waitForFunction((x) => document.getElementById("s-path").textContent === x, { timeout: 10000 }, XSS);
  await page.waitForFunction(() => document.querySelectorAll("#s-meta tbody tr").length > 0, { timeout: 10000 });
  const imgs = await page.$$eval("img", (els) => els.length);
  check(imgs === 0, "no <img> element was made from a stream name");
  await new Promise((r) => setTimeout(r, 300));
  check(dialogs.length === 0, "no script ran from a stream name (dialogs: " + JSON.stringify(dialogs) + ")");
  check(external.length === 0, "the page loads nothing from elsewhere: " + JSON.stringify(external));
} catch (e) {
  failures.push("error: " + (e && e.stack ? e.stack : e));
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
if (failures.length) {
  console.error("\n" + failures.length + " failed:\n  " + failures.join("\n  "));
  process.exit(1);
}
console.log("\nadmin page: all checks passed");
