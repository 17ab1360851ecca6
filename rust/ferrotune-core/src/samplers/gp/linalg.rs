//! Dense linear algebra for the GP: the Cholesky factor of a symmetric
//! positive-definite matrix, triangular solves, log-determinant and a rank-one
//! *append* (one new row and column) in O(n²).
//!
//! Hand-written rather than a dependency (faer, nalgebra): the GP needs a few
//! dozen lines of it, and the workspace must stay quick to build on two cores.
//!
//! Layout. Input matrices are dense, row-major `Vec<f64>` of n×n; only the
//! lower triangle (j <= i) is read. The factor L (A = L Lᵀ, lower triangular)
//! is stored *packed by rows*: row i holds its i + 1 entries L_i0, ..., L_ii from
//! offset i(i+1)/2. Appending a row is then a push, and every inner product of
//! the factorisation reads two contiguous row prefixes.
//!
//! Algorithm. Cholesky–Banachiewicz (row by row; Golub & Van Loan, "Matrix
//! Computations", 4th ed., Alg. 4.2.1 in its row-oriented form):
//! L_ij = (A_ij - Σ_{k<j} L_ik L_jk) / L_jj for j < i, and
//! L_ii = sqrt(A_ii - Σ_{k<i} L_ik²).
//!
//! Append. If A = L Lᵀ and A' = [[A, a], [aᵀ, α]], then A' = L' L'ᵀ with
//! L' = [[L, 0], [lᵀ, λ]], where L l = a and λ = sqrt(α - lᵀl) (the bordering
//! method, Golub & Van Loan §4.2.8; Osborne 2010, "Bayesian Gaussian Processes
//! for Sequential Prediction, Optimisation and Quadrature", §B.1). Since the
//! row-oriented factorisation computes row n exactly this way, the appended
//! factor is bit-for-bit the factor of A'.
//!
//! Jitter. Kernel matrices of close or repeated inputs are numerically
//! singular. [`Cholesky::factor_with_jitter`] first tries A as given, then
//! A + εI with ε = 10⁻¹⁰·mean(diag A), multiplying ε by 10 on each failure up
//! to 10⁻⁴·mean(diag A) (seven tries; the scheme of GPyTorch's
//! `psd_safe_cholesky`, with a scale-relative start). The jitter used is kept
//! and added to the diagonal of every appended row, so that the factor stays
//! the factor of one well-defined matrix.

use crate::error::{Error, Result};

/// First relative jitter tried after a plain factorisation fails.
pub const JITTER_START: f64 = 1e-10;
/// Largest relative jitter tried before giving up.
pub const JITTER_MAX: f64 = 1e-4;

#[inline]
fn row_start(i: usize) -> usize {
    i * (i + 1) / 2
}

/// Inner product with four accumulators (lets the compiler vectorise).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let chunks = n / 4;
    for c in 0..chunks {
        let k = 4 * c;
        acc[0] += a[k] * b[k];
        acc[1] += a[k + 1] * b[k + 1];
        acc[2] += a[k + 2] * b[k + 2];
        acc[3] += a[k + 3] * b[k + 3];
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for k in 4 * chunks..n {
        s += a[k] * b[k];
    }
    s
}

fn not_pd(i: usize, pivot: f64) -> Error {
    Error::InvalidArgument(format!(
        "matrix is not positive definite (pivot {i} is {pivot:e})"
    ))
}

/// The Cholesky factor L of a symmetric positive-definite matrix A = L Lᵀ.
#[derive(Debug, Clone, PartialEq)]
pub struct Cholesky {
    n: usize,
    /// Lower triangle, packed by rows.
    l: Vec<f64>,
    /// Absolute jitter added to the diagonal of A (0 when none was needed).
    jitter: f64,
}

impl Cholesky {
    /// Factor of the n×n row-major matrix `a` (lower triangle read), or an
    /// error when `a` is not numerically positive definite or not finite.
    pub fn factor(a: &[f64], n: usize) -> Result<Self> {
        Self::factor_shifted(a, n, 0.0)
    }

