//! Forecasts of counts and money: quantities that are never negative.
//!
//! Two models of a regularly spaced series (daily units, weekly purchases of a category):
//!
//! - [`fit_trend`], the baseline: ordinary least squares of the values on the time index
//!   `t = 0, 1, …, n−1`. A straight line runs below zero as soon as demand falls, so its
//!   forecasts and the lower bounds of its prediction intervals are clamped at 0; the raw fit
//!   stays available in [`TrendFit`].
//! - [`fit_smoothing`], the challenger: simple exponential smoothing, its level
//!   `ℓ_t = α y_t + (1 − α) ℓ_{t−1}` (with `ℓ_0 = y_0`) forecast flat. Its smoothing weight
//!   `α` is the value of the grid 0.01, 0.02, …, 1.00 with the least squared one-step-ahead
//!   error (the smallest such `α` on ties), so fitting is deterministic. It was chosen over
//!   damped Holt and Poisson regression because every forecast is a weighted average of past
//!   observations, so it **cannot** go negative on non-negative data (no clamping needed), and
//!   because it does not extrapolate trends: on short, noisy purchase-count series a trend is
//!   mostly noise, and a fitted line (or the exponential of one) turns it into forecasts of
//!   zero or of runaway growth.
//!
//! Both give prediction intervals at a chosen level from Student's t: for the line,
//! `ŷ ± t_{n−2} s √(1 + 1/n + (t − t̄)² / Sxx)` with `s²` the residual variance on `n − 2`
//! degrees of freedom; for smoothing, `ŷ ± t_{n−1} s √(1 + (h − 1) α²)` at `h` steps ahead, with
//! `s²` the mean squared one-step error. Lower bounds are clamped at 0.
//!
//! [`expect_user`] gives a shopper's expected purchases and spend over a horizon from a rate
//! model shrunk toward the population; [`expect_user_bgnbd`] does so from the BG/NBD model of
//! repeat buying ([`BgNbd`]), which also weighs how recently the shopper bought;
//! [`forecast_weekly`] forecasts each category with both series models; [`evaluate_holdout`]
//! compares them by [`mae`] on the last part of a series.

use serde::Serialize;

use crate::error::{Error, Result};

mod bgnbd;

pub use bgnbd::{BgNbd, BgNbdFit, RepeatSummary, expect_user_bgnbd};

/// A forecast over a horizon, with prediction intervals; all values are at least 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The point forecast of each step ahead.
    pub mean: Vec<f64>,
    /// The lower bound of each step's prediction interval.
    pub lower: Vec<f64>,
    /// The upper bound of each step's prediction interval.
    pub upper: Vec<f64>,
    /// The coverage the intervals aim for, e.g. 0.95.
    pub level: f64,
}

fn check_series(y: &[f64], min_len: usize, model: &str) -> Result<()> {
    if y.len() < min_len {
        return Err(Error::Input(format!(
            "{model} needs at least {min_len} observations, got {}",
            y.len()
        )));
    }
    if let Some((i, v)) = y
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite() || **v < 0.0)
    {
        return Err(Error::Input(format!(
            "observation {i} is {v}; counts and amounts must be finite and at least 0"
        )));
    }
    Ok(())
}

fn check_level(level: f64) -> Result<()> {
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::Config(format!(
            "interval level {level} must lie strictly between 0 and 1, e.g. 0.95"
        )));
    }
    Ok(())
}

fn check_horizon(horizon: usize) -> Result<()> {
    if horizon == 0 {
        return Err(Error::Config("the horizon must be at least 1 step".into()));
    }
    Ok(())
}

/// A least-squares line through a series on its time index `0..n`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendFit {
    /// The value of the line at `t = 0`.
    pub intercept: f64,
    /// The change per step.
    pub slope: f64,
    /// The residual standard deviation, on `n − 2` degrees of freedom.
    pub residual_std: f64,
    /// The number of observations.
    pub n: usize,
}

