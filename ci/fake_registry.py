#!/usr/bin/env python3
"""A hostile OCI registry for the importer's `pull` (stdlib only; TLS with the test CA's cert).

It serves ONE real kit (its manifest bytes and its layer file, taken from the real registry run
of .ci/parts/registry.sh) and misbehaves according to the repository name in the request path,
so each behaviour is one `oci://127.0.0.1:PORT/<mode>@<digest>` reference:

  honest        answers correctly (a control: the pull must succeed)
  hugetoken     the token service answers with an endless body (no Content-Length)
  hugemanifest  the manifest GET answers with an endless body (no Content-Length)
  hugeerror     every blob GET fails with HTTP 500 and an endless body
  ignorerange   blob GETs ignore Range (200, whole blob) and the first two are cut mid-way
  short         the blob response says (and sends) 100 bytes less than the layer
  trickle       the blob arrives one small chunk per second

With --plain it serves plain HTTP (for `pull --plain-http`). Auth is distribution's token flow: /v2/ answers 401 with a Bearer challenge whose realm is this
server's /token. Usage: fake_registry.py --port P --cert C --key K --manifest M --layer L [--pidfile F]
"""
import argparse
import hashlib
import http.server
import os
import re
import signal
import ssl
import sys
import time

CHUNK = b"x" * 65536


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def endless(self, status, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            while True:
                self.wfile.write(CHUNK)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            return

    def body(self, status, data, ctype="application/octet-stream", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass

    def do_GET(self):
        srv = self.server
        path = self.path.split("?")[0]
        if path == "/v2/":
            scheme = "http" if srv.plain else "https"
            realm = f"{scheme}://127.0.0.1:{srv.server_port}/token"
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Bearer realm="{realm}",service="fake"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "/token":
            scope = re.search(r"scope=repository%3A([a-z]+)|scope=repository:([a-z]+)", self.path)
            mode = next((g for g in (scope.groups() if scope else ()) if g), "")
            if mode == "hugetoken":
                return self.endless(200)
            return self.body(200, b'{"token":"t0k3n"}', "application/json")
        m = re.match(r"^/v2/([a-z]+)/(manifests|blobs)/(.+)$", path)
        if not m:
            return self.body(404, b"")
        mode, kind, ref = m.groups()
        if self.headers.get("Authorization") != "Bearer t0k3n":
            return self.body(401, b"")
        if kind == "manifests":
            if mode == "hugemanifest":
                return self.endless(200, "application/vnd.oci.image.manifest.v1+json")
            return self.body(200, srv.manifest, "application/vnd.oci.image.manifest.v1+json",
                             [("Docker-Content-Digest", srv.manifest_digest)])
        layer = srv.layer
        if mode == "hugeerror":
            return self.endless(500)
        if mode == "short":
            return self.body(200, layer[:-100])
        start = 0
        rng = self.headers.get("Range")
        if rng and mode != "ignorerange":
            start = int(re.match(r"bytes=(\d+)-", rng).group(1))
        data = layer[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(data)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(layer) - 1}/{len(layer)}")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            if mode == "ignorerange" and srv.cuts < 2:
                srv.cuts += 1
                self.wfile.write(data[: len(data) // 3])
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            if mode == "trickle":
                for i in range(0, len(data), 256):
                    self.wfile.write(data[i:i + 256])
                    self.wfile.flush()
                    time.sleep(1)
                return
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--plain", action="store_true", help="plain HTTP, no TLS")
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--layer", required=True)
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.manifest = open(a.manifest, "rb").read()
    srv.manifest_digest = "sha256:" + hashlib.sha256(srv.manifest).hexdigest()
    srv.layer = open(a.layer, "rb").read()
    srv.cuts = 0
    srv.plain = a.plain
    if not a.plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: (srv.server_close(), sys.exit(0)))
    if a.pidfile:
        with open(a.pidfile + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(a.pidfile + ".tmp", a.pidfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
