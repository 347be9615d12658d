//! [`Checks`]: what one running case records. A failed MUST assertion is a failure, a failed
//! SHOULD assertion a warning; the case also records skips, remarks, and which optional
//! features it found the registry to offer or not.

use std::collections::BTreeMap;
use std::fmt;

use super::basis::{Basis, Feature};

/// Whether the registry offers an optional feature, as found by a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// The registry offers it.
    Offered,
    /// It does not; why we think so.
    NotOffered(String),
}

/// What is known about the registry's features so far.
pub type Features = BTreeMap<Feature, Availability>;

/// How an unmet assertion counts.
#[derive(Debug, Clone, Copy)]
enum Severity {
    Must,
    /// A warning, citing what it rests on.
    Should(&'static str),
}

/// The assertions of one running case.
#[derive(Debug)]
pub struct Checks {
    severity: Severity,
    failures: Vec<String>,
    warnings: Vec<String>,
    skipped: Option<String>,
    notes: Vec<String>,
    features: Features,
    found: Vec<(Feature, Availability)>,
}

/// Everything a finished case recorded.
#[derive(Debug, Default)]
pub struct Recorded {
    /// Unmet MUST assertions.
    pub failures: Vec<String>,
    /// Unmet SHOULD assertions.
    pub warnings: Vec<String>,
    /// Why the case skipped itself, if it did.
    pub skipped: Option<String>,
    /// Remarks shown with the result.
    pub notes: Vec<String>,
    /// Features the case found offered or not.
    pub found: Vec<(Feature, Availability)>,
}

impl Checks {
    /// Checks for a case resting on `basis`, knowing `features` so far.
    pub fn new(basis: Basis, features: Features) -> Checks {
        Checks {
            severity: match basis {
                Basis::Should(section) => Severity::Should(section),
                Basis::Must(_) | Basis::Feature(..) => Severity::Must,
            },
            failures: Vec::new(),
            warnings: Vec::new(),
            skipped: None,
            notes: Vec::new(),
            features,
            found: Vec::new(),
        }
    }

    /// Records an unmet assertion: a failure, or a warning inside [`Checks::should`] or in a
    /// case resting on a SHOULD.
    pub fn fail(&mut self, reason: impl Into<String>) {
        let reason = reason.into();
        match self.severity {
            Severity::Must => self.failures.push(reason),
            Severity::Should(section) => {
                self.warnings.push(format!("{reason} (SHOULD: {section})"))
            }
        }
    }

    /// Records an unmet assertion unless `ok`; returns `ok`.
    pub fn check(&mut self, ok: bool, reason: impl FnOnce() -> String) -> bool {
        if !ok {
            self.fail(reason());
        }
        ok
    }

    /// Records an unmet assertion unless `expected == got`; returns whether they matched.
    pub fn equal<T: PartialEq + fmt::Debug + ?Sized>(
        &mut self,
        what: &str,
        expected: &T,
        got: &T,
    ) -> bool {
        self.check(expected == got, || {
            format!("{what}: expected {expected:?}, got {got:?}")
        })
    }

    /// Runs `assertions` as SHOULDs resting on `section`: what they find unmet is a warning.
    pub fn should<R>(
        &mut self,
        section: &'static str,
        assertions: impl FnOnce(&mut Checks) -> R,
    ) -> R {
        let outer = std::mem::replace(&mut self.severity, Severity::Should(section));
        let result = assertions(self);
        self.severity = outer;
        result
    }

    /// Marks the case skipped (neither passed nor failed), with the reason.
    pub fn skip(&mut self, reason: impl Into<String>) {
        self.skipped = Some(reason.into());
    }

    /// Adds a remark shown with the result, even when the case passes.
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// What is known about `feature`, including what this case found.
    pub fn availability(&self, feature: Feature) -> Option<&Availability> {
        self.features.get(&feature)
    }

    /// Whether the registry is known not to offer `feature`.
    pub fn lacks(&self, feature: Feature) -> bool {
        matches!(
            self.availability(feature),
            Some(Availability::NotOffered(_))
        )
    }

    /// Records that the registry offers `feature`.
    pub fn offered(&mut self, feature: Feature) {
        self.found_out(feature, Availability::Offered);
    }

    /// Records that the registry does not offer `feature`, and why we think so. For a feature
    /// the spec recommends, that is also a warning.
    pub fn not_offered(&mut self, feature: Feature, reason: impl Into<String>) {
        let reason = reason.into();
        if let Some(section) = feature.recommended() {
            self.warnings.push(format!(
                "{feature} is not offered ({reason}) (SHOULD: {section})"
            ));
        }
        self.found_out(feature, Availability::NotOffered(reason));
    }

    fn found_out(&mut self, feature: Feature, availability: Availability) {
        self.features.insert(feature, availability.clone());
        self.found.push((feature, availability));
    }

    /// Everything recorded, for the report.
    pub fn finish(self) -> Recorded {
        Recorded {
            failures: self.failures,
            warnings: self.warnings,
            skipped: self.skipped,
            notes: self.notes,
            found: self.found,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_should_block_turns_failures_into_cited_warnings() {
        let mut c = Checks::new(Basis::Must("v1.1 §x"), Features::new());
        c.fail("must");
        c.should("v1.1 §y", |c| c.equal("code", "A", "B"));
        c.fail("must again");
        let recorded = c.finish();
        assert_eq!(recorded.failures, ["must", "must again"]);
        assert_eq!(
            recorded.warnings,
            ["code: expected \"A\", got \"B\" (SHOULD: v1.1 §y)"]
        );
    }

    #[test]
    fn a_case_resting_on_a_should_only_warns() {
        let mut c = Checks::new(Basis::Should("interop"), Features::new());
        c.fail("x");
        let recorded = c.finish();
        assert!(recorded.failures.is_empty());
        assert_eq!(recorded.warnings, ["x (SHOULD: interop)"]);
    }

    #[test]
    fn a_recommended_feature_that_is_missing_warns() {
        let mut c = Checks::new(Basis::Must("s"), Features::new());
        c.not_offered(Feature::Catalog, "404");
        c.not_offered(Feature::Ranges, "answered 200");
        assert!(c.lacks(Feature::Catalog));
        let recorded = c.finish();
        assert_eq!(recorded.warnings.len(), 1, "{:?}", recorded.warnings);
        assert_eq!(recorded.found.len(), 2);
    }
}
