//! The fast routines against the textbook ones of [`super::reference`], on
//! random inputs whose sizes are not multiples of the block sizes of
//! [`super::linalg`] (tiles of 6×2 rows, blocks of 8 and 12) nor of the
//! 64-candidate blocks of [`super::model`].
//!
//! Tolerances. Both sides are backward stable and differ only in the order
//! of their sums, so they agree to about n·u·κ (u = 1.1e-16, κ the condition
//! number; Higham, "Accuracy and Stability of Numerical Algorithms", 2nd
//! ed., Thm. 10.3 and §8.1). The random matrices B Bᵀ + n I have κ < 5: at
//! n = 130 that is below 1e-13, and 1e-12 (relative to the largest entry)
//! leaves a margin. The GP's K + σ_n² I with σ_n² = 10⁻² of σ_f² has
//! κ <= 1 + n σ_f² / σ_n² = 1.3e4 at n = 130: about 2e-10, so 1e-8 relative
//! for means and log-likelihoods, and 1e-8 of σ_f² absolute for variances
//! (which can be near zero). A kernel entry takes one exponential, within a
//! few ulps of libm's ([`super::kernel::exp_nonpos`]): 1e-13 relative.

use super::kernel::{Columns, DimKind, Kernel};
use super::linalg::Cholesky;
use super::model::{neg_log_posterior, Gp, Noise, Priors};
use super::reference as textbook;
use crate::rng::Rng;

/// Sizes that straddle every block size.
const SIZES: [usize; 8] = [1, 2, 3, 7, 13, 33, 67, 130];

/// max |got - want| <= tol · max(|want|, floor) entry by entry.
fn assert_close(got: &[f64], want: &[f64], tol: f64, floor: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(floor, |s, v| s.max(v.abs()));
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * scale,
            "{what}: entry {k} is {g}, expected {w} (scale {scale})"
        );
    }
}

/// A random SPD matrix B Bᵀ + n I, B uniform in [-1, 1].
fn spd(n: usize, rng: &mut Rng) -> Vec<f64> {
    let b: Vec<f64> = (0..n * n).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum();
        }
        a[i * n + i] += n as f64;
    }
    a
}

#[test]
fn cholesky_solves_inverse_and_log_det_match_the_textbook() {
    let mut rng = Rng::new(1);
    for &n in &SIZES {
        let a = spd(n, &mut rng);
        let l = textbook::cholesky(&a, n).unwrap();
        let c = Cholesky::factor(&a, n).unwrap();
        assert_close(&c.to_dense(), &l, 1e-12, 0.0, &format!("factor n={n}"));
        let tol_ld = 1e-12 * n as f64;
        assert!((c.log_det() - textbook::log_det(&l, n)).abs() <= tol_ld);
        assert_close(
            &c.inverse(),
            &textbook::inverse(&l, n),
            1e-12,
            0.0,
            "inverse",
        );
        for m in [1, 2, 3, 7, 65] {
            let b: Vec<f64> = (0..n * m).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
            let what = format!("n={n} m={m}");
            let mut y = b.clone();
            c.solve_lower_matrix(&mut y, m).unwrap();
            assert_close(&y, &textbook::forward(&l, n, &b, m), 1e-12, 0.0, &what);
            let mut x = b.clone();
            c.solve_upper_matrix(&mut x, m).unwrap();
            assert_close(&x, &textbook::backward(&l, n, &b, m), 1e-12, 0.0, &what);
        }
        let b: Vec<f64> = (0..n).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
        let mut y = b.clone();
        c.solve_lower_in_place(&mut y).unwrap();
        assert_close(&y, &textbook::forward(&l, n, &b, 1), 1e-12, 0.0, "lower");
        let mut x = b.clone();
        c.solve_upper_in_place(&mut x).unwrap();
        assert_close(&x, &textbook::backward(&l, n, &b, 1), 1e-12, 0.0, "upper");
        let want = textbook::backward(&l, n, &textbook::forward(&l, n, &b, 1), 1);
        assert_close(&c.solve(&b).unwrap(), &want, 1e-12, 0.0, "solve");
    }
}

#[test]
fn appended_factor_matches_the_textbook_factor() {
    let mut rng = Rng::new(2);
    let n = 130;
    let a = spd(n, &mut rng);
    let mut c = Cholesky::factor(&a[..1], 1).unwrap();
    for k in 1..n {
        let col: Vec<f64> = (0..k).map(|j| a[k * n + j]).collect();
        c.append(&col, a[k * n + k]).unwrap();
        if SIZES.contains(&(k + 1)) {
            let sub: Vec<f64> = (0..(k + 1) * (k + 1))
                .map(|e| a[(e / (k + 1)) * n + e % (k + 1)])
                .collect();
            let want = textbook::cholesky(&sub, k + 1).unwrap();
            assert_close(&c.to_dense(), &want, 1e-12, 0.0, &format!("n={}", k + 1));
        }
    }
}