    /// Factor of `a`, retrying with a growing diagonal jitter (see the module
    /// docs) when `a` is numerically singular.
    pub fn factor_with_jitter(a: &[f64], n: usize) -> Result<Self> {
        let first = match Self::factor(a, n) {
            Ok(c) => return Ok(c),
            Err(e) => e,
        };
        let mean_diag = (0..n).map(|i| a[i * n + i].abs()).sum::<f64>() / n.max(1) as f64;
        if !(mean_diag.is_finite() && mean_diag > 0.0) {
            return Err(first);
        }
        let mut rel = JITTER_START;
        while rel <= JITTER_MAX * (1.0 + 1e-9) {
            if let Ok(c) = Self::factor_shifted(a, n, rel * mean_diag) {
                return Ok(c);
            }
            rel *= 10.0;
        }
        Err(Error::InvalidArgument(format!(
            "{first}; still not positive definite with a diagonal jitter of {:e}",
            JITTER_MAX * mean_diag
        )))
    }

    /// Factor of a + shift·I.
    fn factor_shifted(a: &[f64], n: usize, shift: f64) -> Result<Self> {
        if a.len() != n * n {
            return Err(Error::InvalidArgument(format!(
                "matrix has {} entries, expected {n}x{n}",
                a.len()
            )));
        }
        let mut l = vec![0.0; row_start(n)];
        for i in 0..n {
            let ri = row_start(i);
            for j in 0..=i {
                let rj = row_start(j);
                let aij = a[i * n + j];
                if !aij.is_finite() {
                    return Err(Error::InvalidArgument(format!(
                        "matrix entry ({i}, {j}) is not finite"
                    )));
                }
                let s = aij - dot(&l[ri..ri + j], &l[rj..rj + j]);
                if j < i {
                    l[ri + j] = s / l[rj + j];
                } else {
                    let p = s + shift;
                    if !(p > 0.0 && p.is_finite()) {
                        return Err(not_pd(i, p));
                    }
                    l[ri + i] = p.sqrt();
                }
            }
        }
        Ok(Cholesky {
            n,
            l,
            jitter: shift,
        })
    }

