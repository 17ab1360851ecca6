//! The controller: a small recurrent policy over a sequence of decisions, its
//! log-likelihood and entropy, their gradient by hand-written
//! backpropagation through time, and Adam.
//!
//! The shape follows Zoph and Le (2017, "Neural Architecture Search with
//! Reinforcement Learning", ICLR, section 3.1): at each step the recurrent
//! cell reads the embedding of the previous decision's choice, and a
//! softmax classifier of that decision reads the cell's state. We use an
//! Elman cell (`h_s = tanh(W_x x_s + W_h h_{s-1} + b)`) instead of the
//! paper's two-layer LSTM: the spaces here have tens of decisions, not
//! hundreds, and the gradient stays a few lines to check against finite
//! differences. Every decision has its own embedding table and its own
//! classifier (`z_s = V_d h_s + c_d`), as the paper's per-decision softmax.
//!
//! Parameters are one flat vector (layout in [`Policy::new`]), so Adam and
//! the sampler's saved state treat them as one array.

use crate::rng::Rng;

/// One decision of an episode: which decision `d`, the choice `a` taken,
/// and the mask of allowed choices (empty: all allowed).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub d: usize,
    pub a: usize,
    pub mask: Vec<bool>,
}

/// The recurrent policy: choice counts per decision, embedding width `e`,
/// hidden width `h`, and the flat parameter vector `theta`.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    cards: Vec<usize>,
    e: usize,
    h: usize,
    pub theta: Vec<f64>,
    off_emb: Vec<usize>,
    off_wx: usize,
    off_wh: usize,
    off_b: usize,
    off_v: Vec<usize>,
    off_c: Vec<usize>,
}

/// What a forward pass keeps for one step: input, previous and new state,
/// and the masked probabilities.
struct Cache {
    x: Vec<f64>,
    h_prev: Vec<f64>,
    h: Vec<f64>,
    p: Vec<f64>,
}

impl Policy {
    /// A policy for decisions with `cards[d]` choices each. Layout of
    /// `theta`: the start input (e), one embedding table per decision
    /// (`cards[d]` x e), W_x (h x e), W_h (h x h), b (h), then per decision
    /// V_d (`cards[d]` x h) and c_d (`cards[d]`). Weights start uniform in
    /// [-0.1, 0.1] (Zoph and Le 2017, section 4.1), biases c_d at zero.
    pub fn new(cards: &[usize], e: usize, h: usize, rng: &mut Rng) -> Self {
        let mut n = e;
        let mut off_emb = Vec::with_capacity(cards.len());
        for &k in cards {
            off_emb.push(n);
            n += k * e;
        }
        let off_wx = n;
        let off_wh = off_wx + h * e;
        let off_b = off_wh + h * h;
        n = off_b + h;
        let mut off_v = Vec::with_capacity(cards.len());
        let mut off_c = Vec::with_capacity(cards.len());
        for &k in cards {
            off_v.push(n);
            off_c.push(n + k * h);
            n += k * h + k;
        }
        let mut theta: Vec<f64> = (0..n).map(|_| rng.uniform_in(-0.1, 0.1)).collect();
        for (d, &k) in cards.iter().enumerate() {
            theta[off_c[d]..off_c[d] + k].fill(0.0);
        }
        Policy {
            cards: cards.to_vec(),
            e,
            h,
            theta,
            off_emb,
            off_wx,
            off_wh,
            off_b,
            off_v,
            off_c,
        }
    }

    /// Number of choices of each decision.
    pub fn cards(&self) -> &[usize] {
        &self.cards
    }

    /// The input of a step: the start vector, or the embedding of the
    /// previous step's choice.
    fn input(&self, prev: Option<(usize, usize)>) -> &[f64] {
        let o = match prev {
            None => 0,
            Some((d, a)) => self.off_emb[d] + a * self.e,
        };
        &self.theta[o..o + self.e]
    }

