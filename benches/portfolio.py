#!/usr/bin/env python3
"""Build benchmark: portaal against Hugo and zola on the same pages.

Two workloads:

    portfolio  N copies of the example portal (each its own id, four
               languages), built by one `portaal build` run (default);
    corpus     one portal with 4 languages x 250 pages x 1,500 words.

Each is also built as one Hugo site and one zola site with the same
languages and the same Markdown, with a minimal layout, and by portaal with
a minimal theme of the same shape ("portaal-minimal"), because the default
theme writes several times the bytes per page of those layouts.

    python3 benches/portfolio.py                       # portfolio, 200 portals
    python3 benches/portfolio.py --workload corpus
    ZOLA=/path/to/zola python3 benches/portfolio.py    # zola is not on crates.io

Method: the work happens on a RAM disk (/dev/shm) where there is one. Every
tool builds once untimed-for-the-table ("first build": portaal creates its
signing keys then), then the tools take turns (A B C A B C ...) for --runs
rounds, each rebuilding into its existing output. The table gives each
tool's median pages/s and peak RSS (GNU time), output bytes per page, and
the median of the per-round ratios portaal / peer. Not a test: figures
depend on the machine. Needs hugo (apt-get install hugo) and /usr/bin/time.
"""

import argparse
import datetime
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGS = ["nl", "fr", "de", "en"]
STANDARD = ["index", "privacy", "cookies", "access", "rectification", "erasure",
            "restriction", "portability", "objection", "withdraw-consent", "complaint", "thanks"]


def run_measured(cmd, cwd=None):
    """Runs cmd under GNU time; returns (wall seconds, peak RSS in MiB,
    stdout). The wall time is taken here, finer than GNU time's 10 ms."""
    start = time.perf_counter()
    out = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M"] + cmd,
        cwd=cwd, capture_output=True, text=True,
    )
    secs = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{out.stdout}\n{out.stderr}")
    line = [l for l in out.stderr.splitlines() if l.startswith("TIME ")][-1]
    _, _, kib = line.split()
    return secs, int(kib) / 1024, out.stdout


def html_stats(out_dir: Path):
    """(number of .html files, their total bytes) under out_dir."""
    files = list(out_dir.rglob("*.html"))
    return len(files), sum(f.stat().st_size for f in files)


# ---------------------------------------------------------------- content

def strip_front(text):
    return re.sub(r"(?s)\A\+\+\+\n.*?\n\+\+\+\n", "", text)


def example_pages():
    """{lang: {page: (title, body)}} of the example portal; pages without
    Markdown get a short body."""
    out = {}
    for lang in LANGS:
        out[lang] = {}
        for page in STANDARD:
            f = ROOT / "content" / lang / f"{page}.md"
            body = strip_front(f.read_text()) if f.exists() else "Standard text.\n"
            out[lang][page] = (page, body)
    return out


WORDS = ("gegevens verwerking doel bewaartermijn recht inzage verzoek klant bestelling "
         "levering factuur cookie analyse toestemming bezwaar wissing beperking "
         "overdraagbaarheid toezicht autoriteit verantwoordelijke verwerker ontvanger "
         "doorgifte beveiliging versleuteling logboek account nieuwsbrief klacht").split()


def corpus_body(rng, words, page, lang):
    """About `words` words of Markdown: headings, paragraphs, a list, a link."""
    parts, n = [], 0
    section = 0
    while n < words:
        if n % 300 == 0:
            section += 1
            parts.append(f"## Section {section} of page {page}\n")
        sentence = " ".join(rng.choice(WORDS) for _ in range(12))
        para = " ".join(sentence.capitalize() + "." for _ in range(5))
        parts.append(para + "\n")
        n += 60
        if n % 600 == 0:
            parts.append("- " + "\n- ".join(rng.choice(WORDS) for _ in range(4)) + "\n")
            parts.append(f"See the [privacy statement](/{lang}/privacy/).\n")
    return "\n".join(parts)


def corpus_pages(n_pages, words):
    """{lang: {slug: (title, body)}}: the example's standard pages plus
    n_pages own pages per language."""
    pages = example_pages()
    rng = random.Random(14)
    for lang in LANGS:
        for i in range(n_pages):
            slug = f"topic-{i:03}"
            pages[lang][slug] = (f"Topic {i}", corpus_body(rng, words, i, lang))
    return pages


# ---------------------------------------------------------------- portaal

