//! Numeric flag values, checked when the command line is parsed.
//!
//! Every numeric flag goes through one of these `value_parser`s, so a bad value is a
//! usage error (exit 2) naming the flag and the accepted range, never a panic later
//! (`Duration::from_secs_f64(1e20)` panics) or a silent clamp (`--max-connections 0`).

use std::time::Duration;

/// The longest time any flag accepts: 1,000,000 s (11.6 days). Far beyond any sensible
/// deadline or timeout, and far below what a `Duration` or a tokio timer can hold.
pub(crate) const MAX_SECS: f64 = 1e6;

/// The largest byte count a size flag accepts: 1 GiB (a reader may buffer about twice
/// its limit).
pub(crate) const MAX_BYTES: u64 = 1 << 30;

/// A number of seconds from 0 to [`MAX_SECS`] (0 allowed: `--shutdown-deadline 0`
/// aborts at once).
pub(crate) fn secs(s: &str) -> Result<Duration, String> {
    parse_secs(s, 0.0..=MAX_SECS, "from 0")
}

/// A number of seconds above 0, up to [`MAX_SECS`] (timeouts, durations).
pub(crate) fn positive_secs(s: &str) -> Result<Duration, String> {
    parse_secs(s, f64::MIN_POSITIVE..=MAX_SECS, "above 0")
}

fn parse_secs(
    s: &str,
    range: std::ops::RangeInclusive<f64>,
    low: &str,
) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        // `contains` is false for NaN; the range keeps the value finite.
        Ok(v) if range.contains(&v) => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!(
            "expected a number of seconds {low} up to {MAX_SECS:e}, got {s:?}"
        )),
    }
}

/// A parser for a whole number from `min` to `max` (inclusive).
pub(crate) fn count<T: TryFrom<u64>>(
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |s| {
        s.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| format!("expected a whole number from {min} to {max}, got {s:?}"))
    }
}

/// A parser for a byte count from 1 to [`MAX_BYTES`].
pub(crate) fn bytes() -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    count(1, MAX_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_in_range_are_durations() {
        assert_eq!(secs("0"), Ok(Duration::ZERO));
        assert_eq!(secs("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(positive_secs("1e6"), Ok(Duration::from_secs(1_000_000)));
    }

    #[test]
    fn seconds_out_of_range_are_errors() {
        for bad in [
            "-1", "1e20", "1e30", "inf", "-inf", "nan", "NaN", "", "5s", "1e6.1",
        ] {
            assert!(secs(bad).is_err(), "{bad}");
            assert!(positive_secs(bad).is_err(), "{bad}");
        }
        assert!(positive_secs("0").is_err());
        assert!(positive_secs("1e-400").is_err(), "underflows to 0");
    }

    #[test]
    fn counts_outside_the_range_are_errors() {
        let parse = count::<usize>(1, 10);
        assert_eq!(parse("1"), Ok(1));
        assert_eq!(parse("10"), Ok(10));
        for bad in ["0", "11", "-1", "1.5", "", "18446744073709551616"] {
            let message = parse(bad).unwrap_err();
            assert!(message.contains("from 1 to 10"), "{bad}: {message}");
        }
        assert!(count::<u8>(0, 300)("256").is_err(), "does not fit the type");
    }
}
