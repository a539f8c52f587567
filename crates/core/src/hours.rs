//! Operating hours: a weekly timetable in the business's time zone, with holidays, for a site
//! or a team. Answers whether chat is open at an instant and when it opens next.
//!
//! Times are wall-clock times in the zone, so "09:00" means 09:00 local on both sides of a
//! daylight-saving change. A wall time the clock skips (spring forward) never happens: hours
//! that start inside the skipped hour open when the clock jumps past it. A wall time the clock
//! repeats (fall back) happens twice, and the hours apply both times.

use crate::Millis;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use thiserror::Error;

/// Minutes in a day: the largest valid end of an interval (midnight at the end of the day).
pub const MINUTES_PER_DAY: u16 = 24 * 60;
/// How far ahead [`WeeklyHours::next_open`] looks.
pub const NEXT_OPEN_HORIZON_DAYS: i64 = 14;

const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_DAY: i64 = 24 * 60 * MS_PER_MINUTE;

/// A weekly timetable. Serialises as
/// `{"timezone":"Europe/Berlin","days":[[[540,1020]],…],"holidays":["2026-12-25"]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct WeeklyHours {
    /// The business's time zone, by its IANA name.
    #[ts(type = "string")]
    pub timezone: Tz,
    /// Open intervals per weekday, Monday first: minutes from local midnight, start inclusive,
    /// end exclusive (`(540, 1020)` is 09:00–17:00). A shift past midnight is two intervals, one
    /// ending at 1440 and one starting at 0 the next day.
    #[ts(type = "Array<Array<[number, number]>>")]
    pub days: [Vec<(u16, u16)>; 7],
    /// Local dates on which chat is closed all day.
    #[serde(default)]
    #[ts(type = "Array<string>")]
    pub holidays: BTreeSet<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum HoursError {
    #[error("day {day}: an interval must have start < end <= 1440, got {start}..{end}")]
    BadInterval { day: usize, start: u16, end: u16 },
}

impl WeeklyHours {
    /// Closed every day: a starting point to add hours to.
    pub fn closed(timezone: Tz) -> Self {
        Self {
            timezone,
            days: Default::default(),
            holidays: BTreeSet::new(),
        }
    }

    /// Checks the timetable as entered. The queries below work on any value (an empty or
    /// inverted interval is never open), so this is for telling the admin what is wrong.
    pub fn validate(&self) -> Result<(), HoursError> {
        for (day, intervals) in self.days.iter().enumerate() {
            for &(start, end) in intervals {
                if start >= end || end > MINUTES_PER_DAY {
                    return Err(HoursError::BadInterval { day, start, end });
                }
            }
        }
        Ok(())
    }

    /// Whether chat is open at `at`. An instant outside chrono's range is closed.
    pub fn is_open(&self, at: Millis) -> bool {
        let Some(offset) = self.offset_ms(at) else {
            return false;
        };
        let Some(local) = DateTime::from_timestamp_millis(at.saturating_add(offset)) else {
            return false;
        };
        let local = local.naive_utc();
        self.open_at_local(local)
    }

    /// The first instant at or after `at` at which chat is open: `at` itself when it is open
    /// now. Looks [`NEXT_OPEN_HORIZON_DAYS`] ahead; `None` if closed all that time.
    pub fn next_open(&self, at: Millis) -> Option<Millis> {
        if self.is_open(at) {
            return Some(at);
        }
        if self.days.iter().all(|d| d.iter().all(|&(s, e)| s >= e)) {
            return None;
        }
        let horizon = at.checked_add(NEXT_OPEN_HORIZON_DAYS * MS_PER_DAY)?;
        // Between two changes of the zone's UTC offset, local time runs evenly, so the hours can
        // only open where the local clock reaches an interval's start, or where the offset
        // changes (a jump forward into, or back into, open hours).
        let mut from = at;
        while from < horizon {
            let offset = self.offset_ms(from)?;
            let until = self.next_offset_change(from, horizon).unwrap_or(horizon);
            if from > at && self.is_open(from) {
                return Some(from);
            }
            if let Some(t) = self.first_start_within(from, until, offset) {
                return Some(t);
            }
            from = until;
        }
        None
    }

