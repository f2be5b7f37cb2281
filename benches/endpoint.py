#!/usr/bin/env python3
"""Endpoint benchmark: signed form posts per second accepted durably.

Builds a copy of the endpoint test portal, takes one signed request form
from the built access page, starts `portaal endpoint` (release build) and
drives it with `wrk` from another process on loopback. Each accepted post
is a ticket written, flushed and renamed into the spool before its 303.
By default mail is pointed at a closed port, so the mail worker only
retries and the figure is that of acceptance alone; `--deliver outbox` lets
the mail worker write every ticket out and empty the spool meanwhile. Reports requests/s, p50/p99 latency,
the tickets on disk and the endpoint's memory before and after.

    python3 benches/endpoint.py                 # 30 s, 64 connections, 32 workers
    python3 benches/endpoint.py --duration 10 --connections 16

Needs `wrk` (apt-get install -y wrk). Not a test: figures depend on the
machine. Record them in README.md ("Benchmarks").
"""

import argparse
import html.parser
import os
import shutil
import socket
import subprocess
import sys
import tempfile
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--duration", type=int, default=30)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=32)
    p.add_argument(
        "--deliver",
        choices=["none", "outbox"],
        default="none",
        help="none: mail to a closed port (acceptance alone); "
        "outbox: the mail worker writes every ticket as .eml and empties the spool",
    )
    args = p.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = ROOT / "target/release/portaal"
    tmp = Path(tempfile.mkdtemp(prefix="portaal-bench-"))
    try:
        site = tmp / "site"
        shutil.copytree(ROOT / "tests/fixtures/endpoint-site", site)
        subprocess.run([str(exe), "build", str(site)], check=True, capture_output=True)
        page = (site / "public/en/access/index.html").read_text()
        parser = HiddenInputs()
        parser.feed(page)
        fields = parser.fields + [
            ("name", "Ann Peeters"),
            ("email", "ann@example.test"),
            ("details", "All my data, please."),
            ("acting_for", "self"),
            ("homepage", ""),
        ]
        body = urllib.parse.urlencode(fields)
        lua = tmp / "post.lua"
        lua.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {body!r}\n".replace("'", '"')
            + 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        )
        port = free_port()
        spool = tmp / "spool"
        endpoint = subprocess.Popen(
            [
                str(exe), "endpoint", str(site),
                "--port", str(port),
                "--spool", str(spool),
                *(
                    ["--smtp", f"smtp://127.0.0.1:{free_port()}"]
                    if args.deliver == "none"
                    else ["--outbox", str(tmp / "outbox")]
                ),
                "--client-rate", "100000000",
                "--site-rate", "100000000",
                "--workers", str(args.workers),
                "--max-connections", "1024",
                "--retry-base-ms", "600000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.time() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.time() > deadline:
                        sys.exit("endpoint did not start")
                    time.sleep(0.05)
            # One post first: a benchmark of refused posts measures nothing.
            probe = socket.create_connection(("127.0.0.1", port), timeout=10)
            probe.sendall(
                (
                    "POST /submit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n"
                ).encode()
                + body.encode()
            )
            status = probe.recv(64).decode(errors="replace").split("\r\n")[0]
            probe.close()
            if " 303 " not in status:
                sys.exit(f"the benchmark's post is refused ({status}): fix its fields")
            before = rss_mib(endpoint.pid)
            cmd = [
                "wrk", "--latency",
                "-t", str(args.threads), "-c", str(args.connections),
                "-d", f"{args.duration}s",
                "-s", str(lua), f"http://127.0.0.1:{port}/submit",
            ]
            print("$", " ".join(cmd))
            load = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            samples = []
            while load.poll() is None:
                time.sleep(1)
                samples.append(rss_mib(endpoint.pid))
            print(load.stdout.read())
            after = rss_mib(endpoint.pid)
            third = max(1, len(samples) // 3)
            print(
                "endpoint RSS during the run (MiB): "
                f"max of first third {max(samples[:third]):.1f}, "
                f"max of last third {max(samples[-third:]):.1f}"
            )
            tickets = len(list((spool / "new").iterdir()))
            print(f"tickets in the spool: {tickets}")
            if args.deliver == "outbox":
                print(f"mails in the outbox: {len(list((tmp / 'outbox').glob('*.eml')))}")
            print(f"endpoint RSS: {before:.1f} MiB before, {after:.1f} MiB after")
        finally:
            endpoint.kill()
            endpoint.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
