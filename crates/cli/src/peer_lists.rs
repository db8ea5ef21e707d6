//! Other libraries' recommendations scored by Vitrine's own metrics: `vitrine eval recommender
//! --export-split DIR` writes the exact training and test pairs, a peer (`implicit`, LightFM;
//! see `bench/recommender_peers.py`) trains on `train.tsv` and writes its top-K lists, and
//! `--peer-lists FILE` scores them beside Vitrine's models on the same split.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use vitrine_core::recommend::{
    Interactions, Reason, Recommendations, Recommended, Recommender, Source,
};

/// Writes `train.tsv` and `test.tsv` into `dir`: a header, then one `user`, `item`, `weight`
/// row per pair, users and items in index order.
pub(crate) fn export_split(train: &Interactions, test: &Interactions, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, data) in [("train.tsv", train), ("test.tsv", test)] {
        let path = dir.join(name);
        let file = std::fs::File::create(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        writeln!(out, "user\titem\tweight")?;
        for (u, i, cell) in data.pairs() {
            let (Some(user), Some(item)) = (data.user_id(u), data.item_id(i)) else {
                continue;
            };
            if user.contains(['\t', '\n']) || item.contains(['\t', '\n']) {
                bail!("{user:?} or {item:?} holds a tab or a line break, which TSV cannot carry");
            }
            writeln!(out, "{user}\t{item}\t{}", cell.weight)?;
        }
        out.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// What a peer script writes: the library and one entry per model it trained.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeerRun {
    /// The library and its version, e.g. `implicit 0.7.2`.
    pub(crate) library: String,
    /// The models, each with its lists.
    pub(crate) models: Vec<PeerModel>,
}

/// One trained model of a peer library and its lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeerModel {
    /// The model and its settings, e.g. `ALS (f = 128, reg = 0.01)`.
    pub(crate) name: String,
    /// Wall-clock seconds of training.
    pub(crate) fit_seconds: f64,
    /// Passes over the data in that time.
    pub(crate) epochs: usize,
    /// Each test user's list, best first.
    pub(crate) lists: BTreeMap<String, Vec<String>>,
}

/// Reads a peer run, refusing a file that is not one with the reason.
pub(crate) fn read_peer_run(path: &Path) -> Result<PeerRun> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let run: PeerRun = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a peer run: expected {{\"library\", \"models\": [{{\"name\", \
             \"fit_seconds\", \"epochs\", \"lists\": {{user: [item, ...]}}}}]}}",
            path.display()
        )
    })?;
    Ok(run)
}

/// A peer model's fixed lists behind the [`Recommender`] trait.
#[derive(Debug)]
pub(crate) struct Listed<'a> {
    name: String,
    lists: &'a BTreeMap<String, Vec<String>>,
    train: &'a Interactions,
}

impl<'a> Listed<'a> {
    pub(crate) fn new(library: &str, model: &'a PeerModel, train: &'a Interactions) -> Self {
        Self {
            name: format!("{library} {}", model.name),
            lists: &model.lists,
            train,
        }
    }
}

impl Recommender for Listed<'_> {
    fn name(&self) -> String {
        self.name.clone()
    }

    /// The user's list cut to `k`, without training items when `exclude_seen` is set (should
    /// the peer have kept any); a user the peer gave no list gets an empty, unpersonalised one.
    fn recommend(
        &self,
        user: &str,
        k: usize,
        exclude_seen: bool,
    ) -> vitrine_core::Result<Recommendations> {
        let Some(list) = self.lists.get(user) else {
            return Ok(Recommendations {
                user: user.to_owned(),
                source: Source::Popularity,
                items: Vec::new(),
            });
        };
        let u = self.train.user_index(user);
        let seen = |item: &str| {
            exclude_seen
                && u.zip(self.train.item_index(item))
                    .is_some_and(|(u, i)| self.train.get(u, i).is_some())
        };
        let items = list
            .iter()
            .filter(|item| !seen(item))
            .take(k)
            .enumerate()
            .map(|(rank, item)| Recommended {
                item: item.clone(),
                score: -(rank as f64),
                reason: Reason::RankedByModel,
            })
            .collect();
        Ok(Recommendations {
            user: user.to_owned(),
            source: Source::Personalised,
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn train() -> Interactions {
        let records = [
            ("u1", "a", 1.0, 0),
            ("u1", "b", 2.0, 0),
            ("u2", "c", 1.0, 0),
        ];
        Interactions::from_records(&records).expect("records")
    }

    #[test]
    fn lists_drop_seen_items_and_cut_to_k() -> Result<()> {
        let train = train();
        let model = PeerModel {
            name: "ALS".into(),
            fit_seconds: 1.0,
            epochs: 1,
            lists: BTreeMap::from([("u1".into(), vec!["b".into(), "c".into(), "a".into()])]),
        };
        let listed = Listed::new("lib 1.0", &model, &train);
        assert_eq!(listed.name(), "lib 1.0 ALS");
        let recs = listed.recommend("u1", 5, true)?;
        assert_eq!(recs.item_ids(), ["c"]);
        assert!(recs.personalised());
        let recs = listed.recommend("u1", 2, false)?;
        assert_eq!(recs.item_ids(), ["b", "c"]);
        let none = listed.recommend("u9", 5, true)?;
        assert!(none.items.is_empty() && !none.personalised());
        Ok(())
    }

    #[test]
    fn the_split_round_trips_through_tsv() -> Result<()> {
        let train = train();
        let test = Interactions::from_records(&[("u2", "a", 3.0, 5)])?;
        let dir = std::env::temp_dir().join(format!("vitrine-split-{}", std::process::id()));
        export_split(&train, &test, &dir)?;
        let text = std::fs::read_to_string(dir.join("train.tsv"))?;
        assert_eq!(text, "user\titem\tweight\nu1\ta\t1\nu1\tb\t2\nu2\tc\t1\n");
        let text = std::fs::read_to_string(dir.join("test.tsv"))?;
        assert_eq!(text, "user\titem\tweight\nu2\ta\t3\n");
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn a_file_of_another_shape_is_refused_with_the_expected_one() -> Result<()> {
        let path = std::env::temp_dir().join(format!("vitrine-peer-{}.json", std::process::id()));
        std::fs::write(&path, r#"{"library": "x", "models": [{"name": "y"}]}"#)?;
        let message = format!("{:#}", read_peer_run(&path).expect_err("refused"));
        assert!(message.contains("is not a peer run: expected"), "{message}");
        assert!(message.contains("missing field"), "{message}");
        std::fs::remove_file(&path)?;
        Ok(())
    }
}
