//! The sampler's seeded suggestions, pinned bit for bit. The values were
//! recorded before the modules of this directory were restructured; any
//! change to the arithmetic of the fit, the prediction or the search (a
//! different summation order included) changes them. A deliberate numerical
//! change must re-record them and say why.

use super::{GpConfig, GpSampler};
use crate::history::{History, TrialState};
use crate::samplers::{start_trial, RandomSampler, Sampler};
use crate::space::Distribution;

/// FNV-1a over the bit patterns of the values, in order.
fn fnv(values: &[f64]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for b in v.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// `n` trials of ask, suggest and tell of `f`; all suggested values, in order.
fn run(
    s: &mut dyn Sampler,
    h: &mut History,
    dims: &[Distribution],
    f: impl Fn(&[f64]) -> f64,
    n: usize,
) -> Vec<f64> {
    let names: Vec<String> = (0..dims.len()).map(|i| format!("x{i}")).collect();
    let mut all = Vec::new();
    for _ in 0..n {
        let (t, x) = start_trial(s, h, &names, dims).unwrap();
        h.finish(t, TrialState::Complete, vec![f(&x)]).unwrap();
        all.extend_from_slice(&x);
    }
    all
}

/// A smooth 3-D objective over a float, a log-scaled float and a stepped int.
fn mixed(x: &[f64]) -> f64 {
    (x[0] - 1.3).powi(2) + (x[1].ln() + 4.0).powi(2) + 0.1 * (x[2] - 7.0).powi(2)
}

#[test]
fn forty_seeded_asks_on_a_mixed_space_are_unchanged() {
    let dims = vec![
        Distribution::float("a", -5.0, 5.0, None, false).unwrap(),
        Distribution::float("b", 1e-4, 1.0, None, true).unwrap(),
        Distribution::int("c", 0, 20, 2, false).unwrap(),
    ];
    let mut h = History::new(1);
    let mut s = GpSampler::new(GpConfig::default(), 7).unwrap();
    let all = run(&mut s, &mut h, &dims, mixed, 40);
    let last = &all[all.len() - 3..];
    assert_eq!(last, [1.3004079889227027, 0.0184362499599723, 6.0]);
    assert_eq!(fnv(&all), 0x1c62_3a01_4c7b_ea85, "last suggestion {last:?}");
}

/// Branin on [-5, 10] × [0, 15].
fn branin(x: &[f64]) -> f64 {
    let pi = std::f64::consts::PI;
    let b = 5.1 / (4.0 * pi * pi);
    let c = 5.0 / pi;
    (x[1] - b * x[0] * x[0] + c * x[0] - 6.0).powi(2)
        + 10.0 * (1.0 - 1.0 / (8.0 * pi)) * x[0].cos()
        + 10.0
}

#[test]
fn seeded_asks_past_the_every_ask_refit_are_unchanged() {
    // Past REFIT_EVERY_ASK_UP_TO observations: a cold multi-start fit, then
    // asks that append to the model and reuse the candidate pool.
    let dims = vec![
        Distribution::float("x0", -5.0, 10.0, None, false).unwrap(),
        Distribution::float("x1", 0.0, 15.0, None, false).unwrap(),
    ];
    let mut h = History::new(1);
    let mut r = RandomSampler::new(11);
    run(
        &mut r,
        &mut h,
        &dims,
        branin,
        super::sampler::REFIT_EVERY_ASK_UP_TO + 3,
    );
    let mut s = GpSampler::new(GpConfig::default(), 13).unwrap();
    let all = run(&mut s, &mut h, &dims, branin, 6);
    let last = &all[all.len() - 2..];
    assert_eq!(last, [3.145263634896338, 2.265779471673802]);
    assert_eq!(fnv(&all), 0xf99b_adc2_d244_433e, "last suggestion {last:?}");
}
