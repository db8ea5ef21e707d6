//! `vitrine profile`, `vitrine forecast` and `vitrine eval recommender` on the small committed
//! samples of Online Retail and MovieLens 100K.

use std::path::PathBuf;
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

const RETAIL_SAMPLE: &str = "crates/core/src/events/testdata/online_retail_sample.csv";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vitrine-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn profile_segments_every_shopper_and_draws_the_map() -> TestResult {
    let dir = scratch("profile");
    let (map, json) = (dir.join("map.png"), dir.join("profile.json"));
    let out = vitrine(&[
        "profile",
        "--data",
        RETAIL_SAMPLE,
        "--no-categories",
        "--segments",
        "3",
        "--plot",
        map.to_str().ok_or("path")?,
        "--json",
        json.to_str().ok_or("path")?,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("segment 3:"), "{stdout}");

    let profile: serde_json::Value = serde_json::from_slice(&std::fs::read(&json)?)?;
    let shoppers = profile["shoppers"].as_u64().ok_or("shoppers")?;
    let segments = profile["segments"].as_array().ok_or("segments")?;
    let in_segments: u64 = segments.iter().filter_map(|s| s["shoppers"].as_u64()).sum();
    assert_eq!(segments.len(), 3);
    assert_eq!(in_segments, shoppers);
    // Customers 12680, 14688, 15643 and 17850 bought products; 12583 bought only postage and
    // 13952 only a PADS adjustment, which are not products, and the rest only cancelled.
    assert_eq!(shoppers, 4);
    let ratios = profile["explained_variance_ratio"]
        .as_array()
        .ok_or("ratios")?;
    let first = ratios.first().and_then(|r| r.as_f64()).ok_or("ratio")?;
    assert!(first > 0.0 && first <= 1.0, "{first}");
    assert_eq!(&std::fs::read(&map)?[..8], b"\x89PNG\r\n\x1a\n");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn forecast_refuses_data_too_short_for_its_holdout() {
    let out = vitrine(&[
        "forecast",
        "--data",
        RETAIL_SAMPLE,
        "--no-categories",
        "--holdout-weeks",
        "60",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("too few for a holdout of 60"), "{stderr}");
}

/// Four users with eight ratings each, in RecBole's atomic format, written into `dir`: 6 of
/// each user's 8 go to train, 2 to test.
fn tiny_movielens(dir: &std::path::Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let mut inter = String::from("user_id:token\titem_id:token\trating:float\ttimestamp:float\n");
    for user in 1..=4 {
        for item in 0..8 {
            let item = (user + item) % 10 + 1;
            inter.push_str(&format!(
                "{user}\t{item}\t{}\t{}\n",
                1 + item % 5,
                1000 + item
            ));
        }
    }
    let path = dir.join("tiny.inter");
    std::fs::write(&path, inter)?;
    Ok(path)
}

/// `vitrine eval recommender --dataset ml100k --movielens INTER` and `args`.
fn eval_movielens(inter: &std::path::Path, args: &[&str]) -> Output {
    let inter = inter.to_string_lossy();
    let mut all = vec![
        "eval",
        "recommender",
        "--dataset",
        "ml100k",
        "--movielens",
        &inter,
    ];
    all.extend_from_slice(args);
    vitrine(&all)
}

#[test]
fn eval_recommender_scores_both_baselines_on_movielens() -> TestResult {
    let dir = scratch("eval-recommender");
    let json = dir.join("eval.json");
    let inter_path = tiny_movielens(&dir)?;
    let out = eval_movielens(
        &inter_path,
        &[
            "--factors",
            "2",
            "--epochs",
            "20",
            "--sasrec-epochs",
            "2",
            "--json",
            json.to_str().ok_or("path")?,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: serde_json::Value = serde_json::from_slice(&std::fs::read(&json)?)?;
    let models: Vec<&str> = reports
        .as_array()
        .ok_or("reports")?
        .iter()
        .filter_map(|r| r["model"].as_str())
        .collect();
    assert_eq!(
        models,
        [
            "popularity",
            "item-kNN (M = 50)",
            "BPR (d = 2)",
            "BPR (d = 2) (fold-in)",
            "EASE (λ = 500)",
            "SASRec (d = 64, 2 layers)"
        ]
    );
    let ease = &reports[4];
    assert_eq!(ease["epochs"], 1);
    assert!(ease["fit_seconds"].as_f64().is_some_and(|s| s >= 0.0));
    for report in reports.as_array().ok_or("reports")? {
        for at in report["at"].as_array().ok_or("at")? {
            let ndcg = at["ndcg_binary"].as_f64().ok_or("ndcg")?;
            assert!((0.0..=1.0).contains(&ndcg), "{ndcg}");
        }
    }

    let missing = dir.join("missing.inter");
    let out = eval_movielens(&missing, &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cargo xtask setup"));

    // REC-01: more factors than the 4 users is refused before training.
    let out = eval_movielens(&inter_path, &["--factors", "8"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("use between 1 and 4 factors"), "{stderr}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The split goes out as TSV, and a peer's lists for it are scored beside the models.
#[test]
fn eval_recommender_exports_its_split_and_scores_a_peers_lists() -> TestResult {
    let dir = scratch("eval-recommender-peers");
    let json = dir.join("eval.json");
    let inter_path = tiny_movielens(&dir)?;
    let split = dir.join("split");
    let out = eval_movielens(
        &inter_path,
        &["--export-split", split.to_str().ok_or("path")?],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let train = std::fs::read_to_string(split.join("train.tsv"))?;
    let test = std::fs::read_to_string(split.join("test.tsv"))?;
    assert!(train.starts_with("user\titem\tweight\n"), "{train}");
    assert_eq!(
        (train.lines().count(), test.lines().count()),
        (1 + 4 * 6, 1 + 4 * 2)
    );
    // A peer that lists each user's test items (those in the training catalogue, as a model
    // may only recommend those) finds every one it could.
    let catalogue: std::collections::BTreeSet<&str> = train
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    let mut lists = serde_json::Map::new();
    let mut tested = std::collections::BTreeMap::<&str, (f64, f64)>::new();
    for line in test.lines().skip(1) {
        let mut fields = line.split('\t');
        let (Some(user), Some(item)) = (fields.next(), fields.next()) else {
            continue;
        };
        let counts = tested.entry(user).or_default();
        counts.1 += 1.0;
        let list = lists.entry(user).or_insert_with(|| serde_json::json!([]));
        if catalogue.contains(item) {
            counts.0 += 1.0;
            list.as_array_mut().ok_or("list")?.push(item.into());
        }
    }
    let users = tested.len() as f64;
    let hit_rate = tested.values().filter(|c| c.0 > 0.0).count() as f64 / users;
    let recall = tested.values().map(|c| c.0 / c.1).sum::<f64>() / users;
    let peer = serde_json::json!({
        "library": "oracle 1.0",
        "models": [{ "name": "test items", "fit_seconds": 0.5, "epochs": 2, "lists": lists }],
    });
    let peer_path = dir.join("peer.json");
    std::fs::write(&peer_path, peer.to_string())?;
    let out = eval_movielens(
        &inter_path,
        &[
            "--factors",
            "2",
            "--epochs",
            "2",
            "--sasrec-epochs",
            "0",
            "--peer-lists",
            peer_path.to_str().ok_or("path")?,
            "--json",
            json.to_str().ok_or("path")?,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: serde_json::Value = serde_json::from_slice(&std::fs::read(&json)?)?;
    let oracle = reports
        .as_array()
        .and_then(|r| r.last())
        .ok_or("no report")?;
    assert_eq!(oracle["model"], "oracle 1.0 test items");
    assert_eq!(oracle["epochs"], 2);
    let at10 = &oracle["at"][0];
    let close = |key: &str, want: f64| at10[key].as_f64().is_some_and(|v| (v - want).abs() < 1e-9);
    assert!(
        close("hit_rate", hit_rate) && close("recall", recall),
        "{at10}"
    );
    assert!(hit_rate > 0.0);

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn recommend_explains_each_product_and_flags_strangers() {
    let out = vitrine(&[
        "recommend",
        "--data",
        RETAIL_SAMPLE,
        "--user",
        "12680",
        "--k",
        "3",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("personalised by item-kNN"), "{stdout}");
    // 22138 was bought by 12680 and 14688, 20711 by 14688 alone: cosine 1 / sqrt(2).
    let first = stdout.lines().nth(2).unwrap_or_default();
    assert!(first.starts_with("1    20711"), "{stdout}");
    assert!(first.contains("0.707"), "{stdout}");
    assert!(
        first.contains("bought together with 22138 (BAKING SET 9 PIECE RETROSPOT)"),
        "{stdout}"
    );

    let out = vitrine(&[
        "recommend",
        "--data",
        RETAIL_SAMPLE,
        "--user",
        "stranger",
        "--k",
        "2",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("not personalised"), "{stdout}");
    assert!(stdout.contains("popular overall"), "{stdout}");

    let out = vitrine(&[
        "recommend",
        "--data",
        RETAIL_SAMPLE,
        "--user",
        "1",
        "--diversity",
        "2",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 0 and 1"));
}

/// The shipped recommender folds in a history as `tests/fixtures/recommender/fold_in.json`
/// records (made by `make_reference.sh` beside it; the browser test checks the same file).
#[test]
fn recommend_folds_a_history_into_the_shipped_model() -> TestResult {
    let fixture: serde_json::Value = serde_json::from_slice(&std::fs::read(
        root().join("tests/fixtures/recommender/fold_in.json"),
    )?)?;
    let dir = scratch("fold-in");
    for case in fixture.as_array().ok_or("cases")? {
        let history: Vec<&str> = case["history"]
            .as_array()
            .ok_or("history")?
            .iter()
            .filter_map(|h| h.as_str())
            .collect();
        let json = dir.join("list.json");
        let (k, diversity) = (case["k"].to_string(), case["diversity"].to_string());
        let out = vitrine(&[
            "recommend",
            "--history",
            &history.join(","),
            "--k",
            &k,
            "--diversity",
            &diversity,
            "--json",
            json.to_str().ok_or("path")?,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list: serde_json::Value = serde_json::from_slice(&std::fs::read(&json)?)?;
        assert_eq!(list, *case, "history {history:?}");
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
