//! Shopper profiles: standardisation, PCA and k-means segments of per-shopper feature rows.
//!
//! Everything works in `f64` on a small row-major [`Matrix`] (one row per shopper, one column
//! per feature) and is deterministic on every platform: k-means draws from its own seeded
//! SplitMix64 generator, PCA fixes the sign of each component, and ties are broken by index.
//!
//! - [`Standardizer`]: z-scores with the population standard deviation (as scikit-learn's
//!   `StandardScaler`); a column with zero variance becomes all 0, never NaN.
//! - [`Pca`]: eigen-decomposition of the sample covariance (divisor n − 1) by a cyclic Jacobi
//!   solver ([`symmetric_eigen`]). Components are sorted by variance, and each is signed so that
//!   its largest-magnitude loading is positive.
//! - [`KMeans`]: greedy k-means++ seeding (as scikit-learn), Lloyd iterations, empty clusters
//!   re-seeded from the point farthest from its centroid, best of `n_init` runs by inertia.
//! - [`describe_segments`]: a line of plain words per segment.

use std::cmp::Ordering;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::random::SplitMix64;

/// A dense row-major matrix of `f64`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// A matrix from row-major data.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when `data.len() != rows * cols`.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(Error::Input(format!(
                "a {rows}×{cols} matrix needs {} values but {} were given",
                rows.saturating_mul(cols),
                data.len()
            )));
        }
        Ok(Self { rows, cols, data })
    }

    /// A matrix from rows of equal length.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when the rows differ in length.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self> {
        let cols = rows.first().map_or(0, Vec::len);
        if let Some(i) = rows.iter().position(|r| r.len() != cols) {
            return Err(Error::Input(format!(
                "row {i} has {} values but row 0 has {cols}; every row needs one value per \
                 feature",
                rows[i].len()
            )));
        }
        Ok(Self {
            rows: rows.len(),
            cols,
            data: rows.concat(),
        })
    }

    /// A matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The row-major values.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// Row `r`; empty when out of range.
    pub fn row(&self, r: usize) -> &[f64] {
        if r >= self.rows {
            return &[];
        }
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// The value at (`r`, `c`), or `None` when out of range.
    pub fn get(&self, r: usize, c: usize) -> Option<f64> {
        if r < self.rows && c < self.cols {
            Some(self.data[r * self.cols + c])
        } else {
            None
        }
    }

    fn at(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.cols + c]
    }

    fn set(&mut self, r: usize, c: usize, v: f64) {
        self.data[r * self.cols + c] = v;
    }

    /// The rows as vectors.
    pub fn to_rows(&self) -> Vec<Vec<f64>> {
        (0..self.rows).map(|r| self.row(r).to_vec()).collect()
    }

    fn check_finite(&self) -> Result<()> {
        if let Some(i) = self.data.iter().position(|v| v.is_nan()) {
            return Err(Error::Input(format!(
                "Input contains NaN (row {}, column {}); fill or drop missing values first",
                i / self.cols.max(1),
                i % self.cols.max(1)
            )));
        }
        if let Some(i) = self.data.iter().position(|v| v.is_infinite()) {
            return Err(Error::Input(format!(
                "Input contains infinity (row {}, column {}); clip or drop such values first",
                i / self.cols.max(1),
                i % self.cols.max(1)
            )));
        }
        Ok(())
    }

    fn check_usable(&self, what: &str) -> Result<()> {
        if self.rows == 0 || self.cols == 0 {
            return Err(Error::Input(format!(
                "{what} needs at least one row and one column, got {}×{}",
                self.rows, self.cols
            )));
        }
        self.check_finite()
    }
}

/// Column means and population standard deviations, to turn features into z-scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standardizer {
    /// The mean of each column.
    pub means: Vec<f64>,
    /// The population standard deviation of each column (0 for a constant column).
    pub stds: Vec<f64>,
}

