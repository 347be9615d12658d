//! Developer tasks: `cargo xtask <task>`.

fn main() {
    eprintln!("usage: cargo xtask <conformance|bench>");
    std::process::exit(2);
}
