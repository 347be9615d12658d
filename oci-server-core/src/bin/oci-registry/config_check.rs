//! `oci-registry config check FILE`: validates a config file as the server would read it and
//! prints the effective configuration, each setting with where it came from.

use std::{io::Write, path::PathBuf};

use clap::{ArgAction, Args, CommandFactory, Subcommand, parser::ValueSource};

use crate::{Cli, config_file};

/// What to do with a config file.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Check FILE and print the effective configuration (secrets redacted).
    Check(CheckArgs),
}

/// The file to check.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The TOML config file.
    file: PathBuf,
}

/// Settings whose values are never printed: passwords, secrets, keys and tokens themselves
/// (not the `--token-*` settings, which name the token service: realm, issuer, files).
fn is_secret(flag: &str) -> bool {
    ["password", "secret", "signing-key"]
        .iter()
        .any(|word| flag.contains(word))
        || flag.ends_with("token")
}

/// Checks the file and prints `key = value  # source` for every serving setting.
pub(crate) fn run(command: ConfigCommand) -> Result<(), Box<dyn std::error::Error>> {
    let ConfigCommand::Check(args) = command;
    let cli = Cli::command();
    let settings = config_file::read(&args.file, &cli)?;
    let arguments = config_file::with_settings(vec!["oci-registry".into()], &settings, &cli);
    let matches = cli.clone().try_get_matches_from(arguments)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "# {} is valid; effective configuration:",
        args.file.display()
    )?;
    for arg in cli.get_arguments() {
        let (Some(flag), id) = (arg.get_long(), arg.get_id().as_str()) else {
            continue;
        };
        if matches!(id, "config" | "help" | "version") {
            continue;
        }
        let source = match matches.value_source(id) {
            Some(ValueSource::CommandLine) => "from the file".to_owned(),
            Some(ValueSource::EnvVariable) => arg
                .get_env()
                .map_or("from the environment".to_owned(), |name| {
                    format!("from {}", name.to_string_lossy())
                }),
            Some(ValueSource::DefaultValue) => "default".to_owned(),
            _ => "not set".to_owned(),
        };
        let key = flag.replace('-', "_");
        let raw: Vec<String> = matches
            .get_raw(id)
            .into_iter()
            .flatten()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let value = if matches!(arg.get_action(), ArgAction::SetTrue) {
            matches.get_flag(id).to_string()
        } else if raw.is_empty() {
            writeln!(out, "# {key} = ...  # {source}")?;
            continue;
        } else if is_secret(flag) {
            "\"<redacted>\"".to_owned()
        } else {
            toml_value(&raw.join(","))
        };
        writeln!(out, "{key} = {value}  # {source}")?;
    }
    Ok(())
}

/// A flag's text as a TOML value: numbers bare, anything else a quoted string.
fn toml_value(text: &str) -> String {
    if text.parse::<i64>().is_ok() {
        text.to_owned()
    } else {
        // A JSON string is a valid TOML basic string.
        serde_json::Value::String(text.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::is_secret;

    #[test]
    fn secrets_are_told_from_the_token_service_settings() {
        for secret in ["password", "client-secret", "signing-key", "refresh-token"] {
            assert!(is_secret(secret), "{secret}");
        }
        for open in [
            "token-realm",
            "token-issuer",
            "token-rootcertbundle",
            "listen",
        ] {
            assert!(!is_secret(open), "{open}");
        }
    }
}
