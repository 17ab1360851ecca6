//! The GP covariance: Matérn 5/2 with ARD lengthscales on the continuous
//! dimensions, times a Hamming-distance term on the categorical dimensions,
//! times a signal variance.
//!
//! For inputs x, y (continuous dimensions in [0, 1], categorical dimensions as
//! choice indices, NaN where a parameter is inactive):
//!
//! ```text
//! r²      = Σ_{i continuous} d_i(x, y)² / ℓ_i²
//! m(r)    = (1 + √5 r + 5r²/3) exp(-√5 r)                (Matérn ν = 5/2)
//! c(x, y) = exp(-Σ_{j categorical} δ_j(x, y) / ℓ_j)      (Hamming term)
//! k(x, y) = σ_f² · m(r) · c(x, y)
//! ```
//!
//! The Matérn 5/2 form is Rasmussen & Williams 2006, "Gaussian Processes for
//! Machine Learning", eq. (4.17), with ARD lengthscales as in their §5.1. The
//! categorical term is the exponentiated weighted Hamming distance (the
//! "overlap" kernel of CoCaBO, Ru et al. 2020, and of Optuna's GPSampler):
//! each factor exp(-[x_j ≠ y_j]/ℓ_j) is a valid kernel on a finite set
//! (ρ·11ᵀ + (1 - ρ)·I up to relabelling, ρ = e^{-1/ℓ_j} ∈ (0, 1)), so the
//! product with the Matérn term is positive semi-definite. Parametrising its
//! weights as 1/ℓ_j lets one lengthscale vector (and one prior) serve all
//! dimensions.
//!
//! Inactive dimensions (conditional spaces). A NaN coordinate means "this
//! parameter does not exist for this trial". Two inactive values are equal
//! (d = 0, δ = 0): the kernel ignores the dimension for such pairs. An active
//! value v against an inactive one must still give a positive semi-definite
//! kernel, which "distance 0 when either is missing" does not. We therefore
//! embed each continuous dimension in the plane: v ↦ (v, 0) and inactive ↦
//! (1/2, 1/2), so d² = (v - 1/2)² + 1/4 between active and inactive (an
//! isometric embedding, hence a Matérn kernel of a Euclidean distance and
//! positive semi-definite; the idea of Hutter & Osborne 2013, "A Kernel for
//! Hierarchical Parameter Spaces", in its simplest form). For categorical
//! dimensions "inactive" is one more category (δ = 1 against any choice).
//!
//! Hyperparameters are handled in log space, in the order
//! θ = (log ℓ_1, ..., log ℓ_d, log σ_f²); derivatives below are w.r.t. these.
//! With u_i = d_i²/ℓ_i² and ∂m/∂(r²) = -(5/6)(1 + √5 r) e^{-√5 r}:
//!
//! ```text
//! ∂k/∂log ℓ_i   = σ_f² c · (5/3)(1 + √5 r) e^{-√5 r} · u_i      (continuous i)
//! ∂k/∂log ℓ_j   = k · δ_j / ℓ_j                                 (categorical j)
//! ∂k/∂log σ_f²  = k
//! ∂k/∂x_i       = σ_f² c · ∂m/∂(r²) · 2 (x_i - y_i*) / ℓ_i²      (x_i active)
//! ```
//!
//! where y_i* is y_i, or 1/2 when y_i is inactive; the x-gradient is zero on
//! categorical and inactive dimensions.
//!
//! Batched routines. The model's hot paths (the kernel matrix and its
//! gradient contraction in every likelihood evaluation, the cross-covariances
//! of candidate batches and of one point against the data) work on
//! [`Columns`]: the inputs stored dimension by dimension, continuous
//! coordinates already in the plane embedding above (u = v, w = 0 when
//! active; u = w = 1/2 when inactive, so d² = (u - u')² + (w - w')² covers
//! all four cases without a branch) and categorical ones as choice indices
//! with -1 for inactive. Their loops run over points with no branches and no
//! library calls (e^x by [`exp_nonpos`]), so the compiler vectorises them.
//! They give the same values, to the bit, as the pairwise routines
//! ([`Kernel::matrix`], [`Kernel::cross`], ...), which stay as the reference.

use crate::error::{Error, Result};

/// Where an inactive continuous coordinate sits along its dimension.
pub const INACTIVE_CENTRE: f64 = 0.5;
/// Squared distance of an inactive coordinate off the dimension's axis.
pub const INACTIVE_OFFSET2: f64 = 0.25;

const SQRT5: f64 = 2.236_067_977_499_79;