/// n random inputs over (continuous, categorical with 3 choices,
/// continuous), about one coordinate in six inactive (NaN).
fn inputs(n: usize, rng: &mut Rng) -> Vec<f64> {
    let mut x = Vec::with_capacity(3 * n);
    for _ in 0..n {
        for kind in KINDS {
            let v = match kind {
                DimKind::Continuous => rng.uniform(),
                DimKind::Categorical => rng.below(3) as f64,
            };
            x.push(if rng.uniform() < 1.0 / 6.0 {
                f64::NAN
            } else {
                v
            });
        }
    }
    x
}

const KINDS: [DimKind; 3] = [
    DimKind::Continuous,
    DimKind::Categorical,
    DimKind::Continuous,
];
/// θ = (log ℓ_1..3, log σ_f², log σ_n²): σ_n² = 10⁻² σ_f².
const THETA: [f64; 5] = [-1.2, 0.3, -0.4, 0.5, -4.105_170_185_988_091];

#[test]
fn kernel_routines_match_the_formula() {
    let mut rng = Rng::new(3);
    let (ls, sig) = (&THETA[..3], THETA[3]);
    let kernel = Kernel::new(KINDS.to_vec(), ls.to_vec(), sig).unwrap();
    for &n in &SIZES {
        let x = inputs(n, &mut rng);
        let cands = inputs(n + 5, &mut rng);
        let want = textbook::kernel_matrix(&KINDS, ls, sig, &x, &x);
        assert_close(&kernel.matrix(&x, n).unwrap(), &want, 1e-13, 0.0, "matrix");
        let cols = Columns::new(&KINDS, &x, n).unwrap();
        let (k, _) = kernel.matrix_columns(&cols).unwrap();
        // Only the lower triangle is written by the batched routine.
        for i in 0..n {
            for j in 0..=i {
                let (g, w) = (k[i * n + j], want[i * n + j]);
                assert!((g - w).abs() <= 1e-13 * w.abs().max(1e-300), "({i}, {j})");
            }
        }
        let cc = Columns::new(&KINDS, &cands, n + 5).unwrap();
        let mut out = vec![0.0; n * (n + 5)];
        kernel.cross_columns(&cols, &cc, &mut out).unwrap();
        let want = textbook::kernel_matrix(&KINDS, ls, sig, &x, &cands);
        assert_close(&out, &want, 1e-13, 0.0, "cross");
        let p = &cands[..3];
        let (kp, _) = kernel
            .cross_point(&Columns::new(&KINDS, p, 1).unwrap(), &cols)
            .unwrap();
        let want = textbook::kernel_matrix(&KINDS, ls, sig, &x, p);
        assert_close(&kp, &want, 1e-13, 0.0, "point");
    }
}

/// The fast model's posterior (original units) against Algorithm 2.1 on
/// the standardised targets, scaled back.
fn textbook_posterior(x: &[f64], y: &[f64], xs: &[f64]) -> (Vec<f64>, Vec<f64>, f64) {
    let (ys, mean, sd) = textbook::standardise(y);
    let p = textbook::posterior(&KINDS, &THETA, x, &ys, xs);
    (
        p.mean.iter().map(|m| mean + sd * m).collect(),
        p.var.iter().map(|v| sd * sd * v.max(0.0)).collect(),
        p.log_ml,
    )
}

fn targets(x: &[f64]) -> Vec<f64> {
    x.chunks_exact(3)
        .map(|p| {
            let a = if p[0].is_nan() { 0.3 } else { p[0] };
            let c = if p[2].is_nan() { -0.2 } else { p[2] };
            3.0 * (5.0 * a).sin() + c * c + if p[1] == 1.0 { 0.5 } else { 0.0 }
        })
        .collect()
}

