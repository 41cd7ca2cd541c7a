//! [`GarageCluster`]: a real three-node Garage (the S3-compatible store a district box keeps
//! its files on, issue #26) on 127.0.0.1, for the tests of the S3 blob backend.
//!
//! Each node is a `garage server` process with its own metadata and data folders in one
//! temporary folder, on free loopback ports (RPC and S3; no admin API), LMDB metadata and
//! replication factor 3, so any two live nodes make a quorum: one node can be killed and the
//! cluster still reads and writes. The cluster is set up with Garage's own CLI, the way an
//! operator would: connect, assign a layout (zone dc1, 1G each), apply, create bucket `folio`
//! and a key with read, write and owner rights on it.
//!
//! Processes never outlive the test binary: they are spawned by one thread that lives as long
//! as the process, with `PR_SET_PDEATHSIG` (the kernel sends the signal when the *thread* that
//! spawned a child exits, so a test thread must not spawn them), and an owned cluster kills
//! its nodes when dropped. The shared cluster's folder is removed when the binary exits.
//!
//! Garage comes from `FOLIO_GARAGE`, else `garage` on `PATH`, else `~/.cargo/bin/garage`;
//! without it the tests fail (not skip): `bash tests/install-deps.sh` installs it.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, RetryConfig};

/// The Garage release the tests are written for (and `tests/install-deps.sh` installs).
pub const GARAGE_VERSION: &str = "2.5.0";
/// How many nodes a cluster has; nodes are numbered `0..NODES`.
pub const NODES: usize = 3;
const BUCKET: &str = "folio";
const REGION: &str = "garage";
/// How long a node may take to listen, and the cluster to take its first write.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// A running three-node Garage cluster on 127.0.0.1 with bucket [`bucket`](Self::bucket) and
/// a key that may read, write and own it.
pub struct GarageCluster {
    binary: PathBuf,
    dir: tempfile::TempDir,
    nodes: Vec<Node>,
    access_key_id: String,
    secret_key: String,
    /// The shared cluster: nodes may not be killed, it is never dropped.
    shared: bool,
}

struct Node {
    dir: PathBuf,
    /// `<hex>@127.0.0.1:<rpc port>`, known once the node first ran.
    id: String,
    s3_port: u16,
    rpc_port: u16,
    process: Mutex<Option<Child>>,
}

impl Node {
    fn config(&self) -> PathBuf {
        self.dir.join("garage.toml")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("garage.log")
    }
}

impl GarageCluster {
    /// Starts a cluster of its own (for a test that kills or restarts nodes); its nodes are
    /// killed and its folder removed when it is dropped. Blocks until a PUT through every
    /// node's endpoint succeeds (about 2 s on an idle machine). Panics, with the tail of each
    /// node's log, when the cluster does not come up.
    pub fn start() -> Self {
        let binary = garage_binary();
        let mut last = None;
        // A port found free can be taken by another process before Garage binds it: then the
        // whole start is tried again on other ports.
        let began = Instant::now();
        for _ in 0..3 {
            match Self::try_start(&binary) {
                Ok(cluster) => {
                    eprintln!(
                        "Garage cluster up in {} ms at {}",
                        began.elapsed().as_millis(),
                        cluster.dir.path().display()
                    );
                    return cluster;
                }
                Err((error, logs)) => {
                    eprintln!("Garage cluster did not start: {error:#}\n{logs}");
                    last = Some(error);
                }
            }
        }
        panic!("Garage cluster did not start (three tries; node logs above): {:#}", last.unwrap());
    }

