//! `vitrine export profile` on the small committed sample of Online Retail.

use std::process::Command;

use vitrine_core::ShopperModel;

mod common;
use common::root;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const RETAIL_SAMPLE: &str = "crates/core/src/events/testdata/online_retail_sample.csv";

#[test]
fn export_profile_writes_a_model_that_places_its_shoppers_as_the_batch_did() -> TestResult {
    let dir = std::env::temp_dir().join(format!("vitrine-export-profile-{}", std::process::id()));
    let fixture = dir.join("shoppers.json");
    let out = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .current_dir(root())
        .args([
            "export",
            "profile",
            "--data",
            RETAIL_SAMPLE,
            "--no-categories",
        ])
        .args(["--segments", "2", "--map-points", "3", "--out"])
        .arg(&dir)
        .arg("--fixture")
        .arg(&fixture)
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("every training shopper placed from the file lands"),
        "{stdout}"
    );

    let model = ShopperModel::from_bytes(&std::fs::read(dir.join("profile.safetensors"))?)?;
    // Customers 12680, 14688, 15643 and 17850 bought products (see behaviour_commands.rs).
    assert_eq!(model.shoppers(), 4);
    assert_eq!(model.segments().len(), 2);
    assert_eq!(model.map_points().len(), 3);
    assert!(model.categories().is_empty());
    assert_eq!(model.currency().as_str(), "GBP");

    let card = std::fs::read_to_string(dir.join("README.md"))?;
    for heading in [
        "## Segments",
        "## Map",
        "## Forecast",
        "## Licences",
        "## Known limits",
    ] {
        assert!(card.contains(heading), "{heading} missing from\n{card}");
    }
    assert!(card.contains("CC0"));
    assert!(card.lines().all(|l| l.chars().count() <= 100), "{card}");

    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&fixture)?)?;
    assert_eq!(
        written["model_checksum"].as_str(),
        model.metadata().get("checksum").map(String::as_str)
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
