//! Local federations: N providers on 127.0.0.1, written with [`init_dev_federation_at`] (keys,
//! certificates, each trusting the others) and started in this process, each on a Tokio runtime
//! of its own ([`LocalFederation::start`]) or on the caller's ([`LocalFederation::start_here`]).
//! The one launcher of the demo, `mimi bench` and the server, SDK and CLI tests; tests that run
//! real `mimi serve` processes use [`write_federation`] for the same ports and files.
//!
//! Ports are chosen with [`free_loopback_addr`] unless given ([`Ports::Base`]). Another process
//! may take a chosen port before its server binds it: the launcher then stops what it started,
//! removes what it wrote and starts again on fresh ports (at most
//! [`LocalOptions::start_attempts`] times). Ports given are used as given.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mimi_transport::client::FederationClient;
use mimi_transport::{PeerTable, TlsIdentity, TrustStore};
use mimi_types::Domain;
use tokio::runtime::{Handle, Runtime};

use crate::config::{Config, Limits};
use crate::error::ServerError;
use crate::init::{DevProvider, free_loopback_addr, init_dev_federation_at, is_addr_in_use};
use crate::server::{RunningServer, Server, read};

/// Where the providers listen.
#[derive(Clone, Default)]
pub enum Ports {
    /// Ports on 127.0.0.1 that were free a moment ago ([`free_loopback_addr`]), chosen again
    /// when one is taken before its server binds it.
    #[default]
    Free,
    /// From a base port: provider `i`'s client API on `base + i`, its federation listener on
    /// `base + max(10, n) + i` (for up to ten providers: `base + 10 + i`). Used as given.
    Base(u16),
    /// Addresses from a function of the caller's, one call per listener (federation, then
    /// client API, provider by provider), chosen again like [`Ports::Free`].
    Chosen(Arc<dyn Fn() -> std::io::Result<SocketAddr> + Send + Sync>),
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Free => f.write_str("Free"),
            Self::Base(base) => f.debug_tuple("Base").field(base).finish(),
            Self::Chosen(_) => f.write_str("Chosen(..)"),
        }
    }
}

/// What the launcher is doing, for a caller that shows progress ([`LocalOptions::progress`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum LocalEvent<'a> {
    /// About to write keys, certificates and configurations under `dir`.
    Writing {
        /// The data directory.
        dir: &'a Path,
    },
    /// Everything is written.
    Written,
    /// About to start provider `index`.
    Starting {
        /// Its index in [`LocalOptions`]'s domains.
        index: usize,
        /// Its domain.
        domain: &'a Domain,
    },
    /// Provider `index` listens.
    Started {
        /// Its index.
        index: usize,
        /// The provider.
        provider: &'a LocalProvider,
    },
    /// A chosen port was taken before its server bound it: starting again on other ports.
    Retrying {
        /// What failed.
        error: &'a LocalError,
    },
}

type Hook = Arc<dyn Fn() + Send + Sync>;
type Configure<'a> = Arc<dyn Fn(usize, &mut DevProvider) + Send + Sync + 'a>;
type Progress<'a> = Arc<dyn Fn(LocalEvent<'_>) + Send + Sync + 'a>;
type ThreadName = Arc<dyn Fn(usize, &Domain) -> String + Send + Sync>;

/// What [`LocalFederation`] starts: the providers' domains, their ports, changes to their
/// configurations, and (for [`LocalFederation::start`]) their runtimes. `'a`: what the
/// configuration changes and the progress function borrow.
#[derive(Clone)]
pub struct LocalOptions<'a> {
    domains: Vec<Domain>,
    ports: Ports,
    start_attempts: u32,
    workers: usize,
    thread_name: ThreadName,
    on_thread_start: Option<Hook>,
    database_urls: Vec<(usize, String)>,
    configure: Vec<Configure<'a>>,
    progress: Option<Progress<'a>>,
}

impl fmt::Debug for LocalOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalOptions")
            .field("domains", &self.domains)
            .field("ports", &self.ports)
            .field("start_attempts", &self.start_attempts)
            .field("workers", &self.workers)
            .field("database_urls", &self.database_urls)
            .field("configure", &self.configure.len())
            .finish_non_exhaustive()
    }
}

impl<'a> LocalOptions<'a> {
    /// Providers for `domains`, in order, on free ports, SQLite files in each provider's
    /// directory, every default of [`init_dev_federation_at`], runtimes of 2 worker threads.
    pub fn new(domains: impl IntoIterator<Item = Domain>) -> Self {
        Self {
            domains: domains.into_iter().collect(),
            ports: Ports::Free,
            start_attempts: 5,
            workers: 2,
            thread_name: Arc::new(|index, _| format!("srv{index}")),
            on_thread_start: None,
            database_urls: Vec::new(),
            configure: Vec::new(),
            progress: None,
        }
    }

