//! Entity-level precision, recall and F1 for BIO tag sequences.
//!
//! An entity counts as found only when its type and its exact token span both match. Two ways of
//! reading tags into entities are offered:
//!
//! - [`Scheme::StrictIob2`], the acceptance metric: an entity starts only at `B-X` and extends
//!   over the `I-X` that follow. An `I-X` with no `B-X` or `I-X` before it starts nothing.
//! - [`Scheme::Lenient`], as conlleval reads IOB1: an `I-X` after `O` or after another type also
//!   starts an entity. Shown entities use this reading to repair stray tags; reports name the
//!   scheme they were computed with.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};

/// How tags become entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Scheme {
    /// Strict IOB2: only `B-X` starts an entity.
    StrictIob2,
    /// conlleval's reading: a stray `I-X` starts an entity too.
    Lenient,
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::StrictIob2 => "strict IOB2",
            Self::Lenient => "lenient (conlleval)",
        })
    }
}

/// One entity: a type over the tokens `start..end`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Entity {
    /// The entity type, the tag without its `B-`/`I-` prefix.
    pub kind: String,
    /// First token.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
}

enum Tag<'a> {
    Outside,
    Begin(&'a str),
    Inside(&'a str),
}

fn parse(tag: &str) -> Result<Tag<'_>> {
    match tag.split_once('-') {
        _ if tag == "O" => Ok(Tag::Outside),
        Some(("B", kind)) if !kind.is_empty() => Ok(Tag::Begin(kind)),
        Some(("I", kind)) if !kind.is_empty() => Ok(Tag::Inside(kind)),
        _ => Err(Error::Input(format!(
            "`{tag}` is not a BIO tag; expected O, B-<type> or I-<type>"
        ))),
    }
}

/// Reads the entities of one tag sequence.
pub fn entities<S: AsRef<str>>(tags: &[S], scheme: Scheme) -> Result<Vec<Entity>> {
    let mut found = Vec::new();
    // The entity being extended: its type and first token.
    let mut open: Option<(&str, usize)> = None;
    for (i, tag) in tags.iter().enumerate() {
        let tag = parse(tag.as_ref())?;
        let continues = matches!((&tag, open), (Tag::Inside(k), Some((o, _))) if *k == o);
        if continues {
            continue;
        }
        if let Some((kind, start)) = open.take() {
            found.push(Entity {
                kind: kind.to_owned(),
                start,
                end: i,
            });
        }
        open = match tag {
            Tag::Begin(kind) => Some((kind, i)),
            Tag::Inside(kind) if scheme == Scheme::Lenient => Some((kind, i)),
            Tag::Inside(_) | Tag::Outside => None,
        };
    }
    if let Some((kind, start)) = open {
        found.push(Entity {
            kind: kind.to_owned(),
            start,
            end: tags.len(),
        });
    }
    Ok(found)
}

/// Counts and scores for one entity type, or for all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Score {
    /// Entities predicted with the right type and span.
    pub correct: usize,
    /// Entities predicted.
    pub predicted: usize,
    /// Entities in the truth.
    pub support: usize,
    /// `correct / predicted`, 0 when nothing was predicted.
    pub precision: f64,
    /// `correct / support`, 0 when there is nothing to find.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
}

impl Score {
    fn from_counts(correct: usize, predicted: usize, support: usize) -> Self {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (precision, recall) = (ratio(correct, predicted), ratio(correct, support));
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Self {
            correct,
            predicted,
            support,
            precision,
            recall,
            f1,
        }
    }
}

/// Entity-level scores of predicted tag sequences against the truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityReport {
    /// How tags were read into entities.
    pub scheme: Scheme,
    /// Scores per entity type, for every type in the truth or the predictions.
    pub per_type: BTreeMap<String, Score>,
    /// Scores over all entities pooled.
    pub micro: Score,
    /// Unweighted means of the per-type precision, recall and F1 (counts are totals).
    pub macro_avg: Score,
}

