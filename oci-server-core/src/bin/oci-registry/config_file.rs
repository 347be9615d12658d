//! `--config FILE`: every serving flag, read from one TOML file.
//!
//! A key names a flag: `listen = "..."` is `--listen`, and `[tls] cert = "..."` (or
//! `tls.cert`) is `--tls-cert`; underscores and dots become dashes. The file's settings go
//! in front of the command line, so a flag given there wins, and a setting whose flag has an
//! environment variable that is set is left out, so the variable wins: flags, then
//! `OCI_REGISTRY_*` variables, then the file, then the defaults. Values are checked by the
//! flags' own parsers; a key that names no flag is an error naming the key and its line.

use std::{ffi::OsString, ops::Range, path::Path};

use clap::{ArgAction, Command};
use toml::de::{DeTable, DeValue};

/// Why a config file cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigFileError {
    /// The file cannot be read.
    #[error("cannot read the config file {path:?}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The file is not TOML.
    #[error("{path:?} is not valid TOML: {message}")]
    Syntax {
        path: std::path::PathBuf,
        message: String,
    },
    /// A key that names no setting, or a value of a kind a setting cannot take.
    #[error("{path:?} line {line}: {problem}")]
    Key {
        path: std::path::PathBuf,
        line: usize,
        problem: String,
    },
}

/// One setting of the file: the flag it stands for and its value as the flag takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Setting {
    /// The key as written (`tls.cert`).
    pub key: String,
    /// The flag's long name (`tls-cert`).
    pub flag: String,
    /// The value; `None` for a switch that is on.
    pub value: Option<String>,
    /// The switch is off: nothing to pass.
    pub off: bool,
}

/// Reads `path` and turns each key into the setting of a flag of `command`.
pub(crate) fn read(path: &Path, command: &Command) -> Result<Vec<Setting>, ConfigFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let table = DeTable::parse(&text).map_err(|e| ConfigFileError::Syntax {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let mut settings = Vec::new();
    let mut leaves = Vec::new();
    flatten("", table.get_ref(), &mut leaves);
    for (key, span, value) in leaves {
        let problem = |problem: String| ConfigFileError::Key {
            path: path.to_owned(),
            line: line_of(&text, &span),
            problem,
        };
        let flag = key.replace(['.', '_'], "-");
        let arg = command
            .get_arguments()
            .find(|arg| {
                arg.get_long() == Some(flag.as_str())
                    || arg
                        .get_all_aliases()
                        .is_some_and(|a| a.contains(&flag.as_str()))
            })
            .filter(|arg| arg.get_id() != "config")
            .ok_or_else(|| problem(format!("unknown key `{key}`")))?;
        let long = arg.get_long().unwrap_or(flag.as_str()).to_owned();
        let switch = matches!(arg.get_action(), ArgAction::SetTrue);
        let setting = match (value, switch) {
            (DeValue::Boolean(on), true) => Setting {
                key,
                flag: long,
                value: None,
                off: !on,
            },
            (_, true) => return Err(problem(format!("`{key}` is true or false"))),
            (DeValue::String(text), false) => Setting {
                key,
                flag: long,
                value: Some(text.to_string()),
                off: false,
            },
            (DeValue::Integer(number), false) => Setting {
                key,
                flag: long,
                value: Some(number.as_str().to_owned()),
                off: false,
            },
            (_, false) => return Err(problem(format!("`{key}` takes a string or a number"))),
        };
        settings.push(setting);
    }
    Ok(settings)
}

/// The keys of a table with the span and value of each leaf, sections joined with dots.
fn flatten<'a, 'i>(
    prefix: &str,
    table: &'a DeTable<'i>,
    leaves: &mut Vec<(String, Range<usize>, &'a DeValue<'i>)>,
) {
    for (key, value) in table {
        let key_text = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        match value.get_ref() {
            DeValue::Table(inner) => flatten(&key_text, inner, leaves),
            leaf => leaves.push((key_text, key.span(), leaf)),
        }
    }
}

fn line_of(text: &str, span: &Range<usize>) -> usize {
    text.get(..span.start)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

/// The command line with the file's settings put in front of the user's arguments (after
/// the program name), leaving out those whose flag's environment variable is set.
pub(crate) fn with_settings(
    arguments: Vec<OsString>,
    settings: &[Setting],
    command: &Command,
) -> Vec<OsString> {
    let mut arguments = arguments.into_iter();
    let mut merged: Vec<OsString> = arguments.next().into_iter().collect();
    for setting in settings.iter().filter(|s| !s.off) {
        let from_env = command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(setting.flag.as_str()))
            .and_then(|arg| arg.get_env())
            .is_some_and(|name| std::env::var_os(name).is_some());
        if from_env {
            continue;
        }
        merged.push(format!("--{}", setting.flag).into());
        if let Some(value) = &setting.value {
            merged.push(value.into());
        }
    }
    merged.extend(arguments);
    merged
}

/// The path given by `--config FILE`, `--config=FILE` or `OCI_REGISTRY_CONFIG`.
pub(crate) fn config_path(arguments: &[OsString]) -> Option<std::path::PathBuf> {
    let mut iter = arguments.iter();
    while let Some(argument) = iter.next() {
        let text = argument.to_string_lossy();
        if text == "--config" {
            return iter.next().map(Into::into);
        }
        if let Some(path) = text.strip_prefix("--config=") {
            return Some(path.into());
        }
    }
    std::env::var_os("OCI_REGISTRY_CONFIG").map(Into::into)
}

#[cfg(test)]
mod tests {
    use clap::{Arg, ArgAction};

    use super::*;

    fn command() -> Command {
        Command::new("t")
            .arg(Arg::new("listen").long("listen"))
            .arg(Arg::new("tls_cert").long("tls-cert"))
            .arg(Arg::new("delete").long("delete").action(ArgAction::SetTrue))
    }

    fn settings_of(text: &str) -> Result<Vec<Setting>, ConfigFileError> {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write");
        read(file.path(), &command())
    }

    #[test]
    fn keys_and_sections_name_flags() {
        let settings =
            settings_of("listen = \"0.0.0.0:5000\"\ndelete = true\n[tls]\ncert = \"c.pem\"\n")
                .expect("valid");
        let flags: Vec<(&str, Option<&str>)> = settings
            .iter()
            .map(|s| (s.flag.as_str(), s.value.as_deref()))
            .collect();
        assert_eq!(
            flags,
            [
                ("delete", None),
                ("listen", Some("0.0.0.0:5000")),
                ("tls-cert", Some("c.pem"))
            ]
        );
        let argv = with_settings(
            vec!["prog".into(), "--listen".into(), "127.0.0.1:1".into()],
            &settings,
            &command(),
        );
        assert_eq!(
            argv,
            [
                "prog",
                "--delete",
                "--listen",
                "0.0.0.0:5000",
                "--tls-cert",
                "c.pem",
                "--listen",
                "127.0.0.1:1"
            ]
            .map(OsString::from)
        );
    }

    #[test]
    fn unknown_keys_name_the_key_and_the_line() {
        let error = settings_of("listen = \"a\"\n\n[tls]\ncertificate = \"c.pem\"\n")
            .expect_err("unknown key");
        let text = error.to_string();
        assert!(
            text.contains("line 4") && text.contains("unknown key `tls.certificate`"),
            "{text}"
        );
        let wrong = settings_of("delete = \"yes\"\n").expect_err("not a boolean");
        assert!(wrong.to_string().contains("line 1"), "{wrong}");
    }
}
