//! The beta-geometric/negative-binomial distribution (BG/NBD) model of repeat buying: a
//! shopper's purchases forecast from how many they made and **how recently**, so that one who
//! bought often but long ago counts as probably lost.
//!
//! Fader, Hardie and Lee, "Counting your customers the easy way: an alternative to the
//! Pareto/NBD model", Marketing Science 24(2), 2005. While active, a shopper buys as a Poisson
//! process of rate `λ ~ Gamma(r, α)`; after each purchase they drop out for good with
//! probability `p ~ Beta(a, b)`. From first purchase to the end of the window (`T` days) they
//! made `x` repeat purchases, the last `t_x` days after the first ([`RepeatSummary`]).
//!
//! [`BgNbd::fit`] maximises the likelihood of the summaries (Nelder–Mead on the logarithms of
//! the four parameters, from all ones, times scaled so the oldest shopper's `T` is 10, as the
//! `lifetimes` package does; deterministic; each parameter kept within `e^±9`).
//! [`BgNbd::expected_purchases`] is the paper's conditional expectation (its equation 10), with
//! the hypergeometric function taken through Euler's transformation so that it neither
//! overflows nor cancels for heavy buyers:
//!
//! ```text
//! E[Y(t) | x, t_x, T] = (a + b + x − 1)/(a − 1) · [1 − (1 − z)^(a−1) ₂F₁(a + b − 1 − r, a − 1;
//!                       a + b + x − 1; z)] / (1 + [x > 0] a/(b + x − 1) ((α + T)/(α + t_x))^(r+x))
//! ```
//!
//! with `z = t / (α + T + t)`. Every factor is positive for valid parameters, so the forecast
//! is never negative (it is clamped at 0 against rounding all the same).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{PopulationPrior, UserExpectation, UserHistory, Window, ln_gamma, shrunk_mean_spend};
use crate::error::{Error, Result};

/// A shopper's repeat buying in a window, in days: what BG/NBD conditions on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RepeatSummary {
    /// Purchases after the first (`x`).
    pub frequency: f64,
    /// Days from the first purchase to the last (`t_x`); 0 without repeat purchases.
    pub recency: f64,
    /// Days from the first purchase to the end of the window (`T`).
    pub age: f64,
}

impl RepeatSummary {
    /// The summary of `history` over `window`: `x = n − 1`, `t_x = last − first` and
    /// `T = window.end − first` for `n` purchases.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] for a history without purchases (BG/NBD starts at the first one) or a
    /// bad history; [`Error::Config`] for a bad window.
    pub fn from_history(history: &UserHistory, window: Window) -> Result<Self> {
        window.length()?;
        history.check(window)?;
        let first = history.purchase_days.iter().copied().reduce(f64::min);
        let last = history.purchase_days.iter().copied().reduce(f64::max);
        let (Some(first), Some(last)) = (first, last) else {
            return Err(Error::Input(
                "BG/NBD needs at least one purchase; forecast shoppers without one from the \
                 population rate"
                    .into(),
            ));
        };
        Ok(Self {
            frequency: (history.purchase_days.len() - 1) as f64,
            recency: last - first,
            age: window.end - first,
        })
    }

    fn check(&self) -> Result<()> {
        let Self {
            frequency: x,
            recency: t_x,
            age: t,
        } = *self;
        let valid = x.is_finite()
            && x >= 0.0
            && x.fract() == 0.0
            && t.is_finite()
            && t > 0.0
            && t_x >= 0.0
            && t_x <= t
            && (x > 0.0 || t_x == 0.0);
        if !valid {
            return Err(Error::Input(format!(
                "repeat summary {self:?} needs a whole frequency of at least 0, an age above 0 \
                 and a recency from 0 to the age (0 without repeat purchases)"
            )));
        }
        Ok(())
    }
}

/// The four BG/NBD parameters; times in days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgNbd {
    /// Shape of the gamma distribution of purchase rates.
    pub r: f64,
    /// Scale of the gamma distribution of purchase rates, in days.
    pub alpha: f64,
    /// First shape of the beta distribution of drop-out probabilities.
    pub a: f64,
    /// Second shape of the beta distribution of drop-out probabilities.
    pub b: f64,
}

