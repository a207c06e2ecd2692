// Starts the official Node reference server for the benchmarks:
//   node node-peer.mjs [DATA_DIR]   (no DATA_DIR: in-memory mode)
// Prints "listening on <url>" and serves until killed.
import { DurableStreamTestServer } from "@durable-streams/server"

const dataDir = process.argv[2]
const server = new DurableStreamTestServer({
  port: 0,
  host: "127.0.0.1",
  longPollTimeout: 30_000,
  ...(dataDir ? { dataDir } : {}),
})
const url = await server.start()
console.log(`listening on ${server.url ?? url}`)
process.on("SIGTERM", async () => {
  await server.stop()
  process.exit(0)
})
