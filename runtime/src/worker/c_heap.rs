//! Giving the C heap's free memory back once a task's Kafka clients are gone.
//!
//! Rust code allocates through the binary's allocator, but librdkafka (C) takes its fetch
//! buffers and per-message structures from glibc's malloc, in an arena per thread. When a task
//! stops, its consumer or producer and their threads are destroyed and the memory freed, but a
//! freed chunk inside an arena stays resident until glibc trims it, which it does only from an
//! arena's top. A worker that runs one connector after another (restarts, a connector deleted
//! and another created, a rebalance's new task) then carried every earlier client's peak.

/// Runs a task runner's `run` (which drops the runner, its Kafka clients with it, when it
/// returns), then gives the free memory back.
pub(crate) async fn release_after(run: impl std::future::Future<Output = ()>) {
    run.await;
    release_free_memory();
}

/// Returns the free pages of every malloc arena to the system; it walks the arenas once, a
/// matter of milliseconds.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes an integer and only works on the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
