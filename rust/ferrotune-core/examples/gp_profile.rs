//! Times GP asks on the 10-D float space of `benches/gp.py` (Ackley), without
//! Python: `cargo run --release -p ferrotune-core --example gp_profile -- 300 15`
//! fills 300 uniformly random trials, takes one untimed ask (the cold fit),
//! then times the next 15 asks (one refit period at n = 300) and prints ms per
//! ask. Used to profile the sampler (callgrind with
//! `--toggle-collect='gp_profile::timed'`), not by tests.

use ferrotune_core::history::{History, TrialState};
use ferrotune_core::samplers::gp::{GpConfig, GpSampler};
use ferrotune_core::samplers::{start_trial, RandomSampler, Sampler};
use ferrotune_core::space::Distribution;
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("usage: gp_profile N_FILL N_TIMED"))
        .collect();
    let (fill, timed_n) = (
        args.first().copied().unwrap_or(300),
        args.get(1).copied().unwrap_or(15),
    );
    let names: Vec<String> = (0..10).map(|i| format!("x{i}")).collect();
    let dims: Vec<Distribution> = names
        .iter()
        .map(|n| Distribution::float(n, -32.768, 32.768, None, false).unwrap())
        .collect();
    let mut h = History::new(1);
    let mut r = RandomSampler::new(0);
    asks(&mut r, &mut h, &names, &dims, fill);
    let mut s = GpSampler::new(GpConfig::default(), 0).unwrap();
    let t0 = Instant::now();
    asks(&mut s, &mut h, &names, &dims, 1);
    let cold = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    timed(&mut s, &mut h, &names, &dims, timed_n);
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "first ask {:.1} ms, then {:.2} ms per ask at n = {fill}",
        cold * 1e3,
        dt / timed_n as f64 * 1e3
    );
}

/// The timed asks, apart so that `valgrind --tool=callgrind
/// --toggle-collect=gp_profile::timed` counts only them.
#[inline(never)]
fn timed(s: &mut GpSampler, h: &mut History, names: &[String], dims: &[Distribution], n: usize) {
    asks(s, h, names, dims, n);
}

/// 10-D Ackley (minimum 0 at the origin).
fn ackley(x: &[f64]) -> f64 {
    let d = x.len() as f64;
    let sq = x.iter().map(|v| v * v).sum::<f64>() / d;
    let cs = x
        .iter()
        .map(|v| (2.0 * std::f64::consts::PI * v).cos())
        .sum::<f64>()
        / d;
    -20.0 * (-0.2 * sq.sqrt()).exp() - cs.exp() + 20.0 + std::f64::consts::E
}

/// `n` trials of ask, suggest and tell.
fn asks(s: &mut dyn Sampler, h: &mut History, names: &[String], dims: &[Distribution], n: usize) {
    for _ in 0..n {
        let (t, x) = start_trial(s, h, names, dims).unwrap();
        h.finish(t, TrialState::Complete, vec![ackley(&x)]).unwrap();
    }
}
