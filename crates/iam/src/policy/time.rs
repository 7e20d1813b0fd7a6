//! Dates for the `Date*` condition operators: the W3C profile of ISO 8601 and epoch seconds.
//!
//! Source: IAM User Guide, "IAM JSON policy elements: Condition operators", Date condition
//! operators: "You must specify date/time values with one of the W3C implementations of the ISO
//! 8601 date formats or in epoch (UNIX) time."
//!
//! Pure: this module never reads a clock. Instants are nanoseconds since the Unix epoch (UTC).
//! INVARIANT: a value that is not a valid date gives `None`, never a guess.

/// Nanoseconds since 1970-01-01T00:00:00Z.
pub(crate) type Instant = i128;

const NANOS: i128 = 1_000_000_000;

/// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh[:mm[:ss[.s...]]]` with `Z` or
/// `±hh[:mm]` (UTC when absent; `T` and `Z` in either case), or epoch seconds (`1700000000`,
/// optionally with a fraction).
pub(crate) fn parse(s: &str) -> Option<Instant> {
    if let Some(t) = parse_canonical(s) {
        return Some(t);
    }
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_epoch(s);
    }
    parse_iso(s)
}

/// The form the request's time keys come in (`aws:CurrentTime`, see
/// [`Context::set_time`](super::Context::set_time)), `YYYY-MM-DDThh:mm:ssZ`, read without
/// splitting; `None` for anything else, which the general parser then reads (and rejects if
/// it is out of range). Gives what the general parser gives.
fn parse_canonical(s: &str) -> Option<Instant> {
    let b: &[u8; 20] = s.as_bytes().try_into().ok()?;
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        mo0,
        mo1,
        b'-',
        d0,
        d1,
        b'T' | b't',
        h0,
        h1,
        b':',
        mi0,
        mi1,
        b':',
        s0,
        s1,
        b'Z' | b'z',
    ] = *b
    else {
        return None;
    };
    let digits = |ds: &[u8]| -> Option<i64> {
        ds.iter().try_fold(0i64, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let year = digits(&[y0, y1, y2, y3])?;
    let month = digits(&[mo0, mo1])?;
    let day = digits(&[d0, d1])?;
    let (h, m, sec) = (digits(&[h0, h1])?, digits(&[mi0, mi1])?, digits(&[s0, s1])?);
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && h <= 23
        && m <= 59
        && sec <= 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((i128::from(days) * 86_400 + i128::from(h * 3600 + m * 60 + sec)) * NANOS)
}

fn parse_epoch(s: &str) -> Option<Instant> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.is_empty() || whole.len() > 18 {
        return None;
    }
    let secs: i128 = whole.parse().ok()?;
    Some(secs * NANOS + fraction(frac)?)
}

/// A fraction of a second (`"5"` is half a second), to nanoseconds.
fn fraction(frac: Option<&str>) -> Option<i128> {
    let Some(f) = frac else { return Some(0) };
    if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: i128 = 0;
    for (i, b) in f.bytes().enumerate() {
        if i < 9 {
            n = n * 10 + i128::from(b - b'0');
        }
    }
    for _ in f.len()..9 {
        n *= 10;
    }
    Some(n)
}

fn num(s: &str, len: usize, lo: i64, hi: i64) -> Option<i64> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = s.parse().ok()?;
    (lo..=hi).contains(&v).then_some(v)
}

fn parse_iso(s: &str) -> Option<Instant> {
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => {
            let (d, t) = s.split_at(i);
            (d, Some(t.get(1..)?))
        }
        None => (s, None),
    };
    let mut parts = date.split('-');
    let year = num(parts.next()?, 4, 0, 9999)?;
    let month = parts.next().map(|m| num(m, 2, 1, 12)).unwrap_or(Some(1))?;
    let day = parts.next().map(|d| num(d, 2, 1, 31)).unwrap_or(Some(1))?;
    if parts.next().is_some() || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let mut nanos = i128::from(days) * 86_400 * NANOS;
    if let Some(t) = time {
        nanos += parse_time(t)?;
    }
    Some(nanos)
}

/// `hh[:mm[:ss[.s...]]]` followed by an optional zone; returns nanoseconds since midnight UTC.
fn parse_time(t: &str) -> Option<i128> {
    let (clock, offset) = split_zone(t)?;
    let mut parts = clock.split(':');
    let h = num(parts.next()?, 2, 0, 23)?;
    let m = parts.next().map(|m| num(m, 2, 0, 59)).unwrap_or(Some(0))?;
    let (sec, frac) = match parts.next() {
        Some(sec) => {
            let (w, f) = match sec.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (sec, None),
            };
            (num(w, 2, 0, 60)?, fraction(f)?)
        }
        None => (0, 0),
    };
    if parts.next().is_some() {
        return None;
    }
    let local = i128::from(h * 3600 + m * 60 + sec) * NANOS + frac;
    Some(local - i128::from(offset) * NANOS)
}