    /// `n` providers, `p1.example` to `p<n>.example`.
    pub fn numbered(n: usize) -> Result<Self, LocalError> {
        let domains = (1..=n)
            .map(|i| {
                let name = format!("p{i}.example");
                Domain::parse(&name).map_err(|e| LocalError::Domain(format!("{name}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(domains))
    }

    /// The providers' domains.
    pub fn domains(&self) -> &[Domain] {
        &self.domains
    }

    /// Where the providers listen (default [`Ports::Free`]).
    #[must_use]
    pub fn ports(mut self, ports: Ports) -> Self {
        self.ports = ports;
        self
    }

    /// How often the federation is written and started on fresh ports when a chosen port was
    /// taken before its server bound it (default 5; at least 1).
    #[must_use]
    pub fn start_attempts(mut self, attempts: u32) -> Self {
        self.start_attempts = attempts.max(1);
        self
    }

    /// Worker threads of each provider's runtime with [`LocalFederation::start`] (default 2).
    #[must_use]
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Names the threads of provider `index`'s runtime (default `srv<index>`).
    #[must_use]
    pub fn thread_name(
        mut self,
        name: impl Fn(usize, &Domain) -> String + Send + Sync + 'static,
    ) -> Self {
        self.thread_name = Arc::new(name);
        self
    }

    /// Runs `hook` on every thread of every provider's runtime as it starts (to pin it to a
    /// CPU, say). Threads the server opens while starting (database pools) are opened on the
    /// thread that calls [`LocalFederation::start`] and inherit its settings instead.
    #[must_use]
    pub fn on_thread_start(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_thread_start = Some(Arc::new(hook));
        self
    }

    /// Provider `index` stores in the database at `url` (`postgres://…`, or `sqlite:` path)
    /// instead of SQLite files in its directory.
    #[must_use]
    pub fn database_url(mut self, index: usize, url: impl Into<String>) -> Self {
        self.database_urls.push((index, url.into()));
        self
    }

    /// Changes every provider's limits.
    #[must_use]
    pub fn limits(self, change: impl Fn(&mut Limits) + Send + Sync + 'a) -> Self {
        self.configure(move |_, provider| change(&mut provider.config.limits))
    }

    /// Changes provider `index`'s configuration after it is written and before it starts (it
    /// is saved again afterwards); runs again for each attempt. Changes add up in order.
    #[must_use]
    pub fn configure(
        mut self,
        change: impl Fn(usize, &mut DevProvider) + Send + Sync + 'a,
    ) -> Self {
        self.configure.push(Arc::new(change));
        self
    }

    /// Tells `show` what the launcher is doing.
    #[must_use]
    pub fn progress(mut self, show: impl Fn(LocalEvent<'_>) + Send + Sync + 'a) -> Self {
        self.progress = Some(Arc::new(show));
        self
    }

    fn tell(&self, event: LocalEvent<'_>) {
        if let Some(show) = &self.progress {
            show(event);
        }
    }

    /// (domain, federation address, client address) of each provider.
    fn placement(&self) -> Result<Vec<(Domain, SocketAddr, SocketAddr)>, LocalError> {
        let n = self.domains.len();
        let mut placed = Vec::with_capacity(n);
        for (i, domain) in self.domains.iter().enumerate() {
            let (federation, client) = match &self.ports {
                Ports::Free => (
                    free_loopback_addr().map_err(LocalError::Port)?,
                    free_loopback_addr().map_err(LocalError::Port)?,
                ),
                Ports::Chosen(choose) => (
                    choose().map_err(LocalError::Port)?,
                    choose().map_err(LocalError::Port)?,
                ),
                Ports::Base(base) => {
                    let port = |offset: usize| {
                        u16::try_from(offset)
                            .ok()
                            .and_then(|offset| base.checked_add(offset))
                            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
                            .ok_or(LocalError::BasePortTooHigh {
                                base: *base,
                                needed: n.max(10) + n,
                            })
                    };
                    (port(n.max(10) + i)?, port(i)?)
                }
            };
            placed.push((domain.clone(), federation, client));
        }
        Ok(placed)
    }

    fn retries(&self) -> bool {
        !matches!(self.ports, Ports::Base(_))
    }

    /// After start `attempt` failed with `error`: `Ok` to start again (a port was taken before
    /// its server bound it, the ports are free ones and attempts are left; what was written is
    /// removed first), else the error to return.
    fn retry_after(&self, dir: &Path, error: LocalError, attempt: u32) -> Result<(), LocalError> {
        if !(self.retries() && attempt < self.start_attempts && error.is_port_taken()) {
            return Err(error);
        }
        self.tell(LocalEvent::Retrying { error: &error });
        remove_written(dir, self)
    }
}

/// A federation client speaking as the provider of `from` to the provider of `to` only (`from`'s
/// TLS certificate, `to`'s TLS CA pinned, `to`'s federation address): how a test plays a peer
/// provider, well-behaved or rogue, against a provider it started.
pub fn federation_client_as(from: &Config, to: &Config) -> Result<FederationClient, ServerError> {
    let identity =
        TlsIdentity::from_pem_files(&from.resolve(&from.tls.cert), &from.resolve(&from.tls.key))?;
    let mut trust = TrustStore::new();
    trust.pin_pem(
        to.domain.clone(),
        &read(to, &to.tls.ca_cert, &format!("TLS CA of {}", to.domain))?,
    )?;
    let mut peers = PeerTable::new();
    peers.insert(to.domain.clone(), to.federation_listen);
    Ok(FederationClient::new(
        from.domain.clone(),
        identity,
        trust,
        peers,
    ))
}

/// Why a local federation did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// A domain of [`LocalOptions::numbered`] did not parse.
    #[error("domain {0}")]
    Domain(String),
    /// No free port could be chosen.
    #[error("choosing a free port on 127.0.0.1: {0}")]
    Port(#[source] std::io::Error),
    /// [`Ports::Base`] leaves too few ports below 65536.
    #[error("base port {base} is too high: the providers need {base}..{base}+{needed}")]
    BasePortTooHigh {
        /// The base port.
        base: u16,
        /// How many ports from it the providers need.
        needed: usize,
    },
    /// Writing the providers failed.
    #[error("writing the providers into {}: {source}", dir.display())]
    Write {
        /// The data directory.
        dir: PathBuf,
        /// The cause.
        source: ServerError,
    },
    /// A provider's runtime could not be built.
    #[error("building the runtime of {domain}: {source}")]
    Runtime {
        /// The provider.
        domain: Domain,
        /// The cause.
        source: std::io::Error,
    },
    /// A provider did not start.
    #[error("starting {domain}: {source}")]
    Start {
        /// The provider.
        domain: Domain,
        /// The cause.
        source: ServerError,
    },
    /// What a failed attempt wrote could not be removed for the next one.
    #[error("removing {} to start again on other ports: {source}", path.display())]
    Cleanup {
        /// The provider's directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// [`LocalFederation::start`] or [`LocalProvider::restart`] blocks, so it cannot run on a
    /// thread of a Tokio runtime.
    #[error(
        "starting providers on runtimes of their own blocks: call it outside a Tokio runtime, \
         or use LocalFederation::start_here"
    )]
    InsideRuntime,
}

impl LocalError {
    /// Whether it failed because a port was taken (by another process, or as the source port
    /// of a connection) between choosing and binding it: worth a try on fresh ports.
    pub fn is_port_taken(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(error) = cause {
            if is_addr_in_use(error) {
                return true;
            }
            cause = error.source();
        }
        false
    }
}

/// Writes providers for `options`' domains under `dir/<domain>/` on the ports of
/// `options.ports` (no retries: for providers run as `mimi serve` processes) and applies its
/// database URLs and configuration changes, saving each configuration again.
pub fn write_federation(
    dir: &Path,
    options: &LocalOptions<'_>,
) -> Result<Vec<DevProvider>, LocalError> {
    options.tell(LocalEvent::Writing { dir });
    let placed = options.placement()?;
    let written = |source| LocalError::Write {
        dir: dir.to_owned(),
        source,
    };
    let mut providers = init_dev_federation_at(dir, &placed).map_err(written)?;
    for (i, provider) in providers.iter_mut().enumerate() {
        for (index, url) in &options.database_urls {
            if *index == i {
                provider.config.database.url = Some(url.clone());
            }
        }
        for change in &options.configure {
            change(i, provider);
        }
        provider
            .config
            .save(&provider.config_path)
            .map_err(|e| written(e.into()))?;
    }
    options.tell(LocalEvent::Written);
    Ok(providers)
}

/// Removes the providers' directories a failed attempt wrote.
fn remove_written(dir: &Path, options: &LocalOptions<'_>) -> Result<(), LocalError> {
    for domain in &options.domains {
        let path = dir.join(domain.as_str());
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .map_err(|source| LocalError::Cleanup { path, source })?;
        }
    }
    Ok(())
}

/// How a provider's own runtime is built (kept for restarts).
struct Recipe {
    workers: usize,
    name: String,
    on_thread_start: Option<Hook>,
}

impl Recipe {
    fn build(&self, domain: &Domain) -> Result<Runtime, LocalError> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder
            .worker_threads(self.workers)
            .thread_name(self.name.clone())
            .enable_all();
        if let Some(hook) = self.on_thread_start.clone() {
            builder.on_thread_start(move || hook());
        }
        builder.build().map_err(|source| LocalError::Runtime {
            domain: domain.clone(),
            source,
        })
    }
}

/// One running provider of a [`LocalFederation`]. Dropping it stops it (gracefully when
/// dropped outside a Tokio runtime).
pub struct LocalProvider {
    /// Its domain.
    pub domain: Domain,
    /// Its configuration (paths resolve against its directory); [`LocalProvider::restart`]
    /// starts it with this one, changes included.
    pub config: Config,
    /// Its configuration file.
    pub config_path: PathBuf,
    /// Where its client API listens.
    pub client_addr: SocketAddr,
    /// Where its federation listener listens.
    pub federation_addr: SocketAddr,
    running: Option<RunningServer>,
    /// Its own runtime; `None` on the caller's runtime ([`LocalFederation::start_here`]).
    runtime: Option<Runtime>,
    /// The runtime it runs on.
    handle: Handle,
    /// `None` on the caller's runtime.
    recipe: Option<Arc<Recipe>>,
}

impl fmt::Debug for LocalProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalProvider")
            .field("domain", &self.domain)
            .field("client_addr", &self.client_addr)
            .field("federation_addr", &self.federation_addr)
            .field("running", &self.running.is_some())
            .finish_non_exhaustive()
    }
}

impl LocalProvider {
    /// The client API's base URL: `https://…` with `[client_tls]`, else `http://…`.
    pub fn base_url(&self) -> String {
        let scheme = if self.config.client_tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.client_addr)
    }

