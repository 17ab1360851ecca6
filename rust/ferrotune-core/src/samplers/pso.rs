//! Particle swarm optimisation with constriction (Clerc and Kennedy 2002),
//! velocity clamping and absorbing bounds, in the unit cube of
//! `de::encoding` (the same mixed-type encoding as differential
//! evolution).
//!
//! The swarm lives in the study: each trial is one position of one particle
//! and its tag is `[MARK, particle, move, x_1..x_d, v_1..v_d]`, the
//! particle's continuous position and velocity (so integers and categoricals
//! are rounded only when decoded). Each ask moves a particle with the fewest
//! moves known (drawn at random among them); a move starts from the
//! particle's latest known position and velocity (its latest trial, finished
//! or not) and is drawn towards the best position of all its finished trials
//! and the best of its neighbourhood, so several workers sharing a study move
//! one swarm and a FAIL or PRUNED trial only fails to improve its particle's
//! best.

use super::de::encoding::{loss, Dims, TagEvent, TagReader};
use super::de::relative_dims;
use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace, SAMPLER_DRAWS};
use crate::error::{Error, Result};
use crate::history::History;
use crate::rng::Rng;
use crate::space::Distribution;

/// The first number of a particle-swarm tag.
const MARK: f64 = 20_563.0; // "PS" in ASCII, 0x5053

/// Which particles' bests pull a particle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// The best of the whole swarm (gbest; Kennedy and Eberhart 1995).
    Global,
    /// The best of the particle and its two neighbours by index (lbest ring,
    /// Kennedy and Mendes 2002).
    Ring,
}

/// The configuration of [`PsoSampler`] (defaults in [`PsoConfig::default`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PsoConfig {
    pub swarm_size: usize,
    /// φ1, the cognitive coefficient.
    pub cognitive: f64,
    /// φ2, the social coefficient.
    pub social: f64,
    /// v_max as a fraction of each parameter's range (of its unit interval).
    pub max_velocity: f64,
    pub topology: Topology,
}

impl Default for PsoConfig {
    /// 20 particles, φ1 = φ2 = 2.05 (so χ ≈ 0.7298; Clerc and Kennedy
    /// 2002), v_max half the range, global best.
    fn default() -> Self {
        PsoConfig {
            swarm_size: 20,
            cognitive: 2.05,
            social: 2.05,
            max_velocity: 0.5,
            topology: Topology::Global,
        }
    }
}

/// The constriction coefficient χ = 2 / |2 − φ − sqrt(φ² − 4φ)| for
/// φ = φ1 + φ2 > 4 (Clerc and Kennedy 2002, eq. 4.15 with κ = 1).
pub fn constriction(phi: f64) -> f64 {
    2.0 / (2.0 - phi - (phi * phi - 4.0 * phi).sqrt()).abs()
}

/// One particle's latest known state.
#[derive(Debug, Clone, Default)]
struct Particle {
    /// Moves known so far.
    moves: usize,
    /// (move, trial) of the latest known trial.
    last: Option<(usize, usize)>,
    /// (loss, trial) of the best finished COMPLETE trial.
    best: Option<(f64, usize)>,
}

/// Particle swarm over the study's trials (see the module's documentation).
#[derive(Debug, Clone)]
pub struct PsoSampler {
    cfg: PsoConfig,
    chi: f64,
    rng: Rng,
    reader: TagReader,
    particles: Vec<Particle>,
    next_tag: Option<(usize, Vec<f64>)>,
}

impl PsoSampler {
    /// A sampler with configuration `cfg` whose own draws follow `seed`.
    pub fn new(cfg: PsoConfig, seed: u64) -> Result<Self> {
        let bad = |msg: String| Err(Error::InvalidArgument(msg));
        if cfg.swarm_size < 2 {
            return bad(format!(
                "swarm_size must be at least 2, got {}",
                cfg.swarm_size
            ));
        }
        let phi = cfg.cognitive + cfg.social;
        if !(cfg.cognitive > 0.0 && cfg.social > 0.0 && phi > 4.0 && phi.is_finite()) {
            return bad(format!(
                "cognitive and social must be positive with a sum above 4 (constriction), got {} and {}",
                cfg.cognitive, cfg.social
            ));
        }
        if !(cfg.max_velocity > 0.0 && cfg.max_velocity <= 1.0) {
            return bad(format!(
                "max_velocity must be in (0, 1], got {}",
                cfg.max_velocity
            ));
        }
        Ok(PsoSampler {
            chi: constriction(cfg.cognitive + cfg.social),
            cfg,
            rng: Rng::new(seed),
            reader: TagReader::new(MARK),
            particles: vec![Particle::default(); cfg.swarm_size],
            next_tag: None,
        })
    }