    /// One cell step: the new state from the previous one and the input.
    fn cell(&self, x: &[f64], h_prev: &[f64]) -> Vec<f64> {
        let (e, hd) = (self.e, self.h);
        (0..hd)
            .map(|i| {
                let wx = &self.theta[self.off_wx + i * e..self.off_wx + (i + 1) * e];
                let wh = &self.theta[self.off_wh + i * hd..self.off_wh + (i + 1) * hd];
                let s: f64 = self.theta[self.off_b + i]
                    + wx.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
                    + wh.iter().zip(h_prev).map(|(w, v)| w * v).sum::<f64>();
                s.tanh()
            })
            .collect()
    }

    /// Masked softmax probabilities of decision `d` at state `h`.
    fn probs(&self, d: usize, h: &[f64], mask: &[bool]) -> Vec<f64> {
        let (k, hd) = (self.cards[d], self.h);
        let z: Vec<f64> = (0..k)
            .map(|j| {
                let o = self.off_v[d] + j * hd;
                self.theta[self.off_c[d] + j]
                    + self.theta[o..o + hd]
                        .iter()
                        .zip(h)
                        .map(|(w, v)| w * v)
                        .sum::<f64>()
            })
            .collect();
        masked_softmax(&z, mask)
    }

    /// Starts an episode: the initial (zero) state.
    pub fn start(&self) -> Vec<f64> {
        vec![0.0; self.h]
    }

    /// The probabilities of decision `d` after the steps so far (`state`,
    /// updated in place, and the previous choice `prev`).
    pub fn step(
        &self,
        state: &mut Vec<f64>,
        prev: Option<(usize, usize)>,
        d: usize,
        mask: &[bool],
    ) -> Vec<f64> {
        let h = self.cell(self.input(prev), state);
        let p = self.probs(d, &h, mask);
        *state = h;
        p
    }

    fn forward(&self, steps: &[Step]) -> Vec<Cache> {
        let mut h_prev = self.start();
        let mut prev = None;
        let mut out = Vec::with_capacity(steps.len());
        for st in steps {
            let x = self.input(prev).to_vec();
            let h = self.cell(&x, &h_prev);
            let p = self.probs(st.d, &h, &st.mask);
            prev = Some((st.d, st.a));
            out.push(Cache {
                x,
                h_prev: std::mem::replace(&mut h_prev, h.clone()),
                h,
                p,
            });
        }
        out
    }

    /// The REINFORCE loss of one episode (Williams 1992, eq. 11, as a loss to
    /// minimise, with Williams and Peng's 1991 entropy bonus):
    /// `L = -A sum_s log pi(a_s) - beta sum_s H(pi_s)`. Adds dL/dtheta,
    /// times `scale`, to `grad` and returns L.
    pub fn loss_grad(
        &self,
        steps: &[Step],
        advantage: f64,
        beta: f64,
        scale: f64,
        grad: &mut [f64],
    ) -> f64 {
        let caches = self.forward(steps);
        let (e, hd) = (self.e, self.h);
        let mut loss = 0.0;
        let mut dh_next = vec![0.0; hd];
        for (s, (st, c)) in steps.iter().zip(&caches).enumerate().rev() {
            let ent: f64 =
                -c.p.iter()
                    .filter(|&&p| p > 0.0)
                    .map(|p| p * p.ln())
                    .sum::<f64>();
            loss += -advantage * c.p[st.a].ln() - beta * ent;
            // dL/dz_j = -A (1[j = a] - p_j) + beta p_j (ln p_j + H); zero
            // where masked (p_j = 0).
            let dz: Vec<f64> =
                c.p.iter()
                    .enumerate()
                    .map(|(j, &p)| {
                        if p <= 0.0 {
                            return 0.0;
                        }
                        let ind = if j == st.a { 1.0 } else { 0.0 };
                        -advantage * (ind - p) + beta * p * (p.ln() + ent)
                    })
                    .collect();
            let mut dh = std::mem::take(&mut dh_next);
            for (j, &g) in dz.iter().enumerate() {
                if g == 0.0 {
                    continue;
                }
                grad[self.off_c[st.d] + j] += scale * g;
                let o = self.off_v[st.d] + j * hd;
                for i in 0..hd {
                    grad[o + i] += scale * g * c.h[i];
                    dh[i] += g * self.theta[o + i];
                }
            }
            // Through tanh: dpre = dh (1 - h^2).
            let dpre: Vec<f64> = dh
                .iter()
                .zip(&c.h)
                .map(|(g, h)| g * (1.0 - h * h))
                .collect();
            let x_off = if s == 0 {
                0
            } else {
                let p = &steps[s - 1];
                self.off_emb[p.d] + p.a * e
            };
            dh_next = vec![0.0; hd];
            for i in 0..hd {
                let g = dpre[i];
                grad[self.off_b + i] += scale * g;
                for j in 0..e {
                    grad[self.off_wx + i * e + j] += scale * g * c.x[j];
                    grad[x_off + j] += scale * g * self.theta[self.off_wx + i * e + j];
                }
                for j in 0..hd {
                    grad[self.off_wh + i * hd + j] += scale * g * c.h_prev[j];
                    dh_next[j] += g * self.theta[self.off_wh + i * hd + j];
                }
            }
        }
        loss
    }

