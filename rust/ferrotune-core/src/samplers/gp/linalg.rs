//! Dense linear algebra for the GP: the Cholesky factor of a symmetric
//! positive-definite matrix, triangular solves, log-determinant, inverse and
//! a rank-one *append* (one new row and column) in O(n²).
//!
//! Hand-written rather than a dependency: the GP needs a few hundred lines
//! of it, the results are the same on every x86-64 machine (no run-time
//! choice of instruction set), and the workspace stays quick to build. The
//! comparison with `faer` is in benches/README.md.
//!
//! Layout. Input matrices are dense, row-major `Vec<f64>` of n×n; only the
//! lower triangle (j <= i) is read. The factor L (A = L Lᵀ, lower triangular)
//! is stored *packed by rows*: row i holds its i + 1 entries L_i0, ..., L_ii from
//! offset i(i+1)/2. Appending a row is then a push, and the rows that the
//! algorithms below combine are contiguous slices.
//!
//! Kernels. Nearly all the work is done by three small kernels, written so
//! that LLVM vectorises them for the baseline x86-64 target (SSE2: two f64 a
//! register; no `target-cpu`, no `unsafe`), each at about 1.7 instructions a
//! multiply-add (SSE2 has no fused multiply-add, and its two-operand
//! instructions need a copy or a load for every product: 1.5 is the floor):
//! - a *register tile* (`tile_lanes`): the 6×2 inner products of six rows
//!   with two other rows, all of one length, summed in twelve registers of
//!   two lanes each. Each pair of entries loaded is used twice (or six
//!   times), and no product waits for another;
//! - `rows_dot_lanes`, the same with eight rows and one vector;
//! - a *multi-row axpy* (`sub_rows`): y -= Σ_q c_q x_q over twelve rows
//!   x_q, which loads and stores y once for twelve multiply-adds.
//!
//! They sum in another order than a plain loop, so results differ from a
//! textbook implementation in the last bits (the tests compare with one).
//!
//! Algorithms (Golub & Van Loan, "Matrix Computations", 4th ed.). Rows are
//! taken in blocks of six and columns (or right-hand sides) in pairs; one
//! tile gives the inner products over everything before the block, and the
//! few terms inside the block are added one by one, in the order the
//! recurrence needs them.
//! - Cholesky: the row-oriented (Banachiewicz) form of Alg. 4.2.1,
//!   L_ij = (A_ij - Σ_{k<j} L_ik L_jk) / L_jj for j < i and
//!   L_ii = sqrt(A_ii - Σ_{k<i} L_ik²). For a block of rows and a pair of
//!   columns, the sums over k before the pair are a tile of rows of L with
//!   rows of L.
//! - L y = b (forward substitution), y_i = (b_i - Σ_{k<i} L_ik y_k) / L_ii,
//!   by blocks of eight rows, whose sums over the solved part are one call of
//!   `rows_dot_lanes`. With an n×m right-hand side B, each column of the
//!   solution is also kept as a contiguous vector (pushed as it is solved),
//!   so that six rows of L against a pair of columns is a tile.
//! - Lᵀ x = b (back substitution) reads rows of L: once a block of twelve
//!   unknowns is known, their contributions leave the rest of b in one
//!   multi-row axpy. With an n×m right-hand side, the order of the rows is
//!   reversed: Lᵀ becomes the lower triangular L'_ij = L_{n-1-j, n-1-i}
//!   (gathered in n²/2 copies), and the solve a forward substitution as
//!   above.
//! - A⁻¹ = L⁻ᵀ L⁻¹. The columns of M = L⁻¹ are the forward substitutions of
//!   the unit vectors, solved as above (column j of M is zero above j: those
//!   terms are skipped) and kept as contiguous vectors. Then
//!   (A⁻¹)_ij = Σ_{k >= max(i, j)} M_ki M_kj, the inner product of columns i
//!   and j of M: a tile gives twelve entries, written to both triangles.
//!   About n³/3 multiply-adds in all.
//!
//! Append. If A = L Lᵀ and A' = [[A, a], [aᵀ, α]], then A' = L' L'ᵀ with
//! L' = [[L, 0], [lᵀ, λ]], where L l = a and λ = sqrt(α - lᵀl) (the bordering
//! method, Golub & Van Loan §4.2.8; Osborne 2010, "Bayesian Gaussian Processes
//! for Sequential Prediction, Optimisation and Quadrature", §B.1). This is the
//! row-oriented recurrence for row n, so the appended factor is the factor of
//! A' up to round-off (the two sum in different orders).
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