impl Standardizer {
    /// Learns the means and standard deviations of `x`'s columns.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] for an empty matrix or a NaN or infinite value.
    pub fn fit(x: &Matrix) -> Result<Self> {
        x.check_usable("standardisation")?;
        let n = x.rows as f64;
        let means = column_means(x);
        let stds = (0..x.cols)
            .map(|c| {
                let var = (0..x.rows)
                    .map(|r| (x.at(r, c) - means[c]).powi(2))
                    .sum::<f64>()
                    / n;
                let sd = var.sqrt();
                // A constant column can leave rounding noise in its variance.
                if sd <= 1e-12 * (1.0 + means[c].abs()) {
                    0.0
                } else {
                    sd
                }
            })
            .collect();
        Ok(Self { means, stds })
    }

    /// The z-scores of `x`: `(x − mean) / std`, and 0 where the column's std is 0.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when `x` has another number of columns or a NaN or infinite value.
    pub fn transform(&self, x: &Matrix) -> Result<Matrix> {
        if x.cols != self.means.len() {
            return Err(Error::Input(format!(
                "the standardiser was fitted on {} columns but got {}",
                self.means.len(),
                x.cols
            )));
        }
        x.check_finite()?;
        let mut out = x.clone();
        for r in 0..x.rows {
            for c in 0..x.cols {
                let sd = self.stds[c];
                let z = if sd > 0.0 {
                    (x.at(r, c) - self.means[c]) / sd
                } else {
                    0.0
                };
                out.set(r, c, z);
            }
        }
        Ok(out)
    }

    /// Fits on `x` and returns the standardiser and `x`'s z-scores.
    ///
    /// # Errors
    ///
    /// As [`Standardizer::fit`].
    pub fn fit_transform(x: &Matrix) -> Result<(Self, Matrix)> {
        let s = Self::fit(x)?;
        let z = s.transform(x)?;
        Ok((s, z))
    }
}

fn column_means(x: &Matrix) -> Vec<f64> {
    let n = x.rows as f64;
    (0..x.cols)
        .map(|c| (0..x.rows).map(|r| x.at(r, c)).sum::<f64>() / n)
        .collect()
}

/// The eigenvalues and eigenvectors of a symmetric matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Eigen {
    /// Eigenvalues, largest first.
    pub values: Vec<f64>,
    /// Row `i` is the unit eigenvector of `values[i]`, signed so that its largest-magnitude
    /// entry is positive (the first such entry on ties).
    pub vectors: Matrix,
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations.
///
/// # Errors
///
/// [`Error::Input`] when `a` is not square, not symmetric, or holds NaN or infinity.
pub fn symmetric_eigen(a: &Matrix) -> Result<Eigen> {
    let n = a.rows;
    if n != a.cols || n == 0 {
        return Err(Error::Input(format!(
            "an eigen-decomposition needs a non-empty square matrix, got {}×{}",
            a.rows, a.cols
        )));
    }
    a.check_finite()?;
    let scale = a.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for i in 0..n {
        for j in 0..i {
            if (a.at(i, j) - a.at(j, i)).abs() > 1e-9 * (1.0 + scale) {
                return Err(Error::Input(format!(
                    "the matrix is not symmetric: entry ({i}, {j}) is {} but ({j}, {i}) is {}",
                    a.at(i, j),
                    a.at(j, i)
                )));
            }
        }
    }
    let mut m = a.clone();
    let mut v = Matrix::zeros(n, n);
    for i in 0..n {
        v.set(i, i, 1.0);
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .fold(0.0, |s, (i, j)| s + m.at(i, j).powi(2));
        if off <= f64::EPSILON * f64::EPSILON * (1.0 + scale * scale) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m.at(p, q);
                if apq == 0.0 {
                    continue;
                }
                let app = m.at(p, p);
                let aqq = m.at(q, q);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let mkp = m.at(k, p);
                    let mkq = m.at(k, q);
                    m.set(k, p, c * mkp - s * mkq);
                    m.set(k, q, s * mkp + c * mkq);
                }
                for k in 0..n {
                    let mpk = m.at(p, k);
                    let mqk = m.at(q, k);
                    m.set(p, k, c * mpk - s * mqk);
                    m.set(q, k, s * mpk + c * mqk);
                }
                for k in 0..n {
                    let vkp = v.at(k, p);
                    let vkq = v.at(k, q);
                    v.set(k, p, c * vkp - s * vkq);
                    v.set(k, q, s * vkp + c * vkq);
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| {
        m.at(j, j)
            .partial_cmp(&m.at(i, i))
            .unwrap_or(Ordering::Equal)
    });
    let values = order.iter().map(|&i| m.at(i, i)).collect();
    let mut vectors = Matrix::zeros(n, n);
    for (row, &col) in order.iter().enumerate() {
        let mut best = 0usize;
        for k in 0..n {
            if v.at(k, col).abs() > v.at(best, col).abs() + 1e-12 {
                best = k;
            }
        }
        let sign = if v.at(best, col) < 0.0 { -1.0 } else { 1.0 };
        for k in 0..n {
            vectors.set(row, k, sign * v.at(k, col));
        }
    }
    Ok(Eigen { values, vectors })
}