/// The fit keeps each parameter within `e^−9..e^9` (α in time scaled so that the oldest `T` is
/// 10). On a few shoppers the likelihood may rise forever toward a limit, such as drop-out
/// probabilities that are all the same (`a`, `b` → ∞); the bound stops there, at a model that
/// forecasts like that limit, rather than at overflowing numbers.
const LOG_BOUND: f64 = 9.0;

/// A fitted [`BgNbd`] and how well it fits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgNbdFit {
    /// The maximum-likelihood parameters.
    pub model: BgNbd,
    /// The mean log-likelihood per shopper at those parameters.
    pub mean_log_likelihood: f64,
    /// How many summaries the fit saw.
    pub shoppers: usize,
}

impl BgNbd {
    fn check(&self) -> Result<()> {
        let ok = |v: f64| v.is_finite() && v > 0.0;
        if !(ok(self.r) && ok(self.alpha) && ok(self.a) && ok(self.b)) {
            return Err(Error::Config(format!(
                "BG/NBD parameters {self:?} must all be finite and above 0"
            )));
        }
        Ok(())
    }

    /// The log-likelihood of one shopper's summary (the paper's equation 6):
    /// `ln[Γ(r+x) α^r / Γ(r)] + ln[B(a, b+x) / B(a, b)] + ln[(α+T)^−(r+x)
    /// + [x > 0] a/(b+x−1) (α+t_x)^−(r+x)]`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for parameters not all positive and finite; [`Error::Input`] for a bad
    /// summary.
    pub fn log_likelihood(&self, shopper: &RepeatSummary) -> Result<f64> {
        self.check()?;
        shopper.check()?;
        Ok(self.log_likelihood_unchecked(shopper))
    }

