//! HTTP-date (IMF-fixdate) and `Retry-After` parsing.

use super::MAX_WAIT_MS;

const MS_PER_SEC: u64 = 1_000;
const SECS_PER_DAY: u64 = 86_400;

/// Parses an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT` into ms
/// since the epoch.
///
/// Used for the server `Date` header (clock-skew correction) and for
/// `Retry-After`. Only the fixed format every current server emits is
/// accepted; the obsolete RFC 850/asctime forms give `None`, which callers
/// treat as "no information".
pub fn parse_http_date(value: &str) -> Option<u64> {
    // `D` is a digit, `N` a letter of a day or month name (checked below), anything
    // else must match exactly.
    const SHAPE: &[u8; 29] = b"NNN, DD NNN DDDD DD:DD:DD GMT";
    const DAYS: &[u8; 21] = b"MonTueWedThuFriSatSun";
    const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
    let bytes = value.trim().as_bytes();
    if bytes.len() != SHAPE.len() {
        return None;
    }
    for (&b, &shape) in bytes.iter().zip(SHAPE) {
        let fits = match shape {
            b'D' => b.is_ascii_digit(),
            b'N' => true,
            _ => b == shape,
        };
        if !fits {
            return None;
        }
    }
    let field = |start: usize, len: usize| bytes.get(start..start.saturating_add(len));
    let name_index = |names: &[u8], name: &[u8]| names.chunks(3).position(|n| n == name);
    name_index(DAYS, field(0, 3)?)?;
    let month = name_index(MONTHS, field(8, 3)?)?;
    let month = u64::try_from(month).ok()?.saturating_add(1);
    let day = digits(field(5, 2)?)?;
    let year = digits(field(12, 4)?)?;
    let hour = digits(field(17, 2)?)?;
    let minute = digits(field(20, 2)?)?;
    let second = digits(field(23, 2)?)?;
    // 60 allows a leap second, which the epoch count folds into the next one.
    if year < 1970
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_since_epoch(year, month, day)?;
    let secs = days.checked_mul(SECS_PER_DAY)?.checked_add(
        hour.checked_mul(3_600)?
            .checked_add(minute.checked_mul(60)?)?
            .checked_add(second)?,
    )?;
    secs.checked_mul(MS_PER_SEC)
}

/// Parses `Retry-After` (delta-seconds or HTTP-date) into a delay in ms.
///
/// Capped at [`MAX_WAIT_MS`] so a hostile value cannot stall refreshes for
/// days; a date in the past means "now" (0).
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let delay = if value.bytes().all(|b| b.is_ascii_digit()) {
        value
            .bytes()
            .fold(0u64, |acc, b| {
                acc.saturating_mul(10)
                    .saturating_add(u64::from(b.saturating_sub(b'0')))
            })
            .saturating_mul(MS_PER_SEC)
    } else {
        parse_http_date(value)?.saturating_sub(now_ms)
    };
    Some(delay.min(MAX_WAIT_MS))
}

fn digits(bytes: &[u8]) -> Option<u64> {
    bytes.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit().then(|| {
            acc.saturating_mul(10)
                .saturating_add(u64::from(b.saturating_sub(b'0')))
        })
    })
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 (H. Hinnant's `days_from_civil`, for years >= 1970,
/// so all arithmetic stays unsigned).
fn days_since_epoch(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = y / 400;
    let yoe = y % 400;
    let mp = month.checked_add(9)? % 12;
    let doy = (mp.checked_mul(153)?.checked_add(2)? / 5).checked_add(day.checked_sub(1)?)?;
    let doe = yoe
        .checked_mul(365)?
        .checked_add(yoe / 4)?
        .checked_sub(yoe / 100)?
        .checked_add(doy)?;
    era.checked_mul(146_097)?
        .checked_add(doe)?
        .checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_imf_fixdate() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("  Tue, 29 Feb 2000 23:59:59 GMT "),
            Some(951_868_799_000)
        );
        assert_eq!(
            parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(253_402_300_799_000)
        );
        assert_eq!(
            parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT"),
            Some(1_700_000_000_000)
        );
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, 06 Nov 19a4 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMTX",
            "Sun, 06 Nov 1994 08:49:3é GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    /// The former pattern-matching parser, the reference for the template one.
    fn reference(value: &str) -> Option<u64> {
        let bytes: [u8; 29] = value.trim().as_bytes().try_into().ok()?;
        let [n0, n1, n2, b',', b' ', d0, d1, b' ', m0, m1, m2, b' ', y0, y1, y2, y3, b' ', h0, h1, b':', i0, i1, b':', s0, s1, b' ', b'G', b'M', b'T'] =
            bytes
        else {
            return None;
        };
        const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
        if !DAYS.contains(&&[n0, n1, n2]) {
            return None;
        }
        const MONTHS: [&[u8; 3]; 12] = [
            b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
            b"Dec",
        ];
        let month = MONTHS.iter().position(|m| **m == [m0, m1, m2])? as u64 + 1;
        let day = digits(&[d0, d1])?;
        let year = digits(&[y0, y1, y2, y3])?;
        let hour = digits(&[h0, h1])?;
        let minute = digits(&[i0, i1])?;
        let second = digits(&[s0, s1])?;
        if year < 1970
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let days = days_since_epoch(year, month, day)?;
        Some(((days * SECS_PER_DAY) + hour * 3_600 + minute * 60 + second) * MS_PER_SEC)
    }

    #[test]
    fn template_parser_matches_the_reference() {
        let good = "Sun, 06 Nov 1994 08:49:37 GMT";
        let alphabet: &[u8] = b"SunNovMonFebJanDec0123456789 ,:GMTx\xc3\xa9";
        let mut state: u64 = 0xDEAD_BEEF_CAFE_F00D;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut bytes = good.as_bytes().to_vec();
            for k in 0..(state % 4) {
                let at = ((state >> (8 + 8 * k)) % 29) as usize;
                bytes[at] = alphabet[((state >> (3 + 7 * k)) % alphabet.len() as u64) as usize];
            }
            if state.is_multiple_of(7) {
                bytes.insert(0, b' ');
            }
            let text = String::from_utf8_lossy(&bytes);
            assert_eq!(parse_http_date(&text), reference(&text), "{text:?}");
        }
        for year in [1970, 1999, 2000, 2023, 2024, 2100, 9999] {
            for (month, days) in [("Jan", 31), ("Feb", 29), ("Apr", 30), ("Dec", 31)] {
                for day in [1, 28, days, days + 1] {
                    let text = format!("Mon, {day:02} {month} {year} 23:59:60 GMT");
                    assert_eq!(parse_http_date(&text), reference(&text), "{text}");
                }
            }
        }
    }

    #[test]
    fn retry_after_delta_seconds() {
        assert_eq!(parse_retry_after("120", 0), Some(120_000));
        assert_eq!(parse_retry_after(" 0 ", 0), Some(0));
        assert_eq!(
            parse_retry_after("99999999999999999999999", 0),
            Some(MAX_WAIT_MS)
        );
        assert_eq!(parse_retry_after("7200", 0), Some(MAX_WAIT_MS));
        for bad in ["", "  ", "-5", "1.5", "abc", "12s"] {
            assert_eq!(parse_retry_after(bad, 0), None, "{bad}");
        }
    }

    #[test]
    fn retry_after_http_date() {
        let now = 784_111_777_000;
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(30_000)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1995 08:00:00 GMT", now),
            Some(MAX_WAIT_MS)
        );
    }
}
