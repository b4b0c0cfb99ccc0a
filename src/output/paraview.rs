//! The trained fields as ParaView files ([`super::vtk`]): each field, and for fields
//! with a closed-form exact solution `exact_<field>` and `error_<field>` (field − exact),
//! on a regular grid over the spatial domain — `solution.vti`, or for time-dependent
//! problems `solution.pvd` over [`TIME_STEPS`] files `vtk/solution_<k>.vti`. A
//! time-only problem (an ODE system) has no spatial grid: its `solution.vti` is a line
//! along the time axis.

use super::figures::exact_values;
use super::vtk::{write_pvd, write_vti, ImageGrid, PointArray};
use super::{grid_axis, OutputError};
use crate::compile::sample::in_domain;
use crate::compile::CompiledProblem;
use crate::ir::{Problem, Shape};
use burn::tensor::backend::Backend;
use std::path::{Path, PathBuf};

/// Frames of a time-dependent problem: `t0` to `t1` in equal steps, both ends included.
pub const TIME_STEPS: usize = 21;

/// Where the grid of [`write_paraview`] lies.
#[derive(Debug, Clone, PartialEq)]
pub struct ParaviewGrid {
    /// Indices of the coordinates along the grid axes: the first three spatial ones, or
    /// the time coordinate in a time-only problem.
    pub axes: Vec<usize>,
    /// Points per axis.
    pub per_axis: usize,
    /// The grid.
    pub image: ImageGrid,
    /// Values of the coordinates that are not axes (further spatial ones sit at the middle
    /// of their range; the time is set per frame), indexed like `Problem::coords`.
    pub base: Vec<f64>,
}

impl ParaviewGrid {
    /// The grid for `problem` with about `grid²` points, like `solution.csv`: `per_axis`
    /// is `grid^(2/d)` for `d` axes (at least 2), over the bounding box.
    pub fn new(problem: &Problem, grid: usize) -> Self {
        let mut axes: Vec<usize> = problem.spatial_coords().into_iter().take(3).collect();
        if axes.is_empty() {
            axes.extend(problem.time_coord());
        }
        let d = axes.len().max(1);
        let grid = grid.max(2);
        let per_axis = ((grid * grid) as f64).powf(1.0 / d as f64).round().max(2.0) as usize;
        let mut image = ImageGrid {
            origin: [0.0; 3],
            spacing: [0.0; 3],
            counts: [1; 3],
        };
        for (axis, &coord) in axes.iter().enumerate() {
            let c = &problem.coords[coord];
            image.origin[axis] = c.lo;
            image.spacing[axis] = (c.hi - c.lo) / (per_axis - 1) as f64;
            image.counts[axis] = per_axis;
        }
        let base = problem.coords.iter().map(|c| 0.5 * (c.lo + c.hi)).collect();
        ParaviewGrid {
            axes,
            per_axis,
            image,
            base,
        }
    }

    /// The grid's points at time `time` (ignored without a time coordinate), `[n, d]`
    /// row-major in the problem's coordinate order, first axis fastest.
    pub fn points(&self, problem: &Problem, time: Option<f64>) -> Vec<f64> {
        let d = problem.coords.len();
        let axis_values: Vec<Vec<f64>> = self
            .axes
            .iter()
            .map(|&c| grid_axis(problem.coords[c].lo, problem.coords[c].hi, self.per_axis))
            .collect();
        let mut base = self.base.clone();
        if let (Some(t), Some(value)) = (problem.time_coord(), time) {
            base[t] = value;
        }
        let n = self.image.n_points();
        let mut points = Vec::with_capacity(n * d);
        let mut index = [0usize; 3];
        for _ in 0..n {
            let start = points.len();
            points.extend_from_slice(&base);
            for (axis, &coord) in self.axes.iter().enumerate() {
                points[start + coord] = axis_values[axis][index[axis]];
            }
            // Odometer, first axis fastest (VTK's point order).
            for (axis, i) in index.iter_mut().enumerate() {
                *i += 1;
                if *i < self.image.counts[axis] {
                    break;
                }
                *i = 0;
            }
        }
        points
    }
}

