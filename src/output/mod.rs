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
pub mod paraview;
pub mod plot;
pub mod run_files;
pub mod vtk;

pub use export::{grid_axis, regular_grid, slice_grid, write_solution_csv, FieldColumns};
pub use plot::{plot_heatmaps, plot_history, plot_line, plot_spectrum, Series};

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Creating, writing or renaming the file failed (missing folder, no permission, disk full).
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        #[source]
        /// The OS error.
        source: std::io::Error,
    },
    /// The drawing library failed (font or backend error).
    #[error("cannot draw {}: {message}", path.display())]
    Draw {
        /// The file.
        path: PathBuf,
        /// The library's message.
        message: String,
    },
    /// The data given does not fit together (lengths differ, a grid that is not `nx × ny`).
    #[error("cannot write {}: {message}", path.display())]
    InvalidData {
        /// The file.
        path: PathBuf,
        /// What does not fit.
        message: String,
    },
}

impl OutputError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            OutputError::Io { path, .. }
            | OutputError::Draw { path, .. }
            | OutputError::InvalidData { path, .. } => path,
        }
    }

    pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> Self {
        OutputError::InvalidData {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// `<path>.tmp`: the sibling the bytes are written to before the rename.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Writes `bytes` to `path` atomically (write `<path>.tmp`, flush to disk, rename).
///
/// # Errors
/// [`OutputError::Io`] naming `path` when any step fails; the temporary file is removed
/// then, so a failure leaves neither a partial `path` nor a stray `.tmp`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    if path.file_name().is_none() {
        return Err(OutputError::invalid(path, "the path does not name a file"));
    }
    let tmp = tmp_path(path);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        // Without the sync a crash after the rename could leave an empty file in place.
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        // Best effort: the tmp file may not exist (create failed), which is fine.
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
pub(crate) mod test_util {
    //! A scratch folder per test, removed on drop.
    use std::path::{Path, PathBuf};

    pub struct ScratchDir(PathBuf);

    impl ScratchDir {
        pub fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("pdec-output-{}-{}", name, std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create scratch dir");
            ScratchDir(dir)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }

        /// Names of the entries in the folder, sorted.
        pub fn entries(&self) -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(&self.0)
                .expect("read scratch dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for ScratchDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::ScratchDir;
    use super::*;

    #[test]
    fn atomic_write_replaces_file_and_leaves_no_tmp() {
        let dir = ScratchDir::new("atomic");
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(dir.entries(), vec!["a.txt".to_string()]);
    }

    #[test]
    fn atomic_write_into_missing_folder_names_the_path() {
        let dir = ScratchDir::new("atomic-missing");
        let path = dir.path().join("no-such-dir").join("a.txt");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert!(matches!(err, OutputError::Io { .. }), "{err:?}");
        assert_eq!(err.path(), path);
        assert!(err.to_string().contains("no-such-dir"), "{err}");
        assert!(dir.entries().is_empty());
    }

    #[test]
    fn atomic_write_under_a_regular_file_fails() {
        let dir = ScratchDir::new("atomic-under-file");
        let file = dir.path().join("plain");
        fs::write(&file, b"not a folder").unwrap();
        let path = file.join("a.txt");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
        assert_eq!(dir.entries(), vec!["plain".to_string()]);
    }
}