/// Rows of a register tile.
const TR: usize = 6;
/// Columns of a register tile.
const TC: usize = 2;
/// Rows handled together by the one-vector forward solve.
const RB: usize = 8;
/// Rows handled together by the back substitutions (the multi-row axpy).
const UB: usize = 12;

/// Two lanes of partial sums for each product of a tile.
type Lanes = [[[f64; 2]; TC]; TR];

#[inline]
fn row_start(i: usize) -> usize {
    i * (i + 1) / 2
}

/// `s[..len]` as pairs of entries.
#[inline(always)]
fn pairs(s: &[f64], len: usize) -> std::slice::ChunksExact<'_, f64> {
    s[..len].chunks_exact(2)
}

/// The `len` entries from column `from` of the given rows of the packed `l`.
#[inline(always)]
fn packed_rows<const N: usize>(
    l: &[f64],
    rows: [usize; N],
    from: usize,
    len: usize,
) -> [&[f64]; N] {
    let mut out: [&[f64]; N] = [&[]; N];
    for q in 0..N {
        out[q] = &l[row_start(rows[q]) + from..][..len];
    }
    out
}

/// Two-lane partial sums of the 6×2 inner products of `a[r][off..off + len]`
/// with `b0[..len]` and `b1[..len]` (len even), *negated*: `lanes[r][c][0] + lanes[r][c][1]`
/// is minus the product. Kept out of line: returning the lanes through
/// memory leads LLVM to vectorise along them, one `mulpd` and one `subpd`
/// per product and pair of entries, with the twelve sums in registers
/// (`subpd` rather than `addpd`, whose operands the register allocator may
/// swap, which costs a copy of every sum in every step).
#[inline(never)]
fn tile_lanes(a: &[&[f64]; TR], off: usize, b0: &[f64], b1: &[f64], len: usize) -> Lanes {
    let mut acc = [[[0.0; 2]; TC]; TR];
    let ra = |r: usize| a[r][off..][..len].chunks_exact(2);
    let it = ra(0)
        .zip(ra(1))
        .zip(ra(2))
        .zip(ra(3))
        .zip(ra(4))
        .zip(ra(5))
        .zip(pairs(b0, len))
        .zip(pairs(b1, len));
    for (((((((a0, a1), a2), a3), a4), a5), b0), b1) in it {
        let (av, bv) = ([a0, a1, a2, a3, a4, a5], [b0, b1]);
        for r in 0..TR {
            for c in 0..TC {
                acc[r][c][0] -= av[r][0] * bv[c][0];
                acc[r][c][1] -= av[r][1] * bv[c][1];
            }
        }
    }
    acc
}

/// The 6×2 inner products of `a[r][off..off + len]` with `b[c][..len]`.
#[inline(always)]
fn tile(a: &[&[f64]; TR], off: usize, b: [&[f64]; TC], len: usize) -> [[f64; TC]; TR] {
    let even = len & !1;
    let mut out = sum_lanes(&tile_lanes(a, off, b[0], b[1], even));
    if even < len {
        for r in 0..TR {
            for c in 0..TC {
                out[r][c] += a[r][off + even] * b[c][even];
            }
        }
    }
    out
}

/// The inner products of a tile from its (negated) lanes.
#[inline(always)]
fn sum_lanes(lanes: &Lanes) -> [[f64; TC]; TR] {
    let mut out = [[0.0; TC]; TR];
    for r in 0..TR {
        for c in 0..TC {
            out[r][c] = -(lanes[r][c][0] + lanes[r][c][1]);
        }
    }
    out
}

