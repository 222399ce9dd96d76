//! What every benchmark binary does around its measurement: nothing at all under `cargo test`
//! (which runs bench targets without `--bench`: a million-row benchmark in a debug build is no
//! test), a two-thread runtime like the machine's two cores, and a failure that says which
//! bench failed and exits non-zero.

use std::future::Future;

use anyhow::{Context, Result};

/// Parses the arguments with `args`, then runs `bench` to completion.
pub fn run<A, F, Fut>(name: &str, args: fn() -> Result<A>, bench: F)
where
    F: FnOnce(A) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    if !std::env::args().any(|a| a == "--bench") {
        println!("{name} is a benchmark: cargo bench --bench {name}");
        return;
    }
    let result = args().and_then(|a| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
            .block_on(bench(a))
    });
    if let Err(e) = result {
        eprintln!("{name} bench failed: {e:#}");
        std::process::exit(1);
    }
}

/// The number that follows flag `name` on the command line.
#[allow(dead_code)] // not every bench has numeric flags of this kind
pub fn number(it: &mut impl Iterator<Item = String>, name: &str) -> Result<u64> {
    it.next()
        .with_context(|| format!("{name} needs a value"))?
        .parse()
        .with_context(|| format!("{name} needs a number"))
}