/// Whether every spatial factor is a box (then every grid point is inside).
fn box_domain(problem: &Problem) -> bool {
    problem
        .domain
        .factors
        .iter()
        .all(|f| matches!(f.shape, Shape::Box(_)))
}

/// The point arrays at `points`: each field, then `exact_<field>` and `error_<field>`
/// where a closed-form exact solution is known; NaN where `hidden`.
fn arrays<B: Backend>(
    problem: &Problem,
    program: &CompiledProblem<B>,
    theta: &[f64],
    points: &[f64],
    hidden: &[bool],
) -> Vec<PointArray> {
    let mask = |values: Vec<f64>| -> Vec<f64> {
        values
            .into_iter()
            .zip(hidden)
            .map(|(v, &h)| if h { f64::NAN } else { v })
            .collect()
    };
    let predicted = program.eval_fields(theta, points);
    let exact = exact_values(problem, points);
    let mut out: Vec<PointArray> = problem
        .fields
        .iter()
        .zip(&predicted)
        .map(|(f, values)| PointArray {
            name: f.name.clone(),
            values: mask(values.clone()),
        })
        .collect();
    for ((field, values), exact) in problem.fields.iter().zip(&predicted).zip(exact) {
        if let Some(exact) = exact {
            let error = values.iter().zip(&exact).map(|(v, e)| v - e).collect();
            out.push(PointArray {
                name: format!("exact_{}", field.name),
                values: mask(exact),
            });
            out.push(PointArray {
                name: format!("error_{}", field.name),
                values: mask(error),
            });
        }
    }
    out
}

