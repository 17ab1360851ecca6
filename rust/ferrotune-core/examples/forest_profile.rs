//! Time of the random forest's fit and prediction (SMAC's settings) on mixed data:
//! `cargo run --release -p ferrotune-core --example forest_profile`.

use std::time::Instant;

use ferrotune_core::forest::{Feature, Forest, ForestConfig};
use ferrotune_core::rng::Rng;

fn main() {
    let features = vec![
        Feature::numeric(0.0, 1.0, false),
        Feature::numeric(0.0, 1.0, false),
        Feature::categorical(5, false),
        Feature::categorical(5, false),
        Feature::categorical(5, false),
    ];
    let mut rng = Rng::new(0);
    let row = |rng: &mut Rng| {
        vec![
            rng.uniform(),
            rng.uniform(),
            rng.below(5) as f64,
            rng.below(5) as f64,
            rng.below(5) as f64,
        ]
    };
    for n in [200usize, 1000, 5000] {
        let x: Vec<f64> = (0..n).flat_map(|_| row(&mut rng)).collect();
        let y: Vec<f64> = x
            .chunks(5)
            .map(|r| (6.0 * r[0]).sin() + r[1] * r[1] + r[2])
            .collect();
        let reps = 5;
        let t = Instant::now();
        let mut forest = None;
        for k in 0..reps {
            forest = Some(Forest::fit(&features, &x, &y, &ForestConfig::smac(k)).unwrap());
        }
        let fit = t.elapsed().as_secs_f64() / reps as f64;
        let q: Vec<f64> = (0..10_000).flat_map(|_| row(&mut rng)).collect();
        let t = Instant::now();
        let (m, _) = forest.as_ref().unwrap().predict(&q).unwrap();
        let pred = t.elapsed().as_secs_f64();
        let nodes: usize = forest.unwrap().trees().iter().map(|t| t.nodes.len()).sum();
        println!(
            "n={n}: fit {:.2} ms, predict 10k rows {:.2} ms ({} nodes, {:.3})",
            fit * 1e3,
            pred * 1e3,
            nodes,
            m[0]
        );
    }
}
