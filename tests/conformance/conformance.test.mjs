// Runs the official suite (pinned in package.json) against the server whose
// URL is in DS_CONFORMANCE_URL. DS_LONG_POLL_TIMEOUT_MS must match the
// server's --long-poll-timeout.
import { runConformanceTests } from "@durable-streams/server-conformance-tests"

const baseUrl = process.env.DS_CONFORMANCE_URL
if (!baseUrl) throw new Error("DS_CONFORMANCE_URL is not set")

// With DS_CONFORMANCE_TOKEN (a server with --auth jwt), every request of the
// suite to the server carries it as a bearer token, but for those that carry
// their own (the callbacks of subscriptions, with their wake's token).
const token = process.env.DS_CONFORMANCE_TOKEN
if (token) {
  const plainFetch = globalThis.fetch
  globalThis.fetch = (input, init = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url
    if (!url.startsWith(baseUrl)) return plainFetch(input, init)
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined))
    if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${token}`)
    return plainFetch(input, { ...init, headers })
  }
}

runConformanceTests({
  baseUrl,
  longPollTimeoutMs: Number(process.env.DS_LONG_POLL_TIMEOUT_MS ?? "20000"),
  // The reserved subscription APIs (§6–7) too, unless DS_CONFORMANCE_SUBSCRIPTIONS=0.
  subscriptions: process.env.DS_CONFORMANCE_SUBSCRIPTIONS !== "0",
})
