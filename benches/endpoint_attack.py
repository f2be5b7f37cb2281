#!/usr/bin/env python3
"""The endpoint under attack, alone on loopback: the figures README states.

1. Stalled connections: 500 connections stalled in their request head or
   body (half each), with the default --max-connections (256, so the
   oldest waiting ones make room) and with --max-connections 1024 (all 500
   stay open until their deadline). Meanwhile legitimate posts must get
   303 within 2 s and /healthz 200; every stalled connection must be closed
   within 3 x --io-timeout.
2. Huge declared bodies: 10,000 requests declaring 1 GB bodies, from 64
   clients at once, once with most of them over the client rate (429, the
   rest 413) and once all 413.
   Descriptors and threads must return to their baseline, RSS stay under
   64 MiB, and the endpoint keep accepting.

    python3 benches/endpoint_attack.py                  # --io-timeout 2
    python3 benches/endpoint_attack.py --io-timeout 10  # the default

Builds the release binary. Exits non-zero if a figure misses its target.
"""

import argparse
import html.parser
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class HiddenInputs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden":
            self.fields.append((a["name"], a.get("value", "")))


def proc_status(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    raise KeyError(key)


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Endpoint:
    def __init__(self, exe, site, tmp, args):
        self.tmp = Path(tempfile.mkdtemp(dir=tmp))
        self.proc = subprocess.Popen(
            [str(exe), "endpoint", str(site), "--port", "0",
             "--spool", str(self.tmp / "spool"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = self.proc.stdout.readline()
        host, port = line.split("http://")[1].split()[0].rsplit(":", 1)
        self.addr = (host, int(port))
        self.pid = self.proc.pid

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def request(addr, raw, timeout=20):
    """Sends raw bytes, returns (status, seconds)."""
    start = time.monotonic()
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, time.monotonic() - start


def post_raw(body):
    return (
        "POST /submit HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"


def stalled_connections(ep, legit, io_timeout, max_connections):
    n = 500
    request(ep.addr, HEALTHZ)
    time.sleep(0.3)
    base_fds = fds(ep.pid)
    conns = []
    for i in range(n):
        s = socket.create_connection(ep.addr)
        if i % 2 == 0:
            s.sendall(b"POST /submit HTTP/1.1\r\nHost: bench\r\nContent-Ty")
        else:
            s.sendall(
                b"POST /submit HTTP/1.1\r\nHost: bench\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 5000\r\n\r\n_site=acme&_form=access&"
            )
        s.setblocking(False)
        conns.append((time.monotonic(), s))
    last_opened = time.monotonic()
    limit = 3 * io_timeout + 2
    closed = {}
    server_done = [None]
    peak_fds = [0]

    def monitor():
        """When the server closed each stalled connection (the client saw its
        FIN), and when the server's descriptors were back to the baseline."""
        open_ = {s.fileno(): (t, s) for t, s in conns}
        while time.monotonic() - last_opened < limit:
            now_fds = fds(ep.pid)
            peak_fds[0] = max(peak_fds[0], now_fds)
            if not open_ and server_done[0] is None and now_fds <= base_fds:
                server_done[0] = time.monotonic() - last_opened
                return
            if not open_:
                time.sleep(0.02)
                continue
            ready, _, _ = select.select(list(open_), [], [], 0.02)
            for fd in ready:
                t, s = open_[fd]
                try:
                    data = s.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                if not data:
                    closed[fd] = time.monotonic() - t
                    del open_[fd]

    watcher = threading.Thread(target=monitor)
    watcher.start()
    # Legitimate posts and health checks while the 500 wait.
    latencies, statuses, health = [], [], []
    for _ in range(10):
        status, took = request(ep.addr, post_raw(legit))
        statuses.append(status)
        latencies.append(took)
        health.append(request(ep.addr, HEALTHZ)[0])
        time.sleep(0.1)
    watcher.join()
    for _, s in conns:
        s.close()
    times = sorted(closed.values())
    done = server_done[0]
    ok = (
        all(st == 303 for st in statuses)
        and max(latencies) < 2
        and all(h == 200 for h in health)
        and len(times) == n
        and times[-1] <= 3 * io_timeout
        and done is not None
        and done <= 3 * io_timeout
    )
    early = sum(1 for x in times if x < io_timeout * 0.9)
    print(
        f"  --max-connections {max_connections}: legitimate posts "
        f"{statuses.count(303)}/{len(statuses)} got 303, slowest {max(latencies) * 1000:.0f} ms; "
        f"/healthz {health.count(200)}/{len(health)} 200; stalled connections closed "
        f"{len(times)}/{n} ({early} at once to make room), the last "
        f"{times[-1] if times else float('nan'):.1f} s after it was opened; endpoint descriptors "
        f"{base_fds} -> peak {peak_fds[0]} -> {base_fds} "
        f"{'%.1f s' % done if done is not None else 'never'} after the last was opened "
        f"(limit {3 * io_timeout} s) -> {'OK' if ok else 'FAIL'}"
    )
    return ok


def huge_bodies(ep, total=10_000, clients=64):
    raw = (
        b"POST /submit HTTP/1.1\r\nHost: bench\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 1000000000\r\n\r\n" + b"a" * 1024
    )
    request(ep.addr, HEALTHZ)
    time.sleep(0.5)
    base_fds, base_threads = fds(ep.pid), proc_status(ep.pid, "Threads:")
    base_rss = proc_status(ep.pid, "VmRSS:") / 1024
    counts, lock = {}, threading.Lock()
    left = [total]
    peak = [base_rss]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], proc_status(ep.pid, "VmRSS:") / 1024)
            time.sleep(0.02)

    def client():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            try:
                status, _ = request(ep.addr, raw)
            except OSError:
                status = "error"
            with lock:
                counts[status] = counts.get(status, 0) + 1

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(clients)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    took = time.monotonic() - start
    done.set()
    sampler.join()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if fds(ep.pid) <= base_fds and proc_status(ep.pid, "Threads:") <= base_threads:
            break
        time.sleep(0.1)
    settled = time.monotonic() - (deadline - 15)
    end_fds, end_threads = fds(ep.pid), proc_status(ep.pid, "Threads:")
    alive = ep.proc.poll() is None
    health = request(ep.addr, HEALTHZ)[0] if alive else 0
    ok = (
        end_fds <= base_fds and end_threads <= base_threads and peak[0] < 64
        and alive and health == 200 and set(counts) <= {413, 429}
    )
    print(
        f"    {total} requests in {took:.1f} s: {dict(sorted(counts.items(), key=str))}; "
        f"fds {base_fds} -> {end_fds}, threads {base_threads} -> {end_threads} "
        f"({settled:.1f} s after the last answer); RSS {base_rss:.1f} MiB before, "
        f"peak {peak[0]:.1f} MiB; still accepting: /healthz {health} -> {'OK' if ok else 'FAIL'}"
    )
    return ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--io-timeout", type=int, default=2)
    p.add_argument("--exe", help="a portaal binary to measure instead of building this one")
    args = p.parse_args()
    if args.exe:
        exe = Path(args.exe).resolve()
    else:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        exe = ROOT / "target/release/portaal"
    tmp = Path(tempfile.mkdtemp(prefix="portaal-attack-"))
    ok = True
    try:
        site = tmp / "site"
        shutil.copytree(ROOT / "tests/fixtures/endpoint-site", site)
        subprocess.run([str(exe), "build", str(site)], check=True, capture_output=True)
        parser = HiddenInputs()
        parser.feed((site / "public/en/access/index.html").read_text())
        legit = urllib.parse.urlencode(parser.fields + [
            ("name", "Ann Peeters"), ("email", "ann@example.test"),
            ("details", "All my data, please."), ("acting_for", "self"), ("homepage", ""),
        ])
        io = str(args.io_timeout)
        print(f"500 stalled connections (--io-timeout {io}, half in the head, half in the body):")
        for limit in (256, 1024):
            ep = Endpoint(exe, site, tmp, [
                "--io-timeout", io, "--client-rate", "1000000",
                "--max-connections", str(limit),
            ])
            try:
                ok &= stalled_connections(ep, legit, args.io_timeout, limit)
            finally:
                ep.stop()
        print("10,000 requests declaring 1 GB bodies, from 64 clients at once:")
        for rate, what in (("100", "the first 100 or so get 413, the rest 429"),
                           ("1000000", "all get 413")):
            print(f"  --client-rate {rate} ({what}):")
            ep = Endpoint(exe, site, tmp, ["--io-timeout", io, "--client-rate", rate])
            try:
                ok &= huge_bodies(ep)
            finally:
                ep.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