/// A principal component analysis of feature rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pca {
    /// The column means that are subtracted before projecting.
    pub mean: Vec<f64>,
    /// One unit-length component per row (`n_components × n_features`), most variance first,
    /// each signed so its largest-magnitude loading is positive.
    pub components: Matrix,
    /// The variance along each component (sample covariance, divisor n − 1).
    pub explained_variance: Vec<f64>,
    /// Each component's share of the total variance; all 0 when the data has no variance.
    pub explained_variance_ratio: Vec<f64>,
}

impl Pca {
    /// Fits `n_components` principal components to `x`.
    ///
    /// Zero-variance columns are harmless: they get zero loadings on every component with
    /// variance, and the ratios stay finite.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `n_components` is 0 or exceeds the number of features;
    /// [`Error::Input`] for fewer than 2 rows or a NaN or infinite value.
    pub fn fit(x: &Matrix, n_components: usize) -> Result<Self> {
        x.check_usable("PCA")?;
        if n_components == 0 || n_components > x.cols {
            return Err(Error::Config(format!(
                "n_components={n_components} must be between 1 and the number of features ({})",
                x.cols
            )));
        }
        if x.rows < 2 {
            return Err(Error::Input(format!(
                "PCA needs at least 2 rows to estimate a covariance, got {}",
                x.rows
            )));
        }
        let mean = column_means(x);
        let d = x.cols;
        let mut cov = Matrix::zeros(d, d);
        for i in 0..d {
            for j in 0..=i {
                let s: f64 = (0..x.rows)
                    .map(|r| (x.at(r, i) - mean[i]) * (x.at(r, j) - mean[j]))
                    .sum();
                let c = s / (x.rows - 1) as f64;
                cov.set(i, j, c);
                cov.set(j, i, c);
            }
        }
        let eig = symmetric_eigen(&cov)?;
        // Rounding can leave tiny negative eigenvalues of a semi-definite matrix.
        let values: Vec<f64> = eig.values.iter().map(|&v| v.max(0.0)).collect();
        let total: f64 = values.iter().sum();
        let explained_variance: Vec<f64> = values[..n_components].to_vec();
        let explained_variance_ratio = explained_variance
            .iter()
            .map(|&v| if total > 0.0 { v / total } else { 0.0 })
            .collect();
        let components = Matrix::new(
            n_components,
            d,
            eig.vectors.data[..n_components * d].to_vec(),
        )?;
        Ok(Self {
            mean,
            components,
            explained_variance,
            explained_variance_ratio,
        })
    }

    /// The coordinates of `x`'s rows on the components (`rows × n_components`).
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when `x` has another number of columns or a NaN or infinite value.
    pub fn transform(&self, x: &Matrix) -> Result<Matrix> {
        if x.cols != self.mean.len() {
            return Err(Error::Input(format!(
                "the PCA was fitted on {} features but got {}",
                self.mean.len(),
                x.cols
            )));
        }
        x.check_finite()?;
        let k = self.components.rows;
        let mut out = Matrix::zeros(x.rows, k);
        for r in 0..x.rows {
            for c in 0..k {
                let v: f64 = (0..x.cols)
                    .map(|j| (x.at(r, j) - self.mean[j]) * self.components.at(c, j))
                    .sum();
                out.set(r, c, v);
            }
        }
        Ok(out)
    }
}