impl EntityReport {
    /// Scores `predicted` against `truth`, sentence by sentence.
    ///
    /// Both must hold the same number of sentences, each of the same length in both.
    pub fn new<S: AsRef<str>>(
        truth: &[Vec<S>],
        predicted: &[Vec<S>],
        scheme: Scheme,
    ) -> Result<Self> {
        if truth.len() != predicted.len() {
            return Err(Error::Input(format!(
                "{} true sentences but {} predicted ones",
                truth.len(),
                predicted.len()
            )));
        }
        let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
        for (i, (t, p)) in truth.iter().zip(predicted).enumerate() {
            if t.len() != p.len() {
                return Err(Error::Input(format!(
                    "sentence {i} has {} true tags but {} predicted ones",
                    t.len(),
                    p.len()
                )));
            }
            let true_entities = entities(t, scheme)?;
            let predicted_entities = entities(p, scheme)?;
            for e in &predicted_entities {
                let c = counts.entry(e.kind.clone()).or_default();
                c.1 += 1;
                if true_entities.contains(e) {
                    c.0 += 1;
                }
            }
            for e in &true_entities {
                counts.entry(e.kind.clone()).or_default().2 += 1;
            }
        }

        let per_type: BTreeMap<String, Score> = counts
            .into_iter()
            .map(|(kind, (c, p, s))| (kind, Score::from_counts(c, p, s)))
            .collect();
        let total = |f: fn(&Score) -> usize| per_type.values().map(f).sum::<usize>();
        let micro = Score::from_counts(
            total(|s| s.correct),
            total(|s| s.predicted),
            total(|s| s.support),
        );
        let n = per_type.len().max(1) as f64;
        let mean = |f: fn(&Score) -> f64| per_type.values().map(f).sum::<f64>() / n;
        let macro_avg = Score {
            precision: mean(|s| s.precision),
            recall: mean(|s| s.recall),
            f1: mean(|s| s.f1),
            ..micro
        };
        Ok(Self {
            scheme,
            per_type,
            micro,
            macro_avg,
        })
    }
}

