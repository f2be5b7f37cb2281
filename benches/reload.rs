//! Reload latency of `portaal serve`: the time from a file write to the
//! reload event reaching a subscribed client, over 50 edits of one page's
//! Markdown. After each event the page is fetched: a reload that shows an
//! older text than the last save is counted and reported. Not a test; run
//! with `cargo bench --bench reload`.
//!
//! Three runs, one after the other:
//! - `example`: a copy of the example portal (4 languages, standard pages),
//!   editing the statement's text;
//! - `large`: the example plus 4 languages x 250 own pages x ~1,500 words,
//!   the shape of `benches/portfolio.py --workload corpus` (1,050 pages),
//!   generated here, editing an own page's text;
//! - `large-title`: the same portal, editing an own page's title, which is
//!   in the menu of every page of its language.
//!
//! `cargo bench --bench reload -- large` runs one of them; `--keep` keeps
//! the generated portals and prints where they are (for a profiler).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[path = "../tests/testsuite/support/process.rs"]
#[allow(dead_code)]
mod process;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

const EDITS: usize = 50;
const LANGS: [&str; 4] = ["nl", "fr", "de", "en"];
/// The large portal's own pages per language, and words per page.
const OWN_PAGES: usize = 250;
const WORDS: usize = 1500;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; names select portals.
    let keep = args.iter().any(|a| a == "--keep");
    let named: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let all = ["example", "large", "large-title"];
    for name in &named {
        assert!(all.contains(name), "unknown portal {name:?}: {all:?}");
    }
    for name in all {
        if !named.is_empty() && !named.contains(&name) {
            continue;
        }
        let site = tempfile::Builder::new()
            .prefix(&format!("portaal-reload-{name}-"))
            .tempdir()
            .unwrap();
        let (pages, edited, url_path) = match name {
            "example" => (
                example(site.path()),
                "content/nl/privacy.md".to_string(),
                "/nl/privacy/".to_string(),
            ),
            _ => {
                let pages = large(site.path());
                (
                    pages,
                    "content/fr/topic-123.md".to_string(),
                    "/fr/topic-123/".to_string(),
                )
            }
        };
        let edit = match name {
            "large-title" => Edit::Title,
            _ => Edit::Body,
        };
        let result = measure(site.path(), &edited, &url_path, edit);
        println!(
            "{name} ({pages} Markdown pages): reload latency over {EDITS} edits of {edited} ({}): \
             median {:.1} ms, p95 {:.1} ms, min {:.1} ms, max {:.1} ms; \
             pages fetched right after the event that missed the edit: {} of {EDITS}",
            edit.name(),
            result.p50,
            result.p95,
            result.min,
            result.max,
            result.stale
        );
        if keep {
            let kept: PathBuf = site.keep();
            println!("kept {name} portal: {}", kept.display());
        }
    }
}

struct Latency {
    p50: f64,
    p95: f64,
    min: f64,
    max: f64,
    stale: usize,
}

/// What each edit changes.
#[derive(Clone, Copy)]
enum Edit {
    /// A line added at the end of the text.
    Body,
    /// The front matter's title.
    Title,
}

impl Edit {
    fn name(self) -> &'static str {
        match self {
            Edit::Body => "text",
            Edit::Title => "title",
        }
    }

    /// The file's text after edit `i`, and what the page then shows.
    fn apply(self, original: &str, i: usize) -> (String, String) {
        match self {
            Edit::Body => (format!("{original}\nEdit {i}.\n"), format!("Edit {i}.")),
            Edit::Title => {
                let title = format!("Edited title {i}");
                let start = original.find("title = \"").expect("a title") + "title = \"".len();
                let end = start + original[start..].find('"').unwrap();
                let text = format!("{}{title}{}", &original[..start], &original[end..]);
                (text, title)
            }
        }
    }
}

