//! Times TPE asks on the 10-D mixed space of `benches/overhead.py`, without
//! Python: `cargo run --release -p ferrotune-core --example tpe_profile -- 1000 200`
//! fills 1000 trials, then times the next 200 asks (prints µs per ask). Used
//! to profile the sampler (`perf record`), not by tests.

use ferrotune_core::history::{History, TrialState};
use ferrotune_core::samplers::start_trial;
use ferrotune_core::samplers::tpe::{TpeConfig, TpeSampler};
use ferrotune_core::space::Distribution;
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("usage: tpe_profile N_FILL N_TIMED"))
        .collect();
    let (fill, timed_n) = (
        args.first().copied().unwrap_or(1000),
        args.get(1).copied().unwrap_or(200),
    );
    let names: Vec<String> = (0..10).map(|i| format!("x{i}")).collect();
    let mut dims = Vec::new();
    for (i, n) in names.iter().enumerate() {
        dims.push(
            match i {
                0..4 => Distribution::float(n, 0.0, 1.0, None, false),
                4..6 => Distribution::float(n, 1e-5, 1e-1, None, true),
                6..8 => Distribution::int(n, 1, 100, 1, false),
                _ => Distribution::categorical(n, 4),
            }
            .unwrap(),
        );
    }
    let mut h = History::new(1);
    let mut s = TpeSampler::new(TpeConfig::default(), 0).unwrap();
    asks(&mut s, &mut h, &names, &dims, fill);
    let t0 = Instant::now();
    timed(&mut s, &mut h, &names, &dims, timed_n);
    let dt = t0.elapsed().as_secs_f64();
    println!("{:.1} µs per ask at n = {fill}", dt / timed_n as f64 * 1e6);
}

/// The timed asks, apart so that `valgrind --tool=callgrind
/// --toggle-collect=tpe_profile::timed` counts only them.
#[inline(never)]
fn timed(s: &mut TpeSampler, h: &mut History, names: &[String], dims: &[Distribution], n: usize) {
    asks(s, h, names, dims, n);
}

/// `n` trials of ask, suggest and tell with the objective of
/// `benches/overhead.py`: f0 + f1 + f2 + f3 + 0.01 i0.
fn asks(s: &mut TpeSampler, h: &mut History, names: &[String], dims: &[Distribution], n: usize) {
    for _ in 0..n {
        let (t, x) = start_trial(s, h, names, dims).unwrap();
        let y: f64 = x[..4].iter().sum::<f64>() + 0.01 * x[6];
        h.finish(t, TrialState::Complete, vec![y]).unwrap();
    }
}