/// e^x for x <= 0, branch-free so that loops over it vectorise (libm's exp is
/// a call per value). Inputs below -700 are taken as -700 (e^-700 ≈ 1e-304,
/// as good as 0 in a covariance); NaN is not expected.
///
/// Method: x = k ln 2 + r with k = round(x / ln 2) (by adding 1.5·2⁵² and
/// reading the integer back from the sum's bits), ln 2 split in two parts so
/// that k ln 2 is exact (Cody & Waite), |r| <= ln(2)/2; e^r by its Taylor
/// polynomial of degree 13 (truncation below 10⁻¹⁷), scaled by 2^k built
/// from its exponent bits. Within a few ulps of the correctly rounded value
/// (tested against `f64::exp`).
#[inline(always)]
pub fn exp_nonpos(x: f64) -> f64 {
    const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 · 2^52
    const LN2_HI: f64 = 6.931_471_803_691_238e-1; // 32 trailing zero bits
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const C: [f64; 14] = [
        1.0,
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5_040.0,
        1.0 / 40_320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
    ];
    let x = x.max(-700.0);
    let t = x * std::f64::consts::LOG2_E + SHIFT;
    let k = t - SHIFT;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = C[13];
    for c in C[..13].iter().rev() {
        p = p * r + c;
    }
    // t's bits are SHIFT's plus k (an integer in [-1010, 0]).
    let e = t.to_bits().wrapping_sub(SHIFT.to_bits()).wrapping_add(1023) << 52;
    p * f64::from_bits(e)
}

/// Sum of a_i·b_i with four accumulators (vectorises).
#[inline]
fn dot4(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        s += x * y;
    }
    s
}

/// Inputs stored by dimension for the batched kernel routines (see the
/// module docs): `u[i]` holds dimension i of every point (the embedded
/// coordinate of a continuous dimension, the choice index or -1 of a
/// categorical one); `w[i]` the second embedded coordinate of a continuous
/// dimension where some point is inactive (None: all active, w = 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    n: usize,
    u: Vec<Vec<f64>>,
    w: Vec<Option<Vec<f64>>>,
}

impl Columns {
    /// The n rows of `xs` (n×d row-major, d = kinds.len(); NaN inactive).
    pub fn new(kinds: &[DimKind], xs: &[f64], n: usize) -> Result<Self> {
        if Some(xs.len()) != n.checked_mul(kinds.len()) {
            return Err(Error::InvalidArgument(format!(
                "inputs have {} entries, expected {n} rows x {} dimensions",
                xs.len(),
                kinds.len()
            )));
        }
        let mut c = Columns {
            n: 0,
            u: vec![Vec::with_capacity(n); kinds.len()],
            w: vec![None; kinds.len()],
        };
        if kinds.is_empty() {
            c.n = n;
        } else {
            for row in xs.chunks_exact(kinds.len()) {
                c.push(kinds, row)?;
            }
        }
        Ok(c)
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when there is no point.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Appends one point (length d, NaN inactive); errors when `kinds` or
    /// `x` do not have the columns' d entries.
    pub fn push(&mut self, kinds: &[DimKind], x: &[f64]) -> Result<()> {
        if kinds.len() != self.u.len() || x.len() != self.u.len() {
            return Err(Error::InvalidArgument(format!(
                "point has {} coordinates and {} kinds, expected {}",
                x.len(),
                kinds.len(),
                self.u.len()
            )));
        }
        for (i, (&kind, &v)) in kinds.iter().zip(x).enumerate() {
            let inactive = v.is_nan();
            match kind {
                DimKind::Continuous => {
                    self.u[i].push(if inactive { INACTIVE_CENTRE } else { v });
                    if inactive && self.w[i].is_none() {
                        self.w[i] = Some(vec![0.0; self.n]);
                    }
                    if let Some(w) = self.w[i].as_mut() {
                        w.push(if inactive {
                            INACTIVE_OFFSET2.sqrt()
                        } else {
                            0.0
                        });
                    }
                }
                DimKind::Categorical => self.u[i].push(if inactive { -1.0 } else { v }),
            }
        }
        self.n += 1;
        Ok(())
    }

    /// Dimension i of every point: the coordinate (1/2 where inactive) of a
    /// continuous dimension, the choice index (-1 where inactive) of a
    /// categorical one.
    pub fn column(&self, i: usize) -> &[f64] {
        &self.u[i]
    }

    /// Second embedded coordinate of point j in continuous dimension i.
    #[inline]
    fn w_at(&self, i: usize, j: usize) -> f64 {
        self.w[i].as_ref().map_or(0.0, |w| w[j])
    }
}

/// How the kernel treats one input dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimKind {
    /// A float or integer parameter mapped to [0, 1].
    Continuous,
    /// A categorical parameter given by its choice index.
    Categorical,
}

/// Matérn 5/2 × Hamming kernel with ARD lengthscales and a signal variance.
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel {
    kinds: Vec<DimKind>,
    log_ls: Vec<f64>,
    log_signal: f64,
    /// 1/ℓ² for continuous dimensions and 1/ℓ for categorical ones.
    inv: Vec<f64>,
    signal: f64,
}

/// k and ∂k/∂(r²) of each pair of points, from [`Kernel::matrix_columns`].
#[derive(Debug, Clone, PartialEq)]
pub struct PairTerms {
    k: Vec<f64>,
    dk_dr2: Vec<f64>,
}

/// Per-pair quantities shared by the value and the derivatives.
struct Pair {
    /// σ_f² m(r) c.
    k: f64,
    /// σ_f² c ∂m/∂(r²).
    dk_dr2: f64,
}

