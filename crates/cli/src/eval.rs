//! `vitrine eval tagger`: entity-level scores of tagger files on a QueryNER split.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;
use vitrine_core::{
    Decoding, DeviceKind, EntityReport, QuantizationGate, Scheme, TaggerFile, TextTokenizer,
    base_encoder_dir, open_device, read_labels,
};

use crate::queryner::{load_split, predict_tags};

/// Arguments of `vitrine eval tagger`.
#[derive(Debug, Args)]
pub(crate) struct EvalTaggerArgs {
    /// Tagger files to score; give two or more to compare them (the first is the reference
    /// for token agreement).
    #[arg(long = "model", required = true)]
    models: Vec<PathBuf>,

    /// Directory holding QueryNER's splits and `labels.json`.
    #[arg(long, default_value = "data/queryner")]
    data: PathBuf,

    /// Split to score on: train, validation or test.
    #[arg(long, default_value = "test")]
    split: String,

    /// The tokenizer [default: `tokenizer.json` beside each model, else the base encoder's].
    #[arg(long)]
    tokenizer: Option<PathBuf>,

    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,

    /// Write every query's words, gold tags and each model's tags as JSON to this file.
    #[arg(long)]
    predictions: Option<PathBuf>,

    /// Score the first N queries of the split only.
    #[arg(long)]
    limit: Option<usize>,

    /// How word tags are read from the probabilities: the best valid IOB2 sequence, or each
    /// word's most probable tag on its own.
    #[arg(long, value_enum, default_value_t = DecodingArg::ValidBio)]
    decoding: DecodingArg,
}

/// The `--decoding` choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum DecodingArg {
    /// The most probable tag sequence that is valid IOB2.
    ValidBio,
    /// Each word's most probable tag.
    Argmax,
}

impl From<DecodingArg> for Decoding {
    fn from(arg: DecodingArg) -> Self {
        match arg {
            DecodingArg::ValidBio => Decoding::ValidBio,
            DecodingArg::Argmax => Decoding::Argmax,
        }
    }
}

/// What one model did on the split.
#[derive(Debug, Serialize)]
struct ModelResult {
    path: PathBuf,
    bytes: usize,
    quantization: Option<String>,
    model_version: Option<String>,
    report: EntityReport,
    /// Share of words tagged `O`.
    o_share: f64,
    /// Share of words whose most probable tag is the first model's.
    agreement_with_first: f64,
    /// The release gate against the first model, for every later one.
    gate: Option<QuantizationGate>,
}

/// All results, as written with `--json`.
#[derive(Debug, Serialize)]
struct Evaluation {
    split: String,
    decoding: Decoding,
    queries: usize,
    words: usize,
    /// Share of words whose true tag is `O`.
    true_o_share: f64,
    models: Vec<ModelResult>,
}

/// Each query with its gold tags and every model's tags, as written with `--predictions`.
#[derive(Debug, Default, Serialize)]
struct Predictions {
    split: String,
    /// The model files, in the order of each query's `predicted` lists.
    models: Vec<PredictingModel>,
    queries: Vec<QueryTags>,
}

#[derive(Debug, Serialize)]
struct PredictingModel {
    path: PathBuf,
    /// The checksum recorded in the file.
    checksum: Option<String>,
}

#[derive(Debug, Serialize)]
struct QueryTags {
    words: Vec<String>,
    gold: Vec<String>,
    predicted: Vec<Vec<String>>,
}

fn o_share(tags: &[Vec<String>]) -> f64 {
    let (o, all) = tags
        .iter()
        .flatten()
        .fold((0, 0), |(o, all), t| (o + usize::from(t == "O"), all + 1));
    o as f64 / all.max(1) as f64
}

fn tokenizer_for(args: &EvalTaggerArgs, model: &Path) -> PathBuf {
    if let Some(path) = &args.tokenizer {
        return path.clone();
    }
    let beside = model.with_file_name("tokenizer.json");
    if beside.exists() {
        beside
    } else {
        base_encoder_dir().join("tokenizer.json")
    }
}