    /// Whether it is running (not stopped).
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Starts `config` on a runtime of its own (blocking).
    fn start_own(config: Config, path: PathBuf, recipe: Arc<Recipe>) -> Result<Self, LocalError> {
        if Handle::try_current().is_ok() {
            return Err(LocalError::InsideRuntime);
        }
        let runtime = recipe.build(&config.domain)?;
        let running = runtime
            .block_on(Server::start(config.clone()))
            .map_err(|source| LocalError::Start {
                domain: config.domain.clone(),
                source,
            })?;
        let handle = runtime.handle().clone();
        Ok(Self::running(
            config,
            path,
            running,
            Some(runtime),
            handle,
            Some(recipe),
        ))
    }

    /// Starts `config` on the caller's runtime.
    async fn start_here(config: Config, path: PathBuf) -> Result<Self, LocalError> {
        let running = Server::start(config.clone())
            .await
            .map_err(|source| LocalError::Start {
                domain: config.domain.clone(),
                source,
            })?;
        Ok(Self::running(
            config,
            path,
            running,
            None,
            Handle::current(),
            None,
        ))
    }

    fn running(
        config: Config,
        config_path: PathBuf,
        running: RunningServer,
        runtime: Option<Runtime>,
        handle: Handle,
        recipe: Option<Arc<Recipe>>,
    ) -> Self {
        Self {
            domain: config.domain.clone(),
            client_addr: running.client_addr(),
            federation_addr: running.federation_addr(),
            config,
            config_path,
            running: Some(running),
            runtime,
            handle,
            recipe,
        }
    }