/// Two-lane partial sums of `-a[r] · x` over the first `len` (even) entries
/// (negated, as in [`tile_lanes`]).
#[inline(never)]
fn rows_dot_lanes(a: &[&[f64]; RB], x: &[f64], len: usize) -> [[f64; 2]; RB] {
    let mut acc = [[0.0; 2]; RB];
    let it = pairs(a[0], len)
        .zip(pairs(a[1], len))
        .zip(pairs(a[2], len))
        .zip(pairs(a[3], len))
        .zip(pairs(a[4], len))
        .zip(pairs(a[5], len))
        .zip(pairs(a[6], len))
        .zip(pairs(a[7], len))
        .zip(pairs(x, len));
    for ((((((((a0, a1), a2), a3), a4), a5), a6), a7), xv) in it {
        let av = [a0, a1, a2, a3, a4, a5, a6, a7];
        for r in 0..RB {
            acc[r][0] -= av[r][0] * xv[0];
            acc[r][1] -= av[r][1] * xv[1];
        }
    }
    acc
}

/// The eight inner products `a[r][..x.len()] · x`.
#[inline(always)]
fn rows_dot(a: [&[f64]; RB], x: &[f64]) -> [f64; RB] {
    let len = x.len();
    let even = len & !1;
    let lanes = rows_dot_lanes(&a, x, even);
    let mut out = [0.0; RB];
    for r in 0..RB {
        out[r] = -(lanes[r][0] + lanes[r][1]);
        if even < len {
            out[r] += a[r][even] * x[even];
        }
    }
    out
}

/// y -= Σ_q c_q x_q, every x_q at least as long as y.
#[inline]
fn sub_rows(y: &mut [f64], c: [f64; UB], x: [&[f64]; UB]) {
    let len = y.len();
    let x = x.map(|r| &r[..len]);
    for j in 0..len {
        let mut s = c[0] * x[0][j];
        for q in 1..UB {
            s += c[q] * x[q][j];
        }
        y[j] -= s;
    }
}

/// [start, end) cut into blocks of `size`, the shorter one (if any) last, so
/// that the blocks start at start + a multiple of `size`.
fn blocks(start: usize, end: usize, size: usize) -> impl Iterator<Item = (usize, usize)> {
    (start..end)
        .step_by(size)
        .map(move |b| (b, (b + size).min(end)))
}

/// Indices b, b + 1, ..., e - 1 (e > b), the last one repeated to fill N.
#[inline(always)]
fn padded<const N: usize>(b: usize, e: usize) -> [usize; N] {
    let mut out = [0; N];
    for q in 0..N {
        out[q] = (b + q).min(e - 1);
    }
    out
}

/// The diagonal block of rows [i0, i0 + h) of the packed `l`, each entry
/// twice (for the two columns of [`block_forward`]):
/// `t[q][k]` = L_{i0+q, i0+k} for k <= q < h, zero elsewhere.
#[inline(always)]
fn diagonal_block(l: &[f64], i0: usize, h: usize) -> [[[f64; TC]; TR]; TR] {
    let mut t = [[[0.0; TC]; TR]; TR];
    for q in 0..h.min(TR) {
        let row = &l[row_start(i0 + q) + i0..][..=q];
        for k in 0..=q {
            t[q][k] = [row[k]; TC];
        }
    }
    t
}

/// Forward substitution inside a diagonal block, for the first h rows and w
/// columns of `y` (right-hand sides on entry, solutions on return).
#[inline(always)]
fn block_forward(y: &mut [[f64; TC]; TR], t: &[[[f64; TC]; TR]; TR], h: usize, w: usize) {
    for q in 0..h.min(TR) {
        for c in 0..w.min(TC) {
            let mut v = y[q][c];
            for k in 0..q {
                v -= t[q][k][c] * y[k][c];
            }
            y[q][c] = v / t[q][q][c];
        }
    }
}

