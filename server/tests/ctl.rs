//! `warren ctl` against a running server: every command, its rabbitmqctl
//! output, `--formatter json`, and the error when no server is there.

mod common;

use common::client::*;
use common::Server;
use std::process::{Command, Output};

fn ctl(http_port: u16, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warren"))
        .args(["ctl", "--port", &http_port.to_string()])
        .args(args)
        .output()
        .expect("run warren ctl")
}

/// Runs a command that must succeed; returns its standard output.
fn ok(http_port: u16, args: &[&str]) -> String {
    let out = ctl(http_port, args);
    assert!(
        out.status.success(),
        "warren ctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn listings_print_as_rabbitmqctl_does() {
    let s = Server::start();
    let port = s.http_port();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "jobs", "classic", true).await;
    declare(&ch, "qq", "quorum", true).await;
    publish(&ch, "", "jobs", b"1", persistent()).await;
    publish(&ch, "", "jobs", b"2", persistent()).await;
    let _rx = consume(&ch, "qq", false).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let out = ok(port, &["list_queues"]);
    assert_eq!(
        out,
        "Timeout: 60.0 seconds ...\nListing queues for vhost / ...\nname\tmessages\njobs\t2\nqq\t0\n"
    );
    let out = ok(
        port,
        &[
            "list_queues",
            "name",
            "messages_ready",
            "messages_unacknowledged",
            "consumers",
            "durable",
            "auto_delete",
            "exclusive",
            "type",
        ],
    );
    assert!(out.contains("name\tmessages_ready\tmessages_unacknowledged\tconsumers\tdurable\tauto_delete\texclusive\ttype\n"));
    assert!(
        out.contains("jobs\t2\t0\t0\ttrue\tfalse\tfalse\tclassic\n"),
        "{out}"
    );
    assert!(
        out.contains("qq\t0\t0\t1\ttrue\tfalse\tfalse\tquorum\n"),
        "{out}"
    );
    let out = ok(
        port,
        &["list_queues", "name", "messages", "--formatter", "json"],
    );
    assert_eq!(
        out,
        "[\n{\"name\":\"jobs\",\"messages\":2}\n,{\"name\":\"qq\",\"messages\":0}\n]\n"
    );
    let json: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(json[0]["name"], "jobs");

    let out = ok(port, &["list_exchanges"]);
    assert!(out.contains("Listing exchanges for vhost / ...\nname\ttype\n"));
    assert!(out.contains("amq.topic\ttopic\n"));
    let out = ok(port, &["list_bindings"]);
    assert!(out.contains(
        "source_name\tsource_kind\tdestination_name\tdestination_kind\trouting_key\targuments\n"
    ));
    assert!(out.contains("\texchange\tjobs\tqueue\tjobs\t[]\n"), "{out}");
    let out = ok(port, &["list_connections"]);
    assert!(
        out.contains("user\tpeer_host\tpeer_port\tstate\nguest\t127.0.0.1\t"),
        "{out}"
    );
    let out = ok(port, &["list_channels"]);
    assert!(out.contains("\tguest\t1\t0\n"), "{out}");
    let out = ok(port, &["list_consumers"]);
    assert!(out.contains("Listing consumers in vhost / ...\n"));
    assert!(out.contains("qq\t"), "{out}");
    let out = ok(port, &["list_users"]);
    assert_eq!(
        out,
        "Listing users ...\nuser\ttags\nguest\t[administrator]\n"
    );
    let out = ok(port, &["status"]);
    assert!(out.contains("RabbitMQ version: 3.10.8"), "{out}");
    assert!(
        out.contains(&format!("port: {}, protocol: amqp", s.port)),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn user_vhost_and_queue_commands() {
    let s = Server::start();
    let port = s.http_port();
    assert!(ok(port, &["add_user", "bob", "pw1"]).starts_with("Adding user \"bob\" ...\n"));
    assert!(!ctl(port, &["add_user", "bob", "pw1"]).status.success());
    ok(port, &["set_user_tags", "bob", "management"]);
    ok(port, &["add_vhost", "dev"]);
    ok(
        port,
        &["set_permissions", "-p", "dev", "bob", ".*", ".*", ".*"],
    );
    ok(port, &["change_password", "bob", "pw2"]);
    // bob logs in with the new password and sees dev's queues.
    let out = ok(
        port,
        &["-u", "bob", "-p", "pw2", "list_queues", "-p", "dev"],
    );
    assert!(out.contains("Listing queues for vhost dev ..."));
    assert!(!ctl(port, &["-u", "bob", "-p", "pw1", "list_queues"])
        .status
        .success());
    let out = ok(port, &["list_users"]);
    assert!(out.contains("bob\t[management]\n"), "{out}");
    let out = ok(port, &["list_permissions", "-p", "dev"]);
    assert!(out.contains("bob\t.*\t.*\t.*\n"), "{out}");
    assert!(ok(port, &["list_vhosts"]).contains("dev\n"));

    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "tmp", "classic", false).await;
    publish(&ch, "", "tmp", b"x", persistent()).await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(
        ok(port, &["purge_queue", "tmp"]),
        "Purging queue 'tmp' in vhost '/' ...\n"
    );
    assert_eq!(count(&ch, "tmp").await, 0);
    ok(port, &["delete_queue", "tmp"]);
    let out = ctl(port, &["delete_queue", "tmp"]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: Queue not found\n"
    );

    ok(port, &["delete_user", "bob"]);
    let out = ctl(port, &["delete_user", "bob"]);
    assert_eq!(out.status.code(), Some(67));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: User \"bob\" does not exist\n"
    );
    ok(port, &["delete_vhost", "dev"]);
    assert!(!ok(port, &["list_vhosts"]).contains("dev\n"));
}

#[test]
fn definitions_export_and_import() {
    let a = Server::start();
    let api = common::http::Api::new(a.http_port());
    api.send(
        "PUT",
        "/api/queues/%2F/kept",
        Some(serde_json::json!({"durable": true})),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("defs.json");
    let f = file.to_str().expect("path");
    ok(a.http_port(), &["export_definitions", f]);
    let b = Server::start();
    ok(b.http_port(), &["import_definitions", f]);
    let again = dir.path().join("again.json");
    ok(
        b.http_port(),
        &["export_definitions", again.to_str().expect("path")],
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        std::fs::read_to_string(&again).expect("read")
    );
    assert!(ok(b.http_port(), &["list_queues"]).contains("kept\t0\n"));
}

#[test]
fn no_server_is_one_line_and_a_failure() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let out = ctl(port, &["list_queues"]);
    assert_eq!(out.status.code(), Some(69));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot reach a warren server"), "{err}");
    assert!(out.stdout.is_empty());
}
