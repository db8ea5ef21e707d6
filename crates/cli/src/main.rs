//! `vitrine`: train, evaluate, export and benchmark Vitrine's models natively.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod encode;
mod eval;
mod eval_recommender;
mod export;
mod export_profile;
mod forecast;
mod peer_lists;
mod plot;
mod profile;
mod queryner;
mod recommend;
mod retail;
mod tag;
mod train;
mod train_recommender;

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
    /// Score a model on held-out data.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Write a trained model in the form the app ships.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Find product types, brands, colours, sizes, prices and more in shopper text.
    Tag(tag::TagArgs),
    /// Segment the shoppers of Online Retail and draw them on a PCA map.
    Profile(profile::ProfileArgs),
    /// Forecast weekly demand and each shopper's next orders, scored on held-out weeks.
    Forecast(forecast::ForecastArgs),
    /// Recommend products to an Online Retail shopper, with reasons.
    Recommend(recommend::RecommendArgs),
    /// Time a model's hot path for `cargo xtask bench`.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// The shipped tagger's encoder forward pass, per input length and batch size.
    Encoder(bench::BenchEncoderArgs),
    /// A shopper's events folded into the shipped recommender and the top 10 picked.
    Recommend(bench::BenchRecommendArgs),
}

#[derive(Debug, Subcommand)]
enum TrainCommand {
    /// Fine-tune the shopper-text tagger on QueryNER.
    Tagger(train::TrainTaggerArgs),
    /// Train the BPR recommender on Online Retail and write it with its item table.
    Recommender(train_recommender::TrainRecommenderArgs),
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Entity-level precision, recall and F1 of tagger files on QueryNER.
    Tagger(eval::EvalTaggerArgs),
    /// Ranking metrics of the recommenders on Online Retail or MovieLens 100K.
    Recommender(eval_recommender::EvalRecommenderArgs),
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// Quantize a tagger checkpoint to int8 and write it with its tokenizer.
    Tagger(export::ExportTaggerArgs),
    /// Fit the shopper profile and forecast on Online Retail and write it with its model card.
    Profile(export_profile::ExportProfileArgs),
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Encode(args) => encode::run(&args, &mut std::io::stdout().lock()),
        Command::Train(TrainCommand::Tagger(args)) => train::run(&args),
        Command::Train(TrainCommand::Recommender(args)) => {
            train_recommender::run(&args, &mut std::io::stdout().lock())
        }
        Command::Eval(EvalCommand::Tagger(args)) => eval::run(&args, &mut std::io::stdout().lock()),
        Command::Eval(EvalCommand::Recommender(args)) => {
            eval_recommender::run(&args, &mut std::io::stdout().lock())
        }
        Command::Export(ExportCommand::Tagger(args)) => export::run(&args),
        Command::Export(ExportCommand::Profile(args)) => {
            export_profile::run(&args, &mut std::io::stdout().lock())
        }
        Command::Tag(args) => tag::run(&args, &mut std::io::stdout().lock()),
        Command::Profile(args) => profile::run(&args, &mut std::io::stdout().lock()),
        Command::Forecast(args) => forecast::run(&args, &mut std::io::stdout().lock()),
        Command::Recommend(args) => recommend::run(&args, &mut std::io::stdout().lock()),
        Command::Bench(BenchCommand::Encoder(args)) => {
            bench::run(&args, &mut std::io::stdout().lock())
        }
        Command::Bench(BenchCommand::Recommend(args)) => {
            bench::run_recommend(&args, &mut std::io::stdout().lock())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
