//! A Jacobian too large to store: the rows that fit a memory budget are stored, the rest
//! are recomputed in blocks at every product (ALGORITHMS.md §4.2).
//!
//! Matrix-free Gauss–Newton needs J only through `J v`, `Jᵀ w` and `Jᵀ(J x)`
//! ([`JacobianOperator`]). When `N·P·8` bytes exceed the budget, the problem hands the
//! optimizer a [`JacobianRows`] — a function of a row range at the step's θ — instead
//! of J. [`StreamedJacobian`] keeps the first `stored_rows` rows (half the budget) and,
//! for every product, computes the others `block_rows` at a time (an eighth of the
//! budget per block), uses each block and drops it. `Jᵀ(J x)` and `Jᵀ(J X)` take one
//! pass over the blocks; `J(Jᵀ w)` would take two, so GN solves the primal system on a
//! streamed J. Memory is `O(budget + (N + P)·s)` whatever N; each product costs the
//! recomputation of the streamed rows (about their share of a Jacobian evaluation).

use super::jacobian_ops::{JacobianOperator, JacobianRef};
use faer::{Mat, MatRef, Par};
use std::cell::Cell;
use std::ops::Range;

/// Rows of a Jacobian at a fixed θ, computed on demand.
pub trait JacobianRows {
    /// Number of rows `N`.
    fn n_rows(&self) -> usize;

    /// Number of columns `P`.
    fn n_cols(&self) -> usize;

    /// Rows `rows` of J, row-major (`rows.len() × P` values).
    fn rows(&self, rows: Range<usize>) -> Vec<f64>;
}

/// The default memory budget for a Jacobian: half of the machine's memory
/// (`MemTotal` of `/proc/meminfo`), or 4 GiB where that cannot be read.
/// Read once per process (GN asks at every step).
pub fn default_memory_budget() -> f64 {
    const FALLBACK: f64 = 4.0 * 1024.0 * 1024.0 * 1024.0;
    static BUDGET: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| {
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| half_of_mem_total(&text))
            .unwrap_or(FALLBACK)
    })
}

/// Half of `MemTotal` (in bytes) of a `/proc/meminfo` text.
fn half_of_mem_total(meminfo: &str) -> Option<f64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line.split_whitespace().skip(1);
    let kib: f64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB") && kib > 0.0).then_some(kib * 1024.0 / 2.0)
}

/// How a streamed Jacobian splits its rows under a budget of `budget` bytes: the
/// first `stored_rows` rows are kept (half the budget), the rest computed
/// `block_rows` at a time (an eighth of it per block, at least one row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLayout {
    /// Rows kept for the whole step.
    pub stored_rows: usize,
    /// Rows computed per block.
    pub block_rows: usize,
}

impl StreamLayout {
    /// The layout of an `n_rows × n_cols` Jacobian under `budget` bytes.
    pub fn for_budget(n_rows: usize, n_cols: usize, budget: f64) -> Self {
        let row_bytes = 8.0 * n_cols.max(1) as f64;
        let rows_in = |bytes: f64| (bytes / row_bytes).floor().max(0.0) as usize;
        let stored_rows = rows_in(budget / 2.0).min(n_rows);
        let block_rows = rows_in(budget / 8.0).clamp(1, n_rows.max(1));
        Self {
            stored_rows,
            block_rows,
        }
    }
}

/// A Jacobian whose first rows are stored and whose other rows are recomputed, block by
/// block, at every product.
pub struct StreamedJacobian {
    source: Box<dyn JacobianRows>,
    stored: Vec<f64>,
    layout: StreamLayout,
    /// Passes over the streamed rows so far (one per product).
    passes: Cell<usize>,
}

impl std::fmt::Debug for StreamedJacobian {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamedJacobian")
            .field("n_rows", &self.source.n_rows())
            .field("n_cols", &self.source.n_cols())
            .field("layout", &self.layout)
            .field("passes", &self.passes.get())
            .finish()
    }
}

