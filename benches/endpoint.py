#!/usr/bin/env python3
"""Endpoint benchmark: signed form posts accepted durably, against a no-op
HTTP handler on the same machine in the same run.

Builds a copy of the endpoint test portal, takes one signed request form
from the built access page, and starts two servers: `portaal endpoint`
(release build, spool in a temporary folder on disk, mail pointed at a
closed port so every ticket stays in the spool, or `--deliver outbox`) and `examples/noop_http.rs`
(tiny_http, answers every request `303` with `Connection: close`, stores
nothing). `examples/post_load.rs` drives them in turn, A B A B, with the
same post: each client opens a new connection per post, and each latency
runs from before `connect` to the answer's last byte. Reports per round
and the medians: posts/s, p50/p99 ms, and portaal's rate as a share of the
no-op's. Then a soak: portaal alone under the same load for `--soak`
seconds with SMTP down, its RSS sampled every second (flat means the end
within 10% of the start), and the tickets on disk after.

    python3 benches/endpoint.py                     # 4 pairs of 10 s, 64 clients, 60 s soak
    python3 benches/endpoint.py --rounds 2 --duration 5 --soak 0
    python3 benches/endpoint.py --deliver outbox    # the mail worker writing .eml meanwhile

Not a test: figures depend on the machine. Record them in README.md
("Benchmarks") with the command and the date.
"""

import argparse
import html.parser
import json
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zlib
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


def start_and_wait(cmd, port):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                sys.exit(f"{cmd[0]} did not start")
            time.sleep(0.05)


def load(loader, port, request, args, seconds):
    out = subprocess.run(
        [
            str(loader), f"127.0.0.1:{port}", str(request),
            str(args.connections), str(seconds), str(args.threads),
        ],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


def spooled(spool):
    """Tickets on disk: files in new/ and whole records in segments/ after
    the offset of the segment's .done file (how far delivery got)."""
    count = len([p for p in (spool / "new").iterdir() if ".ack." not in p.name])
    for seg in (spool / "segments").glob("*.seg"):
        data = seg.read_bytes()
        done = seg.with_suffix(".done")
        try:
            delivered_to = int(done.read_text().strip())
        except (OSError, ValueError):
            delivered_to = 0
        pos = waiting = 0
        while pos + 8 <= len(data):
            length, crc = struct.unpack_from("<II", data, pos)
            payload = data[pos + 8 : pos + 8 + length]
            if length == 0 or len(payload) < length or zlib.crc32(payload) != crc:
                break
            pos += 8 + length
            # Records up to the .done offset were handed on (a .done that
            # names no record boundary is distrusted, as by the endpoint).
            waiting = 0 if pos == delivered_to else waiting + 1
        count += waiting
    return count


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=4, help="pairs of runs, A B A B")
    p.add_argument("--duration", type=float, default=10, help="seconds per run")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2, help="load generator threads")
    p.add_argument("--workers", type=int, default=32)
    p.add_argument("--soak", type=float, default=60, help="seconds of the RSS run (0: none)")
    p.add_argument(
        "--deliver",
        choices=["none", "outbox"],
        default="none",
        help="none: mail to a closed port (tickets stay in the spool); "
        "outbox: the mail worker writes every ticket as .eml meanwhile",
    )
    p.add_argument("--spool-dir", default=None, help="where the spool goes (default: a temporary folder)")
    args = p.parse_args()

    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--bin", "portaal",
         "--example", "noop_http", "--example", "post_load"],
        cwd=ROOT, check=True,
    )
    exe = ROOT / "target/release/portaal"
    noop = ROOT / "target/release/examples/noop_http"
    loader = ROOT / "target/release/examples/post_load"
    tmp = Path(tempfile.mkdtemp(prefix="portaal-bench-", dir=args.spool_dir))
    procs = []
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
        body = urllib.parse.urlencode(fields).encode()
        request = tmp / "request.http"
        request.write_bytes(
            (
                "POST /submit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            + body
        )
        port = free_port()
        spool = tmp / "spool"
        endpoint = start_and_wait(
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
            ],
            port,
        )
        procs.append(endpoint)
        noop_port = free_port()
        procs.append(start_and_wait([str(noop), str(noop_port)], noop_port))

        # One post first: a benchmark of refused posts measures nothing.
        probe = load(loader, port, request, argparse.Namespace(connections=1, threads=1), 0.001)
        if probe["statuses"] != {"303": probe["requests"]} or probe["requests"] == 0:
            sys.exit(f"the benchmark's post is not answered 303 ({probe}): fix its fields")

        print(f"spool: {spool} ({subprocess.run(['df', '--output=fstype', str(tmp)], capture_output=True, text=True).stdout.split()[-1]})")
        print(f"load: {args.connections} clients, a new connection per post, {args.duration:g} s per run")
        print(f"{'round':>5} {'peer':>8} {'posts/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'statuses'}")
        runs = {"portaal": [], "no-op": []}
        ratios = []
        for r in range(1, args.rounds + 1):
            pair = {}
            for name, target in (("portaal", port), ("no-op", noop_port)):
                res = load(loader, target, request, args, args.duration)
                runs[name].append(res)
                pair[name] = res["rate"]
                print(
                    f"{r:>5} {name:>8} {res['rate']:>10.0f} {res['p50_ms']:>8.2f} "
                    f"{res['p99_ms']:>8.2f} {res['statuses']} errors={res['errors']}"
                )
            ratios.append(pair["portaal"] / pair["no-op"] if pair["no-op"] else 0)
        med = {
            name: {
                k: statistics.median(x[k] for x in rs)
                for k in ("rate", "p50_ms", "p99_ms")
            }
            for name, rs in runs.items()
        }
        for name, m in med.items():
            print(
                f"median {name:>8}: {m['rate']:.0f} posts/s, p50 {m['p50_ms']:.2f} ms, "
                f"p99 {m['p99_ms']:.2f} ms (connection setup included)"
            )
        print(
            f"portaal / no-op: {med['portaal']['rate'] / med['no-op']['rate']:.2f}x "
            f"(pair-wise: {', '.join(f'{x:.2f}' for x in ratios)}; goal >= 0.5x, p99 <= 25 ms)"
        )

        if args.soak > 0:
            procs[1].kill()
            start = rss_mib(endpoint.pid)
            soak = subprocess.Popen(
                [
                    str(loader), f"127.0.0.1:{port}", str(request),
                    str(args.connections), str(args.soak), str(args.threads),
                ],
                stdout=subprocess.PIPE, text=True,
            )
            samples = []
            while soak.poll() is None:
                time.sleep(1)
                samples.append(rss_mib(endpoint.pid))
            res = json.loads(soak.stdout.read())
            early = samples[min(4, len(samples) - 1)]
            end = samples[-1]
            print(
                f"soak, {'SMTP down' if args.deliver == 'none' else 'outbox'}, {args.soak:g} s: {res['rate']:.0f} posts/s, p99 {res['p99_ms']:.2f} ms; "
                f"RSS {start:.1f} MiB idle, {early:.1f} MiB at 5 s, {end:.1f} MiB at the end, "
                f"max {max(samples):.1f} MiB; end / 5 s = {end / early:.2f} (flat: within 0.90-1.10)"
            )
        endpoint.kill()
        endpoint.wait()
        print(f"tickets on disk after the run (new/ and segments): {spooled(spool)}")
        if args.deliver == "outbox":
            print(f"mails in the outbox: {len(list((tmp / 'outbox').glob('*.eml')))}")
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
