//! `Lab`: folio boxes as real hosts on a private network, for the multi-box tests.
//!
//! Each lab is one bridge in a network namespace of its own and one namespace per box, joined
//! to the bridge by a veth pair (or, for a lossy box, by two tap devices and a relay thread
//! that drops frames: see [`Lab::add_lossy_box`]). Nothing touches the host's network: every
//! interface is made inside a namespace the lab owns, and dropping the lab kills its folios
//! and deletes its namespaces (with their interfaces), also when a test fails.
//!
//! In each box the real `folio serve` binary runs under `ip netns exec`, with its own data
//! directory, HTTP on 0.0.0.0:8080, the peer port on 0.0.0.0:7443, HTTPS off and mDNS on.
//!
//! # Reaching a box's API from the test
//!
//! A box's address exists only inside its namespaces, and a second link into the host
//! namespace would give the host new interfaces and routes. Instead each box gets a forwarder:
//! the test connects to a listener on 127.0.0.1 in its own namespace, and a thread that has
//! entered the box's namespace (`setns`, which moves only that thread) opens the connection
//! to the box's 127.0.0.1:8080 there. A socket stays in the namespace it was made in, so the
//! test's runtime copies bytes between the two sockets like any proxy. The admin API thus
//! sees its clients on its own loopback, and all box-to-box traffic crosses the lab's links.
//!
//! Several tests run at once in the one binary: names carry the process id and a counter,
//! and each lab takes its own /24 in 10.77.0.0/16.

#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::support::Api;
use crate::support::wait::{NotUp, until_it_answers};

pub const HTTP_PORT: u16 = 8080;
pub const PEER_PORT: u16 = 7443;

static LABS: AtomicU32 = AtomicU32::new(0);

/// Runs `ip` with `args`; Err with its stderr when it fails.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn must(args: &[&str]) {
    if let Err(e) = ip(args) {
        panic!("{e}");
    }
}

/// Namespaces left by an earlier run of this binary that was killed before it could clean up.
fn sweep_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else { return };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix("flab-") else { continue };
        let pid = rest.split('-').next().unwrap_or("");
        if !pid.is_empty() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

/// Whether this process may build labs. Outside CI, a machine that cannot (not root, no
/// iproute2) skips the test with a note; in CI that is a failure.
pub fn available() -> bool {
    let probe = format!("flab-{}-probe", std::process::id());
    let ok = ip(&["netns", "add", &probe]).is_ok();
    let _ = ip(&["netns", "del", &probe]);
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "CI must be able to create network namespaces (root, iproute2)");
        eprintln!("SKIPPED: the multi-box tests need root and iproute2 (network namespaces)");
    }
    ok
}

/// Enters network namespace `ns` on the calling thread only.
fn enter_netns(ns: &str) -> std::io::Result<()> {
    let file = File::open(format!("/var/run/netns/{ns}"))?;
    // SAFETY: setns with a valid namespace fd; it changes only this thread's namespace.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc != 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
}