/// The settings of [`KMeans::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KMeansConfig {
    /// The number of clusters.
    pub n_clusters: usize,
    /// Independent k-means++ starts; the run with the lowest inertia is kept.
    pub n_init: usize,
    /// The most Lloyd iterations of one run.
    pub max_iter: usize,
    /// Convergence: a run stops when no label changes and the squared centroid shift is at
    /// most `tol` times the mean column variance of the data.
    pub tol: f64,
    /// The seed of the generator.
    pub seed: u64,
}

impl KMeansConfig {
    /// Defaults for `n_clusters` clusters: 10 starts, 300 iterations, tol 1e-4, seed 0.
    pub fn new(n_clusters: usize) -> Self {
        Self {
            n_clusters,
            n_init: 10,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
        }
    }
}

/// A fitted k-means clustering.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KMeans {
    /// One centroid per cluster (`n_clusters × n_features`); never NaN.
    pub centroids: Matrix,
    /// The cluster of each row, in `0..n_clusters`.
    pub labels: Vec<usize>,
    /// The number of rows in each cluster.
    pub counts: Vec<usize>,
    /// The sum of squared distances of rows to their centroids.
    pub inertia: f64,
    /// The number of clusters that hold at least one row (fewer than asked when the data has
    /// fewer distinct points than clusters).
    pub effective_k: usize,
    /// Lloyd iterations of the kept run.
    pub n_iter: usize,
}

fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn assign(x: &Matrix, centroids: &Matrix) -> (Vec<usize>, Vec<f64>) {
    let mut labels = vec![0; x.rows];
    let mut dists = vec![0.0; x.rows];
    for r in 0..x.rows {
        let mut best = 0;
        let mut best_d = f64::INFINITY;
        for c in 0..centroids.rows {
            let d = sq_dist(x.row(r), centroids.row(c));
            if d < best_d {
                best = c;
                best_d = d;
            }
        }
        labels[r] = best;
        dists[r] = best_d;
    }
    (labels, dists)
}

/// Draws a row with probability proportional to its weight in `d2` (total `total` > 0).
fn draw_weighted(d2: &[f64], total: f64, rng: &mut SplitMix64) -> usize {
    let target = rng.next_f64() * total;
    let mut acc = 0.0;
    for (r, &d) in d2.iter().enumerate() {
        acc += d;
        if d > 0.0 && acc > target {
            return r;
        }
    }
    // Rounding can leave the target past the sum: take the last row with weight.
    d2.iter().rposition(|&d| d > 0.0).unwrap_or(0)
}

/// Greedy k-means++ (as scikit-learn): each new centre is the best, by the resulting sum of
/// squared distances, of `2 + ⌊ln k⌋` candidates drawn with probability ∝ squared distance.
fn kmeans_plus_plus(x: &Matrix, k: usize, rng: &mut SplitMix64) -> Matrix {
    let mut centroids = Matrix::zeros(k, x.cols);
    let first = rng.below(x.rows);
    centroids.data[..x.cols].copy_from_slice(x.row(first));
    let mut d2: Vec<f64> = (0..x.rows)
        .map(|r| sq_dist(x.row(r), x.row(first)))
        .collect();
    let trials = 2 + (k as f64).ln().floor() as usize;
    for c in 1..k {
        let total: f64 = d2.iter().sum();
        let pick = if total > 0.0 {
            let mut best: Option<(f64, usize, Vec<f64>)> = None;
            for _ in 0..trials {
                let cand = draw_weighted(&d2, total, rng);
                let new_d2: Vec<f64> = d2
                    .iter()
                    .enumerate()
                    .map(|(r, &d)| d.min(sq_dist(x.row(r), x.row(cand))))
                    .collect();
                let potential: f64 = new_d2.iter().sum();
                if best.as_ref().is_none_or(|b| potential < b.0) {
                    best = Some((potential, cand, new_d2));
                }
            }
            match best {
                Some((_, cand, new_d2)) => {
                    d2 = new_d2;
                    cand
                }
                None => 0,
            }
        } else {
            // Every row sits on a centre already: the data has fewer distinct points.
            rng.below(x.rows)
        };
        centroids.data[c * x.cols..(c + 1) * x.cols].copy_from_slice(x.row(pick));
    }
    centroids
}

