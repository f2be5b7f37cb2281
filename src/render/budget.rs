//! A time budget for rendering one page, so that a runaway theme template
//! (nested loops of 10^8 iterations and more) fails the build instead of
//! hanging `build`, `check` and `serve`.
//!
//! tera 2 has no step counter, instruction hook or loop limit that a caller
//! can set (its only bound is `range()`'s 100,000 elements, and loops nest).
//! So the budget is enforced in three layers, from precise to blunt:
//!
//! 1. `range()` is replaced by a copy that first checks the page's deadline:
//!    nested `range` loops call it once per outer iteration, so they stop
//!    with the line and column of the call.
//! 2. The page is rendered into a writer that checks the deadline while
//!    output is written: a loop that writes stops, naming the page's template.
//! 3. A loop that neither writes nor calls `range()` cannot be interrupted
//!    from outside tera. Pages render on their own thread pool and the caller
//!    waits with a deadline: an overrunning page is reported, and its thread
//!    is abandoned, still running. `build` and `check` then exit, which ends
//!    it; `serve` keeps serving the last good build while that thread keeps
//!    one core busy until its loop ends or `serve` is restarted.

use std::cell::Cell;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;

/// The message of a render stopped by layer 1 or 2; recognised when the
/// error comes back out of tera.
pub const EXCEEDED: &str = "render budget exceeded";

thread_local! {
    /// The deadline of the page the current thread renders.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

fn past_deadline() -> bool {
    DEADLINE
        .with(|d| d.get())
        .is_some_and(|d| Instant::now() >= d)
}

/// One page to render: its output path, its template and its context.
pub struct Job {
    pub output: String,
    pub template: &'static str,
    pub context: tera::Context,
    /// The bytes the page will probably take, so that its buffer is not
    /// grown (copied) a dozen times while it is written.
    pub size_hint: usize,
    /// Values of the context made only as the page renders.
    pub late: Vec<(&'static str, Late)>,
}

/// A context value made only when its page renders: one that is large and
/// cheap to make (a page's menu) would otherwise be in memory for every
/// page at once, before the first renders.
pub type Late = Box<dyn FnOnce() -> tera::Value + Send>;

/// How rendering one page ended.
pub enum Outcome {
    Rendered(Vec<u8>),
    Failed(tera::Error),
    /// Stopped, or abandoned, after the budget ran out.
    OverBudget,
}

/// Registers the deadline-checking `range()` (layer 1).
pub fn install(tera: &mut tera::Tera) {
    tera.register_function("range", range);
}

/// tera's `range(start=0, end, step_by=1)`, with the same bound on its
/// length, checking the page's deadline first.
fn range(kwargs: tera::Kwargs, _: &tera::State) -> tera::TeraResult<Vec<i128>> {
    if past_deadline() {
        return Err(tera::Error::message(EXCEEDED));
    }
    const MAX_LEN: i128 = 100_000;
    let start = kwargs.get::<i128>("start")?.unwrap_or_default();
    let end = kwargs.must_get::<i128>("end")?;
    let step = kwargs.get::<i128>("step_by")?.unwrap_or(1);
    if step == 0 {
        return Err(tera::Error::message(
            "Function `range` was called with a `step_by` argument of 0",
        ));
    }
    if start > end && step > 0 {
        return Err(tera::Error::message(
            "Function `range` was called with a `start` argument greater than the `end` one",
        ));
    }
    let overflow =
        || tera::Error::message("Function `range` was called with arguments that overflow i128");
    let (span, step_abs) = if step > 0 {
        (end.checked_sub(start).ok_or_else(overflow)?, step)
    } else {
        (
            start.checked_sub(end).ok_or_else(overflow)?.max(0),
            step.checked_neg().ok_or_else(overflow)?,
        )
    };
    let len = span.checked_add(step_abs - 1).ok_or_else(overflow)? / step_abs;
    if len > MAX_LEN {
        return Err(tera::Error::message(format!(
            "Function `range` would produce {len} elements, which exceeds the limit of {MAX_LEN}"
        )));
    }
    Ok((0..len).map(|i| start + i * step).collect())
}

/// An output buffer that refuses writes once the deadline passed (layer 2).
struct BudgetWriter {
    out: Vec<u8>,
    deadline: Instant,
    writes: u32,
}

impl Write for BudgetWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes = self.writes.wrapping_add(1);
        // Reading the clock costs more than a small write; every 64th will do.
        if self.writes.is_multiple_of(64) && Instant::now() >= self.deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, EXCEEDED));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn render_one(tera: &tera::Tera, mut job: Job, budget: Duration) -> Outcome {
    for (key, make) in job.late.drain(..) {
        job.context.insert_value(key, make());
    }
    let deadline = Instant::now() + budget;
    DEADLINE.with(|d| d.set(Some(deadline)));
    let mut writer = BudgetWriter {
        out: Vec::with_capacity(job.size_hint),
        deadline,
        writes: 0,
    };
    let result = tera.render_to(job.template, &job.context, &mut writer);
    DEADLINE.with(|d| d.set(None));
    match result {
        Ok(()) => {
            writer.out.shrink_to_fit();
            Outcome::Rendered(writer.out)
        }
        Err(e) if is_exceeded(&e) => Outcome::OverBudget,
        Err(e) => Outcome::Failed(e),
    }
}