    fn open_at_local(&self, local: NaiveDateTime) -> bool {
        if self.holidays.contains(&local.date()) {
            return false;
        }
        let day = local.weekday().num_days_from_monday() as usize;
        let minute = (local.hour() * 60 + local.minute()) as u16;
        self.days[day]
            .iter()
            .any(|&(start, end)| start <= minute && minute < end)
    }

    /// The zone's offset from UTC at `at`, in ms.
    fn offset_ms(&self, at: Millis) -> Option<i64> {
        let utc = DateTime::from_timestamp_millis(at)?.naive_utc();
        let seconds = self
            .timezone
            .offset_from_utc_datetime(&utc)
            .fix()
            .local_minus_utc();
        Some(i64::from(seconds) * 1_000)
    }

    /// The first instant in `(from, horizon)` at which the zone's offset differs from its offset
    /// at `from`. Probes every 6 hours (offsets never change twice within that) and then narrows
    /// down to the millisecond.
    fn next_offset_change(&self, from: Millis, horizon: Millis) -> Option<Millis> {
        const STEP: i64 = 6 * 60 * MS_PER_MINUTE;
        let offset = self.offset_ms(from)?;
        let mut low = from;
        loop {
            let high = low.saturating_add(STEP).min(horizon);
            if self.offset_ms(high)? != offset {
                // The offset is `offset` at `low` and differs at `high`.
                let (mut lo, mut hi) = (low, high);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if self.offset_ms(mid)? == offset {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                return Some(hi);
            }
            if high >= horizon {
                return None;
            }
            low = high;
        }
    }

    /// The first instant in `[from, until)` at which the local clock, running at `offset`, reaches
    /// the start of an open interval on a day that is not a holiday.
    fn first_start_within(&self, from: Millis, until: Millis, offset: i64) -> Option<Millis> {
        let local_from = DateTime::from_timestamp_millis(from.saturating_add(offset))?;
        let local_until = until.saturating_add(offset);
        let mut date = local_from.date_naive();
        loop {
            let midnight = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
            if midnight >= local_until {
                return None;
            }
            if !self.holidays.contains(&date) {
                let day = date.weekday().num_days_from_monday() as usize;
                let mut starts: Vec<u16> = self.days[day]
                    .iter()
                    .filter(|&&(s, e)| s < e && s < MINUTES_PER_DAY)
                    .map(|&(s, _)| s)
                    .collect();
                starts.sort_unstable();
                for start in starts {
                    let t = midnight + i64::from(start) * MS_PER_MINUTE - offset;
                    if t >= from && t < until {
                        return Some(t);
                    }
                }
            }
            date = date.succ_opt()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An instant given as a UTC date and time.
    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    const NINE_TO_FIVE: (u16, u16) = (9 * 60, 17 * 60);

    fn weekdays(tz: Tz, interval: (u16, u16)) -> WeeklyHours {
        let mut h = WeeklyHours::closed(tz);
        for day in 0..5 {
            h.days[day] = vec![interval];
        }
        h
    }

    fn berlin_weekdays() -> WeeklyHours {
        weekdays(chrono_tz::Europe::Berlin, NINE_TO_FIVE)
    }

    #[test]
    fn open_during_the_hours_and_closed_outside_them() {
        let h = berlin_weekdays();
        // Wednesday 14 January 2026, CET (UTC+1).
        assert!(!h.is_open(utc(2026, 1, 14, 7, 59)));
        assert!(h.is_open(utc(2026, 1, 14, 8, 0)));
        assert!(h.is_open(utc(2026, 1, 14, 15, 59)));
        assert!(!h.is_open(utc(2026, 1, 14, 16, 0)));
        // Saturday.
        assert!(!h.is_open(utc(2026, 1, 17, 12, 0)));
        assert!(h.validate().is_ok());
    }

    #[test]
    fn hours_follow_the_local_clock_across_the_march_change() {
        let h = berlin_weekdays();
        // Clocks go forward on Sunday 29 March 2026 at 01:00 UTC (02:00 CET -> 03:00 CEST).
        // Friday 27 March: 09:00 CET is 08:00 UTC. Monday 30 March: 09:00 CEST is 07:00 UTC.
        assert!(h.is_open(utc(2026, 3, 27, 8, 0)));
        assert!(!h.is_open(utc(2026, 3, 30, 6, 59)));
        assert!(h.is_open(utc(2026, 3, 30, 7, 0)));
        assert!(!h.is_open(utc(2026, 3, 30, 15, 0))); // 17:00 CEST
        // Closed Friday evening: opens Monday at 09:00 CEST.
        assert_eq!(
            h.next_open(utc(2026, 3, 27, 17, 0)),
            Some(utc(2026, 3, 30, 7, 0))
        );
    }

    #[test]
    fn hours_starting_in_the_skipped_hour_open_when_the_clock_jumps() {
        let mut h = WeeklyHours::closed(chrono_tz::Europe::Berlin);
        h.days[6] = vec![(2 * 60 + 30, 4 * 60)]; // Sunday 02:30-04:00
        // 01:30 CET: closed; the clock jumps from 02:00 CET to 03:00 CEST at 01:00 UTC.
        assert!(!h.is_open(utc(2026, 3, 29, 0, 30)));
        assert_eq!(
            h.next_open(utc(2026, 3, 29, 0, 30)),
            Some(utc(2026, 3, 29, 1, 0))
        );
        assert!(h.is_open(utc(2026, 3, 29, 1, 0)));
        assert!(!h.is_open(utc(2026, 3, 29, 2, 0))); // 04:00 CEST
        // Hours wholly inside the skipped hour never open that day: next Sunday instead.
        h.days[6] = vec![(2 * 60 + 10, 2 * 60 + 50)];
        assert_eq!(
            h.next_open(utc(2026, 3, 29, 0, 30)),
            Some(utc(2026, 4, 5, 0, 10))
        );
    }

    #[test]
    fn hours_apply_twice_in_the_repeated_hour_of_the_october_change() {
        let mut h = WeeklyHours::closed(chrono_tz::Europe::Berlin);
        h.days[6] = vec![(2 * 60, 2 * 60 + 30)]; // Sunday 02:00-02:30
        // Clocks go back on Sunday 25 October 2026 at 01:00 UTC (03:00 CEST -> 02:00 CET), so
        // 02:00-02:30 local happens at 00:00 UTC (CEST) and again at 01:00 UTC (CET).
        assert!(h.is_open(utc(2026, 10, 25, 0, 0)));
        assert!(!h.is_open(utc(2026, 10, 25, 0, 45)));
        assert_eq!(
            h.next_open(utc(2026, 10, 25, 0, 45)),
            Some(utc(2026, 10, 25, 1, 0))
        );
        assert!(h.is_open(utc(2026, 10, 25, 1, 29)));
        assert!(!h.is_open(utc(2026, 10, 25, 1, 30)));
        // Hours that the clock falls back into open at the change itself.
        h.days[6] = vec![(60 + 30, 2 * 60 + 30)]; // Sunday 01:30-02:30
        assert!(!h.is_open(utc(2026, 10, 25, 0, 45))); // 02:45 CEST
        assert_eq!(
            h.next_open(utc(2026, 10, 25, 0, 45)),
            Some(utc(2026, 10, 25, 1, 0))
        );
        // Weekday hours after the change: Monday 09:00 CET is 08:00 UTC.
        let h = berlin_weekdays();
        assert_eq!(
            h.next_open(utc(2026, 10, 23, 16, 0)),
            Some(utc(2026, 10, 26, 8, 0))
        );
        assert!(!h.is_open(utc(2026, 10, 26, 7, 59)));
    }

    #[test]
    fn holidays_close_the_whole_local_date() {
        let mut h = berlin_weekdays();
        h.holidays
            .insert(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()); // a Friday
        assert!(!h.is_open(utc(2026, 12, 25, 10, 0)));
        assert_eq!(
            h.next_open(utc(2026, 12, 24, 17, 0)),
            Some(utc(2026, 12, 28, 8, 0))
        );
        // The holiday is a local date: in Auckland (UTC+13 in January) New Year's Day starts
        // at 11:00 UTC on 31 December.
        let mut h = WeeklyHours::closed(chrono_tz::Pacific::Auckland);
        h.days = std::array::from_fn(|_| vec![(0, MINUTES_PER_DAY)]);
        h.holidays
            .insert(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert!(h.is_open(utc(2026, 12, 31, 10, 59)));
        assert!(!h.is_open(utc(2026, 12, 31, 11, 0)));
        assert_eq!(
            h.next_open(utc(2026, 12, 31, 11, 0)),
            Some(utc(2027, 1, 1, 11, 0))
        );
    }

    #[test]
    fn next_open_is_now_when_open_and_none_when_never_open() {
        let h = berlin_weekdays();
        let at = utc(2026, 1, 14, 9, 30) + 123;
        assert_eq!(h.next_open(at), Some(at));
        assert_eq!(WeeklyHours::closed(chrono_tz::UTC).next_open(at), None);
        // Open only on holidays for the next two weeks: nothing within the horizon.
        let mut h = weekdays(chrono_tz::UTC, NINE_TO_FIVE);
        let start = NaiveDate::from_ymd_opt(2026, 1, 14).unwrap();
        for d in start.iter_days().take(16) {
            h.holidays.insert(d);
        }
        assert_eq!(h.next_open(utc(2026, 1, 14, 0, 0)), None);
    }

    #[test]
    fn hours_serialise_with_the_iana_zone_name() {
        let mut h = berlin_weekdays();
        h.holidays
            .insert(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap());
        let json = serde_json::to_string(&h).unwrap();
        assert!(
            json.starts_with(r#"{"timezone":"Europe/Berlin","days":[[[540,1020]]"#),
            "{json}"
        );
        assert!(json.ends_with(r#""holidays":["2026-12-25"]}"#), "{json}");
        assert_eq!(serde_json::from_str::<WeeklyHours>(&json).unwrap(), h);
        let bad = json.replace("Europe/Berlin", "Mars/Olympus");
        assert!(serde_json::from_str::<WeeklyHours>(&bad).is_err());
    }

    #[test]
    fn validate_names_the_bad_interval() {
        let mut h = berlin_weekdays();
        h.days[2].push((600, 600));
        assert_eq!(
            h.validate(),
            Err(HoursError::BadInterval {
                day: 2,
                start: 600,
                end: 600
            })
        );
        h.days[2] = vec![(0, MINUTES_PER_DAY + 1)];
        assert!(h.validate().is_err());
    }

    /// The answer of `next_open`, found the slow way: minute by minute.
    fn next_open_by_minutes(h: &WeeklyHours, at: Millis, minutes: i64) -> Option<Millis> {
        if h.is_open(at) {
            return Some(at);
        }
        let first = (at.div_euclid(MS_PER_MINUTE) + 1) * MS_PER_MINUTE;
        (0..minutes)
            .map(|i| first + i * MS_PER_MINUTE)
            .find(|&t| h.is_open(t))
    }

    fn any_interval() -> impl Strategy<Value = (u16, u16)> {
        // Quarter hours, so intervals land on and around the 02:00-03:00 change.
        (0u16..96, 1u16..16).prop_map(|(s, len)| (s * 15, (s + len).min(96) * 15))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn next_open_agrees_with_a_minute_by_minute_search_around_dst_changes(
            days in proptest::array::uniform7(proptest::collection::vec(any_interval(), 0..3)),
            case in 0usize..6,
            offset_minutes in 0i64..(3 * 24 * 60),
        ) {
            // Zones with a change two days after the base date, both ways.
            let (zone, base) = [
                (chrono_tz::Europe::Berlin, utc(2026, 3, 27, 0, 0)),
                (chrono_tz::Europe::Berlin, utc(2026, 10, 23, 0, 0)),
                (chrono_tz::America::New_York, utc(2026, 3, 6, 0, 0)),
                (chrono_tz::America::New_York, utc(2026, 10, 30, 0, 0)),
                // Lord Howe Island moves its clocks by 30 minutes.
                (chrono_tz::Australia::Lord_Howe, utc(2026, 4, 3, 0, 0)),
                (chrono_tz::Australia::Lord_Howe, utc(2026, 10, 2, 0, 0)),
            ][case];
            let h = WeeklyHours { timezone: zone, days, holidays: BTreeSet::new() };
            let at = base + offset_minutes * MS_PER_MINUTE;
            // Four days of minutes; beyond that the fast answer must be later than that too.
            let window = 4 * 24 * 60;
            let slow = next_open_by_minutes(&h, at, window);
            let fast = h.next_open(at);
            match slow {
                Some(t) => prop_assert_eq!(fast, Some(t)),
                None => prop_assert!(fast.is_none_or(|t| t >= at + window * MS_PER_MINUTE)),
            }
        }
    }
}