#[test]
fn posterior_and_marginal_likelihood_match_algorithm_2_1() {
    let mut rng = Rng::new(4);
    let noise = Noise::Inferred { floor: 1e-6 };
    for &n in &SIZES[1..] {
        let x = inputs(n, &mut rng);
        let y = targets(&x);
        let m = 70;
        let xs = inputs(m, &mut rng);
        let (want_mean, want_var, log_ml) = textbook_posterior(&x, &y, &xs);
        let sd2 = textbook::standardise(&y).2.powi(2);
        let gp = Gp::with_params(KINDS.to_vec(), x.clone(), &y, &THETA, noise).unwrap();
        let (mean, var) = gp.predict_batch(&xs, m).unwrap();
        let what = format!("n={n}");
        assert_close(&mean, &want_mean, 1e-8, 0.0, &what);
        assert_close(&var, &want_var, 1e-8, sd2 * THETA[3].exp(), &what);
        let pool = gp.pool(&xs, m).unwrap();
        let (pm, pv) = gp.pool_predict(&pool).unwrap();
        assert_close(&pm, &want_mean, 1e-8, 0.0, &what);
        assert_close(&pv, &want_var, 1e-8, sd2 * THETA[3].exp(), &what);
        for (c, p) in xs.chunks_exact(3).take(5).enumerate() {
            let (mu, s2) = gp.predict(p).unwrap();
            let g = gp.predict_with_grad(p).unwrap();
            assert_close(&[mu, g.mean], &[want_mean[c]; 2], 1e-8, 0.0, &what);
            let floor = sd2 * THETA[3].exp();
            assert_close(&[s2, g.var], &[want_var[c]; 2], 1e-8, floor, &what);
        }
        // L(θ) = -log p(y | X) - log p(θ) on the standardised targets.
        let ys = textbook::standardise(&y).0;
        let priors = Priors::two_sided(3);
        let (value, _) = neg_log_posterior(&KINDS, &x, &ys, &THETA, &priors, false).unwrap();
        let mut g = [0.0; 5];
        let prior = priors.neg_log_density(&KINDS, &THETA, &mut g, false);
        assert_close(&[value - prior], &[-log_ml], 1e-8, 1.0, &what);
    }
}

/// The posterior covariance between test points `xs` (m×3) on the
/// standardised targets, by the textbook: k(a, b) - (L⁻¹ k_a)ᵀ (L⁻¹ k_b)
/// with L the factor of K + σ_n² I (Rasmussen & Williams 2006, eq. 2.24).
fn textbook_covariance(x: &[f64], xs: &[f64]) -> Vec<f64> {
    let (ls, sig, noise) = (&THETA[..3], THETA[3], THETA[4].exp());
    let n = x.len() / 3;
    let m = xs.len() / 3;
    let mut k = textbook::kernel_matrix(&KINDS, ls, sig, x, x);
    for i in 0..n {
        k[i * n + i] += noise;
    }
    let l = textbook::cholesky(&k, n).unwrap();
    let v = textbook::forward(&l, n, &textbook::kernel_matrix(&KINDS, ls, sig, x, xs), m);
    let kss = textbook::kernel_matrix(&KINDS, ls, sig, xs, xs);
    let mut cov = vec![0.0; m * m];
    for a in 0..m {
        for b in 0..m {
            let vv: f64 = (0..n).map(|r| v[r * m + a] * v[r * m + b]).sum();
            cov[a * m + b] = kss[a * m + b] - vv;
        }
    }
    cov
}

#[test]
fn joint_posterior_and_sample_match_the_textbook() {
    let mut rng = Rng::new(9);
    let noise = Noise::Inferred { floor: 1e-6 };
    for &n in &SIZES[1..] {
        let x = inputs(n, &mut rng);
        let y = targets(&x);
        let m = 37;
        let xs = inputs(m, &mut rng);
        let gp = Gp::with_params(KINDS.to_vec(), x.clone(), &y, &THETA, noise).unwrap();
        let (mean, cov) = gp.joint_posterior(&xs, m).unwrap();
        let what = format!("n={n}");
        let (want_mean, _, _) = textbook_posterior(&x, &y, &xs);
        assert_close(&mean, &want_mean, 1e-8, 0.0, &what);
        assert_close(
            &cov,
            &textbook_covariance(&x, &xs),
            1e-8,
            THETA[3].exp(),
            &what,
        );
        // The draw is mean + sd L z with L L^T the covariance: z = e_0 gives
        // mean + sd L[:, 0], and L[i, 0] = cov[i, 0] / sqrt(cov[0, 0]).
        let sd = gp.standardisation().1;
        let mut z = vec![0.0; m];
        z[0] = 1.0;
        let got = gp.joint_sample(&xs, m, &z).unwrap();
        let want: Vec<f64> = (0..m)
            .map(|i| mean[i] + sd * cov[i * m] / cov[0].sqrt())
            .collect();
        assert_close(&got, &want, 1e-6, sd, &what);
        assert!(gp.joint_sample(&xs, m, &z[1..]).is_err());
    }
}

