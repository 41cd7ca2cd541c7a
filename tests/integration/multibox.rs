//! Boxes as real hosts: each folio in its own network namespace on a bridge (`netlab`), with
//! real mDNS between them and real mutual TLS on the peer port. Driven only through the admin
//! API (`/api/v1/peers/...`) and what people see (signing in, reading a file), as an admin
//! and a school would. Needs root and iproute2; outside CI a machine without them skips.
//!
//! Each box is set up separately with a school of its own, so pairing shares schools both
//! ways (a student of box A's school signs in on box B once B holds that school).

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::netlab::*;
use crate::support::{Api, eventually, noise};

/// A school on one box: an admin, a teacher, classes and students in them.
struct School {
    admin: reqwest::Client,
    school_id: String,
    teacher: reqwest::Client,
}

async fn school(node: &Node, name: &str) -> School {
    let (admin, school_id) = node.setup(name).await;
    let (_, teacher) = node.person(&admin, &format!("teacher-{}", node.name), "teacher").await;
    School { admin, school_id, teacher }
}

/// Boxes a and b started in `lab`, each with a school of its own.
async fn started_schools(lab: &mut Lab) -> (Node, Node, School, School) {
    let mut a = lab.add_box("a");
    let mut b = lab.add_box("b");
    tokio::join!(a.start(), b.start());
    let (sa, sb) = tokio::join!(school(&a, "Escuela A"), school(&b, "Escuela B"));
    (a, b, sa, sb)
}

fn password(username: &str) -> String {
    format!("{username}-password")
}

/// A unique marker for titles, so a raw look at another box's database can find them.
fn marker(what: &str) -> String {
    format!("{what}-{}", uuid::Uuid::new_v4().simple())
}

/// The harness itself: a plain link carries TCP, a cut link carries nothing until it is
/// restored, and the lossy link really loses frames yet delivers every byte over TCP.
#[test]
fn the_lab_links_carry_tcp_are_cut_and_restored_and_lose_frames() {
    let Some(mut lab) = Lab::new() else { return };
    let a = lab.add_box("a");
    let b = lab.add_box("b");
    let c = lab.add_lossy_box("c", 0.10);
    // Bring a listener up in a, and connect from b and c with 2 MiB each.
    let listener = in_namespace(&a.ns, {
        let ip = a.ip.clone();
        move || std::net::TcpListener::bind((ip.as_str(), 9000)).unwrap()
    });
    let server = std::thread::spawn(move || {
        let mut got = Vec::new();
        for _ in 0..2 {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut s, &mut buf).unwrap();
            got.push(buf);
        }
        got
    });
    let payload = noise(2 << 20, 7);
    for node in [&b, &c] {
        let (ip, payload) = (a.ip.clone(), payload.clone());
        in_namespace(&node.ns, move || {
            // The first try over the lossy link can fail before TCP does anything (its ARP
            // requests are lost too, three times over on a busy machine): try again.
            let mut tries = 0;
            let mut s = loop {
                match std::net::TcpStream::connect((ip.as_str(), 9000)) {
                    Ok(s) => break s,
                    Err(e) if tries < 5 => {
                        tries += 1;
                        eprintln!("connecting over the lab link failed ({e}); trying again");
                        std::thread::sleep(Duration::from_millis(300));
                    }
                    Err(e) => panic!("connecting over the lab link failed {tries} times: {e}"),
                }
            };
            std::io::Write::write_all(&mut s, &payload).unwrap();
        });
    }
    let got = server.join().unwrap();
    assert!(got.iter().all(|g| *g == payload), "every byte arrived, over both links");
    assert!(c.dropped_frames() > 50, "the lossy link dropped frames: {}", c.dropped_frames());
    assert_eq!(b.dropped_frames(), 0);

    lab.cut(&b);
    let ip = a.ip.clone();
    let refused = in_namespace(&b.ns, move || {
        std::net::TcpStream::connect_timeout(
            &(ip.parse::<std::net::IpAddr>().unwrap(), 9000).into(),
            Duration::from_millis(700),
        )
        .is_err()
    });
    assert!(refused, "a cut link carries nothing");
    lab.restore(&b);
    let ip = a.ip.clone();
    let back = in_namespace(&b.ns, move || {
        // Connection refused (nothing listens any more) proves the packets went through.
        let start = Instant::now();
        loop {
            let r = std::net::TcpStream::connect_timeout(
                &(ip.parse::<std::net::IpAddr>().unwrap(), 9000).into(),
                Duration::from_millis(500),
            );
            if matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused) {
                return true;
            }
            if start.elapsed() > Duration::from_secs(10) {
                return false;
            }
        }
    });
    assert!(back, "a restored link carries traffic again");
}

