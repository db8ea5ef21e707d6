//! The release gate of a quantized tagger: it ships only if it tags like its float32 original.
//!
//! Quantized BERT taggers have been seen to fall from near-perfect to 60% accuracy and to emit
//! labels the original never produced (case QNT-01). The gate compares, on the same labelled
//! words, the quantized model's tags with the original's and with the gold tags. Give it each
//! word's most probable tag ([`crate::Decoding::Argmax`]): sequence decoding would let one
//! changed word move its neighbours and hide or inflate the difference.
//!
//! - strict IOB2 entity micro-F1 of at least [`MIN_F1_RATIO`] of the original's, and at most
//!   [`MAX_F1_DROP`] below it;
//! - the same tag on at least [`MIN_AGREEMENT`] of the words;
//! - no tag that the original never predicted on the set;
//! - the share of words tagged `O` within [`MAX_O_SHARE_SHIFT`] of the original's, so that no
//!   single label takes over.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::entity_metrics::{EntityReport, Scheme};
use crate::error::{Error, Result};

/// Least share of the original's entity F1 the quantized model keeps.
pub const MIN_F1_RATIO: f64 = 0.99;
/// Most entity F1 (on a 0..1 scale) the quantized model may lose.
pub const MAX_F1_DROP: f64 = 0.005;
/// Least share of words on which both models give the same tag.
pub const MIN_AGREEMENT: f64 = 0.99;
/// Most the share of `O` tags may move, on a 0..1 scale.
pub const MAX_O_SHARE_SHIFT: f64 = 0.02;

/// How a quantized tagger compares with its original on one labelled set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuantizationGate {
    /// Number of words compared.
    pub words: usize,
    /// Strict IOB2 entity micro-F1 of the original.
    pub reference_f1: f64,
    /// Strict IOB2 entity micro-F1 of the quantized model.
    pub quantized_f1: f64,
    /// Share of words given the same tag by both.
    pub agreement: f64,
    /// Share of words the original tags `O`.
    pub reference_o_share: f64,
    /// Share of words the quantized model tags `O`.
    pub quantized_o_share: f64,
    /// Tags the quantized model gives that the original never gives on the set.
    pub new_labels: Vec<String>,
}

impl QuantizationGate {
    /// Measures the quantized tags against the original's, query by query; every list holds
    /// one tag per word of its query.
    pub fn measure<S: AsRef<str>>(
        gold: &[Vec<S>],
        reference: &[Vec<S>],
        quantized: &[Vec<S>],
    ) -> Result<Self> {
        if gold.len() != reference.len() || gold.len() != quantized.len() {
            return Err(Error::Input(format!(
                "{} gold queries, {} from the original and {} from the quantized model",
                gold.len(),
                reference.len(),
                quantized.len()
            )));
        }
        for (q, (r, t)) in reference.iter().zip(quantized).enumerate() {
            if r.len() != t.len() {
                return Err(Error::Input(format!(
                    "query {q}: {} tags from the original but {} from the quantized model",
                    r.len(),
                    t.len()
                )));
            }
        }
        let reference_f1 = EntityReport::new(gold, reference, Scheme::StrictIob2)?
            .micro
            .f1;
        let quantized_f1 = EntityReport::new(gold, quantized, Scheme::StrictIob2)?
            .micro
            .f1;

        let pairs: Vec<(&str, &str)> = reference
            .iter()
            .flatten()
            .zip(quantized.iter().flatten())
            .map(|(r, q)| (r.as_ref(), q.as_ref()))
            .collect();
        let words = pairs.len();
        let share = |count: usize| count as f64 / words.max(1) as f64;
        let seen: BTreeSet<&str> = pairs.iter().map(|p| p.0).collect();
        let new_labels: BTreeSet<&str> = pairs
            .iter()
            .map(|p| p.1)
            .filter(|tag| !seen.contains(tag))
            .collect();
        Ok(Self {
            words,
            reference_f1,
            quantized_f1,
            agreement: share(pairs.iter().filter(|(r, q)| r == q).count()),
            reference_o_share: share(pairs.iter().filter(|p| p.0 == "O").count()),
            quantized_o_share: share(pairs.iter().filter(|p| p.1 == "O").count()),
            new_labels: new_labels.into_iter().map(str::to_owned).collect(),
        })
    }

