//! The shipped QueryNER data reads whole, with the counts its card gives.

#![cfg(not(target_family = "wasm"))]

mod common;

use vitrine_core::{EntityReport, Scheme, read_labels, read_queryner};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn every_split_reads_with_the_published_counts() -> TestResult {
    let dir = common::repo_root().join("data/queryner");
    let labels = read_labels("labels.json", &std::fs::read(dir.join("labels.json"))?)?;
    assert_eq!(labels.len(), 35);

    // Validation has no product_number entity.
    for (split, count, types) in [
        ("train", 7841, 17),
        ("validation", 871, 16),
        ("test", 993, 17),
    ] {
        let name = format!("{split}.json");
        let texts = read_queryner(&name, &std::fs::read(dir.join(&name))?, &labels)?;
        assert_eq!(texts.len(), count, "{name}");

        // The gold tags score perfectly against themselves, which also proves every tag
        // sequence reads in strict IOB2.
        let tags: Vec<Vec<String>> = texts.into_iter().map(|t| t.tags).collect();
        let report = EntityReport::new(&tags, &tags, Scheme::StrictIob2)?;
        assert_eq!(report.micro.f1, 1.0, "{name}");
        assert_eq!(report.per_type.len(), types, "{name}: entity types");
    }
    Ok(())
}