    fn refresh(&mut self, h: &History) -> Result<()> {
        if h.n_objectives() > 1 {
            return Err(Error::InvalidArgument(format!(
                "PSOSampler optimises a single objective; this study has {}",
                h.n_objectives()
            )));
        }
        if self.reader.is_stale(h) {
            self.reader = TagReader::new(MARK);
            self.particles = vec![Particle::default(); self.cfg.swarm_size];
        }
        let particles = &mut self.particles;
        self.reader.update(h, |e| match e {
            TagEvent::Tagged(t, tag) => {
                if let Some((j, m)) = parse(tag, particles.len()) {
                    let p = &mut particles[j];
                    p.moves += 1;
                    if p.last.is_none_or(|l| (m, t) > l) {
                        p.last = Some((m, t));
                    }
                }
            }
            TagEvent::Finished(t) => {
                // A trial drawn before any parameter was modelled holds no
                // position to be drawn towards.
                let tag = h.tag(t);
                let (Some((j, _)), Some(y)) = (parse(tag, particles.len()), loss(h, t)) else {
                    return;
                };
                if tag.len() <= 3 {
                    return;
                }
                let b = &mut particles[j].best;
                if b.is_none_or(|(by, bt)| y < by || (y == by && t < bt)) {
                    *b = Some((y, t));
                }
            }
        });
        Ok(())
    }

    /// The neighbourhood best of particle `j` (loss, trial).
    fn social_best(&self, j: usize) -> Option<(f64, usize)> {
        let s = self.particles.len();
        let pick = |a: Option<(f64, usize)>, b: Option<(f64, usize)>| match (a, b) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        };
        match self.cfg.topology {
            Topology::Global => self.particles.iter().fold(None, |acc, p| pick(acc, p.best)),
            Topology::Ring => [(j + s - 1) % s, j, (j + 1) % s]
                .iter()
                .fold(None, |acc, &k| pick(acc, self.particles[k].best)),
        }
    }

    /// Particle `j`'s next (position, velocity) over `d` dimensions: a
    /// constricted move from its latest state, or a new particle (uniform
    /// position, velocity `(U - x) / 2` as SPSO 2007) when it has no state
    /// of this dimension or no trial of the swarm has a result yet (there is
    /// nothing to move towards).
    fn next_state(&mut self, h: &History, j: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
        let p = &self.particles[j];
        let informed = self.particles.iter().any(|q| q.best.is_some());
        let last = p
            .last
            .filter(|_| informed)
            .and_then(|(_, t)| state_of(h.tag(t), d));
        let Some((x, v)) = last else {
            let x: Vec<f64> = (0..d).map(|_| self.rng.uniform()).collect();
            let v = x.iter().map(|xi| (self.rng.uniform() - xi) / 2.0).collect();
            return (x, v);
        };
        let own = p.best.and_then(|(_, t)| state_of(h.tag(t), d)).map(|s| s.0);
        let pb = own.unwrap_or_else(|| x.clone());
        let gb = self
            .social_best(j)
            .and_then(|(_, t)| state_of(h.tag(t), d))
            .map_or_else(|| pb.clone(), |s| s.0);
        let r: Vec<(f64, f64)> = (0..d)
            .map(|_| (self.rng.uniform(), self.rng.uniform()))
            .collect();
        self.move_particle(&x, &v, &pb, &gb, &r)
    }

    /// The constricted velocity update (Clerc and Kennedy 2002, eq. 4.17's
    /// type 1'' form): `v' = χ (v + φ1 r1 (p − x) + φ2 r2 (g − x))`, each
    /// component cut to `[−v_max, v_max]`; then `x' = x + v'`, and a
    /// component leaving `[0, 1]` stops on the bound with its velocity set
    /// to 0 (absorbing walls).
    pub fn move_particle(
        &self,
        x: &[f64],
        v: &[f64],
        p: &[f64],
        g: &[f64],
        r: &[(f64, f64)],
    ) -> (Vec<f64>, Vec<f64>) {
        let (c1, c2, vmax) = (self.cfg.cognitive, self.cfg.social, self.cfg.max_velocity);
        let mut nx = Vec::with_capacity(x.len());
        let mut nv = Vec::with_capacity(x.len());
        for j in 0..x.len() {
            let vj = self.chi * (v[j] + c1 * r[j].0 * (p[j] - x[j]) + c2 * r[j].1 * (g[j] - x[j]));
            let vj = vj.clamp(-vmax, vmax);
            let xj = x[j] + vj;
            let (xj, vj) = if xj < 0.0 {
                (0.0, 0.0)
            } else if xj > 1.0 {
                (1.0, 0.0)
            } else {
                (xj, vj)
            };
            nx.push(xj);
            nv.push(vj);
        }
        (nx, nv)
    }

    /// The particle to move next and its move number: one of the particles
    /// with the fewest moves known, drawn at random. A lone sampler so moves
    /// each particle once per sweep; workers that ask at the same moment
    /// (each seeing the same history) spread over the swarm instead of
    /// repeating one another's choice, which a fixed turn made them do (in
    /// step, two workers moved every other particle only).
    fn next_particle(&mut self) -> (usize, usize) {
        let fewest = self.particles.iter().map(|p| p.moves).min().unwrap_or(0);
        let candidates: Vec<usize> = (0..self.particles.len())
            .filter(|&j| self.particles[j].moves == fewest)
            .collect();
        let j = candidates[self.rng.below(candidates.len() as u64) as usize];
        (j, self.particles[j].moves)
    }

    fn tag(&mut self, trial: usize, j: usize, m: usize, x: &[f64], v: &[f64]) {
        let mut tag = vec![MARK, j as f64, m as f64];
        tag.extend_from_slice(x);
        tag.extend_from_slice(v);
        self.next_tag = Some((trial, tag));
    }

    /// (particle, its latest trial, its best trial) for tests.
    pub fn particle(&self, j: usize) -> (Option<usize>, Option<usize>) {
        let p = &self.particles[j];
        (p.last.map(|l| l.1), p.best.map(|b| b.1))
    }
}

