//! When to try a token request again, and how long to wait first.
//!
//! The policy (README.md, "Retries"):
//! * Retried: HTTP 429, 500, 502, 503 and 504, and a connection the server closed or reset
//!   mid-request. A client-credentials token request changes nothing on the server, so sending
//!   it again is safe. Nothing else is retried: an OAuth error, a 4xx, a refused connection, a
//!   DNS or TLS failure or a timeout would fail the same way again.
//! * At most `MAX_ATTEMPTS` requests per fetch, all inside one deadline of `timeout_ms` that
//!   bounds the whole fetch: connecting, every attempt and every wait between them.
//! * The wait before retry n (n = 1, 2...) is uniformly random in
//!   [0, min(MAX_BACKOFF, BASE_BACKOFF * 2^(n-1))] ("full jitter"), so many clients that failed
//!   together do not come back together.
//! * A `Retry-After` header (seconds, or an HTTP date) replaces that wait. When it points past
//!   the deadline, the fetch gives up at once instead of sleeping into a timeout, and no request
//!   is sent before that time (at most `MAX_HOLD` ahead) by later fetches of the same client.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Requests per fetch, the first one included.
pub const MAX_ATTEMPTS: u32 = 3;
/// The ceiling of the first wait; each later ceiling doubles.
pub const BASE_BACKOFF: Duration = Duration::from_millis(250);
/// No wait ceiling grows beyond this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(4);
/// The longest a server's `Retry-After` keeps this client from asking again: a bogus value
/// ("come back tomorrow") must not lock a hospital system out of its API for long.
pub const MAX_HOLD: Duration = Duration::from_secs(300);

/// HTTP statuses that say "try again later" rather than "this request is wrong".
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// What the transport does after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Sleep this long, then send the request again.
    RetryAfter(Duration),
    /// Return this attempt's outcome.
    Stop(StopReason),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Success, or a failure that a retry would not change.
    NotRetryable,
    /// `MAX_ATTEMPTS` requests were made.
    AttemptsExhausted,
    /// The wait (backoff or `Retry-After`) would end after the deadline.
    NoTimeLeft,
}

/// Decides what follows attempt number `attempt` (1-based). `retry_after` is the server's
/// `Retry-After`, if it sent one; `remaining` the time left before the deadline.
pub fn next(attempt: u32, retryable: bool, retry_after: Option<Duration>, remaining: Duration) -> Next {
    if !retryable {
        return Next::Stop(StopReason::NotRetryable);
    }
    if attempt >= MAX_ATTEMPTS {
        return Next::Stop(StopReason::AttemptsExhausted);
    }
    let wait = retry_after.unwrap_or_else(|| backoff(attempt));
    // A retry needs time for the wait and for the request itself.
    if wait >= remaining {
        return Next::Stop(StopReason::NoTimeLeft);
    }
    Next::RetryAfter(wait)
}

/// Full jitter: uniformly random between zero and the retry's ceiling.
pub fn backoff(retry: u32) -> Duration {
    crate::fork::reseed_jitter_after_fork();
    let ceiling = backoff_ceiling(retry);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(0..=millis))
}

/// min(MAX_BACKOFF, BASE_BACKOFF * 2^(retry-1)), for retry 1, 2, ...
pub fn backoff_ceiling(retry: u32) -> Duration {
    let doublings = retry.saturating_sub(1).min(16);
    BASE_BACKOFF.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

/// A `Retry-After` value (RFC 9110 section 10.2.3): delay-seconds, or an HTTP date
/// (IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`). A date in the past means "now". Values
/// in the obsolete date formats are ignored, and the normal backoff applies.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only; too many of them means "a very long time".
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = parse_imf_fixdate(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the Unix epoch of an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_imf_fixdate(value: &str) -> Option<u64> {
    let bytes = value.as_bytes();
    if bytes.len() != 29 || &bytes[3..5] != b", " || !value.ends_with(" GMT") {
        return None;
    }
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    if !DAYS.contains(&value.get(0..3)?) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u64> {
        let text = value.get(range)?;
        text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse().ok())?
    };
    let day = number(5..7)?;
    let month = MONTHS.iter().position(|m| Some(*m) == value.get(8..11))? as u64 + 1;
    let year = number(12..16)?;
    let (hour, minute, second) = (number(17..19)?, number(20..22)?, number(23..25)?);
    let separators_ok = bytes[7] == b' ' && bytes[11] == b' ' && bytes[16] == b' ' && bytes[19] == b':' && bytes[22] == b':';
    if !separators_ok || !(1..=31).contains(&day) || year < 1970 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a date in the proleptic Gregorian calendar (year >= 1970), after
/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn only_transient_statuses_are_retried() {
        for status in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(status), "{status}");
        }
        for status in [200, 301, 302, 400, 401, 403, 404, 405, 415, 501, 505] {
            assert!(!is_retryable_status(status), "{status}");
        }
    }

    #[test]
    fn attempts_are_bounded() {
        let plenty = Duration::from_secs(60);
        assert!(matches!(next(1, true, None, plenty), Next::RetryAfter(_)));
        assert!(matches!(next(MAX_ATTEMPTS - 1, true, None, plenty), Next::RetryAfter(_)));
        assert_eq!(next(MAX_ATTEMPTS, true, None, plenty), Next::Stop(StopReason::AttemptsExhausted));
        assert_eq!(next(1, false, None, plenty), Next::Stop(StopReason::NotRetryable));
    }

    #[test]
    fn retry_after_replaces_the_backoff_and_never_outlasts_the_deadline() {
        assert_eq!(next(1, true, Some(2 * SECOND), 10 * SECOND), Next::RetryAfter(2 * SECOND));
        assert_eq!(next(1, true, Some(Duration::ZERO), SECOND), Next::RetryAfter(Duration::ZERO));
        assert_eq!(next(1, true, Some(10 * SECOND), 10 * SECOND), Next::Stop(StopReason::NoTimeLeft));
        assert_eq!(next(1, true, None, Duration::ZERO), Next::Stop(StopReason::NoTimeLeft));
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_ceiling() {
        assert_eq!(backoff_ceiling(1), BASE_BACKOFF);
        assert_eq!(backoff_ceiling(2), BASE_BACKOFF * 2);
        assert_eq!(backoff_ceiling(3), BASE_BACKOFF * 4);
        assert_eq!(backoff_ceiling(40), MAX_BACKOFF);
        let waits: Vec<Duration> = (0..200).map(|_| backoff(2)).collect();
        assert!(waits.iter().all(|w| *w <= BASE_BACKOFF * 2));
        // Jitter: 200 draws from 501 values are not all the same.
        assert!(waits.iter().any(|w| *w != waits[0]));
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("120", now), Some(120 * SECOND));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("99999999999999999999999", now), Some(Duration::from_secs(u64::MAX)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), Some(30 * SECOND));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", UNIX_EPOCH), Some(Duration::ZERO));
        assert_eq!(parse_imf_fixdate("Tue, 29 Feb 2028 23:59:59 GMT"), Some(1_835_481_599));
        for bad in ["", "-5", "1.5", "soon", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }
}