/// A tap device named `name`, made inside namespace `ns` (by a thread that enters it).
fn tap_in(ns: &str, name: &str) -> OwnedFd {
    let (ns, name) = (ns.to_string(), name.to_string());
    std::thread::spawn(move || {
        enter_netns(&ns).expect("enter namespace");
        let fd = unsafe { libc::open(c"/dev/net/tun".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        assert!(fd >= 0, "open /dev/net/tun: {}", std::io::Error::last_os_error());
        // SAFETY: fd was just opened and is owned here alone.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        #[repr(C)]
        struct IfReq {
            name: [u8; 16],
            flags: libc::c_short,
            _pad: [u8; 22],
        }
        let mut req = IfReq { name: [0; 16], flags: (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short, _pad: [0; 22] };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: TUNSETIFF reads an ifreq, which IfReq lays out (name, flags, padding).
        let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF as _, &mut req) };
        assert!(rc == 0, "TUNSETIFF {name}: {}", std::io::Error::last_os_error());
        fd
    })
    .join()
    .unwrap()
}

/// Moves Ethernet frames between two tap devices, dropping each with probability `loss`:
/// real packet loss on a real link, which the kernel's TCP has to recover from (the kernel
/// here has no netem). Runs until `stop` is set.
fn relay(a: OwnedFd, b: OwnedFd, loss: f64, stop: Arc<AtomicBool>, dropped: Arc<AtomicU32>) {
    let mut rng = 0x2545_F491_4F6C_DD1Du64 ^ (std::process::id() as u64) << 17;
    let mut buf = vec![0u8; 65536];
    let fds = [a.as_raw_fd(), b.as_raw_fd()];
    while !stop.load(Ordering::Relaxed) {
        let mut polls = [
            libc::pollfd { fd: fds[0], events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: fds[1], events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: polls is a valid array of two pollfd.
        let n = unsafe { libc::poll(polls.as_mut_ptr(), 2, 100) };
        if n <= 0 {
            continue;
        }
        for (i, p) in polls.iter().enumerate() {
            if p.revents & libc::POLLIN == 0 {
                continue;
            }
            // SAFETY: reading into a buffer we own, of its length.
            let len = unsafe { libc::read(fds[i], buf.as_mut_ptr().cast(), buf.len()) };
            if len <= 0 {
                continue;
            }
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if (rng >> 11) as f64 / (1u64 << 53) as f64 <= loss {
                dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            // A write to a tap that is down fails; that frame is lost, as on a cut cable.
            // SAFETY: writing len bytes of our buffer.
            let _ = unsafe { libc::write(fds[1 - i], buf.as_ptr().cast(), len as usize) };
        }
    }
}

/// A forwarder from 127.0.0.1:<port> here to 127.0.0.1:`port` inside namespace `ns`.
struct Forwarder {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Forwarder {
    async fn start(ns: &str, port: u16) -> Forwarder {
        type Reply = tokio::sync::oneshot::Sender<std::io::Result<std::net::TcpStream>>;
        let (ask, asks) = std::sync::mpsc::channel::<Reply>();
        let ns = ns.to_string();
        // The connecting thread lives in the box's namespace until the forwarder is dropped
        // (then `ask` is gone and its loop ends).
        std::thread::spawn(move || {
            if let Err(e) = enter_netns(&ns) {
                eprintln!("forwarder cannot enter {ns}: {e}");
                return;
            }
            for reply in asks {
                let _ = reply.send(std::net::TcpStream::connect(("127.0.0.1", port)));
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            while let Ok((mut outside, _)) = listener.accept().await {
                let (tx, rx) = tokio::sync::oneshot::channel();
                if ask.send(tx).is_err() {
                    return;
                }
                tokio::spawn(async move {
                    let Ok(Ok(inside)) = rx.await else { return };
                    let _ = inside.set_nonblocking(true);
                    let _ = inside.set_nodelay(true);
                    let _ = outside.set_nodelay(true);
                    let Ok(mut inside) = tokio::net::TcpStream::from_std(inside) else { return };
                    let _ = tokio::io::copy_bidirectional(&mut outside, &mut inside).await;
                });
            }
        });
        Forwarder { port: local, task }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How a box joins the bridge.
enum Link {
    Veth,
    Lossy { stop: Arc<AtomicBool>, dropped: Arc<AtomicU32> },
}

/// One box of a lab: a namespace, an address, a data directory and (once started) a folio.
///
/// It is not a [`TestServer`](crate::support::TestServer): a test's server runs in the test's
/// own process and network namespace, while a box of the lab must sit in a namespace of its
/// own with its own addresses, which only a separate `folio serve` process (started under
/// `ip netns exec`, configured by its command line) can do, and which the test reaches through
/// a forwarder. What does not depend on that is shared: the API helpers ([`Api`]), the
/// classroom fixture, the wait for `/healthz` ([`until_it_answers`]), `eventually` and `noise`.
pub struct Node {
    pub name: String,
    pub ns: String,
    pub ip: String,
    /// The bridge-side end of its link (in the lab's bridge namespace).
    port_dev: String,
    link: Link,
    dir: tempfile::TempDir,
    pub data_dir: PathBuf,
    child: Option<Child>,
    forwarder: Option<Forwarder>,
    /// `http://127.0.0.1:<port>`: the forwarder to this box's HTTP port.
    pub url: String,
}

impl Node {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The address other boxes reach this box's peer port at.
    pub fn peer_address(&self) -> String {
        format!("{}:{PEER_PORT}", self.ip)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("folio.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Bytes received plus sent on the box's network interface, from the kernel's counters
    /// (read through its folio's /proc entry, which shows the box's namespace).
    pub fn link_bytes(&self) -> u64 {
        let pid = self.pid().expect("folio runs");
        let dev = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
        dev.lines()
            .find_map(|l| l.trim_start().strip_prefix("eth0:"))
            .map(|rest| {
                let f: Vec<u64> = rest.split_whitespace().filter_map(|v| v.parse().ok()).collect();
                f.first().copied().unwrap_or(0) + f.get(8).copied().unwrap_or(0)
            })
            .unwrap_or(0)
    }

    /// Frames the lossy relay dropped so far (0 for a plain link).
    pub fn dropped_frames(&self) -> u32 {
        match &self.link {
            Link::Lossy { dropped, .. } => dropped.load(Ordering::Relaxed),
            Link::Veth => 0,
        }
    }

    /// Sets a sysctl inside the box's namespace (e.g. `net.ipv4.tcp_retries2`).
    pub fn sysctl(&self, key: &str, value: &str) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns, "sysctl", "-q", "-w", &format!("{key}={value}")])
            .output()
            .unwrap();
        assert!(out.status.success(), "sysctl {key}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Starts `folio serve` in the box and waits until its API answers through the forwarder.
    pub async fn start(&mut self) {
        self.start_with(&[]).await
    }

    /// [`Node::start`] with more `folio serve` flags.
    pub async fn start_with(&mut self, extra: &[&str]) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        let log = File::create(self.dir.path().join("folio.log")).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns, env!("CARGO_BIN_EXE_folio"), "serve", "--data"])
            .arg(&self.data_dir)
            .args(["--listen", &format!("0.0.0.0:{HTTP_PORT}")])
            .args(["--peer-listen", &format!("0.0.0.0:{PEER_PORT}")])
            .args(["--tls-listen", "off"])
            .args(extra)
            .env("FOLIO_LOG", std::env::var("FOLIO_LOG").unwrap_or_else(|_| "folio=info,warn".into()))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        if self.forwarder.is_none() {
            let f = Forwarder::start(&self.ns, HTTP_PORT).await;
            self.url = format!("http://127.0.0.1:{}", f.port);
            self.forwarder = Some(f);
        }
        let child = self.child.as_mut().unwrap();
        match until_it_answers(&self.url, Duration::from_secs(30), || child.try_wait().unwrap().is_none()).await {
            Ok(()) => {}
            Err(NotUp::Stopped) => panic!("folio in {} stopped at once:\n{}", self.name, self.log()),
            Err(NotUp::Silent) => panic!("folio in {} did not answer:\n{}", self.name, self.log()),
        }
    }

    /// Stops its folio at once (SIGKILL: a power cut), keeping its data.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops its folio cleanly (SIGTERM) and waits for it to close its database.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let start = Instant::now();
            while child.try_wait().ok().flatten().is_none() {
                if start.elapsed() > Duration::from_secs(20) {
                    let _ = child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.wait();
        }
    }

    /// Completes setup with a school of its own; returns the admin's client and the school id.
    /// The admin's username is `admin-<box name>`: once schools travel between boxes, one
    /// box holds several admins, and usernames tell them apart.
    pub async fn setup(&self, school: &str) -> (Client, String) {
        self.setup_school(school, &format!("admin-{}", self.name)).await
    }

    /// A student's artifact with one file (in `class`, if given); returns the artifact JSON.
    pub async fn upload(
        &self,
        student: &Client,
        title: &str,
        class: Option<&str>,
        name: &str,
        bytes: Vec<u8>,
    ) -> Value {
        let mut form = reqwest::multipart::Form::new().text("title", title.to_string());
        if let Some(class) = class {
            form = form.text("class_id", class.to_string());
        }
        let len = bytes.len() as u64;
        let part = reqwest::multipart::Part::stream_with_length(bytes, len).file_name(name.to_string());
        let res = student.post(self.url("/api/v1/artifacts")).multipart(form.part("file", part)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "upload on {}: {}", self.name, res.text().await.unwrap());
        res.json().await.unwrap()
    }

    /// The bytes of an artifact's first file as `client` may read them on this box, or the
    /// status it got instead.
    pub async fn file_of(&self, client: &Client, artifact: &Value) -> Result<Vec<u8>, StatusCode> {
        let id = artifact["id"].as_str().unwrap();
        let file = artifact["files"][0]["id"].as_str().unwrap();
        let res = self.get(client, &format!("/api/v1/artifacts/{id}/files/{file}")).await;
        if res.status() == StatusCode::OK { Ok(res.bytes().await.unwrap().to_vec()) } else { Err(res.status()) }
    }

    /// This box's id (64 hex), from `GET /api/v1/peers/self`.
    pub async fn box_id(&self, admin: &Client) -> String {
        self.get_json(admin, "/api/v1/peers/self").await["box_id"].as_str().unwrap().to_string()
    }

    /// `GET /api/v1/peers`.
    pub async fn peers(&self, admin: &Client) -> Vec<Value> {
        self.get_json(admin, "/api/v1/peers").await.as_array().cloned().unwrap_or_default()
    }

    /// `POST /api/v1/peers/{id}/sync`: Ok(counts) or Err((status, body)).
    pub async fn sync(&self, admin: &Client, peer: &str) -> Result<Value, (StatusCode, String)> {
        let res = admin.post(self.url(&format!("/api/v1/peers/{peer}/sync"))).send().await.unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        if status == StatusCode::OK { Ok(serde_json::from_str(&body).unwrap()) } else { Err((status, body)) }
    }

    /// A sync that must succeed.
    pub async fn sync_ok(&self, admin: &Client, peer: &str) -> Value {
        match self.sync(admin, peer).await {
            Ok(counts) => counts,
            Err((status, body)) => panic!("sync on {} with {peer}: {status} {body}", self.name),
        }
    }

    /// Whether a file with these bytes' BLAKE3 hash is anywhere under the data directory.
    pub fn holds_blob(&self, bytes: &[u8]) -> bool {
        let hash = blake3::hash(bytes).to_hex().to_string();
        fn walk(dir: &Path, name: &str) -> bool {
            std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
                let p = e.path();
                if p.is_dir() { walk(&p, name) } else { e.file_name().to_string_lossy().contains(name) }
            })
        }
        walk(&self.data_dir, &hash)
    }

    /// Whether the database file holds these bytes anywhere (a title, a name): a raw check
    /// that no table (not only what the API shows) kept a record.
    pub fn database_contains(&self, needle: &str) -> bool {
        let db = std::fs::read(self.data_dir.join("folio.redb")).unwrap_or_default();
        db.windows(needle.len()).any(|w| w == needle.as_bytes())
    }
}

impl Api for Node {
    fn url(&self, path: &str) -> String {
        Node::url(self, path)
    }

    fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    async fn post(&self, client: &Client, path: &str, body: Value) -> Response {
        client.post(self.url(path)).json(&body).send().await.unwrap()
    }

    async fn get(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.unwrap()
    }
}

/// Pairs `a` with `b`: `b`'s admin invites (offering `scope`, or the whole schools), `a`'s
/// admin joins with the token. Returns (b's peer id on a, a's peer id on b).
pub async fn pair(a: &Node, a_admin: &Client, b: &Node, b_admin: &Client, scope: Option<Value>) -> (String, String) {
    let body = match scope {
        Some(scope) => json!({"scope": scope}),
        None => json!({}),
    };
    let res = b.post(b_admin, "/api/v1/peers/invite", body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "invite on {}: {}", b.name, res.text().await.unwrap());
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let res = a.post(a_admin, "/api/v1/peers/join", json!({"token": token})).await;
    assert_eq!(res.status(), StatusCode::CREATED, "join on {}: {}", a.name, res.text().await.unwrap());
    let b_on_a = res.json::<Value>().await.unwrap()["peer_id"].as_str().unwrap().to_string();
    assert_eq!(b_on_a, b.box_id(b_admin).await, "a peer is named by its box id");
    let a_id = a.box_id(a_admin).await;
    let on_b = b.peers(b_admin).await;
    assert!(on_b.iter().any(|p| p["peer_id"] == a_id.as_str()), "{} pinned {}: {on_b:?}", b.name, a.name);
    (b_on_a, a_id)
}

/// The scope of some classes of one school, as the peers API takes it.
pub fn classes_scope(school: &str, classes: &[&str]) -> Value {
    json!({"kind": "classes", "classes": classes.iter().map(|c| json!([school, c])).collect::<Vec<_>>()})
}

/// A private network of boxes; see the module docs.
pub struct Lab {
    tag: String,
    bridge_ns: String,
    subnet: u8,
    namespaces: Vec<String>,
    relays: Vec<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
    next_host: u8,
}

impl Lab {
    /// A lab with its bridge; `None` when this machine cannot make one (see [`available`]).
    pub fn new() -> Option<Lab> {
        if !available() {
            return None;
        }
        sweep_stale();
        let n = LABS.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let tag = format!("flab-{pid}-{n}");
        let bridge_ns = format!("{tag}-br");
        // Another test binary run at the same time gets other subnets too.
        let subnet = ((pid as u64 * 7 + n as u64) % 250) as u8 + 1;
        let lab = Lab {
            tag,
            bridge_ns: bridge_ns.clone(),
            subnet,
            namespaces: vec![bridge_ns.clone()],
            relays: Vec::new(),
            next_host: 10,
        };
        must(&["netns", "add", &bridge_ns]);
        must(&["-n", &bridge_ns, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"]);
        must(&["-n", &bridge_ns, "link", "set", "br0", "up"]);
        Some(lab)
    }

    fn new_namespace(&mut self, name: &str) -> (String, String) {
        let ns = format!("{}-{name}", self.tag);
        must(&["netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        must(&["-n", &ns, "link", "set", "lo", "up"]);
        let host = self.next_host;
        self.next_host += 1;
        (ns, format!("10.77.{}.{host}", self.subnet))
    }

    fn node(&self, name: &str, ns: String, ip: String, port_dev: String, link: Link) -> Node {
        must(&["-n", &ns, "addr", "add", &format!("{ip}/24"), "dev", "eth0"]);
        must(&["-n", &ns, "link", "set", "eth0", "up"]);
        must(&["-n", &self.bridge_ns, "link", "set", &port_dev, "master", "br0"]);
        must(&["-n", &self.bridge_ns, "link", "set", &port_dev, "up"]);
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        Node {
            name: name.into(),
            ns,
            ip,
            port_dev,
            link,
            dir,
            data_dir,
            child: None,
            forwarder: None,
            url: String::new(),
        }
    }

    /// A box joined to the bridge by a veth pair; not started yet.
    pub fn add_box(&mut self, name: &str) -> Node {
        let (ns, ip) = self.new_namespace(name);
        self.add_box_at(name, ns, ip)
    }

    /// A box that takes over another box's IP and MAC addresses (a rogue, or a replacement
    /// with new hardware would differ only in its MAC): the others' ARP caches need not learn
    /// anything new. Cut the other box's link first, or the two fight over the address.
    pub fn add_impostor(&mut self, name: &str, of: &Node) -> Node {
        let ns = format!("{}-{name}", self.tag);
        must(&["netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        must(&["-n", &ns, "link", "set", "lo", "up"]);
        let shown = Command::new("ip").args(["-n", &of.ns, "-o", "link", "show", "eth0"]).output().unwrap();
        let shown = String::from_utf8_lossy(&shown.stdout).to_string();
        let mac =
            shown.split("link/ether ").nth(1).and_then(|r| r.split_whitespace().next()).expect("a MAC").to_string();
        let port_dev = format!("v-{name}");
        must(&["-n", &self.bridge_ns, "link", "add", &port_dev, "type", "veth", "peer", "name", "eth0", "netns", &ns]);
        must(&["-n", &ns, "link", "set", "eth0", "address", &mac]);
        self.node(name, ns, of.ip.clone(), port_dev, Link::Veth)
    }

    fn add_box_at(&mut self, name: &str, ns: String, ip: String) -> Node {
        let port_dev = format!("v-{name}");
        must(&["-n", &self.bridge_ns, "link", "add", &port_dev, "type", "veth", "peer", "name", "eth0", "netns", &ns]);
        self.node(name, ns, ip, port_dev, Link::Veth)
    }

    /// A box whose link drops each Ethernet frame, either way, with probability `loss`: two
    /// tap devices (one in the box, one on the bridge) and a relay thread between them.
    pub fn add_lossy_box(&mut self, name: &str, loss: f64) -> Node {
        let (ns, ip) = self.new_namespace(name);
        let port_dev = format!("t-{name}");
        let inside = tap_in(&ns, "eth0");
        let outside = tap_in(&self.bridge_ns, &port_dev);
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU32::new(0));
        let (s, d) = (stop.clone(), dropped.clone());
        self.relays.push((stop.clone(), std::thread::spawn(move || relay(inside, outside, loss, s, d))));
        self.node(name, ns, ip, port_dev, Link::Lossy { stop, dropped })
    }

    /// Cuts a box's cable: its port on the bridge goes down (its own interface loses carrier).
    pub fn cut(&self, node: &Node) {
        must(&["-n", &self.bridge_ns, "link", "set", &node.port_dev, "down"]);
    }

    /// Limits what the bridge sends towards `node` to `mbit` megabits a second (a token
    /// bucket on its bridge port), e.g. so a test can act in the middle of a transfer.
    pub fn limit_rate(&self, node: &Node, mbit: u32) {
        let out = Command::new("tc")
            .args(["-n", &self.bridge_ns, "qdisc", "add", "dev", &node.port_dev, "root", "tbf"])
            .args(["rate", &format!("{mbit}mbit"), "burst", "256kb", "latency", "200ms"])
            .output()
            .unwrap();
        assert!(out.status.success(), "tc tbf: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Plugs the cable back in.
    pub fn restore(&self, node: &Node) {
        must(&["-n", &self.bridge_ns, "link", "set", &node.port_dev, "up"]);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The box's log is the first thing to read when a multi-box test fails.
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("---- folio log of box {} ({}), last lines ----", self.name, self.ip);
            for l in tail.into_iter().rev() {
                eprintln!("{l}");
            }
        }
        self.kill();
        if let Link::Lossy { stop, .. } = &self.link {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Deleting a namespace deletes its interfaces; a folio still running in one keeps it
        // alive, which is why nodes (dropped first, being declared after the lab) kill theirs.
        for (stop, relay) in self.relays.drain(..) {
            stop.store(true, Ordering::Relaxed);
            let _ = relay.join();
        }
        for ns in self.namespaces.iter().rev() {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// Reads a child's output lines into a string (for tools run inside a box).
pub fn output_of(mut child: Child) -> String {
    let mut out = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    let _ = child.wait();
    out
}

/// Runs a command inside namespace `ns`, returning its standard output.
pub fn run_in(ns: &str, cmd: &[&str]) -> String {
    let child = Command::new("ip").args(["netns", "exec", ns]).args(cmd).stdout(Stdio::piped()).spawn().unwrap();
    output_of(child)
}