/// (particle, move) of a particle-swarm tag, or None.
fn parse(tag: &[f64], s: usize) -> Option<(usize, usize)> {
    match *tag {
        [m, j, k, ..] if m == MARK && j >= 0.0 && (j as usize) < s && k >= 0.0 => {
            Some((j as usize, k as usize))
        }
        _ => None,
    }
}

/// The (position, velocity) a tag holds over `d` dimensions, or None when
/// it holds another number of them.
fn state_of(tag: &[f64], d: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    (tag.len() == 3 + 2 * d).then(|| (tag[3..3 + d].to_vec(), tag[3 + d..].to_vec()))
}

impl Sampler for PsoSampler {
    fn sample_independent(
        &mut self,
        _: &History,
        _: usize,
        _: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        Ok(dist.from_unit(self.rng.uniform()))
    }

    fn relative_values(&mut self, h: &History, trial: usize) -> Result<Vec<(u32, u32, f64)>> {
        self.refresh(h)?;
        let space = relative_dims(h);
        let (j, m) = self.next_particle();
        let (x, v) = self.next_state(h, j, space.len());
        self.tag(trial, j, m, &x, &v);
        Ok(space
            .iter()
            .zip(&x)
            .map(|(&(p, d), &u)| (p, d, h.dist(p, d).from_unit(u)))
            .collect())
    }

    /// Moves over every parameter of the space; a position that is not
    /// valid for the space or not accepted is drawn again (new random
    /// coefficients), up to [`SAMPLER_DRAWS`] times, then replaced by a
    /// uniform feasible draw, where the particle continues with velocity 0.
    fn sample_space(
        &mut self,
        h: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        self.refresh(h)?;
        let dims: Dims = space
            .params()
            .iter()
            .map(|p| (h.param_index(&p.name), p.dist.clone()))
            .collect();
        let (j, m) = self.next_particle();
        for _ in 0..SAMPLER_DRAWS.min(max_draws) {
            let (x, v) = self.next_state(h, j, dims.len());
            let mut row: Vec<f64> = dims
                .iter()
                .zip(&x)
                .map(|((_, d), &u)| d.from_unit(u))
                .collect();
            space.apply_conditions(&mut row);
            if space.is_valid(&row) && accept(&row)? {
                self.tag(trial, j, m, &x, &v);
                return Ok(row);
            }
        }
        let row = space.sample_uniform(&mut self.rng, max_draws, accept)?;
        let x: Vec<f64> = dims
            .iter()
            .zip(&row)
            .map(|((_, d), &r)| {
                if r.is_nan() {
                    0.5
                } else {
                    d.to_unit(r).clamp(0.0, 1.0)
                }
            })
            .collect();
        let v = vec![0.0; x.len()];
        self.tag(trial, j, m, &x, &v);
        Ok(row)
    }

    fn take_tag(&mut self, trial: usize) -> Vec<f64> {
        match self.next_tag.take() {
            Some((t, tag)) if t == trial => tag,
            _ => Vec::new(),
        }
    }

    /// The generator's four words: the swarm is rebuilt from the study's
    /// trials.
    fn state(&self) -> SamplerState {
        rng_words(&self.rng)
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        expect_words(state, 4)?;
        self.rng = rng_from_words(state)?;
        self.reader = TagReader::new(MARK);
        self.particles = vec![Particle::default(); self.cfg.swarm_size];
        self.next_tag = None;
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}

#[cfg(test)]
#[path = "pso_tests.rs"]
mod tests;