/// Splits the zone designator off a time: `Z`, `+hh:mm`, `-hh:mm`, `+hh`, or none (UTC).
/// Returns the clock part and the offset east of UTC in seconds.
fn split_zone(t: &str) -> Option<(&str, i64)> {
    if let Some(clock) = t.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    match t.rfind(['+', '-']) {
        Some(i) => {
            let (clock, zone) = t.split_at(i);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let zone = zone.get(1..)?;
            let (zh, zm) = match zone.split_once(':') {
                Some((h, m)) => (num(h, 2, 0, 23)?, num(m, 2, 0, 59)?),
                None => (num(zone, 2, 0, 23)?, 0),
            };
            Some((clock, sign * (zh * 3600 + zm * 60)))
        }
        None => Some((t, 0)),
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats epoch seconds as `YYYY-MM-DDThh:mm:ssZ` (the form of `aws:CurrentTime`).
pub(crate) fn format_iso(epoch_secs: i64) -> String {
    let days = epoch_secs.div_euclid(86_400);
    let secs = epoch_secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
    }
    // Every request sets its time: digits written directly, without the formatting machinery.
    let mut out = String::with_capacity(20);
    for (value, width, then) in [
        (y, 4, '-'),
        (m, 2, '-'),
        (d, 2, 'T'),
        (h, 2, ':'),
        (mi, 2, ':'),
        (s, 2, 'Z'),
    ] {
        for place in (0..width).rev() {
            let digit = (value / 10i64.pow(place)) % 10;
            out.push(char::from_digit(u32::try_from(digit).unwrap_or(0), 10).unwrap_or('0'));
        }
        out.push(then);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> Option<i128> {
        parse(s).map(|n| n / NANOS)
    }

    #[test]
    fn iso_and_epoch_forms_denote_the_same_instant() {
        assert_eq!(secs("2020-01-01T00:00:01Z"), Some(1_577_836_801));
        assert_eq!(secs("1577836801"), Some(1_577_836_801));
        assert_eq!(secs("2020-01-01"), Some(1_577_836_800));
        assert_eq!(secs("2020-01"), Some(1_577_836_800));
        // Digits alone are epoch seconds, not a year (as IAM's legacy parser reads them).
        assert_eq!(secs("2020"), Some(2020));
        assert_eq!(secs("2020-01-01T01:00:01+01:00"), Some(1_577_836_801));
        assert_eq!(secs("2019-12-31T23:00:01-01:00"), Some(1_577_836_801));
        assert_eq!(secs("2020-01-01t00:00:01z"), Some(1_577_836_801));
        assert_eq!(secs("2020-01-01T00:00"), Some(1_577_836_800));
        assert_eq!(
            parse("2020-01-01T00:00:00.5Z"),
            Some(1_577_836_800 * NANOS + NANOS / 2)
        );
    }

    #[test]
    fn the_canonical_form_reads_as_the_general_parser_reads_it() {
        let mut checked = 0;
        for year in [
            "0000", "1969", "1970", "2000", "2024", "2100", "9999", "2a24",
        ] {
            for month in ["00", "01", "02", "04", "12", "13", "1x"] {
                for day in ["00", "01", "28", "29", "30", "31", "32"] {
                    for (t, z) in [("T", "Z"), ("t", "z"), ("T", "+"), (" ", "Z")] {
                        for clock in ["00:00:00", "23:59:60", "24:00:00", "12:60:00", "7:00:000"] {
                            let s = format!("{year}-{month}-{day}{t}{clock}{z}");
                            let general = parse_iso(s.trim());
                            assert!(
                                parse_canonical(&s).is_none_or(|c| Some(c) == general),
                                "{s}"
                            );
                            assert_eq!(parse(&s), general, "{s}");
                            checked += usize::from(parse_canonical(&s).is_some());
                        }
                    }
                }
            }
        }
        assert!(checked > 100);
    }

    #[test]
    fn invalid_dates_are_rejected() {
        for bad in [
            "",
            "yesterday",
            "2020-13-01",
            "2019-02-29",
            "2020-01-01T24:00:00Z",
            "2020-1-1",
            "2020-01-01T00:00:00+1",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert!(parse("2020-02-29").is_some());
    }

    #[test]
    fn formatting_writes_what_format_would() {
        let reference = |epoch_secs: i64| {
            let days = epoch_secs.div_euclid(86_400);
            let secs = epoch_secs.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                secs / 3600,
                (secs % 3600) / 60,
                secs % 60
            )
        };
        let mut t: i64 = -70_000_000_000;
        while t < 300_000_000_000 {
            assert_eq!(format_iso(t), reference(t), "{t}");
            t += 86_399 * 37 + 1;
        }
        for t in [
            0,
            1,
            59,
            3599,
            86_399,
            951_782_400,
            253_402_300_799,
            253_402_300_800,
        ] {
            assert_eq!(format_iso(t), reference(t), "{t}");
        }
    }

    #[test]
    fn formatting_round_trips() {
        assert_eq!(format_iso(1_577_836_801), "2020-01-01T00:00:01Z");
        for d in [-1_000_000i64, -1, 0, 1, 59, 18_000, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }
}