    /// Order of the factored matrix.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Absolute jitter that was added to the diagonal (0 when none).
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// `L[i][j]` (0 above the diagonal); None outside the matrix.
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        if i >= self.n || j >= self.n {
            None
        } else if j > i {
            Some(0.0)
        } else {
            Some(self.l[row_start(i) + j])
        }
    }

    /// Row i < n of L up to and including the diagonal.
    #[inline]
    fn row(&self, i: usize) -> &[f64] {
        let r = row_start(i);
        &self.l[r..r + i + 1]
    }

    /// L as a dense n×n row-major matrix.
    pub fn to_dense(&self) -> Vec<f64> {
        let n = self.n;
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            out[i * n..i * n + i + 1].copy_from_slice(self.row(i));
        }
        out
    }

    /// Extends the factor of A to that of [[A, a], [aᵀ, α]] in O(n²), where
    /// `col` = a (length n) and `diag` = α (the factor's jitter is added to α).
    /// On error the factor is left unchanged.
    pub fn append(&mut self, col: &[f64], diag: f64) -> Result<()> {
        let n = self.n;
        if col.len() != n {
            return Err(Error::InvalidArgument(format!(
                "appended column has {} entries, expected {n}",
                col.len()
            )));
        }
        if !diag.is_finite() || col.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(
                "appended row and column must be finite".into(),
            ));
        }
        let mut row = col.to_vec();
        self.solve_lower_in_place(&mut row)?;
        let p = diag + self.jitter - dot(&row, &row);
        if !(p > 0.0 && p.is_finite()) {
            return Err(not_pd(n, p));
        }
        self.l.extend_from_slice(&row);
        self.l.push(p.sqrt());
        self.n += 1;
        Ok(())
    }

    fn check_len(&self, len: usize) -> Result<()> {
        if len != self.n {
            return Err(Error::InvalidArgument(format!(
                "right-hand side has {len} entries, expected {}",
                self.n
            )));
        }
        Ok(())
    }

    /// Solves L y = b in place (forward substitution).
    pub fn solve_lower_in_place(&self, b: &mut [f64]) -> Result<()> {
        self.check_len(b.len())?;
        for i in 0..self.n {
            let r = self.row(i);
            b[i] = (b[i] - dot(&r[..i], &b[..i])) / r[i];
        }
        Ok(())
    }

    /// Solves Lᵀ x = b in place (back substitution, column-oriented so that
    /// it reads rows of L).
    pub fn solve_upper_in_place(&self, b: &mut [f64]) -> Result<()> {
        self.check_len(b.len())?;
        for i in (0..self.n).rev() {
            let r = self.row(i);
            b[i] /= r[i];
            let xi = b[i];
            for (v, l) in b[..i].iter_mut().zip(&r[..i]) {
                *v -= l * xi;
            }
        }
        Ok(())
    }

    /// Solves A x = b in place (A = L Lᵀ).
    pub fn solve_in_place(&self, b: &mut [f64]) -> Result<()> {
        self.solve_lower_in_place(b)?;
        self.solve_upper_in_place(b)
    }

    /// A⁻¹ b.
    pub fn solve(&self, b: &[f64]) -> Result<Vec<f64>> {
        let mut x = b.to_vec();
        self.solve_in_place(&mut x)?;
        Ok(x)
    }

    /// Solves L Y = B in place for an n×m row-major B.
    pub fn solve_lower_matrix(&self, b: &mut [f64], m: usize) -> Result<()> {
        if b.len() != self.n * m {
            return Err(Error::InvalidArgument("right-hand side shape".into()));
        }
        for i in 0..self.n {
            let r = self.row(i);
            let (done, rest) = b.split_at_mut(i * m);
            let bi = &mut rest[..m];
            for k in 0..i {
                let lik = r[k];
                if lik != 0.0 {
                    let bk = &done[k * m..(k + 1) * m];
                    for (v, w) in bi.iter_mut().zip(bk) {
                        *v -= lik * w;
                    }
                }
            }
            for v in bi.iter_mut() {
                *v /= r[i];
            }
        }
        Ok(())
    }

    /// Solves Lᵀ X = B in place for an n×m row-major B.
    pub fn solve_upper_matrix(&self, b: &mut [f64], m: usize) -> Result<()> {
        if b.len() != self.n * m {
            return Err(Error::InvalidArgument("right-hand side shape".into()));
        }
        for i in (0..self.n).rev() {
            let r = self.row(i);
            let (head, rest) = b.split_at_mut(i * m);
            let bi = &mut rest[..m];
            for v in bi.iter_mut() {
                *v /= r[i];
            }
            for k in 0..i {
                let lik = r[k];
                if lik != 0.0 {
                    let bk = &mut head[k * m..(k + 1) * m];
                    for (v, w) in bk.iter_mut().zip(bi.iter()) {
                        *v -= lik * w;
                    }
                }
            }
        }
        Ok(())
    }

    /// log det A = 2 Σ_i log L_ii.
    pub fn log_det(&self) -> f64 {
        2.0 * (0..self.n).map(|i| self.row(i)[i].ln()).sum::<f64>()
    }

    /// A⁻¹ as a dense n×n row-major matrix: L⁻¹ row by row, then
    /// A⁻¹ = L⁻ᵀ L⁻¹ (about n³/3 multiply-adds, all on contiguous rows).
    pub fn inverse(&self) -> Vec<f64> {
        let n = self.n;
        // M = L⁻¹, lower triangular, packed by rows like L. Row i of L M = I
        // reads L[i][i] m_i = e_i - Σ_{k<i} L[i][k] m_k, where m_k has k + 1
        // leading entries: a sequence of contiguous axpys.
        let mut inv = vec![0.0; row_start(n)];
        for i in 0..n {
            let r = self.row(i);
            let (done, rest) = inv.split_at_mut(row_start(i));
            let cur = &mut rest[..i + 1];
            for k in 0..i {
                let lik = r[k];
                if lik != 0.0 {
                    let mk = &done[row_start(k)..row_start(k) + k + 1];
                    for (c, m) in cur[..=k].iter_mut().zip(mk) {
                        *c -= lik * m;
                    }
                }
            }
            cur[i] = 1.0;
            let s = 1.0 / r[i];
            for v in cur.iter_mut() {
                *v *= s;
            }
        }
        // (A⁻¹)[i][j] = Σ_{k >= i} M[k][i] M[k][j] for j <= i: row i of the
        // result stays in cache while the rows of M stream past.
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            let oi = &mut out[i * n..i * n + i + 1];
            for k in i..n {
                let mk = &inv[row_start(k)..row_start(k) + i + 1];
                let c = mk[i];
                if c != 0.0 {
                    for (o, m) in oi.iter_mut().zip(mk) {
                        *o += c * m;
                    }
                }
            }
        }
        for i in 0..n {
            for j in 0..i {
                out[j * n + i] = out[i * n + j];
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// A random SPD matrix B Bᵀ + n I.
    fn spd(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        let b: Vec<f64> = (0..n * n).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = dot(&b[i * n..(i + 1) * n], &b[j * n..(j + 1) * n]);
            }
            a[i * n + i] += n as f64;
        }
        a
    }

    fn matvec(a: &[f64], x: &[f64]) -> Vec<f64> {
        let n = x.len();
        (0..n).map(|i| dot(&a[i * n..(i + 1) * n], x)).collect()
    }

    #[test]
    fn factor_reproduces_matrix() {
        let n = 13;
        let a = spd(n, 1);
        let c = Cholesky::factor(&a, n).unwrap();
        let l = c.to_dense();
        for i in 0..n {
            for j in 0..n {
                let v = dot(&l[i * n..(i + 1) * n], &l[j * n..(j + 1) * n]);
                assert!((v - a[i * n + j]).abs() < 1e-10 * a[i * n + i].abs());
            }
        }
        assert_eq!(c.jitter(), 0.0);
    }

    #[test]
    fn append_equals_refactorisation() {
        let n = 17;
        let a = spd(n, 2);
        let m = 9;
        let sub: Vec<f64> = (0..m * m).map(|k| a[(k / m) * n + k % m]).collect();
        let mut c = Cholesky::factor(&sub, m).unwrap();
        for k in m..n {
            let col: Vec<f64> = (0..k).map(|j| a[k * n + j]).collect();
            c.append(&col, a[k * n + k]).unwrap();
        }
        let full = Cholesky::factor(&a, n).unwrap();
        assert_eq!(c.n(), n);
        for i in 0..n {
            for j in 0..=i {
                let (a, b) = (c.get(i, j).unwrap(), full.get(i, j).unwrap());
                assert!((a - b).abs() <= 1e-14 * full.get(i, i).unwrap());
            }
        }
        assert!((c.log_det() - full.log_det()).abs() < 1e-12);
    }

    #[test]
    fn solves_and_inverse_and_log_det() {
        let n = 11;
        let a = spd(n, 3);
        let c = Cholesky::factor(&a, n).unwrap();
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
        let b = matvec(&a, &x);
        let got = c.solve(&b).unwrap();
        for i in 0..n {
            assert!((got[i] - x[i]).abs() < 1e-12);
        }
        // Matrix solves: columns of the identity give the inverse.
        let mut eye = vec![0.0; n * n];
        for i in 0..n {
            eye[i * n + i] = 1.0;
        }
        c.solve_lower_matrix(&mut eye, n).unwrap();
        c.solve_upper_matrix(&mut eye, n).unwrap();
        let inv = c.inverse();
        for k in 0..n * n {
            assert!((eye[k] - inv[k]).abs() < 1e-12);
        }
        for i in 0..n {
            for j in 0..n {
                let v: f64 = (0..n).map(|k| a[i * n + k] * inv[k * n + j]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-12);
            }
        }
        // log det against the product of pivots of an LU-free 2x2 case.
        let two = [4.0, 2.0, 2.0, 3.0];
        let c2 = Cholesky::factor(&two, 2).unwrap();
        assert!((c2.log_det() - 8f64.ln()).abs() < 1e-14);
    }

    #[test]
    fn jitter_rescues_singular_matrices_and_errors_are_returned() {
        // Rank one: x xᵀ.
        let n = 5;
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let a: Vec<f64> = (0..n * n).map(|k| x[k / n] * x[k % n]).collect();
        assert!(Cholesky::factor(&a, n).is_err());
        let c = Cholesky::factor_with_jitter(&a, n).unwrap();
        assert!(c.jitter() > 0.0);
        // Not PD however much jitter: negative definite.
        let neg: Vec<f64> = a.iter().map(|v| -v).collect();
        assert!(Cholesky::factor_with_jitter(&neg, n).is_err());
        // Non-finite input and wrong shapes are errors, not panics.
        let mut bad = spd(3, 4);
        bad[4] = f64::NAN;
        assert!(Cholesky::factor_with_jitter(&bad, 3).is_err());
        assert!(Cholesky::factor(&[1.0, 0.0], 2).is_err());
        let mut c = Cholesky::factor(&spd(3, 5), 3).unwrap();
        assert!(c.solve(&[1.0]).is_err());
        assert!(c.append(&[1.0, 2.0], 1.0).is_err());
        assert!(c.append(&[1e3, 1e3, 1e3], 1.0).is_err());
        assert_eq!(c.n(), 3);
        assert_eq!(c.get(3, 0), None);
        assert_eq!(c.get(0, 2), Some(0.0));
        assert!(Cholesky::factor(&[], 0).unwrap().log_det() == 0.0);
    }
}
