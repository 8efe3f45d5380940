//! The `tlsbio` command's own behaviour: simulate, replay, and one-line
//! errors with a non-zero exit.

use std::process::{Command, Output};

const TLSBIO: &str = env!("CARGO_BIN_EXE_tlsbio");

fn tlsbio(args: &[&str]) -> Output {
    Command::new(TLSBIO).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn simulate_with_no_arguments_is_clean_and_draws_the_ladder() {
    let out = tlsbio(&["simulate"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("[ClientHello("), "{stdout}");
    assert!(stdout.contains("outcome      clean"), "{stdout}");
    assert!(stdout.contains("version      TLSv1_3"), "{stdout}");
    assert!(stdout.contains("alpn         tlsbio/1"), "{stdout}");
}

#[test]
fn simulate_is_deterministic_and_the_seed_matters() {
    let run = |seed: &str| text(&tlsbio(&["simulate", "--seed", seed, "--tls12"]).stdout);
    // Drop the wall-clock line; everything else must be identical.
    let strip = |s: String| -> String {
        s.lines()
            .filter(|l| !l.starts_with("time "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(run("5")), strip(run("5")));
    assert!(run("5").contains("TLSv1_2"));
}

#[test]
fn a_saved_run_replays_and_an_edited_one_diverges() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.txt");
    let file = file.to_str().unwrap();
    for schedule in ["lockstep", "trickle", "seeded:3"] {
        let out = tlsbio(&[
            "simulate",
            "--seed",
            "9",
            "--schedule",
            schedule,
            "--save",
            file,
        ]);
        assert!(out.status.success(), "{}", text(&out.stdout));
        let out = tlsbio(&["replay", file]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{schedule}: {stdout}");
        assert!(stdout.contains("client reproduces") && stdout.contains("server reproduces"));
    }
    // Saved with another seed than the file says: the server's first
    // flight differs, and replay says where.
    let saved = std::fs::read_to_string(file).unwrap();
    std::fs::write(file, saved.replace("--seed 9", "--seed 10")).unwrap();
    let out = tlsbio(&["replay", file]);
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("DIVERGES"), "{stdout}");
}

#[test]
fn a_fault_is_reported_and_a_stall_is_cut() {
    // A corrupted ServerHello byte: both sides fail with an alert.
    let out = tlsbio(&["simulate", "--fault", "corrupt:s2c:11"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("failed: a record from the peer did not decrypt"),
        "{stdout}"
    );
    // A corrupted record length leaves both sides waiting: the run cuts
    // the link, as a timeout would, and still ends.
    let out = tlsbio(&["simulate", "--fault", "corrupt:c2s:3:40"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("stalled, then the link was cut"),
        "{stdout}"
    );
}

#[test]
fn errors_are_one_line_with_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let not_pem = not_pem.to_str().unwrap();
    let missing = dir.path().join("missing.txt");
    let transcript = dir.path().join("t.txt");
    std::fs::write(&transcript, "tlsbio-transcript 1\nschedule lockstep\n").unwrap();
    for (args, expect) in [
        (
            vec![
                "server",
                "--cert",
                not_pem,
                "--key",
                not_pem,
                "--listen",
                "127.0.0.1:0",
            ],
            "no CERTIFICATE block found",
        ),
        (vec!["replay", missing.to_str().unwrap()], "cannot read"),
        (vec!["replay", transcript.to_str().unwrap()], "line"),
        (vec!["client", "no-port"], "expected HOST:PORT"),
    ] {
        let out = tlsbio(&args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("tlsbio: error: "), "{stderr}");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    }
    // A port in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = tlsbio(&["server", "--listen", &addr]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cannot listen on") && stderr.contains(&addr),
        "{stderr}"
    );
}

#[test]
fn simulate_and_export_write_a_capture_and_a_keylog() {
    let dir = std::env::temp_dir().join(format!("tlsbio-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let (saved, pcap, keys) = (path("run.txt"), path("run.pcapng"), path("run.keys"));
    let out = tlsbio(&[
        "simulate", "--save", &saved, "--pcap", &pcap, "--keylog", &keys,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("capture      ") && stdout.contains("secrets)"),
        "{stdout}"
    );
    // The ladder is decrypted.
    assert!(
        stdout.contains("=> Handshake") && stdout.contains("[Finished("),
        "{stdout}"
    );
    let keylog = std::fs::read_to_string(&keys).unwrap();
    assert!(
        keylog.lines().all(|l| l.split(' ').count() == 3),
        "{keylog}"
    );
    assert!(
        keylog.contains("CLIENT_HANDSHAKE_TRAFFIC_SECRET "),
        "{keylog}"
    );
    let first = std::fs::read(&pcap).unwrap();

    // The saved transcript exports to the same files.
    let (pcap2, keys2) = (path("again.pcapng"), path("again.keys"));
    let out = tlsbio(&["export", &saved, "--pcap", &pcap2, "--keylog", &keys2]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&pcap2).unwrap(), first);
    assert_eq!(std::fs::read_to_string(&keys2).unwrap(), keylog);

    // Bad input: a line and a reason, never a panic.
    let cut = path("cut.txt");
    let text_in = std::fs::read_to_string(&saved).unwrap();
    std::fs::write(&cut, text_in.replace("\nend\n", "\n")).unwrap();
    let out = tlsbio(&["export", &cut, "--pcap", &pcap2]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cut off"),
        "{}",
        text(&out.stderr)
    );
    let out = tlsbio(&["export", &saved]);
    assert!(
        text(&out.stderr).contains("nothing to export"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn simulate_replays_a_schedule_file_exactly() {
    let dir = std::env::temp_dir().join(format!("tlsbio-schedule-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("shrunk.schedule");
    // One-byte moves for the ClientHello, then lockstep to the end.
    let mut text =
        String::from("tlsbio-schedule 1\ncapacities 65536 65536 65536 65536\nrun client\n");
    for _ in 0..10 {
        text.push_str("move c>s 1\n");
    }
    text.push_str("end\n");
    std::fs::write(&file, &text).unwrap();
    let out = tlsbio(&["simulate", "--replay-schedule", file.to_str().unwrap()]);
    let stdout = text_of(&out);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("schedule scripted:11"), "{stdout}");
    assert!(stdout.contains("outcome      clean"), "{stdout}");
    // A broken file names the line.
    std::fs::write(&file, text.replace("move c>s 1", "move c>s 0")).unwrap();
    let out = tlsbio(&["simulate", "--replay-schedule", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 4: move size \"0\" is not a positive number"),
        "{stderr}"
    );
}

fn text_of(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}