    fn log_likelihood_unchecked(&self, s: &RepeatSummary) -> f64 {
        let Self { r, alpha, a, b } = *self;
        let x = s.frequency;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
        let a3 = -(r + x) * (alpha + s.age).ln();
        if x > 0.0 {
            let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + s.recency).ln();
            let hi = a3.max(a4);
            a1 + a2 + hi + ((a3 - hi).exp() + (a4 - hi).exp()).ln()
        } else {
            a1 + a2 + a3
        }
    }

    /// The probability that a shopper with this summary is still active at the end of their
    /// window: `1 / (1 + [x > 0] a/(b+x−1) ((α+T)/(α+t_x))^(r+x))`.
    ///
    /// # Errors
    ///
    /// As [`BgNbd::log_likelihood`].
    pub fn probability_alive(&self, shopper: &RepeatSummary) -> Result<f64> {
        self.check()?;
        shopper.check()?;
        Ok(1.0 / self.dropout_odds_plus_one(shopper))
    }

    fn dropout_odds_plus_one(&self, s: &RepeatSummary) -> f64 {
        let x = s.frequency;
        if x > 0.0 {
            let ratio = (self.alpha + s.age) / (self.alpha + s.recency);
            1.0 + self.a / (self.b + x - 1.0) * ((self.r + x) * ratio.ln()).exp()
        } else {
            1.0
        }
    }

    /// The expected purchases of a shopper with this summary in the `days` after their window
    /// (see the [module docs](self)); at least 0.
    ///
    /// # Errors
    ///
    /// As [`BgNbd::log_likelihood`], and [`Error::Config`] for a negative or non-finite
    /// `days`, or for `a + b + x ≤ 1`, where the formula has no value.
    pub fn expected_purchases(&self, shopper: &RepeatSummary, days: f64) -> Result<f64> {
        self.check()?;
        shopper.check()?;
        if !(days.is_finite() && days >= 0.0) {
            return Err(Error::Config(format!(
                "days={days} must be finite and at least 0"
            )));
        }
        if days == 0.0 {
            return Ok(0.0);
        }
        let Self { r, alpha, b, .. } = *self;
        // At a = 1 the two factors are 0/0; their limit is continuous, so step just off it.
        let a = if (self.a - 1.0).abs() < 1e-7 {
            1.0 + 1e-7
        } else {
            self.a
        };
        let x = shopper.frequency;
        let c = a + b + x - 1.0;
        if c <= 0.0 {
            return Err(Error::Config(format!(
                "BG/NBD with a + b + x = {} ≤ 1 has no conditional expectation; refit on more \
                 shoppers",
                c + 1.0
            )));
        }
        let z = days / (alpha + shopper.age + days);
        let (f, log_scale) = hypergeometric_2f1(a + b - 1.0 - r, a - 1.0, c, z)?;
        let second = 1.0 - ((a - 1.0) * (1.0 - z).ln() + log_scale).exp() * f;
        let expected = c / (a - 1.0) * second / self.dropout_odds_plus_one(shopper);
        Ok(expected.max(0.0))
    }

    /// Fits the parameters to `shoppers` by maximum likelihood (see the
    /// [module docs](self)).
    ///
    /// # Errors
    ///
    /// [`Error::Input`] for no shoppers or a bad summary. Data whose likelihood has no finite
    /// maximum (no shopper with a repeat purchase, say) is fitted up to the parameter bound
    /// of the [module docs](self), not refused.
    pub fn fit(shoppers: &[RepeatSummary]) -> Result<BgNbdFit> {
        if shoppers.is_empty() {
            return Err(Error::Input("BG/NBD needs at least one shopper".into()));
        }
        for s in shoppers {
            s.check()?;
        }
        let scale = 10.0 / shoppers.iter().map(|s| s.age).fold(0.0, f64::max);
        // Shoppers with the same summary share one likelihood term, weighted by their count.
        let mut groups: BTreeMap<[u64; 3], (RepeatSummary, f64)> = BTreeMap::new();
        for s in shoppers {
            let scaled = RepeatSummary {
                frequency: s.frequency,
                recency: s.recency * scale,
                age: s.age * scale,
            };
            let key = [
                scaled.frequency.to_bits(),
                scaled.recency.to_bits(),
                scaled.age.to_bits(),
            ];
            groups.entry(key).or_insert((scaled, 0.0)).1 += 1.0;
        }
        let n = shoppers.len() as f64;
        let negative_mean_ll = |theta: &[f64; 4]| {
            let model = BgNbd {
                r: theta[0].exp(),
                alpha: theta[1].exp(),
                a: theta[2].exp(),
                b: theta[3].exp(),
            };
            let ll: f64 = groups
                .values()
                .map(|(s, w)| w * model.log_likelihood_unchecked(s))
                .sum();
            if ll.is_finite() {
                -ll / n
            } else {
                f64::INFINITY
            }
        };
        let bounded = |theta: &[f64; 4]| {
            if theta.iter().all(|t| t.abs() <= LOG_BOUND) {
                negative_mean_ll(theta)
            } else {
                f64::INFINITY
            }
        };
        let (theta, value) = nelder_mead(bounded, [0.0; 4]);
        if theta.iter().any(|t| t.abs() > LOG_BOUND - 0.01) {
            log::debug!("the BG/NBD fit stopped at the bound e^±{LOG_BOUND}: {theta:?}");
        }
        let model = BgNbd {
            r: theta[0].exp(),
            alpha: theta[1].exp() / scale,
            a: theta[2].exp(),
            b: theta[3].exp(),
        };
        if model.check().is_err() || !value.is_finite() {
            return Err(Error::Input(format!(
                "the BG/NBD likelihood cannot be evaluated on these {} shoppers (reached \
                 {model:?}); check their summaries",
                shoppers.len()
            )));
        }
        // Reported in days, the unit of the summaries, not in the scaled time of the search.
        let mean_ll = shoppers
            .iter()
            .map(|s| model.log_likelihood_unchecked(s))
            .sum::<f64>()
            / n;
        Ok(BgNbdFit {
            model,
            mean_log_likelihood: mean_ll,
            shoppers: shoppers.len(),
        })
    }
}

