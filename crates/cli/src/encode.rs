//! `vitrine encode`: what the encoder makes of a text.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use vitrine_core::{DeviceKind, Encoder, base_encoder_dir, l2_norm, open_device};

/// Arguments of `vitrine encode`.
#[derive(Debug, Args)]
pub(crate) struct EncodeArgs {
    /// The text to encode.
    text: String,

    /// Directory holding `config.json`, `model.safetensors` and `tokenizer.json` [default: the
    /// base encoder fetched by `cargo xtask setup`].
    #[arg(long)]
    model_dir: Option<PathBuf>,

    /// Where to run: cpu, wgpu or cuda (the last two need builds with those features).
    #[arg(long, default_value = "cpu")]
    device: DeviceKind,
}

/// Prints each window's tokens with offsets and norms, then the sentence embedding's norm.
pub(crate) fn run(args: &EncodeArgs, out: &mut impl Write) -> Result<()> {
    let dir = args.model_dir.clone().unwrap_or_else(base_encoder_dir);
    let read = |name: &str| read_model_file(&dir, name);
    let device = open_device(args.device)?;
    let encoder = Encoder::from_bytes(
        &read("config.json")?,
        &read("model.safetensors")?,
        &read("tokenizer.json")?,
        &device,
    )
    .with_context(|| format!("cannot load the encoder from {}", dir.display()))?;

    let windows = encoder.tokenizer().encode(&args.text)?;
    for (w, encoding) in windows.iter().enumerate() {
        // One window at a time: a long text's windows together could exhaust memory.
        let states = encoder
            .hidden_states(std::slice::from_ref(encoding))?
            .remove(0);
        if windows.len() > 1 {
            writeln!(out, "window {} of {}", w + 1, windows.len())?;
        }
        writeln!(
            out,
            "{:>4}  {:<16} {:>7}  {:>12}  {:>12}  {:>8}",
            "#", "token", "id", "chars", "utf-16", "norm"
        )?;
        for (i, norm) in states.norms().iter().enumerate() {
            let (cs, ce) = encoding.offsets[i];
            let (us, ue) = encoding.offsets_utf16[i];
            let (chars, utf16) = if encoding.special[i] {
                ("-".to_owned(), "-".to_owned())
            } else {
                (format!("{cs}..{ce}"), format!("{us}..{ue}"))
            };
            writeln!(
                out,
                "{i:>4}  {:<16} {:>7}  {chars:>12}  {utf16:>12}  {norm:>8.4}",
                encoding.tokens[i], encoding.ids[i]
            )?;
        }
        let pooled = states.mean_pooled();
        writeln!(
            out,
            "embedding: mean of {} token states, {} values, norm {:.4}",
            states.n_tokens(),
            pooled.len(),
            l2_norm(&pooled)
        )?;
    }
    Ok(())
}

fn read_model_file(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(name);
    std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {}; run `cargo xtask setup` to fetch the base encoder, or pass \
             --model-dir",
            path.display()
        )
    })
}