/// Fits the baseline line to `y` observed at `t = 0, 1, …, n−1`.
///
/// # Errors
///
/// [`Error::Input`] for fewer than 3 observations (an interval needs a residual variance) or a
/// negative or non-finite value.
pub fn fit_trend(y: &[f64]) -> Result<TrendFit> {
    check_series(y, 3, "the trend line")?;
    let n = y.len() as f64;
    let t_mean = (n - 1.0) / 2.0;
    let y_mean = y.iter().sum::<f64>() / n;
    let sxx: f64 = (0..y.len()).map(|t| (t as f64 - t_mean).powi(2)).sum();
    let sxy: f64 = y
        .iter()
        .enumerate()
        .map(|(t, v)| (t as f64 - t_mean) * (v - y_mean))
        .sum();
    let slope = sxy / sxx;
    let intercept = y_mean - slope * t_mean;
    let sse: f64 = y
        .iter()
        .enumerate()
        .map(|(t, v)| (v - intercept - slope * t as f64).powi(2))
        .sum();
    Ok(TrendFit {
        intercept,
        slope,
        residual_std: (sse / (n - 2.0)).sqrt(),
        n: y.len(),
    })
}

impl TrendFit {
    /// The line at time index `t`, unclamped (may be negative).
    pub fn raw_prediction(&self, t: f64) -> f64 {
        self.intercept + self.slope * t
    }

    /// Forecasts the `horizon` steps after the data, clamped at 0.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a horizon of 0 or a level outside (0, 1).
    pub fn forecast(&self, horizon: usize, level: f64) -> Result<Forecast> {
        check_horizon(horizon)?;
        check_level(level)?;
        let n = self.n as f64;
        let t_mean = (n - 1.0) / 2.0;
        let sxx: f64 = (0..self.n).map(|t| (t as f64 - t_mean).powi(2)).sum();
        let q = student_t_quantile(0.5 + level / 2.0, n - 2.0)?;
        let mut out = Forecast {
            mean: vec![],
            lower: vec![],
            upper: vec![],
            level,
        };
        for h in 0..horizon {
            let t = n + h as f64;
            let raw = self.raw_prediction(t);
            let half = q * self.residual_std * (1.0 + 1.0 / n + (t - t_mean).powi(2) / sxx).sqrt();
            out.mean.push(raw.max(0.0));
            out.lower.push((raw - half).max(0.0));
            out.upper.push((raw + half).max(0.0));
        }
        Ok(out)
    }
}

/// A simple exponential smoothing of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SmoothingFit {
    /// The smoothing weight of the newest observation.
    pub alpha: f64,
    /// The smoothed level after the last observation: the flat forecast.
    pub level: f64,
    /// The root mean squared one-step-ahead error.
    pub residual_std: f64,
    /// The number of observations.
    pub n: usize,
}

fn smooth(y: &[f64], alpha: f64) -> (f64, f64) {
    let mut level = y[0];
    let mut sse = 0.0;
    for &v in &y[1..] {
        sse += (v - level).powi(2);
        level = alpha * v + (1.0 - alpha) * level;
    }
    (level, sse)
}

/// Fits simple exponential smoothing to `y`.
///
/// With `alpha` `None`, the weight is chosen on the grid 0.01..=1.00 by least squared
/// one-step-ahead error; with `Some(a)`, `a` is used.
///
/// # Errors
///
/// [`Error::Input`] for fewer than 2 observations or a negative or non-finite value;
/// [`Error::Config`] for an `alpha` outside (0, 1].
pub fn fit_smoothing(y: &[f64], alpha: Option<f64>) -> Result<SmoothingFit> {
    check_series(y, 2, "exponential smoothing")?;
    let alpha = match alpha {
        Some(a) if a > 0.0 && a <= 1.0 => a,
        Some(a) => {
            return Err(Error::Config(format!(
                "alpha={a} must lie in (0, 1], e.g. 0.3"
            )));
        }
        None => {
            let mut best = (f64::INFINITY, 1.0);
            for i in 1..=100 {
                let a = f64::from(i) / 100.0;
                let (_, sse) = smooth(y, a);
                if sse < best.0 {
                    best = (sse, a);
                }
            }
            best.1
        }
    };
    let (level, sse) = smooth(y, alpha);
    let residual_std = (sse / (y.len() - 1) as f64).sqrt();
    Ok(SmoothingFit {
        alpha,
        level,
        residual_std,
        n: y.len(),
    })
}

