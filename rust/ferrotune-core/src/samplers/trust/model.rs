//! The model of one trust-region step: which points it interpolates, the
//! quadratic through them, and its minimiser in the trust region.
//!
//! Coordinates here are scaled displacements `s = (u - centre) / radius`,
//! so the trust region is the unit ball and every size below is relative to
//! the radius.

/// Smallest part of a point's scaled displacement outside the span of the
/// points chosen before it for that point to count towards the affine set
/// (Wild, Regis and Shoemaker 2008, ORBIT's `AffPoints`, their θ).
pub const THETA: f64 = 0.1;

/// The greedy affine selection (ORBIT's `AffPoints`): walks `s` in order and
/// keeps a point when the part of it orthogonal to the points kept before is
/// at least [`THETA`] long. Returns the indices kept and an orthonormal basis
/// of their span (one `d`-vector per kept point).
pub fn affine_points(s: &[Vec<f64>], d: usize) -> (Vec<usize>, Vec<Vec<f64>>) {
    let mut kept = Vec::new();
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for (i, si) in s.iter().enumerate() {
        if basis.len() == d {
            break;
        }
        let r = residual(si, &basis);
        let norm = dot(&r, &r).sqrt();
        if norm >= THETA {
            basis.push(r.iter().map(|x| x / norm).collect());
            kept.push(i);
        }
    }
    (kept, basis)
}

/// `v` minus its projection onto the span of the orthonormal `basis`
/// (Gram-Schmidt, applied twice for accuracy).
pub fn residual(v: &[f64], basis: &[Vec<f64>]) -> Vec<f64> {
    let mut r = v.to_vec();
    for _ in 0..2 {
        for q in basis {
            let a = dot(&r, q);
            for (x, qk) in r.iter_mut().zip(q) {
                *x -= a * qk;
            }
        }
    }
    r
}

