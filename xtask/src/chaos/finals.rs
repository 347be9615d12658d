//! Which final values a register can hold after concurrent writes, some of which may or may
//! not have happened.
//!
//! Each write takes effect at one moment within its span. A write that was acknowledged
//! surely happened; one without an answer (or with a 5xx) may have. A write `w` can be the
//! last to take effect unless a sure write started after `w` ended: then that one surely took
//! effect later. So the possible final values are those of every write not overtaken that way,
//! and the initial value too when no write surely happened. The set over-approximates (it
//! never forbids a value an ordering allows), so the checker never reports a false loss.

use super::history::Span;

/// One write to a register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write<V> {
    /// When it was sent and answered.
    pub span: Span,
    /// The value it writes.
    pub value: V,
    /// Whether it surely happened (acknowledged).
    pub sure: bool,
}

/// The values the register may end with, without duplicates, in the writes' order.
pub fn possible_finals<V: Clone + PartialEq>(writes: &[Write<V>], initial: V) -> Vec<V> {
    let mut finals: Vec<V> = Vec::new();
    let mut add = |value: &V| {
        if !finals.contains(value) {
            finals.push(value.clone());
        }
    };
    for write in writes {
        let overtaken = writes
            .iter()
            .any(|later| later.sure && later.span.start > write.span.end);
        if !overtaken {
            add(&write.value);
        }
    }
    if !writes.iter().any(|write| write.sure) {
        add(&initial);
    }
    finals
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn write(start: u64, end: u64, value: u8, sure: bool) -> Write<u8> {
        Write {
            span: Span {
                start: Duration::from_millis(start),
                end: Duration::from_millis(end),
            },
            value,
            sure,
        }
    }

    #[test]
    fn the_last_acknowledged_write_wins_when_writes_are_sequential() {
        let writes = [write(0, 10, 1, true), write(20, 30, 2, true)];
        assert_eq!(possible_finals(&writes, 0), vec![2]);
    }

    #[test]
    fn overlapping_writes_may_end_either_way() {
        let writes = [write(0, 30, 1, true), write(10, 20, 2, true)];
        assert_eq!(possible_finals(&writes, 0), vec![1, 2]);
    }

    #[test]
    fn an_uncertain_write_may_or_may_not_have_happened() {
        let writes = [write(0, 10, 1, false)];
        assert_eq!(possible_finals(&writes, 0), vec![1, 0]);
        let writes = [write(0, 10, 1, true), write(20, 30, 2, false)];
        assert_eq!(possible_finals(&writes, 0), vec![1, 2]);
    }

    #[test]
    fn without_writes_the_register_keeps_its_initial_value() {
        assert_eq!(possible_finals::<u8>(&[], 7), vec![7]);
    }
}