impl Kernel {
    /// A kernel over dimensions `kinds` with log-lengthscales `log_ls` and log
    /// signal variance `log_signal`.
    pub fn new(kinds: Vec<DimKind>, log_ls: Vec<f64>, log_signal: f64) -> Result<Self> {
        if kinds.len() != log_ls.len() {
            return Err(Error::InvalidArgument(format!(
                "{} lengthscales for {} dimensions",
                log_ls.len(),
                kinds.len()
            )));
        }
        let mut k = Kernel {
            inv: vec![0.0; kinds.len()],
            kinds,
            log_ls: Vec::new(),
            log_signal: 0.0,
            signal: 1.0,
        };
        let mut theta = log_ls;
        theta.push(log_signal);
        k.set_params(&theta)?;
        Ok(k)
    }

    /// Number of input dimensions.
    pub fn dim(&self) -> usize {
        self.kinds.len()
    }

    /// The kind of each dimension.
    pub fn kinds(&self) -> &[DimKind] {
        &self.kinds
    }

    /// Number of hyperparameters: d lengthscales and the signal variance.
    pub fn n_params(&self) -> usize {
        self.kinds.len() + 1
    }

    /// θ = (log ℓ_1..d, log σ_f²).
    pub fn params(&self) -> Vec<f64> {
        let mut p = self.log_ls.clone();
        p.push(self.log_signal);
        p
    }

    /// Lengthscales ℓ.
    pub fn lengthscales(&self) -> Vec<f64> {
        self.log_ls.iter().map(|v| v.exp()).collect()
    }

    /// Signal variance σ_f².
    pub fn signal_variance(&self) -> f64 {
        self.signal
    }