    /// Stops it (what it stored stays; what it had not sent is sent after a restart), waiting
    /// for requests in flight. Blocks: call it outside a Tokio runtime, else use
    /// [`LocalProvider::shutdown`].
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            self.handle.block_on(running.shutdown());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Like [`LocalProvider::stop`], from async code.
    pub async fn shutdown(&mut self) {
        if let Some(running) = self.running.take() {
            if self.runtime.is_some() {
                let _ = self.handle.spawn(running.shutdown()).await;
            } else {
                running.shutdown().await;
            }
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Stops it and starts it again from its files and [`LocalProvider::config`], on the same
    /// addresses. Blocks: call it outside a Tokio runtime.
    pub fn restart(&mut self) -> Result<(), LocalError> {
        if Handle::try_current().is_ok() {
            return Err(LocalError::InsideRuntime);
        }
        self.stop();
        let config = self.config.clone();
        let path = self.config_path.clone();
        let restarted = match self.recipe.clone() {
            Some(recipe) => Self::start_own(config, path, recipe)?,
            None => {
                let handle = self.handle.clone();
                handle.block_on(Self::start_here(config, path))?
            }
        };
        *self = restarted;
        Ok(())
    }
}

impl Drop for LocalProvider {
    fn drop(&mut self) {
        if Handle::try_current().is_err() {
            self.stop();
            return;
        }
        // On a runtime's thread nothing may block: the server's tasks are dropped with its
        // runtime, or asked to stop on the caller's.
        if let Some(running) = self.running.take()
            && self.runtime.is_none()
        {
            drop(self.handle.spawn(running.shutdown()));
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Providers on 127.0.0.1, started in this process, stopped when dropped.
#[derive(Debug)]
pub struct LocalFederation {
    providers: Vec<LocalProvider>,
}

impl LocalFederation {
    /// Writes the providers of `options` under `dir` and starts each on a Tokio runtime of its
    /// own (blocking; not from a thread of a runtime). With chosen ports, a port taken before
    /// its server bound it starts everything again on fresh ones.
    pub fn start(dir: &Path, options: &LocalOptions<'_>) -> Result<Self, LocalError> {
        let mut attempt = 1;
        loop {
            match Self::start_once(dir, options) {
                Err(error) => options.retry_after(dir, error, attempt)?,
                started => return started,
            }
            attempt += 1;
        }
    }

    fn start_once(dir: &Path, options: &LocalOptions<'_>) -> Result<Self, LocalError> {
        if Handle::try_current().is_ok() {
            return Err(LocalError::InsideRuntime);
        }
        let written = write_federation(dir, options)?;
        let mut providers = Vec::with_capacity(written.len());
        for (index, provider) in written.into_iter().enumerate() {
            options.tell(LocalEvent::Starting {
                index,
                domain: &provider.domain,
            });
            let recipe = Arc::new(Recipe {
                workers: options.workers,
                name: (options.thread_name)(index, &provider.domain),
                on_thread_start: options.on_thread_start.clone(),
            });
            // On failure, those started so far stop as `providers` drops.
            let started = LocalProvider::start_own(provider.config, provider.config_path, recipe)?;
            options.tell(LocalEvent::Started {
                index,
                provider: &started,
            });
            providers.push(started);
        }
        Ok(Self { providers })
    }

    /// Like [`LocalFederation::start`], with every provider's tasks on the caller's runtime.
    pub async fn start_here(dir: &Path, options: &LocalOptions<'_>) -> Result<Self, LocalError> {
        let mut attempt = 1;
        loop {
            match Self::start_here_once(dir, options).await {
                Err(error) => options.retry_after(dir, error, attempt)?,
                started => return started,
            }
            attempt += 1;
        }
    }

    async fn start_here_once(dir: &Path, options: &LocalOptions<'_>) -> Result<Self, LocalError> {
        let written = write_federation(dir, options)?;
        let mut started = Self {
            providers: Vec::with_capacity(written.len()),
        };
        for (index, provider) in written.into_iter().enumerate() {
            options.tell(LocalEvent::Starting {
                index,
                domain: &provider.domain,
            });
            match LocalProvider::start_here(provider.config, provider.config_path).await {
                Ok(provider) => {
                    options.tell(LocalEvent::Started {
                        index,
                        provider: &provider,
                    });
                    started.providers.push(provider);
                }
                Err(error) => {
                    started.shutdown().await;
                    return Err(error);
                }
            }
        }
        Ok(started)
    }

    /// The providers, in the order of [`LocalOptions`]' domains.
    pub fn providers(&self) -> &[LocalProvider] {
        &self.providers
    }

    /// The providers, to stop or restart one.
    pub fn providers_mut(&mut self) -> &mut [LocalProvider] {
        &mut self.providers
    }

    /// The providers, each stopped when dropped.
    pub fn into_providers(self) -> Vec<LocalProvider> {
        self.providers
    }

    /// The provider of `domain`.
    pub fn provider(&self, domain: &Domain) -> Option<&LocalProvider> {
        self.providers.iter().find(|p| &p.domain == domain)
    }

    /// Stops every provider (blocking: outside a Tokio runtime).
    pub fn stop(&mut self) {
        for provider in &mut self.providers {
            provider.stop();
        }
    }

    /// Stops every provider, from async code.
    pub async fn shutdown(&mut self) {
        for provider in &mut self.providers {
            provider.shutdown().await;
        }
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
