//! Opening hours from HSDS schedules, evaluated in the location's own IANA time zone. "Open 24/7" and
//! "hours unknown" are distinct from "closed". Overnight hours (closes_at before opens_at) run into the
//! next day. Supports `freq` WEEKLY (with `byday`) and MONTHLY (with `bymonthday` or `byday` such as
//! `2TU`, `-1FR`), `valid_from`/`valid_to`.

use crate::model::Schedule;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Whether something is open at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenStatus {
    /// Open at that instant by its schedule.
    Open,
    /// Closed at that instant by its schedule.
    Closed,
    /// Always open (24 hours, 7 days).
    AlwaysOpen,
    /// No usable schedule: not known whether it is open.
    Unknown,
}

impl OpenStatus {
    /// Whether it counts as open (open by schedule or always open).
    pub fn is_open(self) -> bool {
        matches!(self, OpenStatus::Open | OpenStatus::AlwaysOpen)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum DaySet {
    /// Bit 0 = Monday … bit 6 = Sunday.
    Weekly(u8),
    /// Days of the month; negative counts from the end (-1 = last day).
    MonthDays(Vec<i8>),
    /// The nth weekday of the month; negative counts from the end.
    MonthNth(Vec<(i8, Weekday)>),
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    days: DaySet,
    opens: u16,
    closes: u16,
    valid_from: Option<Date>,
    valid_to: Option<Date>,
}

/// Compiled opening hours of one service at a location.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hours {
    rules: Vec<Rule>,
    always: bool,
}

const ALL_DAYS: u8 = 0b111_1111;

fn weekday_bit(w: Weekday) -> u8 {
    1 << (w.to_monday_zero_offset() as u8)
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        _ => return None,
    })
}