impl SmoothingFit {
    /// Forecasts the `horizon` steps after the data: flat at the last level.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a horizon of 0 or a level outside (0, 1).
    pub fn forecast(&self, horizon: usize, level: f64) -> Result<Forecast> {
        check_horizon(horizon)?;
        check_level(level)?;
        let q = student_t_quantile(0.5 + level / 2.0, (self.n - 1) as f64)?;
        let mut out = Forecast {
            mean: vec![],
            lower: vec![],
            upper: vec![],
            level,
        };
        for h in 1..=horizon {
            let half =
                q * self.residual_std * (1.0 + (h - 1) as f64 * self.alpha * self.alpha).sqrt();
            out.mean.push(self.level.max(0.0));
            out.lower.push((self.level - half).max(0.0));
            out.upper.push((self.level + half).max(0.0));
        }
        Ok(out)
    }
}

/// The mean absolute error of a forecast.
///
/// # Errors
///
/// [`Error::Input`] when the slices differ in length, are empty, or hold a non-finite value.
pub fn mae(predicted: &[f64], actual: &[f64]) -> Result<f64> {
    if predicted.len() != actual.len() || predicted.is_empty() {
        return Err(Error::Input(format!(
            "mae needs equally long, non-empty slices; got {} predictions and {} actuals",
            predicted.len(),
            actual.len()
        )));
    }
    if predicted.iter().chain(actual).any(|v| !v.is_finite()) {
        return Err(Error::Input("mae got a NaN or infinite value".into()));
    }
    let sum: f64 = predicted
        .iter()
        .zip(actual)
        .map(|(p, a)| (p - a).abs())
        .sum();
    Ok(sum / predicted.len() as f64)
}

/// Which forecasting model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Model {
    /// The least-squares line, clamped at 0.
    Trend,
    /// Simple exponential smoothing.
    Smoothing,
}

/// Both models scored on the held-out end of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldoutReport {
    /// The trend line's forecast of the held-out steps (clamped at 0).
    pub trend_forecast: Vec<f64>,
    /// Smoothing's forecast of the held-out steps.
    pub smoothing_forecast: Vec<f64>,
    /// The trend line's MAE.
    pub trend_mae: f64,
    /// Smoothing's MAE.
    pub smoothing_mae: f64,
    /// The smoothing weight fitted on the training part.
    pub smoothing_alpha: f64,
    /// The model with the lower MAE; the baseline, [`Model::Trend`], on a tie.
    pub better: Model,
}

/// Fits both models on all but the last `holdout` values and scores them on those.
///
/// # Errors
///
/// [`Error::Config`] for a `holdout` of 0; [`Error::Input`] when fewer than 3 values are left
/// for training or a value is negative or not finite.
pub fn evaluate_holdout(series: &[f64], holdout: usize) -> Result<HoldoutReport> {
    check_horizon(holdout)?;
    if series.len() < holdout + 3 {
        return Err(Error::Input(format!(
            "a series of {} values leaves fewer than 3 for training with a holdout of {holdout}; \
             hold out fewer values",
            series.len()
        )));
    }
    check_series(series, 3, "the holdout evaluation")?;
    let (train, test) = series.split_at(series.len() - holdout);
    let trend_forecast = fit_trend(train)?.forecast(holdout, 0.95)?.mean;
    let smoothing = fit_smoothing(train, None)?;
    let smoothing_forecast = smoothing.forecast(holdout, 0.95)?.mean;
    let trend_mae = mae(&trend_forecast, test)?;
    let smoothing_mae = mae(&smoothing_forecast, test)?;
    Ok(HoldoutReport {
        better: if smoothing_mae < trend_mae {
            Model::Smoothing
        } else {
            Model::Trend
        },
        trend_forecast,
        smoothing_forecast,
        trend_mae,
        smoothing_mae,
        smoothing_alpha: smoothing.alpha,
    })
}

