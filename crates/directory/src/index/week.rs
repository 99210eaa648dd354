//! Opening hours reduced to a week: for hours whose rules repeat every week (HSDS `WEEKLY`, no
//! validity dates), whether an entry is open depends only on the local weekday and minute, so a query
//! looks up one minute of the week in a short list of open intervals instead of evaluating rules.
//! Hours with monthly rules or validity dates are not reduced; the index asks [`Hours`] for those.

use crate::model::Schedule;
use crate::schedule::{Hours, OpenStatus, parse_time};
use jiff::civil::{Date, date};

/// Hours as a function of the minute of the week (Monday 00:00 = 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum WeekHours {
    /// Always open (24/7).
    Always,
    /// No usable schedule.
    Unknown,
    /// Open in these half-open intervals of minutes of the week, sorted and disjoint.
    Weekly(Box<[(u16, u16)]>),
}

impl WeekHours {
    /// The week of `hours`, compiled from `schedules`; `None` when the hours depend on more than the
    /// weekday and minute (monthly rules, validity dates).
    pub(super) fn of(hours: &Hours, schedules: &[&Schedule]) -> Option<WeekHours> {
        // A Monday; any Monday gives the same answers for weekly rules.
        let monday = date(2024, 1, 1);
        if hours.status_local(monday, 0) == OpenStatus::AlwaysOpen {
            return Some(WeekHours::Always);
        }
        if hours.is_unknown() {
            return Some(WeekHours::Unknown);
        }
        if schedules.iter().any(|s| {
            s.freq.as_deref() == Some("MONTHLY") || s.valid_from.is_some() || s.valid_to.is_some()
        }) {
            return None;
        }
        // Between two consecutive opening or closing times the status cannot change, so probing the
        // start of every such span of every weekday gives the whole week.
        let mut cuts: Vec<u16> = schedules
            .iter()
            .flat_map(|s| [s.opens_at.as_deref(), s.closes_at.as_deref()])
            .flatten()
            .filter_map(parse_time)
            .filter(|&m| m < 1440)
            .chain([0])
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut open: Vec<(u16, u16)> = Vec::new();
        let mut day = monday;
        for d in 0..7u16 {
            for (i, &start) in cuts.iter().enumerate() {
                let end = cuts.get(i + 1).copied().unwrap_or(1440);
                if hours.status_local(day, start) == OpenStatus::Open {
                    let (s, e) = (d * 1440 + start, d * 1440 + end);
                    match open.last_mut() {
                        Some(last) if last.1 == s => last.1 = e,
                        _ => open.push((s, e)),
                    }
                }
            }
            day = day.tomorrow().ok()?;
        }
        Some(WeekHours::Weekly(open.into_boxed_slice()))
    }

    /// The status at a minute of the week.
    pub(super) fn status(&self, minute_of_week: u16) -> OpenStatus {
        match self {
            WeekHours::Always => OpenStatus::AlwaysOpen,
            WeekHours::Unknown => OpenStatus::Unknown,
            WeekHours::Weekly(open) => {
                if open
                    .iter()
                    .any(|&(s, e)| s <= minute_of_week && minute_of_week < e)
                {
                    OpenStatus::Open
                } else {
                    OpenStatus::Closed
                }
            }
        }
    }
}

/// The minute of the week (Monday 00:00 = 0) of a local date and minute.
pub(super) fn minute_of_week(day: Date, minute: u16) -> u16 {
    day.weekday().to_monday_zero_offset() as u16 * 1440 + minute
}
