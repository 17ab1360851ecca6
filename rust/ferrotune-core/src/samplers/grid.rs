//! Grid search order: every grid point once, in an order shuffled by the seed
//! (as Optuna's GridSampler, which picks unvisited points at random).

use crate::rng::Rng;

/// Hands out each of `n` grid indices once, in a seeded random order.
#[derive(Debug, Clone, PartialEq)]
pub struct GridOrder {
    order: Vec<usize>,
    cursor: usize,
}

impl GridOrder {
    /// A shuffled order of `0..n`.
    pub fn new(n: usize, seed: u64) -> Self {
        let mut order: Vec<usize> = (0..n).collect();
        Rng::new(seed).shuffle(&mut order);
        GridOrder { order, cursor: 0 }
    }

    /// The next unvisited index, or `None` when the grid is exhausted.
    pub fn next_index(&mut self) -> Option<usize> {
        let i = self.order.get(self.cursor).copied();
        if i.is_some() {
            self.cursor += 1;
        }
        i
    }

    /// Marks index `i` as visited (a trial enqueued or loaded elsewhere).
    pub fn mark_visited(&mut self, i: usize) {
        if let Some(pos) = self.order[self.cursor..].iter().position(|&j| j == i) {
            self.order.swap(self.cursor, self.cursor + pos);
            self.cursor += 1;
        }
    }

    /// Number of indices not yet handed out.
    pub fn remaining(&self) -> usize {
        self.order.len() - self.cursor
    }

    /// Total number of grid points.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True for an empty grid.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_once() {
        let mut g = GridOrder::new(50, 3);
        g.mark_visited(7);
        let mut seen: Vec<usize> = std::iter::from_fn(|| g.next_index()).collect();
        assert_eq!(seen.len(), 49);
        seen.push(7);
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        assert_eq!(GridOrder::new(50, 3).order, GridOrder::new(50, 3).order);
    }
}
