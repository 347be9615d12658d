//! Durations as operators write them: `90s`, `30m`, `1h`, `2d`, `1h30m`, or bare seconds.

use std::time::Duration;

/// Parses `<number><unit>` groups (`s`, `m`, `h`, `d`) or a bare number of seconds; `None`
/// for anything else or an overflow.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(digit.into())?,
            );
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    if number.is_some() || text.is_empty() {
        return None;
    }
    Some(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations() {
        let secs = |t: &str| parse_duration(t).map(|d| d.as_secs());
        assert_eq!(secs("0"), Some(0));
        assert_eq!(secs("90s"), Some(90));
        assert_eq!(secs("30m"), Some(1800));
        assert_eq!(secs("1h"), Some(3600));
        assert_eq!(secs("1h30m"), Some(5400));
        assert_eq!(secs("2d"), Some(172_800));
        for bad in ["", "h", "1x", "1h30", "-1h", "1.5h"] {
            assert_eq!(secs(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn written_durations_parse_back(d in 0u64..1000, h in 0u64..100, m in 0u64..1000, s in 0u64..1000) {
            let text = format!("{d}d{h}h{m}m{s}s");
            prop_assert_eq!(parse_duration(&text), Some(Duration::from_secs(d * 86_400 + h * 3600 + m * 60 + s)));
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,20}") {
            let _ = parse_duration(&text);
        }
    }
}