    /// Why the quantized model must not ship, one reason per failed condition; empty when it
    /// passes.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        if self.quantized_f1 < MIN_F1_RATIO * self.reference_f1 {
            failures.push(format!(
                "entity F1 {:.4} is under {MIN_F1_RATIO} of the original's {:.4}",
                self.quantized_f1, self.reference_f1
            ));
        }
        if self.reference_f1 - self.quantized_f1 > MAX_F1_DROP {
            failures.push(format!(
                "entity F1 drops by {:.4}, more than {MAX_F1_DROP}",
                self.reference_f1 - self.quantized_f1
            ));
        }
        if self.agreement < MIN_AGREEMENT {
            failures.push(format!(
                "the tags agree on {:.4} of the words, under {MIN_AGREEMENT}",
                self.agreement
            ));
        }
        if !self.new_labels.is_empty() {
            failures.push(format!(
                "it predicts tags the original never does: {}",
                self.new_labels.join(", ")
            ));
        }
        if (self.quantized_o_share - self.reference_o_share).abs() > MAX_O_SHARE_SHIFT {
            failures.push(format!(
                "the share of O moves from {:.4} to {:.4}, more than {MAX_O_SHARE_SHIFT}",
                self.reference_o_share, self.quantized_o_share
            ));
        }
        failures
    }

    /// `Ok` when the quantized model may ship, else an error giving every reason.
    pub fn check(&self) -> Result<()> {
        let failures = self.failures();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Error::Input(format!(
                "the quantized tagger fails its release gate on {} words: {}",
                self.words,
                failures.join("; ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|t| (*t).to_owned()).collect())
            .collect()
    }

    #[test]
    fn identical_tags_pass() -> Result<()> {
        let gold = tags(&[&["B-color", "B-core_product_type", "O"]]);
        let gate = QuantizationGate::measure(&gold, &gold, &gold)?;
        assert_eq!(gate.reference_f1, 1.0);
        assert_eq!(gate.agreement, 1.0);
        assert_eq!(gate.reference_o_share, 1.0 / 3.0);
        gate.check()
    }

    #[test]
    fn a_collapse_to_new_labels_fails_on_every_count() -> Result<()> {
        // QNT-01: the quantized model loses most entities and invents a label.
        let gold = tags(&[
            &["B-creator", "I-creator", "B-core_product_type"],
            &["B-color", "B-core_product_type", "O"],
        ]);
        let quantized = tags(&[
            &["B-department", "B-department", "B-department"],
            &["B-color", "B-department", "B-department"],
        ]);
        let gate = QuantizationGate::measure(&gold, &gold, &quantized)?;
        // One of four gold entities found among six predicted: P = 1/6, R = 1/4, F1 = 0.2.
        assert!(
            (gate.quantized_f1 - 0.2).abs() < 1e-12,
            "{}",
            gate.quantized_f1
        );
        assert_eq!(gate.agreement, 1.0 / 6.0);
        assert_eq!(gate.new_labels, vec!["B-department".to_owned()]);
        assert_eq!(gate.quantized_o_share, 0.0);
        let failures = gate.failures();
        assert_eq!(failures.len(), 5, "{failures:?}");
        let err = gate.check().unwrap_err().to_string();
        assert!(err.contains("B-department"), "{err}");
        Ok(())
    }

    #[test]
    fn one_word_in_a_hundred_may_differ() -> Result<()> {
        // 100 words: the original gets 20 of 20 one-word entities, the quantized model turns one
        // of them into O. F1: 19 of 19 predicted, 19 of 20 found: 2*19/39 = 0.974, a ratio
        // under 0.99, so the gate fails on F1 but not on agreement (0.99 exactly).
        let mut gold = vec![vec!["O".to_owned(); 80]];
        gold[0].extend((0..20).map(|_| "B-color".to_owned()));
        let mut quantized = gold.clone();
        quantized[0][99] = "O".to_owned();
        let gate = QuantizationGate::measure(&gold, &gold, &quantized)?;
        assert_eq!(gate.agreement, 0.99);
        assert!((gate.quantized_f1 - 38.0 / 39.0).abs() < 1e-12);
        let failures = gate.failures();
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(failures[0].contains("under 0.99"), "{failures:?}");
        Ok(())
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        let gold = tags(&[&["O", "O"]]);
        let short = tags(&[&["O"]]);
        let err = QuantizationGate::measure(&gold, &gold, &short).unwrap_err();
        assert!(err.to_string().contains("query 0"), "{err}");
    }
}
