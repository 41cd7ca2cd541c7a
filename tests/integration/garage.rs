//! The Garage test cluster itself (`support::GarageCluster`), before folio's S3 backend is
//! tested on it: objects go in, come back whole and by range through any node, are listed
//! and deleted; with one of three nodes killed the cluster still writes and reads, with two it
//! does not; the nodes outlive the test thread that started them; a finder without Garage says
//! how to install it.

use std::ffi::OsString;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, RetryConfig};

use crate::support::garage::{NODES, find_garage};
use crate::support::{GarageCluster, noise};

/// Incompressible bytes, so that a range off by one does not match.
fn payload(len: usize, seed: u64) -> Bytes {
    Bytes::from(noise(len, seed))
}

#[tokio::test]
async fn an_object_goes_in_through_one_node_and_comes_back_by_range_through_another() {
    let cluster = GarageCluster::shared();
    // Built by hand from the accessors, the way folio's backend is configured.
    let writer = AmazonS3Builder::new()
        .with_endpoint(cluster.endpoint(0))
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_region(cluster.region())
        .with_bucket_name(cluster.bucket())
        .with_access_key_id(cluster.access_key_id())
        .with_secret_access_key(cluster.secret_key())
        .build()
        .unwrap();
    let reader = cluster.s3(2);
    let prefix = ObjectPath::from("garage-harness/round-trip");
    let path = prefix.child("object");
    // Several of Garage's 1 MiB blocks, so the range crosses blocks.
    let body = payload(3 * 1024 * 1024 + 17, 1);

    writer.put(&path, body.clone().into()).await.unwrap();

    let whole = reader.get(&path).await.unwrap().bytes().await.unwrap();
    assert_eq!(whole, body, "the object read through another node");
    let range = 1_000_000..2_500_001u64;
    let part = reader.get_range(&path, range.clone()).await.unwrap();
    assert_eq!(part, body.slice(range.start as usize..range.end as usize), "a ranged GET across blocks");

    let listed: Vec<_> = reader.list(Some(&prefix)).try_collect().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].location.clone(), listed[0].size), (path.clone(), body.len() as u64));

    writer.delete(&path).await.unwrap();
    let gone = reader.get(&path).await.map(|found| found.meta).expect_err("a deleted object is gone");
    assert!(matches!(gone, object_store::Error::NotFound { .. }), "{gone}");
    let listed: Vec<_> = reader.list(Some(&prefix)).try_collect().await.unwrap();
    assert!(listed.is_empty(), "{listed:?}");
}

#[tokio::test]
async fn with_one_node_killed_the_cluster_writes_and_reads_and_with_two_it_cannot() {
    let cluster = GarageCluster::start();
    let before = ObjectPath::from("garage-harness/before");
    let during = ObjectPath::from("garage-harness/during");
    let (first, second) = (payload(1_500_000, 2), payload(2_100_000, 3));
    cluster.s3(0).put(&before, first.clone().into()).await.unwrap();

    cluster.kill(2);
    assert!(!cluster.is_running(2));
    cluster.s3(0).put(&during, second.clone().into()).await.expect("a PUT with one node of three down");
    assert_eq!(cluster.s3(1).get(&before).await.unwrap().bytes().await.unwrap(), first);
    assert_eq!(cluster.s3(1).get_range(&during, 100..200_100).await.unwrap(), second.slice(100..200_100));

    // The harness really takes nodes away: with two of three gone there is no quorum.
    cluster.kill(1);
    // Garage may take seconds to notice the second death and answer 503; not succeeding
    // within 3 s is the same finding.
    let alone = cluster
        .s3_builder(0)
        .with_client_options(ClientOptions::new().with_allow_http(true).with_timeout(Duration::from_secs(3)))
        .with_retry(RetryConfig { max_retries: 0, ..Default::default() })
        .build()
        .unwrap();
    let refused = alone.put(&ObjectPath::from("garage-harness/alone"), "x".into()).await;
    assert!(refused.is_err(), "a PUT with two nodes of three down: {refused:?}");

    cluster.restart(1);
    cluster.restart(2);
    assert!(cluster.is_running(1) && cluster.is_running(2));
    assert_eq!(
        cluster.s3(2).get(&during).await.unwrap().bytes().await.unwrap(),
        second,
        "read through the restarted node"
    );
}

#[test]
fn without_garage_the_finder_says_how_to_install_it() {
    let empty = tempfile::tempdir().unwrap();
    let nowhere = find_garage(None, Some(OsString::from(empty.path())), Some(empty.path().to_path_buf()));
    assert_eq!(nowhere.unwrap_err(), "Garage is missing: run bash tests/install-deps.sh");

    let chosen_but_absent = find_garage(Some(empty.path().join("garage").into()), None, None);
    assert!(chosen_but_absent.unwrap_err().starts_with("FOLIO_GARAGE="));

    let installed = empty.path().join("bin");
    std::fs::create_dir(&installed).unwrap();
    std::fs::write(installed.join("garage"), "").unwrap();
    assert_eq!(find_garage(None, None, Some(empty.path().to_path_buf())).unwrap(), installed.join("garage"));
}

#[tokio::test]
async fn the_nodes_outlive_the_thread_that_started_them() {
    // The kernel sends PR_SET_PDEATHSIG's signal when the *thread* that spawned a child ends:
    // had this short-lived thread spawned the nodes themselves, they would be dead below (the
    // shared cluster is started by whichever test thread asks first).
    let cluster = std::thread::spawn(GarageCluster::start).join().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..NODES {
        assert!(cluster.is_running(i), "node {i} died with the thread that started the cluster");
    }
    let path = ObjectPath::from("garage-harness/outlived");
    cluster.s3(1).put(&path, "still here".into()).await.unwrap();
    assert_eq!(cluster.s3(2).get(&path).await.unwrap().bytes().await.unwrap(), "still here");
}