    /// Sets θ = (log ℓ_1..d, log σ_f²); errors on a wrong length or on values
    /// whose exponentials are not finite and positive.
    pub fn set_params(&mut self, theta: &[f64]) -> Result<()> {
        let d = self.kinds.len();
        if theta.len() != d + 1 {
            return Err(Error::InvalidArgument(format!(
                "kernel takes {} hyperparameters, got {}",
                d + 1,
                theta.len()
            )));
        }
        let mut inv = vec![0.0; d];
        for i in 0..d {
            let ls = theta[i].exp();
            let v = match self.kinds[i] {
                DimKind::Continuous => 1.0 / (ls * ls),
                DimKind::Categorical => 1.0 / ls,
            };
            if !(ls.is_finite() && ls > 0.0 && v.is_finite()) {
                return Err(Error::InvalidArgument(format!(
                    "log-lengthscale {} of dimension {i} is out of range",
                    theta[i]
                )));
            }
            inv[i] = v;
        }
        let signal = theta[d].exp();
        if !(signal.is_finite() && signal > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "log signal variance {} is out of range",
                theta[d]
            )));
        }
        self.log_ls = theta[..d].to_vec();
        self.log_signal = theta[d];
        self.inv = inv;
        self.signal = signal;
        Ok(())
    }

    fn check_point(&self, x: &[f64]) -> Result<()> {
        if x.len() != self.kinds.len() {
            return Err(Error::InvalidArgument(format!(
                "point has {} coordinates, expected {}",
                x.len(),
                self.kinds.len()
            )));
        }
        Ok(())
    }

    fn check_rows(&self, xs: &[f64], n: usize) -> Result<()> {
        if Some(xs.len()) != n.checked_mul(self.kinds.len()) {
            return Err(Error::InvalidArgument(format!(
                "inputs have {} entries, expected {n} rows x {} dimensions",
                xs.len(),
                self.kinds.len()
            )));
        }
        Ok(())
    }

    /// Squared distance of a continuous coordinate pair (see module docs).
    #[inline]
    fn cont_sq(a: f64, b: f64) -> f64 {
        match (a.is_nan(), b.is_nan()) {
            (false, false) => (a - b) * (a - b),
            (true, true) => 0.0,
            (false, true) => (a - INACTIVE_CENTRE) * (a - INACTIVE_CENTRE) + INACTIVE_OFFSET2,
            (true, false) => (b - INACTIVE_CENTRE) * (b - INACTIVE_CENTRE) + INACTIVE_OFFSET2,
        }
    }

    /// Hamming indicator of a categorical coordinate pair.
    #[inline]
    fn cat_diff(a: f64, b: f64) -> f64 {
        match (a.is_nan(), b.is_nan()) {
            (false, false) => f64::from(u8::from(a != b)),
            (true, true) => 0.0,
            _ => 1.0,
        }
    }

    #[inline]
    fn pair(&self, x: &[f64], y: &[f64]) -> Pair {
        let mut r2 = 0.0;
        let mut h = 0.0;
        for i in 0..self.kinds.len() {
            match self.kinds[i] {
                DimKind::Continuous => r2 += Self::cont_sq(x[i], y[i]) * self.inv[i],
                DimKind::Categorical => h += Self::cat_diff(x[i], y[i]) * self.inv[i],
            }
        }
        let (k, dk_dr2) = self.matern(r2, h);
        Pair { k, dk_dr2 }
    }

    /// k and ∂k/∂(r²) from the scaled squared distance r² and the weighted
    /// Hamming distance h: one exponential, e^{-(√5 r + h)}.
    #[inline(always)]
    fn matern(&self, r2: f64, h: f64) -> (f64, f64) {
        let r = r2.sqrt();
        let e = self.signal * exp_nonpos(-(SQRT5 * r + h));
        (
            (1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * e,
            -5.0 / 6.0 * (1.0 + SQRT5 * r) * e,
        )
    }

    /// r² (`r2`) and h (`h`) between point `i` of `a` and points
    /// `lo..lo + r2.len()` of `b` (see [`Kernel::pair`]), by dimension.
    fn distances(
        &self,
        a: &Columns,
        i: usize,
        b: &Columns,
        lo: usize,
        r2: &mut [f64],
        h: &mut [f64],
    ) {
        let len = r2.len();
        r2.fill(0.0);
        h.fill(0.0);
        for (dim, &kind) in self.kinds.iter().enumerate() {
            let inv = self.inv[dim];
            let ui = a.u[dim][i];
            let col = &b.u[dim][lo..lo + len];
            match kind {
                DimKind::Continuous => {
                    let wi = a.w_at(dim, i);
                    match &b.w[dim] {
                        Some(wc) => {
                            for ((r, &c), &cw) in r2.iter_mut().zip(col).zip(&wc[lo..lo + len]) {
                                let (t, t2) = (c - ui, cw - wi);
                                *r += (t * t + t2 * t2) * inv;
                            }
                        }
                        None if wi != 0.0 => {
                            let w2 = wi * wi;
                            for (r, &c) in r2.iter_mut().zip(col) {
                                let t = c - ui;
                                *r += (t * t + w2) * inv;
                            }
                        }
                        None => {
                            for (r, &c) in r2.iter_mut().zip(col) {
                                let t = c - ui;
                                *r += t * t * inv;
                            }
                        }
                    }
                }
                DimKind::Categorical => {
                    for (hv, &c) in h.iter_mut().zip(col) {
                        *hv += if c != ui { inv } else { 0.0 };
                    }
                }
            }
        }
    }

    fn check_columns(&self, c: &Columns) -> Result<()> {
        if c.u.len() != self.kinds.len() {
            return Err(Error::InvalidArgument(format!(
                "inputs have {} dimensions, expected {}",
                c.u.len(),
                self.kinds.len()
            )));
        }
        Ok(())
    }

    /// The lower triangle and diagonal of the n×n kernel matrix of the
    /// points of `xs` (as [`Kernel::matrix`]; zeros above, which the
    /// Cholesky factorisation does not read), plus k and ∂k/∂(r²) of each pair j < i packed by rows (pair
    /// i(i-1)/2 + j), for [`Kernel::contract_columns`].
    pub fn matrix_columns(&self, xs: &Columns) -> Result<(Vec<f64>, PairTerms)> {
        self.check_columns(xs)?;
        let n = xs.len();
        let mut k = vec![0.0; n * n];
        let pairs = n * n.saturating_sub(1) / 2;
        let mut terms = PairTerms {
            k: vec![0.0; pairs],
            dk_dr2: vec![0.0; pairs],
        };
        let (mut r2, mut h) = (vec![0.0; n], vec![0.0; n]);
        for i in 0..n {
            let p0 = i * i.saturating_sub(1) / 2;
            self.distances(xs, i, xs, 0, &mut r2[..i], &mut h[..i]);
            let kp = &mut terms.k[p0..p0 + i];
            let dp = &mut terms.dk_dr2[p0..p0 + i];
            for j in 0..i {
                let (kv, dv) = self.matern(r2[j], h[j]);
                kp[j] = kv;
                dp[j] = dv;
            }
            k[i * n..i * n + i].copy_from_slice(kp);
            k[i * n + i] = self.signal;
        }
        Ok((k, terms))
    }

    /// Σ_ij W_ij ∂K_ij/∂θ_p as [`Kernel::contract_param_grad`], from the pair
    /// terms of [`Kernel::matrix_columns`] on the same points (only the lower
    /// triangle and diagonal of W are read).
    pub fn contract_columns(&self, xs: &Columns, terms: &PairTerms, w: &[f64]) -> Result<Vec<f64>> {
        self.check_columns(xs)?;
        let n = xs.len();
        if w.len() != n * n || terms.k.len() != n * n.saturating_sub(1) / 2 {
            return Err(Error::InvalidArgument(format!(
                "weight matrix or pair terms do not fit {n} points"
            )));
        }
        let d = self.dim();
        let mut g = vec![0.0; self.n_params()];
        let (mut t, mut s) = (vec![0.0; n], vec![0.0; n]);
        let mut sq = vec![0.0; n];
        for i in 1..n {
            let p0 = i * (i - 1) / 2;
            let wi = &w[i * n..i * n + i];
            for j in 0..i {
                let w2 = 2.0 * wi[j];
                t[j] = w2 * terms.dk_dr2[p0 + j];
                s[j] = w2 * terms.k[p0 + j];
            }
            for dim in 0..d {
                let ui = xs.u[dim][i];
                let col = &xs.u[dim][..i];
                match self.kinds[dim] {
                    DimKind::Continuous => {
                        let wv = xs.w_at(dim, i);
                        match &xs.w[dim] {
                            Some(wc) => {
                                for ((q, &c), &cw) in sq[..i].iter_mut().zip(col).zip(wc) {
                                    let (a, b) = (c - ui, cw - wv);
                                    *q = a * a + b * b;
                                }
                            }
                            None => {
                                for (q, &c) in sq[..i].iter_mut().zip(col) {
                                    let a = c - ui;
                                    *q = a * a;
                                }
                            }
                        }
                        // -2 u_i ∂k/∂(r²), u_i = d_i² / ℓ_i².
                        g[dim] -= 2.0 * self.inv[dim] * dot4(&t[..i], &sq[..i]);
                    }
                    DimKind::Categorical => {
                        for (q, &c) in sq[..i].iter_mut().zip(col) {
                            *q = if c != ui { 1.0 } else { 0.0 };
                        }
                        g[dim] += self.inv[dim] * dot4(&s[..i], &sq[..i]);
                    }
                }
            }
            g[d] += s[..i].iter().sum::<f64>();
        }
        g[d] += (0..n).map(|i| w[i * n + i]).sum::<f64>() * self.signal;
        Ok(g)
    }

    /// For each continuous dimension i of `dims` and each point p of `xs`,
    /// Σ_q W_pq ∂k(x_p, x_q)/∂x_pi over q ≠ p (W symmetric, only its lower
    /// triangle is read), from the pair terms of [`Kernel::matrix_columns`]:
    /// ∂k/∂x_pi = ∂k/∂(r²) · 2 (x_pi - x_qi) / ℓ_i² (module docs; an inactive
    /// x_q sits at 1/2, and the result at an inactive x_p is not used). The
    /// likelihood's gradient in the inputs, -½ tr(W ∂K/∂x_pi), is minus
    /// this; input warping chains it to its parameters. O(n² |dims|).
    pub fn contract_input_grad(
        &self,
        xs: &Columns,
        terms: &PairTerms,
        w: &[f64],
        dims: &[usize],
    ) -> Result<Vec<Vec<f64>>> {
        self.check_columns(xs)?;
        let n = xs.len();
        if w.len() != n * n || terms.k.len() != n * n.saturating_sub(1) / 2 {
            return Err(Error::InvalidArgument(format!(
                "weight matrix or pair terms do not fit {n} points"
            )));
        }
        if let Some(&i) = dims
            .iter()
            .find(|&&i| self.kinds.get(i) != Some(&DimKind::Continuous))
        {
            return Err(Error::InvalidArgument(format!(
                "dimension {i} is not a continuous dimension of the kernel"
            )));
        }
        let mut out = vec![vec![0.0; n]; dims.len()];
        let mut t = vec![0.0; n];
        for i in 1..n {
            let p0 = i * (i - 1) / 2;
            let wi = &w[i * n..i * n + i];
            for j in 0..i {
                t[j] = wi[j] * terms.dk_dr2[p0 + j];
            }
            for (s, &dim) in out.iter_mut().zip(dims) {
                let scale = 2.0 * self.inv[dim];
                let col = &xs.u[dim];
                let ui = col[i];
                let (below, rest) = s.split_at_mut(i);
                let mut acc = 0.0;
                for ((sj, &tj), &c) in below.iter_mut().zip(&t[..i]).zip(&col[..i]) {
                    let v = tj * scale * (ui - c);
                    acc += v;
                    *sj -= v;
                }
                rest[0] += acc;
            }
        }
        Ok(out)
    }

    /// The n×m matrix (row-major) of k(X_j, C_c) between the points X of
    /// `xs` and the points C of `cands`: row j holds X_j against every
    /// candidate (the layout of a block of right-hand sides).
    pub fn cross_columns(&self, xs: &Columns, cands: &Columns, out: &mut [f64]) -> Result<()> {
        self.check_columns(xs)?;
        self.check_columns(cands)?;
        let (n, m) = (xs.len(), cands.len());
        if out.len() != n * m {
            return Err(Error::InvalidArgument(format!(
                "output has {} entries, expected {n}x{m}",
                out.len()
            )));
        }
        let mut h = vec![0.0; m];
        for (j, row) in out.chunks_exact_mut(m.max(1)).enumerate().take(n) {
            self.distances(xs, j, cands, 0, row, &mut h);
            for (v, &hv) in row.iter_mut().zip(&h) {
                *v = self.matern(*v, hv).0;
            }
        }
        Ok(())
    }

    /// k(x, X_j) and ∂k/∂(r²) for one point x (`point`, a one-point
    /// [`Columns`]) against the points of `xs`.
    pub fn cross_point(&self, point: &Columns, xs: &Columns) -> Result<(Vec<f64>, Vec<f64>)> {
        self.check_columns(xs)?;
        self.check_columns(point)?;
        if point.len() != 1 {
            return Err(Error::InvalidArgument("expected one point".into()));
        }
        let n = xs.len();
        let (mut k, mut h) = (vec![0.0; n], vec![0.0; n]);
        self.distances(point, 0, xs, 0, &mut k, &mut h);
        let mut dk = h;
        for (kv, dv) in k.iter_mut().zip(dk.iter_mut()) {
            let (a, b) = self.matern(*kv, *dv);
            *kv = a;
            *dv = b;
        }
        Ok((k, dk))
    }

    /// Inverse squared lengthscale of continuous dimension i (1/ℓ of a
    /// categorical one).
    pub fn inv_scale(&self, i: usize) -> f64 {
        self.inv[i]
    }

    /// k(x, y).
    pub fn eval(&self, x: &[f64], y: &[f64]) -> Result<f64> {
        self.check_point(x)?;
        self.check_point(y)?;
        Ok(self.pair(x, y).k)
    }

    /// The n×n kernel matrix of the rows of `xs` (n×d row-major).
    pub fn matrix(&self, xs: &[f64], n: usize) -> Result<Vec<f64>> {
        self.check_rows(xs, n)?;
        let d = self.dim();
        let mut k = vec![0.0; n * n];
        for i in 0..n {
            let xi = &xs[i * d..(i + 1) * d];
            for j in 0..=i {
                let v = self.pair(xi, &xs[j * d..(j + 1) * d]).k;
                k[i * n + j] = v;
                k[j * n + i] = v;
            }
        }
        Ok(k)
    }

    /// k(x, X_j) for the n rows X_j of `xs`.
    pub fn cross(&self, x: &[f64], xs: &[f64], n: usize) -> Result<Vec<f64>> {
        self.check_point(x)?;
        self.check_rows(xs, n)?;
        let d = self.dim();
        Ok((0..n)
            .map(|j| self.pair(x, &xs[j * d..(j + 1) * d]).k)
            .collect())
    }

    /// k(x, X_j) and its gradient w.r.t. x: returns (k, dk) with
    /// dk[j·d + i] = ∂k(x, X_j)/∂x_i (zero on categorical and inactive dims).
    pub fn cross_with_grad(&self, x: &[f64], xs: &[f64], n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        self.check_point(x)?;
        self.check_rows(xs, n)?;
        let d = self.dim();
        let mut k = vec![0.0; n];
        let mut dk = vec![0.0; n * d];
        for j in 0..n {
            let y = &xs[j * d..(j + 1) * d];
            let p = self.pair(x, y);
            k[j] = p.k;
            for i in 0..d {
                if self.kinds[i] == DimKind::Continuous && !x[i].is_nan() {
                    let yi = if y[i].is_nan() { INACTIVE_CENTRE } else { y[i] };
                    dk[j * d + i] = p.dk_dr2 * 2.0 * (x[i] - yi) * self.inv[i];
                }
            }
        }
        Ok((k, dk))
    }

    /// Adds ∂k(x, y)/∂θ_p (times `scale`) to `out[p]`; returns k(x, y).
    #[inline]
    fn add_param_grad(&self, x: &[f64], y: &[f64], scale: f64, out: &mut [f64]) -> f64 {
        let p = self.pair(x, y);
        let d = self.dim();
        for i in 0..d {
            out[i] += scale
                * match self.kinds[i] {
                    // -2 u_i · ∂k/∂(r²)
                    DimKind::Continuous => {
                        -2.0 * Self::cont_sq(x[i], y[i]) * self.inv[i] * p.dk_dr2
                    }
                    DimKind::Categorical => p.k * Self::cat_diff(x[i], y[i]) * self.inv[i],
                };
        }
        out[d] += scale * p.k;
        p.k
    }

    /// ∂k(x, y)/∂θ for θ = (log ℓ_1..d, log σ_f²).
    pub fn param_grad(&self, x: &[f64], y: &[f64]) -> Result<Vec<f64>> {
        self.check_point(x)?;
        self.check_point(y)?;
        let mut g = vec![0.0; self.n_params()];
        self.add_param_grad(x, y, 1.0, &mut g);
        Ok(g)
    }

    /// ∂K/∂θ_p as n×n matrices, one per hyperparameter (O(n² d) memory: for
    /// checks and small n; the model uses [`Kernel::contract_param_grad`]).
    pub fn param_grad_matrices(&self, xs: &[f64], n: usize) -> Result<Vec<Vec<f64>>> {
        self.check_rows(xs, n)?;
        let d = self.dim();
        let np = self.n_params();
        let mut out = vec![vec![0.0; n * n]; np];
        let mut g = vec![0.0; np];
        for i in 0..n {
            for j in 0..=i {
                g.iter_mut().for_each(|v| *v = 0.0);
                self.add_param_grad(
                    &xs[i * d..(i + 1) * d],
                    &xs[j * d..(j + 1) * d],
                    1.0,
                    &mut g,
                );
                for p in 0..np {
                    out[p][i * n + j] = g[p];
                    out[p][j * n + i] = g[p];
                }
            }
        }
        Ok(out)
    }

    /// Σ_ij W_ij ∂K_ij/∂θ_p for a symmetric n×n W, without forming ∂K/∂θ:
    /// O(n² d) time, O(d) extra memory. This is the trace tr(W ∂K/∂θ_p) in the
    /// marginal-likelihood gradient (Rasmussen & Williams 2006, eq. (5.9)).
    pub fn contract_param_grad(&self, xs: &[f64], n: usize, w: &[f64]) -> Result<Vec<f64>> {
        self.check_rows(xs, n)?;
        if w.len() != n * n {
            return Err(Error::InvalidArgument(format!(
                "weight matrix has {} entries, expected {n}x{n}",
                w.len()
            )));
        }
        let d = self.dim();
        let mut g = vec![0.0; self.n_params()];
        for i in 0..n {
            let xi = &xs[i * d..(i + 1) * d];
            for j in 0..i {
                self.add_param_grad(xi, &xs[j * d..(j + 1) * d], 2.0 * w[i * n + j], &mut g);
            }
            // On the diagonal only the signal variance acts: k(x, x) = σ_f².
            g[d] += w[i * n + i] * self.signal;
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn kinds() -> Vec<DimKind> {
        vec![
            DimKind::Continuous,
            DimKind::Categorical,
            DimKind::Continuous,
            DimKind::Continuous,
        ]
    }

    /// Random inputs with some categorical values and some inactive entries.
    fn inputs(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        let mut xs = Vec::new();
        for i in 0..n {
            xs.push(rng.uniform());
            xs.push(rng.below(3) as f64);
            xs.push(rng.uniform());
            // The last dimension is inactive for every third point.
            xs.push(if i % 3 == 0 { f64::NAN } else { rng.uniform() });
        }
        xs
    }

    fn kernel() -> Kernel {
        Kernel::new(kinds(), vec![-0.7, 0.2, 0.4, -1.1], 0.3).unwrap()
    }

    #[test]
    fn matern_values_and_symmetry() {
        let k = Kernel::new(vec![DimKind::Continuous], vec![0.0], 0.0).unwrap();
        assert!((k.eval(&[0.3], &[0.3]).unwrap() - 1.0).abs() < 1e-15);
        // r = 1: (1 + √5 + 5/3) e^{-√5}.
        let want = (1.0 + SQRT5 + 5.0 / 3.0) * (-SQRT5).exp();
        assert!((k.eval(&[0.0], &[1.0]).unwrap() - want).abs() < 1e-15);
        let k = kernel();
        let xs = inputs(7, 1);
        let m = k.matrix(&xs, 7).unwrap();
        for i in 0..7 {
            assert!((m[i * 7 + i] - k.signal_variance()).abs() < 1e-14);
            for j in 0..7 {
                assert_eq!(m[i * 7 + j], m[j * 7 + i]);
            }
        }
        // The matrix with inactive entries is positive definite.
        let mut a = m.clone();
        for i in 0..7 {
            a[i * 7 + i] += 1e-9;
        }
        assert!(crate::samplers::gp::linalg::Cholesky::factor(&a, 7).is_ok());
    }

    #[test]
    fn inactive_embedding_is_positive_semidefinite() {
        // The counterexample to "distance 0 when either is missing": 0, NaN, 1.
        let k = Kernel::new(vec![DimKind::Continuous], vec![-1.0], 0.0).unwrap();
        let xs = [0.0, f64::NAN, 1.0];
        let a = k.matrix(&xs, 3).unwrap();
        assert!(crate::samplers::gp::linalg::Cholesky::factor(&a, 3).is_ok());
    }

    #[test]
    fn param_gradients_match_finite_differences() {
        let k = kernel();
        let n = 9;
        let xs = inputs(n, 2);
        let g = k.param_grad_matrices(&xs, n).unwrap();
        let theta = k.params();
        let h = 1e-6;
        for p in 0..theta.len() {
            let mut tp = theta.clone();
            tp[p] += h;
            let mut tm = theta.clone();
            tm[p] -= h;
            let mut kp = k.clone();
            kp.set_params(&tp).unwrap();
            let mut km = k.clone();
            km.set_params(&tm).unwrap();
            let (mp, mm) = (kp.matrix(&xs, n).unwrap(), km.matrix(&xs, n).unwrap());
            for e in 0..n * n {
                let fd = (mp[e] - mm[e]) / (2.0 * h);
                assert!(
                    (fd - g[p][e]).abs() < 1e-7 * (1.0 + fd.abs()),
                    "param {p} entry {e}: fd {fd} vs {}",
                    g[p][e]
                );
            }
        }
        // The contraction agrees with the explicit matrices.
        let w: Vec<f64> = (0..n * n)
            .map(|e| {
                let (i, j) = (e / n, e % n);
                ((i + j) as f64 * 0.37).cos()
            })
            .collect();
        let c = k.contract_param_grad(&xs, n, &w).unwrap();
        for p in 0..theta.len() {
            let want: f64 = (0..n * n).map(|e| w[e] * g[p][e]).sum();
            assert!((c[p] - want).abs() < 1e-10 * (1.0 + want.abs()));
        }
    }

    #[test]
    fn input_gradient_matches_finite_differences() {
        let k = kernel();
        let n = 8;
        let xs = inputs(n, 3);
        for x in [vec![0.31, 1.0, 0.77, 0.12], vec![0.9, 2.0, 0.05, f64::NAN]] {
            let (kv, dk) = k.cross_with_grad(&x, &xs, n).unwrap();
            assert_eq!(kv, k.cross(&x, &xs, n).unwrap());
            let h = 1e-6;
            for i in [0usize, 2, 3] {
                if x[i].is_nan() {
                    assert!((0..n).all(|j| dk[j * 4 + i] == 0.0));
                    continue;
                }
                let mut xp = x.clone();
                xp[i] += h;
                let mut xm = x.clone();
                xm[i] -= h;
                let (kp, km) = (k.cross(&xp, &xs, n).unwrap(), k.cross(&xm, &xs, n).unwrap());
                for j in 0..n {
                    let fd = (kp[j] - km[j]) / (2.0 * h);
                    assert!(
                        (fd - dk[j * 4 + i]).abs() < 1e-7,
                        "dim {i} point {j}: {fd} vs {}",
                        dk[j * 4 + i]
                    );
                }
            }
            assert!((0..n).all(|j| dk[j * 4 + 1] == 0.0));
        }
    }

    #[test]
    fn exp_nonpos_is_within_a_few_ulps() {
        let mut worst = 0.0f64;
        let mut x = 0.0;
        while x > -700.0 {
            let (a, b) = (exp_nonpos(x), x.exp());
            worst = worst.max((a - b).abs() / b);
            x -= 0.013_7;
        }
        for x in [
            0.0,
            -1e-300,
            -1e-17,
            -0.5 * std::f64::consts::LN_2,
            -1.0,
            -745.0,
        ] {
            let (a, b) = (exp_nonpos(x), x.exp().max((-700.0f64).exp()));
            worst = worst.max((a - b).abs() / b);
        }
        assert_eq!(exp_nonpos(0.0), 1.0);
        assert!(worst < 4.0 * f64::EPSILON, "relative error {worst}");
    }

    #[test]
    fn column_routines_equal_the_pairwise_ones() {
        let k = kernel();
        let n = 23;
        let xs = inputs(n, 7);
        let cols = Columns::new(&kinds(), &xs, n).unwrap();
        // Matrix: the lower triangle and diagonal, to the bit.
        let (m, terms) = k.matrix_columns(&cols).unwrap();
        let full = k.matrix(&xs, n).unwrap();
        for i in 0..n {
            for j in 0..=i {
                assert_eq!(m[i * n + j], full[i * n + j], "entry ({i}, {j})");
            }
        }
        // Contraction: the same sum in another order.
        let w: Vec<f64> = (0..n * n)
            .map(|e| {
                let (i, j) = (e / n, e % n);
                ((i + j) as f64 * 0.37).cos()
            })
            .collect();
        let a = k.contract_columns(&cols, &terms, &w).unwrap();
        let b = k.contract_param_grad(&xs, n, &w).unwrap();
        for (p, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() < 1e-12 * (1.0 + y.abs()),
                "param {p}: {x} vs {y}"
            );
        }
        // Cross-covariances of points (some inactive where the data are not,
        // and the reverse) against the data, to the bit.
        let pts = [
            vec![0.31, 1.0, 0.77, 0.12],
            vec![0.9, 2.0, f64::NAN, f64::NAN],
            vec![f64::NAN, f64::NAN, 0.5, 0.5],
        ];
        let flat: Vec<f64> = pts.concat();
        let cands = Columns::new(&kinds(), &flat, 3).unwrap();
        let mut block = vec![0.0; n * 3];
        k.cross_columns(&cols, &cands, &mut block).unwrap();
        for (c, x) in pts.iter().enumerate() {
            let want = k.cross(x, &xs, n).unwrap();
            let one = Columns::new(&kinds(), x, 1).unwrap();
            let (got, dk) = k.cross_point(&one, &cols).unwrap();
            assert_eq!(got, want);
            for j in 0..n {
                assert_eq!(block[j * 3 + c], want[j]);
                assert_eq!(dk[j], k.pair(x, &xs[j * 4..j * 4 + 4]).dk_dr2);
            }
        }
        // Pushing points one by one gives the same columns.
        let mut grown = Columns::new(&kinds(), &[], 0).unwrap();
        for row in xs.chunks(4) {
            grown.push(&kinds(), row).unwrap();
        }
        assert_eq!(grown, cols);
        assert!(Columns::new(&kinds(), &xs[1..], n).is_err());
        assert!(grown.push(&kinds(), &[0.5; 3]).is_err());
        assert_eq!(grown, cols);
        assert!(k.cross_columns(&cols, &cands, &mut block[1..]).is_err());
    }

    #[test]
    fn bad_hyperparameters_are_errors() {
        assert!(Kernel::new(kinds(), vec![0.0; 3], 0.0).is_err());
        assert!(Kernel::new(kinds(), vec![0.0, 0.0, 0.0, 1e4], 0.0).is_err());
        assert!(Kernel::new(kinds(), vec![0.0; 4], f64::NAN).is_err());
        let mut k = kernel();
        assert!(k.matrix(&[0.0; 7], 2).is_err());
        assert!(k.cross(&[0.0; 3], &[0.0; 8], 2).is_err());
        assert!(k.cross_with_grad(&[0.0; 4], &[0.0; 7], 2).is_err());
        assert!(k.contract_param_grad(&[0.0; 8], 2, &[0.0; 3]).is_err());
        assert!(k.eval(&[0.0; 4], &[0.0; 5]).is_err());
        assert!(k.param_grad(&[0.0; 4], &[0.0; 4]).is_ok());
        assert!(k.set_params(&[0.0; 5]).is_ok());
        assert!(k.set_params(&[f64::INFINITY, 0.0, 0.0, 0.0, 0.0]).is_err());
    }
}
