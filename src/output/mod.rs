//! Outputs people look at: PNG plots ([`plot`]) and the solution on a regular grid as
//! CSV ([`export`]); the run's `checkpoint.json` ([`checkpoint`]); ParaView files
//! ([`vtk`], [`paraview`]).
//!
//! Every function takes plain data (slices of `f64`, names) and a path, and returns
//! `Result<(), OutputError>`; nothing here prints. Files are written atomically: the
//! bytes go to `<path>.tmp` in the same folder, which is then renamed over `<path>`, so
//! a reader (or a run interrupted mid-write) never sees a half-written file.

pub mod checkpoint;
pub mod export;
pub mod figures;
mod files;
pub mod paraview;
pub mod plot;
pub mod run_files;
#[cfg(test)]
pub(crate) mod test_util;
pub mod vtk;

pub use export::{grid_axis, regular_grid, slice_grid, write_solution_csv, FieldColumns};
pub use files::{write_atomic, OutputError};
pub use plot::{plot_heatmaps, plot_history, plot_line, plot_spectrum, Series};
