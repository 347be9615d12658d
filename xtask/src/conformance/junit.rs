//! `--junit FILE`: the results as JUnit XML, the format CI systems read. One `<testsuite>` per
//! workflow; a failed MUST is a `<failure>`, a skip a `<skipped>`, and the basis, warnings and
//! remarks go to the case's `<system-out>` (JUnit has no element for a warning).

use std::fmt::Write as _;

use super::report::{CaseResult, Level, Outcome, Workflow};
use super::summary::Counts;

/// The report as a JUnit XML document.
pub fn render(results: &[CaseResult]) -> String {
    let totals = Counts::of(results);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"OCI distribution conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
        results.len(),
        totals.failed,
        totals.skipped
    );
    for workflow in Workflow::ALL {
        let cases: Vec<&CaseResult> = results
            .iter()
            .filter(|result| result.scope.workflow == workflow)
            .collect();
        if cases.is_empty() {
            continue;
        }
        let counts = Counts::of(cases.iter().copied());
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            escape(&workflow.to_string()),
            cases.len(),
            counts.failed,
            counts.skipped
        );
        for case in cases {
            write_case(&mut xml, case);
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn write_case(xml: &mut String, case: &CaseResult) {
    let newer = match case.scope.level {
        Level::V1_1 => "",
        Level::Newer => " [newer]",
    };
    let _ = writeln!(
        xml,
        "    <testcase classname=\"{}\" name=\"{}{}\">",
        escape(&case.scope.workflow.to_string()),
        escape(&case.name),
        newer
    );
    match &case.outcome {
        Outcome::Failed(reasons) => {
            let _ = writeln!(
                xml,
                "      <failure message=\"{}\" type=\"MUST\">{}</failure>",
                escape(reasons.first().map(String::as_str).unwrap_or_default()),
                escape(&reasons.join("\n"))
            );
        }
        Outcome::Skipped(reason) => {
            let _ = writeln!(xml, "      <skipped message=\"{}\"/>", escape(reason));
        }
        Outcome::Passed | Outcome::Warned => {}
    }
    let mut out = format!("basis: {}", case.basis);
    for warning in &case.warnings {
        let _ = write!(out, "\nwarning: {warning}");
    }
    for note in &case.notes {
        let _ = write!(out, "\nnote: {note}");
    }
    let _ = writeln!(xml, "      <system-out>{}</system-out>", escape(&out));
    xml.push_str("    </testcase>\n");
}

/// Escapes text for an XML attribute or element, dropping characters XML 1.0 cannot carry.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(ch),
            ch if (ch as u32) < 0x20 => escaped.push('\u{fffd}'),
            ch => escaped.push(ch),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::basis::{Basis, Feature};
    use crate::conformance::report::Scope;

    fn case(name: &str, outcome: Outcome, warnings: &[&str]) -> CaseResult {
        CaseResult {
            scope: Scope::v1_1(Workflow::Push),
            basis: Basis::Feature(Feature::Catalog, "§x"),
            name: name.to_string(),
            outcome,
            warnings: warnings.iter().map(|w| w.to_string()).collect(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn failures_skips_and_warnings_become_junit_elements() {
        let xml = render(&[
            case(
                "a <b> & \"c\"",
                Outcome::Failed(vec!["expected 1, got 2".into()]),
                &[],
            ),
            case(
                "skipped",
                Outcome::Skipped("catalog not offered".into()),
                &[],
            ),
            case("warned", Outcome::Warned, &["code \u{1} wrong"]),
        ]);
        assert!(xml.contains(r#"<testsuites name="OCI distribution conformance" tests="3" failures="1" skipped="1">"#), "{xml}");
        assert!(xml.contains(r#"<testsuite name="Push" tests="3" failures="1" skipped="1">"#));
        assert!(xml.contains(r#"name="a &lt;b&gt; &amp; &quot;c&quot;""#));
        assert!(xml.contains(r#"<failure message="expected 1, got 2" type="MUST">"#));
        assert!(xml.contains(r#"<skipped message="catalog not offered"/>"#));
        assert!(xml.contains("warning: code \u{fffd} wrong"));
        assert!(xml.contains("basis: MUST of catalog, §x"));
        assert!(!xml.contains("Pull"), "empty workflows are left out");
    }
}
