// tests/cluster/cluster.test.mjs: three nodes behind nginx (deploy/cluster.sh),
// driven by the official TypeScript client. Run by tests/cluster/run.sh,
// which starts the cluster and passes:
//   DS_CLUSTER_URL   the front, http://127.0.0.1:PORT
//   DS_CLUSTER_DIR   the cluster's directory (cluster.env: each node's port)
//   DS_CLUSTER       the path of deploy/cluster.sh
//   DS_CLUSTER_STREAMS, DS_CLUSTER_MESSAGES   the size of the run
//
// What it checks, in order:
//   1. streams created through the front spread over all three nodes, and
//      each answers 421 with its owner's name at the two others;
//   2. exactly once: on streams of every node, an IdempotentProducer writes
//      numbered JSON messages while an SSE reader and a long-poll reader
//      tail each stream; every reader sees every message once, in order;
//   3. a misrouted write (straight at a node that does not own the stream)
//      is refused with 421 and changes nothing;
//   4. one node killed (SIGKILL): its streams fail fast with 503 through the
//      front, the other nodes' streams take appends and reads;
//   5. that node restarted: its streams hold every acknowledged append, and
//      take appends again;
//   6. a node taken out (deploy/cluster.sh remove-node): its streams move
//      to the two others and keep their offsets, data and producer state;
//      no other stream moves.
// Prints "cluster: N checks passed" or the first failure (exit 1).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DurableStream, IdempotentProducer } from '@durable-streams/client';

const front = process.env.DS_CLUSTER_URL;
const dir = process.env.DS_CLUSTER_DIR;
const clusterSh = process.env.DS_CLUSTER;
const streamCount = Number(process.env.DS_CLUSTER_STREAMS ?? 30);
const messageCount = Number(process.env.DS_CLUSTER_MESSAGES ?? 200);
const env = Object.fromEntries(
  readFileSync(`${dir}/cluster.env`, 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)),
);
const nodes = ['n1', 'n2', 'n3'];
const nodeUrl = (n) => `http://127.0.0.1:${env[`port_${n}`]}`;
const streamUrl = (base, path) => `${base}/v1/stream/${path}`;
const cluster = (...args) => execFileSync(clusterSh, args, { env: { ...process.env }, stdio: 'pipe' });

let checks = 0;
function check(ok, what) {
  if (!ok) {
    console.error(`cluster: FAILED: ${what}`);
    process.exit(1);
  }
  checks++;
}

// 1. Spread and ownership.
const paths = [];
for (let i = 0; i < streamCount; i++) paths.push(`cluster/${i}/stream ${i}`);
const owner = new Map();
for (const path of paths) {
  const url = streamUrl(front, encodeURI(path));
  await DurableStream.create({ url, contentType: 'application/json' });
  const answers = {};
  for (const n of nodes) {
    const r = await fetch(streamUrl(nodeUrl(n), encodeURI(path)), { method: 'HEAD' });
    answers[n] = { status: r.status, owner: r.headers.get('x-owner-node') };
  }
  const owners = nodes.filter((n) => answers[n].status === 200);
  check(owners.length === 1, `${path}: exactly one node has it (${JSON.stringify(answers)})`);
  for (const n of nodes) {
    if (n === owners[0]) continue;
    check(answers[n].status === 421 && answers[n].owner === owners[0],
      `${path}: node ${n} answers 421 naming ${owners[0]} (${JSON.stringify(answers[n])})`);
  }
  owner.set(path, owners[0]);
}
const byNode = Object.fromEntries(nodes.map((n) => [n, paths.filter((p) => owner.get(p) === n)]));
for (const n of nodes) check(byNode[n].length > 0, `node ${n} owns some of the ${streamCount} streams`);
console.log(`spread: ${nodes.map((n) => `${n} ${byNode[n].length}`).join(', ')}`);

// A fork lives on its source's node: one whose path hashes elsewhere is
// refused, and nothing is made.
{
  const source = byNode.n1[0];
  let target = null;
  for (let i = 0; !target; i++) {
    const candidate = `cluster/fork-${i}`;
    const r = await fetch(streamUrl(nodeUrl('n1'), encodeURI(candidate)), { method: 'HEAD' });
    if (r.status === 421) target = candidate;
  }
  const r = await fetch(streamUrl(front, encodeURI(target)), {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'stream-forked-from': `/v1/stream/${encodeURI(source)}` },
  });
  const body = await r.json();
  check(r.status === 409 && body.code === 'FORK_SOURCE_ELSEWHERE',
    `a fork of n1's stream onto another node is refused (${r.status} ${JSON.stringify(body)})`);
  const head = await fetch(streamUrl(front, encodeURI(target)), { method: 'HEAD' });
  check(head.status === 404, 'and the fork was not made');
}

// 2. Exactly once, on up to two streams per node.
async function tail(url, live, count) {
  const handle = new DurableStream({ url });
  const res = await handle.stream({ offset: '-1', live, json: true });
  const seen = [];
  for await (const item of res.jsonStream()) {
    seen.push(item.i);
    if (seen.length >= count) break;
  }
  return seen;
}
function inOrderOnce(seen, count) {
  return seen.length === count && seen.every((v, i) => v === i);
}
const acked = new Map();  // path -> messages acknowledged
const tailed = nodes.flatMap((n) => byNode[n].slice(0, 2));
await Promise.all(tailed.map(async (path) => {
  const url = streamUrl(front, encodeURI(path));
  const sse = tail(url, 'sse', messageCount);
  const poll = tail(url, 'long-poll', messageCount);
  const producer = new IdempotentProducer(new DurableStream({ url, contentType: 'application/json' }),
    `writer-${owner.get(path)}`, { lingerMs: 2, maxInFlight: 4 });
  for (let i = 0; i < messageCount; i++) {
    producer.append(JSON.stringify({ i }));
    if (i % 25 === 24) await new Promise((r) => setTimeout(r, 5));
  }
  await producer.flush();
  await producer.detach();
  acked.set(path, messageCount);
  const [a, b] = await Promise.all([sse, poll]);
  check(inOrderOnce(a, messageCount), `${path}: the SSE reader saw 0..${messageCount - 1} once each`);
  check(inOrderOnce(b, messageCount), `${path}: the long-poll reader saw 0..${messageCount - 1} once each`);
}));
console.log(`exactly once: ${tailed.length} streams x ${messageCount} messages, SSE and long-poll`);