MINIMAL_BASE = """<!DOCTYPE html><html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{% block title %}{{ page.title }}{% endblock title %}</title>
{%- for l in languages %}<link rel="alternate" hreflang="{{ l.code }}" href="{{ l.permalink }}">{% endfor %}</head>
<body><nav>{% for l in languages %}<a href="{{ l.url }}">{{ l.name }}</a>{% endfor %}</nav>
<main>{% block content %}<h1>{{ page.title }}</h1>{{ page.content | safe }}{% endblock content %}</main></body></html>
"""


def minimal_theme(site: Path):
    """A theme of the same shape as the Hugo and zola layouts."""
    templates = site / "themes" / "default" / "templates"
    templates.mkdir(parents=True)
    (templates / "base.html").write_text(MINIMAL_BASE)
    for name in ["index", "privacy", "cookies", "right", "thanks", "page", "404", "language-choice"]:
        (templates / f"{name}.html").write_text('{% extends "base.html" %}')


def make_portaal_sites(work: Path, variant: str, n_sites: int, pages):
    """n_sites portals, each with `pages` (own pages with a title)."""
    config = (ROOT / "portal.toml").read_text()
    sites = []
    for i in range(n_sites):
        site = work / variant / f"client-{i:03}"
        for lang in LANGS:
            d = site / "content" / lang
            d.mkdir(parents=True)
            for page, (title, body) in pages[lang].items():
                if page in STANDARD:
                    src = ROOT / "content" / lang / f"{page}.md"
                    if src.exists():
                        shutil.copy(src, d / f"{page}.md")
                else:
                    (d / f"{page}.md").write_text(f'+++\ntitle = "{title}"\n+++\n{body}')
        site_config = re.sub(r'(?m)^id = ".*"$', f'id = "client-{i:03}"', config, count=1)
        (site / "portal.toml").write_text(site_config)
        if variant == "portaal-minimal":
            minimal_theme(site)
        sites.append(site)
    return sites


# ---------------------------------------------------------------- Hugo

HUGO_BASE = (
    '<!DOCTYPE html><html lang="{{ .Language.Lang }}"><head><meta charset="utf-8">'
    "<title>{{ .Title }}</title>"
    '{{ range .Translations }}<link rel="alternate" hreflang="{{ .Language.Lang }}" href="{{ .Permalink }}">{{ end }}'
    "</head><body><nav>{{ range .Translations }}<a href=\"{{ .RelPermalink }}\">{{ .Language.LanguageName }}</a>{{ end }}</nav>"
    "<main><h1>{{ .Title }}</h1>{{ .Content }}</main></body></html>"
)


def make_hugo_site(work: Path, n_sites: int, pages):
    """One Hugo site, four languages, one section per portal."""
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
    for name in ["_default/single.html", "_default/list.html", "index.html"]:
        (site / "layouts" / name).write_text(HUGO_BASE)
    for lang in LANGS:
        for i in range(n_sites):
            sec = site / "content" / lang / f"client-{i:03}"
            sec.mkdir(parents=True)
            for page, (title, body) in pages[lang].items():
                name = "_index.md" if page == "index" else f"{page}.md"
                (sec / name).write_text(f'+++\ntitle = "{title}"\n+++\n{body}')
    return site


# ---------------------------------------------------------------- zola

ZOLA_BASE = (
    '<!DOCTYPE html><html lang="{{ lang }}"><head><meta charset="utf-8">'
    "<title>{{ P.title }}</title>"
    '{% for t in P.translations %}<link rel="alternate" hreflang="{{ t.lang }}" href="{{ t.permalink }}">{% endfor %}'
    '</head><body><nav>{% for t in P.translations %}<a href="{{ t.permalink }}">{{ t.lang }}</a>{% endfor %}</nav>'
    "<main><h1>{{ P.title }}</h1>{{ P.content | safe }}</main></body></html>"
)