/// Runs `f` on a thread inside namespace `ns` (sockets it makes stay there).
fn in_namespace<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let file = std::fs::File::open(format!("/var/run/netns/{ns}")).unwrap();
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        // SAFETY: setns with a namespace fd; it moves only this new thread.
        assert_eq!(unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
        f()
    })
    .join()
    .unwrap()
}

/// The nearby list (mDNS) on `node` shows `other` at its address and peer port.
async fn wait_nearby(node: &Node, admin: &reqwest::Client, other_id: &str, other: &Node, paired: bool) {
    let short = &other_id[..12];
    let what = format!(
        "{} does not list {} ({short}) nearby at {}:{PEER_PORT} with paired={paired}",
        node.name, other.name, other.ip
    );
    eventually(Duration::from_secs(20), &what, || async {
        let list = node.get_json(admin, "/api/v1/peers/nearby").await;
        let found = list.as_array().into_iter().flatten().find(|e| e["box_id_short"] == short).cloned();
        if let Some(e) = &found {
            let at_address = e["addresses"].as_array().into_iter().flatten().any(|a| {
                let a = a.as_str().unwrap_or("");
                a == other.ip || a.starts_with(&format!("{}:", other.ip))
            });
            if at_address && e["port"] == PEER_PORT && e["paired"] == paired {
                return Ok(());
            }
        }
        Err(list)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_boxes_discover_each_other_pair_and_sync_work_with_files_both_ways() {
    let Some(mut lab) = Lab::new() else { return };
    let (a, b, sa, sb) = started_schools(&mut lab).await;
    let (a_id, b_id) = tokio::join!(a.box_id(&sa.admin), b.box_id(&sb.admin));

    // Discovery: each lists the other, unpaired, by its short id, address and peer port.
    tokio::join!(wait_nearby(&a, &sa.admin, &b_id, &b, false), wait_nearby(&b, &sb.admin, &a_id, &a, false));

    let (ana_id, ana) = a.person(&sa.admin, "ana", "student").await;
    let (bea_id, bea) = b.person(&sb.admin, "bea", "student").await;
    let _ = (ana_id, bea_id);
    let (ana_bytes, bea_bytes) = (noise(300_000, 1), noise(200_001, 2));
    let ana_work = a.upload(&ana, "Ana's river", None, "river.png.bin", ana_bytes.clone()).await;
    let bea_work = b.upload(&bea, "Bea's song", None, "song.bin", bea_bytes.clone()).await;

    let (b_on_a, a_on_b) = pair(&a, &sa.admin, &b, &sb.admin, None).await;
    assert_eq!((b_on_a.as_str(), a_on_b.as_str()), (b_id.as_str(), a_id.as_str()));
    wait_nearby(&a, &sa.admin, &b_id, &b, true).await;

    // Pairing starts a round by itself; the one asked for here ends after everything saved
    // before it was asked for has gone both ways.
    let counts = a.sync_ok(&sa.admin, &b_on_a).await;
    for key in ["ops_sent", "ops_received", "files_sent", "files_received"] {
        assert!(counts[key].is_u64(), "{key} in {counts}");
    }

    // Each student signs in on the other box and reads their own file there.
    let ana_on_b = b.try_login("ana", &password("ana")).await.expect("ana signs in on box B");
    assert_eq!(b.file_of(&ana_on_b, &ana_work).await.unwrap(), ana_bytes, "ana's file arrived whole on B");
    let bea_on_a = a.try_login("bea", &password("bea")).await.expect("bea signs in on box A");
    assert_eq!(a.file_of(&bea_on_a, &bea_work).await.unwrap(), bea_bytes, "bea's file arrived whole on A");

    // Both boxes list each other; A, which ran the sync, with its time and no error.
    for (node, admin, other) in [(&a, &sa.admin, &b_id), (&b, &sb.admin, &a_id)] {
        let peers = node.peers(admin).await;
        let p = peers.iter().find(|p| p["peer_id"] == other.as_str()).unwrap_or_else(|| panic!("{peers:?}"));
        assert!(p["last_error"].is_null(), "{p}");
        if node.name == "a" {
            assert_eq!(p["status"], "ok", "{p}");
            assert!(p["last_sync"].is_u64(), "{p}");
        }
    }

    // A repeat moves nothing: positions say both sides are even.
    let again = a.sync_ok(&sa.admin, &b_on_a).await;
    assert_eq!((again["ops_received"].as_u64(), again["files_received"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!(again["files_sent"].as_u64(), Some(0), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_work_made_on_a_reaches_c_through_b_which_shares_only_that_class() {
    let Some(mut lab) = Lab::new() else { return };
    let mut a = lab.add_box("a");
    let mut b = lab.add_box("b");
    let mut c = lab.add_box("c");
    tokio::join!(a.start(), b.start(), c.start());
    let (sa, sb, sc) = tokio::join!(school(&a, "Escuela A"), school(&b, "Escuela B"), school(&c, "Escuela C"));
    let (xavi_id, xavi) = a.person(&sa.admin, "xavi", "student").await;
    let (yara_id, yara) = a.person(&sa.admin, "yara", "student").await;
    let class_x = a.class_with(&sa.teacher, "Robins", &[&xavi_id]).await;
    let class_y = a.class_with(&sa.teacher, "Owls", &[&yara_id]).await;
    let (x_title, y_title) = (marker("robins-work"), marker("owls-work"));
    let (x_bytes, y_bytes) = (noise(150_000, 11), noise(150_000, 12));
    let x_work = a.upload(&xavi, &x_title, Some(&class_x), "x.bin", x_bytes.clone()).await;
    a.upload(&yara, &y_title, Some(&class_y), "y.bin", y_bytes.clone()).await;

    // A offers class X to B; B offers everything it holds to C.
    let (a_on_b, _) = pair(&b, &sb.admin, &a, &sa.admin, Some(classes_scope(&sa.school_id, &[&class_x]))).await;
    let (b_on_c, _) = pair(&c, &sc.admin, &b, &sb.admin, None).await;
    b.sync_ok(&sb.admin, &a_on_b).await;
    // (Pairing itself starts a round, so what the asked-for sync counts depends on timing;
    // what arrived is checked instead.)
    c.sync_ok(&sc.admin, &b_on_c).await;

    // On C, xavi signs in (his account came with class X) and reads his work, A's bytes.
    let xavi_on_c = c.try_login("xavi", &password("xavi")).await.expect("xavi signs in on box C");
    assert_eq!(c.file_of(&xavi_on_c, &x_work).await.unwrap(), x_bytes);
    // Class Y went nowhere beyond A.
    for node in [&b, &c] {
        assert!(node.try_login("yara", &password("yara")).await.is_none(), "yara's account is not on {}", node.name);
        assert!(node.database_contains(&x_title), "the raw check finds what did arrive on {}", node.name);
        assert!(!node.database_contains(&y_title), "class Y's work is not in {}'s database", node.name);
        assert!(!node.holds_blob(&y_bytes), "class Y's file is not on {}", node.name);
    }

    // Later class X work on A reaches C the same way.
    let later = marker("robins-later");
    let later_bytes = noise(10_000, 13);
    let later_work = a.upload(&xavi, &later, Some(&class_x), "later.bin", later_bytes.clone()).await;
    b.sync_ok(&sb.admin, &a_on_b).await;
    c.sync_ok(&sc.admin, &b_on_c).await;
    assert_eq!(c.file_of(&xavi_on_c, &later_work).await.unwrap(), later_bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_paired_for_class_x_receives_nothing_of_class_y() {
    let Some(mut lab) = Lab::new() else { return };
    let (a, b, sa, sb) = started_schools(&mut lab).await;
    let (xavi_id, xavi) = a.person(&sa.admin, "xavi", "student").await;
    let (yara_id, yara) = a.person(&sa.admin, "yara", "student").await;
    let class_x = a.class_with(&sa.teacher, "Robins", &[&xavi_id]).await;
    // Xavi is in class Y too: his work posted in Y stays out of a class X grant.
    let class_y_name = marker("Owls");
    let class_y = a.class_with(&sa.teacher, &class_y_name, &[&yara_id, &xavi_id]).await;
    let x_title = marker("robins");
    let x_work = a.upload(&xavi, &x_title, Some(&class_x), "x.bin", noise(50_000, 21)).await;
    let y_items = [(marker("owls-yara"), noise(60_000, 22), &yara), (marker("owls-xavi"), noise(70_000, 23), &xavi)];
    for (title, bytes, who) in &y_items {
        a.upload(who, title, Some(&class_y), "y.bin", bytes.clone()).await;
    }

    let (a_on_b, _) = pair(&b, &sb.admin, &a, &sa.admin, Some(classes_scope(&sa.school_id, &[&class_x]))).await;
    b.sync_ok(&sb.admin, &a_on_b).await;
    // Work in Y made after pairing does not follow either.
    let late_y = (marker("owls-late"), noise(30_000, 24));
    a.upload(&yara, &late_y.0, Some(&class_y), "late.bin", late_y.1.clone()).await;
    b.sync_ok(&sb.admin, &a_on_b).await;

    let xavi_on_b = b.try_login("xavi", &password("xavi")).await.expect("xavi signs in on box B");
    assert!(b.file_of(&xavi_on_b, &x_work).await.is_ok(), "class X's work is on B");
    assert!(b.database_contains(&x_title), "the raw check finds class X's work");
    assert!(b.try_login("yara", &password("yara")).await.is_none(), "yara (only in Y) has no account on B");
    assert!(!b.database_contains(&class_y_name), "class Y itself is not on B");
    for (title, bytes) in y_items.iter().map(|(t, b, _)| (t, b)).chain([(&late_y.0, &late_y.1)]) {
        assert!(!b.database_contains(title), "{title} is not in B's database");
        assert!(!b.holds_blob(bytes), "the file of {title} is not on B");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_cut_in_the_middle_of_a_large_file_resumes_without_starting_over() {
    const SIZE: usize = 100 << 20;
    let Some(mut lab) = Lab::new() else { return };
    let mut a = lab.add_box("a");
    let mut b = lab.add_box("b");
    // A sender whose bytes go unacknowledged gives up after a few seconds instead of the
    // kernel's default quarter of an hour, so the cut breaks the transfer soon; and the
    // file crawls at 400 Mbit/s towards B, so the cut falls in its middle.
    for n in [&a, &b] {
        n.sysctl("net.ipv4.tcp_retries2", "4");
    }
    lab.limit_rate(&b, 400);
    tokio::join!(a.start(), b.start());
    let (sa, sb) = tokio::join!(school(&a, "Escuela A"), school(&b, "Escuela B"));
    let (_, ana) = a.person(&sa.admin, "ana", "student").await;
    let big = noise(SIZE, 31);
    let big_hash = blake3::hash(&big);
    let work = a.upload(&ana, "Ana's film", None, "film.mp4", big).await;
    let (a_on_b, _) = pair(&b, &sb.admin, &a, &sa.admin, None).await;

    let before = b.link_bytes();
    let sync = {
        let (url, admin) = (b.url(&format!("/api/v1/peers/{a_on_b}/sync")), sb.admin.clone());
        tokio::spawn(async move {
            let res = admin.post(url).send().await.unwrap();
            (res.status(), res.text().await.unwrap())
        })
    };
    let start = Instant::now();
    while b.link_bytes() - before < (SIZE / 2) as u64 {
        assert!(!sync.is_finished(), "the sync ended before half the file had crossed: {:?}", sync.await);
        assert!(start.elapsed() < Duration::from_secs(60), "half the file did not cross within 60 s");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    lab.cut(&b);
    let at_cut = b.link_bytes() - before;
    let (status, body) = tokio::time::timeout(Duration::from_secs(120), sync)
        .await
        .expect("a sync over a cut link ends (with an error) within 2 minutes")
        .unwrap();
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    lab.restore(&b);

    let mut counts = None;
    for _ in 0..3 {
        match b.sync(&sb.admin, &a_on_b).await {
            Ok(c) => {
                counts = Some(c);
                break;
            }
            // The link's first seconds back may still see the old connection's end.
            Err((status, body)) => eprintln!("sync after restore: {status} {body}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let counts = counts.expect("a sync after the link is restored succeeds");
    assert_eq!(counts["files_received"].as_u64(), Some(1), "{counts}");
    let total = b.link_bytes() - before;
    eprintln!("cut after {at_cut} bytes; {total} bytes crossed in all for a {SIZE}-byte file");
    assert!(
        total < SIZE as u64 + at_cut / 2,
        "the transfer started over: {total} bytes crossed for a {SIZE}-byte file, {at_cut} before the cut"
    );
    let ana_on_b = b.try_login("ana", &password("ana")).await.expect("ana signs in on B");
    let got = b.file_of(&ana_on_b, &work).await.unwrap();
    assert_eq!(got.len(), SIZE);
    assert_eq!(blake3::hash(&got), big_hash, "the resumed file is the original, byte for byte");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_converges_over_a_link_that_loses_ten_percent_of_its_frames() {
    let Some(mut lab) = Lab::new() else { return };
    let mut a = lab.add_box("a");
    let mut b = lab.add_lossy_box("b", 0.10);
    tokio::join!(a.start(), b.start());
    let (sa, sb) = tokio::join!(school(&a, "Escuela A"), school(&b, "Escuela B"));
    let (_, ana) = a.person(&sa.admin, "ana", "student").await;
    let (_, bea) = b.person(&sb.admin, "bea", "student").await;
    let (ana_bytes, bea_bytes) = (noise(3 << 20, 41), noise(1 << 20, 42));
    let mut ana_works = Vec::new();
    for i in 0..5 {
        ana_works.push(a.upload(&ana, &format!("ana {i}"), None, "a.bin", noise(20_000, 43 + i)).await);
    }
    let ana_big = a.upload(&ana, "ana big", None, "big.bin", ana_bytes.clone()).await;
    let bea_work = b.upload(&bea, "bea", None, "b.bin", bea_bytes.clone()).await;
    let (a_on_b, _) = pair(&b, &sb.admin, &a, &sa.admin, None).await;

    // Converging may take a retry (a sync that fails is retried, as the scheduler does).
    let mut attempts = 0;
    loop {
        attempts += 1;
        match b.sync(&sb.admin, &a_on_b).await {
            Ok(_) => break,
            Err((status, body)) => {
                assert!(attempts < 4, "no sync succeeded in 3 attempts over a 10% lossy link: {status} {body}");
                eprintln!("attempt {attempts}: {status} {body}");
            }
        }
    }
    let again = b.sync_ok(&sb.admin, &a_on_b).await;
    assert_eq!(again["ops_received"].as_u64(), Some(0), "converged: nothing left to receive ({again})");
    assert!(b.dropped_frames() > 100, "the link really lost frames: {}", b.dropped_frames());
    let ana_on_b = b.try_login("ana", &password("ana")).await.expect("ana signs in on B");
    let bea_on_a = a.try_login("bea", &password("bea")).await.expect("bea signs in on A");
    // A file cut off by the lossy link, or one the other box's own round is still fetching,
    // is "on its way" (404) until a later round brings it, as the scheduler's would.
    let files_arrived = || async {
        let mut all = b.file_of(&ana_on_b, &ana_big).await.as_ref() == Ok(&ana_bytes)
            && a.file_of(&bea_on_a, &bea_work).await.as_ref() == Ok(&bea_bytes);
        for w in &ana_works {
            all &= b.file_of(&ana_on_b, w).await.is_ok();
        }
        if !all {
            let _ = b.sync(&sb.admin, &a_on_b).await;
        }
        all
    };
    eventually(Duration::from_secs(60), "every file arrived whole on both boxes", files_arrived).await;
    eprintln!("converged in {attempts} attempt(s); {} frames dropped", b.dropped_frames());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rogue_box_at_a_paired_address_with_another_key_gets_nothing() {
    let Some(mut lab) = Lab::new() else { return };
    let (a, mut b, sa, sb) = started_schools(&mut lab).await;
    let (_, ana) = a.person(&sa.admin, "ana", "student").await;
    let (b_on_a, _) = pair(&a, &sa.admin, &b, &sb.admin, None).await;
    a.sync_ok(&sa.admin, &b_on_a).await;

    // B is switched off; a rogue (a box with another key) takes its address, even its
    // network card's address, and announces itself.
    b.kill();
    let mut rogue = lab.add_impostor("rogue", &b);
    lab.cut(&b);
    rogue.start().await;
    let (rogue_admin, _) = rogue.setup("Rogue school").await;
    // A sees the rogue announce itself at B's address, under its own id, not as paired.
    let rogue_id = rogue.box_id(&rogue_admin).await;
    wait_nearby(&a, &sa.admin, &rogue_id, &rogue, false).await;
    let secret_title = marker("after-the-swap");
    let secret = noise(40_000, 51);
    a.upload(&ana, &secret_title, None, "s.bin", secret.clone()).await;

    let (status, body) = a.sync(&sa.admin, &b_on_a).await.expect_err("a sync with the rogue fails");
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body.contains("presented a different key"), "the admin is told in plain words: {body}");
    let peers = a.peers(&sa.admin).await;
    let shown = serde_json::to_string(peers.iter().find(|p| p["peer_id"] == b_on_a.as_str()).unwrap()).unwrap();
    assert!(shown.contains("presented a different key"), "the peers list shows it: {shown}");

    assert!(!rogue.database_contains(&secret_title), "the rogue got no operation");
    assert!(!rogue.holds_blob(&secret), "the rogue got no file");
    assert!(rogue.try_login("ana", &password("ana")).await.is_none(), "the rogue got no account");
    assert!(rogue.peers(&rogue_admin).await.is_empty(), "the rogue was paired with nobody");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_peer_is_refused_at_once() {
    let Some(mut lab) = Lab::new() else { return };
    let (a, b, sa, sb) = started_schools(&mut lab).await;
    let (_, ana) = a.person(&sa.admin, "ana", "student").await;
    let (b_on_a, a_on_b) = pair(&a, &sa.admin, &b, &sb.admin, None).await;
    a.sync_ok(&sa.admin, &b_on_a).await;

    let res = sb.admin.delete(b.url(&format!("/api/v1/peers/{a_on_b}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "{}", res.text().await.unwrap());
    assert!(b.peers(&sb.admin).await.iter().all(|p| p["peer_id"] != a_on_b.as_str()), "B no longer lists A");

    let title = marker("after-revoking");
    a.upload(&ana, &title, None, "r.bin", noise(10_000, 61)).await;
    let (status, body) = a.sync(&sa.admin, &b_on_a).await.expect_err("A is refused by B");
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(!b.database_contains(&title), "B took nothing from the revoked box");
    let res = sb.admin.post(b.url(&format!("/api/v1/peers/{a_on_b}/sync"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "B has no peer A to sync with");
}