/// Serves `site`, edits `edited` [`EDITS`] times and times each reload.
fn measure(site: &Path, edited: &str, url_path: &str, edit: Edit) -> Latency {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portaal"));
    cmd.args(["serve", "--port", "0"])
        .current_dir(site)
        .stderr(Stdio::null());
    let serve = process::Running::start(cmd);
    let url = serve.url.clone();

    let res = ureq::get(&format!("{url}/_portaal/events")).call().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(res.into_body().into_reader())
            .lines()
            .map_while(Result::ok)
        {
            if line.starts_with("event: ") && tx.send(Instant::now()).is_err() {
                break;
            }
        }
    });

    let page = site.join(edited);
    let original = std::fs::read_to_string(&page).unwrap();
    let mut samples = Vec::with_capacity(EDITS);
    let mut stale = 0;
    for i in 0..EDITS {
        std::thread::sleep(Duration::from_millis(150));
        while rx.try_recv().is_ok() {}
        let (text, shown_text) = edit.apply(&original, i);
        let written = Instant::now();
        std::fs::write(&page, text).unwrap();
        let arrived = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("reload event");
        samples.push(arrived.duration_since(written));
        let shown = ureq::get(&format!("{url}{url_path}"))
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap();
        if !shown.contains(&shown_text) {
            stale += 1;
        }
    }
    drop(serve);

    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| ms(samples[((samples.len() as f64 - 1.0) * q).round() as usize]);
    Latency {
        p50: p(0.5),
        p95: p(0.95),
        min: ms(samples[0]),
        max: ms(*samples.last().unwrap()),
        stale,
    }
}

/// A copy of the example portal (its content and portal.toml); returns its
/// number of Markdown files.
fn example(site: &Path) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let n = copy_dir(&root.join("content"), &site.join("content"));
    std::fs::copy(root.join("portal.toml"), site.join("portal.toml")).unwrap();
    n
}

/// The example plus [`OWN_PAGES`] own pages of about [`WORDS`] words in
/// each language: headings, paragraphs, lists and a link per page, from a
/// fixed seed so that every run builds the same portal.
fn large(site: &Path) -> usize {
    let mut n = example(site);
    let mut rng = Rng(14);
    for lang in LANGS {
        let dir = site.join("content").join(lang);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..OWN_PAGES {
            let body = corpus_body(&mut rng, i, lang);
            let text = format!("+++\ntitle = \"Topic {i}\"\n+++\n{body}");
            std::fs::write(dir.join(format!("topic-{i:03}.md")), text).unwrap();
            n += 1;
        }
    }
    n
}

const VOCABULARY: &str = "gegevens verwerking doel bewaartermijn recht inzage verzoek klant \
    bestelling levering factuur cookie analyse toestemming bezwaar wissing beperking \
    overdraagbaarheid toezicht autoriteit verantwoordelijke verwerker ontvanger doorgifte \
    beveiliging versleuteling logboek account nieuwsbrief klacht";

/// About [`WORDS`] words of Markdown, as `benches/portfolio.py` writes them.
fn corpus_body(rng: &mut Rng, page: usize, lang: &str) -> String {
    let words: Vec<&str> = VOCABULARY.split_whitespace().collect();
    let word = |rng: &mut Rng| words[rng.below(words.len())];
    let (mut parts, mut n, mut section) = (Vec::new(), 0, 0);
    while n < WORDS {
        if n % 300 == 0 {
            section += 1;
            parts.push(format!("## Section {section} of page {page}\n"));
        }
        let mut para = Vec::new();
        for _ in 0..5 {
            let sentence: Vec<&str> = (0..12).map(|_| word(rng)).collect();
            let sentence = sentence.join(" ");
            let mut chars = sentence.chars();
            let first = chars.next().unwrap().to_uppercase().collect::<String>();
            para.push(format!("{first}{}.", chars.as_str()));
        }
        parts.push(para.join(" ") + "\n");
        n += 60;
        if n % 600 == 0 {
            let items: Vec<&str> = (0..4).map(|_| word(rng)).collect();
            parts.push(format!("- {}\n", items.join("\n- ")));
            parts.push(format!("See the [privacy statement](/{lang}/privacy/).\n"));
        }
    }
    parts.join("\n")
}

/// A small fixed-seed generator (xorshift64*): the text only has to vary.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// Copies a folder tree; returns the number of files copied.
fn copy_dir(from: &Path, to: &Path) -> usize {
    let mut n = 0;
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            n += 1;
        }
    }
    n
}