#[test]
fn appended_observations_match_algorithm_2_1_on_all_points() {
    // Appends keep the standardisation of the first fit: compare with the
    // textbook posterior of targets standardised by the first n0 only.
    let mut rng = Rng::new(5);
    let (n0, n) = (7, 40);
    let x = inputs(n, &mut rng);
    let y = targets(&x);
    let xs = inputs(9, &mut rng);
    let noise = Noise::Inferred { floor: 1e-6 };
    let mut gp = Gp::with_params(
        KINDS.to_vec(),
        x[..3 * n0].to_vec(),
        &y[..n0],
        &THETA,
        noise,
    )
    .unwrap();
    let mut pool = gp.pool(&xs, 9).unwrap();
    for i in n0..n {
        gp.add_observation(&x[3 * i..3 * i + 3], y[i]).unwrap();
    }
    gp.extend_pool(&mut pool, None).unwrap();
    let (_, mean, sd) = textbook::standardise(&y[..n0]);
    let ys: Vec<f64> = y.iter().map(|v| (v - mean) / sd).collect();
    let p = textbook::posterior(&KINDS, &THETA, &x, &ys, &xs);
    let want_mean: Vec<f64> = p.mean.iter().map(|m| mean + sd * m).collect();
    let want_var: Vec<f64> = p.var.iter().map(|v| sd * sd * v.max(0.0)).collect();
    let floor = sd * sd * THETA[3].exp();
    let (bm, bv) = gp.predict_batch(&xs, 9).unwrap();
    assert_close(&bm, &want_mean, 1e-8, 0.0, "batch mean");
    assert_close(&bv, &want_var, 1e-8, floor, "batch var");
    let (pm, pv) = gp.pool_predict(&pool).unwrap();
    assert_close(&pm, &want_mean, 1e-8, 0.0, "pool mean");
    assert_close(&pv, &want_var, 1e-8, floor, "pool var");
}

/// Central difference of `f` at `x` along coordinate `i`, step `h`.
fn central(f: impl Fn(&[f64]) -> f64, x: &[f64], i: usize, h: f64) -> f64 {
    let (mut a, mut b) = (x.to_vec(), x.to_vec());
    a[i] += h;
    b[i] -= h;
    (f(&a) - f(&b)) / (2.0 * h)
}

#[test]
fn gradients_match_differences_of_the_textbook_formulas() {
    // Central differences with step h err by O(h²) (third derivatives of
    // order 1 here) plus O(u/h) round-off: about 1e-8 at h = 1e-5, so 1e-6
    // relative to the largest component leaves a margin.
    let mut rng = Rng::new(6);
    let n = 33;
    let x = inputs(n, &mut rng);
    let y = targets(&x);
    let (ys, _, _) = textbook::standardise(&y);
    let noise = Noise::Inferred { floor: 1e-6 };
    let gp = Gp::with_params(KINDS.to_vec(), x.clone(), &y, &THETA, noise).unwrap();
    // A point with every coordinate active (gradients are zero on the
    // categorical dimension and on inactive ones).
    let p = [0.37, 1.0, 0.61];
    let g = gp.predict_with_grad(&p).unwrap();
    let mean = |q: &[f64]| textbook_posterior(&x, &y, q).0[0];
    let var = |q: &[f64]| textbook_posterior(&x, &y, q).1[0];
    // Tolerances scale with the reference gradients, never the fast ones.
    let active = [0, 2];
    let dm: Vec<f64> = active.iter().map(|&i| central(mean, &p, i, 1e-5)).collect();
    let dv: Vec<f64> = active.iter().map(|&i| central(var, &p, i, 1e-5)).collect();
    let got_m: Vec<f64> = active.iter().map(|&i| g.d_mean[i]).collect();
    let got_v: Vec<f64> = active.iter().map(|&i| g.d_var[i]).collect();
    assert_close(&got_m, &dm, 1e-6, 0.0, "d mean");
    assert_close(&got_v, &dv, 1e-6, 0.0, "d var");
    assert_eq!(g.d_mean[1], 0.0);
    // ∂L/∂θ against differences of -log p(y | X) - log p(θ).
    let priors = Priors::two_sided(3);
    let (_, grad) = neg_log_posterior(&KINDS, &x, &ys, &THETA, &priors, false).unwrap();
    let objective = |t: &[f64]| {
        let mut g = [0.0; 5];
        let prior = priors.neg_log_density(&KINDS, t, &mut g, false);
        -textbook::posterior(&KINDS, t, &x, &ys, &[]).log_ml + prior
    };
    let fd: Vec<f64> = (0..5)
        .map(|i| central(objective, &THETA, i, 1e-5))
        .collect();
    assert_close(&grad, &fd, 1e-6, 0.0, "dL/dθ");
}
