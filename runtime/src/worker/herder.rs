//! Connector lifecycle for a standalone worker: create, reconfigure, pause, resume, stop,
//! restart and delete connectors; start and stop their tasks; answer status questions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;
use tracing::{info, info_span, warn, Instrument};

use super::c_heap;
use super::config_store::{ConfigStore, StoredConnector, TargetState};
use super::error::HerderError;
use super::sink_runner::SinkRunner;
use super::source_runner::SourceRunner;
use super::status::{ConnectorState, ConnectorStatus, State, StatusCell, TaskState};
use super::task_env::{Target, TaskRun, WorkerEnv};
use crate::config::{redacted_map, ConfigMap, ConfigValue, REDACTED};
use crate::connector::{Connector, ConnectorSettings, ConnectorType, Plugins, TaskImpl};

/// `GET /`.
#[derive(Clone, Debug, Serialize)]
pub struct ServerInfo {
    pub version: String,
    pub commit: String,
    pub kafka_cluster_id: String,
}

/// `{"connector": name, "task": n}`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TaskId {
    pub connector: String,
    pub task: u32,
}

/// `GET /connectors/{name}`.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectorInfo {
    pub name: String,
    pub config: ConfigMap,
    pub tasks: Vec<TaskId>,
    #[serde(rename = "type")]
    pub connector_type: ConnectorType,
}

/// One element of `GET /connectors/{name}/tasks`.
#[derive(Clone, Debug, Serialize)]
pub struct TaskInfo {
    pub id: TaskId,
    pub config: ConfigMap,
}

/// One element of `GET /connector-plugins`.
#[derive(Clone, Debug, Serialize)]
pub struct PluginInfo {
    pub class: String,
    #[serde(rename = "type")]
    pub connector_type: ConnectorType,
    pub version: String,
}

struct TaskSlot {
    status: StatusCell,
    target: watch::Sender<Target>,
    join: Option<JoinHandle<()>>,
}

struct Entry {
    config: ConfigMap,
    plugin: Arc<dyn Connector>,
    target: TargetState,
    /// FAILED with a trace when the connector could not split its work.
    connector_failure: Option<String>,
    task_configs: Vec<ConfigMap>,
    /// The runtime's keys of `config`, parsed when the tasks were last started.
    settings: Option<Arc<ConnectorSettings>>,
    tasks: Vec<TaskSlot>,
}

struct Inner {
    env: WorkerEnv,
    plugins: Plugins,
    cluster_id: String,
    store: ConfigStore,
    connectors: Mutex<BTreeMap<String, Entry>>,
}

/// Owns every connector of this worker. Cheap to clone.
#[derive(Clone)]
pub struct Herder {
    inner: Arc<Inner>,
}

