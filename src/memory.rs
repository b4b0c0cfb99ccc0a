//! The process allocator's settings for solves (opt-in).

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
///
/// The `pdec` command calls this first thing; the library never does on its own, since
/// the allocator belongs to the embedding program. Call it at start-up, before other
/// threads allocate. It does nothing on targets other than glibc Linux.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn keep_freed_memory() {
    let set_by_user = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"]
        .iter()
        .any(|name| std::env::var_os(name).is_some());
    if !set_by_user {
        // SAFETY: mallopt takes no pointers and only changes allocator parameters, under
        // glibc's arena lock; its one thread-unsafe part, malloc's lazy initialization,
        // is why callers are told to call this at start-up. A refused value (return 0)
        // leaves glibc's default.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        }
    }
}

/// Does nothing: the settings are glibc's (see the Linux/glibc build).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_freed_memory() {}
