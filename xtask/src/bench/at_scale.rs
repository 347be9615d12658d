//! The benchmarks that write their own section of `xtask/BENCHMARKS.md` rather than a column
//! of the main table: `--only scale` ([`scale`]) and `--only s3`
//! ([`s3_requests`]). Each section sits between marker comments, so a run
//! replaces its own section and the main bench keeps the others when it rewrites the file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::error::BenchError;
use super::{s3_requests, scale};
use crate::cargo::build_binary;
use crate::error::XtaskError;

/// Which of these benchmarks `args` select, if any.
fn selected(args: &[String]) -> Option<&str> {
    let at = args.iter().position(|arg| arg == "--only")?;
    args.get(at + 1)
        .map(String::as_str)
        .filter(|name| matches!(*name, "scale" | "s3"))
}

/// Runs `--only scale` or `--only s3` when `args` ask for one; `None` otherwise.
pub fn main(args: &[String]) -> Option<Result<ExitCode, XtaskError>> {
    let name = selected(args)?;
    if cfg!(debug_assertions) {
        return Some(super::rerun_in_release(args));
    }
    Some(run(name, args))
}

fn run(name: &str, args: &[String]) -> Result<ExitCode, XtaskError> {
    let scale_options = match name {
        "scale" => Some(scale::Options::parse(args)?),
        _ => {
            if let Some(extra) = args
                .iter()
                .find(|a| !["--only", "s3"].contains(&a.as_str()))
            {
                return Err(XtaskError::Usage(format!(
                    "unknown argument {extra:?}\nusage: cargo xtask bench --only s3"
                )));
            }
            None
        }
    };
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(BenchError::from)
        .and_then(|runtime| {
            runtime.block_on(async {
                let ours = build_binary("oci-server-core", "oci-registry", true)?;
                match &scale_options {
                    Some(options) => scale::run(options, &ours).await,
                    None => s3_requests::run(&ours, 1024).await,
                }
            })
        });
    let section = match outcome {
        Ok(section) => section,
        Err(BenchError::Xtask(error)) => return Err(error),
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    print!("{section}");
    let key = match &scale_options {
        Some(options) => format!("scale {}", options.backends().join(" ")),
        None => "s3".to_string(),
    };
    let path = document_path();
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, replace_section(&old, &key, &section))?;
    eprintln!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `xtask/BENCHMARKS.md`.
pub fn document_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md")
}

fn markers(key: &str) -> (String, String) {
    (
        format!("<!-- begin {key} -->\n"),
        format!("<!-- end {key} -->\n"),
    )
}

/// `document` with the section `key` set to `body` (appended when it has none).
fn replace_section(document: &str, key: &str, body: &str) -> String {
    let (begin, end) = markers(key);
    let section = format!("{begin}{body}{end}");
    if let Some(start) = document.find(&begin)
        && let Some(stop) = document[start..].find(&end)
    {
        let stop = start + stop + end.len();
        return format!("{}{section}{}", &document[..start], &document[stop..]);
    }
    let separator = if document.is_empty() || document.ends_with("\n\n") {
        ""
    } else {
        "\n"
    };
    format!("{document}{separator}{section}")
}

/// `new` (a freshly written main document) followed by every marked section of the document
/// at `path`, so rewriting the main table keeps the scale and S3 sections.
pub fn keep_sections(path: &Path, new: String) -> String {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let mut document = new;
    let mut rest = old.as_str();
    while let Some(start) = rest.find("<!-- begin ") {
        let Some(key_end) = rest[start..].find(" -->\n") else {
            break;
        };
        let key = &rest[start + "<!-- begin ".len()..start + key_end];
        let (_, end) = markers(key);
        let Some(stop) = rest[start..].find(&end) else {
            break;
        };
        let body_start = start + key_end + " -->\n".len();
        let body = &rest[body_start..start + stop];
        document = replace_section(&document, key, body);
        rest = &rest[start + stop + end.len()..];
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_only_its_own_benchmarks() {
        let args = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(
            selected(&args(&["--only", "scale", "--tags", "5"])),
            Some("scale")
        );
        assert_eq!(selected(&args(&["--only", "s3"])), Some("s3"));
        assert_eq!(selected(&args(&["--only", "blob"])), None);
        assert_eq!(selected(&args(&["--runs", "2"])), None);
    }

    #[test]
    fn sections_are_replaced_in_place_and_kept_across_rewrites() {
        let once = replace_section("# Doc\n", "s3", "table 1\n");
        assert_eq!(
            once,
            "# Doc\n\n<!-- begin s3 -->\ntable 1\n<!-- end s3 -->\n"
        );
        let twice = replace_section(&once, "s3", "table 2\n");
        assert_eq!(
            twice,
            "# Doc\n\n<!-- begin s3 -->\ntable 2\n<!-- end s3 -->\n"
        );
        let both = replace_section(&twice, "scale fs", "rows\n");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("BENCHMARKS.md");
        std::fs::write(&path, &both).unwrap();
        let kept = keep_sections(&path, "# New\n".to_string());
        assert_eq!(
            kept,
            "# New\n\n<!-- begin s3 -->\ntable 2\n<!-- end s3 -->\n\n<!-- begin scale fs -->\nrows\n<!-- end scale fs -->\n"
        );
    }
}