/// Both models' forecasts of one category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryForecast {
    /// The category.
    pub category: String,
    /// The trend line's forecast.
    pub trend: Forecast,
    /// Exponential smoothing's forecast.
    pub smoothing: Forecast,
    /// The fitted smoothing weight.
    pub smoothing_alpha: f64,
}

/// Forecasts the next `horizon` weeks of each category from its weekly counts, oldest first.
///
/// # Errors
///
/// [`Error::Input`] for a category with fewer than 3 weeks or a bad count, naming the
/// category; [`Error::Config`] for a horizon of 0 or a level outside (0, 1).
pub fn forecast_weekly(
    weekly: &[(String, Vec<f64>)],
    horizon: usize,
    level: f64,
) -> Result<Vec<CategoryForecast>> {
    check_horizon(horizon)?;
    check_level(level)?;
    weekly
        .iter()
        .map(|(category, counts)| {
            let named = |e: Error| match e {
                Error::Input(m) => Error::Input(format!("category `{category}`: {m}")),
                other => other,
            };
            let trend = fit_trend(counts).map_err(named)?.forecast(horizon, level)?;
            let fit = fit_smoothing(counts, None).map_err(named)?;
            Ok(CategoryForecast {
                category: category.clone(),
                trend,
                smoothing: fit.forecast(horizon, level)?,
                smoothing_alpha: fit.alpha,
            })
        })
        .collect()
}

/// A training window of days: `start` inclusive to `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    /// The first day.
    pub start: f64,
    /// The day after the last.
    pub end: f64,
}

impl Window {
    fn length(&self) -> Result<f64> {
        let w = self.end - self.start;
        if !(w.is_finite() && w > 0.0) {
            return Err(Error::Config(format!(
                "the window [{}, {}) must have a finite, positive length",
                self.start, self.end
            )));
        }
        Ok(w)
    }
}

/// A shopper's purchases in the training window.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct UserHistory {
    /// The day of each purchase.
    pub purchase_days: Vec<f64>,
    /// The amount of each purchase, in the same order.
    pub amounts: Vec<f64>,
}

impl UserHistory {
    fn check(&self, window: Window) -> Result<()> {
        if self.purchase_days.len() != self.amounts.len() {
            return Err(Error::Input(format!(
                "{} purchase days but {} amounts; give one amount per purchase",
                self.purchase_days.len(),
                self.amounts.len()
            )));
        }
        if let Some(d) = self
            .purchase_days
            .iter()
            .find(|&&d| !(d >= window.start && d < window.end))
        {
            return Err(Error::Input(format!(
                "purchase on day {d} lies outside the training window [{}, {}); filter the \
                 purchases to the window first",
                window.start, window.end
            )));
        }
        if let Some(a) = self.amounts.iter().find(|a| !a.is_finite() || **a < 0.0) {
            return Err(Error::Input(format!(
                "purchase amount {a} must be finite and at least 0"
            )));
        }
        Ok(())
    }
}

/// What the population says before a shopper's own history, and how strongly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PopulationPrior {
    /// Purchases per shopper per day.
    pub rate_per_day: f64,
    /// Mean amount of one purchase.
    pub mean_spend: f64,
    /// The weight of the population rate, in days of observation.
    pub prior_days: f64,
    /// The weight of the population mean spend, in purchases.
    pub prior_purchases: f64,
}