struct Run {
    centroids: Matrix,
    labels: Vec<usize>,
    inertia: f64,
    n_iter: usize,
}

fn lloyd(x: &Matrix, mut centroids: Matrix, max_iter: usize, tol_abs: f64) -> Run {
    let k = centroids.rows;
    let (mut labels, mut dists) = assign(x, &centroids);
    let mut n_iter = 0;
    for _ in 0..max_iter {
        n_iter += 1;
        // Re-seed empty clusters from the points farthest from their centroids.
        let mut counts = vec![0usize; k];
        for &l in &labels {
            counts[l] += 1;
        }
        if counts.contains(&0) {
            let mut far: Vec<usize> = (0..x.rows).collect();
            far.sort_by(|&a, &b| dists[b].partial_cmp(&dists[a]).unwrap_or(Ordering::Equal));
            let mut far = far.into_iter().filter(|&r| dists[r] > 0.0);
            for (c, _) in counts.iter().enumerate().filter(|(_, n)| **n == 0) {
                let Some(r) = far.next() else { break };
                centroids.data[c * x.cols..(c + 1) * x.cols].copy_from_slice(x.row(r));
            }
            (labels, _) = assign(x, &centroids);
        }
        // Update: the mean of each cluster; an empty cluster keeps its centroid.
        let mut sums = Matrix::zeros(k, x.cols);
        let mut counts = vec![0usize; k];
        for (r, &l) in labels.iter().enumerate() {
            counts[l] += 1;
            for c in 0..x.cols {
                sums.data[l * x.cols + c] += x.at(r, c);
            }
        }
        let mut shift = 0.0;
        for (l, &count) in counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            for c in 0..x.cols {
                let new = sums.at(l, c) / count as f64;
                shift += (new - centroids.at(l, c)).powi(2);
                centroids.set(l, c, new);
            }
        }
        let (new_labels, new_dists) = assign(x, &centroids);
        let changed = new_labels != labels;
        labels = new_labels;
        dists = new_dists;
        if !changed && shift <= tol_abs {
            break;
        }
    }
    let inertia = dists.iter().sum();
    Run {
        centroids,
        labels,
        inertia,
        n_iter,
    }
}

impl KMeans {
    /// Clusters `x`'s rows.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `n_clusters`, `n_init` or `max_iter` is 0 or `tol` is negative
    /// or not finite; [`Error::Input`] for a NaN or infinite value or fewer rows than clusters.
    pub fn fit(x: &Matrix, config: &KMeansConfig) -> Result<Self> {
        let k = config.n_clusters;
        if k == 0 || config.n_init == 0 || config.max_iter == 0 {
            return Err(Error::Config(format!(
                "n_clusters={k}, n_init={} and max_iter={} must all be at least 1",
                config.n_init, config.max_iter
            )));
        }
        if !config.tol.is_finite() || config.tol < 0.0 {
            return Err(Error::Config(format!(
                "tol={} must be finite and >= 0",
                config.tol
            )));
        }
        x.check_usable("k-means")?;
        if x.rows < k {
            return Err(Error::Input(format!(
                "n_samples={} should be >= n_clusters={k}; ask for fewer segments or give more \
                 shoppers",
                x.rows
            )));
        }
        let means = column_means(x);
        let mean_var = (0..x.cols)
            .map(|c| {
                (0..x.rows)
                    .map(|r| (x.at(r, c) - means[c]).powi(2))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / (x.rows * x.cols) as f64;
        let tol_abs = config.tol * mean_var;
        let mut rng = SplitMix64::new(config.seed);
        let mut best: Option<Run> = None;
        for _ in 0..config.n_init {
            let init = kmeans_plus_plus(x, k, &mut rng);
            let run = lloyd(x, init, config.max_iter, tol_abs);
            if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
                best = Some(run);
            }
        }
        let Some(run) = best else {
            return Err(Error::Config("n_init must be at least 1".into()));
        };
        let mut counts = vec![0usize; k];
        for &l in &run.labels {
            counts[l] += 1;
        }
        Ok(Self {
            effective_k: counts.iter().filter(|&&c| c > 0).count(),
            centroids: run.centroids,
            labels: run.labels,
            counts,
            inertia: run.inertia,
            n_iter: run.n_iter,
        })
    }

    /// The nearest centroid of each of `x`'s rows.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when `x` has another number of columns or a NaN or infinite value.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<usize>> {
        if x.cols != self.centroids.cols {
            return Err(Error::Input(format!(
                "the clustering was fitted on {} features but got {}",
                self.centroids.cols, x.cols
            )));
        }
        x.check_finite()?;
        Ok(assign(x, &self.centroids).0)
    }
}