/// Writes the ParaView files of the fields at `theta` into `dir` (see the module docs);
/// returns the paths written, the `.pvd` (or the single `.vti`) first.
///
/// Points of the grid outside a non-box domain get NaN values and are marked hidden
/// (`vtkGhostType`). Problems with more than three spatial coordinates are cut at the
/// middle of the others.
///
/// # Errors
/// A file cannot be written.
pub fn write_paraview<B: Backend>(
    dir: &Path,
    problem: &Problem,
    program: &CompiledProblem<B>,
    theta: &[f64],
    grid: usize,
) -> Result<Vec<PathBuf>, OutputError> {
    let layout = ParaviewGrid::new(problem, grid);
    let d = problem.coords.len().max(1);
    let frame = |time: Option<f64>, path: &Path| -> Result<(), OutputError> {
        let points = layout.points(problem, time);
        let hidden: Vec<bool> = if box_domain(problem) {
            vec![false; points.len() / d]
        } else {
            points.chunks(d).map(|x| !in_domain(problem, x)).collect()
        };
        let arrays = arrays(problem, program, theta, &points, &hidden);
        let mask = hidden.iter().any(|&h| h).then_some(hidden.as_slice());
        write_vti(path, &layout.image, &arrays, mask)
    };
    // In a time-only problem the time is the grid's axis: one image, no frames.
    match problem.time_coord().filter(|t| !layout.axes.contains(t)) {
        None => {
            let path = dir.join("solution.vti");
            frame(None, &path)?;
            Ok(vec![path])
        }
        Some(t) => {
            let folder = dir.join("vtk");
            std::fs::create_dir_all(&folder).map_err(|source| OutputError::Io {
                path: folder.clone(),
                source,
            })?;
            let (t0, t1) = (problem.coords[t].lo, problem.coords[t].hi);
            let mut written = Vec::new();
            let mut steps = Vec::new();
            for (k, time) in grid_axis(t0, t1, TIME_STEPS).into_iter().enumerate() {
                let name = format!("solution_{k:03}.vti");
                let path = folder.join(&name);
                frame(Some(time), &path)?;
                written.push(path);
                steps.push((time, format!("vtk/{name}")));
            }
            let pvd = dir.join("solution.pvd");
            write_pvd(&pvd, &steps)?;
            written.insert(0, pvd);
            Ok(written)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::ScratchDir;
    use super::super::vtk::{read_pvd, read_vti};
    use super::*;
    use burn_ndarray::{NdArray, NdArrayDevice};

    type Be = NdArray<f64>;

    fn compiled(source: &str) -> (Problem, CompiledProblem<Be>, Vec<f64>) {
        let (problem, diagnostics) = crate::check_source(source, Path::new("."));
        let problem = problem.unwrap_or_else(|| panic!("{diagnostics:?}"));
        let program = CompiledProblem::<Be>::new(&problem, &NdArrayDevice::Cpu).unwrap();
        // Any θ will do: the files must hold the network's values at θ.
        let theta: Vec<f64> = (0..program.n_params())
            .map(|k| ((k * 7 % 11) as f64 - 5.0) * 0.1)
            .collect();
        (problem, program, theta)
    }

    #[test]
    fn box_domain_gives_one_image_with_fields_exact_and_error() {
        let source = "space x in [0, 2]\nspace y in [-1, 1]\nfield u, v\n\
                      -lap(u) = 1 on interior\nu = 0 on boundary\nv = u on interior\n\
                      exact u = x*y\nmodel mlp(layers = [4])\n";
        let (problem, program, theta) = compiled(source);
        let dir = ScratchDir::new("paraview-box");
        let written = write_paraview(dir.path(), &problem, &program, &theta, 10).unwrap();
        assert_eq!(written, vec![dir.path().join("solution.vti")]);
        let file = read_vti(&std::fs::read_to_string(&written[0]).unwrap()).unwrap();
        // 10² points in 2-D: 10 per axis.
        assert_eq!(file.grid.counts, [10, 10, 1]);
        assert_eq!(file.grid.origin, [0.0, -1.0, 0.0]);
        assert_eq!(file.grid.spacing[0], 2.0 / 9.0);
        let names: Vec<&str> = file.arrays.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, vec!["u", "v", "exact_u", "error_u"]);
        // The values are the network's at the grid points, x fastest.
        let layout = ParaviewGrid::new(&problem, 10);
        let points = layout.points(&problem, None);
        assert_eq!(&points[2..4], &[2.0 / 9.0, -1.0]);
        assert_eq!(&points[20..22], &[0.0, -1.0 + 2.0 / 9.0]);
        let fields = program.eval_fields(&theta, &points);
        assert_eq!(file.arrays[0].values, fields[0]);
        assert_eq!(file.arrays[1].values, fields[1]);
        for (k, p) in points.chunks(2).enumerate() {
            assert_eq!(file.arrays[2].values[k], p[0] * p[1]);
            assert_eq!(file.arrays[3].values[k], fields[0][k] - p[0] * p[1]);
        }
    }

    #[test]
    fn time_dependent_problem_gives_a_collection_of_frames() {
        let source = "time t in [0, 2]\nspace x in [0, 1]\nfield u\n\
                      dt(u) - dxx(u) = 0 on interior\nu = sin(pi*x) on initial\nu = 0 on boundary\n\
                      exact u = exp(-pi^2*t)*sin(pi*x)\nmodel mlp(layers = [3])\n";
        let (problem, program, theta) = compiled(source);
        let dir = ScratchDir::new("paraview-time");
        let written = write_paraview(dir.path(), &problem, &program, &theta, 5).unwrap();
        assert_eq!(written.len(), 1 + TIME_STEPS);
        let steps = read_pvd(&std::fs::read_to_string(&written[0]).unwrap()).unwrap();
        assert_eq!(steps.len(), TIME_STEPS);
        assert_eq!(steps[0].0, 0.0);
        assert_eq!(steps[TIME_STEPS - 1].0, 2.0);
        let (time, file) = &steps[10];
        assert_eq!(*time, 1.0);
        let frame = read_vti(&std::fs::read_to_string(dir.path().join(file)).unwrap()).unwrap();
        // 1-D space: 5² = 25 points along x.
        assert_eq!(frame.grid.counts, [25, 1, 1]);
        let points: Vec<f64> = grid_axis(0.0, 1.0, 25)
            .iter()
            .flat_map(|&x| [1.0, x])
            .collect();
        let fields = program.eval_fields(&theta, &points);
        assert_eq!(frame.arrays[0].values, fields[0]);
        let exact: Vec<f64> = points
            .chunks(2)
            .map(|p| {
                (-std::f64::consts::PI.powi(2) * p[0]).exp() * (std::f64::consts::PI * p[1]).sin()
            })
            .collect();
        for (got, want) in frame.arrays[1].values.iter().zip(&exact) {
            assert!((got - want).abs() <= 1e-14, "{got} vs {want}");
        }
    }
    #[test]
    fn time_only_problem_gives_one_line_along_the_time() {
        let source = "time t in [0, 2]\nfield x, y\n\
                      dt(x) = y on interior\ndt(y) = -x on interior\n\
                      x = 1 on initial\ny = 0 on initial\n\
                      exact y = -sin(t)\nmodel mlp(layers = [3])\n";
        let (problem, program, theta) = compiled(source);
        let dir = ScratchDir::new("paraview-ode");
        let written = write_paraview(dir.path(), &problem, &program, &theta, 5).unwrap();
        assert_eq!(written, vec![dir.path().join("solution.vti")]);
        let file = read_vti(&std::fs::read_to_string(&written[0]).unwrap()).unwrap();
        // The time is the one axis: 5² = 25 points over [0, 2].
        assert_eq!(file.grid.counts, [25, 1, 1]);
        assert_eq!(file.grid.origin, [0.0, 0.0, 0.0]);
        assert_eq!(file.grid.spacing[0], 2.0 / 24.0);
        let names: Vec<&str> = file.arrays.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, vec!["x", "y", "exact_y", "error_y"]);
        let times = grid_axis(0.0, 2.0, 25);
        let fields = program.eval_fields(&theta, &times);
        assert_eq!(file.arrays[0].values, fields[0]);
        assert_eq!(file.arrays[1].values, fields[1]);
        for (got, t) in file.arrays[2].values.iter().zip(&times) {
            assert!((got + t.sin()).abs() <= 1e-15, "{got} at t = {t}");
        }
    }

    #[test]
    fn points_outside_a_disk_are_hidden() {
        let source = "space (x, y) in disk((0, 0), 1)\nfield u\n-lap(u) = 1 on interior\nu = 0 on boundary\nmodel mlp(layers = [3])\n";
        let (problem, program, theta) = compiled(source);
        let dir = ScratchDir::new("paraview-disk");
        let written = write_paraview(dir.path(), &problem, &program, &theta, 9).unwrap();
        let file = read_vti(&std::fs::read_to_string(&written[0]).unwrap()).unwrap();
        assert_eq!(file.grid.n_points(), 81);
        let ghost = file
            .arrays
            .iter()
            .find(|a| a.name == "vtkGhostType")
            .unwrap();
        let u = &file.arrays[0];
        let points = ParaviewGrid::new(&problem, 9).points(&problem, None);
        let mut hidden = 0;
        for (k, p) in points.chunks(2).enumerate() {
            let outside = p[0] * p[0] + p[1] * p[1] > 1.0 + 1e-12;
            if outside {
                hidden += 1;
                assert_eq!(ghost.values[k], 2.0);
                assert!(u.values[k].is_nan());
            } else if p[0] * p[0] + p[1] * p[1] < 1.0 - 1e-12 {
                assert_eq!(ghost.values[k], 0.0);
                assert!(u.values[k].is_finite());
            }
        }
        // The four corner regions of the square: 81 − (points in the disk).
        assert!(hidden >= 4 * 4, "{hidden}");
    }
}