impl StreamedJacobian {
    /// Computes and keeps the first `layout.stored_rows` rows of `source`.
    pub fn new(source: Box<dyn JacobianRows>, layout: StreamLayout) -> Self {
        let stored_rows = layout.stored_rows.min(source.n_rows());
        let stored = if stored_rows > 0 {
            source.rows(0..stored_rows)
        } else {
            Vec::new()
        };
        assert_eq!(
            stored.len(),
            stored_rows * source.n_cols(),
            "JacobianRows::rows returned the wrong number of values"
        );
        Self {
            source,
            stored,
            layout: StreamLayout {
                stored_rows,
                block_rows: layout.block_rows.max(1),
            },
            passes: Cell::new(0),
        }
    }

    /// The split of the rows.
    pub fn layout(&self) -> StreamLayout {
        self.layout
    }

    /// The stored rows, row-major.
    pub fn stored(&self) -> &[f64] {
        &self.stored
    }

    fn stored_ref(&self) -> JacobianRef<'_> {
        JacobianRef::new(&self.stored, self.layout.stored_rows, self.source.n_cols())
    }

    /// Calls `f(range, block)` for each block of streamed rows, in order.
    fn for_each_block(&self, mut f: impl FnMut(Range<usize>, JacobianRef<'_>)) {
        let (n, p) = (self.source.n_rows(), self.source.n_cols());
        if self.layout.stored_rows >= n {
            return;
        }
        self.passes.set(self.passes.get() + 1);
        let mut start = self.layout.stored_rows;
        while start < n {
            let end = (start + self.layout.block_rows).min(n);
            let block = self.source.rows(start..end);
            assert_eq!(
                block.len(),
                (end - start) * p,
                "JacobianRows::rows returned the wrong number of values"
            );
            f(start..end, JacobianRef::new(&block, end - start, p));
            start = end;
        }
    }
}

/// `acc += x` elementwise.
fn add_into(acc: &mut [f64], x: &[f64]) {
    for (a, v) in acc.iter_mut().zip(x) {
        *a += v;
    }
}