/// A shopper's expected purchases and spend over the next `horizon_days` under a fitted
/// BG/NBD: purchases from [`BgNbd::expected_purchases`], the mean amount of one purchase
/// shrunk toward the population's as in [`super::expect_user`] (`(S + P m) / (n + P)`), and
/// `rate_per_day = purchases / horizon_days` (0 for a horizon of 0).
///
/// # Errors
///
/// As [`RepeatSummary::from_history`] and [`BgNbd::expected_purchases`]; [`Error::Config`]
/// for a bad prior.
pub fn expect_user_bgnbd(
    history: &UserHistory,
    window: Window,
    horizon_days: f64,
    model: &BgNbd,
    prior: &PopulationPrior,
) -> Result<UserExpectation> {
    prior.check()?;
    let summary = RepeatSummary::from_history(history, window)?;
    let purchases = model.expected_purchases(&summary, horizon_days)?;
    let mean_spend = shrunk_mean_spend(history, prior);
    Ok(UserExpectation {
        rate_per_day: if horizon_days > 0.0 {
            purchases / horizon_days
        } else {
            0.0
        },
        mean_spend,
        purchases,
        spend: purchases * mean_spend,
    })
}

/// Gauss's hypergeometric function ₂F₁(a, b; c; z) for `0 ≤ z < 1` and `c > 0`, by its
/// series `Σ (a)_k (b)_k / ((c)_k k!) z^k`, as `(m, s)` with ₂F₁ = `m e^s`: with large
/// parameters the sum outgrows `f64` long before the factor it is multiplied by shrinks it back.
fn hypergeometric_2f1(a: f64, b: f64, c: f64, z: f64) -> Result<(f64, f64)> {
    if !(c > 0.0 && (0.0..1.0).contains(&z)) {
        return Err(Error::Config(format!(
            "the hypergeometric series needs c > 0 and 0 ≤ z < 1, got c={c}, z={z}"
        )));
    }
    const BIG: f64 = 1e200;
    let (mut term, mut sum, mut log_scale) = (1.0f64, 1.0f64, 0.0f64);
    for k in 0..10_000_000 {
        let k = f64::from(k);
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        // Past k > |a| + |b| the terms shrink geometrically, by nearly z each.
        if term.abs() <= 1e-16 * sum.abs() && k > a.abs() + b.abs() {
            return Ok((sum, log_scale));
        }
        if sum.abs() > BIG {
            sum /= BIG;
            term /= BIG;
            log_scale += BIG.ln();
        }
        if !sum.is_finite() {
            break;
        }
    }
    Err(Error::Config(format!(
        "the hypergeometric series ₂F₁({a}, {b}; {c}; {z}) did not converge; z is too close \
         to 1"
    )))
}

/// Minimises `f` from `start` by Nelder–Mead (steps of 1 around the start, the usual
/// reflection 1, expansion 2, contraction ½ and shrink ½), restarted from the best point until
/// a restart gains nothing. Deterministic.
fn nelder_mead<F: Fn(&[f64; 4]) -> f64>(f: F, start: [f64; 4]) -> ([f64; 4], f64) {
    let mut best = (start, f(&start));
    for _restart in 0..20 {
        let found = nelder_mead_once(&f, best.0);
        let gain = best.1 - found.1;
        if found.1 <= best.1 {
            best = found;
        }
        if gain.is_nan() || gain <= 1e-12 * (1.0 + best.1.abs()) {
            break;
        }
    }
    best
}