/// Minutes after midnight of an HSDS time (`09:00`, `09:00:00`, `17:30:00Z`, `24:00`).
pub fn parse_time(s: &str) -> Option<u16> {
    let s = s.trim();
    let mut parts = s.get(..5)?.split(':');
    let h: u16 = parts.next()?.parse().ok()?;
    let m: u16 = parts.next()?.parse().ok()?;
    (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

fn parse_date(s: Option<&String>) -> Option<Date> {
    s.and_then(|s| s.get(..10)).and_then(|s| s.parse().ok())
}

fn compile(s: &Schedule) -> Option<Rule> {
    let opens = parse_time(s.opens_at.as_deref()?)?;
    let closes = parse_time(s.closes_at.as_deref()?)?;
    let byday: Vec<&str> = s
        .byday
        .as_deref()
        .map(|b| {
            b.split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let monthly = s.freq.as_deref() == Some("MONTHLY");
    let days = if monthly {
        if let Some(md) = s.bymonthday.as_deref() {
            DaySet::MonthDays(
                md.split(',')
                    .filter_map(|d| d.trim().parse().ok())
                    .collect(),
            )
        } else {
            let nth = byday
                .iter()
                .filter_map(|d| {
                    let (n, w) = d.split_at(d.len().checked_sub(2)?);
                    let n: i8 = if n.is_empty() {
                        0
                    } else {
                        n.trim_start_matches('+').parse().ok()?
                    };
                    Some((n, parse_weekday(w)?))
                })
                .collect();
            DaySet::MonthNth(nth)
        }
    } else if byday.is_empty() {
        DaySet::Weekly(ALL_DAYS)
    } else {
        let mut mask = 0;
        for d in &byday {
            mask |= weekday_bit(parse_weekday(d.get(d.len().saturating_sub(2)..)?)?);
        }
        DaySet::Weekly(mask)
    };
    Some(Rule {
        days,
        opens,
        closes,
        valid_from: parse_date(s.valid_from.as_ref()),
        valid_to: parse_date(s.valid_to.as_ref()),
    })
}

impl Rule {
    fn on(&self, date: Date) -> bool {
        if self.valid_from.is_some_and(|f| date < f) || self.valid_to.is_some_and(|t| date > t) {
            return false;
        }
        match &self.days {
            DaySet::Weekly(mask) => mask & weekday_bit(date.weekday()) != 0,
            DaySet::MonthDays(days) => {
                let len = i16::from(date.days_in_month());
                let d = i16::from(date.day());
                days.iter()
                    .any(|&x| i16::from(x) == d || (x < 0 && len + 1 + i16::from(x) == d))
            }
            DaySet::MonthNth(list) => list.iter().any(|&(n, w)| {
                if w != date.weekday() {
                    return false;
                }
                let d = date.day();
                let from_start = (d - 1) / 7 + 1;
                let from_end = (date.days_in_month() - d) / 7 + 1;
                n == 0 || n == from_start || n == -from_end
            }),
        }
    }

    fn overnight(&self) -> bool {
        self.closes <= self.opens
    }

    fn open_at(&self, date: Date, minute: u16) -> bool {
        if self.overnight() {
            (self.on(date) && minute >= self.opens)
                || (date.yesterday().is_ok_and(|y| self.on(y)) && minute < self.closes)
        } else {
            self.on(date) && minute >= self.opens && minute < self.closes
        }
    }

    fn is_all_day_every_day(&self) -> bool {
        self.days == DaySet::Weekly(ALL_DAYS)
            && self.opens == 0
            && (self.closes >= 1439 || self.closes == 0)
            && self.valid_from.is_none()
            && self.valid_to.is_none()
    }
}

impl Hours {
    /// Compiles the schedules of one service at a location. Schedules without usable times are ignored;
    /// if none is usable the hours are unknown.
    pub fn from_schedules<'a>(schedules: impl IntoIterator<Item = &'a Schedule>) -> Hours {
        let rules: Vec<Rule> = schedules.into_iter().filter_map(compile).collect();
        let always = rules.iter().any(Rule::is_all_day_every_day);
        Hours { rules, always }
    }

    /// Hours that are always open (a 24/7 hotline).
    pub fn always_open() -> Hours {
        Hours {
            rules: Vec::new(),
            always: true,
        }
    }

    /// Whether these hours are unknown (no usable schedule).
    pub fn is_unknown(&self) -> bool {
        !self.always && self.rules.is_empty()
    }

    /// Whether it is open at a local date and minute after midnight.
    pub fn status_local(&self, date: Date, minute: u16) -> OpenStatus {
        if self.always {
            OpenStatus::AlwaysOpen
        } else if self.rules.is_empty() {
            OpenStatus::Unknown
        } else if self.rules.iter().any(|r| r.open_at(date, minute)) {
            OpenStatus::Open
        } else {
            OpenStatus::Closed
        }
    }

    /// Whether it is open at an instant, in the given time zone.
    pub fn status_at(&self, tz: &TimeZone, at: Timestamp) -> OpenStatus {
        let (date, minute) = local_moment(tz, at);
        self.status_local(date, minute)
    }
}

/// The local date and minute after midnight of an instant in a time zone.
pub fn local_moment(tz: &TimeZone, at: Timestamp) -> (Date, u16) {
    let dt = at.to_zoned(tz.clone()).datetime();
    (dt.date(), dt.hour() as u16 * 60 + dt.minute() as u16)
}

/// Looks up an IANA time zone in the bundled database.
pub fn time_zone(name: &str) -> Option<TimeZone> {
    TimeZone::get(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn sched(byday: &str, opens: &str, closes: &str) -> Schedule {
        Schedule {
            id: "s".into(),
            freq: Some("WEEKLY".into()),
            byday: (!byday.is_empty()).then(|| byday.into()),
            opens_at: Some(opens.into()),
            closes_at: Some(closes.into()),
            ..Schedule::default()
        }
    }

    #[rstest]
    #[case::weekday_morning("2026-11-23T14:00:00Z", "America/Chicago", OpenStatus::Open)] // Mon 08:00 CST
    #[case::before_opening("2026-11-23T13:59:00Z", "America/New_York", OpenStatus::Open)] // Mon 08:59 EST
    #[case::before_opening_in_chicago(
        "2026-11-23T13:59:00Z",
        "America/Chicago",
        OpenStatus::Closed
    )] // 07:59
    #[case::sunday("2026-11-22T18:00:00Z", "America/Chicago", OpenStatus::Closed)]
    #[case::after_closing("2026-11-23T23:00:00Z", "America/Chicago", OpenStatus::Closed)] // 17:00
    fn weekday_hours_are_evaluated_in_the_locations_own_zone(
        #[case] at: &str,
        #[case] zone: &str,
        #[case] expected: OpenStatus,
    ) {
        let hours = Hours::from_schedules([&sched("MO,TU,WE,TH,FR", "08:00", "17:00")]);
        let tz = time_zone(zone).unwrap();
        assert_eq!(hours.status_at(&tz, at.parse().unwrap()), expected);
    }

    #[test]
    fn daylight_saving_moves_the_utc_opening_but_not_the_local_one() {
        let hours = Hours::from_schedules([&sched("", "09:00", "10:00")]);
        let tz = time_zone("America/Denver").unwrap();
        // 09:30 local is 15:30Z in summer (MDT, UTC-6) and 16:30Z in winter (MST, UTC-7).
        assert_eq!(
            hours.status_at(&tz, "2026-07-01T15:30:00Z".parse().unwrap()),
            OpenStatus::Open
        );
        assert_eq!(
            hours.status_at(&tz, "2026-12-01T15:30:00Z".parse().unwrap()),
            OpenStatus::Closed
        );
        assert_eq!(
            hours.status_at(&tz, "2026-12-01T16:30:00Z".parse().unwrap()),
            OpenStatus::Open
        );
    }

    #[test]
    fn overnight_hours_run_into_the_next_morning() {
        let hours = Hours::from_schedules([&sched("FR", "20:00", "06:00")]);
        let fri: Date = "2026-11-27".parse().unwrap();
        let sat = fri.tomorrow().unwrap();
        assert_eq!(hours.status_local(fri, 21 * 60), OpenStatus::Open);
        assert_eq!(hours.status_local(sat, 5 * 60), OpenStatus::Open);
        assert_eq!(hours.status_local(sat, 7 * 60), OpenStatus::Closed);
        assert_eq!(hours.status_local(fri, 5 * 60), OpenStatus::Closed);
    }

    #[test]
    fn no_schedule_is_unknown_and_round_the_clock_is_always_open_not_closed() {
        let day: Date = "2026-11-27".parse().unwrap();
        assert_eq!(
            Hours::from_schedules([]).status_local(day, 600),
            OpenStatus::Unknown
        );
        let bad = Schedule {
            id: "x".into(),
            description: Some("call us".into()),
            ..Schedule::default()
        };
        assert_eq!(
            Hours::from_schedules([&bad]).status_local(day, 600),
            OpenStatus::Unknown
        );
        let all = Hours::from_schedules([&sched("", "00:00", "23:59")]);
        assert_eq!(all.status_local(day, 1439), OpenStatus::AlwaysOpen);
    }

    #[test]
    fn validity_dates_and_monthly_rules_are_respected() {
        let mut s = sched("", "09:00", "17:00");
        s.valid_to = Some("2026-06-30".into());
        let hours = Hours::from_schedules([&s]);
        assert_eq!(
            hours.status_local("2026-06-30".parse().unwrap(), 600),
            OpenStatus::Open
        );
        assert_eq!(
            hours.status_local("2026-07-01".parse().unwrap(), 600),
            OpenStatus::Closed
        );
        let monthly = Schedule {
            freq: Some("MONTHLY".into()),
            byday: Some("-1FR".into()),
            ..sched("", "09:00", "12:00")
        };
        let hours = Hours::from_schedules([&monthly]);
        assert_eq!(
            hours.status_local("2026-11-27".parse().unwrap(), 600),
            OpenStatus::Open
        );
        assert_eq!(
            hours.status_local("2026-11-20".parse().unwrap(), 600),
            OpenStatus::Closed
        );
    }
}