/// Scores every model and prints one table each, then the comparison.
pub(crate) fn run(args: &EvalTaggerArgs, out: &mut impl Write) -> Result<()> {
    let split_name = match args.split.as_str() {
        "train" | "validation" | "test" => format!("{}.json", args.split),
        other => bail!("no split named `{other}`; use train, validation or test"),
    };
    let labels_path = args.data.join("labels.json");
    let labels = read_labels(
        "labels.json",
        &std::fs::read(&labels_path)
            .with_context(|| format!("cannot read {}", labels_path.display()))?,
    )?;
    let device = open_device(DeviceKind::Cpu)?;

    // The first model's most probable tag of every word, the reference of the release gate.
    let mut first: Option<Vec<Vec<String>>> = None;
    let mut predictions = Predictions {
        split: args.split.clone(),
        ..Predictions::default()
    };
    let mut evaluation: Option<Evaluation> = None;
    for path in &args.models {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let file = TaggerFile::read(&bytes, &device)
            .with_context(|| format!("{} is not a tagger model file", path.display()))?;
        if file.labels != labels {
            bail!(
                "{} tags with other labels than {}",
                path.display(),
                labels_path.display()
            );
        }
        let tokenizer_path = tokenizer_for(args, path);
        let tokenizer_json = std::fs::read(&tokenizer_path)
            .with_context(|| format!("cannot read {}", tokenizer_path.display()))?;
        file.check_tokenizer(&tokenizer_json)?;
        let tokenizer = TextTokenizer::from_bytes(&tokenizer_json)?;
        let split = load_split(&args.data, &split_name, &labels, &tokenizer, args.limit)?;

        // The release gate compares each word's most probable tag (case QNT-01), whatever
        // decoding the scores use.
        let [predicted, argmax]: [Vec<Vec<String>>; 2] = predict_tags(
            &file.tagger,
            &file.config.encoder,
            &split,
            &labels,
            &[args.decoding.into(), Decoding::Argmax],
            &device,
        )?
        .try_into()
        .map_err(|_| anyhow::anyhow!("one list of tags per decoding"))?;
        let report = EntityReport::new(&split.word_tags, &predicted, Scheme::StrictIob2)?;
        let evaluation = evaluation.get_or_insert_with(|| Evaluation {
            split: args.split.clone(),
            decoding: args.decoding.into(),
            queries: split.word_tags.len(),
            words: split.word_tags.iter().map(Vec::len).sum(),
            true_o_share: o_share(&split.word_tags),
            models: Vec::new(),
        });
        let gate = match &first {
            Some(reference) => Some(QuantizationGate::measure(
                &split.word_tags,
                reference,
                &argmax,
            )?),
            None => None,
        };
        if first.is_none() {
            first = Some(argmax.clone());
        }
        if predictions.queries.is_empty() {
            predictions.queries = split
                .words
                .iter()
                .zip(&split.word_tags)
                .map(|(words, gold)| QueryTags {
                    words: words.clone(),
                    gold: gold.clone(),
                    predicted: Vec::new(),
                })
                .collect();
        }
        for (query, tags) in predictions.queries.iter_mut().zip(&predicted) {
            query.predicted.push(tags.clone());
        }
        predictions.models.push(PredictingModel {
            path: path.clone(),
            checksum: file.metadata.get("checksum").cloned(),
        });
        let result = ModelResult {
            path: path.clone(),
            bytes: bytes.len(),
            quantization: file.metadata.get("quantization").cloned(),
            model_version: file.metadata.get("model_version").cloned(),
            o_share: o_share(&predicted),
            agreement_with_first: gate.as_ref().map_or(1.0, |g| g.agreement),
            gate,
            report,
        };
        writeln!(
            out,
            "{} ({:.1} MB) on QueryNER {}:\n{}\n",
            path.display(),
            result.bytes as f64 / 1e6,
            args.split,
            result.report
        )?;
        evaluation.models.push(result);
    }
    let Some(evaluation) = evaluation else {
        bail!("no model to evaluate; pass --model");
    };

    writeln!(
        out,
        "{:<48} {:>9} {:>9} {:>8} {:>10}",
        "model", "micro F1", "macro F1", "O share", "agreement"
    )?;
    for m in &evaluation.models {
        writeln!(
            out,
            "{:<48} {:>9.4} {:>9.4} {:>8.4} {:>10.4}",
            m.path.display().to_string(),
            m.report.micro.f1,
            m.report.macro_avg.f1,
            m.o_share,
            m.agreement_with_first
        )?;
    }
    writeln!(
        out,
        "{} queries, {} words, true O share {:.4}, decoding {:?}; agreement compares each word's \
         most probable tag with the first model's",
        evaluation.queries, evaluation.words, evaluation.true_o_share, evaluation.decoding
    )?;
    for m in &evaluation.models {
        let Some(gate) = &m.gate else { continue };
        let failures = gate.failures();
        if failures.is_empty() {
            writeln!(
                out,
                "release gate against the first model: {} passes",
                m.path.display()
            )?;
        } else {
            writeln!(
                out,
                "release gate against the first model: {} FAILS: {}",
                m.path.display(),
                failures.join("; ")
            )?;
        }
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&evaluation)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.predictions {
        std::fs::write(path, serde_json::to_vec(&predictions)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
