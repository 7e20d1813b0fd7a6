//! SigV4 timestamps: `YYYYMMDD'T'HHMMSS'Z'` (ISO 8601 basic format, UTC) to and from seconds
//! since the Unix epoch, without a date library and without reading the clock.
//!
//! INVARIANT: no arithmetic here can overflow, whatever the input: parsed years have four
//! digits, and times from `SystemTime` are clamped to ±[`MAX_ABS_SECONDS`].

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// About ±35 million years: far beyond any clock, small enough that the calendar
/// arithmetic below cannot overflow an `i64`.
const MAX_ABS_SECONDS: i64 = 1 << 50;

/// Seconds since the Unix epoch, rounded down, clamped to ±[`MAX_ABS_SECONDS`].
pub(crate) fn epoch_seconds(t: SystemTime) -> i64 {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let d = before.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            // Round down: 0.5 s before the epoch is second -1.
            let frac = i64::from(d.subsec_nanos() > 0);
            whole.saturating_add(frac).saturating_neg()
        }
    };
    secs.clamp(-MAX_ABS_SECONDS, MAX_ABS_SECONDS)
}

/// The `SystemTime` at `secs` seconds since the Unix epoch.
pub(crate) fn system_time(secs: i64) -> SystemTime {
    let magnitude = std::time::Duration::from_secs(secs.unsigned_abs());
    let shifted = if secs >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    };
    shifted.unwrap_or(UNIX_EPOCH)
}

/// Parses `YYYYMMDD'T'HHMMSS'Z'` into seconds since the Unix epoch; `None` unless the string
/// is exactly that shape and names a real instant (no 30 February, no second 60).
pub(crate) fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let mut n: i64 = 0;
        for &c in b.get(from..to)? {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(c - b'0');
        }
        Some(n)
    };
    let (year, month, day) = (num(0, 4)?, num(4, 6)?, num(6, 8)?);
    let (hour, minute, second) = (num(9, 11)?, num(11, 13)?, num(13, 15)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Displays seconds since the Unix epoch as `YYYYMMDD'T'HHMMSS'Z'`.
pub(crate) struct Iso(pub(crate) i64);

impl fmt::Display for Iso {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.clamp(-MAX_ABS_SECONDS, MAX_ABS_SECONDS);
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let rem = secs.rem_euclid(86_400);
        write!(
            f,
            "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
            rem / 3_600,
            rem % 3_600 / 60,
            rem % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn amz_date_round_trips_through_epoch_seconds() {
        let secs = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(secs, 1_440_938_160);
        assert_eq!(Iso(secs).to_string(), "20150830T123600Z");
    }

    #[test]
    fn leap_days_and_bounds_are_checked() {
        assert!(parse_amz_date("20240229T000000Z").is_some());
        assert!(parse_amz_date("20230229T000000Z").is_none());
        assert!(parse_amz_date("21000229T000000Z").is_none());
        assert!(parse_amz_date("20000229T235959Z").is_some());
        assert!(parse_amz_date("20150830T240000Z").is_none());
        assert!(parse_amz_date("20150830T123660Z").is_none());
        assert!(parse_amz_date("20151330T123600Z").is_none());
        assert!(parse_amz_date("00000101T000000Z").is_some());
        assert!(parse_amz_date("99991231T235959Z").is_some());
    }

    #[test]
    fn malformed_amz_dates_are_refused() {
        for bad in [
            "",
            "201",
            "2015-08-30T12:36:00Z",
            "20150830T123600",
            "20150830 123600Z",
            "20150830T123600z",
            "+0150830T123600Z",
            "2015083O T12360Z",
            "20150830T1236००Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        let start = days_from_civil(1900, 1, 1);
        let end = days_from_civil(2300, 1, 1);
        for days in start..end {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn times_before_the_epoch_round_down() {
        let t = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(epoch_seconds(t), -1);
        assert_eq!(Iso(-1).to_string(), "19691231T235959Z");
        assert_eq!(epoch_seconds(system_time(-86_400)), -86_400);
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        assert!(Iso(i64::MAX).to_string().len() > 16);
        let _ = Iso(i64::MIN).to_string();
        let _ = system_time(i64::MIN);
        let _ = system_time(i64::MAX);
    }
}