    /// One cluster for the whole test binary, started by the first test that asks, for tests
    /// that do not kill nodes. Tests share its bucket: name objects under a prefix of your
    /// own. Its processes end with the binary.
    pub fn shared() -> &'static Self {
        static SHARED: OnceLock<GarageCluster> = OnceLock::new();
        extern "C" fn remove_shared() {
            if let Some(cluster) = SHARED.get() {
                cluster.stop_all();
                let _ = fs::remove_dir_all(cluster.dir.path());
            }
        }
        SHARED.get_or_init(|| {
            let mut cluster = Self::start();
            cluster.shared = true;
            // Statics are never dropped: remove the cluster's folder when the binary exits
            // (the harness ends with `exit`, which runs these).
            // SAFETY: `remove_shared` is a plain function that does not unwind.
            unsafe { libc::atexit(remove_shared) };
            cluster
        })
    }

    /// `http://127.0.0.1:PORT`, the S3 API of node `i`.
    pub fn endpoint(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.nodes[i].s3_port)
    }

    /// The bucket the key may read, write and own: `folio`.
    pub fn bucket(&self) -> &str {
        BUCKET
    }

    /// The S3 region Garage answers for: `garage`.
    pub fn region(&self) -> &str {
        REGION
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// A client builder for node `i`'s endpoint with the bucket, region and key set,
    /// path-style, plain HTTP, and retries bounded to a few seconds so that a fault fails a
    /// test quickly instead of after object_store's three minutes.
    pub fn s3_builder(&self, i: usize) -> AmazonS3Builder {
        // Client options first: setting them replaces the ones `with_allow_http` set.
        AmazonS3Builder::new()
            .with_client_options(ClientOptions::new().with_timeout(Duration::from_secs(30)))
            .with_endpoint(self.endpoint(i))
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .with_region(REGION)
            .with_bucket_name(BUCKET)
            .with_access_key_id(&self.access_key_id)
            .with_secret_access_key(&self.secret_key)
            .with_retry(RetryConfig { max_retries: 3, retry_timeout: Duration::from_secs(10), ..Default::default() })
    }

    /// A client on node `i`'s endpoint (see [`s3_builder`](Self::s3_builder)).
    pub fn s3(&self, i: usize) -> AmazonS3 {
        self.s3_builder(i).build().expect("an S3 client for the test cluster")
    }

    /// Kills node `i` with SIGKILL (no clean shutdown) and waits until it is gone.
    pub fn kill(&self, i: usize) {
        assert!(!self.shared, "the shared Garage cluster is not for killing: start one of your own");
        let mut process = self.nodes[i].process.lock().unwrap();
        if let Some(mut child) = process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts node `i` again (killing it first if it runs) on its ports and folders, and
    /// waits until a PUT through its endpoint succeeds.
    pub fn restart(&self, i: usize) {
        self.kill(i);
        let node = &self.nodes[i];
        let child =
            spawn_node(&self.binary, node).unwrap_or_else(|e| panic!("Garage node {i} did not start again: {e:#}"));
        *node.process.lock().unwrap() = Some(child);
        let ready = self.wait_listening(i).and_then(|()| {
            // Left alone, the nodes find each other again on Garage's retry schedule, up to
            // 30 s later: ask every running node to connect now.
            for other in (0..NODES).filter(|&j| j != i && self.is_running(j)) {
                self.cli(other, &["node", "connect", &node.id])?;
            }
            self.wait_writable(&[i])
        });
        if let Err(error) = ready {
            panic!("Garage node {i} did not come back: {error:#}\n{}", self.log_tails());
        }
    }

    /// Whether node `i`'s process is running (not killed, not exited).
    pub fn is_running(&self, i: usize) -> bool {
        let mut process = self.nodes[i].process.lock().unwrap();
        process.as_mut().is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// The last lines of every node's log, for a failure message.
    pub fn log_tails(&self) -> String {
        let mut out = String::new();
        for (i, node) in self.nodes.iter().enumerate() {
            out += &format!("--- Garage node {i} ({}), last lines ---\n", node.log().display());
            out += &tail(&node.log(), 25);
        }
        out
    }

    fn try_start(binary: &Path) -> Result<Self, (anyhow::Error, String)> {
        let dir = tempfile::Builder::new().prefix("folio-garage-").tempdir().map_err(|e| (e.into(), String::new()))?;
        let ports = free_ports(2 * NODES).map_err(|e| (e.into(), String::new()))?;
        let mut cluster = GarageCluster {
            binary: binary.to_path_buf(),
            nodes: (0..NODES)
                .map(|i| Node {
                    id: String::new(),
                    dir: dir.path().join(format!("node{i}")),
                    s3_port: ports[2 * i],
                    rpc_port: ports[2 * i + 1],
                    process: Mutex::new(None),
                })
                .collect(),
            dir,
            access_key_id: format!("GK{}", hex(&rand::random::<[u8; 12]>())),
            secret_key: hex(&rand::random::<[u8; 32]>()),
            shared: false,
        };
        match cluster.set_up() {
            Ok(()) => Ok(cluster),
            Err(error) => {
                let logs = cluster.log_tails();
                cluster.stop_all();
                Err((error, logs))
            }
        }
    }

    fn set_up(&mut self) -> anyhow::Result<()> {
        let rpc_secret = hex(&rand::random::<[u8; 32]>());
        for node in &self.nodes {
            fs::create_dir_all(&node.dir)?;
            fs::write(node.config(), node_config(node, &rpc_secret))?;
        }
        for node in &self.nodes {
            *node.process.lock().unwrap() = Some(spawn_node(&self.binary, node)?);
        }
        for i in 0..NODES {
            self.wait_listening(i)?;
        }
        for i in 0..NODES {
            self.nodes[i].id = self.cli(i, &["node", "id", "--quiet"])?;
        }
        for node in &self.nodes[1..] {
            self.cli(0, &["node", "connect", &node.id])?;
        }
        let mut assign = vec!["layout", "assign", "--zone", "dc1", "--capacity", "1G"];
        let hex_ids: Vec<&str> = self.nodes.iter().map(|node| node.id.split('@').next().unwrap_or(&node.id)).collect();
        assign.extend(&hex_ids);
        self.cli(0, &assign)?;
        self.cli(0, &["layout", "apply", "--version", "1"])?;
        self.cli(0, &["bucket", "create", BUCKET])?;
        let (key, secret) = (self.access_key_id.clone(), self.secret_key.clone());
        self.cli(0, &["key", "import", "-n", "folio-test", "--yes", &key, &secret])?;
        self.cli(0, &["bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", &key])?;
        self.wait_writable(&(0..NODES).collect::<Vec<_>>())
    }

    /// A new bucket, with the cluster's key allowed on it: one per folio box, as a box owns
    /// its bucket (it collects what none of its rows names).
    pub fn new_bucket(&self) -> String {
        let name = format!("box-{:016x}", rand::random::<u64>());
        let key = self.access_key_id.clone();
        self.cli(0, &["bucket", "create", &name]).expect("a new bucket");
        self.cli(0, &["bucket", "allow", "--read", "--write", "--owner", &name, "--key", &key]).expect("the key on it");
        name
    }

    /// How a folio reaches the cluster through node `i`.
    pub fn settings(&self, i: usize) -> folio::blobs::s3::S3Settings {
        folio::blobs::s3::S3Settings {
            endpoint: self.endpoint(i),
            region: REGION.to_string(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_key.clone(),
        }
    }

    /// A client of `bucket` through node 0, to look at what folio stored.
    pub fn client(&self, bucket: &str) -> AmazonS3 {
        self.s3_builder(0).with_bucket_name(bucket).build().expect("an S3 client for the test cluster")
    }

    /// Runs the folio binary with `args` and then `data` (so `args` may end in `--data`), with
    /// the environment saying how to reach the cluster through node 0.
    pub fn folio_command(&self, data: &std::path::Path, args: &[&str]) -> std::process::Output {
        let settings = self.settings(0);
        Command::new(env!("CARGO_BIN_EXE_folio"))
            .args(args)
            .arg(data)
            .env("FOLIO_S3_ENDPOINT", settings.endpoint)
            .env("FOLIO_S3_ACCESS_KEY_ID", settings.access_key_id)
            .env("FOLIO_S3_SECRET_ACCESS_KEY", settings.secret_access_key)
            .stdin(Stdio::null())
            .output()
            .expect("folio runs")
    }

    /// Runs the Garage CLI against node `i` and returns what it printed.
    fn cli(&self, i: usize, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new(&self.binary)
            .arg("--config")
            .arg(self.nodes[i].config())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running garage {}", args.join(" ")))?;
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if !output.status.success() {
            bail!(
                "garage {} failed ({}): {stdout}\n{}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(stdout)
    }

    /// Waits until node `i` accepts connections on its S3 port (Garage opens it after the RPC
    /// port; a probe of the RPC port would log a failed handshake).
    fn wait_listening(&self, i: usize) -> anyhow::Result<()> {
        let node = &self.nodes[i];
        let address = SocketAddr::from(([127, 0, 0, 1], node.s3_port));
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if !self.is_running(i) {
                bail!("Garage node {i} exited while starting");
            }
            if TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("Garage node {i} did not listen on {address} within {READY_WITHIN:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until a PUT through each of `nodes`' endpoints succeeds: the layout has reached
    /// them and they reach a quorum.
    fn wait_writable(&self, nodes: &[usize]) -> anyhow::Result<()> {
        let clients: Vec<(usize, AmazonS3)> = nodes
            .iter()
            .map(|&i| {
                let fail_fast = RetryConfig { max_retries: 0, ..Default::default() };
                Ok((i, self.s3_builder(i).with_retry(fail_fast).build()?))
            })
            .collect::<anyhow::Result<_>>()?;
        block_on(async {
            let deadline = Instant::now() + READY_WITHIN;
            for (i, client) in &clients {
                let probe = ObjectPath::from(format!("garage-harness/ready-{i}"));
                loop {
                    match client.put(&probe, "ready".into()).await {
                        Ok(_) => break,
                        Err(error) if Instant::now() > deadline => {
                            return Err(anyhow!(error)
                                .context(format!("no PUT through Garage node {i} within {READY_WITHIN:?}")));
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    }
                }
                client.delete(&probe).await?;
            }
            Ok(())
        })
    }

    fn stop_all(&self) {
        for node in &self.nodes {
            if let Some(mut child) = node.process.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for GarageCluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.log_tails());
        }
        self.stop_all();
    }
}

fn node_config(node: &Node, rpc_secret: &str) -> String {
    let path = |name: &str| toml_string(&node.dir.join(name));
    format!(
        r#"metadata_dir = {meta}
data_dir = {data}
db_engine = "lmdb"
replication_factor = 3
# The tests' objects are small and compressing them only costs a 2-core machine time.
compression_level = "none"
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{rpc_secret}"

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "127.0.0.1:{s3}"
"#,
        meta = path("meta"),
        data = path("data"),
        rpc = node.rpc_port,
        s3 = node.s3_port,
    )
}

/// A path as a TOML basic string (the temporary folder's path is plain ASCII, but quote it
/// properly anyway).
fn toml_string(path: &Path) -> String {
    let mut out = String::from("\"");
    for c in path.to_string_lossy().chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Starts `garage server` for `node`, its output appended to the node's log.
fn spawn_node(binary: &Path, node: &Node) -> anyhow::Result<Child> {
    let log = OpenOptions::new().create(true).append(true).open(node.log())?;
    let mut command = Command::new(binary);
    command
        .arg("--config")
        .arg(node.config())
        .arg("server")
        // Nothing from the environment (a GARAGE_RPC_SECRET, say) may change the test cluster.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "garage=info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    spawn_tied_to_process(command).context("starting garage server")
}

/// Spawns `command` from a thread that lives as long as the test binary, with the child
/// asking the kernel for SIGKILL when that thread (and so the binary) ends.
fn spawn_tied_to_process(mut command: Command) -> io::Result<Child> {
    type Request = (Command, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Request>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<Request>();
        // The sender sits in a static, so `incoming` never ends and this thread never exits:
        // PR_SET_PDEATHSIG fires on the exit of the spawning thread, not of the process.
        std::thread::Builder::new()
            .name("garage-spawner".into())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("a thread to spawn Garage from");
        requests
    });
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec the closure only makes two async-signal-safe system calls
    // and builds errors without allocating.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(io::Error::last_os_error());
            }
            // The binary may have ended before the request was made: then nobody will be
            // there to kill this child.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    let (reply, answer) = mpsc::channel();
    spawner.send((command, reply)).map_err(|_| io::Error::other("the Garage spawner thread is gone"))?;
    answer.recv().map_err(|_| io::Error::other("the Garage spawner thread is gone"))?
}

/// Where Garage is (see [`find_garage`]), its version checked once per binary.
fn garage_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let cargo_home = std::env::var_os("CARGO_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
            let binary = find_garage(std::env::var_os("FOLIO_GARAGE"), std::env::var_os("PATH"), cargo_home)
                .unwrap_or_else(|missing| panic!("{missing}"));
            let version = Command::new(&binary).arg("--version").output().map(|out| String::from_utf8_lossy(&out.stdout).into_owned());
            match version {
                Ok(version) if version.contains(GARAGE_VERSION) => {}
                // Another release may work; say so, since the CLI's words change between them.
                Ok(version) => eprintln!(
                    "warning: {} is `{}`; the tests are written for Garage {GARAGE_VERSION} (bash tests/install-deps.sh)",
                    binary.display(),
                    version.trim()
                ),
                Err(error) => panic!("Garage at {} does not run ({error}): run bash tests/install-deps.sh", binary.display()),
            }
            binary
        })
        .clone()
}

/// Where Garage is: `folio_garage` (the `FOLIO_GARAGE` variable), else `garage` in a folder of
/// `path` (the `PATH` variable), else `bin/garage` under `cargo_home` (where
/// `tests/install-deps.sh` puts it). An error when it is nowhere: the S3 tests must fail, not
/// skip, on a machine without it.
pub fn find_garage(
    folio_garage: Option<OsString>,
    path: Option<OsString>,
    cargo_home: Option<PathBuf>,
) -> Result<PathBuf, String> {
    if let Some(chosen) = folio_garage {
        let chosen = PathBuf::from(chosen);
        return if chosen.is_file() {
            Ok(chosen)
        } else {
            Err(format!("FOLIO_GARAGE={} is not a file: point it at Garage, or unset it", chosen.display()))
        };
    }
    let on_path = path
        .map(|paths| std::env::split_paths(&paths).map(|dir| dir.join("garage")).collect::<Vec<_>>())
        .unwrap_or_default();
    let installed = cargo_home.map(|home| home.join("bin").join("garage"));
    on_path
        .into_iter()
        .chain(installed)
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| "Garage is missing: run bash tests/install-deps.sh".to_string())
}

/// `count` distinct ports free on 127.0.0.1 at the moment of asking (all held open together,
/// so they differ).
fn free_ports(count: usize) -> io::Result<Vec<u16>> {
    let listeners: Vec<TcpListener> =
        (0..count).map(|_| TcpListener::bind("127.0.0.1:0")).collect::<io::Result<_>>()?;
    listeners.iter().map(|listener| Ok(listener.local_addr()?.port())).collect()
}

/// Runs `future` to completion on a runtime of its own in another thread, so that the
/// blocking API works from plain and async tests alike.
fn block_on<F>(future: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(future)
            })
            .join()
            .expect("the Garage readiness check panicked")
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn tail(path: &Path, lines: usize) -> String {
    let Ok(file) = File::open(path) else {
        return "(no log)\n".into();
    };
    let all: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
    let mut out = all[all.len().saturating_sub(lines)..].join("\n");
    out.push('\n');
    out
}