def make_zola_site(work: Path, n_sites: int, pages):
    """One zola site, four languages (zola names translations
    `page.LANG.md`), one section per portal, the same layout as Hugo's."""
    site = work / "zola"
    (site / "templates").mkdir(parents=True)
    other = "\n".join(f"[languages.{l}]\n" for l in LANGS[1:])
    (site / "config.toml").write_text(
        'base_url = "https://privacy.example.be"\n'
        'default_language = "nl"\n'
        "compile_sass = false\nbuild_search_index = false\n"
        f"{other}\n"
    )
    for name, var in [("page.html", "page"), ("section.html", "section"), ("index.html", "section")]:
        (site / "templates" / name).write_text(
            "{% set P = " + var + " %}" + ZOLA_BASE
        )
    (site / "content").mkdir()
    for i in range(n_sites):
        sec = site / "content" / f"client-{i:03}"
        sec.mkdir()
        for lang in LANGS:
            suffix = "" if lang == LANGS[0] else f".{lang}"
            for page, (title, body) in pages[lang].items():
                name = f"_index{suffix}.md" if page == "index" else f"{page}{suffix}.md"
                (sec / name).write_text(f'+++\ntitle = "{title}"\n+++\n{body}')
    return site


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=["portfolio", "corpus"], default="portfolio")
    ap.add_argument("--portals", type=int, default=200, help="portfolio: number of portals")
    ap.add_argument("--pages", type=int, default=250, help="corpus: own pages per language")
    ap.add_argument("--words", type=int, default=1500, help="corpus: words per own page")
    ap.add_argument("--runs", type=int, default=7, help="timed rounds, tools interleaved")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()

    command = "python3 benches/portfolio.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    portaal = ROOT / "target" / "release" / "portaal"
    hugo = shutil.which("hugo")
    zola = os.environ.get("ZOLA")
    if zola and not Path(zola).is_file():
        sys.exit(f"ZOLA={zola} is not a file")
    ram = Path("/dev/shm")
    base = ram if ram.is_dir() and os.access(ram, os.W_OK) else None
    work = Path(tempfile.mkdtemp(prefix="portaal-bench-", dir=base))
    try:
        if args.workload == "portfolio":
            n_sites, pages = args.portals, example_pages()
            shape = f"{args.portals} portals x {len(LANGS)} languages"
        else:
            n_sites, pages = 1, corpus_pages(args.pages, args.words)
            shape = f"1 portal, {len(LANGS)} languages x {args.pages} pages x ~{args.words} words"

        tools = {}
        for variant in ["portaal", "portaal-minimal"]:
            sites = make_portaal_sites(work, variant, n_sites, pages)
            out = work / f"{variant}-out"
            cmd = [str(portaal), "build", "--out", str(out)] + [str(s) for s in sites]
            tools[variant] = (cmd, None, out)
        if hugo:
            site = make_hugo_site(work, n_sites, pages)
            out = work / "hugo-out"
            tools["hugo"] = ([hugo, "--quiet", "-d", str(out)], site, out)
        else:
            print("hugo: not found, skipped (apt-get install hugo)")
        if zola:
            site = make_zola_site(work, n_sites, pages)
            out = work / "zola-out"
            tools["zola"] = ([zola, "build", "--force", "-o", str(out)], site, out)
        else:
            print("zola: skipped, $ZOLA is not set (zola is not on crates.io: build it from "
                  "https://github.com/getzola/zola and set ZOLA=/path/to/zola)")

        def pages_of(name, stdout, out):
            if name.startswith("portaal"):
                return sum(int(m) for m in re.findall(r": (\d+) pages?", stdout))
            return html_stats(out)[0]

        first = {}
        for name, (cmd, cwd, out) in tools.items():
            secs, rss, stdout = run_measured(cmd, cwd)
            first[name] = (pages_of(name, stdout, out), secs, rss)
        rates = {name: [] for name in tools}
        rss_of = {name: [] for name in tools}
        for _ in range(args.runs):
            for name, (cmd, cwd, out) in tools.items():
                secs, rss, stdout = run_measured(cmd, cwd)
                rates[name].append(pages_of(name, stdout, out) / secs)
                rss_of[name].append(rss)

        print(f"$ {command}")
        print(f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
              f"{os.cpu_count()} cores, work on {'RAM disk ' + str(base) if base else 'disk ' + str(work)}")
        print(f"workload: {args.workload}, {shape}; {args.runs} interleaved rounds")
        print()
        print("| tool | pages | first build | pages/s (median) | peak RSS (median) | HTML bytes/page |")
        print("|---|---|---|---|---|---|")
        for name, (cmd, cwd, out) in tools.items():
            n, total = html_stats(out)
            print(f"| {name} | {first[name][0]} | {first[name][1]:.2f} s, {first[name][2]:.0f} MiB "
                  f"| {statistics.median(rates[name]):,.0f} | {statistics.median(rss_of[name]):.0f} MiB "
                  f"| {total / max(n, 1):,.0f} |")
        print()
        for mine in ["portaal", "portaal-minimal"]:
            for peer in [p for p in ["hugo", "zola"] if p in tools]:
                ratios = [a / b for a, b in zip(rates[mine], rates[peer])]
                print(f"{mine} / {peer}: median of per-round pages/s ratios {statistics.median(ratios):.2f}x "
                      f"(min {min(ratios):.2f}, max {max(ratios):.2f}); peak RSS "
                      f"{statistics.median(rss_of[mine]) / statistics.median(rss_of[peer]):.2f}x")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