/// Appends rows [0, h) of each column c < w of `y` to `cols[c]`.
#[inline(always)]
fn push_columns(cols: &mut [Vec<f64>], y: &[[f64; TC]; TR], h: usize, w: usize) {
    let (h, w) = (h.min(TR), w.min(TC));
    let mut yt = [[0.0; TR]; TC];
    for q in 0..h {
        for c in 0..w {
            yt[c][q] = y[q][c];
        }
    }
    for (col, yc) in cols[..w].iter_mut().zip(&yt) {
        col.extend_from_slice(&yc[..h]);
    }
}

/// Reverses the order of the rows (of m entries) of `b`.
fn reverse_rows(b: &mut [f64], m: usize) {
    let n = b.len() / m;
    let (top, bottom) = b.split_at_mut(n / 2 * m);
    let bottom = &mut bottom[(n % 2) * m..];
    for (r, s) in top
        .chunks_exact_mut(m)
        .zip(bottom.chunks_exact_mut(m).rev())
    {
        r.swap_with_slice(s);
    }
}

/// Inner product with four accumulators (lets the compiler vectorise).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for k in n - n % 4..n {
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

    /// Factor of a + shift·I (blocked Banachiewicz, see the module docs).
    fn factor_shifted(a: &[f64], n: usize, shift: f64) -> Result<Self> {
        if a.len() != n * n {
            return Err(Error::InvalidArgument(format!(
                "matrix has {} entries, expected {n}x{n}",
                a.len()
            )));
        }
        // Every entry is written below (see `gram` on why not zeros).
        let mut l = vec![f64::NAN; row_start(n)];
        for (i0, i1) in blocks(0, n, TR) {
            let rows = padded::<TR>(i0, i1);
            for (j0, j1) in blocks(0, i1, TC) {
                // s[r][c] = Σ_{k<j0} L_ik L_jk for i = i0 + r, j = j0 + c.
                let s = if j0 == 0 {
                    [[0.0; TC]; TR]
                } else {
                    let b = packed_rows(&l, padded(j0, j1), 0, j0);
                    tile(&packed_rows(&l, rows, 0, j0), 0, b, j0)
                };
                for j in j0..j1 {
                    let rj = row_start(j);
                    for i in j.max(i0)..i1 {
                        let aij = a[i * n + j];
                        if !aij.is_finite() {
                            return Err(Error::InvalidArgument(format!(
                                "matrix entry ({i}, {j}) is not finite"
                            )));
                        }
                        let ri = row_start(i);
                        let mut v = aij - s[i - i0][j - j0];
                        for k in j0..j {
                            v -= l[ri + k] * l[rj + k];
                        }
                        if j < i {
                            l[ri + j] = v / l[rj + j];
                        } else {
                            let p = v + shift;
                            if !(p > 0.0 && p.is_finite()) {
                                return Err(not_pd(i, p));
                            }
                            l[ri + i] = p.sqrt();
                        }
                    }
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
        for (i0, i1) in blocks(0, self.n, RB) {
            // s[r] = Σ_{k<i0} L_ik y_k for i = i0 + r.
            let s = if i0 == 0 {
                [0.0; RB]
            } else {
                rows_dot(packed_rows(&self.l, padded(i0, i1), 0, i0), &b[..i0])
            };
            let bb = &mut b[i0..i1];
            for (q, i) in (i0..i1).enumerate() {
                let r = &self.row(i)[i0..];
                let v = r[..q]
                    .iter()
                    .zip(bb.iter())
                    .fold(bb[q] - s[q], |v, (l, y)| v - l * y);
                bb[q] = v / r[q];
            }
        }
        Ok(())
    }

    /// Solves Lᵀ x = b in place (back substitution, column-oriented so that
    /// it reads rows of L).
    pub fn solve_upper_in_place(&self, b: &mut [f64]) -> Result<()> {
        self.check_len(b.len())?;
        let mut i1 = self.n;
        while i1 > 0 {
            let i0 = i1.saturating_sub(UB);
            let rows: [&[f64]; UB] = std::array::from_fn(|q| self.row((i0 + q).min(i1 - 1)));
            // The block's own triangle, on a copy of its part of b.
            let h = i1 - i0;
            let mut x = [0.0; UB];
            x[..h].copy_from_slice(&b[i0..i1]);
            for q in (0..h).rev() {
                let r = &rows[q][i0..];
                x[q] /= r[q];
                for k in 0..q {
                    x[k] -= r[k] * x[q];
                }
            }
            b[i0..i1].copy_from_slice(&x[..h]);
            if i0 > 0 {
                // A full block (only the first one can be short).
                sub_rows(&mut b[..i0], x, rows);
            }
            i1 = i0;
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
        let n = self.n;
        if b.len() != n * m {
            return Err(Error::InvalidArgument("right-hand side shape".into()));
        }
        if m == 0 {
            return Ok(());
        }
        if m == 1 {
            // One column: the one-vector solve (a tile would pad it).
            return self.solve_lower_in_place(b);
        }
        // The columns of Y, each contiguous for the tiles, filled as they are
        // solved (pushed: no zeroing).
        let mut cols: Vec<Vec<f64>> = (0..m).map(|_| Vec::with_capacity(n)).collect();
        for (i0, i1) in blocks(0, n, TR) {
            let h = i1 - i0;
            let rows = packed_rows(&self.l, padded(i0, i1), 0, i0);
            let t = diagonal_block(&self.l, i0, h);
            // The block's rows of B.
            let mut it = b[i0 * m..i1 * m].chunks_exact_mut(m);
            let mut brows: [&mut [f64]; TR] = Default::default();
            for br in brows.iter_mut() {
                *br = it.next().unwrap_or_default();
            }
            for (c0, c1) in blocks(0, m, TC) {
                let w = c1 - c0;
                // s[r][c] = Σ_{k<i0} L_ik Y_kc for i = i0 + r, c = c0 + c
                // (i0 is even).
                let lanes = if i0 == 0 {
                    [[[0.0; 2]; TC]; TR]
                } else {
                    tile_lanes(&rows, 0, &cols[c0], &cols[c1 - 1], i0)
                };
                let mut y = [[0.0; TC]; TR];
                // Full blocks get a copy of the code with constant sizes.
                if h == TR && w == TC {
                    Self::lower_block(&mut brows, &lanes, &t, &mut y, TR, c0, TC);
                    push_columns(&mut cols[c0..c1], &y, TR, TC);
                } else {
                    Self::lower_block(&mut brows, &lanes, &t, &mut y, h, c0, w);
                    push_columns(&mut cols[c0..c1], &y, h, w);
                }
            }
        }
        Ok(())
    }

    /// Rows [0, h) of columns [c0, c0 + w) of a block of rows of Y (in `y`
    /// and back in the rows `brows` of B), given the (negated) lanes of the
    /// sums over the rows before and the diagonal block `t`.
    #[inline(always)]
    fn lower_block(
        brows: &mut [&mut [f64]; TR],
        lanes: &Lanes,
        t: &[[[f64; TC]; TR]; TR],
        y: &mut [[f64; TC]; TR],
        h: usize,
        c0: usize,
        w: usize,
    ) {
        let (h, w) = (h.min(TR), w.min(TC));
        for q in 0..h {
            let bq = &brows[q][c0..c0 + w];
            for c in 0..w {
                y[q][c] = bq[c] + (lanes[q][c][0] + lanes[q][c][1]);
            }
        }
        block_forward(y, t, h, w);
        for q in 0..h {
            brows[q][c0..c0 + w].copy_from_slice(&y[q][..w]);
        }
    }

    /// Solves Lᵀ X = B in place for an n×m row-major B: with the order of
    /// the rows reversed, Lᵀ is the lower triangular L'_ij = L_{n-1-j, n-1-i}
    /// and the solve a forward substitution, done as in
    /// [`Self::solve_lower_matrix`] (L' costs n²/2 copies).
    pub fn solve_upper_matrix(&self, b: &mut [f64], m: usize) -> Result<()> {
        let n = self.n;
        if b.len() != n * m {
            return Err(Error::InvalidArgument("right-hand side shape".into()));
        }
        if m == 0 || n == 0 {
            return Ok(());
        }
        if m == 1 {
            return self.solve_upper_in_place(b);
        }
        // Row i of L' is column n-1-i of L from the bottom up: entries
        // row_start(r) + n-1-i for r = n-1, n-2, ..., n-1-i.
        let mut l = Vec::with_capacity(row_start(n));
        for i in 0..n {
            let mut at = row_start(n - 1) + n - 1 - i;
            for r in (n - 1 - i..n).rev() {
                l.push(self.l[at]);
                at = at.wrapping_sub(r);
            }
        }
        let reversed = Cholesky {
            n,
            l,
            jitter: self.jitter,
        };
        reverse_rows(b, m);
        reversed.solve_lower_matrix(b, m)?;
        reverse_rows(b, m);
        Ok(())
    }

    /// log det A = 2 Σ_i log L_ii.
    pub fn log_det(&self) -> f64 {
        2.0 * (0..self.n).map(|i| self.row(i)[i].ln()).sum::<f64>()
    }

    /// A⁻¹ as a dense n×n row-major matrix: the columns of L⁻¹, then
    /// A⁻¹ = L⁻ᵀ L⁻¹ (about n³/3 multiply-adds; see the module docs).
    pub fn inverse(&self) -> Vec<f64> {
        let (base, cols) = self.inverse_columns();
        Self::gram(&base, &cols)
    }

    /// The columns of M = L⁻¹: `cols[c]` is column c from row `base[c]` on.
    #[inline(never)]
    fn inverse_columns(&self) -> (Vec<usize>, Vec<Vec<f64>>) {
        let n = self.n;
        // cols[c] is column c of M = L⁻¹ from row base[c] on: a zero one row
        // before the start of the block of c (see gram), then the block's
        // rows (zero above c) and the rest.
        let base: Vec<usize> = (0..n).map(|c| (c - c % TR).saturating_sub(1)).collect();
        let mut cols: Vec<Vec<f64>> = (0..n)
            .map(|c| {
                let mut v = Vec::with_capacity(n - base[c]);
                if c >= TR {
                    v.push(0.0);
                }
                v
            })
            .collect();
        for (i0, i1) in blocks(0, n, TR) {
            let h = i1 - i0;
            let rows = packed_rows(&self.l, padded(i0, i1), 0, i0);
            let t = diagonal_block(&self.l, i0, h);
            // Pairs of columns c0, c0 + 1 < i0: zero above c0, so the sums
            // start there (c0 and i0 are even: an even length), and the
            // identity is zero in these rows: y = -L_II⁻¹ s.
            for c0 in (0..i0).step_by(TC) {
                let (len, off) = (i0 - c0, c0 - base[c0]);
                let lanes = tile_lanes(&rows, c0, &cols[c0][off..], &cols[c0 + 1][off..], len);
                let mut y = [[0.0; TC]; TR];
                for q in 0..TR {
                    for c in 0..TC {
                        y[q][c] = lanes[q][c][0] + lanes[q][c][1];
                    }
                }
                let cs = &mut cols[c0..c0 + TC];
                if h == TR {
                    block_forward(&mut y, &t, TR, TC);
                    push_columns(cs, &y, TR, TC);
                } else {
                    block_forward(&mut y, &t, h, TC);
                    push_columns(cs, &y, h, TC);
                }
            }
            // The block's own columns (those after are zero in these rows).
            for (c0, c1) in blocks(i0, i1, TC) {
                let w = c1 - c0;
                let mut y = [[0.0; TC]; TR];
                for q in 0..h {
                    for c in 0..w {
                        y[q][c] = if i0 + q == c0 + c { 1.0 } else { 0.0 };
                    }
                }
                block_forward(&mut y, &t, h, w);
                push_columns(&mut cols[c0..c1], &y, h, w);
            }
        }
        (base, cols)
    }

    /// MᵀM, for the columns of M from [`Self::inverse_columns`].
    #[inline(never)]
    fn gram(base: &[usize], cols: &[Vec<f64>]) -> Vec<f64> {
        let n = cols.len();
        // (A⁻¹)_ij = Σ_k M_ki M_kj over k >= max(i, j), the inner product of
        // columns i and j of M from any k0 <= max(i, j), as both are zero
        // above their index. With k0 <= i0 every entry of a tile is right,
        // above the diagonal too; k0 = i0 - 1 when that makes the length
        // even (the zero kept before each block).
        // Every entry is written below, so the output needs no zeroing; it is
        // filled with NaN instead, which is no byte pattern: a plain vector
        // loop rather than a memset (whose `rep stosb` costs an instruction a
        // byte), and any entry left unwritten would show.
        let mut out = vec![f64::NAN; n * n];
        // blk[j][q] = (A⁻¹)_{i0+q, j} for the current block of rows.
        let mut blk = vec![[0.0; TR]; n];
        for (i0, i1) in blocks(0, n, TR) {
            let h = i1 - i0;
            let k0 = i0 - ((n - i0) % 2).min(i0);
            let len = n - k0;
            let col = |c: usize| &cols[c][k0 - base[c]..][..len];
            let mut a: [&[f64]; TR] = [&[]; TR];
            for (r, i) in padded::<TR>(i0, i1).into_iter().enumerate() {
                a[r] = col(i);
            }
            for (j0, j1) in blocks(0, i1, TC) {
                let v = tile(&a, 0, [col(j0), col(j1 - 1)], len);
                for (c, bj) in blk[j0..j1].iter_mut().enumerate() {
                    for q in 0..TR {
                        bj[q] = v[q][c];
                    }
                }
            }
            // Rows i0.. left of the block's end, and their mirror image.
            for (q, row) in out[i0 * n..i1 * n].chunks_exact_mut(n).enumerate() {
                for (o, bj) in row[..i1].iter_mut().zip(&blk[..i1]) {
                    *o = bj[q];
                }
            }
            if h == TR {
                for (j, bj) in blk[..i0].iter().enumerate() {
                    out[j * n + i0..][..TR].copy_from_slice(bj);
                }
            } else {
                for (j, bj) in blk[..i0].iter().enumerate() {
                    out[j * n + i0..][..h].copy_from_slice(&bj[..h]);
                }
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

    // The textbook versions every routine is compared with.
    use super::super::reference::{
        backward as naive_upper, forward as naive_lower, inverse as naive_inverse,
    };

    fn naive_factor(a: &[f64], n: usize) -> Vec<f64> {
        super::super::reference::cholesky(a, n).expect("positive definite")
    }

    /// max |got - want| <= tol · max |want| (and the same length).
    fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        let scale = want.iter().fold(0f64, |s, v| s.max(v.abs())).max(1e-300);
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= tol * scale,
                "{what}: entry {k} is {g}, expected {w} (scale {scale})"
            );
        }
    }

    fn random(len: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..len).map(|_| rng.uniform_in(-1.0, 1.0)).collect()
    }

    const SIZES: [usize; 12] = [1, 2, 3, 4, 5, 8, 9, 17, 64, 67, 100, 130];

    #[test]
    fn factor_matches_the_textbook_recurrence() {
        for (s, &n) in SIZES.iter().enumerate() {
            let a = spd(n, 10 + s as u64);
            let want = naive_factor(&a, n);
            let c = Cholesky::factor(&a, n).unwrap();
            assert_close(&c.to_dense(), &want, 1e-10, &format!("factor n={n}"));
            // The upper triangle of the input is not read.
            let mut lower = a.clone();
            for i in 0..n {
                for j in i + 1..n {
                    lower[i * n + j] = f64::NAN;
                }
            }
            assert_eq!(Cholesky::factor(&lower, n).unwrap(), c, "n={n}");
            // A shifted matrix factors as A + shift·I.
            let mut shifted = a.clone();
            for i in 0..n {
                shifted[i * n + i] += 0.5;
            }
            let c = Cholesky::factor_shifted(&a, n, 0.5).unwrap();
            assert_close(&c.to_dense(), &naive_factor(&shifted, n), 1e-10, "shift");
        }
    }

    #[test]
    fn factor_reports_the_failing_pivot_and_entry() {
        // Positive definite up to row 6 of 11, then a pivot of -1.
        let n = 11;
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            a[i * n + i] = if i == 6 { -1.0 } else { 2.0 };
        }
        let e = Cholesky::factor(&a, n).unwrap_err().to_string();
        assert!(e.contains("pivot 6"), "{e}");
        let mut a = spd(n, 30);
        a[9 * n + 4] = f64::INFINITY;
        let e = Cholesky::factor(&a, n).unwrap_err().to_string();
        assert!(e.contains("(9, 4)"), "{e}");
    }

    #[test]
    fn vector_solves_match_the_textbook_ones() {
        for (s, &n) in SIZES.iter().enumerate() {
            let a = spd(n, 40 + s as u64);
            let c = Cholesky::factor(&a, n).unwrap();
            let l = c.to_dense();
            let b = random(n, 50 + s as u64);
            let mut y = b.clone();
            c.solve_lower_in_place(&mut y).unwrap();
            assert_close(
                &y,
                &naive_lower(&l, n, &b, 1),
                1e-10,
                &format!("lower n={n}"),
            );
            let mut x = b.clone();
            c.solve_upper_in_place(&mut x).unwrap();
            assert_close(
                &x,
                &naive_upper(&l, n, &b, 1),
                1e-10,
                &format!("upper n={n}"),
            );
            let want = naive_upper(&l, n, &naive_lower(&l, n, &b, 1), 1);
            assert_close(&c.solve(&b).unwrap(), &want, 1e-10, "solve");
        }
    }

    #[test]
    fn matrix_solves_match_the_textbook_ones() {
        for (s, &n) in SIZES.iter().enumerate() {
            let a = spd(n, 60 + s as u64);
            let c = Cholesky::factor(&a, n).unwrap();
            let l = c.to_dense();
            for m in [1, 2, 3, 4, 64, 70] {
                let b = random(n * m, 70 + (s * 100 + m) as u64);
                let what = format!("n={n} m={m}");
                let mut y = b.clone();
                c.solve_lower_matrix(&mut y, m).unwrap();
                assert_close(&y, &naive_lower(&l, n, &b, m), 1e-10, &what);
                let mut x = b.clone();
                c.solve_upper_matrix(&mut x, m).unwrap();
                assert_close(&x, &naive_upper(&l, n, &b, m), 1e-10, &what);
            }
            let mut none: Vec<f64> = vec![];
            c.solve_lower_matrix(&mut none, 0).unwrap();
            c.solve_upper_matrix(&mut none, 0).unwrap();
            let mut short = vec![0.0; n * 2 + 1];
            assert!(c.solve_lower_matrix(&mut short, 2).is_err());
            assert!(c.solve_upper_matrix(&mut short, 2).is_err());
        }
    }

    #[test]
    fn inverse_matches_the_textbook_one() {
        for (s, &n) in SIZES.iter().enumerate() {
            let a = spd(n, 80 + s as u64);
            let c = Cholesky::factor(&a, n).unwrap();
            let inv = c.inverse();
            assert_close(
                &inv,
                &naive_inverse(&c.to_dense(), n),
                1e-10,
                &format!("n={n}"),
            );
            // Exactly symmetric.
            for i in 0..n {
                for j in 0..i {
                    assert_eq!(inv[i * n + j], inv[j * n + i]);
                }
            }
        }
        assert!(Cholesky::factor(&[], 0).unwrap().inverse().is_empty());
    }

    #[test]
    fn appends_across_block_boundaries_match_a_refactorisation() {
        let n = 40;
        let a = spd(n, 90);
        let mut c = Cholesky::factor(&a[..1], 1).unwrap();
        for k in 1..n {
            let col: Vec<f64> = (0..k).map(|j| a[k * n + j]).collect();
            c.append(&col, a[k * n + k]).unwrap();
        }
        let full = Cholesky::factor(&a, n).unwrap();
        assert_close(&c.to_dense(), &full.to_dense(), 1e-12, "appended");
        assert_close(&c.to_dense(), &naive_factor(&a, n), 1e-12, "naive");
    }
}
