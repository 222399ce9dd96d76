//! `tributary`: the command line. Everything here is wiring; the work is in the runtime and
//! connector crates.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use tributary_runtime::config::ConfigMap;
use tributary_runtime::kafka::{InProcessKafka, NewTopicSpec};
use tributary_runtime::worker::{read_config_file, Standalone, WorkerConfig};

/// mimalloc rather than glibc's malloc: change events are many small short-lived allocations
/// spread over threads, where glibc's malloc spends much of the worker's CPU (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "tributary",
    version,
    about = "Kafka-native change data capture and connectors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a standalone worker (Kafka Connect's connect-standalone): a worker config file and
    /// any number of connector config files (.properties or JSON).
    Standalone {
        worker_config: PathBuf,
        connector_configs: Vec<PathBuf>,
    },
    /// Run a demo pipeline with no external services: an in-process Kafka (librdkafka's mock
    /// cluster), the built-in schema registry, a demo CDC source and a file sink.
    Quickstart {
        /// Where the output and the worker's state go.
        #[arg(long, default_value = "tributary-quickstart")]
        dir: PathBuf,
        /// REST API port.
        #[arg(long, default_value_t = 8083)]
        port: u16,
        /// Change events per second from the demo source.
        #[arg(long, default_value_t = 50)]
        rate: u32,
    },
}

/// No transparent huge pages for this process. mimalloc asks for them on its arenas, and then
/// each fresh 2 MB page is zeroed on first touch and kept whole: CPU spent zeroing pages and
/// resident memory a worker mostly never uses (figures in docs/benchmarks.md). The kernel
/// checks the flag at fault time, so setting it first thing in `main` covers the arenas
/// mimalloc may already have reserved.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> Result<()> {
    no_transparent_huge_pages();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rdkafka=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Standalone {
            worker_config,
            connector_configs,
        } => runtime.block_on(standalone(worker_config, connector_configs)),
        Command::Quickstart { dir, port, rate } => runtime.block_on(quickstart(dir, port, rate)),
    }
}

async fn standalone(worker_config: PathBuf, connector_configs: Vec<PathBuf>) -> Result<()> {
    let props = read_config_file(&worker_config).map_err(anyhow::Error::msg)?;
    let config = WorkerConfig::parse(&props)
        .with_context(|| format!("worker config {}", worker_config.display()))?;
    let connectors = connector_configs
        .iter()
        .map(|p| read_config_file(p).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<ConfigMap>>>()?;
    let worker = Standalone::start(config, tributary_connectors::plugins(), connectors).await?;
    wait_for_shutdown_signal().await?;
    tracing::info!("shutting down: stopping tasks, flushing, storing offsets");
    worker.shutdown().await;
    Ok(())
}

async fn quickstart(dir: PathBuf, port: u16, rate: u32) -> Result<()> {
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    let kafka = InProcessKafka::start(1).context("starting the in-process Kafka")?;
    let bootstrap = kafka.bootstrap_servers().to_owned();
    let topic = "quickstart.demo.customers";
    // Before the sink subscribes to it, so that it finds the topic at once.
    kafka
        .create_topic(&NewTopicSpec {
            name: topic.to_owned(),
            partitions: 3,
            replication_factor: 1,
            configs: Default::default(),
        })
        .await
        .context("creating the demo topic")?;
    let output = dir.join("customers.jsonl");
    let worker_props: ConfigMap = [
        ("bootstrap.servers", bootstrap.as_str()),
        ("listeners", &format!("http://127.0.0.1:{port}")),
        (
            "offset.storage.file.filename",
            &dir.join("connect.offsets").display().to_string(),
        ),
        ("connector.config.file", ""),
        ("schema.registry.storage", "memory"),
        ("key.converter", "io.confluent.connect.avro.AvroConverter"),
        ("value.converter", "io.confluent.connect.avro.AvroConverter"),
        // The mock cluster keeps only the newest 5 MiB of batches in each partition (fixed in
        // librdkafka's rdkafka_mock.c) and drops older ones even when no consumer has read them
        // yet: a sink further behind than that skips records. It stores batches as produced, so
        // compressed batches hold several times more records before a sink falls out of reach.
        ("producer.compression.type", "zstd"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let mut config = WorkerConfig::parse(&worker_props)?;
    // The in-process Kafka does not outlive this run, so neither do connectors or offsets.
    config.connector_config_file = None;
    // It has no CreateTopics API: connectors' topic.creation.* settings go through its own.
    config.in_process_kafka = Some(kafka.clone());
    let _ = std::fs::remove_file(dir.join("connect.offsets"));
    let source: ConfigMap = [
        ("name", "demo-source"),
        ("connector.class", "datagen"),
        ("topic.prefix", "quickstart"),
        ("rate", &rate.to_string()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let sink: ConfigMap = [
        ("name", "demo-sink"),
        ("connector.class", "FileStreamSink"),
        ("topics", topic),
        ("file", &output.display().to_string()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let worker =
        Standalone::start(config, tributary_connectors::plugins(), vec![source, sink]).await?;
    let url = format!("http://{}", worker.rest_addr);
    eprintln!(
        "\nTributary quickstart is running.\n\
         \n  in-process Kafka:   {bootstrap}\
         \n  REST API:           {url}   (Kafka Connect's API)\
         \n  schema registry:    {url}   (Confluent's API)\
         \n  change events:      topic {topic} (Avro, Debezium envelope)\
         \n  sink output:        {}\
         \n\nTry:\n  curl -s {url}/connectors?expand=status\n  curl -s {url}/subjects\n  curl -s {url}/subjects/{topic}-value/versions/latest\n  tail -f {}\n\nCtrl-C stops it.\n",
        output.display(),
        output.display()
    );
    wait_for_shutdown_signal().await?;
    worker.shutdown().await;
    drop(kafka);
    Ok(())
}

async fn wait_for_shutdown_signal() -> Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}