async function readAll(url) {
  const res = await new DurableStream({ url }).stream({ offset: '-1', live: false, json: true });
  return (await res.json()).map((m) => m.i);
}

// 3. A misrouted write changes nothing.
{
  const path = byNode.n1[0];
  const before = await readAll(streamUrl(front, encodeURI(path)));
  const r = await fetch(streamUrl(nodeUrl('n2'), encodeURI(path)), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"i":-1}',
  });
  const body = await r.json();
  check(r.status === 421 && body.code === 'MISDIRECTED' && r.headers.get('x-owner-node') === 'n1',
    `a write for n1's stream at n2 is refused with 421 naming n1 (${r.status} ${JSON.stringify(body)})`);
  const after = await readAll(streamUrl(front, encodeURI(path)));
  check(JSON.stringify(after) === JSON.stringify(before), 'the misrouted write changed nothing');
}

// 4. Kill n2.
const victim = 'n2';
const survivors = nodes.filter((n) => n !== victim);
cluster('kill-node', victim);
for (const path of byNode[victim]) {
  const t0 = Date.now();
  const r = await fetch(streamUrl(front, encodeURI(path)), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"i":-1}',
  });
  const ms = Date.now() - t0;
  const body = await r.json().catch(() => ({}));
  check(r.status === 503 && body.code === 'NODE_UNAVAILABLE' && ms < 2500,
    `${path} on the dead node: 503 NODE_UNAVAILABLE at once (${r.status} in ${ms} ms)`);
}
for (const n of survivors) {
  for (const path of byNode[n].slice(0, 3)) {
    const url = streamUrl(front, encodeURI(path));
    const before = (await readAll(url)).length;
    const stream = new DurableStream({ url, contentType: 'application/json' });
    await stream.append(JSON.stringify({ i: before }));
    const after = await readAll(url);
    check(after.length === before + 1 && after[before] === before, `${path} on ${n} works while ${victim} is down`);
    acked.set(path, before + 1);
  }
}
console.log(`node ${victim} down: its ${byNode[victim].length} streams 503, the others work`);

// 5. Restart n2: everything acknowledged is there.
cluster('start-node', victim);
for (const path of byNode[victim]) {
  const url = streamUrl(front, encodeURI(path));
  const seen = await readAll(url);
  const want = acked.get(path) ?? 0;
  check(inOrderOnce(seen, want), `${path} after the restart holds its ${want} acknowledged messages`);
  const stream = new DurableStream({ url, contentType: 'application/json' });
  await stream.append(JSON.stringify({ i: want }));
  check((await readAll(url)).length === want + 1, `${path} takes appends after the restart`);
  acked.set(path, want + 1);
}
console.log(`node ${victim} restarted: every acknowledged append is back`);

// 6. Take n3 out (deploy/cluster.sh remove-node: export, adopt, new ring,
//    nginx reload). Its streams move to n1 and n2 with their offsets, data
//    and producer state; the others do not move.
const leaving = 'n3';
const before = new Map();
for (const path of paths) {
  const r = await fetch(streamUrl(front, encodeURI(path)), { method: 'HEAD' });
  before.set(path, r.headers.get('stream-next-offset'));
}
const tailedMoved = tailed.find((p) => owner.get(p) === leaving);
const inspected = await (await fetch(`${nodeUrl(leaving)}/v1/inspect/${encodeURI(tailedMoved)}`)).json();
const producer = inspected.producers.find((p) => p.id === `writer-${leaving}`);
check(producer && producer.lastSeq >= 0, `n3's producer state is there before the move (${JSON.stringify(inspected.producers)})`);
cluster('remove-node', leaving);
for (const path of paths) {
  const url = streamUrl(front, encodeURI(path));
  const r = await fetch(url, { method: 'HEAD' });
  check(r.status === 200 && r.headers.get('stream-next-offset') === before.get(path),
    `${path} (was on ${owner.get(path)}) keeps its next offset (${r.status} ${r.headers.get('stream-next-offset')} vs ${before.get(path)})`);
  const want = acked.get(path) ?? 0;
  check(inOrderOnce(await readAll(url), want), `${path} holds its ${want} messages after the move`);
}
{
  const url = streamUrl(front, encodeURI(tailedMoved));
  const dup = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json', 'producer-id': producer.id,
      'producer-epoch': String(producer.epoch), 'producer-seq': String(producer.lastSeq),
    },
    body: '{"i":-1}',
  });
  check(dup.status === 204, `a moved producer's retried append is a duplicate (${dup.status})`);
  const want = acked.get(tailedMoved);
  check((await readAll(url)).length === want, 'and adds nothing');
  await new DurableStream({ url, contentType: 'application/json' }).append(JSON.stringify({ i: want }));
  check(inOrderOnce(await readAll(url), want + 1), `${tailedMoved} takes appends on its new node`);
}
console.log(`node ${leaving} removed: its ${byNode[leaving].length} streams moved with their offsets, data and producers`);
console.log(`cluster: ${checks} checks passed`);