/// The unit direction of the coordinate axis least covered by `basis`: the
/// normalised residual of the axis whose residual is longest.
pub fn uncovered_direction(basis: &[Vec<f64>], d: usize) -> Vec<f64> {
    let mut best = (0.0, vec![0.0; d]);
    for j in 0..d {
        let mut e = vec![0.0; d];
        e[j] = 1.0;
        let r = residual(&e, basis);
        let n = dot(&r, &r).sqrt();
        if n > best.0 {
            best = (n, r.iter().map(|x| x / n).collect());
        }
    }
    best.1
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A quadratic `c + g·s + s'Hs / 2`.
#[derive(Debug, Clone)]
pub struct Quadratic {
    pub c: f64,
    pub g: Vec<f64>,
    /// Row-major `d × d`.
    pub h: Vec<f64>,
}

impl Quadratic {
    pub fn value(&self, s: &[f64]) -> f64 {
        let hs = self.hess_times(s);
        self.c + dot(&self.g, s) + 0.5 * dot(s, &hs)
    }

    pub fn hess_times(&self, v: &[f64]) -> Vec<f64> {
        let d = self.g.len();
        (0..d)
            .map(|i| dot(&self.h[i * d..(i + 1) * d], v))
            .collect()
    }
}

/// The quadratic that interpolates `f` at the points `s` with the least
/// Frobenius norm of its Hessian (Conn, Scheinberg and Vicente 2009,
/// "Introduction to Derivative-Free Optimization", section 5.3). The points
/// must hold an affine basis (`d + 1` affinely independent points); with
/// exactly `d + 1` the model is linear. None when the system is singular.
///
/// The system, for `m` points: `[A 1 S; 1' 0 0; S' 0 0] [λ; c; g] = [f; 0; 0]`
/// with `A_ij = (s_i·s_j)² / 2`, and `H = Σ λ_i s_i s_i'`.
pub fn min_frobenius(s: &[Vec<f64>], f: &[f64], d: usize) -> Option<Quadratic> {
    least_change(s, f, d, None)
}

/// [`min_frobenius`] for the change of the Hessian from `h0` (row-major
/// `d × d`; None: zero): the least-change model of Powell (2004, "Least
/// Frobenius norm updating of quadratic models that satisfy interpolation
/// conditions", NEWUOA's and BOBYQA's), here solved afresh from the points
/// rather than updated one point at a time. It interpolates `f - s'h0 s / 2`
/// with the least-norm Hessian and adds `h0` back.
pub fn least_change(s: &[Vec<f64>], f: &[f64], d: usize, h0: Option<&[f64]>) -> Option<Quadratic> {
    let m = s.len();
    let n = m + 1 + d;
    let mut w = vec![0.0; n * n];
    for i in 0..m {
        for j in 0..=i {
            let a = dot(&s[i], &s[j]);
            w[i * n + j] = 0.5 * a * a;
            w[j * n + i] = 0.5 * a * a;
        }
        w[i * n + m] = 1.0;
        w[m * n + i] = 1.0;
        for k in 0..d {
            w[i * n + m + 1 + k] = s[i][k];
            w[(m + 1 + k) * n + i] = s[i][k];
        }
    }
    let mut rhs = vec![0.0; n];
    rhs[..m].copy_from_slice(f);
    let prior = Quadratic {
        c: 0.0,
        g: vec![0.0; d],
        h: h0.map_or_else(|| vec![0.0; d * d], <[f64]>::to_vec),
    };
    for (r, si) in rhs.iter_mut().zip(s) {
        *r -= prior.value(si);
    }
    let x = lu_solve(w, rhs, n)?;
    let (lambda, rest) = x.split_at(m);
    let c = rest[0];
    let g = rest[1..].to_vec();
    let mut h = prior.h;
    for (l, si) in lambda.iter().zip(s) {
        for a in 0..d {
            for b in 0..d {
                h[a * d + b] += l * si[a] * si[b];
            }
        }
    }
    let q = Quadratic { c, g, h };
    let all_finite = q.c.is_finite() && q.g.iter().chain(&q.h).all(|x| x.is_finite());
    all_finite.then_some(q)
}

/// Solves `a x = b` (`a` row-major `n × n`) by Gaussian elimination with
/// partial pivoting; None when a pivot is (relatively) zero.
pub fn lu_solve(mut a: Vec<f64>, mut b: Vec<f64>, n: usize) -> Option<Vec<f64>> {
    let scale = a
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()))
        .max(f64::MIN_POSITIVE);
    for k in 0..n {
        let (p, big) = (k..n)
            .map(|i| (i, a[i * n + k].abs()))
            .fold((k, -1.0), |acc, x| if x.1 > acc.1 { x } else { acc });
        if big <= 1e-13 * scale {
            return None;
        }
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
            b.swap(k, p);
        }
        let piv = a[k * n + k];
        for i in k + 1..n {
            let factor = a[i * n + k] / piv;
            if factor != 0.0 {
                for j in k..n {
                    a[i * n + j] -= factor * a[k * n + j];
                }
                b[i] -= factor * b[k];
            }
        }
    }
    let mut x = vec![0.0; n];
    for k in (0..n).rev() {
        let tail: f64 = (k + 1..n).map(|j| a[k * n + j] * x[j]).sum();
        x[k] = (b[k] - tail) / a[k * n + k];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// An approximate minimiser of `q` over the unit ball intersected with the
/// box `[lo, hi]` (which holds 0): truncated conjugate gradients (Steihaug
/// 1983, Toint 1981) that fix a variable at its bound when a step reaches it
/// and go on over the others, as BOBYQA's `TRSBOX` does (without its
/// final search along the boundary of the ball).
pub fn trust_step(q: &Quadratic, lo: &[f64], hi: &[f64]) -> Vec<f64> {
    let d = q.g.len();
    let mut s = vec![0.0; d];
    // Variables at a bound that the gradient pushes out of the box start fixed.
    let mut free: Vec<bool> = (0..d)
        .map(|k| !((lo[k] >= 0.0 && q.g[k] > 0.0) || (hi[k] <= 0.0 && q.g[k] < 0.0)))
        .collect();
    for _ in 0..=d {
        let hs = q.hess_times(&s);
        let mut r: Vec<f64> = (0..d)
            .map(|k| if free[k] { -(q.g[k] + hs[k]) } else { 0.0 })
            .collect();
        let mut p = r.clone();
        let mut rr = dot(&r, &r);
        let g_norm = dot(&q.g, &q.g).sqrt();
        let mut fixed_one = false;
        for _ in 0..d {
            if rr.sqrt() <= 1e-10 * g_norm.max(1e-300) {
                return s;
            }
            let hp = q.hess_times(&p);
            let php = dot(&p, &hp);
            // Longest step along p inside the ball: ||s + a p|| = 1.
            let (pp, sp, ss) = (dot(&p, &p), dot(&s, &p), dot(&s, &s));
            let a_ball = (-sp + (sp * sp + pp * (1.0 - ss).max(0.0)).sqrt()) / pp;
            // And inside the box.
            let mut a_box = f64::INFINITY;
            let mut hit = None;
            for k in 0..d {
                if !free[k] || p[k] == 0.0 {
                    continue;
                }
                let room = if p[k] > 0.0 {
                    hi[k] - s[k]
                } else {
                    lo[k] - s[k]
                };
                let a = (room / p[k]).max(0.0);
                if a < a_box {
                    a_box = a;
                    hit = Some(k);
                }
            }
            let a_cg = if php > 0.0 { rr / php } else { f64::INFINITY };
            let a = a_cg.min(a_ball).min(a_box);
            for k in 0..d {
                s[k] += a * p[k];
            }
            if a == a_ball && a <= a_box {
                return s;
            }
            if a == a_box {
                let k = hit.expect("a finite box step has a variable");
                s[k] = if p[k] > 0.0 { hi[k] } else { lo[k] };
                free[k] = false;
                fixed_one = true;
                break;
            }
            for k in 0..d {
                r[k] -= a * hp[k];
            }
            let rr_new = dot(&r, &r);
            let beta = rr_new / rr;
            for k in 0..d {
                p[k] = r[k] + beta * p[k];
            }
            rr = rr_new;
        }
        if !fixed_one {
            return s;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_frobenius_interpolates_and_recovers_a_quadratic() {
        // f(s) = 1 + 2 s0 - s1 + s0^2 + 3 s1^2 + s0 s1 at the 6 points a full
        // quadratic in 2-D needs: the model is that quadratic.
        let f = |s: &[f64]| 1.0 + 2.0 * s[0] - s[1] + s[0] * s[0] + 3.0 * s[1] * s[1] + s[0] * s[1];
        let pts: Vec<Vec<f64>> = [
            [0.0, 0.0],
            [1.0, 0.0],
            [0.0, 1.0],
            [-1.0, 0.0],
            [0.0, -1.0],
            [0.7, 0.7],
        ]
        .iter()
        .map(|p| p.to_vec())
        .collect();
        let fs: Vec<f64> = pts.iter().map(|p| f(p)).collect();
        let q = min_frobenius(&pts, &fs, 2).unwrap();
        for p in &pts {
            assert!((q.value(p) - f(p)).abs() < 1e-9);
        }
        assert!((q.value(&[0.3, -0.4]) - f(&[0.3, -0.4])).abs() < 1e-9);
        assert!((q.h[0] - 2.0).abs() < 1e-9 && (q.h[3] - 6.0).abs() < 1e-9);
        assert!((q.h[1] - 1.0).abs() < 1e-9);
        // With d + 1 points the model is linear: the plane through them.
        let lin = min_frobenius(&pts[..3], &fs[..3], 2).unwrap();
        assert!(lin.h.iter().all(|x| x.abs() < 1e-12));
        assert!((lin.g[0] - 3.0).abs() < 1e-9 && (lin.g[1] - 2.0).abs() < 1e-9);
    }

    #[test]
    fn least_change_keeps_the_prior_where_the_points_say_nothing() {
        // d + 1 points fix only a plane: the model keeps the prior Hessian.
        let h0 = [2.0, 0.5, 0.5, 6.0];
        let f = |s: &[f64]| {
            1.0 + s[0] - 2.0 * s[1] + s[0] * s[0] + 3.0 * s[1] * s[1] + 0.5 * s[0] * s[1]
        };
        let pts: Vec<Vec<f64>> = vec![vec![0.0, 0.0], vec![0.5, 0.0], vec![0.0, -0.5]];
        let fs: Vec<f64> = pts.iter().map(|p| f(p)).collect();
        let q = least_change(&pts, &fs, 2, Some(&h0)).unwrap();
        assert!(q.h.iter().zip(&h0).all(|(a, b)| (a - b).abs() < 1e-12));
        assert!((q.value(&[0.3, 0.7]) - f(&[0.3, 0.7])).abs() < 1e-9);
    }

    #[test]
    fn affine_selection_skips_points_in_the_span_and_finds_the_gap() {
        let s = vec![
            vec![1.0, 0.0, 0.0],
            vec![2.0, 0.01, 0.0],
            vec![0.0, 0.0, 1.0],
        ];
        let (kept, basis) = affine_points(&s, 3);
        assert_eq!(kept, vec![0, 2]);
        let dir = uncovered_direction(&basis, 3);
        assert!((dir[1].abs() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn trust_step_stays_in_ball_and_box_and_descends() {
        // A convex bowl with its minimum at (2, -3), far outside the ball.
        let q = Quadratic {
            c: 0.0,
            g: vec![-2.0, 3.0],
            h: vec![1.0, 0.0, 0.0, 1.0],
        };
        let s = trust_step(&q, &[-1.0, -1.0], &[1.0, 1.0]);
        assert!((dot(&s, &s).sqrt() - 1.0).abs() < 1e-9);
        assert!(q.value(&s) < 0.0);
        // A box edge at 0.1 in the first variable: the step stops on it and
        // goes on along the second.
        let s = trust_step(&q, &[-1.0, -1.0], &[0.1, 1.0]);
        assert!((s[0] - 0.1).abs() < 1e-12 && s[1] < -0.9);
        // The minimum inside: reached.
        let q = Quadratic {
            c: 0.0,
            g: vec![-0.2, 0.1],
            h: vec![2.0, 0.0, 0.0, 2.0],
        };
        let s = trust_step(&q, &[-1.0, -1.0], &[1.0, 1.0]);
        assert!((s[0] - 0.1).abs() < 1e-9 && (s[1] + 0.05).abs() < 1e-9);
        // Negative curvature: to the ball's edge.
        let q = Quadratic {
            c: 0.0,
            g: vec![0.0, 0.1],
            h: vec![-1.0, 0.0, 0.0, -1.0],
        };
        let s = trust_step(&q, &[-1.0, -1.0], &[1.0, 1.0]);
        assert!((dot(&s, &s).sqrt() - 1.0).abs() < 1e-9 && q.value(&s) < -0.4);
    }
}