/// True for the error of a render stopped by the writer (layer 2). A stop in
/// `range()` (layer 1) comes back as a rendering error with its position,
/// and is reported as such.
fn is_exceeded(e: &tera::Error) -> bool {
    matches!(e.kind(), tera::ErrorKind::Io(io::ErrorKind::TimedOut))
}

/// What the render threads and the waiting caller share: when each page
/// started, how each ended, and how many are left. The caller sleeps until
/// the last page is done or a deadline passes, so a build of thousands of
/// pages wakes it once, not twice per page.
struct Progress {
    /// When each page started, in nanoseconds after `epoch` plus one; zero
    /// for a page not started yet.
    started: Vec<AtomicU64>,
    epoch: Instant,
    done: Mutex<Done>,
    all_done: Condvar,
}

struct Done {
    outcomes: Vec<Option<Outcome>>,
    left: usize,
    /// When a page last finished (at first, when rendering was asked for).
    last_finish: Instant,
}

impl Progress {
    fn start(&self, i: usize) {
        let nanos = self.epoch.elapsed().as_nanos().min(u64::MAX as u128 - 1) as u64;
        self.started[i].store(nanos + 1, Ordering::Release);
    }

    fn started_at(&self, i: usize) -> Option<Instant> {
        match self.started[i].load(Ordering::Acquire) {
            0 => None,
            n => Some(self.epoch + Duration::from_nanos(n - 1)),
        }
    }

    fn finish(&self, i: usize, outcome: Outcome) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        // An abandoned render may finish after its caller took the outcomes.
        if let Some(slot) = done.outcomes.get_mut(i) {
            *slot = Some(outcome);
            done.left -= 1;
            done.last_finish = Instant::now();
            if done.left == 0 {
                self.all_done.notify_all();
            }
        }
    }
}

/// The render threads of one site's build, shared by its menus and its
/// pages. Not one pool for a whole run: with 200 sites, two sites' pages
/// queued on the same threads while each site's own thread waited, which
/// measured slower; and not one per call: every new thread may take a
/// malloc arena of its own, which raised the peak memory by a quarter. A
/// pool with an abandoned render (layer 3) is dropped, its thread left
/// running until its loop ends, and the next call gets a new one.
#[derive(Default)]
pub struct Renderer {
    pool: Mutex<Option<rayon::ThreadPool>>,
}

impl Renderer {
    /// Renders every job in parallel, each within `budget`. The outcomes
    /// come back in the order of `jobs`; `None` for a page never started
    /// because an earlier one was abandoned.
    pub fn render_all(
        &self,
        tera: Arc<tera::Tera>,
        jobs: Vec<Job>,
        budget: Duration,
    ) -> Vec<Option<Outcome>> {
        let n = jobs.len();
        let progress = Arc::new(Progress {
            started: (0..n).map(|_| AtomicU64::new(0)).collect(),
            epoch: Instant::now(),
            done: Mutex::new(Done {
                outcomes: (0..n).map(|_| None).collect(),
                left: n,
                last_finish: Instant::now(),
            }),
            all_done: Condvar::new(),
        });
        let work = {
            let progress = Arc::clone(&progress);
            move || {
                jobs.into_par_iter().enumerate().for_each(|(i, job)| {
                    progress.start(i);
                    let outcome = render_one(&tera, job, budget);
                    progress.finish(i, outcome);
                })
            }
        };
        let kept = self.pool.lock().unwrap_or_else(|e| e.into_inner()).take();
        let pool = kept.or_else(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(rayon::current_num_threads())
                .thread_name(|i| format!("portaal-render-{i}"))
                .build()
                .ok()
        });
        match &pool {
            Some(pool) => pool.spawn(work),
            None => {
                if let Err(e) = std::thread::Builder::new()
                    .name("portaal-render".into())
                    .spawn(work)
                {
                    let message = format!("cannot start a thread to render pages: {e}");
                    return (0..n)
                        .map(|_| Some(Outcome::Failed(tera::Error::message(&message))))
                        .collect();
                }
            }
        }
        let abandoned = wait(&progress, n, budget);
        if !abandoned {
            *self.pool.lock().unwrap_or_else(|e| e.into_inner()) = pool;
        }
        let mut done = progress.done.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut done.outcomes)
    }
}

