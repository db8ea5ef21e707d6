//! `vitrine export tagger`: quantize a trained checkpoint into the file the app ships.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use vitrine_core::{
    DeviceKind, Storage, TaggerFile, TaggerStorage, base_encoder_dir, open_device,
    write_tagger_file,
};

/// How the embedding tables are stored.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum EmbeddingStorage {
    /// Symmetric int8 with one scale per row, like the linear layers.
    Int8,
    /// Half precision.
    F16,
    /// Unchanged.
    F32,
}

/// Arguments of `vitrine export tagger`.
#[derive(Debug, Args)]
pub(crate) struct ExportTaggerArgs {
    /// The checkpoint `vitrine train tagger` wrote.
    #[arg(long, default_value = "target/tagger/checkpoint.safetensors")]
    checkpoint: PathBuf,

    /// Directory that receives `tagger.safetensors` and `tokenizer.json`.
    #[arg(long, default_value = "models/tagger")]
    out: PathBuf,

    /// The tokenizer the checkpoint was trained with [default: the base encoder's].
    #[arg(long)]
    tokenizer: Option<PathBuf>,

    /// Storage of the word, position and token-type embeddings.
    #[arg(long, value_enum, default_value_t = EmbeddingStorage::Int8)]
    embeddings: EmbeddingStorage,

    /// Keep the linear layers in float32 too (a reference to measure quantization against).
    #[arg(long)]
    no_quantize: bool,

    /// Version recorded in the file's metadata.
    #[arg(long, default_value = "1")]
    model_version: String,
}

/// Reads the checkpoint, quantizes it and writes the model file beside its tokenizer.
pub(crate) fn run(args: &ExportTaggerArgs) -> Result<()> {
    let tokenizer_path = args
        .tokenizer
        .clone()
        .unwrap_or_else(|| base_encoder_dir().join("tokenizer.json"));
    let tokenizer = std::fs::read(&tokenizer_path).with_context(|| {
        format!(
            "cannot read {}; run `cargo xtask setup` or pass --tokenizer",
            tokenizer_path.display()
        )
    })?;
    let bytes = std::fs::read(&args.checkpoint)
        .with_context(|| format!("cannot read {}", args.checkpoint.display()))?;
    let device = open_device(DeviceKind::Cpu)?;
    let file = TaggerFile::read(&bytes, &device)
        .with_context(|| format!("{} is not a tagger checkpoint", args.checkpoint.display()))?;
    file.check_tokenizer(&tokenizer)?;

    let storage = TaggerStorage {
        linear: if args.no_quantize {
            Storage::F32
        } else {
            Storage::Int8
        },
        embeddings: match args.embeddings {
            EmbeddingStorage::Int8 => Storage::Int8,
            EmbeddingStorage::F16 => Storage::F16,
            EmbeddingStorage::F32 => Storage::F32,
        },
    };
    let mut metadata = BTreeMap::from([
        ("model_version".to_owned(), args.model_version.clone()),
        (
            "base_model".to_owned(),
            "sentence-transformers/all-MiniLM-L6-v2".to_owned(),
        ),
    ]);
    for key in ["epoch", "validation_f1", "training"] {
        if let Some(value) = file.metadata.get(key) {
            metadata.insert(key.to_owned(), value.clone());
        }
    }
    let exported = write_tagger_file(
        &file.tagger,
        &file.config,
        &file.labels,
        &tokenizer,
        storage,
        metadata,
    )?;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let model_path = args.out.join("tagger.safetensors");
    std::fs::write(&model_path, &exported)
        .with_context(|| format!("cannot write {}", model_path.display()))?;
    let tokenizer_out = args.out.join("tokenizer.json");
    std::fs::write(&tokenizer_out, &tokenizer)
        .with_context(|| format!("cannot write {}", tokenizer_out.display()))?;
    eprintln!(
        "wrote {} ({:.1} MB, from {:.1} MB) and {}",
        model_path.display(),
        exported.len() as f64 / 1e6,
        bytes.len() as f64 / 1e6,
        tokenizer_out.display()
    );
    Ok(())
}