impl PopulationPrior {
    /// The population rate and mean spend of `users` over `window`, with the given weights.
    ///
    /// `rate_per_day = Σ purchases / (users × window length)`, and
    /// `mean_spend = Σ amounts / Σ purchases` (0 when nobody bought).
    ///
    /// # Errors
    ///
    /// [`Error::Input`] for no users or a bad history; [`Error::Config`] for a bad window or a
    /// negative or non-finite weight.
    pub fn from_users(
        users: &[UserHistory],
        window: Window,
        prior_days: f64,
        prior_purchases: f64,
    ) -> Result<Self> {
        let w = window.length()?;
        if users.is_empty() {
            return Err(Error::Input(
                "the population needs at least one user".into(),
            ));
        }
        for u in users {
            u.check(window)?;
        }
        let purchases: usize = users.iter().map(|u| u.amounts.len()).sum();
        let amount: f64 = users.iter().flat_map(|u| &u.amounts).sum();
        let prior = Self {
            rate_per_day: purchases as f64 / (users.len() as f64 * w),
            mean_spend: if purchases > 0 {
                amount / purchases as f64
            } else {
                0.0
            },
            prior_days,
            prior_purchases,
        };
        prior.check()?;
        Ok(prior)
    }

    fn check(&self) -> Result<()> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if !(ok(self.rate_per_day)
            && ok(self.mean_spend)
            && ok(self.prior_days)
            && ok(self.prior_purchases))
        {
            return Err(Error::Config(format!(
                "population prior {self:?} must hold finite values of at least 0"
            )));
        }
        Ok(())
    }
}

/// A shopper's expected purchases and spend over a horizon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UserExpectation {
    /// The shrunk purchase rate, per day.
    pub rate_per_day: f64,
    /// The shrunk mean amount of one purchase.
    pub mean_spend: f64,
    /// Expected purchases over the horizon.
    pub purchases: f64,
    /// Expected spend over the horizon.
    pub spend: f64,
}

/// A shopper's expected purchases and spend over the next `horizon_days`.
///
/// With `n` purchases totalling `S` in a window of `W` days, and the prior's rate `λ`, mean
/// spend `m` and weights `D` (days) and `P` (purchases):
///
/// - `rate = (n + D λ) / (W + D)`: the gamma–Poisson posterior mean rate, the shopper's own
///   rate `n / W` shrunk toward `λ`;
/// - `purchases = rate × horizon_days`;
/// - `mean_spend = (S + P m) / (n + P)`, or `m` when `n + P` is 0;
/// - `spend = purchases × mean_spend`.
///
/// # Errors
///
/// [`Error::Input`] for a bad history; [`Error::Config`] for a bad window, horizon or prior.
pub fn expect_user(
    history: &UserHistory,
    window: Window,
    horizon_days: f64,
    prior: &PopulationPrior,
) -> Result<UserExpectation> {
    let w = window.length()?;
    if !(horizon_days.is_finite() && horizon_days >= 0.0) {
        return Err(Error::Config(format!(
            "horizon_days={horizon_days} must be finite and at least 0"
        )));
    }
    prior.check()?;
    history.check(window)?;
    let n = history.amounts.len() as f64;
    let rate_per_day = (n + prior.prior_days * prior.rate_per_day) / (w + prior.prior_days);
    let mean_spend = shrunk_mean_spend(history, prior);
    let purchases = rate_per_day * horizon_days;
    Ok(UserExpectation {
        rate_per_day,
        mean_spend,
        purchases,
        spend: purchases * mean_spend,
    })
}

/// `(S + P m) / (n + P)` for `n` purchases totalling `S`, or `m` when `n + P` is 0.
fn shrunk_mean_spend(history: &UserHistory, prior: &PopulationPrior) -> f64 {
    let n = history.amounts.len() as f64;
    let total: f64 = history.amounts.iter().sum();
    if n + prior.prior_purchases > 0.0 {
        (total + prior.prior_purchases * prior.mean_spend) / (n + prior.prior_purchases)
    } else {
        prior.mean_spend
    }
}

