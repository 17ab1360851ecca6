//! Eigendecomposition of a symmetric matrix by the cyclic Jacobi method
//! (Golub & Van Loan, Matrix Computations, 4th ed., Algorithm 8.5.3, with
//! the stable rotation of Algorithm 8.5.1): CMA-ES needs C = B D² Bᵀ once a
//! generation (tutorial, eq. 14-15), for dimensions of a few dozen, where
//! Jacobi is accurate (small eigenvalues to high relative accuracy) and short.
//! Above [`JACOBI_MAX`] dimensions its sweeps (each ~n³ flops through
//! strided columns) took over a minute at n = 1,000: there the matrix is
//! reduced to tridiagonal form by Householder reflections and diagonalised
//! by the implicit QL method (Golub & Van Loan, sections 8.3.1 and 8.3.5).

/// Eigenvalues `w` and orthonormal eigenvectors `b` (column `k` is
/// `b[i * n + k]`, row-major) of the symmetric `n`×`n` matrix `a` (row-major;
/// only its symmetric part is used), so that `a = b diag(w) bᵀ`.
pub fn sym_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    if n > JACOBI_MAX {
        return householder_ql(a, n);
    }
    let mut m: Vec<f64> = (0..n * n)
        .map(|k| 0.5 * (a[k] + a[(k % n) * n + k / n]))
        .collect();
    let mut b = vec![0.0; n * n];
    for i in 0..n {
        b[i * n + i] = 1.0;
    }
    let scale: f64 = m.iter().map(|v| v * v).sum::<f64>().sqrt();
    for _sweep in 0..64 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * scale || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                rotate(&mut m, &mut b, n, p, q);
            }
        }
    }
    ((0..n).map(|i| m[i * n + i]).collect(), b)
}

/// [`sym_eigen`] of `a` started from `b0`, the orthonormal eigenvectors of a
/// nearby matrix (the covariance before the last update): Jacobi runs on
/// `b0ᵀ a b0`, nearly diagonal, and needs a sweep or two instead of several
/// (Golub & Van Loan, section 8.5.5, on Jacobi's quadratic convergence from
/// a nearly diagonal start); the eigenvectors are `b0` times its rotations.
pub fn sym_eigen_from(a: &[f64], n: usize, b0: &[f64]) -> (Vec<f64>, Vec<f64>) {
    if n > JACOBI_MAX {
        return householder_ql(a, n);
    }
    // t = a b0, then m = b0ᵀ t.
    let mut t = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            if aik != 0.0 {
                for j in 0..n {
                    t[i * n + j] += aik * b0[k * n + j];
                }
            }
        }
    }
    let mut m = vec![0.0; n * n];
    for k in 0..n {
        for i in 0..n {
            let bki = b0[k * n + i];
            for j in 0..n {
                m[i * n + j] += bki * t[k * n + j];
            }
        }
    }
    let (w, v) = sym_eigen(&m, n);
    let mut b = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let bik = b0[i * n + k];
            for j in 0..n {
                b[i * n + j] += bik * v[k * n + j];
            }
        }
    }
    (w, b)
}

/// The largest dimension decomposed by Jacobi sweeps (see the module notes).
pub const JACOBI_MAX: usize = 64;

