// Runs the official suite (pinned in package.json) against the server whose
// URL is in DS_CONFORMANCE_URL. DS_LONG_POLL_TIMEOUT_MS must match the
// server's --long-poll-timeout.
import { runConformanceTests } from "@durable-streams/server-conformance-tests"

const baseUrl = process.env.DS_CONFORMANCE_URL
if (!baseUrl) throw new Error("DS_CONFORMANCE_URL is not set")

runConformanceTests({
  baseUrl,
  longPollTimeoutMs: Number(process.env.DS_LONG_POLL_TIMEOUT_MS ?? "20000"),
})
