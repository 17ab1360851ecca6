//! Eigendecomposition of a symmetric matrix by the cyclic Jacobi method
//! (Golub & Van Loan, Matrix Computations, 4th ed., Algorithm 8.5.3, with
//! the stable rotation of Algorithm 8.5.1): CMA-ES needs C = B D² Bᵀ once a
//! generation (tutorial, eq. 14-15), for dimensions of a few dozen, where
//! Jacobi is accurate (small eigenvalues to high relative accuracy) and short.

/// Eigenvalues `w` and orthonormal eigenvectors `b` (column `k` is
/// `b[i * n + k]`, row-major) of the symmetric `n`×`n` matrix `a` (row-major;
/// only its symmetric part is used), so that `a = b diag(w) bᵀ`.
pub fn sym_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
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
    fn known_two_by_two() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let (mut w, _) = sym_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        w.sort_by(f64::total_cmp);
        assert!((w[0] - 1.0).abs() < 1e-14 && (w[1] - 3.0).abs() < 1e-14);
    }
}