/// Rows `rows` of a column-major `N×k` matrix as a `rows.len()×k` view.
fn row_range(m: MatRef<'_, f64>, rows: Range<usize>) -> MatRef<'_, f64> {
    m.subrows(rows.start, rows.len())
}

impl JacobianOperator for StreamedJacobian {
    fn n_rows(&self) -> usize {
        self.source.n_rows()
    }

    fn n_cols(&self) -> usize {
        self.source.n_cols()
    }

    fn apply(&self, v: &[f64], par: Par) -> Vec<f64> {
        assert_eq!(v.len(), self.n_cols(), "J v: v has the wrong length");
        let mut out = self.stored_ref().apply(v, par);
        out.reserve(self.n_rows() - out.len());
        self.for_each_block(|_, block| out.extend(block.apply(v, par)));
        out
    }

    fn apply_transpose(&self, w: &[f64], par: Par) -> Vec<f64> {
        assert_eq!(w.len(), self.n_rows(), "Jᵀ w: w has the wrong length");
        let k = self.layout.stored_rows;
        let mut out = self.stored_ref().apply_transpose(&w[..k], par);
        self.for_each_block(|range, block| {
            add_into(&mut out, &block.apply_transpose(&w[range], par))
        });
        out
    }

    fn apply_many(&self, v: MatRef<'_, f64>, par: Par) -> Mat<f64> {
        assert_eq!(v.nrows(), self.n_cols(), "J V: V has the wrong row count");
        let mut out = Mat::zeros(self.n_rows(), v.ncols());
        let k = self.layout.stored_rows;
        if k > 0 {
            let head = self.stored_ref().apply_many(v, par);
            out.as_mut().subrows_mut(0, k).copy_from(head.as_ref());
        }
        self.for_each_block(|range, block| {
            let part = block.apply_many(v, par);
            out.as_mut()
                .subrows_mut(range.start, range.len())
                .copy_from(part.as_ref());
        });
        out
    }

    fn apply_transpose_many(&self, w: MatRef<'_, f64>, par: Par) -> Mat<f64> {
        assert_eq!(w.nrows(), self.n_rows(), "Jᵀ W: W has the wrong row count");
        let k = self.layout.stored_rows;
        let mut out = self
            .stored_ref()
            .apply_transpose_many(row_range(w, 0..k), par);
        self.for_each_block(|range, block| {
            out += block.apply_transpose_many(row_range(w, range), par);
        });
        out
    }

    fn gram_apply(&self, x: &[f64], par: Par) -> Vec<f64> {
        assert_eq!(x.len(), self.n_cols(), "Jᵀ(J x): x has the wrong length");
        let head = self.stored_ref();
        let mut out = head.apply_transpose(&head.apply(x, par), par);
        self.for_each_block(|_, block| {
            add_into(&mut out, &block.apply_transpose(&block.apply(x, par), par));
        });
        out
    }

    fn gram_apply_many(&self, x: MatRef<'_, f64>, par: Par) -> Mat<f64> {
        assert_eq!(
            x.nrows(),
            self.n_cols(),
            "Jᵀ(J X): X has the wrong row count"
        );
        let head = self.stored_ref();
        let mut out = head.apply_transpose_many(head.apply_many(x, par).as_ref(), par);
        self.for_each_block(|_, block| {
            out += block.apply_transpose_many(block.apply_many(x, par).as_ref(), par);
        });
        out
    }

    fn gram_diagonal(&self) -> Vec<f64> {
        let mut out = self.stored_ref().gram_diagonal();
        self.for_each_block(|_, block| add_into(&mut out, &block.gram_diagonal()));
        out
    }

    fn is_streamed(&self) -> bool {
        self.layout.stored_rows < self.n_rows()
    }

    /// How many passes over the streamed rows the products have taken so far.
    fn passes(&self) -> Option<usize> {
        self.is_streamed().then(|| self.passes.get())
    }
}

/// A stored row-major Jacobian served row range by row range (tests; a stand-in for a
/// problem's own evaluation).
#[derive(Debug, Clone)]
pub struct StoredRows {
    data: Vec<f64>,
    n_rows: usize,
    n_cols: usize,
    /// Row ranges asked for so far, in order.
    pub requests: std::rc::Rc<std::cell::RefCell<Vec<Range<usize>>>>,
}

impl StoredRows {
    /// Serves the rows of the row-major `n_rows × n_cols` matrix `data`.
    pub fn new(data: Vec<f64>, n_rows: usize, n_cols: usize) -> Self {
        assert_eq!(data.len(), n_rows * n_cols, "StoredRows: wrong length");
        Self {
            data,
            n_rows,
            n_cols,
            requests: Default::default(),
        }
    }
}

impl JacobianRows for StoredRows {
    fn n_rows(&self) -> usize {
        self.n_rows
    }

    fn n_cols(&self) -> usize {
        self.n_cols
    }

    fn rows(&self, rows: Range<usize>) -> Vec<f64> {
        self.requests.borrow_mut().push(rows.clone());
        self.data[rows.start * self.n_cols..rows.end * self.n_cols].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::test_problems::{random_matrix, rel_diff};

    fn layouts(n: usize) -> Vec<StreamLayout> {
        vec![
            StreamLayout {
                stored_rows: 0,
                block_rows: 1,
            },
            StreamLayout {
                stored_rows: 0,
                block_rows: 7,
            },
            StreamLayout {
                stored_rows: 5,
                block_rows: 4,
            },
            StreamLayout {
                stored_rows: n / 2,
                block_rows: n,
            },
            StreamLayout {
                stored_rows: n,
                block_rows: 3,
            },
        ]
    }

    /// Every product of a streamed J equals the same product with J stored, for row
    /// splits that leave nothing, some or everything stored, blocks of one row to all.
    #[test]
    fn streamed_products_equal_stored_products() {
        let (n, p, k) = (41, 17, 3);
        let j = random_matrix(n, p, 11);
        let stored = JacobianRef::new(&j, n, p);
        let v = random_matrix(p, 1, 12);
        let w = random_matrix(n, 1, 13);
        let vm = Mat::from_fn(p, k, |i, c| ((i * k + c) as f64 * 0.37).sin());
        let wm = Mat::from_fn(n, k, |i, c| ((i * k + c) as f64 * 0.53).cos());
        for par in [Par::Seq, Par::rayon(2)] {
            for layout in layouts(n) {
                let streamed =
                    StreamedJacobian::new(Box::new(StoredRows::new(j.clone(), n, p)), layout);
                let close = |a: &[f64], b: &[f64], what: &str| {
                    assert!(
                        rel_diff(a, b) < 1e-14,
                        "{what} {layout:?}: {}",
                        rel_diff(a, b)
                    );
                };
                let flat = |m: Mat<f64>| -> Vec<f64> {
                    (0..m.ncols())
                        .flat_map(|c| (0..m.nrows()).map(move |i| (c, i)))
                        .map(|(c, i)| m[(i, c)])
                        .collect()
                };
                close(&streamed.apply(&v, par), &stored.apply(&v, par), "J v");
                close(
                    &streamed.apply_transpose(&w, par),
                    &stored.apply_transpose(&w, par),
                    "Jᵀ w",
                );
                close(
                    &streamed.gram_apply(&v, par),
                    &stored.apply_transpose(&stored.apply(&v, par), par),
                    "Jᵀ(J v)",
                );
                close(
                    &flat(streamed.apply_many(vm.as_ref(), par)),
                    &flat(stored.apply_many(vm.as_ref(), par)),
                    "J V",
                );
                close(
                    &flat(streamed.apply_transpose_many(wm.as_ref(), par)),
                    &flat(stored.apply_transpose_many(wm.as_ref(), par)),
                    "Jᵀ W",
                );
                let gram =
                    stored.apply_transpose_many(stored.apply_many(vm.as_ref(), par).as_ref(), par);
                close(
                    &flat(streamed.gram_apply_many(vm.as_ref(), par)),
                    &flat(gram),
                    "Jᵀ(J V)",
                );
                close(&streamed.gram_diagonal(), &stored.gram_diagonal(), "diag");
                assert_eq!(streamed.is_streamed(), layout.stored_rows < n);
            }
        }
    }

    /// Only the rows past the stored ones are recomputed, in blocks of the layout's size,
    /// once per product; the fused `Jᵀ(J x)` takes one pass, not two.
    #[test]
    fn a_product_recomputes_each_streamed_row_once() {
        let (n, p) = (23, 5);
        let j = random_matrix(n, p, 21);
        let source = StoredRows::new(j, n, p);
        let requests = source.requests.clone();
        let streamed = StreamedJacobian::new(
            Box::new(source),
            StreamLayout {
                stored_rows: 8,
                block_rows: 6,
            },
        );
        assert_eq!(requests.borrow().len(), 1);
        assert_eq!(requests.borrow()[0], 0..8);
        requests.borrow_mut().clear();
        streamed.gram_apply(&[1.0; 5], Par::Seq);
        assert_eq!(requests.borrow().as_slice(), &[8..14, 14..20, 20..23]);
        assert_eq!(streamed.passes(), Some(1));
        streamed.apply(&[1.0; 5], Par::Seq);
        assert_eq!(streamed.passes(), Some(2));
    }

    #[test]
    fn the_layout_keeps_half_the_budget_and_blocks_an_eighth() {
        // 1,000 columns: 8,000 bytes a row; 8 MB: 500 stored rows, blocks of 125.
        let layout = StreamLayout::for_budget(10_000, 1_000, 8e6);
        assert_eq!(
            layout,
            StreamLayout {
                stored_rows: 500,
                block_rows: 125
            }
        );
        // A budget below one row still streams one row at a time.
        let tiny = StreamLayout::for_budget(10, 1_000, 100.0);
        assert_eq!((tiny.stored_rows, tiny.block_rows), (0, 1));
        // A budget above J stores it all.
        assert_eq!(StreamLayout::for_budget(10, 10, 1e9).stored_rows, 10);
    }

    #[test]
    fn the_default_budget_is_half_of_mem_total() {
        let meminfo = "MemFree:  100 kB\nMemTotal:       16318000 kB\nSwapTotal: 0 kB\n";
        assert_eq!(half_of_mem_total(meminfo), Some(16_318_000.0 * 512.0));
        assert_eq!(half_of_mem_total("MemTotal: lots\n"), None);
        assert_eq!(half_of_mem_total("MemTotal: 12 MB\n"), None);
        assert_eq!(half_of_mem_total("MemFree: 12 kB\n"), None);
    }
}
