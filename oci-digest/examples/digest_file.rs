//! Digests a file by streaming it, and optionally verifies it.
//!
//! ```text
//! cargo run -p oci-digest --example digest_file -- <path> [expected-digest]
//! ```
//!
//! Without an expected digest it prints the file's sha256 digest and size. With one, it hashes
//! with that digest's algorithm (sha256 or sha512), prints `OK` or the mismatch, and exits with
//! status 1 on a mismatch.

use std::fs::File;
use std::io;
use std::process::ExitCode;

use oci_digest::{Digest, DigestError, Digester, VerifyingReader};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(path), expected, None) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: digest_file <path> [expected-digest]");
        return ExitCode::from(2);
    };
    let outcome = match expected {
        None => print_digest(&path),
        Some(expected) => verify(&path, &expected),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{path}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_digest(path: &str) -> Result<(), String> {
    let file = File::open(path).map_err(|error| error.to_string())?;
    let mut digester = Digester::sha256();
    let size = digester
        .update_reader(file)
        .map_err(|error| error.to_string())?;
    println!("{}  {size} bytes  {path}", digester.finish());
    Ok(())
}

fn verify(path: &str, expected: &str) -> Result<(), String> {
    let expected = Digest::parse(expected).map_err(|error| error.to_string())?;
    let file = File::open(path).map_err(|error| error.to_string())?;
    let mut reader =
        VerifyingReader::new(file, expected.clone(), None).map_err(|e| e.to_string())?;
    match io::copy(&mut reader, &mut io::sink()) {
        Ok(size) => {
            println!("OK  {expected}  {size} bytes  {path}");
            Ok(())
        }
        Err(error) => Err(match DigestError::from_io(&error) {
            Some(DigestError::Mismatch { expected, found }) => {
                format!("MISMATCH: expected {expected}, found {found}")
            }
            _ => error.to_string(),
        }),
    }
}