impl fmt::Display for EntityReport {
    /// A table: one row per type, then micro and macro averages, and the scheme used.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<22} {:>9} {:>9} {:>9} {:>8}",
            "type", "precision", "recall", "f1", "support"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, s: &Score| {
            writeln!(
                f,
                "{name:<22} {:>9.4} {:>9.4} {:>9.4} {:>8}",
                s.precision, s.recall, s.f1, s.support
            )
        };
        for (kind, score) in &self.per_type {
            row(f, kind, score)?;
        }
        row(f, "micro avg", &self.micro)?;
        row(f, "macro avg", &self.macro_avg)?;
        write!(f, "entities read with the {} scheme", self.scheme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn an_inside_tag_without_a_begin_is_no_entity_in_strict_iob2() -> Result<()> {
        // Case MET-01: seqeval 1.2.2 gives 0 in strict mode and 1.0 in its default mode.
        let truth = [tags("B-PRODUCT I-PRODUCT")];
        let predicted = [tags("I-PRODUCT I-PRODUCT")];
        let strict = EntityReport::new(&truth, &predicted, Scheme::StrictIob2)?;
        assert_eq!(
            (strict.micro.precision, strict.micro.recall, strict.micro.f1),
            (0.0, 0.0, 0.0)
        );
        assert_eq!(strict.micro.predicted, 0);
        let lenient = EntityReport::new(&truth, &predicted, Scheme::Lenient)?;
        assert_eq!(
            (
                lenient.micro.precision,
                lenient.micro.recall,
                lenient.micro.f1
            ),
            (1.0, 1.0, 1.0)
        );
        assert!(strict.to_string().contains("strict IOB2"));
        Ok(())
    }

    #[test]
    fn a_wrong_boundary_costs_more_than_a_missed_entity() -> Result<()> {
        // Case MET-02, worked by hand: the same in both schemes.
        let truth = [tags("B-BRAND I-BRAND O O B-COLOUR I-COLOUR I-COLOUR O")];
        let boundary = [tags("B-BRAND I-BRAND O O O B-COLOUR I-COLOUR O")];
        let missing = [tags("B-BRAND I-BRAND O O O O O O")];
        for scheme in [Scheme::StrictIob2, Scheme::Lenient] {
            let r = EntityReport::new(&truth, &boundary, scheme)?;
            assert_eq!(
                (r.micro.correct, r.micro.predicted, r.micro.support),
                (1, 2, 2)
            );
            assert!(
                close(r.micro.precision, 0.5)
                    && close(r.micro.recall, 0.5)
                    && close(r.micro.f1, 0.5)
            );
            assert_eq!(r.per_type["COLOUR"].f1, 0.0);

            let r = EntityReport::new(&truth, &missing, scheme)?;
            assert_eq!(
                (r.micro.correct, r.micro.predicted, r.micro.support),
                (1, 1, 2)
            );
            assert!(close(r.micro.precision, 1.0) && close(r.micro.recall, 0.5));
            assert!(close(r.micro.f1, 0.6667));
            assert_eq!(r.per_type["COLOUR"].f1, 0.0);
        }
        Ok(())
    }

    #[test]
    fn entities_end_where_the_type_changes() -> Result<()> {
        let e = entities(&tags("B-A I-A I-B B-B O I-A"), Scheme::StrictIob2)?;
        assert_eq!(
            e,
            [
                Entity {
                    kind: "A".into(),
                    start: 0,
                    end: 2
                },
                Entity {
                    kind: "B".into(),
                    start: 3,
                    end: 4
                }
            ]
        );
        let e = entities(&tags("B-A I-A I-B B-B O I-A"), Scheme::Lenient)?;
        let spans: Vec<_> = e
            .iter()
            .map(|e| (e.kind.as_str(), e.start, e.end))
            .collect();
        assert_eq!(spans, [("A", 0, 2), ("B", 2, 3), ("B", 3, 4), ("A", 5, 6)]);
        Ok(())
    }

    #[test]
    fn macro_averages_types_equally() -> Result<()> {
        // A: 1 of 1 found, 1 predicted -> F1 1. B: 0 of 1 found, 1 predicted -> F1 0.
        // C: 1 of 1 found among 2 predicted -> P 0.5, R 1, F1 2/3.
        let truth = [tags("B-A O B-B O B-C O")];
        let predicted = [tags("B-A O O B-B B-C B-C")];
        let r = EntityReport::new(&truth, &predicted, Scheme::StrictIob2)?;
        assert!(close(r.macro_avg.f1, (1.0 + 0.0 + 2.0 / 3.0) / 3.0));
        assert!(close(r.macro_avg.precision, (1.0 + 0.0 + 0.5) / 3.0));
        assert!(close(r.micro.precision, 2.0 / 4.0) && close(r.micro.recall, 2.0 / 3.0));
        Ok(())
    }

    #[test]
    fn malformed_tags_and_lengths_are_errors() {
        assert!(entities(&tags("B-A X-A"), Scheme::StrictIob2).is_err());
        assert!(entities(&tags("B-"), Scheme::StrictIob2).is_err());
        let err = EntityReport::new(&[tags("O O")], &[tags("O")], Scheme::StrictIob2).unwrap_err();
        assert!(err.to_string().contains("sentence 0"), "{err}");
        assert!(EntityReport::new(&[tags("O")], &[], Scheme::StrictIob2).is_err());
    }

    #[test]
    fn nothing_to_find_and_nothing_found_scores_zero_without_dividing_by_zero() -> Result<()> {
        let r = EntityReport::new(&[tags("O O")], &[tags("O O")], Scheme::StrictIob2)?;
        assert_eq!((r.micro.f1, r.macro_avg.f1), (0.0, 0.0));
        assert!(r.per_type.is_empty());
        Ok(())
    }
}
