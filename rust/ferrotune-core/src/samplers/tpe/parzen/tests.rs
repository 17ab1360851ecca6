//! Properties of the fitted estimator: densities integrate to one, samples
//! stay in range and follow the density, the pruned density is the full sum.
use super::*;
use crate::samplers::tpe::truncnorm::log_sum_exp;

const S: ParzenSettings = ParzenSettings {
    prior_weight: 1.0,
    consider_magic_clip: true,
    consider_endpoints: false,
};

fn integrate_1d(p: &Parzen, low: f64, high: f64) -> f64 {
    let n = 20_000;
    let h = (high - low) / n as f64;
    let xs: Vec<f64> = (0..n).map(|i| low + (i as f64 + 0.5) * h).collect();
    p.log_pdf(&xs).iter().map(|l| l.exp() * h).sum()
}

#[test]
fn continuous_density_integrates_to_one() {
    let d = [Distribution::float("x", -1.0, 3.0, None, false).unwrap()];
    let p = Parzen::new(&d, &[0.0, 0.1, 2.5], &[1.0, 1.0, 1.0], &S);
    assert_eq!(p.n_kernels(), 4);
    assert!((integrate_1d(&p, -1.0, 3.0) - 1.0).abs() < 1e-6);
}

#[test]
fn discrete_masses_sum_to_one() {
    for d in [
        Distribution::int("n", 1, 20, 1, false).unwrap(),
        Distribution::int("n", 1, 64, 1, true).unwrap(),
        Distribution::float("s", 0.0, 1.0, Some(0.1), false).unwrap(),
    ] {
        let pts: Vec<f64> = (0..d.cardinality().unwrap())
            .map(|k| d.discrete_value(k))
            .collect();
        let obs = [pts[1], pts[2], pts[pts.len() - 1]];
        let p = Parzen::new(std::slice::from_ref(&d), &obs, &[1.0; 3], &S);
        let total: f64 = p.log_pdf(&pts).iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-9, "{d:?} {total}");
        let mut rng = Rng::new(4);
        for v in p.sample(&mut rng, 500) {
            assert!(d.contains(v), "{d:?} {v}");
        }
    }
}

#[test]
fn categorical_probabilities_sum_to_one_and_favour_observations() {
    let d = [Distribution::categorical("c", 4).unwrap()];
    let p = Parzen::new(&d, &[2.0, 2.0, 1.0], &[1.0; 3], &S);
    let probs: Vec<f64> = p
        .log_pdf(&[0.0, 1.0, 2.0, 3.0])
        .iter()
        .map(|l| l.exp())
        .collect();
    assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(probs[2] > probs[1] && probs[1] > probs[0]);
    let mut rng = Rng::new(1);
    let draws = p.sample(&mut rng, 40_000);
    let freq2 = draws.iter().filter(|v| **v == 2.0).count() as f64 / 40_000.0;
    assert!((freq2 - probs[2]).abs() < 0.01, "{freq2} {}", probs[2]);
}

#[test]
fn pruned_density_equals_the_full_mixture() {
    let dists = [
        Distribution::float("a", 0.0, 1.0, None, false).unwrap(),
        Distribution::float("b", 1e-4, 1.0, None, true).unwrap(),
        Distribution::int("c", 1, 50, 1, false).unwrap(),
        Distribution::categorical("d", 3).unwrap(),
        Distribution::float("e", 0.0, 2.0, Some(0.25), false).unwrap(),
    ];
    let mut rng = Rng::new(9);
    let n = 400;
    let mut obs = Vec::new();
    for _ in 0..n {
        for d in &dists {
            // Crowd observations near the lower bounds, as optimisation does.
            obs.push(d.from_unit(rng.uniform().powi(3)));
        }
    }
    let w: Vec<f64> = (0..n).map(|i| 0.5 + i as f64 / n as f64).collect();
    let p = Parzen::new(&dists, &obs, &w, &S);
    let pts = p.sample(&mut rng, 50);
    let fast = p.log_pdf(&pts);
    for (i, f) in fast.iter().enumerate() {
        let xi = &pts[i * 5..(i + 1) * 5];
        let full: Vec<f64> = (0..p.n_kernels())
            .map(|kk| p.log_weights[kk] + (0..5).map(|j| p.term(j, kk, xi[j])).sum::<f64>())
            .collect();
        let exact = log_sum_exp(&full);
        assert!((f - exact).abs() < 1e-12, "{f} {exact}");
    }
}

#[test]
fn stepped_density_off_the_grid_is_the_direct_sum() {
    // The offset table only covers grid values; others take the direct path.
    let d = [Distribution::int("n", 1, 20, 1, false).unwrap()];
    let p = Parzen::new(&d, &[3.0, 3.0, 7.0, 15.0], &[1.0; 4], &S);
    assert!(matches!(&p.dims[0], Dim::Disc { table: Some(_), .. }));
    for v in [3.0, 4.4, 19.9] {
        let full: Vec<f64> = (0..p.n_kernels())
            .map(|kk| p.log_weights[kk] + p.term(0, kk, v))
            .collect();
        let exact = log_sum_exp(&full);
        let got = p.log_pdf(&[v])[0];
        assert!((got - exact).abs() < 1e-12, "{v}: {got} {exact}");
    }
}

#[test]
fn samples_concentrate_near_observations() {
    let d = [Distribution::float("x", 0.0, 100.0, None, false).unwrap()];
    // 60 observations in [45, 55]: the magic clip allows bandwidths down to
    // 100 / 61, so nearly all mass but the prior's 1/61 stays near 50.
    let obs: Vec<f64> = (0..60).map(|i| 45.0 + i as f64 / 6.0).collect();
    let p = Parzen::new(&d, &obs, &[1.0; 60], &S);
    let mut rng = Rng::new(2);
    let s = p.sample(&mut rng, 2000);
    let near = s.iter().filter(|v| (**v - 50.0).abs() < 10.0).count();
    assert!(near > 1800, "{near}");
    assert!(s.iter().all(|v| (0.0..=100.0).contains(v)));
}
