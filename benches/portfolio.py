#!/usr/bin/env python3
"""Build benchmark: a portfolio of client portals, built by portaal and by Hugo.

Generates N copies of the example portal (each with its own id, all four
languages), builds them in one `portaal build` run, and builds a Hugo site
with the same number of pages, the same Markdown and the same languages.
Reports pages per second and peak memory (max RSS) for both.

    python3 benches/portfolio.py            # 200 portals, release build
    python3 benches/portfolio.py --portals 20

Needs `hugo` (apt-get install hugo) and GNU time (/usr/bin/time).
Not a test: figures depend on the machine. Record them in README.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGS = ["nl", "fr", "de", "en"]


def run_measured(cmd, cwd=None):
    """Runs cmd under GNU time; returns (seconds, peak RSS in MiB)."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M"] + cmd,
        cwd=cwd, capture_output=True, text=True,
    )
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    line = [l for l in out.stderr.splitlines() if l.startswith("TIME ")][-1]
    _, secs, kib = line.split()
    return float(secs), int(kib) / 1024, out.stdout


def make_portfolio(work: Path, n: int):
    """N copies of the example portal, each with its own site id."""
    sites = []
    config = (ROOT / "portal.toml").read_text()
    for i in range(n):
        site = work / "portaal" / f"client-{i:03}"
        shutil.copytree(ROOT / "content", site / "content")
        site_config = re.sub(r'(?m)^id = ".*"$', f'id = "client-{i:03}"', config, count=1)
        (site / "portal.toml").write_text(site_config)
        sites.append(site)
    return sites


def make_hugo_site(work: Path, n: int, pages_per_lang):
    """One Hugo site, four languages, one section per client, with the same
    Markdown files (front matter converted, body unchanged) and, for pages
    the example has no Markdown for, a short placeholder body."""
    site = work / "hugo"
    (site / "layouts" / "_default").mkdir(parents=True)
    langs = "\n".join(
        f'[languages.{l}]\nweight = {i + 1}\ncontentDir = "content/{l}"' for i, l in enumerate(LANGS)
    )
    (site / "config.toml").write_text(
        'baseURL = "https://privacy.example.be/"\n'
        'defaultContentLanguage = "nl"\n'
        'defaultContentLanguageInSubdir = true\n'
        'disableKinds = ["taxonomy", "term", "RSS"]\n'
        f"{langs}\n"
    )
    base = (
        '<!DOCTYPE html><html lang="{{ .Language.Lang }}"><head><meta charset="utf-8">'
        "<title>{{ .Title }}</title>"
        '{{ range .Translations }}<link rel="alternate" hreflang="{{ .Language.Lang }}" href="{{ .Permalink }}">{{ end }}'
        "</head><body><nav>{{ range .Translations }}<a href=\"{{ .RelPermalink }}\">{{ .Language.LanguageName }}</a>{{ end }}</nav>"
        "<main><h1>{{ .Title }}</h1>{{ .Content }}</main></body></html>"
    )
    (site / "layouts" / "_default" / "single.html").write_text(base)
    (site / "layouts" / "_default" / "list.html").write_text(base)
    (site / "layouts" / "index.html").write_text(base)
    for lang in LANGS:
        for i in range(n):
            sec = site / "content" / lang / f"client-{i:03}"
            sec.mkdir(parents=True)
            for page, body in pages_per_lang[lang].items():
                name = "_index.md" if page == "index" else f"{page}.md"
                (sec / name).write_text(f'+++\ntitle = "{page}"\n+++\n{body}')
    return site


def example_markdown():
    """The example's Markdown bodies per language and page."""
    pages = ["index", "privacy", "cookies", "access", "rectification", "erasure",
             "restriction", "portability", "objection", "withdraw-consent", "complaint", "thanks"]
    out = {}
    for lang in LANGS:
        out[lang] = {}
        for page in pages:
            f = ROOT / "content" / lang / f"{page}.md"
            body = f.read_text() if f.exists() else "Standard text.\n"
            body = re.sub(r"(?s)\A\+\+\+\n.*?\n\+\+\+\n", "", body)
            out[lang][page] = body
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--portals", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    portaal = ROOT / "target" / "release" / "portaal"
    work = Path(tempfile.mkdtemp(prefix="portaal-bench-"))
    try:
        sites = make_portfolio(work, args.portals)
        out_dir = work / "out"
        secs, rss, stdout = run_measured([str(portaal), "build", "--out", str(out_dir)] + [str(s) for s in sites])
        pages = sum(int(m) for m in re.findall(r": (\d+) pages", stdout))
        p_rate = pages / secs

        hugo_site = make_hugo_site(work, args.portals, example_markdown())
        h_secs, h_rss, _ = run_measured(["hugo", "--quiet", "-d", str(work / "hugo-out")], cwd=hugo_site)
        h_pages = sum(1 for p in (work / "hugo-out").rglob("*.html"))
        h_rate = h_pages / h_secs

        print(f"portals: {args.portals} x {len(LANGS)} languages, {os.cpu_count()} cores")
        print(f"portaal: {pages} pages in {secs:.2f} s = {p_rate:,.0f} pages/s, peak RSS {rss:.0f} MiB")
        print(f"hugo:    {h_pages} pages in {h_secs:.2f} s = {h_rate:,.0f} pages/s, peak RSS {h_rss:.0f} MiB")
        print(f"ratio:   portaal {p_rate / h_rate:.1f}x Hugo's pages/s, {rss / h_rss:.2f}x its peak memory")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