/// Describes each segment by its most distinctive features.
///
/// `centroids` holds standardised centroids (z-scores, `segments × features`). For each segment
/// the features with `|z| >= 0.5` are taken, largest `|z|` first (ties by feature order), at
/// most `top` of them, each as "high NAME" (z > 0) or "low NAME" (z < 0), and "very high" /
/// "very low" from `|z| >= 1.5`. A segment with no such feature is "close to average".
/// Example: `"212 shoppers: very high frequency, high spend, low days since last order"`.
///
/// # Errors
///
/// [`Error::Input`] when the names or counts do not match the centroids, or a centroid is NaN;
/// [`Error::Config`] when `top` is 0.
pub fn describe_segments(
    feature_names: &[&str],
    centroids: &Matrix,
    counts: &[usize],
    top: usize,
) -> Result<Vec<String>> {
    if top == 0 {
        return Err(Error::Config(
            "top must be at least 1 feature per segment".into(),
        ));
    }
    if feature_names.len() != centroids.cols || counts.len() != centroids.rows {
        return Err(Error::Input(format!(
            "{} feature names and {} counts for {} segments of {} features; give one name per \
             feature and one count per segment",
            feature_names.len(),
            counts.len(),
            centroids.rows,
            centroids.cols
        )));
    }
    centroids.check_finite()?;
    let mut out = Vec::with_capacity(centroids.rows);
    for (s, &count) in counts.iter().enumerate() {
        let z = centroids.row(s);
        let mut order: Vec<usize> = (0..z.len()).filter(|&j| z[j].abs() >= 0.5).collect();
        order.sort_by(|&a, &b| {
            z[b].abs()
                .partial_cmp(&z[a].abs())
                .unwrap_or(Ordering::Equal)
                .then(a.cmp(&b))
        });
        let words: Vec<String> = order
            .iter()
            .take(top)
            .map(|&j| {
                let level = match (z[j] > 0.0, z[j].abs() >= 1.5) {
                    (true, true) => "very high",
                    (true, false) => "high",
                    (false, true) => "very low",
                    (false, false) => "low",
                };
                format!("{level} {}", feature_names[j])
            })
            .collect();
        let who = if count == 1 { "shopper" } else { "shoppers" };
        let what = if words.is_empty() {
            "close to average".to_owned()
        } else {
            words.join(", ")
        };
        out.push(format!("{count} {who}: {what}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn m(rows: &[&[f64]]) -> Matrix {
        Matrix::from_rows(&rows.iter().map(|r| r.to_vec()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn pro_01_bad_inputs_are_errors_not_panics() {
        let err = KMeans::fit(&m(&[&[1.0, 2.0], &[3.0, 4.0]]), &KMeansConfig::new(3))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("n_samples=2 should be >= n_clusters=3"),
            "{err}"
        );
        let x = m(&[&[1.0, f64::NAN], &[3.0, 4.0], &[5.0, 6.0]]);
        let err = KMeans::fit(&x, &KMeansConfig::new(2))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Input contains NaN"), "{err}");
        assert!(Standardizer::fit(&x).is_err());
        assert!(Pca::fit(&x, 1).is_err());
        assert!(KMeans::fit(&m(&[&[1.0]]), &KMeansConfig::new(0)).is_err());
        assert!(Matrix::new(2, 2, vec![1.0]).is_err());
        assert!(Matrix::from_rows(&[vec![1.0], vec![1.0, 2.0]]).is_err());
    }

    #[test]
    fn pro_02_fewer_distinct_points_than_clusters() {
        let x = m(&[
            &[0.0, 0.0],
            &[0.0, 0.0],
            &[0.0, 0.0],
            &[10.0, 10.0],
            &[10.0, 10.0],
        ]);
        let cfg = KMeansConfig {
            seed: 42,
            ..KMeansConfig::new(3)
        };
        let a = KMeans::fit(&x, &cfg).unwrap();
        assert!(a.labels.iter().all(|&l| l < 3), "{:?}", a.labels);
        assert_eq!(a.labels[0], a.labels[1]);
        assert_eq!(a.labels[1], a.labels[2]);
        assert_eq!(a.labels[3], a.labels[4]);
        assert_ne!(a.labels[0], a.labels[3]);
        assert!(a.centroids.data().iter().all(|v| v.is_finite()));
        assert_eq!(a.effective_k, 2);
        assert_eq!(a.inertia, 0.0);
        let b = KMeans::fit(&x, &cfg).unwrap();
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.centroids, b.centroids);
    }

    #[test]
    fn kmeans_is_deterministic_for_every_seed_on_separated_blobs() {
        let x = m(&[
            &[0.0, 0.1],
            &[0.2, 0.0],
            &[5.0, 5.1],
            &[5.2, 5.0],
            &[9.0, 0.0],
            &[9.1, 0.2],
        ]);
        for seed in 0..20 {
            let cfg = KMeansConfig {
                seed,
                n_init: 3,
                ..KMeansConfig::new(3)
            };
            let r = KMeans::fit(&x, &cfg).unwrap();
            assert_eq!(r.effective_k, 3);
            assert_eq!(r.labels[0], r.labels[1]);
            assert_eq!(r.labels[2], r.labels[3]);
            assert_eq!(r.labels[4], r.labels[5]);
            assert_eq!(r.counts.iter().sum::<usize>(), 6);
            assert_eq!(r.predict(&x).unwrap(), r.labels);
        }
    }

    #[test]
    fn zero_variance_columns_stay_finite() {
        let x = m(&[&[1.0, 7.0], &[2.0, 7.0], &[3.0, 7.0]]);
        let (s, z) = Standardizer::fit_transform(&x).unwrap();
        assert_eq!(s.stds[1], 0.0);
        assert!(z.data().iter().all(|v| v.is_finite()));
        assert_eq!(z.get(0, 1), Some(0.0));
        // Population std of [1, 2, 3] is sqrt(2/3).
        let sd = (2.0f64 / 3.0).sqrt();
        assert!((z.get(0, 0).unwrap() + 1.0 / sd).abs() < 1e-12);

        let p = Pca::fit(&x, 2).unwrap();
        assert!((p.explained_variance_ratio[0] - 1.0).abs() < 1e-12);
        assert!(p.explained_variance_ratio[1].abs() < 1e-12);
        assert!((p.explained_variance[0] - 1.0).abs() < 1e-12);
        assert_eq!(p.components.row(0), &[1.0, 0.0]);
        let constant = Pca::fit(&m(&[&[4.0, 4.0], &[4.0, 4.0]]), 1).unwrap();
        assert_eq!(constant.explained_variance_ratio, vec![0.0]);
    }

    #[test]
    fn jacobi_by_hand() {
        // [[2, 1], [1, 2]] has eigenvalues 3 and 1 with vectors (1, 1)/√2 and (1, −1)/√2;
        // the sign rule (first largest-magnitude entry positive) fixes both.
        let e = symmetric_eigen(&m(&[&[2.0, 1.0], &[1.0, 2.0]])).unwrap();
        assert!((e.values[0] - 3.0).abs() < 1e-12 && (e.values[1] - 1.0).abs() < 1e-12);
        let h = 0.5f64.sqrt();
        assert!((e.vectors.get(0, 0).unwrap() - h).abs() < 1e-12);
        assert!((e.vectors.get(0, 1).unwrap() - h).abs() < 1e-12);
        assert!((e.vectors.get(1, 0).unwrap() - h).abs() < 1e-12);
        assert!((e.vectors.get(1, 1).unwrap() + h).abs() < 1e-12);
        assert!(symmetric_eigen(&m(&[&[1.0, 2.0], &[0.0, 1.0]])).is_err());
    }

    #[test]
    fn pca_projection_reproduces_centred_data() {
        let x = m(&[
            &[1.0, 2.0, 0.5],
            &[2.0, 1.0, 1.5],
            &[4.0, 3.0, 0.0],
            &[0.0, 5.0, 2.0],
        ]);
        let p = Pca::fit(&x, 3).unwrap();
        let y = p.transform(&x).unwrap();
        for r in 0..4 {
            for j in 0..3 {
                let back: f64 = (0..3).map(|c| y.at(r, c) * p.components.at(c, j)).sum();
                assert!((back + p.mean[j] - x.at(r, j)).abs() < 1e-10);
            }
        }
        let total: f64 = p.explained_variance_ratio.iter().sum();
        assert!((total - 1.0).abs() < 1e-12);
        assert!(Pca::fit(&x, 4).is_err());
    }

    #[derive(Deserialize)]
    struct Reference {
        data: Vec<Vec<f64>>,
        n_clusters: usize,
        scaled: Vec<Vec<f64>>,
        pca_explained_variance_ratio: Vec<f64>,
        pca_abs_components: Vec<Vec<f64>>,
        kmeans_inertia: f64,
        kmeans_labels: Vec<usize>,
    }

    #[test]
    fn matches_scikit_learn_reference() {
        let text = include_str!("../tests/fixtures/profile/reference.json");
        let r: Reference = serde_json::from_str(text).unwrap();
        let x = Matrix::from_rows(&r.data).unwrap();
        let (_, z) = Standardizer::fit_transform(&x).unwrap();
        for (a, b) in z.data().iter().zip(r.scaled.concat()) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }

        let k = r.pca_abs_components.len();
        let p = Pca::fit(&z, k).unwrap();
        let all = Pca::fit(&z, z.cols()).unwrap();
        for (a, b) in all
            .explained_variance_ratio
            .iter()
            .zip(&r.pca_explained_variance_ratio)
        {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        for (a, b) in p
            .components
            .data()
            .iter()
            .zip(r.pca_abs_components.concat())
        {
            assert!((a.abs() - b).abs() < 1e-6, "{a} vs {b}");
        }

        let cfg = KMeansConfig {
            seed: 7,
            ..KMeansConfig::new(r.n_clusters)
        };
        let km = KMeans::fit(&z, &cfg).unwrap();
        let rel = (km.inertia - r.kmeans_inertia).abs() / r.kmeans_inertia;
        assert!(rel < 1e-6, "inertia {} vs {}", km.inertia, r.kmeans_inertia);
        // The same partition up to relabelling: a one-to-one map between the label sets.
        let mut map = vec![None; r.n_clusters];
        let mut back = vec![None; r.n_clusters];
        for (&ours, &theirs) in km.labels.iter().zip(&r.kmeans_labels) {
            assert_eq!(*map[ours].get_or_insert(theirs), theirs);
            assert_eq!(*back[theirs].get_or_insert(ours), ours);
        }
    }

    #[test]
    fn segment_summaries_by_hand() {
        let names = ["frequency", "spend", "days since last order"];
        let centroids = m(&[&[1.8, 0.9, -0.6], &[-0.2, 0.1, 0.3], &[-0.7, -1.6, 1.2]]);
        let lines = describe_segments(&names, &centroids, &[212, 1, 40], 2).unwrap();
        assert_eq!(
            lines,
            vec![
                "212 shoppers: very high frequency, high spend",
                "1 shopper: close to average",
                "40 shoppers: very low spend, high days since last order",
            ]
        );
        assert!(describe_segments(&names[..2], &centroids, &[1, 1, 1], 2).is_err());
        assert!(describe_segments(&names, &centroids, &[1, 1, 1], 0).is_err());
    }
}
