#!/usr/bin/env python3
"""TCP pass-through proxy that cuts the first N large downloads (a pulled cable, simulated).

    python3 ci/drop_proxy.py --listen 127.0.0.1:PORT --target 127.0.0.1:PORT2 \
        --drop-after BYTES --drops N [--how rst|fin] [--pidfile F] [--log F]

Every client connection to --listen is forwarded, byte for byte, to --target. It only moves
bytes, so it is transparent to TLS: the client still verifies the target's certificate.

For the first N connections whose server->client direction goes past BYTES bytes, the proxy
forwards exactly BYTES bytes server->client and then closes both sockets abruptly. Every other
connection (before, between and after those) is forwarded untouched. Notes:

  * the BYTES count is per TCP connection and includes everything the server sends on it: TLS
    handshake records, HTTP headers, and every response on a kept-alive connection;
  * --how rst (default): the proxy waits (at most 2 s) until the client's kernel has acknowledged
    the BYTES bytes, then resets both connections (SO_LINGER 0), so the client reads exactly
    BYTES bytes and then gets ECONNRESET;
    --how fin: a clean TCP close instead, so the client reads BYTES bytes and then EOF (for TLS, an
    EOF without close_notify, i.e. a truncated stream).

One line per dropped connection, "dropped connection K after BYTES bytes" (K counts accepted
connections from 1), goes to --log (appended; nothing else is written there) or else to stderr.
The pid goes to --pidfile once the listening socket is bound, so its existence means "ready".
SIGTERM or SIGINT stops it: the listener closes, open connections are shut, the pidfile is
removed, and it exits 0. Python 3.11 standard library only; Linux (TIOCOUTQ).
"""

import argparse
import fcntl
import os
import signal
import socket
import struct
import sys
import termios
import threading
import time

CHUNK = 64 * 1024


def host_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


class DropBudget:
    """Hands out the N drops, in the order connections reach BYTES; thread-safe."""

    def __init__(self, drops, log_path):
        self.left = drops
        self.lock = threading.Lock()
        self.log_path = log_path

    def take(self):
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True

    def log(self, line):
        with self.lock:
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
            else:
                print(line, file=sys.stderr, flush=True)


def unsent_bytes(sock):
    """Bytes in the socket's send queue not yet acknowledged by the peer (Linux SIOCOUTQ)."""
    buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


class Connection:
    def __init__(self, number, client, server, args, budget):
        self.number = number
        self.client = client
        self.server = server
        self.args = args
        self.budget = budget
        self.dropping = False  # once set, the pumps stop and nothing else is forwarded
        self.tracked = budget.left > 0  # past the N drops, connections are never cut

    def run(self):
        up = threading.Thread(target=self.pump_up, daemon=True)
        up.start()
        try:
            self.pump_down()
        finally:
            up.join(timeout=5)
            if up.is_alive():  # the client keeps its side open after the server's EOF: end it
                self.shut_all()  # (close() alone would not wake a recv() in another thread)
                up.join(timeout=1)
            for s in (self.client, self.server):
                try:
                    s.close()  # with SO_LINGER 0 set by drop(), this is the RST
                except OSError:
                    pass
            LIVE.discard(self)

    def pump_up(self):
        """client -> server, untouched."""
        try:
            while not self.dropping:
                data = self.client.recv(CHUNK)
                if not data or self.dropping:
                    break
                self.server.sendall(data)
            if not self.dropping:
                self.server.shutdown(socket.SHUT_WR)  # pass the client's half-close on
        except OSError:
            self.shut_all()

    def pump_down(self):
        """server -> client, counting bytes; cuts the connection at --drop-after if budgeted."""
        sent = 0
        limit = self.args.drop_after
        try:
            while True:
                data = self.server.recv(CHUNK)
                if not data:
                    self.client.shutdown(socket.SHUT_WR)
                    return
                if self.tracked and sent + len(data) > limit:
                    if self.budget.take():
                        self.client.sendall(data[: limit - sent])
                        self.drop(limit)
                        return
                    self.tracked = False  # budget gone meanwhile: forward untouched
                self.client.sendall(data)
                sent += len(data)
        except OSError:
            self.shut_all()

    def drop(self, count):
        self.dropping = True
        if self.args.how == "rst":
            # Let the client's kernel acknowledge what was forwarded: a reset discards unsent
            # data, and we promise the client exactly `count` bytes before the cut.
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and unsent_bytes(self.client) > 0:
                time.sleep(0.005)
            linger = struct.pack("ii", 1, 0)
            for s in (self.client, self.server):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                # SHUT_RD sends nothing but wakes pump_up out of recv(); close() then resets.
                try:
                    s.shutdown(socket.SHUT_RD)
                except OSError:
                    pass
        else:
            self.shut_all()
        self.budget.log(f"dropped connection {self.number} after {count} bytes")

    def shut_all(self):
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


LIVE = set()  # open connections, shut on SIGTERM


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", type=host_port, required=True, metavar="HOST:PORT")
    p.add_argument("--target", type=host_port, required=True, metavar="HOST:PORT")
    p.add_argument("--drop-after", type=int, required=True, metavar="BYTES")
    p.add_argument("--drops", type=int, required=True, metavar="N")
    p.add_argument("--how", choices=("rst", "fin"), default="rst")
    p.add_argument("--pidfile")
    p.add_argument("--log")
    args = p.parse_args()
    if args.drop_after < 0 or args.drops < 0:
        p.error("--drop-after and --drops must not be negative")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    listener = socket.create_server(args.listen, reuse_port=False)
    listener.settimeout(0.2)  # so that the loop sees `stop` promptly
    if args.pidfile:
        tmp = f"{args.pidfile}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(tmp, args.pidfile)  # atomic: a reader never sees an empty pidfile
    print(f"drop_proxy: {args.listen[0]}:{args.listen[1]} -> {args.target[0]}:{args.target[1]},"
          f" dropping {args.drops} connection(s) after {args.drop_after} bytes ({args.how})",
          file=sys.stderr, flush=True)

    budget = DropBudget(args.drops, args.log)
    number = 0
    try:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            client.settimeout(None)
            number += 1
            try:
                server = socket.create_connection(args.target, timeout=10)
                server.settimeout(None)
            except OSError as e:
                print(f"drop_proxy: connection {number}: target: {e}", file=sys.stderr, flush=True)
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(number, client, server, args, budget)
            LIVE.add(conn)
            threading.Thread(target=conn.run, daemon=True).start()
    finally:
        listener.close()
        for conn in list(LIVE):
            conn.shut_all()
        if args.pidfile:
            try:
                os.remove(args.pidfile)
            except FileNotFoundError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