    /// PPO's clipped surrogate (Schulman et al. 2017, "Proximal Policy
    /// Optimization Algorithms", eq. 7) for one episode, as a loss with the
    /// same entropy bonus: `L = -min(rho A, clip(rho, 1 - eps, 1 + eps) A)
    /// - beta sum_s H(pi_s)`, `rho = pi(episode) / pi_old(episode)` from
    /// `log_old`. Since d rho = rho d log pi, the gradient is
    /// [`Policy::loss_grad`]'s with advantage `rho A` where the minimum takes
    /// the unclipped term, 0 where it takes the clipped one. Adds dL/dtheta
    /// to `grad` and returns L.
    pub fn ppo_loss_grad(
        &self,
        steps: &[Step],
        advantage: f64,
        log_old: f64,
        eps: f64,
        beta: f64,
        grad: &mut [f64],
    ) -> f64 {
        let log_p = self.log_prob(steps);
        let rho = (log_p - log_old).exp();
        let unclipped = rho * advantage;
        let clipped = rho.clamp(1.0 - eps, 1.0 + eps) * advantage;
        let a_eff = if unclipped <= clipped {
            rho * advantage
        } else {
            0.0
        };
        // loss_grad returns -a_eff log_p - beta H: keep its entropy part.
        let entropy_part = self.loss_grad(steps, a_eff, beta, 1.0, grad) + a_eff * log_p;
        entropy_part - unclipped.min(clipped)
    }

    /// log pi(episode): the sum of the log-probabilities of its choices.
    pub fn log_prob(&self, steps: &[Step]) -> f64 {
        self.forward(steps)
            .iter()
            .zip(steps)
            .map(|(c, st)| c.p[st.a].ln())
            .sum()
    }
}

/// Softmax over the allowed entries (`mask` empty: all), zero elsewhere.
fn masked_softmax(z: &[f64], mask: &[bool]) -> Vec<f64> {
    let allowed = |j: usize| mask.is_empty() || mask[j];
    let m = (0..z.len())
        .filter(|&j| allowed(j))
        .map(|j| z[j])
        .fold(f64::NEG_INFINITY, f64::max);
    let mut p: Vec<f64> = (0..z.len())
        .map(|j| if allowed(j) { (z[j] - m).exp() } else { 0.0 })
        .collect();
    let s: f64 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= s);
    p
}

/// Adam (Kingma and Ba 2015, Algorithm 1) with its paper's beta1 = 0.9,
/// beta2 = 0.999 and epsilon = 1e-8; `m`, `v` and the step count `t` are the
/// optimiser's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    pub m: Vec<f64>,
    pub v: Vec<f64>,
    pub t: u64,
}

impl Adam {
    pub fn new(n: usize) -> Self {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// One step of size `lr` down `grad`.
    pub fn step(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        const EPS: f64 = 1e-8;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t.min(i32::MAX as u64) as i32);
        let c2 = 1.0 - B2.powi(self.t.min(i32::MAX as u64) as i32);
        for i in 0..theta.len() {
            self.m[i] = B1 * self.m[i] + (1.0 - B1) * grad[i];
            self.v[i] = B2 * self.v[i] + (1.0 - B2) * grad[i] * grad[i];
            let mh = self.m[i] / c1;
            let vh = self.v[i] / c2;
            theta[i] -= lr * mh / (vh.sqrt() + EPS);
        }
    }
}
