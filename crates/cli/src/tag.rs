//! `vitrine tag "text" ...`: the entities the shipped tagger finds in shopper text.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use vitrine_core::{DeviceKind, TaggedEntity, TaggerFile, open_device};

/// Arguments of `vitrine tag`.
#[derive(Debug, Args)]
pub(crate) struct TagArgs {
    /// The texts to tag, one argument each.
    #[arg(required = true)]
    texts: Vec<String>,

    /// The tagger model file; its `tokenizer.json` sits beside it.
    #[arg(long, default_value = "models/tagger/tagger.safetensors")]
    model: PathBuf,

    /// Print `[{ text, entities }]` as JSON rather than tables.
    #[arg(long)]
    json: bool,

    /// Where to run: cpu, wgpu or cuda.
    #[arg(long, default_value = "cpu")]
    device: DeviceKind,
}

/// Loads the tagger and prints what it finds in the text.
pub(crate) fn run(args: &TagArgs, out: &mut impl Write) -> Result<()> {
    let bytes = std::fs::read(&args.model).with_context(|| {
        format!(
            "cannot read {}; run from the repository root or pass --model",
            args.model.display()
        )
    })?;
    let tokenizer_path = args.model.with_file_name("tokenizer.json");
    let tokenizer = std::fs::read(&tokenizer_path)
        .with_context(|| format!("cannot read {}", tokenizer_path.display()))?;
    let device = open_device(args.device)?;
    let tagger = TaggerFile::read(&bytes, &device)
        .and_then(|file| file.into_text_tagger(&tokenizer, &device))
        .with_context(|| format!("cannot load the tagger {}", args.model.display()))?;
    let tagged = args
        .texts
        .iter()
        .map(|text| {
            Ok(Tagged {
                text,
                entities: tagger.tag(text)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    if args.json {
        serde_json::to_writer_pretty(&mut *out, &tagged)?;
        writeln!(out)?;
        return Ok(());
    }
    for (i, one) in tagged.iter().enumerate() {
        if tagged.len() > 1 {
            if i > 0 {
                writeln!(out)?;
            }
            writeln!(out, "{}", one.text)?;
        }
        table(&one.entities, out)?;
    }
    Ok(())
}

/// One text and what the tagger found in it.
#[derive(Debug, Serialize)]
struct Tagged<'a> {
    text: &'a str,
    entities: Vec<TaggedEntity>,
}

fn table(entities: &[TaggedEntity], out: &mut impl Write) -> Result<()> {
    if entities.is_empty() {
        writeln!(out, "no entities")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<20} {:<28} {:>9} {:>9} {:>10}",
        "type", "text", "chars", "utf-16", "confidence"
    )?;
    for e in entities {
        writeln!(
            out,
            "{:<20} {:<28} {:>9} {:>9} {:>10.3}",
            e.kind,
            e.text,
            format!("{}..{}", e.chars.0, e.chars.1),
            format!("{}..{}", e.utf16.0, e.utf16.1),
            e.confidence
        )?;
    }
    Ok(())
}
