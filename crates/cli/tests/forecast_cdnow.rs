//! `vitrine forecast --dataset cdnow` on a tiny CDNOW-format log written by the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::root;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn vitrine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("vitrine runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vitrine-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Ten customers, first buyers of 1997's first quarter, as lifetimes writes the log (header,
/// CRLF). 00003 buys twice on 1997-01-15: one purchase day of 15.00. Four purchase days fall
/// in the holdout (1997-10-01 on): 00002's, two of 00004's and 00010's.
const LOG: &str = " customer_id  date number_of_cds  dollar_value\r
 00001 19970101 1 10.00\r
 00002 19970103 2 20.00\r
 00002 19970210 1 12.50\r
 00002 19971020 1 15.00\r
 00003 19970115 1 9.99\r
 00003 19970115 1 5.01\r
 00004 19970120 3 30.00\r
 00004 19970401 1 11.00\r
 00004 19970601 1 11.00\r
 00004 19970901 2 22.00\r
 00004 19971201 1 11.00\r
 00004 19980301 1 11.00\r
 00005 19970201 1 14.00\r
 00006 19970215 1 8.00\r
 00006 19970820 1 8.00\r
 00007 19970301 2 25.00\r
 00008 19970310 1 12.00\r
 00008 19970315 1 12.00\r
 00008 19970320 1 12.00\r
 00009 19970325 1 40.00\r
 00010 19970331 1 10.00\r
 00010 19980101 1 10.00\r
";

#[test]
fn forecast_scores_cdnow_on_the_standard_split() -> TestResult {
    let dir = scratch("forecast-cdnow");
    let (log, json, csv, plot) = (
        dir.join("CDNOW_master.txt"),
        dir.join("cdnow.json"),
        dir.join("cdnow.csv"),
        dir.join("weekly.png"),
    );
    std::fs::write(&log, LOG)?;
    let path = |p: &Path| p.to_str().map(str::to_owned).ok_or("path");
    let out = vitrine(&[
        "forecast",
        "--dataset",
        "cdnow",
        "--cdnow",
        &path(&log)?,
        "--json",
        &path(&json)?,
        "--export-transactions",
        &path(&csv)?,
        "--plot",
        &path(&plot)?,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("21 purchase days of 10 customers"),
        "{stdout}"
    );
    assert!(stdout.contains("purchases per customer"), "{stdout}");

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json)?)?;
    assert_eq!(report["dataset"], "cdnow");
    assert_eq!(
        (report["weeks"].as_u64(), report["holdout_weeks"].as_u64()),
        (Some(78), Some(39))
    );
    let shoppers = &report["shoppers"];
    assert_eq!(shoppers["shoppers"].as_u64(), Some(10));
    assert_eq!(shoppers["calibration_days"].as_f64(), Some(273.0));
    assert_eq!(shoppers["holdout_days"].as_f64(), Some(273.0));
    for key in ["orders_mae_trend", "orders_mae_rate", "orders_mae_recency"] {
        let v = shoppers[key].as_f64().ok_or(key)?;
        assert!(v.is_finite() && v >= 0.0, "{key} {v}");
    }
    let weekly = report["series"][0]["actual"].as_array().ok_or("actual")?;
    let total: f64 = weekly.iter().filter_map(|v| v.as_f64()).sum();
    assert_eq!((weekly.len(), total), (78, 21.0));

    let csv = std::fs::read_to_string(&csv)?;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "# dataset=cdnow calibration_days=273 holdout_days=273"
    );
    assert_eq!(lines[1], "customer,day,spend,period");
    assert_eq!(lines.len(), 2 + 21);
    // 1997-10-20 is day 292; 1997-01-15 is day 14, its two lines summed.
    assert!(lines.contains(&"00002,292,15.00,holdout"), "{csv}");
    assert!(lines.contains(&"00003,14,15.00,calibration"), "{csv}");
    assert_eq!(lines.iter().filter(|l| l.ends_with(",holdout")).count(), 4);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn forecast_on_cdnow_refuses_bad_input() -> TestResult {
    let dir = scratch("forecast-cdnow-bad");
    let log = dir.join("bad.txt");
    std::fs::write(&log, "00001 19970101 1 10.00\n00002 19970132 1 5.00\n")?;
    let log = log.to_str().ok_or("path")?;
    let out = vitrine(&["forecast", "--dataset", "cdnow", "--cdnow", log]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("19970132"),
        "{stderr}"
    );

    let out = vitrine(&[
        "forecast",
        "--dataset",
        "cdnow",
        "--cdnow",
        log,
        "--holdout-weeks",
        "8",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard split"));

    let missing = dir.join("missing.txt");
    let out = vitrine(&[
        "forecast",
        "--dataset",
        "cdnow",
        "--cdnow",
        missing.to_str().ok_or("path")?,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cargo xtask setup"));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
