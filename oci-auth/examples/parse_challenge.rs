//! Parses a `WWW-Authenticate` value given as the first argument and prints what it holds.
//!
//! ```sh
//! cargo run -p oci-auth --example parse_challenge -- \
//!     'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'
//! ```

use std::process::ExitCode;

use oci_auth::Challenge;

fn main() -> ExitCode {
    let Some(header) = std::env::args().nth(1) else {
        eprintln!("usage: parse_challenge '<WWW-Authenticate value>'");
        return ExitCode::from(2);
    };
    let challenges = match Challenge::parse(&header) {
        Ok(challenges) => challenges,
        Err(error) => {
            eprintln!("invalid header: {error}");
            return ExitCode::FAILURE;
        }
    };
    for challenge in &challenges {
        println!("scheme: {}", challenge.scheme());
        if let Challenge::Other {
            token68: Some(token68),
            ..
        } = challenge
        {
            println!("  token68: {token68}");
        }
        for (name, value) in challenge.params().iter() {
            println!("  {name} = {value:?}");
        }
        if let Challenge::Bearer(bearer) = challenge {
            match bearer.scopes() {
                Ok(scopes) => {
                    for scope in scopes.iter() {
                        println!(
                            "  wants {} on {} {}",
                            scope,
                            scope.resource_type(),
                            scope.name()
                        );
                    }
                }
                Err(error) => println!("  unreadable scope: {error}"),
            }
        }
    }
    if let Some(chosen) = Challenge::select(&challenges) {
        println!("would answer: {chosen}");
    }
    ExitCode::SUCCESS
}