/// Waits until every page is done or one overran; true when pages were
/// abandoned (marked over budget).
fn wait(progress: &Progress, n: usize, budget: Duration) -> bool {
    // Layers 1 and 2 stop a render at its deadline; the watchdog gives them
    // time to do so before it gives up on the thread.
    let limit = budget * 2 + Duration::from_secs(1);
    let mut done = progress.done.lock().unwrap_or_else(|e| e.into_inner());
    while done.left > 0 {
        let now = Instant::now();
        let running = (0..n)
            .filter(|&i| done.outcomes[i].is_none())
            .filter_map(|i| progress.started_at(i));
        // Each running page has its own limit; when none runs, the pages
        // left must start within one limit of the last one finishing (or
        // else the render threads are held by something else).
        let next_limit = running
            .map(|s| s + limit)
            .min()
            .unwrap_or(done.last_finish + limit);
        if now >= next_limit {
            for i in 0..n {
                if done.outcomes[i].is_none()
                    && progress.started_at(i).is_some_and(|s| now >= s + limit)
                {
                    done.outcomes[i] = Some(Outcome::OverBudget);
                }
            }
            return true;
        }
        let wait = next_limit - now;
        done = progress
            .all_done
            .wait_timeout(done, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str, budget: Duration) -> Outcome {
        let mut tera = tera::Tera::new();
        install(&mut tera);
        tera.add_raw_template("t.html", source).unwrap();
        let job = Job {
            output: "t.html".into(),
            template: "t.html",
            context: tera::Context::new(),
            size_hint: 0,
            late: Vec::new(),
        };
        Renderer::default()
            .render_all(Arc::new(tera), vec![job], budget)
            .pop()
            .flatten()
            .expect("an outcome")
    }

    #[test]
    fn range_behaves_like_teras() {
        let Outcome::Rendered(out) = render(
            "{% for i in range(end=3) %}{{ i }}{% endfor %}|\
             {% for i in range(start=5, end=1, step_by=-2) %}{{ i }}{% endfor %}|\
             {% for i in range(start=1, end=8, step_by=3) %}{{ i }}{% endfor %}",
            Duration::from_secs(10),
        ) else {
            panic!("render failed")
        };
        assert_eq!(String::from_utf8(out).unwrap(), "012|53|147");
    }

    #[test]
    fn a_silent_loop_is_abandoned_after_its_budget() {
        let start = Instant::now();
        let outcome = render(
            "{% set r = range(end=100000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
            Duration::from_millis(100),
        );
        assert!(matches!(outcome, Outcome::OverBudget));
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_render_after_an_abandoned_one_still_finishes() {
        // As many silent loops as there are render threads are left spinning...
        let silent = "{% set r = range(end=100000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}";
        let mut tera = tera::Tera::new();
        install(&mut tera);
        tera.add_raw_template("silent.html", silent).unwrap();
        tera.add_raw_template("quick.html", "ok").unwrap();
        let tera = Arc::new(tera);
        let job = |template| Job {
            output: "t.html".into(),
            template,
            context: tera::Context::new(),
            size_hint: 0,
            late: Vec::new(),
        };
        let stuck: Vec<Job> = (0..rayon::current_num_threads())
            .map(|_| job("silent.html"))
            .collect();
        let renderer = Renderer::default();
        let outcomes = renderer.render_all(Arc::clone(&tera), stuck, Duration::from_millis(100));
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Some(Outcome::OverBudget)))
                && outcomes
                    .iter()
                    .all(|o| !matches!(o, Some(Outcome::Rendered(_)))),
            "the silent loops are abandoned (the call returns at the first)"
        );
        // ... and the next render still finishes.
        let start = Instant::now();
        let outcome =
            renderer.render_all(tera, vec![job("quick.html")], Duration::from_millis(100));
        assert!(matches!(&outcome[..], [Some(Outcome::Rendered(b))] if b == b"ok"));
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_writing_loop_stops_at_its_budget() {
        let outcome = render(
            "{% set r = range(end=100000) %}{% for i in r %}{% for j in r %}x{% endfor %}{% endfor %}",
            Duration::from_millis(100),
        );
        assert!(matches!(outcome, Outcome::OverBudget));
    }
}