/// [`sym_eigen`] for larger matrices: Householder tridiagonalisation, then
/// QL iterations with implicit Wilkinson shifts on the tridiagonal matrix,
/// the rotations accumulated into the Householder basis. The basis is kept
/// transposed (row `k` holds eigenvector `k`) so every update runs along
/// contiguous rows.
fn householder_ql(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m: Vec<f64> = (0..n * n)
        .map(|k| 0.5 * (a[k] + a[(k % n) * n + k / n]))
        .collect();
    // Reflections H_k = I - 2 v vᵀ, v zero above row k + 1, one per column.
    let mut reflections: Vec<(usize, Vec<f64>)> = Vec::with_capacity(n);
    let mut p = vec![0.0; n];
    for k in 0..n.saturating_sub(2) {
        let lo = k + 1;
        // The column scaled by its largest entry before squaring (as LAPACK's
        // dlarfg): tiny entries would square to subnormals, huge ones overflow.
        let big = (lo..n).map(|i| m[i * n + k].abs()).fold(0.0, f64::max);
        if big == 0.0 || !big.is_finite() {
            continue;
        }
        let mut v: Vec<f64> = (lo..n).map(|i| m[i * n + k] / big).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let alpha_scaled = if v[0] > 0.0 { -norm } else { norm };
        let alpha = alpha_scaled * big;
        v[0] -= alpha_scaled;
        let vn = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if vn == 0.0 {
            continue;
        }
        v.iter_mut().for_each(|x| *x /= vn);
        // Trailing block S <- H S H = S - 2 (v qᵀ + q vᵀ), p = S v, q = p - (vᵀp) v.
        for (pi, i) in p[lo..n].iter_mut().zip(lo..n) {
            *pi = m[i * n + lo..i * n + n]
                .iter()
                .zip(&v)
                .map(|(x, y)| x * y)
                .sum();
        }
        let vp: f64 = v.iter().zip(&p[lo..n]).map(|(x, y)| x * y).sum();
        for (j, vj) in v.iter().enumerate() {
            p[lo + j] -= vp * vj;
        }
        for (ii, i) in (lo..n).enumerate() {
            let (vi, qi) = (v[ii], p[i]);
            let row = &mut m[i * n + lo..i * n + n];
            for (jj, x) in row.iter_mut().enumerate() {
                *x -= 2.0 * (vi * p[lo + jj] + qi * v[jj]);
            }
        }
        // Column and row k: alpha below the diagonal, zeros under it.
        for i in lo..n {
            m[i * n + k] = 0.0;
            m[k * n + i] = 0.0;
        }
        m[lo * n + k] = alpha;
        m[k * n + lo] = alpha;
        reflections.push((lo, v));
    }
    let mut d: Vec<f64> = (0..n).map(|i| m[i * n + i]).collect();
    // e[i] couples rows i and i + 1.
    let mut e: Vec<f64> = (0..n)
        .map(|i| if i + 1 < n { m[(i + 1) * n + i] } else { 0.0 })
        .collect();
    // qt = Qᵀ for Q = H_0 H_1 ...: from I, qt <- qt H_k for k from the last
    // reflection to the first (qt H_k = (H_k Q)ᵀ). Row c of qt is column c of
    // Q, the basis the QL rotations turn.
    let mut qt = vec![0.0; n * n];
    for i in 0..n {
        qt[i * n + i] = 1.0;
    }
    for (lo, v) in reflections.iter().rev() {
        for r in 0..n {
            let row = &mut qt[r * n + lo..r * n + n];
            let dot: f64 = row.iter().zip(v).map(|(x, y)| x * y).sum();
            for (x, y) in row.iter_mut().zip(v) {
                *x -= 2.0 * dot * y;
            }
        }
    }
    for l in 0..n {
        for _iteration in 0..64 {
            let mut mm = l;
            while mm + 1 < n {
                let dd = d[mm].abs() + d[mm + 1].abs();
                if e[mm].abs() <= f64::EPSILON * dd {
                    break;
                }
                mm += 1;
            }
            if mm == l {
                break;
            }
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[mm] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut shift) = (1.0, 1.0, 0.0);
            let mut underflow = false;
            for i in (l..mm).rev() {
                let f = s * e[i];
                let b = c * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= shift;
                    e[mm] = 0.0;
                    underflow = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - shift;
                r = (d[i] - g) * s + 2.0 * c * b;
                shift = s * r;
                d[i + 1] = g + shift;
                g = c * r - b;
                // Columns i and i + 1 of the basis: rows i and i + 1 of qt.
                let (head, tail) = qt.split_at_mut((i + 1) * n);
                let (ri, rj) = (&mut head[i * n..], &mut tail[..n]);
                for (x, y) in ri.iter_mut().zip(rj.iter_mut()) {
                    let (xi, yj) = (*x, *y);
                    *y = s * xi + c * yj;
                    *x = c * xi - s * yj;
                }
            }
            if underflow {
                continue;
            }
            d[l] -= shift;
            e[l] = g;
            e[mm] = 0.0;
        }
    }
    // b[i][k] = component i of eigenvector k = qt[k][i].
    let mut b = vec![0.0; n * n];
    for k in 0..n {
        for i in 0..n {
            b[i * n + k] = qt[k * n + i];
        }
    }
    (d, b)
}

