//! `vitrine`: train, evaluate, export and benchmark Vitrine's models natively.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod encode;

/// Vitrine's command line.
#[derive(Debug, Parser)]
#[command(name = "vitrine", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Tokenize text and run it through the base encoder.
    Encode(encode::EncodeArgs),
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Encode(args) => encode::run(&args, &mut std::io::stdout().lock()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
