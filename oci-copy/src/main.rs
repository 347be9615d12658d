//! `oci-copy`: copy and mirror OCI images between registries, layouts and archives.
//!
//! Exit codes: 0 when everything was copied, 1 when a copy failed, 2 for usage errors.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::args::Cli::parse();
    cli::logging::init(args.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("oci-copy: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(cli::commands::run(args))
}
