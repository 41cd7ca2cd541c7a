//! The store seen from outside: data survives restarts, a database of another schema refuses
//! to start with a message that says what to do, a copied database writes as a new replica,
//! and every change lands in the op log.

use redb::{ReadableDatabase, ReadableTableMetadata};
use reqwest::StatusCode;

use crate::support::*;
use folio::store::tables;

#[tokio::test]
async fn data_survives_a_restart() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let class = server.create_class(&admin, "Robins").await;
    let server = server.restart().await;
    // The session survives too: sessions live in the store, not in memory.
    let detail = json_of(server.get(&admin, &format!("/api/v1/classes/{}", class["id"].as_str().unwrap())).await).await;
    assert_eq!(detail["name"], "Robins");
    assert!(!server.data_dir.join("setup-code").exists(), "a set-up box prints no new code");
    server.login(&server.client(), "admin", ADMIN_PASSWORD).await;
    server.stop().await;
}

#[tokio::test]
async fn a_database_of_another_schema_refuses_to_start_and_says_what_to_do() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let dir = server.data_dir.clone();
    let temp = server.stop().await;

    for (version, advice) in [(99u32, "newer folio"), (0u32, "older folio")] {
        {
            let db = redb::Database::open(db_path(&dir)).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(tables::META).unwrap().insert("schema_version", version.to_be_bytes().as_slice()).unwrap();
            txn.commit().unwrap();
        }
        let err = TestServer::start_with(dir.clone(), |_| {}).await.err().expect("folio must refuse to start");
        let message = err.to_string();
        assert!(message.contains(&format!("data format {version}")), "{message}");
        assert!(message.contains(&format!("reads format {}", tables::SCHEMA_VERSION)), "{message}");
        assert!(message.contains(advice) && message.contains("Nothing was changed"), "{message}");
    }
    drop(temp);
}

#[tokio::test]
async fn every_change_is_an_operation_in_the_op_log() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let class = server.create_class(&admin, "Robins").await;
    let (status, _) = server.import_roster(&admin, class["id"].as_str().unwrap(), "ana,Ana\n").await;
    assert_eq!(status, StatusCode::OK);
    let dir = server.data_dir.clone();
    let temp = server.stop().await;

    let db = redb::Database::open(db_path(&dir)).unwrap();
    let txn = db.begin_read().unwrap();
    let log = txn.open_table(tables::OPLOG).unwrap();
    // school + admin + admin password, class, student + membership.
    assert_eq!(log.len().unwrap(), 6);
    let mut ops = Vec::new();
    let mut previous = None;
    for row in log.range::<([u8; 16], u64)>(..).unwrap() {
        let (k, v) = row.unwrap();
        let op: folio::domain::Op = folio::store::codec::decode(v.value()).unwrap();
        assert_eq!(op.id.seq, k.value().1);
        if let Some(prev) = previous {
            assert_eq!(op.id.seq, prev + 1, "sequence numbers grow by one");
        }
        previous = Some(op.id.seq);
        ops.push(op);
    }
    assert!(ops.windows(2).all(|w| w[0].hlc < w[1].hlc), "the clock only moves forward");
    let school = ops[0].school;
    assert!(ops.iter().all(|op| op.school == school), "every op names its school");
    assert!(matches!(ops[0].change, folio::domain::Change::SchoolCreated { .. }));
    assert!(matches!(ops.last().unwrap().change, folio::domain::Change::MemberAdded { .. }));
    drop(temp);
}

#[test]
fn a_copied_database_takes_a_new_replica_id_and_keeps_its_data() {
    let original = tempfile::tempdir().unwrap();
    let first = folio::store::Store::open(original.path()).unwrap().replica();
    let again = folio::store::Store::open(original.path()).unwrap().replica();
    assert_eq!(first, again, "reopening in place keeps the replica id");

    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(db_path(original.path()), db_path(copy.path())).unwrap();
    let copied = folio::store::Store::open(copy.path()).unwrap().replica();
    assert_ne!(copied, first, "a copy must not write as the original");
    let copied_again = folio::store::Store::open(copy.path()).unwrap().replica();
    assert_eq!(copied, copied_again, "the copy keeps its new id from then on");
}

#[tokio::test]
async fn a_second_folio_on_the_same_data_directory_is_refused_clearly() {
    let server = TestServer::start().await;
    let err = TestServer::start_with(server.data_dir.clone(), |_| {}).await.err().expect("must refuse");
    assert!(err.to_string().contains("Another folio is already using"), "{err}");
}
