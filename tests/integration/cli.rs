//! The binary as an installer runs it: flags and environment, the printed setup code, and a
//! clean stop on SIGTERM (what `systemctl stop` sends).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn serve_prints_the_setup_code_and_stops_cleanly_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-mdns"])
        .env("FOLIO_DATA", data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let address = loop {
        let line = lines.next().expect("folio printed its address").unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.trim().to_string();
        }
    };
    let code = std::fs::read_to_string(data.path().join("setup-code")).expect("FOLIO_DATA chose the data directory");
    assert!(printed.contains(code.trim()), "the setup code is printed: {printed}");

    let health = std::net::TcpStream::connect(&address);
    assert!(health.is_ok(), "listening on {address}");
    drop(health);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success(), "a clean stop exits 0, not {exit:?}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "folio did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    // It closed its database: another folio can open the same directory at once.
    folio::store::Store::open(data.path()).expect("the database was closed cleanly");
}

#[test]
fn a_taken_port_gets_a_message_that_says_what_to_do() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["serve", "--no-mdns", "--listen", &address, "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot listen on {address}")) && err.contains("--listen"), "{err}");
}
