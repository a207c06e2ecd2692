#!/usr/bin/python3
"""tests/s3/cold_tier_test.py SERVER_BINARY

The cold tier end to end, over real HTTP, against the S3-compatible test
server (run it under with-s3-server.sh, which sets DS_S3_ENDPOINT and the
credentials). Only the Python standard library, plus Debian's `aws` CLI as
the independent S3 client.

  1. 100,000 messages, 50,000 in a binary stream (8 concurrent writers) and
     50,000 in a JSON stream, with --segment-max-messages 500, while a reader
     follows both: at least 50 segments land in the store; every byte reads
     back exactly from -1, from 100 random earlier offsets and from every
     offset handed out (by appends and by reads), before and after a restart.
  2. `aws s3api` lists and fetches the objects; an independent decoder of the
     segment format (below, from docs/format.md) checks their frames and
     checksums and that they hold exactly the stream's bytes.
  3. Faults: the store down while rotation is due (appends go on; rotation
     catches up), a truncated and a missing object (503 with Retry-After,
     never wrong bytes), kill -9 right after a segment Put and right after a
     rotation commit (the restart completes the rotation, leaves no orphans).
  4. Deleting and expiring streams removes their objects.
"""
import http.client
import json
import os
import random
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SERVER = sys.argv[1]
ENDPOINT = os.environ["DS_S3_ENDPOINT"]
BUCKET = "ds-test"
AWS_ENV = dict(os.environ, AWS_ACCESS_KEY_ID=os.environ["DS_S3_ACCESS_KEY_ID"],
               AWS_SECRET_ACCESS_KEY=os.environ["DS_S3_SECRET_ACCESS_KEY"],
               AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
AWS = "/usr/bin/aws"
rng = random.Random(int(os.environ.get("DS_TEST_SEED", "20261123")))
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def offset(pos):
    return "%016d_%016d" % (0, pos)


def position(off):
    return int(off.split("_")[1])


class Server:
    def __init__(self, data_dir, prefix, extra=()):
        # --db-lock shared: segments_of() and hot_rows() read streams.db while it runs.
        self.args = [SERVER, "--port", "0", "--data-dir", data_dir, "--sync", "normal",
                     "--db-lock", "shared",
                     "--segment-store", "s3://%s/%s" % (BUCKET, prefix), "--s3-endpoint", ENDPOINT,
                     "--max-read-bytes", "4KiB", "--long-poll-timeout", "1s"] + list(extra)
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on "):
            raise RuntimeError("server did not start: " + line)
        self.port = int(line.rsplit(":", 1)[1])
        self.local = threading.local()

    def conn(self):
        c = getattr(self.local, "c", None)
        if c is None:
            c = self.local.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return c

    def request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            c = self.conn()
            try:
                c.request(method, path, body=body, headers=headers or {})
                r = c.getresponse()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
            except (http.client.HTTPException, OSError):
                c.close()
                self.local.c = None
                if attempt:
                    raise

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)