/// One Jacobi rotation zeroing `m[p][q]` (Golub & Van Loan, Alg. 8.5.1),
/// accumulated into the eigenvectors `b`.
fn rotate(m: &mut [f64], b: &mut [f64], n: usize, p: usize, q: usize) {
    let apq = m[p * n + q];
    if apq == 0.0 {
        return;
    }
    let tau = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
    let t = if tau >= 0.0 {
        1.0 / (tau + (1.0 + tau * tau).sqrt())
    } else {
        -1.0 / (-tau + (1.0 + tau * tau).sqrt())
    };
    let c = 1.0 / (1.0 + t * t).sqrt();
    let s = t * c;
    for k in 0..n {
        let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
        m[k * n + p] = c * mkp - s * mkq;
        m[k * n + q] = s * mkp + c * mkq;
    }
    for k in 0..n {
        let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
        m[p * n + k] = c * mpk - s * mqk;
        m[q * n + k] = s * mpk + c * mqk;
    }
    for k in 0..n {
        let (bkp, bkq) = (b[k * n + p], b[k * n + q]);
        b[k * n + p] = c * bkp - s * bkq;
        b[k * n + q] = s * bkp + c * bkq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random_spd(rng: &mut Rng, n: usize) -> Vec<f64> {
        let g: Vec<f64> = (0..n * n).map(|_| rng.uniform() - 0.5).collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n).map(|k| g[i * n + k] * g[j * n + k]).sum::<f64>();
            }
            a[i * n + i] += 1e-3;
        }
        a
    }

    #[test]
    fn reconstructs_random_symmetric_matrices_with_orthonormal_vectors() {
        let mut rng = Rng::new(3);
        for n in [1, 2, 3, 7, 20] {
            let a = random_spd(&mut rng, n);
            let (w, b) = sym_eigen(&a, n);
            for i in 0..n {
                for j in 0..n {
                    // B diag(w) Bᵀ = A and Bᵀ B = I.
                    let r: f64 = (0..n).map(|k| b[i * n + k] * w[k] * b[j * n + k]).sum();
                    assert!((r - a[i * n + j]).abs() < 1e-10, "n={n} ({i},{j})");
                    let o: f64 = (0..n).map(|k| b[k * n + i] * b[k * n + j]).sum();
                    assert!((o - f64::from(u8::from(i == j))).abs() < 1e-12);
                }
            }
            assert!(w.iter().all(|&x| x > 0.0));
        }
    }

    #[test]
    fn a_warm_start_gives_the_same_decomposition() {
        let mut rng = Rng::new(9);
        for n in [1, 2, 5, 20] {
            let a = random_spd(&mut rng, n);
            let (_, b0) = sym_eigen(&a, n);
            // A nearby matrix, as after one covariance update.
            let mut a2 = a.clone();
            for i in 0..n {
                for j in 0..n {
                    a2[i * n + j] +=
                        0.01 * (1.0 + (i + j) as f64).sin() + 0.02 * f64::from(u8::from(i == j));
                }
            }
            let (w, b) = sym_eigen_from(&a2, n, &b0);
            for i in 0..n {
                for j in 0..n {
                    let r: f64 = (0..n).map(|k| b[i * n + k] * w[k] * b[j * n + k]).sum();
                    let want = 0.5 * (a2[i * n + j] + a2[j * n + i]);
                    assert!((r - want).abs() < 1e-10, "n={n} ({i},{j})");
                    let o: f64 = (0..n).map(|k| b[k * n + i] * b[k * n + j]).sum();
                    assert!((o - f64::from(u8::from(i == j))).abs() < 1e-12);
                }
            }
            let (mut w_cold, _) = sym_eigen(&a2, n);
            let mut w_warm = w.clone();
            w_cold.sort_by(f64::total_cmp);
            w_warm.sort_by(f64::total_cmp);
            for (x, y) in w_cold.iter().zip(&w_warm) {
                assert!((x - y).abs() < 1e-10 * (1.0 + x.abs()));
            }
        }
    }

    #[test]
    fn householder_ql_reconstructs_large_matrices() {
        let mut rng = Rng::new(5);
        for n in [JACOBI_MAX + 1, 90, 130] {
            let mut a = random_spd(&mut rng, n);
            // An ill-conditioned direction, as CMA-ES meets late in a run.
            for i in 0..n {
                a[i * n + i] += if i % 17 == 0 { 1e4 } else { 0.0 };
            }
            let (w, b) = sym_eigen(&a, n);
            let mut worst = 0.0f64;
            for i in 0..n {
                for j in 0..n {
                    let r: f64 = (0..n).map(|k| b[i * n + k] * w[k] * b[j * n + k]).sum();
                    worst = worst.max((r - a[i * n + j]).abs());
                    let o: f64 = (0..n).map(|k| b[k * n + i] * b[k * n + j]).sum();
                    assert!((o - f64::from(u8::from(i == j))).abs() < 1e-10, "n={n}");
                }
            }
            assert!(worst < 1e-8 * 1e4, "n={n}: {worst}");
            // The same spectrum as Jacobi's on this matrix.
            let mut jac = {
                let mut m = a.clone();
                let mut bb = vec![0.0; n * n];
                for i in 0..n {
                    bb[i * n + i] = 1.0;
                }
                for _ in 0..64 {
                    for p in 0..n {
                        for q in p + 1..n {
                            rotate(&mut m, &mut bb, n, p, q);
                        }
                    }
                }
                (0..n).map(|i| m[i * n + i]).collect::<Vec<f64>>()
            };
            let mut ql = w.clone();
            jac.sort_by(f64::total_cmp);
            ql.sort_by(f64::total_cmp);
            for (x, y) in jac.iter().zip(&ql) {
                assert!((x - y).abs() < 1e-8 * (1.0 + x.abs()), "n={n}: {x} {y}");
            }
        }
        // Entries whose squares are subnormal: scaled before the norm.
        let n = 70;
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            a[i * n + i] = 1.0 + i as f64;
            for j in 1..4 {
                if i + j < n {
                    a[i * n + i + j] = 0.3;
                    a[(i + j) * n + i] = 0.3;
                }
            }
        }
        for j in [5, 9, 13] {
            a[j * n] = 1e-160;
            a[j] = 1e-160;
        }
        let (w, b) = sym_eigen(&a, n);
        for i in 0..n {
            for j in 0..n {
                let r: f64 = (0..n).map(|k| b[i * n + k] * w[k] * b[j * n + k]).sum();
                assert!((r - a[i * n + j]).abs() < 1e-10, "({i},{j}) {r}");
            }
        }
        // Diagonal and 1x1 edge cases.
        let (w, b) = householder_ql(&[3.0], 1);
        assert_eq!((w, b), (vec![3.0], vec![1.0]));
        let (mut w, _) = householder_ql(&[2.0, 1.0, 1.0, 2.0], 2);
        w.sort_by(f64::total_cmp);
        assert!((w[0] - 1.0).abs() < 1e-14 && (w[1] - 3.0).abs() < 1e-14);
    }

    #[test]
    fn known_two_by_two() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let (mut w, _) = sym_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        w.sort_by(f64::total_cmp);
        assert!((w[0] - 1.0).abs() < 1e-14 && (w[1] - 3.0).abs() < 1e-14);
    }
}
