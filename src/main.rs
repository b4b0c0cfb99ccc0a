//! The `pdec` command line: parses arguments and dispatches to one subcommand.
//!
//! Exit codes: 0 success, 1 the input has errors, 2 an IO or internal failure (an
//! unwritable folder, a missing or garbled checkpoint, a bad `--at` file), 130 a solve
//! stopped by Ctrl-C (its files written).

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    keep_freed_memory();
    cli::run(cli::Cli::parse())
}

/// Keeps freed memory in the process instead of returning it to the system.
///
/// A solve allocates and frees the same large buffers every iteration (the N×P Jacobian,
/// the sketch and its products). glibc serves blocks above its mmap threshold from fresh
/// pages and trims the heap top after each free, so every iteration paid page faults and
/// the zeroing of new pages: on poisson2d with SNGD, residual + J took 13–16 ms and the
/// direction 103–110 ms, against 8–9 ms and 82–88 ms with these settings
/// (docs/PERFORMANCE.md). Blocks up to 32 MiB (glibc's largest threshold) come from the
/// heap, and up to 1 GiB of free heap top is kept. `MALLOC_MMAP_THRESHOLD_` or
/// `MALLOC_TRIM_THRESHOLD_` in the environment win over this.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    let set_by_user = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"]
        .iter()
        .any(|name| std::env::var_os(name).is_some());
    if !set_by_user {
        // SAFETY: mallopt only changes allocator parameters; it is called before any
        // other thread exists. A refused value (return 0) leaves glibc's default.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}
