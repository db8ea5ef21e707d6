//! The shipped UCI Online Retail data as cleaned events, with product categories read from
//! product names by the shipped tagger.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use flate2::read::GzDecoder;
use indicatif::{ProgressBar, ProgressStyle};
use vitrine_core::events::{
    CleaningConfig, CleaningReport, Event, EventKind, OnlineRetailReport, clean, read_online_retail,
};
use vitrine_core::recommend::ItemTag;
use vitrine_core::{DeviceKind, TaggerFile, TextTagger, category_from_tags, open_device};

/// Where the events come from, shared by `vitrine profile` and `vitrine forecast`.
#[derive(Debug, Clone, Args)]
pub(crate) struct RetailArgs {
    /// The Online Retail CSV, plain or gzipped.
    #[arg(long, default_value = "data/online-retail/onlineretail.csv.gz")]
    pub(crate) data: PathBuf,

    /// The tagger that reads a product type from each product name, as the item's category.
    #[arg(long, default_value = "models/tagger/tagger.safetensors")]
    pub(crate) tagger: PathBuf,

    /// Leave items without categories instead of tagging product names.
    #[arg(long)]
    pub(crate) no_categories: bool,
}

/// Cleaned events and what the import and cleaning did.
#[derive(Debug)]
pub(crate) struct Retail {
    pub(crate) events: Vec<Event>,
    pub(crate) import: OnlineRetailReport,
    pub(crate) cleaning: CleaningReport,
    /// Distinct product names tagged, and how many got a product type.
    pub(crate) categorised: (usize, usize),
}

/// Reads, cleans and categorises the events.
pub(crate) fn load(args: &RetailArgs) -> Result<Retail> {
    let file = std::fs::File::open(&args.data).with_context(|| {
        format!(
            "cannot open {}; run from the repository root or pass --data",
            args.data.display()
        )
    })?;
    let reader: Box<dyn Read> = if args.data.extension().is_some_and(|e| e == "gz") {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let name = args.data.display().to_string();
    let import = read_online_retail(&name, reader)?;
    let (mut events, cleaning) = clean(import.events, &CleaningConfig::default());
    let categorised = if args.no_categories {
        (0, 0)
    } else {
        categorise(&mut events, &args.tagger)?
    };
    Ok(Retail {
        events,
        import: import.report,
        cleaning,
        categorised,
    })
}

impl Retail {
    /// What the import and cleaning did, in two lines.
    pub(crate) fn summary(&self) -> String {
        let (i, c) = (&self.import, &self.cleaning);
        let dropped: Vec<String> = i
            .dropped
            .iter()
            .map(|(reason, n)| format!("{n} {}", reason.as_str()))
            .collect();
        format!(
            "{} lines read: {} purchases and {} refunds of {} customers and {} products; \
             dropped {}\ncleaning removed {} duplicate events and capped {} quantities and {} \
             prices",
            i.rows,
            i.purchases,
            i.refunds,
            i.customers,
            i.products,
            if dropped.is_empty() {
                "none".to_owned()
            } else {
                dropped.join(", ")
            },
            c.duplicate_ids + c.duplicate_events,
            c.quantities_capped,
            c.prices_capped
        )
    }
}

/// Loads a shipped tagger file and the `tokenizer.json` beside it, on the CPU.
pub(crate) fn load_tagger(path: &Path) -> Result<TextTagger> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read {}; pass another --tagger, or --no-categories where offered",
            path.display()
        )
    })?;
    let tokenizer = std::fs::read(path.with_file_name("tokenizer.json"))
        .with_context(|| format!("cannot read the tokenizer.json beside {}", path.display()))?;
    let device = open_device(DeviceKind::Cpu)?;
    Ok(TaggerFile::read(&bytes, &device)?.into_text_tagger(&tokenizer, &device)?)
}

/// Sets each item's category to the head word of the product type the tagger finds in its
/// name ("WHITE HANGING HEART T-LIGHT HOLDER" becomes "holder").
fn categorise(events: &mut [Event], tagger_path: &Path) -> Result<(usize, usize)> {
    let tagger = load_tagger(tagger_path)?;

    let mut names: BTreeMap<String, Option<String>> = BTreeMap::new();
    for event in events.iter() {
        for item in event.kind.items() {
            if let Some(name) = &item.item_name {
                names.entry(name.clone()).or_default();
            }
        }
    }
    let bar = ProgressBar::new(names.len() as u64);
    bar.set_style(ProgressStyle::with_template(
        "tagging product names {bar:40} {pos}/{len} {eta}",
    )?);
    for (name, category) in names.iter_mut() {
        let text = name.to_lowercase();
        let entities = tagger.tag(&text)?;
        let tags: Vec<ItemTag> = entities
            .into_iter()
            .map(|e| ItemTag {
                kind: e.kind,
                text: e.text,
            })
            .collect();
        *category = category_from_tags(&tags);
        bar.inc(1);
    }
    bar.finish_and_clear();

    for event in events.iter_mut() {
        let items = match &mut event.kind {
            EventKind::Purchase(p) => &mut p.items,
            EventKind::Refund(r) => &mut r.items,
            _ => continue,
        };
        for item in items {
            if let Some(Some(category)) = item.item_name.as_ref().map(|n| names.get(n)) {
                item.item_category = category.clone();
            }
        }
    }
    let found = names.values().filter(|c| c.is_some()).count();
    Ok((names.len(), found))
}
