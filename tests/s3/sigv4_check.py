#!/usr/bin/python3
"""tests/s3/sigv4_check.py SIGV4_TOOL

Compares our AWS Signature V4 (lib/storage/sigv4.cc, through sigv4_tool) with
botocore's, an independent implementation (Debian's python3-botocore), on a
table of S3 requests: object keys with every kind of byte, queries that need
encoding and sorting, session tokens, regions including R2's "auto". Prints
"sigv4: N requests, M mismatches" and exits non-zero on any mismatch.
"""
import hashlib
import subprocess
import sys
import urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

EMPTY = hashlib.sha256(b"").hexdigest()

KEYS = [
    "streams/a/1/00000000000000000000.dsseg",
    "streams/%2Fv1%2Fstream%2Fchat/42/00000000000000001024.dsseg",
    "prefix with spaces/and+plus/x=y&z",
    "unicode/\u00e9\u00e8\u4e2d\u6587/\U0001f600",
    "tilde~dash-under_dot.ok/*star'quote(paren)!bang",
    "a//double/slash/",
    "percent%25literal%/%%",
    "ctrl\x01\x7f/colon:semicolon;comma,at@hash#q?",
]
QUERIES = [
    [],
    [("list-type", "2"), ("prefix", "streams/a b/1/")],
    [("prefix", "x/\u00e9+&=?"), ("list-type", "2"), ("continuation-token", "1/ab+cd==")],
    [("b", "2"), ("a", "1"), ("a2", ""), ("A", "upper")],
]
CREDS = [
    ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, "us-east-1"),
    ("AKIDR2", "r2secret", None, "auto"),
    ("ASIATEMP", "temp/secret+key", "FwoGZXIvYXdzEJr//////////token==", "eu-central-1"),
]


def hexs(s):
    return s.encode("utf-8", "surrogatepass").hex()


def pairs(items):
    return "\x1e".join(k + "\x1f" + v for k, v in items)


def main():
    tool = sys.argv[1]
    cases = []
    n = 0
    for method in ["GET", "PUT", "DELETE"]:
        for key in KEYS:
            for query in QUERIES:
                akid, secret, token, region = CREDS[n % len(CREDS)]
                n += 1
                body = ("payload %d \u2603" % n).encode() if method == "PUT" else b""
                payload = hashlib.sha256(body).hexdigest() if body else EMPTY
                amz_date = "2026%02d%02dT%02d%02d%02dZ" % (1 + n % 12, 1 + n % 28, n % 24, n % 60, (7 * n) % 60)
                host = "127.0.0.1:%d" % (4000 + n) if n % 2 else "acct.r2.cloudflarestorage.com"
                path = "bucket-%d/%s" % (n % 3, key)
                headers = [("host", host), ("x-amz-content-sha256", payload), ("x-amz-date", amz_date)]
                if token:
                    headers.append(("x-amz-security-token", token))
                if n % 5 == 0:
                    headers.append(("x-amz-meta-note", "  spaced   value  "))
                cases.append((method, path, query, headers, payload, amz_date, region, akid, secret, token))

    lines = []
    for c in cases:
        method, path, query, headers, payload, amz_date, region, akid, secret, _ = c
        fields = [method, path, pairs(query), pairs(headers), payload, amz_date, region, akid, secret]
        lines.append("\t".join(hexs(f) for f in fields))
    out = subprocess.run([tool], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True).stdout
    ours = out.splitlines()

    mismatches = 0
    for c, mine in zip(cases, ours):
        method, path, query, headers, payload, amz_date, region, akid, secret, token = c
        uri = "/" + urllib.parse.quote(path, safe="/-_.~")
        host = dict(headers)["host"]
        req = AWSRequest(method=method, url="http://" + host + uri, params=dict(query),
                         headers={k: v for k, v in headers if k != "host"})
        req.context["timestamp"] = amz_date
        auth = S3SigV4Auth(Credentials(akid, secret, token), "s3", region)
        canonical = auth.canonical_request(req)
        string_to_sign = auth.string_to_sign(req, canonical)
        signature = auth.signature(string_to_sign, req)
        signed = auth.signed_headers(auth.headers_to_sign(req))
        scope = "/".join([amz_date[:8], region, "s3", "aws4_request"])
        expected = "%s\tAWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            uri, akid, scope, signed, signature)
        if mine != expected:
            mismatches += 1
            print("MISMATCH for %s %r %r\n  ours:     %s\n  botocore: %s" % (method, path, query, mine, expected))
    if len(ours) != len(cases):
        mismatches += 1
        print("the tool answered %d of %d requests" % (len(ours), len(cases)))
    print("sigv4: %d requests, %d mismatches (botocore %s)" % (len(cases), mismatches,
                                                             __import__("botocore").__version__))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
