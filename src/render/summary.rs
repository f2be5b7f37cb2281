//! The first layer of the statement: a short summary at the top of the
//! privacy statement and on the landing page ("in short"), built from the
//! same facts as the full text.
//!
//! Only what the firm declared is summarised: an undeclared retention,
//! recipient list, transfer or automated decision gives no line at all, so
//! that the summary never turns silence into "none".

use serde::Serialize;

use super::model::LangView;
use crate::site::config::Config;
use crate::site::duration::{Duration, Unit};

/// What the theme's `partials/summary.html` receives as `summary`.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryView {
    /// The longest retention period a purpose declares, in words (with
    /// its starting point), and the purpose it belongs to.
    pub longest_retention: Option<LongestRetention>,
    /// Places outside the EEA where data go: each transfer, then each
    /// recipient outside the EEA that no transfer covers (its safeguard
    /// then unknown). Empty when none is declared.
    pub outside_eea: Vec<PlaceOutside>,
    /// The firm's own summary (`content/<lang>/summary.md`) as HTML; it
    /// replaces the built-in lines.
    pub own: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LongestRetention {
    pub period: String,
    pub purpose: String,
    /// Every purpose states a fixed period: "at most" holds. Otherwise
    /// some data are kept by criteria, and the summary says so.
    pub all_fixed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlaceOutside {
    pub recipient: String,
    pub country_name: String,
    /// The safeguard's key (`standard_contractual_clauses`, …).
    pub safeguard: Option<crate::site::config::Safeguard>,
}

/// A duration's rough length in seconds, to find the longest: a year
/// counts 365.25 days and a month 30.44, which is enough to order periods
/// as written in a statement; a session is the shortest of all.
pub(crate) fn rough_seconds(d: &Duration) -> u64 {
    match d {
        Duration::Session => 0,
        Duration::Span(parts) => parts
            .iter()
            .map(|(n, unit)| {
                u64::from(*n)
                    * match unit {
                        Unit::Year => 31_557_600,
                        Unit::Month => 2_629_800,
                        Unit::Week => 604_800,
                        Unit::Day => 86_400,
                        Unit::Hour => 3_600,
                        Unit::Minute => 60,
                        Unit::Second => 1,
                    }
            })
            .sum(),
    }
}

impl SummaryView {
    /// The summary of `config` in the language of `view`, which holds the
    /// facts already in words. `own` is the firm's rendered summary.md.
    pub fn new(config: &Config, view: &LangView, own: Option<String>) -> SummaryView {
        let periods: Vec<(usize, &Duration)> = config
            .purposes
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.retention(&config.statement)
                    .and_then(|r| r.period.as_ref())
                    .map(|d| (i, d.get_ref()))
            })
            .collect();
        let all_fixed = periods.len() == config.purposes.len();
        // The first purpose wins a tie: the order the firm gave.
        let longest = periods
            .iter()
            .rev()
            .max_by_key(|(_, d)| rough_seconds(d))
            .and_then(|(i, _)| {
                let p = &view.purposes[*i];
                Some(LongestRetention {
                    period: p.retention_period.clone()?,
                    purpose: p.name.clone(),
                    all_fixed,
                })
            });

        let mut outside: Vec<PlaceOutside> = view
            .transfers
            .iter()
            .map(|t| PlaceOutside {
                recipient: t.recipient_name.clone(),
                country_name: t.country_name.clone(),
                safeguard: Some(t.safeguard),
            })
            .collect();
        for (r, rv) in config.recipients.iter().zip(&view.recipients) {
            let covered = config
                .transfers
                .iter()
                .any(|t| t.recipient.get_ref() == r.id.get_ref());
            if rv.outside_eea && !covered {
                outside.push(PlaceOutside {
                    recipient: rv.name.clone(),
                    country_name: rv.country_name.clone().unwrap_or_default(),
                    safeguard: None,
                });
            }
        }
        SummaryView {
            longest_retention: longest,
            outside_eea: outside,
            own,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longer_periods_order_after_shorter_ones() {
        let d = |s: &str| s.parse::<Duration>().unwrap();
        assert!(rough_seconds(&d("7y")) > rough_seconds(&d("6y11mo")));
        assert!(rough_seconds(&d("13mo")) > rough_seconds(&d("1y")));
        assert!(rough_seconds(&d("1d")) > rough_seconds(&Duration::Session));
    }
}
