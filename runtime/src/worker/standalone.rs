//! A standalone worker: one process, offsets in a local file, connectors from files and from
//! the REST API, the REST API and (optionally) the schema registry on one port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use thiserror::Error;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::config::{RegistryMode, WorkerConfig};
use super::error::HerderError;
use super::herder::Herder;
use super::task_env::WorkerEnv;
use crate::config::ConfigMap;
use crate::connector::Plugins;
use crate::offsets::FileOffsetStore;
use crate::registry::{self, SchemaRegistry};

#[derive(Debug, Error)]
pub enum StartError {
    #[error("cannot open the offset store: {0}")]
    Offsets(#[from] crate::offsets::OffsetError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot start the built-in schema registry: {0}")]
    Registry(String),
    #[error("cannot start the connectors: {0}")]
    Connectors(#[from] HerderError),
}

/// A running standalone worker.
pub struct Standalone {
    pub herder: Herder,
    /// Where the REST API (and the built-in registry) actually listens.
    pub rest_addr: SocketAddr,
    /// The registry URL connectors use by default.
    pub registry_url: Option<String>,
    server: JoinHandle<()>,
    stop_server: oneshot::Sender<()>,
}

impl Standalone {
    pub async fn start(
        config: WorkerConfig,
        plugins: Plugins,
        connectors: Vec<ConfigMap>,
    ) -> Result<Standalone, StartError> {
        let offsets = Arc::new(FileOffsetStore::open(&config.offset_file)?);
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|source| StartError::Listen {
                addr: config.listen.clone(),
                source,
            })?;
        let rest_addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: config.listen.clone(),
            source,
        })?;
        // With port 0 the worker id and registry URL use the port actually bound.
        let worker_id = match config.worker_id.rsplit_once(':') {
            Some((host, "0")) => format!("{host}:{}", rest_addr.port()),
            _ => config.worker_id.clone(),
        };
        let local_url = format!("http://{worker_id}");
        let (registry, registry_url) = match &config.registry {
            RegistryMode::External { url } => (None, Some(url.clone())),
            RegistryMode::BuiltinInMemory => {
                (Some(SchemaRegistry::in_memory()), Some(local_url.clone()))
            }
            RegistryMode::Builtin {
                topic,
                replication_factor,
            } => {
                let mut client: std::collections::HashMap<String, String> = config
                    .kafka
                    .common
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                client.insert(
                    "bootstrap.servers".into(),
                    config.kafka.bootstrap_servers.clone(),
                );
                let reg = SchemaRegistry::with_kafka_log(&client, topic, *replication_factor)
                    .await
                    .map_err(|e| StartError::Registry(e.to_string()))?;
                (Some(reg), Some(local_url.clone()))
            }
        };
        let cluster_id = cluster_id(&config).await;
        let env = WorkerEnv {
            worker_id: worker_id.clone(),
            kafka: config.kafka.clone(),
            offsets,
            offset_flush_interval: config.offset_flush_interval,
            task_shutdown_timeout: config.task_shutdown_timeout,
            registry_url: registry_url.clone(),
            converters: config.converters.clone(),
            topic_creation_enable: config.topic_creation_enable,
            in_process_kafka: config.in_process_kafka.clone(),
        };
        let herder = Herder::new(
            env,
            plugins,
            cluster_id,
            config.connector_config_file.clone(),
        );
        let mut app = crate::rest::router(herder.clone());
        if let Some(reg) = registry {
            app = app.merge(registry::router(reg));
        }
        let app = app.fallback(crate::rest::not_found);
        let (stop_server, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                warn!(error = %e, "REST server stopped with an error");
            }
        });
        info!(%rest_addr, %worker_id, registry = ?registry_url, "worker listening");
        herder.start(connectors).await?;
        Ok(Standalone {
            herder,
            rest_addr,
            registry_url,
            server,
            stop_server,
        })
    }

    /// Stops every task cleanly (flush, offsets), then the REST server.
    pub async fn shutdown(self) {
        self.herder.shutdown().await;
        let _ = self.stop_server.send(());
        if tokio::time::timeout(Duration::from_secs(5), self.server)
            .await
            .is_err()
        {
            warn!("REST server did not stop within 5 s");
        }
    }
}

/// The Kafka cluster id for `GET /`, or "unknown" when the brokers do not answer in time (the
/// worker still starts; tasks retry on their own).
async fn cluster_id(config: &WorkerConfig) -> String {
    let client_config = config.kafka.admin(&ConfigMap::new());
    tokio::task::spawn_blocking(move || {
        let consumer: Result<BaseConsumer, _> = client_config.create();
        consumer
            .ok()
            .and_then(|c| c.client().fetch_cluster_id(Duration::from_secs(10)))
            .unwrap_or_else(|| "unknown".to_owned())
    })
    .await
    .unwrap_or_else(|_| "unknown".to_owned())
}