def aws(*args, check_rc=True):
    r = subprocess.run([AWS, "--endpoint-url", ENDPOINT] + list(args), env=AWS_ENV,
                       capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError("aws %s: %s" % (" ".join(args), r.stderr))
    return r


def list_keys(prefix):
    r = aws("s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix", prefix, "--output", "json")
    if not r.stdout.strip():
        return []
    return [o["Key"] for o in json.loads(r.stdout).get("Contents", [])]


def get_object(key):
    with tempfile.NamedTemporaryFile() as f:
        aws("s3api", "get-object", "--bucket", BUCKET, "--key", key, f.name)
        return open(f.name, "rb").read()


def put_object(key, data):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        aws("s3api", "put-object", "--bucket", BUCKET, "--key", key, "--body", f.name)


# --- an independent reader of the segment format (docs/format.md) -----------

def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ CRC_TABLE[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


def decode_segment(obj):
    """Returns (start, end, [(position, data, last_in_append)]); raises on damage."""
    assert obj[:8] == b"DSSEG01\n", "header magic"
    start, flags, hcrc = struct.unpack_from("<QII", obj, 8)
    assert flags == 0 and crc32c(obj[:20]) == hcrc, "header checksum"
    end, count, index_off, index_crc, tcrc = struct.unpack_from("<QQQII", obj, len(obj) - 40)
    assert obj[-8:] == b"DSSEGEND" and crc32c(obj[len(obj) - 40:len(obj) - 12]) == tcrc, "trailer"
    assert crc32c(obj[index_off:len(obj) - 40]) == index_crc, "index checksum"
    frames, at, pos = [], 24, start
    while at < index_off:
        length, fflags, fcrc = struct.unpack_from("<IBI", obj, at)
        data = obj[at + 9:at + 9 + length]
        assert len(data) == length and crc32c(bytes([fflags]) + data) == fcrc, "frame checksum"
        frames.append((pos, data, bool(fflags & 1)))
        pos += length
        at += 9 + length
    assert at == index_off and pos == end and len(frames) == count, "frames cover the segment"
    return start, end, frames


# --- helpers over the protocol ------------------------------------------------

def read_all(srv, path, start_off="-1", json_mode=False):
    """Follows Stream-Next-Offset to the tail; returns (bytes or values, offsets seen)."""
    out = [] if json_mode else bytearray()
    seen = []
    off = start_off
    while True:
        st, h, body = srv.request("GET", "%s?offset=%s" % (path, off))
        if st != 200:
            raise RuntimeError("GET %s at %s: %d %s" % (path, off, st, body[:200]))
        if json_mode:
            out.extend(json.loads(body))
        else:
            out += body
        off = h["stream-next-offset"]
        seen.append(off)
        if h.get("stream-up-to-date") == "true":
            return out, seen


def wait_for(cond, what, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return check(False, "timed out waiting for " + what)


def segments_of(db, stream_path):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        return c.execute("SELECT s.object_key, s.start_pos, s.end_pos FROM segments s JOIN streams t "
                         "ON s.stream_id=t.id WHERE t.path=? ORDER BY s.end_pos", (stream_path,)).fetchall()
    finally:
        c.close()


def hot_rows(db, stream_path):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        # Hot rows are in `messages` or, not yet folded, in the append `log`.
        return c.execute("SELECT count(*) FROM (SELECT stream_id FROM messages UNION ALL "
                         "SELECT stream_id FROM log) m JOIN streams t ON m.stream_id=t.id "
                         "WHERE t.path=?", (stream_path,)).fetchone()[0]
    finally:
        c.close()


# --- 1. the big run -----------------------------------------------------------

def big_run(work):
    data = os.path.join(work, "big")
    srv = Server(data, "big", ["--segment-max-messages", "500"])
    db = os.path.join(data, "streams.db")
    bin_path, json_path = "/v1/stream/cold/bin", "/v1/stream/cold/json"
    check(srv.request("PUT", bin_path, b"", {"Content-Type": "application/octet-stream"})[0] == 201, "create bin")
    check(srv.request("PUT", json_path, b"", {"Content-Type": "application/json"})[0] == 201, "create json")

    appended = {}  # end position -> body (binary)
    handed_out = []  # every offset the server gave us
    lock = threading.Lock()
    n_bin, writers = 50000, 8

    def write_bin(w):
        for i in range(w, n_bin, writers):
            body = ("%d:%s|" % (i, "x" * rng.randrange(0, 40))).encode()
            st, h, _ = srv.request("POST", bin_path, body, {"Content-Type": "application/octet-stream"})
            if st != 204:
                check(False, "append %d answered %d" % (i, st))
                return
            with lock:
                appended[position(h["stream-next-offset"])] = body
                handed_out.append(h["stream-next-offset"])

    json_values = []

    def write_json():
        for batch in range(500):
            values = [{"b": batch, "i": k, "s": "v" * (k % 7)} for k in range(100)]
            st, h, _ = srv.request("POST", json_path, json.dumps(values).encode(), {"Content-Type": "application/json"})
            if st != 204:
                check(False, "json append %d answered %d" % (batch, st))
                return
            json_values.extend(values)
            with lock:
                handed_out.append(("json", h["stream-next-offset"]))

    stop_reader = threading.Event()

    def follow():
        # A reader during the run: the offsets it is given cross rotations.
        offs = {bin_path: "-1", json_path: "-1"}
        while not stop_reader.is_set():
            for p in (bin_path, json_path):
                st, h, _ = srv.request("GET", "%s?offset=%s" % (p, offs[p]))
                if st == 200:
                    offs[p] = h["stream-next-offset"]
                    with lock:
                        handed_out.append(offs[p] if p == bin_path else ("json", offs[p]))

    threads = [threading.Thread(target=write_bin, args=(w,)) for w in range(writers)]
    threads += [threading.Thread(target=write_json), threading.Thread(target=follow)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads[:-1]:
        t.join()
    stop_reader.set()
    threads[-1].join()
    print("appended 100,000 messages in %.1f s" % (time.time() - t0), flush=True)

    # The expected binary stream: appends tile [0, tail) in offset order.
    expected = bytearray()
    for end in sorted(appended):
        check(end - len(appended[end]) == len(expected), "appends tile the stream at %d" % end)
        expected += appended[end]
    json_bytes_at = []  # position after each JSON message, as the server counts (its stored bytes)

    wait_for(lambda: hot_rows(db, "cold/bin") < 500 and hot_rows(db, "cold/json") < 500,
             "rotation to catch up")
    segs = segments_of(db, "cold/bin") + segments_of(db, "cold/json")
    keys = list_keys("big/")
    print("segments: %d recorded, %d objects in the store" % (len(segs), len(keys)), flush=True)
    check(len(segs) >= 50, "at least 50 segments (got %d)" % len(segs))
    check(sorted("big/" + k for k, _, _ in segs) == sorted(keys), "store objects == recorded segments")

    def verify(label):
        got, _ = read_all(srv, bin_path)
        check(bytes(got) == bytes(expected), "%s: binary stream reads back from -1 byte-exact" % label)
        got_json, offs = read_all(srv, json_path, json_mode=True)
        check(got_json == json_values, "%s: JSON stream reads back from -1" % label)
        # 100 random earlier offsets (positions at message boundaries).
        ends = sorted(appended)
        for end in rng.sample(ends, 100):
            st, h, body = srv.request("GET", "%s?offset=%s" % (bin_path, offset(end)))
            check(st == 200 and body == bytes(expected[end:end + len(body)]) and len(body) > 0
                  or (end == len(expected) and st == 200),
                  "%s: read at random offset %d" % (label, end))
        # Every offset handed out during the run, by 4 readers.
        bad = [0] * 4

        def check_offsets(k):
            for off in handed_out[k::4]:
                if isinstance(off, tuple):
                    st, h, body = srv.request("GET", "%s?offset=%s" % (json_path, off[1]))
                    ok = st == 200 and isinstance(json.loads(body), list)
                else:
                    p = position(off)
                    st, h, body = srv.request("GET", "%s?offset=%s" % (bin_path, off))
                    ok = st == 200 and body == bytes(expected[p:p + len(body)]) and (
                        len(body) > 0 or p == len(expected))
                bad[k] += 0 if ok else 1

        t0 = time.time()
        readers = [threading.Thread(target=check_offsets, args=(k,)) for k in range(4)]
        for t in readers:
            t.start()
        for t in readers:
            t.join()
        check(sum(bad) == 0, "%s: all %d handed-out offsets read correctly (%d bad)"
              % (label, len(handed_out), sum(bad)))
        print("%s: %d handed-out offsets checked in %.1f s" % (label, len(handed_out), time.time() - t0),
              flush=True)

    t0 = time.time()
    verify("before restart")
    check(srv.stop() == 0, "graceful stop")
    srv = Server(data, "big", ["--segment-max-messages", "500"])
    verify("after restart")
    print("verified twice in %.1f s" % (time.time() - t0), flush=True)

    # 2. An independent client and decoder.
    bin_keys = sorted(k for k in list_keys("big/streams/cold%2Fbin/"))
    fetched = os.path.join(work, "fetched")
    aws("s3", "cp", "--recursive", "--only-show-errors", "s3://%s/big/streams/cold%%2Fbin/" % BUCKET, fetched)
    rebuilt = bytearray()
    for k in bin_keys:
        with open(os.path.join(fetched, k.rsplit("/", 2)[-2], k.rsplit("/", 1)[-1]), "rb") as f:
            obj = f.read()
        start, end, frames = decode_segment(obj)
        check(start == len(rebuilt), "segment %s starts where the previous ended" % k)
        for pos, data, _ in frames:
            rebuilt += data
    check(len(bin_keys) >= 25 and bytes(rebuilt) == bytes(expected[:len(rebuilt)]),
          "aws s3api + an independent decoder read %d segments = the stream's first %d bytes"
          % (len(bin_keys), len(rebuilt)))
    srv.stop()


# --- 3 and 4. faults and cleanup ---------------------------------------------

# A segment every 50 messages; no registry, so that the bucket is empty once
# the streams are gone.
FAULTS_ARGS = ["--segment-max-messages", "50", "--registry", "off"]


def fault_runs(work):
    data = os.path.join(work, "faults")
    db = os.path.join(data, "streams.db")
    srv = Server(data, "faults", FAULTS_ARGS)
    ctype = {"Content-Type": "text/plain"}

    def fill(path, n, tag):
        srv.request("PUT", path, b"", ctype)
        body = bytearray()
        for i in range(n):
            m = ("%s-%d;" % (tag, i)).encode()
            check(srv.request("POST", path, m, ctype)[0] == 204, "append to %s" % path)
            body += m
        return bytes(body)

    # Store down: appends go on, rotation waits, then catches up.
    urllib.request.urlopen(urllib.request.Request(ENDPOINT + "/__fault?mode=down", method="POST"))
    down = fill("/v1/stream/down", 200, "d")
    got, _ = read_all(srv, "/v1/stream/down")
    check(bytes(got) == down, "reads while the store is down")
    check(len(segments_of(db, "down")) == 0, "no segment recorded while the store is down")
    urllib.request.urlopen(urllib.request.Request(ENDPOINT + "/__fault?mode=up", method="POST"))
    wait_for(lambda: len(segments_of(db, "down")) == 4, "rotation after the store came back")
    got, _ = read_all(srv, "/v1/stream/down")
    check(bytes(got) == down, "reads after the catch-up")

    # Truncated and missing objects: 503, retryable, never wrong bytes.
    trunc = fill("/v1/stream/trunc", 100, "t")
    wait_for(lambda: len(segments_of(db, "trunc")) == 2, "two segments of trunc")
    key = "faults/" + segments_of(db, "trunc")[0][0]
    original = get_object(key)
    put_object(key, original[:len(original) // 2])
    st, h, body = srv.request("GET", "/v1/stream/trunc?offset=-1")
    check(st == 503 and h.get("retry-after") and json.loads(body)["code"] == "UNAVAILABLE",
          "a truncated segment answers 503 with Retry-After (got %d %r)" % (st, body[:120]))
    st, _, _ = srv.request("GET", "/v1/stream/trunc?offset=-1&live=sse")
    check(st == 503, "SSE from a truncated segment answers 503 (got %d)" % st)
    aws("s3api", "delete-object", "--bucket", BUCKET, "--key", key)
    st, h, body = srv.request("GET", "/v1/stream/trunc?offset=-1")
    check(st == 503 and json.loads(body)["code"] == "UNAVAILABLE", "a missing segment answers 503")
    put_object(key, original)
    got, _ = read_all(srv, "/v1/stream/trunc")
    check(bytes(got) == trunc, "the restored segment reads back")
    srv.stop()

    # kill -9 (here: _exit) right after a Put, and right after a commit.
    for point in ("put:2", "commit:2"):
        path = "crash-" + point.replace(":", "")
        srv = Server(data, "faults", FAULTS_ARGS + ["--fault-rotation", point])
        body = bytearray()
        inflight = b""  # the append the server died under: committed or not
        for i in range(300):
            m = ("%s-%d;" % (path, i)).encode()
            try:
                st = srv.request("POST", "/v1/stream/" + path, m, ctype)[0] if i else \
                    srv.request("PUT", "/v1/stream/" + path, b"", ctype)[0]
            except OSError:
                inflight = m
                break
            if st not in (201, 204):
                break
            if i:
                body += m
            time.sleep(0.002)
        rc = srv.proc.wait(timeout=30)
        check(rc == 86, "%s: the server stopped at the fault point (rc %s)" % (point, rc))
        srv = Server(data, "faults", FAULTS_ARGS)
        got, _ = read_all(srv, "/v1/stream/" + path)
        check(bytes(got) in (bytes(body), bytes(body) + inflight),
              "%s: every acknowledged append reads back after the restart" % point)
        body = bytearray(got)
        wait_for(lambda: hot_rows(db, path) < 50, "%s: rotation completed after the restart" % point)
        recorded = sorted("faults/" + k for k, _, _ in segments_of(db, path))
        stored = sorted(list_keys("faults/streams/%s/" % path))
        check(recorded == stored and recorded, "%s: no orphan or missing objects (%d recorded, %d stored)"
              % (point, len(recorded), len(stored)))
        got, _ = read_all(srv, "/v1/stream/" + path)
        check(bytes(got) == bytes(body), "%s: reads after the rotation completed" % point)
        srv.stop()

    # Delete and expiry remove the objects.
    srv = Server(data, "faults", FAULTS_ARGS)
    for p in ("down", "trunc", "crash-put2", "crash-commit2"):
        check(srv.request("DELETE", "/v1/stream/" + p)[0] == 204, "delete " + p)
    srv.request("PUT", "/v1/stream/ttl", b"", dict(ctype, **{"Stream-TTL": "2"}))
    for i in range(120):
        srv.request("POST", "/v1/stream/ttl", b"ttl-%d;" % i, ctype)
    wait_for(lambda: len(list_keys("faults/streams/ttl/")) >= 2, "segments of the TTL stream")
    wait_for(lambda: list_keys("faults/") == [], "every object of deleted and expired streams to go")
    srv.stop()


def main():
    with tempfile.TemporaryDirectory() as work:
        t0 = time.time()
        big_run(work)
        t1 = time.time()
        fault_runs(work)
        print("fault runs in %.1f s" % (time.time() - t1), flush=True)
        print("cold tier S3 test: %d failures in %.0f s" % (len(failures), time.time() - t0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