/// The `p` quantile of Student's t distribution with `df` degrees of freedom.
///
/// # Errors
///
/// [`Error::Config`] when `p` is outside (0, 1) or `df` is not positive.
pub fn student_t_quantile(p: f64, df: f64) -> Result<f64> {
    if !(p > 0.0 && p < 1.0 && df > 0.0 && df.is_finite()) {
        return Err(Error::Config(format!(
            "a t quantile needs 0 < p < 1 and df > 0, got p={p}, df={df}"
        )));
    }
    if p < 0.5 {
        return Ok(-student_t_quantile(1.0 - p, df)?);
    }
    let cdf = |t: f64| 1.0 - 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    let mut hi = 1.0;
    while cdf(hi) < p && hi < 1e12 {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

fn ln_gamma(x: f64) -> f64 {
    // Lanczos approximation, g = 7, for x > 0.
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta function I_x(a, b).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    // Lentz's continued fraction, as in Numerical Recipes' betacf.
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn for_01_falling_line_is_clamped_at_zero() {
        let units = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0];
        let fit = fit_trend(&units).unwrap();
        assert!(close(fit.slope, -1.0, 1e-12), "{}", fit.slope);
        assert!(close(fit.intercept, 6.0, 1e-12), "{}", fit.intercept);
        // Raw line at days 7, 8, 9: −1, −2, −3.
        assert!(close(fit.raw_prediction(7.0), -1.0, 1e-12));
        let f = fit.forecast(3, 0.95).unwrap();
        assert_eq!(f.mean, vec![0.0, 0.0, 0.0]);
        assert!(f.lower.iter().all(|&l| l >= 0.0));
        assert!(f.upper.iter().all(|&u| u >= 0.0));
    }

    #[test]
    fn trend_interval_by_hand() {
        // y = [1, 3, 2, 4, 3]: t̄ = 2, ȳ = 2.6, Sxx = 10,
        // Sxy = (−2)(−1.6) + (−1)(0.4) + 0 + (1)(1.4) + (2)(0.4) = 5 → slope 0.5, intercept 1.6.
        // Fitted 1.6, 2.1, 2.6, 3.1, 3.6; residuals −0.6, 0.9, −0.6, 0.9, −0.6;
        // SSE = 3 × 0.36 + 2 × 0.81 = 2.7, s² = 2.7 / 3 = 0.9.
        // t = 5: ŷ = 4.1, half-width = t_{3, .975} √(0.9 (1 + 1/5 + 9/10)) = 3.182446 × 1.374773.
        let fit = fit_trend(&[1.0, 3.0, 2.0, 4.0, 3.0]).unwrap();
        assert!(close(fit.slope, 0.5, 1e-12) && close(fit.intercept, 1.6, 1e-12));
        assert!(close(fit.residual_std, 0.9f64.sqrt(), 1e-12));
        let f = fit.forecast(1, 0.95).unwrap();
        let half = 3.182_446 * (0.9f64 * 2.1).sqrt();
        assert!(close(f.mean[0], 4.1, 1e-12));
        assert!(close(f.upper[0], 4.1 + half, 1e-5), "{}", f.upper[0]);
        assert!(
            close(f.lower[0], 0.0f64.max(4.1 - half), 1e-5),
            "{}",
            f.lower[0]
        );
    }

    #[test]
    fn t_quantiles_match_tables() {
        assert!(close(
            student_t_quantile(0.975, 5.0).unwrap(),
            2.570_582,
            1e-6
        ));
        assert!(close(
            student_t_quantile(0.975, 1.0).unwrap(),
            12.706_205,
            1e-5
        ));
        assert!(close(
            student_t_quantile(0.95, 10.0).unwrap(),
            1.812_461,
            1e-6
        ));
        assert!(close(
            student_t_quantile(0.975, 1e6).unwrap(),
            1.959_966,
            1e-5
        ));
        assert!(close(
            student_t_quantile(0.025, 5.0).unwrap(),
            -2.570_582,
            1e-6
        ));
        assert!(student_t_quantile(1.0, 5.0).is_err());
        assert!(student_t_quantile(0.5, 0.0).is_err());
    }

    #[test]
    fn smoothing_by_hand_and_never_negative() {
        // alpha = 0.5 on [4, 2, 0]: ℓ = 4 → 3 → 1.5; one-step errors −2, −3 → s = √(13/2).
        let fit = fit_smoothing(&[4.0, 2.0, 0.0], Some(0.5)).unwrap();
        assert!(close(fit.level, 1.5, 1e-12));
        assert!(close(fit.residual_std, 6.5f64.sqrt(), 1e-12));
        let f = fit.forecast(3, 0.9).unwrap();
        assert_eq!(f.mean, vec![1.5, 1.5, 1.5]);
        assert!(f.lower.iter().all(|&l| l == 0.0));
        // Widening with the horizon: √(1 + (h − 1)/4).
        assert!(f.upper[2] > f.upper[1] && f.upper[1] > f.upper[0]);
        // The falling FOR-01 series never forecasts below 0 with any alpha.
        let units = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0];
        let fit = fit_smoothing(&units, None).unwrap();
        assert_eq!(fit.alpha, 1.0);
        assert_eq!(fit.forecast(3, 0.95).unwrap().mean, vec![0.0; 3]);
        assert!(fit_smoothing(&[1.0, -1.0], None).is_err());
        assert!(fit_smoothing(&[1.0, 2.0], Some(0.0)).is_err());
        assert!(fit_smoothing(&[1.0], None).is_err());
    }

    #[test]
    fn holdout_step_change_smoothing_beats_the_line() {
        // Train [0, 0, 0, 0, 4, 4, 4, 4], hold out [4, 4].
        // Smoothing: the one-step error at t = 4 is 4 for every alpha; afterwards the errors
        // are 4(1 − α)^j, so alpha = 1 is best (SSE 16), the level is 4 and the MAE is 0.
        // Line: t̄ = 3.5, ȳ = 2, Sxx = 42, Sxy = 32 → slope 16/21, intercept 2 − 56/21 = −2/3.
        // Forecasts at t = 8, 9: 114/21 and 130/21; errors 30/21 and 46/21 → MAE 38/21.
        let series = [0.0, 0.0, 0.0, 0.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0];
        let r = evaluate_holdout(&series, 2).unwrap();
        assert_eq!(r.smoothing_alpha, 1.0);
        assert!(close(r.smoothing_mae, 0.0, 1e-12));
        assert!(close(r.trend_forecast[0], 114.0 / 21.0, 1e-12));
        assert!(close(r.trend_mae, 38.0 / 21.0, 1e-12), "{}", r.trend_mae);
        assert_eq!(r.better, Model::Smoothing);
        assert!(evaluate_holdout(&series, 8).is_err());
        assert!(evaluate_holdout(&series, 0).is_err());
    }

    #[test]
    fn mae_by_hand() {
        // |1 − 2| + |4 − 1| + |0 − 0| = 4 over 3.
        assert!(close(
            mae(&[1.0, 4.0, 0.0], &[2.0, 1.0, 0.0]).unwrap(),
            4.0 / 3.0,
            1e-12
        ));
        assert!(mae(&[1.0], &[]).is_err());
        assert!(mae(&[], &[]).is_err());
        assert!(mae(&[f64::NAN], &[1.0]).is_err());
    }

    #[test]
    fn weekly_categories_get_both_forecasts() {
        let weekly = vec![
            ("shoes".to_owned(), vec![10.0, 12.0, 14.0, 16.0]),
            ("socks".to_owned(), vec![5.0, 5.0, 5.0, 5.0]),
        ];
        let out = forecast_weekly(&weekly, 2, 0.95).unwrap();
        assert_eq!(out.len(), 2);
        // shoes: an exact line 10 + 2t → 18, 20. Smoothing picks alpha = 1 (level 16).
        assert_eq!(out[0].category, "shoes");
        assert!(close(out[0].trend.mean[0], 18.0, 1e-9) && close(out[0].trend.mean[1], 20.0, 1e-9));
        assert_eq!(out[0].smoothing_alpha, 1.0);
        assert_eq!(out[0].smoothing.mean, vec![16.0, 16.0]);
        // socks: flat 5 for both models; every alpha has SSE 0, the smallest (0.01) is kept.
        assert!(out[1].trend.mean.iter().all(|&v| close(v, 5.0, 1e-12)));
        assert_eq!(out[1].smoothing.mean, vec![5.0, 5.0]);
        assert_eq!(out[1].smoothing_alpha, 0.01);
        let bad = vec![("hats".to_owned(), vec![1.0, 2.0])];
        let err = forecast_weekly(&bad, 1, 0.95).unwrap_err().to_string();
        assert!(err.contains("category `hats`"), "{err}");
    }

    #[test]
    fn user_expectations_by_hand() {
        // Population: A buys 3 times (20 each), B once (20), C never; window of 10 days.
        //   rate = 4 / (3 × 10) = 2/15 per day, mean spend = 80 / 4 = 20.
        let window = Window {
            start: 0.0,
            end: 10.0,
        };
        let users = vec![
            UserHistory {
                purchase_days: vec![1.0, 4.0, 9.5],
                amounts: vec![20.0; 3],
            },
            UserHistory {
                purchase_days: vec![0.0],
                amounts: vec![20.0],
            },
            UserHistory::default(),
        ];
        let pop = PopulationPrior::from_users(&users, window, 10.0, 2.0).unwrap();
        assert!(close(pop.rate_per_day, 2.0 / 15.0, 1e-12));
        assert!(close(pop.mean_spend, 20.0, 1e-12));

        // A 30-day window, prior rate 0.1/day weighted as 10 days, prior spend 20 weighted as
        // 2 purchases. The shopper bought 5 times for 10 + 20 + 30 + 40 + 50 = 150.
        //   rate = (5 + 10 × 0.1) / (30 + 10) = 0.15 per day; over 14 days: 2.1 purchases.
        //   mean spend = (150 + 2 × 20) / (5 + 2) = 190/7; spend = 2.1 × 190/7 = 57.
        let prior = PopulationPrior {
            rate_per_day: 0.1,
            mean_spend: 20.0,
            prior_days: 10.0,
            prior_purchases: 2.0,
        };
        let window = Window {
            start: 0.0,
            end: 30.0,
        };
        let user = UserHistory {
            purchase_days: vec![1.0, 5.0, 9.0, 15.0, 28.0],
            amounts: vec![10.0, 20.0, 30.0, 40.0, 50.0],
        };
        let e = expect_user(&user, window, 14.0, &prior).unwrap();
        assert!(close(e.rate_per_day, 0.15, 1e-12));
        assert!(close(e.purchases, 2.1, 1e-12));
        assert!(close(e.mean_spend, 190.0 / 7.0, 1e-12));
        assert!(close(e.spend, 57.0, 1e-9));

        // A shopper with no purchase: rate = 1 / 40 = 0.025/day, mean spend = the prior's 20.
        let e = expect_user(&UserHistory::default(), window, 14.0, &prior).unwrap();
        assert!(close(e.purchases, 0.35, 1e-12) && close(e.spend, 7.0, 1e-12));

        let outside = UserHistory {
            purchase_days: vec![30.0],
            amounts: vec![1.0],
        };
        assert!(expect_user(&outside, window, 14.0, &prior).is_err());
        let uneven = UserHistory {
            purchase_days: vec![1.0],
            amounts: vec![],
        };
        assert!(expect_user(&uneven, window, 14.0, &prior).is_err());
        assert!(
            expect_user(
                &user,
                Window {
                    start: 5.0,
                    end: 5.0
                },
                14.0,
                &prior
            )
            .is_err()
        );
        assert!(expect_user(&user, window, f64::NAN, &prior).is_err());
    }
}