impl Herder {
    pub fn new(
        env: WorkerEnv,
        plugins: Plugins,
        cluster_id: String,
        connector_config_file: Option<std::path::PathBuf>,
    ) -> Herder {
        Herder {
            inner: Arc::new(Inner {
                env,
                plugins,
                cluster_id,
                store: ConfigStore::new(connector_config_file),
                connectors: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    pub fn worker_id(&self) -> &str {
        &self.inner.env.worker_id
    }

    pub fn plugins_registry(&self) -> &Plugins {
        &self.inner.plugins
    }

    pub fn env(&self) -> &WorkerEnv {
        &self.inner.env
    }

    /// Starts the connectors kept from the last run, then those given on the command line
    /// (which replace kept ones of the same name).
    pub async fn start(&self, from_files: Vec<ConfigMap>) -> Result<(), HerderError> {
        let kept = self.inner.store.load().map_err(HerderError::Internal)?;
        for stored in kept {
            if from_files
                .iter()
                .any(|c| c.get("name") == Some(&stored.name))
            {
                continue;
            }
            if let Err(e) = self
                .put_config_with_target(&stored.name, stored.config, stored.target)
                .await
            {
                warn!(connector = %stored.name, error = %e, "could not restore a connector kept from the last run");
            }
        }
        for config in from_files {
            let name = config.get("name").cloned().ok_or_else(|| {
                HerderError::BadRequest("a connector config file has no \"name\"".into())
            })?;
            self.put_config(&name, config).await?;
        }
        Ok(())
    }

    pub fn server_info(&self) -> ServerInfo {
        ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: option_env!("TRIBUTARY_GIT_COMMIT")
                .unwrap_or("unknown")
                .to_owned(),
            kafka_cluster_id: self.inner.cluster_id.clone(),
        }
    }

    pub async fn connector_names(&self) -> Vec<String> {
        self.inner.connectors.lock().await.keys().cloned().collect()
    }

    /// `POST /connectors`: 409 when it exists.
    pub async fn create(
        &self,
        name: &str,
        config: ConfigMap,
    ) -> Result<ConnectorInfo, HerderError> {
        if self.inner.connectors.lock().await.contains_key(name) {
            return Err(HerderError::Conflict(format!(
                "Connector {name} already exists"
            )));
        }
        self.put_config(name, config).await.map(|(_, info)| info)
    }

    /// `PUT /connectors/{name}/config`: creates (true) or reconfigures (false).
    pub async fn put_config(
        &self,
        name: &str,
        config: ConfigMap,
    ) -> Result<(bool, ConnectorInfo), HerderError> {
        let target = {
            let map = self.inner.connectors.lock().await;
            map.get(name).map_or(TargetState::Started, |e| e.target)
        };
        self.put_config_with_target(name, config, target).await
    }

    async fn put_config_with_target(
        &self,
        name: &str,
        mut config: ConfigMap,
        target: TargetState,
    ) -> Result<(bool, ConnectorInfo), HerderError> {
        validate_name(name)?;
        match config.get("name") {
            Some(n) if n != name => {
                return Err(HerderError::BadRequest(format!(
                    "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
                )))
            }
            _ => {
                config.insert("name".to_owned(), name.to_owned());
            }
        }
        let mut map = self.inner.connectors.lock().await;
        // A secret shown as [hidden] by GET and sent back unchanged keeps its stored value.
        if let Some(old) = map.get(name) {
            for (k, v) in config.iter_mut() {
                if v == REDACTED {
                    if let Some(previous) = old.config.get(k) {
                        v.clone_from(previous);
                    }
                }
            }
        }
        let class = config.get("connector.class").cloned().unwrap_or_default();
        let plugin = self.find_plugin(&class)?;
        Plugins::check(plugin.as_ref(), &config)?;
        let created = match map.remove(name) {
            Some(mut old) => {
                stop_tasks(&mut old, self.inner.env.task_shutdown_timeout).await;
                false
            }
            None => true,
        };
        let mut entry = Entry {
            config,
            plugin,
            target,
            connector_failure: None,
            task_configs: Vec::new(),
            settings: None,
            tasks: Vec::new(),
        };
        self.start_tasks(name, &mut entry);
        let info = info_of(name, &entry);
        map.insert(name.to_owned(), entry);
        self.persist(&map)?;
        info!(connector = %name, created, "connector configured");
        Ok((created, info))
    }

    fn find_plugin(&self, class: &str) -> Result<Arc<dyn Connector>, HerderError> {
        if class.trim().is_empty() {
            return Err(HerderError::BadRequest(
                "Connector config is missing required configuration \"connector.class\"".into(),
            ));
        }
        self.inner.plugins.find(class).ok_or_else(|| {
            let available: Vec<&str> = self.inner.plugins.all().iter().map(|p| p.class()).collect();
            HerderError::BadRequest(format!(
                "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
                available.join(", ")
            ))
        })
    }

    /// Computes task configs and starts the tasks, according to the entry's target state.
    fn start_tasks(&self, name: &str, entry: &mut Entry) {
        entry.connector_failure = None;
        entry.tasks.clear();
        if entry.target == TargetState::Stopped {
            entry.task_configs.clear();
            return;
        }
        let settings = match ConnectorSettings::parse(entry.plugin.connector_type(), &entry.config)
        {
            Ok(s) => Arc::new(s),
            Err(e) => {
                warn!(connector = %name, error = %e, "connector config cannot run");
                entry.connector_failure = Some(e.to_string());
                entry.task_configs.clear();
                return;
            }
        };
        entry.settings = Some(settings.clone());
        let max_tasks = settings.tasks_max;
        match entry.plugin.task_configs(&entry.config, max_tasks) {
            Ok(configs) if configs.len() > max_tasks && settings.tasks_max_enforce => {
                let message = format!(
                    "The connector {name} has generated {} tasks, which is greater than {max_tasks}, the maximum number of tasks it is configured to create. This behaviour should be considered a bug and is disallowed. If necessary, it can be permitted by reconfiguring the connector with 'tasks.max.enforce' set to false.",
                    configs.len()
                );
                warn!(connector = %name, "{message}");
                entry.connector_failure = Some(message);
                entry.task_configs.clear();
                return;
            }
            Ok(configs) => {
                if configs.len() > max_tasks {
                    warn!(connector = %name, tasks = configs.len(), max_tasks,
                        "the connector generated more tasks than tasks.max (allowed: tasks.max.enforce=false)");
                }
                entry.task_configs = configs;
            }
            Err(e) => {
                warn!(connector = %name, error = %e, "connector failed to configure its tasks");
                entry.connector_failure = Some(e.to_string());
                entry.task_configs.clear();
                return;
            }
        }
        let target = if entry.target == TargetState::Paused {
            Target::Paused
        } else {
            Target::Running
        };
        for id in 0..entry.task_configs.len() {
            let slot = self.spawn_task(name, id as u32, entry, target);
            entry.tasks.push(slot);
        }
    }

    /// Starts task `id` of `entry` (its task config and parsed settings are there).
    fn spawn_task(&self, name: &str, id: u32, entry: &Entry, target: Target) -> TaskSlot {
        let status = StatusCell::new(State::Unassigned);
        let (tx, rx) = watch::channel(target);
        let (Some(task_config), Some(settings)) =
            (entry.task_configs.get(id as usize), entry.settings.as_ref())
        else {
            status.fail(format!("task {id} of {name} has no configuration"));
            return TaskSlot {
                status,
                target: tx,
                join: None,
            };
        };
        let connector_config = &entry.config;
        let plugin = entry.plugin.as_ref();
        // Task configs carry the connector's settings (converters, error handling) too.
        let mut config = connector_config.clone();
        config.extend(task_config.iter().map(|(k, v)| (k.clone(), v.clone())));
        let run = TaskRun {
            connector: name.to_owned(),
            task_id: id,
            config: config.clone(),
            settings: settings.clone(),
            env: self.inner.env.clone(),
            status: status.clone(),
            target: rx,
        };
        let span = info_span!("task", connector = %name, task = id);
        let join = match plugin.create_task(&config) {
            Err(e) => {
                status.fail(e.to_string());
                None
            }
            Ok(TaskImpl::Source(task)) => match SourceRunner::new(run, task) {
                Ok(runner) => Some(tokio::spawn(
                    c_heap::release_after(runner.run()).instrument(span),
                )),
                Err(e) => {
                    status.fail(e.to_string());
                    None
                }
            },
            Ok(TaskImpl::Sink(task)) => match SinkRunner::new(run, task) {
                Ok(runner) => Some(tokio::spawn(
                    c_heap::release_after(runner.run()).instrument(span),
                )),
                Err(e) => {
                    status.fail(e.to_string());
                    None
                }
            },
        };
        TaskSlot {
            status,
            target: tx,
            join,
        }
    }

    fn persist(&self, map: &BTreeMap<String, Entry>) -> Result<(), HerderError> {
        let stored: Vec<StoredConnector> = map
            .iter()
            .map(|(name, e)| StoredConnector {
                name: name.clone(),
                config: e.config.clone(),
                target: e.target,
            })
            .collect();
        self.inner
            .store
            .save(&stored)
            .map_err(HerderError::Internal)
    }

    pub async fn info(&self, name: &str) -> Result<ConnectorInfo, HerderError> {
        let map = self.inner.connectors.lock().await;
        let entry = map
            .get(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        Ok(info_of(name, entry))
    }

    /// The config with secrets hidden.
    pub async fn config(&self, name: &str) -> Result<ConfigMap, HerderError> {
        self.info(name).await.map(|i| i.config)
    }

    pub async fn delete(&self, name: &str) -> Result<(), HerderError> {
        let mut map = self.inner.connectors.lock().await;
        let mut entry = map
            .remove(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        stop_tasks(&mut entry, self.inner.env.task_shutdown_timeout).await;
        self.persist(&map)?;
        info!(connector = %name, "connector deleted");
        Ok(())
    }

    pub async fn status(&self, name: &str) -> Result<ConnectorStatus, HerderError> {
        let map = self.inner.connectors.lock().await;
        let entry = map
            .get(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        Ok(self.status_of(name, entry))
    }

    fn status_of(&self, name: &str, entry: &Entry) -> ConnectorStatus {
        let worker_id = self.inner.env.worker_id.clone();
        let version = entry.plugin.version().to_owned();
        let (state, trace) = match (&entry.connector_failure, entry.target) {
            (Some(t), _) => (State::Failed, Some(t.clone())),
            (None, TargetState::Stopped) => (State::Stopped, None),
            (None, TargetState::Paused) => (State::Paused, None),
            (None, TargetState::Started) => (State::Running, None),
        };
        let tasks = entry
            .tasks
            .iter()
            .enumerate()
            .map(|(id, slot)| task_state(id as u32, slot, &worker_id, &version))
            .collect();
        ConnectorStatus {
            name: name.to_owned(),
            connector: ConnectorState {
                state,
                worker_id,
                version,
                trace,
            },
            tasks,
            connector_type: entry.plugin.connector_type(),
        }
    }

    pub async fn task_status(&self, name: &str, task: u32) -> Result<TaskState, HerderError> {
        let map = self.inner.connectors.lock().await;
        let entry = map
            .get(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        let slot = entry.tasks.get(task as usize).ok_or_else(|| {
            HerderError::NotFound(format!("No status found for task {name}-{task}"))
        })?;
        Ok(task_state(
            task,
            slot,
            &self.inner.env.worker_id,
            entry.plugin.version(),
        ))
    }

    pub async fn tasks(&self, name: &str) -> Result<Vec<TaskInfo>, HerderError> {
        let map = self.inner.connectors.lock().await;
        let entry = map
            .get(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        Ok(entry
            .task_configs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut config = entry.config.clone();
                config.extend(c.iter().map(|(k, v)| (k.clone(), v.clone())));
                config.insert(
                    "task.class".to_owned(),
                    format!("{}Task", entry.plugin.class().trim_end_matches("Connector")),
                );
                TaskInfo {
                    id: TaskId {
                        connector: name.to_owned(),
                        task: i as u32,
                    },
                    config: redacted_map(&config),
                }
            })
            .collect())
    }

    pub async fn topics(&self, name: &str) -> Result<Vec<String>, HerderError> {
        let map = self.inner.connectors.lock().await;
        let entry = map
            .get(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        Ok(entry.plugin.topics(&entry.config))
    }

    /// `POST /connectors/{name}/restart`: with `include_tasks`, restarts the tasks (only the
    /// failed ones with `only_failed`) and answers the status with them RESTARTING.
    pub async fn restart(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<Option<ConnectorStatus>, HerderError> {
        let mut map = self.inner.connectors.lock().await;
        let entry = map
            .get_mut(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        let connector_failed = entry.connector_failure.is_some();
        if !include_tasks {
            // Only the connector itself restarts; for us that matters only when it failed.
            if connector_failed {
                stop_tasks(entry, self.inner.env.task_shutdown_timeout).await;
                self.start_tasks(name, entry);
            }
            return Ok(None);
        }
        let mut answer = self.status_of(name, entry);
        if !only_failed || connector_failed {
            answer.connector.state = State::Restarting;
            answer.connector.trace = None;
        }
        let to_restart: Vec<u32> = entry
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, s)| !only_failed || s.status.state() == State::Failed)
            .map(|(i, _)| i as u32)
            .collect();
        for t in answer.tasks.iter_mut() {
            if to_restart.contains(&t.id) {
                t.state = State::Restarting;
                t.trace = None;
            }
        }
        if connector_failed {
            stop_tasks(entry, self.inner.env.task_shutdown_timeout).await;
            self.start_tasks(name, entry);
        } else {
            for id in to_restart {
                self.restart_slot(name, entry, id).await;
            }
        }
        Ok(Some(answer))
    }

    pub async fn restart_task(&self, name: &str, task: u32) -> Result<(), HerderError> {
        let mut map = self.inner.connectors.lock().await;
        let entry = map
            .get_mut(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        if task as usize >= entry.tasks.len() {
            return Err(HerderError::NotFound(format!(
                "Task {name}-{task} not found"
            )));
        }
        self.restart_slot(name, entry, task).await;
        Ok(())
    }

    async fn restart_slot(&self, name: &str, entry: &mut Entry, id: u32) {
        let Some(slot) = entry.tasks.get_mut(id as usize) else {
            return;
        };
        stop_slot(slot, self.inner.env.task_shutdown_timeout).await;
        if entry.task_configs.get(id as usize).is_none() {
            return;
        }
        let target = if entry.target == TargetState::Paused {
            Target::Paused
        } else {
            Target::Running
        };
        let fresh = self.spawn_task(name, id, entry, target);
        entry.tasks[id as usize] = fresh;
        info!(connector = %name, task = id, "task restarted");
    }

    pub async fn pause(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Paused).await
    }

    pub async fn resume(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Started).await
    }

    pub async fn stop(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Stopped).await
    }

    async fn set_target(&self, name: &str, target: TargetState) -> Result<(), HerderError> {
        let mut map = self.inner.connectors.lock().await;
        let entry = map
            .get_mut(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        let previous = entry.target;
        entry.target = target;
        match (previous, target) {
            (a, b) if a == b => {}
            (_, TargetState::Stopped) => {
                stop_tasks(entry, self.inner.env.task_shutdown_timeout).await;
                entry.task_configs.clear();
            }
            (TargetState::Stopped, _) => self.start_tasks(name, entry),
            (_, t) => {
                let signal = if t == TargetState::Paused {
                    Target::Paused
                } else {
                    Target::Running
                };
                for slot in &entry.tasks {
                    let _ = slot.target.send(signal);
                }
            }
        }
        self.persist(&map)?;
        info!(connector = %name, ?target, "connector target state changed");
        Ok(())
    }

    /// Whether the connector is STOPPED (offsets may then be changed).
    pub(crate) async fn require_stopped(
        &self,
        name: &str,
    ) -> Result<(Arc<dyn Connector>, ConfigMap), HerderError> {
        let map = self.inner.connectors.lock().await;
        let entry = map
            .get(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        if entry.target != TargetState::Stopped {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        Ok((entry.plugin.clone(), entry.config.clone()))
    }

    pub(crate) async fn plugin_and_config(
        &self,
        name: &str,
    ) -> Result<(Arc<dyn Connector>, ConfigMap), HerderError> {
        let map = self.inner.connectors.lock().await;
        let entry = map
            .get(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        Ok((entry.plugin.clone(), entry.config.clone()))
    }

    pub fn plugins(&self) -> Vec<PluginInfo> {
        let mut out: Vec<PluginInfo> = self
            .inner
            .plugins
            .all()
            .iter()
            .map(|p| PluginInfo {
                class: p.class().to_owned(),
                connector_type: p.connector_type(),
                version: p.version().to_owned(),
            })
            .collect();
        out.sort_by(|a, b| {
            (a.connector_type == ConnectorType::Source, &a.class)
                .cmp(&(b.connector_type == ConnectorType::Source, &b.class))
        });
        out
    }

    fn plugin_named(&self, plugin: &str) -> Result<Arc<dyn Connector>, HerderError> {
        self.inner
            .plugins
            .find(plugin)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown plugin {plugin}.")))
    }

    /// `GET /connector-plugins/{plugin}/config`.
    pub fn plugin_config(&self, plugin: &str) -> Result<Vec<serde_json::Value>, HerderError> {
        let p = self.plugin_named(plugin)?;
        let own = p.config_def();
        let common = Plugins::full_config_def(p.as_ref());
        // The plugin's own keys first, then the common ones, as Kafka Connect lists them.
        let mut keys: Vec<serde_json::Value> =
            own.keys.iter().map(|k| k.definition_json()).collect();
        keys.extend(
            common
                .keys
                .iter()
                .filter(|k| own.key(k.name).is_none())
                .map(|k| k.definition_json()),
        );
        Ok(keys)
    }

    /// `PUT /connector-plugins/{plugin}/config/validate`.
    pub fn validate(
        &self,
        plugin: &str,
        config: &ConfigMap,
    ) -> Result<serde_json::Value, HerderError> {
        let p = match config.get("connector.class") {
            Some(class) => self.plugin_named(class)?,
            None => self.plugin_named(plugin)?,
        };
        let def = Plugins::full_config_def(p.as_ref());
        let values: Vec<ConfigValue> = Plugins::validate(p.as_ref(), config);
        let error_count: usize = values.iter().map(|v| v.errors.len()).sum();
        let mut groups: Vec<&str> = Vec::new();
        for k in &def.keys {
            if let Some(g) = k.group {
                if !groups.contains(&g) {
                    groups.push(g);
                }
            }
        }
        let configs: Vec<serde_json::Value> = values
            .iter()
            .map(|v| {
                let definition = def.key(&v.name).map(|k| k.definition_json()).unwrap_or_else(|| {
                    serde_json::json!({"name": v.name, "type": "STRING", "required": false, "default_value": null,
                        "importance": "LOW", "documentation": "Unknown configuration.", "group": null,
                        "order_in_group": -1, "width": "NONE", "display_name": v.name, "dependents": []})
                });
                serde_json::json!({"definition": definition, "value": v})
            })
            .collect();
        Ok(serde_json::json!({
            "name": p.class(),
            "error_count": error_count,
            "groups": groups,
            "configs": configs,
        }))
    }

    /// Stops every task (SIGTERM): each source flushes its producer and stores its offsets,
    /// each sink commits what it flushed.
    pub async fn shutdown(&self) {
        let mut map = self.inner.connectors.lock().await;
        let timeout = self.inner.env.task_shutdown_timeout;
        let stops = map.values_mut().map(|e| stop_tasks(e, timeout));
        futures::future::join_all(stops).await;
        info!("all tasks stopped");
    }
}

fn info_of(name: &str, entry: &Entry) -> ConnectorInfo {
    ConnectorInfo {
        name: name.to_owned(),
        config: redacted_map(&entry.config),
        tasks: (0..entry.task_configs.len())
            .map(|t| TaskId {
                connector: name.to_owned(),
                task: t as u32,
            })
            .collect(),
        connector_type: entry.plugin.connector_type(),
    }
}

fn task_state(id: u32, slot: &TaskSlot, worker_id: &str, version: &str) -> TaskState {
    let (state, trace) = slot.status.get();
    TaskState {
        id,
        state,
        worker_id: worker_id.to_owned(),
        version: version.to_owned(),
        trace,
        progress: slot.status.progress.get(),
    }
}

async fn stop_tasks(entry: &mut Entry, timeout: Duration) {
    let stops = entry.tasks.iter_mut().map(|slot| stop_slot(slot, timeout));
    futures::future::join_all(stops).await;
    entry.tasks.clear();
}

/// Asks a task to stop and waits for it (its flush included), abandoning it after the
/// graceful timeout plus a margin for its final offset write.
async fn stop_slot(slot: &mut TaskSlot, timeout: Duration) {
    let _ = slot.target.send(Target::Stopped);
    if let Some(join) = slot.join.take() {
        let abort = join.abort_handle();
        if tokio::time::timeout(timeout + Duration::from_secs(5), join)
            .await
            .is_err()
        {
            warn!("a task did not stop in time and was abandoned");
            abort.abort();
        }
    }
}

fn validate_name(name: &str) -> Result<(), HerderError> {
    if name.trim().is_empty() {
        return Err(HerderError::BadRequest(
            "Connector name cannot be empty".into(),
        ));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(HerderError::BadRequest(
            "Connector name cannot contain ISO control characters".into(),
        ));
    }
    Ok(())
}
