//! `vitrine`: train, evaluate, export and benchmark Vitrine's models natively.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod encode;
mod train;

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
    /// Train a model.
    #[command(subcommand)]
    Train(TrainCommand),
}

#[derive(Debug, Subcommand)]
enum TrainCommand {
    /// Fine-tune the shopper-text tagger on QueryNER.
    Tagger(train::TrainTaggerArgs),
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Encode(args) => encode::run(&args, &mut std::io::stdout().lock()),
        Command::Train(TrainCommand::Tagger(args)) => train::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