fn nelder_mead_once<F: Fn(&[f64; 4]) -> f64>(f: &F, start: [f64; 4]) -> ([f64; 4], f64) {
    const N: usize = 4;
    let mut simplex: Vec<([f64; N], f64)> = (0..=N)
        .map(|i| {
            let mut p = start;
            if i > 0 {
                p[i - 1] += 1.0;
            }
            (p, f(&p))
        })
        .collect();
    let along = |from: &[f64; N], to: &[f64; N], t: f64| {
        let mut p = [0.0; N];
        for j in 0..N {
            p[j] = from[j] + t * (to[j] - from[j]);
        }
        p
    };
    for _ in 0..20_000 {
        simplex.sort_by(|p, q| p.1.total_cmp(&q.1));
        let (lo, hi) = (simplex[0].1, simplex[N].1);
        let size = simplex
            .iter()
            .flat_map(|(p, _)| p.iter().zip(&simplex[0].0).map(|(u, v)| (u - v).abs()))
            .fold(0.0, f64::max);
        if (hi - lo).abs() <= 1e-13 * (1.0 + lo.abs()) && size < 1e-8 {
            break;
        }
        let mut centroid = [0.0; N];
        for (p, _) in &simplex[..N] {
            for j in 0..N {
                centroid[j] += p[j] / N as f64;
            }
        }
        let worst = simplex[N].0;
        let reflected = along(&centroid, &worst, -1.0);
        let fr = f(&reflected);
        if fr < simplex[0].1 {
            let expanded = along(&centroid, &worst, -2.0);
            let fe = f(&expanded);
            simplex[N] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[N - 1].1 {
            simplex[N] = (reflected, fr);
        } else {
            let contracted = if fr < simplex[N].1 {
                along(&centroid, &reflected, 0.5)
            } else {
                along(&centroid, &worst, 0.5)
            };
            let fc = f(&contracted);
            if fc < fr.min(simplex[N].1) {
                simplex[N] = (contracted, fc);
            } else {
                let best = simplex[0].0;
                for (p, v) in simplex.iter_mut().skip(1) {
                    *p = along(&best, p, 0.5);
                    *v = f(p);
                }
            }
        }
    }
    simplex.sort_by(|p, q| p.1.total_cmp(&q.1));
    simplex[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    const UNIT: BgNbd = BgNbd {
        r: 1.0,
        alpha: 1.0,
        a: 2.0,
        b: 1.0,
    };

    #[test]
    fn log_likelihood_and_alive_by_hand() -> Result<()> {
        // r = α = 1, a = 2, b = 1; x = 1, t_x = 0.5, T = 1:
        //   ln[Γ(2) 1 / Γ(1)] = 0; ln[Γ(3) Γ(2) / (Γ(1) Γ(4))] = ln(2/6) = −ln 3;
        //   (α+T)^−2 = 1/4; a/(b+x−1) (α+t_x)^−2 = 2/2.25 = 8/9;
        //   LL = ln[(1/4 + 8/9)/3] = ln(41/108) ≈ −0.968559 (lifetimes 0.11.3: −0.9685592).
        let s = RepeatSummary {
            frequency: 1.0,
            recency: 0.5,
            age: 1.0,
        };
        let ll = UNIT.log_likelihood(&s)?;
        assert!(close(ll, (41.0f64 / 108.0).ln(), 1e-12), "{ll}");
        // P(alive) = 1 / (1 + 2 (2/1.5)²) = 1 / (1 + 32/9) = 9/41.
        assert!(close(UNIT.probability_alive(&s)?, 9.0 / 41.0, 1e-12));
        // No repeat purchase: ln[(1/2)^1] + ln[Γ(3)Γ(1)/(Γ(1)Γ(3))] = −ln 2; alive for sure.
        let once = RepeatSummary {
            frequency: 0.0,
            recency: 0.0,
            age: 1.0,
        };
        assert!(close(UNIT.log_likelihood(&once)?, -(2.0f64.ln()), 1e-12));
        assert_eq!(UNIT.probability_alive(&once)?, 1.0);
        Ok(())
    }

    #[test]
    fn expected_purchases_by_hand() -> Result<()> {
        // r = α = 1, a = 2, b = 1, t = 2, T = 1, so z = 2/(1 + 1 + 2) = 1/2 and
        // ₂F₁(a+b−1−r, a−1; a+b+x−1; z) = ₂F₁(1, 1; 2 + x; 1/2).
        //
        // x = 0: ₂F₁(1, 1; 2; z) = −ln(1−z)/z = 2 ln 2;
        //   E = (2/1) [1 − (1/2) 2 ln 2] = 2 (1 − ln 2) ≈ 0.613706.
        let once = RepeatSummary {
            frequency: 0.0,
            recency: 0.0,
            age: 1.0,
        };
        let e = UNIT.expected_purchases(&once, 2.0)?;
        assert!(close(e, 2.0 * (1.0 - 2.0f64.ln()), 1e-12), "{e}");
        // x = 1, t_x = 0.5: ₂F₁(1, 1; 3; z) = Σ 2 z^k / ((k+1)(k+2))
        //   = 2[−ln(1−z)/z] − 2[(−ln(1−z) − z)/z²] = 4 ln 2 − 8 (ln 2 − 1/2) = 4 − 4 ln 2;
        //   E = (3/1) [1 − (1/2)(4 − 4 ln 2)] / (41/9) = 27 (2 ln 2 − 1) / 41 ≈ 0.254389
        //   (lifetimes 0.11.3: 0.2543890).
        let twice = RepeatSummary {
            frequency: 1.0,
            recency: 0.5,
            age: 1.0,
        };
        let e = UNIT.expected_purchases(&twice, 2.0)?;
        assert!(
            close(e, 27.0 * (2.0 * 2.0f64.ln() - 1.0) / 41.0, 1e-12),
            "{e}"
        );
        assert_eq!(UNIT.expected_purchases(&twice, 0.0)?, 0.0);
        assert!(UNIT.expected_purchases(&twice, -1.0).is_err());
        Ok(())
    }

    #[test]
    fn expected_purchases_with_a_below_one_match_lifetimes() -> Result<()> {
        // CDNOW-like parameters (a < 1 makes both leading factors negative). References from
        // lifetimes 0.11.3's conditional_expected_number_of_purchases_up_to_time(273, ...).
        let model = BgNbd {
            r: 0.25,
            alpha: 33.0,
            a: 0.75,
            b: 2.2,
        };
        let cases = [
            ((0.0, 0.0, 200.0), 0.252_590_620_054_224_7),
            ((2.0, 100.0, 250.0), 0.786_806_903_152_168_8),
            ((10.0, 260.0, 270.0), 6.709_357_023_843_101),
        ];
        for ((x, t_x, t), want) in cases {
            let s = RepeatSummary {
                frequency: x,
                recency: t_x,
                age: t,
            };
            let got = model.expected_purchases(&s, 273.0)?;
            assert!(close(got, want, 1e-9), "{s:?}: {got} against {want}");
        }
        // A heavy buyer: (1 − z)^(r+x) ₂F₁(r+x, ...) would overflow; Euler's form does not.
        let heavy = RepeatSummary {
            frequency: 2000.0,
            recency: 270.0,
            age: 271.0,
        };
        let e = model.expected_purchases(&heavy, 273.0)?;
        assert!(e.is_finite() && e > 1000.0, "{e}");
        Ok(())
    }

    #[test]
    fn summaries_from_histories() -> Result<()> {
        let window = Window {
            start: 0.0,
            end: 30.0,
        };
        let h = UserHistory {
            purchase_days: vec![12.0, 4.0, 20.5],
            amounts: vec![1.0; 3],
        };
        let s = RepeatSummary::from_history(&h, window)?;
        assert_eq!((s.frequency, s.recency, s.age), (2.0, 16.5, 26.0));
        assert!(RepeatSummary::from_history(&UserHistory::default(), window).is_err());
        let bad = RepeatSummary {
            frequency: 0.0,
            recency: 1.0,
            age: 2.0,
        };
        assert!(UNIT.expected_purchases(&bad, 1.0).is_err());
        Ok(())
    }

    #[test]
    fn fit_finds_the_likelihood_maximum() -> Result<()> {
        // 12 shoppers; the maximum is interior, so every parameter nudged by 1% either way
        // lowers the likelihood, and the fit is the same run after run.
        let rows = [
            (0.0, 0.0, 30.0),
            (0.0, 0.0, 25.0),
            (0.0, 0.0, 38.0),
            (0.0, 0.0, 12.0),
            (0.0, 0.0, 33.0),
            (1.0, 3.0, 31.0),
            (1.0, 20.0, 36.0),
            (2.0, 10.0, 35.0),
            (2.0, 30.0, 32.0),
            (3.0, 12.0, 38.0),
            (5.0, 33.0, 34.0),
            (8.0, 36.0, 37.0),
        ];
        let shoppers: Vec<RepeatSummary> = rows
            .iter()
            .map(|&(x, t_x, t)| RepeatSummary {
                frequency: x,
                recency: t_x,
                age: t,
            })
            .collect();
        let fit = BgNbd::fit(&shoppers)?;
        let total = |m: &BgNbd| -> Result<f64> {
            shoppers
                .iter()
                .map(|s| m.log_likelihood(s))
                .sum::<Result<f64>>()
        };
        let best = total(&fit.model)?;
        assert!(close(best / 12.0, fit.mean_log_likelihood, 1e-12));
        for i in 0..4 {
            for f in [0.99, 1.01] {
                let mut m = fit.model;
                match i {
                    0 => m.r *= f,
                    1 => m.alpha *= f,
                    2 => m.a *= f,
                    _ => m.b *= f,
                }
                assert!(
                    total(&m)? < best,
                    "parameter {i} × {f} beats the fit {fit:?}"
                );
            }
        }
        // lifetimes 0.11.3's BetaGeoFitter finds r 0.7333, α 10.474, a 0.5016, b 3.305.
        let m = fit.model;
        for (got, want) in [
            (m.r, 0.7333),
            (m.alpha, 10.474),
            (m.a, 0.5016),
            (m.b, 3.305),
        ] {
            assert!(close(got / want, 1.0, 2e-3), "{m:?}");
        }
        assert_eq!(BgNbd::fit(&shoppers)?, fit);
        assert!(BgNbd::fit(&[]).is_err());
        Ok(())
    }

    #[test]
    fn fit_without_a_finite_maximum_stops_at_the_bound() -> Result<()> {
        // Nobody bought twice: the likelihood r ln(α/(α+T)) rises toward 0 as α grows, so α
        // (scaled to ages of at most 10) stops at e^9 and the forecasts are tiny but finite.
        let once: Vec<RepeatSummary> = [5.0, 8.0, 10.0]
            .iter()
            .map(|&age| RepeatSummary {
                frequency: 0.0,
                recency: 0.0,
                age,
            })
            .collect();
        let fit = BgNbd::fit(&once)?;
        assert!(
            close(fit.model.alpha, 9.0f64.exp(), 1e-6 * 9.0f64.exp()),
            "{fit:?}"
        );
        let e = fit.model.expected_purchases(&once[0], 10.0)?;
        assert!(e.is_finite() && (0.0..0.01).contains(&e), "{e}");
        // Ten shoppers whose likelihood is highest with every drop-out probability equal
        // (a, b → ∞; a CDNOW-format sample of the CLI tests): a and b stop at the bound, and the
        // hypergeometric series, whose sum passes 1e300 there, still gives a finite forecast.
        let rows = [
            (0.0, 0.0, 273.0),
            (1.0, 38.0, 271.0),
            (0.0, 0.0, 259.0),
            (3.0, 224.0, 254.0),
            (0.0, 0.0, 242.0),
            (1.0, 186.0, 228.0),
            (0.0, 0.0, 214.0),
            (2.0, 10.0, 205.0),
            (0.0, 0.0, 190.0),
            (0.0, 0.0, 184.0),
        ];
        let shoppers: Vec<RepeatSummary> = rows
            .iter()
            .map(|&(x, t_x, t)| RepeatSummary {
                frequency: x,
                recency: t_x,
                age: t,
            })
            .collect();
        let fit = BgNbd::fit(&shoppers)?;
        assert!(fit.model.a > 1e3 && fit.model.b > 1e3, "{fit:?}");
        for s in &shoppers {
            let e = fit.model.expected_purchases(s, 273.0)?;
            assert!(e.is_finite() && e >= 0.0, "{s:?}: {e}");
        }
        Ok(())
    }

    #[test]
    fn user_expectation_under_bgnbd() -> Result<()> {
        // The x = 1 shopper of the hand-worked expectation: days 0 and 0.5 of a window [0, 1)
        // with amounts 10 and 30; prior mean spend 20 weighted as 2 purchases.
        //   purchases = 27 (2 ln 2 − 1) / 41; mean spend = (40 + 40)/(2 + 2) = 20.
        let h = UserHistory {
            purchase_days: vec![0.0, 0.5],
            amounts: vec![10.0, 30.0],
        };
        let prior = PopulationPrior {
            rate_per_day: 0.1,
            mean_spend: 20.0,
            prior_days: 10.0,
            prior_purchases: 2.0,
        };
        let window = Window {
            start: 0.0,
            end: 1.0,
        };
        let e = expect_user_bgnbd(&h, window, 2.0, &UNIT, &prior)?;
        let want = 27.0 * (2.0 * 2.0f64.ln() - 1.0) / 41.0;
        assert!(close(e.purchases, want, 1e-12));
        assert!(close(e.mean_spend, 20.0, 1e-12) && close(e.spend, 20.0 * want, 1e-10));
        assert!(close(e.rate_per_day, want / 2.0, 1e-12));
        Ok(())
    }
}
