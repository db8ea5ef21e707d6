//! `cargo xtask`: set-up, demo and tests for the Vitrine workspace.
//!
//! Every command installs what it needs first and does nothing for what is already there, so a
//! fresh machine needs no other instructions than the README's two commands.

use std::process::ExitCode;

mod bench;
mod demo;
mod setup;
mod shell;
mod test;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup   install the toolchain pieces, browser, npm packages and base encoder that are missing
  test    format check, clippy (native and wasm32), native tests, wasm32 build, browser tests
  demo    set up, build and serve the app on http://127.0.0.1:8080
  bench   measure against onnxruntime, implicit, LightFM and lifetimes; writes bench/RESULTS.md
          and bench/results.json (--report-only: RESULTS.md again from results.json)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::ensure(),
        Some("test") => test::run_all(),
        Some("demo") => demo::run_demo(),
        Some("bench") if args.get(1).is_some_and(|a| a == "--report-only") => {
            bench::rewrite_report()
        }
        Some("bench") => bench::run_bench(),
        Some("-h" | "--help" | "help") => {
            eprint!("{USAGE}");
            Ok(())
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
